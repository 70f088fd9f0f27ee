"""The HTTP protocol both servers run: uvicorn's, answering scoring requests in place.

An ASGI request costs uvicorn a task, a scope, a request/response cycle and two writes; on a
single-row request that is more than ONNX Runtime's run and all of Trainyard's own work put
together. :class:`ScoringHttpProtocol` is uvicorn's httptools protocol (``uvicorn.run(...,
http=ScoringHttpProtocol)``) that, for a scoring request it can take whole, scores it in the
parser's callback and writes the answer in one write, with no task and no await:

- taken: ``POST /endpoints/{name}/score`` or ``/v2/models/{name}/infer`` (no percent-escapes),
  HTTP/1.1 keep-alive, a ``Content-Length`` of at most ``INLINE_BODY_BYTES``, no
  ``Transfer-Encoding``, no ``Expect: 100-continue``, nothing earlier on the connection still
  being answered, and an app that carries a :class:`~trainyard.serving.Scoring` on its
  ``state.scoring``;
- everything else goes to the ASGI app as uvicorn does it (where ``ScoringFastPath`` answers
  the scoring routes it did not take);
- a taken request whose rows are too many to run on the event loop is handed back to uvicorn as
  an ordinary request whose app awaits the run on a replica's thread: uvicorn then keeps the
  answers of pipelined requests in order and handles a client that goes away.

The answer is the same, byte for byte in its body and headers, as the ASGI path's.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from trainyard.errors import InvalidArgument
from trainyard.server.scoring_asgi import (
    Receive,
    RequestHeaders,
    Scope,
    Send,
    _send,
    answer_headers,
    error_answer,
    request_headers,
    scoring_route,
)
from trainyard.serving import Scoring
from trainyard.serving.engine import INLINE_BODY_BYTES
from trainyard.serving.protocols import ScoringProtocol

log = logging.getLogger("trainyard.server")

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def scoring_of(app: Any) -> Scoring | None:
    """The :class:`Scoring` on ``app.state.scoring``, looking through wrapping middleware."""
    for _ in range(8):
        found = getattr(getattr(app, "state", None), "scoring", None)
        if isinstance(found, Scoring):
            return found
        app = getattr(app, "app", None)
        if app is None:
            break
    return None


class _Taken:
    """A scoring request being read by the protocol itself."""

    __slots__ = ("body", "headers", "name", "path", "protocol", "version")

    def __init__(
        self,
        name: str,
        protocol: ScoringProtocol,
        path: str,
        version: str | None,
        headers: RequestHeaders,
    ) -> None:
        self.name = name
        self.protocol = protocol
        self.path = path
        self.version = version
        self.headers = headers
        self.body: list[bytes] = []


if HttpToolsProtocol is not None:

    class ScoringHttpProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol with scoring answered in place (module docstring)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.scoring = scoring_of(self.app)
            self.taken: _Taken | None = None

        def on_headers_complete(self) -> None:
            """Take a scoring request, or let uvicorn start the ASGI app."""
            self.taken = self._take() if self.scoring is not None else None
            if self.taken is None:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            """Keep a taken request's body (at most ``INLINE_BODY_BYTES``, by its length)."""
            if self.taken is not None:
                self.taken.body.append(body)
            else:
                super().on_body(body)

        def on_message_complete(self) -> None:
            """Answer a taken request."""
            taken = self.taken
            if taken is None:
                super().on_message_complete()
                return
            self.taken = None
            body = b"".join(taken.body)
            assert self.scoring is not None
            try:
                h = taken.headers
                result = self.scoring.score_body(
                    taken.protocol,
                    h.workspace,
                    taken.name,
                    h.authorization,
                    h.deployment,
                    body,
                    taken.version,
                    h.json_length,
                )
            except Exception as exc:
                self._write(taken, *error_answer(taken.protocol, exc, taken.path))
                return
            if isinstance(result, tuple):
                payload, target = result
                self._write(taken, 200, payload, target.headers)
            else:
                self._hand_over(taken, result)

        # -------------------------------------------------------------- helpers
        def _take(self) -> _Taken | None:
            if self.parser.get_method() != b"POST" or self.expect_100_continue:
                return None
            if self.limit_concurrency is not None:
                return None  # uvicorn may answer 503 instead of running the app
            if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline:
                return None  # an earlier request on this connection is still being answered
            if self.flow.write_paused:
                return None  # the client is not reading its answers: uvicorn waits for it
            if self.parser.get_http_version() != "1.1" or not self.parser.should_keep_alive():
                return None
            url: bytes = self.url
            query = url.find(b"?")
            raw = url if query < 0 else url[:query]
            if b"%" in raw or not raw.isascii() or self.root_path:
                return None
            path = raw.decode("ascii")
            found = scoring_route(path)
            if found is None:
                return None
            try:
                headers = request_headers(self.headers)
            except InvalidArgument:
                return None  # the ASGI path answers the 400
            if headers.chunked or headers.length is None or headers.length > INLINE_BODY_BYTES:
                return None
            name, protocol, version = found
            return _Taken(name, protocol, path, version, headers)

        def _write(
            self, taken: _Taken, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
        ) -> None:
            """The whole answer in one write, then uvicorn's keep-alive bookkeeping (and its
            access log line, when the server logs requests)."""
            if self.transport.is_closing():
                return
            if self.access_log:
                self.access_logger.info(  # uvicorn's format: its formatter reads these five
                    '%s - "%s %s HTTP/%s" %d',
                    f"{self.client[0]}:{self.client[1]}" if self.client else "",
                    "POST",
                    taken.path,
                    "1.1",
                    status,
                )
            content_type, headers = answer_headers(body, headers)
            parts = [STATUS_LINE[status]]
            for key, value in self.server_state.default_headers:
                parts += (key, b": ", value, b"\r\n")
            parts.append(b"content-type: %s\r\ncontent-length: %d\r\n" % (content_type, len(body)))
            for key, value in headers:
                parts += (key, b": ", value, b"\r\n")
            parts += (b"\r\n", body)
            self.transport.write(b"".join(parts))
            self.on_response_complete()

        def _hand_over(self, taken: _Taken, result: Coroutine[Any, Any, tuple[bytes, Any]]) -> None:
            """Let uvicorn run this request as an ASGI one whose app awaits ``result``."""

            async def finish(scope: Scope, receive: Receive, send: Send) -> None:
                try:
                    payload, target = await result
                except Exception as exc:
                    await _send(send, *error_answer(taken.protocol, exc, taken.path))
                    return
                await _send(send, 200, payload, target.headers)

            app = self.app
            self.app = finish
            try:
                super().on_headers_complete()
            finally:
                self.app = app
            super().on_message_complete()

else:  # pragma: no cover
    ScoringHttpProtocol = None  # type: ignore[assignment,misc]


def http_protocol() -> Any:
    """What to pass as uvicorn's ``http``: this protocol, or ``"auto"`` without httptools."""
    return "auto" if HttpToolsProtocol is None else ScoringHttpProtocol
