"""The SDK's HTTP layer: one ``httpx.Client``, JSON in and out, bounded retries, typed errors.

The seam for tests is the ``transport`` argument of :class:`Transport`: pass
``httpx.MockTransport(handler)`` and every request goes to ``handler`` instead of the network.

Retries follow a :class:`RetryPolicy`: a failed connection and the answers whose status is in
``RetryPolicy.statuses`` (502, 503 and 504 by default) are retried with capped, jittered
exponential backoff, within a number of attempts and a total time budget. A request that may
already have reached the server (a read error, a timeout after sending) is retried only when it
is idempotent (GET, PUT, PATCH, DELETE, or marked so by the caller), so a ``POST /runs`` is never
sent twice unless the connection itself failed.

An error answer ``{"error": {"code", "message", "details"}}`` becomes the matching class of
:mod:`trainyard.errors`; any other error answer becomes a ``TrainyardError`` carrying the status
and the start of the body; a server that cannot be reached becomes ``Unavailable``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from trainyard.errors import InvalidArgument, TrainyardError, Unavailable, error_from_dict

DEFAULT_URI = "http://127.0.0.1:8765"
API_PREFIX = "/api/v1"
USER_AGENT = "trainyard-python"

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
# Errors after which the request may have reached the server (only idempotent ones are retried).
_RETRYABLE = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)
# Errors raised before a single byte was sent: always safe to retry.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Content = bytes | Callable[[], Any] | None
"""A request body: bytes, or a factory returning a fresh body (e.g. a file iterator) per attempt."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a request is retried after a connection failure or a retryable status.

    Attributes:
        attempts: the most attempts in all (None: as many as ``total`` allows).
        total: the time budget in seconds, from the first attempt; no retry starts past it.
        base_delay: the pause before the first retry; it doubles at each retry.
        max_delay: the longest single pause.
        statuses: the HTTP statuses that are retried.

    The default (6 attempts, pauses of at most 0.5 + 1 + 2 + 4 + 8 s) waits under 16 s in all.
    """

    attempts: int | None = 6
    total: float = 30.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    statuses: frozenset[int] = frozenset({502, 503, 504})

    def delay(self, retry: int) -> float:
        """The pause before retry number ``retry`` (1-based): capped exponential, jittered."""
        pause = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return pause * random.uniform(0.5, 1.0)


NO_RETRY = RetryPolicy(attempts=1)


def error_for(response: httpx.Response) -> TrainyardError:
    """The typed error for an error answer (its body must have been read).

    Args:
        response: an answer with a 4xx or 5xx status.

    Returns:
        The class named by ``{"error": {"code": ...}}``, or a ``TrainyardError`` with the status
        and the start of the body when the answer is not in Trainyard's error format.
    """
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return error_from_dict(data["error"])
    text = response.text.strip()[:1000] or response.reason_phrase
    request = response.request
    return TrainyardError(
        f"HTTP {response.status_code} from {request.method} {request.url}: {text}",
        {"status": response.status_code},
    )


def decode(response: httpx.Response) -> Any:
    """The JSON document of a successful answer (None for an empty one); errors are raised."""
    if response.is_error:
        raise error_for(response)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise TrainyardError(
            f"expected a JSON answer from {response.request.url}, got {response.text[:200]!r}"
        ) from exc


class Transport:
    """An ``httpx.Client`` bound to one Trainyard server, with retries and error mapping.

    Args:
        uri: the server's address, e.g. ``http://127.0.0.1:8765``.
        token: a bearer token, sent as ``Authorization: Bearer <token>`` when given.
        timeout: the connect, read and write timeout in seconds.
        transport: an ``httpx`` transport to use instead of the network (tests pass
            ``httpx.MockTransport``).
        retry: the default retry policy of :meth:`request`.

    Thread-safe: the metric batcher's thread and the caller's thread share one instance.
    """

    def __init__(
        self,
        uri: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        uri = uri.rstrip("/")
        if not uri.startswith(("http://", "https://")):
            raise InvalidArgument(f"server uri {uri!r} must start with http:// or https://")
        self.uri = uri
        self.retry = retry or RetryPolicy()
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=uri + API_PREFIX, headers=headers, timeout=timeout, transport=transport
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Content = None,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request and return the decoded JSON answer.

        Args:
            method: the HTTP method.
            path: the path under ``/api/v1``.
            params: query parameters.
            json: a body encoded with orjson (takes precedence over ``content``).
            content: raw bytes, or a factory called once per attempt for a streamed body.
            headers: extra headers.
            retry: the retry policy (default: the transport's).
            idempotent: whether a request that may have reached the server can be sent again
                (default: by method).

        Returns:
            The decoded JSON answer, or None for an empty one.

        Raises:
            TrainyardError: the typed error of an error answer; ``Unavailable`` when the server
                cannot be reached within the retry policy.
        """
        hdrs = dict(headers or {})
        body: bytes | None = None
        if json is not None:
            body = orjson.dumps(json)
            hdrs["Content-Type"] = "application/json"

        def attempt() -> httpx.Response:
            data = body if body is not None else (content() if callable(content) else content)
            return self._client.request(method, path, params=params, content=data, headers=hdrs)

        return decode(self._send(method, path, attempt, retry, idempotent))

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """Open a streamed answer (for downloads); an error answer is raised as its typed error."""

        def attempt() -> httpx.Response:
            request = self._client.build_request(method, path, params=params)
            return self._client.send(request, stream=True)

        response = self._send(method, path, attempt, None, None)
        try:
            if response.is_error:
                response.read()
                raise error_for(response)
            yield response
        finally:
            response.close()

    def _send(
        self,
        method: str,
        path: str,
        attempt: Callable[[], httpx.Response],
        retry: RetryPolicy | None,
        idempotent: bool | None,
    ) -> httpx.Response:
        policy = retry or self.retry
        safe = method.upper() in _IDEMPOTENT if idempotent is None else idempotent
        deadline = time.monotonic() + policy.total
        tries = 0
        while True:
            tries += 1
            response: httpx.Response | None = None
            try:
                response = attempt()
            except httpx.UnsupportedProtocol as exc:
                raise InvalidArgument(f"cannot use server uri {self.uri!r}: {exc}") from exc
            except _RETRYABLE as exc:
                failure: Exception = exc
                retryable = safe or isinstance(exc, _NOT_SENT)
            except httpx.TransportError as exc:
                raise Unavailable(f"{method} {path} to {self.uri} failed: {exc!r}") from exc
            else:
                if response.status_code not in policy.statuses:
                    return response
                retryable = True
            pause = _pause(policy, tries, response)
            exhausted = policy.attempts is not None and tries >= policy.attempts
            if not retryable or exhausted or time.monotonic() + pause > deadline:
                if response is not None:
                    return response
                raise _unreachable(method, path, self.uri, failure, tries, retryable) from failure
            if response is not None:
                response.close()
            time.sleep(pause)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _pause(policy: RetryPolicy, tries: int, response: httpx.Response | None) -> float:
    """The backoff pause, or the server's ``Retry-After`` (seconds) when it sent a shorter one."""
    pause = policy.delay(tries)
    if response is not None:
        try:
            after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            return pause
        return max(0.0, min(after, policy.max_delay))
    return pause


def _unreachable(
    method: str, path: str, uri: str, exc: Exception, tries: int, retried: bool
) -> Unavailable:
    if retried:
        return Unavailable(
            f"cannot reach the Trainyard server at {uri} ({method} {path}, {tries} attempt(s)): "
            f"{exc!r}; check that it is running (`trainyard up`) and that the uri is right"
        )
    return Unavailable(
        f"{method} {path} to {uri} got no answer ({exc!r}); it was not retried because it may "
        "have been applied: check the server's state before trying again"
    )
