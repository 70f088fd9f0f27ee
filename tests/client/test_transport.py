"""The HTTP layer: headers, JSON, retries and the mapping of error answers to typed errors."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from trainyard import errors
from trainyard.client._transport import RetryPolicy, Transport

from .fake_server import FAST_RETRY

Handler = Callable[[httpx.Request], httpx.Response]


def make(handler: Handler, token: str | None = None, retry: RetryPolicy = FAST_RETRY) -> Transport:
    return Transport(
        "http://testserver/", token, transport=httpx.MockTransport(handler), retry=retry
    )


def scripted(*steps: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with ``steps`` in turn (an exception is raised), then 200 ``{}``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(steps):
            step = steps[len(seen) - 1]
            if isinstance(step, Exception):
                raise step
            return step
        return httpx.Response(200, json={"ok": True})

    return handler, seen


def test_requests_go_under_api_v1_with_bearer_token_and_orjson_body() -> None:
    handler, seen = scripted()
    t = make(handler, token="s3cret")
    assert t.request("POST", "/workspaces/default/runs", json={"a": 1}) == {"ok": True}
    req = seen[0]
    assert req.url == "http://testserver/api/v1/workspaces/default/runs"
    assert req.headers["Authorization"] == "Bearer s3cret"
    assert req.headers["Content-Type"] == "application/json"
    assert req.content == b'{"a":1}'


def test_no_authorization_header_without_a_token() -> None:
    handler, seen = scripted()
    make(handler).request("GET", "/health")
    assert "Authorization" not in seen[0].headers


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, "NOT_FOUND", errors.NotFound),
        (409, "CONFLICT", errors.Conflict),
        (409, "ALREADY_EXISTS", errors.AlreadyExists),
        (400, "INVALID_ARGUMENT", errors.InvalidArgument),
        (401, "UNAUTHENTICATED", errors.Unauthenticated),
        (403, "PERMISSION_DENIED", errors.PermissionDenied),
    ],
)
def test_error_answers_become_typed_errors(status: int, code: str, cls: type[Exception]) -> None:
    body = {"error": {"code": code, "message": "run 'x' does not exist", "details": {"id": "x"}}}
    handler, _ = scripted(httpx.Response(status, json=body))
    with pytest.raises(cls, match="run 'x' does not exist") as info:
        make(handler).request("GET", "/workspaces/default/runs/x")
    assert isinstance(info.value, errors.TrainyardError)
    assert info.value.details == {"id": "x"}


def test_non_json_error_answer_keeps_status_and_text() -> None:
    handler, _ = scripted(httpx.Response(500, text="Internal Server Error: boom"))
    with pytest.raises(errors.TrainyardError, match=r"HTTP 500.*boom") as info:
        make(handler).request("GET", "/x")
    assert type(info.value) is errors.TrainyardError
    assert info.value.details == {"status": 500}


def test_503_is_retried_then_succeeds() -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(502), httpx.Response(504))
    assert make(handler).request("POST", "/workspaces/default/runs", json={}) == {"ok": True}
    assert len(seen) == 4


def test_connection_error_is_retried_even_for_post() -> None:
    handler, seen = scripted(httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    assert make(handler).request("POST", "/x", json={}) == {"ok": True}
    assert len(seen) == 3


def test_a_post_that_may_have_been_applied_is_not_retried() -> None:
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.Unavailable, match="may have been applied"):
        make(handler).request("POST", "/x", json={})
    assert len(seen) == 1


def test_idempotent_requests_retry_read_errors() -> None:
    handler, seen = scripted(httpx.ReadError("reset"))
    assert make(handler).request("GET", "/x") == {"ok": True}
    handler, seen = scripted(httpx.ReadTimeout("slow"))
    assert make(handler).request("POST", "/x", json={}, idempotent=True) == {"ok": True}
    assert len(seen) == 2


def test_retries_are_bounded_and_end_in_unavailable() -> None:
    handler, seen = scripted(*[httpx.ConnectError("refused")] * 50)
    with pytest.raises(errors.Unavailable, match="cannot reach the Trainyard server"):
        make(handler).request("GET", "/x")
    assert len(seen) == FAST_RETRY.attempts


def test_a_lasting_503_is_raised_after_the_last_attempt() -> None:
    body = {"error": {"code": "UNAVAILABLE", "message": "database is locked"}}
    handler, seen = scripted(*[httpx.Response(503, json=body)] * 50)
    with pytest.raises(errors.Unavailable, match="database is locked"):
        make(handler).request("GET", "/x")
    assert len(seen) == FAST_RETRY.attempts


def test_500_is_not_retried_by_default() -> None:
    handler, seen = scripted(httpx.Response(500, json={"error": {"code": "INTERNAL"}}))
    with pytest.raises(errors.TrainyardError):
        make(handler).request("GET", "/x")
    assert len(seen) == 1


def test_streamed_body_is_rebuilt_for_each_attempt() -> None:
    handler, seen = scripted(httpx.Response(503))
    t = make(handler)
    t.request("PUT", "/f", content=lambda: iter([b"ab", b"cd"]))
    assert [r.content for r in seen] == [b"abcd", b"abcd"]


def test_default_policy_waits_less_than_30_seconds_in_all() -> None:
    policy = RetryPolicy()
    assert policy.attempts == 6
    worst = sum(min(policy.max_delay, policy.base_delay * 2**i) for i in range(5))
    assert worst < 30
    assert all(policy.delay(i) <= policy.max_delay for i in range(1, 20))


def test_bad_uri_is_refused() -> None:
    with pytest.raises(errors.InvalidArgument, match="http://"):
        Transport("127.0.0.1:8765")


def test_download_stream_maps_errors() -> None:
    handler, _ = scripted(
        httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "m"}})
    )
    with pytest.raises(errors.NotFound), make(handler).stream("GET", "/f"):
        pass
