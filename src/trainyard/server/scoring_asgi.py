"""The scoring hot path as plain ASGI: ``POST /endpoints/{name}/score`` and
``POST /v2/models/{name}/infer``, without a Request or Response object.

:class:`ScoringFastPath` is an ASGI middleware that answers those two routes itself, before
the app's middleware stack and router see the request, and passes everything else on; both
``trainyard up`` and ``trainyard serve`` install it. The same handler is also mounted as the
routes' endpoint (:class:`ScoringEndpoint`), so the routes work, and answer 405 to other
methods, even without the middleware.

Per request this reads the headers once (authorization, ``X-Trainyard-Workspace``,
``X-Trainyard-Deployment``, content-length), hands the body reader to
:meth:`trainyard.serving.Scoring.score`, and sends the answer in two ASGI messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, NamedTuple

from trainyard.errors import InvalidArgument, TrainyardError
from trainyard.server.errors import STATUS_BY_CODE
from trainyard.serving import Scoring
from trainyard.serving.protocols import NativeProtocol, OpenInferenceProtocol, ScoringProtocol
from trainyard.serving.protocols._base import Payload

log = logging.getLogger("trainyard.server")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_WORKSPACE = "default"
NATIVE = NativeProtocol()
OIP = OpenInferenceProtocol()
_JSON = (b"content-type", b"application/json")


class ClientGone(Exception):
    """The client disconnected before sending its whole body."""


def answer_headers(
    body: bytes, extra: list[tuple[bytes, bytes]]
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The content type and extra headers of an answer (a :class:`Payload` brings its own)."""
    if isinstance(body, Payload):
        return body.content_type, [*extra, *body.headers]
    return _JSON[1], extra


async def _send(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    content_type, extra = answer_headers(body, extra)
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def scoring_route(path: str) -> tuple[str, ScoringProtocol, str | None] | None:
    """The endpoint name, protocol and model version (OIP ``/versions/{v}/infer``) of a
    scoring path, or None for any other path."""
    version = None
    protocol: ScoringProtocol
    if path.startswith("/endpoints/") and path.endswith("/score"):
        name, protocol = path[11:-6], NATIVE
        if "/" in name:
            return None
    elif path.startswith("/v2/models/") and path.endswith("/infer"):
        protocol = OIP
        parts = path[11:-6].split("/")
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 3 and parts[1] == "versions" and parts[2]:
            name, version = parts[0], parts[2]
        else:
            return None
    else:
        return None
    if not name:
        return None
    return name, protocol, version


class RequestHeaders(NamedTuple):
    """The headers scoring reads, from one pass over the request's headers."""

    authorization: str | None
    workspace: str
    deployment: str | None
    length: int | None
    """``Content-Length``."""
    json_length: int | None
    """``Inference-Header-Content-Length`` (the OIP binary tensor extension's JSON length)."""
    chunked: bool
    """A ``Transfer-Encoding`` was sent."""


def request_headers(headers: Iterable[tuple[bytes, bytes]]) -> RequestHeaders:
    """Read the request's headers once (the workspace defaults to ``default``).

    Raises:
        InvalidArgument: an ``Inference-Header-Content-Length`` that is not a byte count.
    """
    authorization = workspace = deployment = length = json_length = None
    chunked = False
    for key, value in headers:
        if key == b"authorization":
            authorization = value.decode("latin-1")
        elif key == b"content-length":
            length = int(value) if value.isdigit() else None
        elif key == b"x-trainyard-workspace":
            workspace = value.decode("latin-1")
        elif key == b"x-trainyard-deployment":
            deployment = value.decode("latin-1")
        elif key == b"inference-header-content-length":
            if not value.isdigit():
                raise InvalidArgument(
                    f"Inference-Header-Content-Length must be a byte count, got {value!r}"
                )
            json_length = int(value)
        elif key == b"transfer-encoding":
            chunked = True
    return RequestHeaders(
        authorization, workspace or DEFAULT_WORKSPACE, deployment, length, json_length, chunked
    )


def error_answer(
    protocol: ScoringProtocol, exc: Exception, path: str
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status, body and extra headers answering ``exc`` (anything but a
    :class:`TrainyardError` is logged and answered 500)."""
    if isinstance(exc, TrainyardError):
        status = getattr(exc, "http_status", None) or STATUS_BY_CODE.get(exc.code, 500)
        extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        return status, protocol.error_body(exc.code, exc.message, exc.details), extra
    log.error("scoring failed on %s", path, exc_info=exc)
    return 500, protocol.error_body("INTERNAL", "internal error; see the server log"), []


async def handle(
    scoring: Scoring,
    protocol: ScoringProtocol,
    name: str,
    scope: Scope,
    receive: Receive,
    send: Send,
    version: str | None = None,
) -> None:
    """Answer one scoring request (see the module docstring)."""
    try:
        h = request_headers(scope["headers"])
    except InvalidArgument as exc:
        await _send(send, *error_answer(protocol, exc, scope.get("path", "")))
        return

    async def read(limit: int) -> bytes:
        chunks = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if size > limit:
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    try:
        payload, target = await scoring.score(
            protocol,
            h.workspace,
            name,
            h.authorization,
            h.deployment,
            h.length,
            read,
            version,
            h.json_length,
        )
    except ClientGone:
        return
    except Exception as exc:
        await _send(send, *error_answer(protocol, exc, scope.get("path", "")))
        return
    await _send(send, 200, payload, target.headers)


class ScoringEndpoint:
    """One scoring route's ASGI endpoint (its ``name`` comes from the route's path params)."""

    def __init__(self, scoring: Scoring, protocol: ScoringProtocol) -> None:
        self.scoring = scoring
        self.protocol = protocol

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request."""
        params = scope["path_params"]
        version = params.get("version")
        await handle(self.scoring, self.protocol, params["name"], scope, receive, send, version)


class ScoringFastPath:
    """ASGI middleware answering the two scoring routes before the wrapped app does."""

    def __init__(self, app: ASGIApp, scoring: Scoring) -> None:
        self.app = app
        self.scoring = scoring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Score, or pass the request on."""
        if scope["type"] == "http" and scope["method"] == "POST":
            found = scoring_route(scope["path"])
            if found is not None:
                name, protocol, version = found
                await handle(self.scoring, protocol, name, scope, receive, send, version)
                return
        await self.app(scope, receive, send)
