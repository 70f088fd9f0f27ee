"""The scoring HTTP protocol: requests answered in uvicorn's parser callback answer exactly as
the ASGI path does, keep pipelined answers in order, and hand heavy requests back to uvicorn.

Against real servers (``trainyard up``), with raw sockets to control framing: a request with a
``Content-Length`` is taken by the protocol, the same request sent chunked goes through the
ASGI app. One server runs models inline; one has ``TRAINYARD_SCORING_INLINE_US=0``, so every
taken request is handed over to a replica thread. The in-process tests at the end drive the
protocol with a recording transport to show when the answer is written.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from uvicorn.server import ServerState

from tests.server.test_endpoints import endpoint, register
from tests.serving.conftest import WS, Stack
from tests.serving.conftest import stack as stack  # the fixture, for the in-process tests
from tests.serving.models import IRIS_COLUMNS, iris_classifier, scale_model
from tests.support import RunningServer, start_server
from trainyard.core.serving import AuthMode
from trainyard.server.scoring_http import ScoringHttpProtocol, scoring_of

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


class Raw:
    """One keep-alive connection: raw requests out, parsed answers in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> bool:
        data = self.sock.recv(1 << 16)
        self.buf += data
        return bool(data)

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            assert self._more(), "connection closed mid-answer"
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            assert self._more(), "connection closed mid-body"
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The next answer: status, headers (lower-case names), body."""
        status = int(self._line().split()[1])
        headers: dict[str, str] = {}
        while line := self._line():
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self._line(), 16):
                body += self._exact(size)
                self._line()
            self._line()
        else:
            body = self._exact(int(headers.get("content-length", "0")))
        return status, headers, body

    def closed(self) -> bool:
        """True once the server closed the connection."""
        self.sock.settimeout(5)
        return not self.buf and not self._more()

    def close(self) -> None:
        self.sock.close()


def post(
    path: str, body: bytes, headers: dict[str, str] | None = None, chunked: bool = False
) -> bytes:
    """A raw POST; chunked (in two chunks) instead of with a Content-Length if asked."""
    lines = [f"POST {path} HTTP/1.1", "Host: t", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if not chunked:
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    lines.append("Transfer-Encoding: chunked")
    half = len(body) // 2
    parts = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]) if p)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + parts + b"0\r\n\r\n"


@pytest.fixture(scope="module", params=["inline", "threaded"])
def scoring_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A real server; ``threaded`` runs every taken request on a replica thread; ``inline`` has
    its access log on."""
    threaded = request.param == "threaded"
    env = {"TRAINYARD_SCORING_INLINE_US": "0"} if threaded else {}
    args = [] if threaded else ["--access-log"]
    srv = start_server(tmp_path_factory.mktemp("home"), env, extra_args=args)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def endpoints(scoring_server: RunningServer) -> dict[str, Any]:
    """An open iris endpoint, a keyed one, and its key."""
    with httpx.Client(base_url=scoring_server.api, timeout=60) as api:
        iris = register(api, iris_classifier())
        open_ = endpoint(api, blue=iris)
        keyed = endpoint(api, auth="key", blue=iris)
        key = api.get(f"/endpoints/{keyed}/keys").json()["primary"]
    threaded = scoring_server.env.get("TRAINYARD_SCORING_INLINE_US") == "0"
    assert ("inline up to 0 rows" in scoring_server.log()) == threaded
    return {"open": open_, "keyed": keyed, "key": key}


def cases(e: dict[str, Any]) -> list[tuple[str, bytes, dict[str, str]]]:
    """Requests covering answers and refusals of both protocols."""
    rows = orjson.dumps({"inputs": ROWS})
    records = orjson.dumps([dict(zip(IRIS_COLUMNS, r, strict=True)) for r in ROWS])
    oip = orjson.dumps(
        {"id": "9", "inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "data": ROWS}]}
    )
    key = {"Authorization": f"Bearer {e['key']}"}
    head = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "X",
                    "shape": [2, 4],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 32},
                }
            ]
        }
    )
    binary = head + np.asarray(ROWS, dtype="<f4").tobytes()
    sized = {"Inference-Header-Content-Length": str(len(head))}
    return [
        (f"/v2/models/{e['open']}/infer", binary, sized),
        (f"/endpoints/{e['open']}/score", rows, {}),
        (f"/endpoints/{e['open']}/score", records, {"X-Trainyard-Deployment": "blue"}),
        (f"/endpoints/{e['keyed']}/score", rows, key),
        (f"/v2/models/{e['open']}/infer", oip, {}),
        (f"/v2/models/{e['open']}/versions/1/infer", oip, {}),
        (f"/endpoints/{e['open']}/score", b'{"inputs": [[1, 2', {}),  # not JSON: 400
        (f"/endpoints/{e['open']}/score", orjson.dumps({"inputs": [[1, 2]]}), {}),  # 400
        (f"/endpoints/{e['keyed']}/score", rows, {}),  # no key: 401
        (f"/endpoints/{e['keyed']}/score", rows, {"Authorization": "Bearer nope"}),  # 401
        ("/endpoints/nope/score", rows, {}),  # 404
        (f"/endpoints/{e['open']}/score", rows, {"X-Trainyard-Deployment": "red"}),  # 404
        (f"/v2/models/{e['open']}/versions/7/infer", oip, {}),  # 404
        (f"/endpoints/{e['open']}/score", rows, {"X-Trainyard-Workspace": "elsewhere"}),  # 404
        (f"/v2/models/{e['open']}/infer", binary, {"Inference-Header-Content-Length": "x"}),
        (f"/endpoints/{e['open']}/score", rows, sized),  # binary tensors on the native route
    ]


def test_taken_and_asgi_requests_answer_alike(
    scoring_server: RunningServer, endpoints: dict[str, Any]
) -> None:
    conn = Raw(scoring_server.port)
    try:
        statuses = []
        for path, body, headers in cases(endpoints):
            conn.send(post(path, body, headers))
            taken = conn.answer()
            conn.send(post(path, body, headers, chunked=True))
            asgi = conn.answer()
            assert taken[0] == asgi[0], (path, taken, asgi)
            assert taken[2] == asgi[2], (path, taken[2], asgi[2])
            assert {k: v for k, v in taken[1].items() if k != "date"} == {
                k: v for k, v in asgi[1].items() if k != "date"
            }
            assert "server" not in taken[1] and "date" in taken[1]
            statuses.append(taken[0])
        assert statuses == [200] * 6 + [400, 400, 401, 401, 404, 404, 404, 404, 400, 400]
    finally:
        conn.close()
    log = scoring_server.log()
    if "--access-log" in scoring_server.extra_args:  # both ways of answering are logged
        for (path, _, _), status in zip(cases(endpoints), statuses, strict=True):
            assert log.count(f'"POST {path} HTTP/1.1" {status}') >= 2, (path, status)
    else:
        assert '"POST /endpoints/' not in log  # off by default


def test_pipelined_requests_are_answered_in_order(
    scoring_server: RunningServer, endpoints: dict[str, Any]
) -> None:
    """Five requests in one write, taken and not taken mixed: five answers, in order."""
    name = endpoints["open"]
    one = orjson.dumps({"inputs": ROWS[:1]})
    two = orjson.dumps({"inputs": ROWS})
    conn = Raw(scoring_server.port)
    try:
        conn.send(
            post(f"/endpoints/{name}/score", two)
            + b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n"
            + post(f"/endpoints/{name}/score", one, chunked=True)
            + post(f"/endpoints/{name}/score", one)
            + post(f"/endpoints/{name}/score", b"[")
        )
        answers = [conn.answer() for _ in range(5)]
    finally:
        conn.close()
    assert [a[0] for a in answers] == [200, 200, 200, 200, 400]
    docs = [orjson.loads(a[2]) for a in answers]
    assert docs[0]["predictions"] == [0, 2] and docs[1] == {"live": True}
    assert docs[2]["predictions"] == [0] and docs[3]["predictions"] == [0]
    assert docs[4]["error"]["code"] == "INVALID_ARGUMENT"


def test_connection_close_http10_and_expect_continue(
    scoring_server: RunningServer, endpoints: dict[str, Any]
) -> None:
    path = f"/endpoints/{endpoints['open']}/score"
    body = orjson.dumps({"inputs": ROWS})
    conn = Raw(scoring_server.port)
    try:
        conn.send(post(path, body, {"Connection": "close"}))
        status, _, answer = conn.answer()
        assert status == 200 and orjson.loads(answer)["predictions"] == [0, 2]
        assert conn.closed()
    finally:
        conn.close()
    conn = Raw(scoring_server.port)
    try:
        conn.send(post(path, body).replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        status, _, answer = conn.answer()
        assert status == 200 and orjson.loads(answer)["predictions"] == [0, 2]
    finally:
        conn.close()
    conn = Raw(scoring_server.port)
    try:
        request = post(path, body, {"Expect": "100-continue"})
        head, _, payload = request.partition(b"\r\n\r\n")
        conn.send(head + b"\r\n\r\n")
        assert conn._line().startswith(b"HTTP/1.1 100") and conn._line() == b""
        conn.send(payload)
        status, _, answer = conn.answer()
        assert status == 200 and orjson.loads(answer)["predictions"] == [0, 2]
    finally:
        conn.close()


# ---------------------------------------------------------------- in-process, recorded writes
class Recorder(asyncio.Transport):
    """A transport that keeps what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 1), "peername": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol(app: Starlette, loop: asyncio.AbstractEventLoop) -> tuple[Any, Recorder]:
    config = uvicorn.Config(app, http=ScoringHttpProtocol, server_header=False)
    config.load()
    protocol = ScoringHttpProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=loop
    )
    transport = Recorder()
    protocol.connection_made(transport)
    return protocol, transport


def _app(stack: Stack) -> Starlette:
    from trainyard.server.scoring import scoring_routes

    app = Starlette(routes=scoring_routes(stack.scoring))
    app.state.scoring = stack.scoring
    return app


def test_scoring_of_looks_through_middleware(stack: Stack) -> None:
    app = _app(stack)
    assert scoring_of(app) is stack.scoring
    assert scoring_of(uvicorn.middleware.proxy_headers.ProxyHeadersMiddleware(app)) is stack.scoring
    assert scoring_of(Starlette()) is None


def test_cheap_requests_are_answered_inside_the_callback_in_one_write(
    stack: Stack,
) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m:1")
    body = orjson.dumps({"inputs": [[1.0, 2.0, 3.0]]})

    async def go() -> None:
        protocol, transport = _protocol(_app(stack), asyncio.get_running_loop())
        protocol.data_received(post("/endpoints/ep/score", body))
        assert len(transport.writes) == 1  # answered before the loop ran anything else
        head, _, answer = transport.writes[0].partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"x-trainyard-deployment: blue" in head
        assert orjson.loads(answer)["predictions"] == [[2.0, 4.0, 6.0]]
        protocol.data_received(post("/endpoints/ep/score", body, chunked=True))
        assert len(transport.writes) == 1  # the ASGI path answers from a task
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(transport.writes) == 3  # its headers and its body, in two writes
        assert orjson.loads(transport.writes[2]) == orjson.loads(answer)

    asyncio.run(go())


def test_heavy_requests_are_handed_over_and_keep_their_place(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m:1")
    runtime = stack.host.table.route(WS, "ep").targets["blue"].runtime
    runtime.model.inline_rows = 0  # every request runs on a replica thread
    body = orjson.dumps({"inputs": [[1.0, 2.0, 3.0]]})

    async def go() -> None:
        protocol, transport = _protocol(_app(stack), asyncio.get_running_loop())
        protocol.data_received(
            post("/endpoints/ep/score", body) + b"GET /v2/health/live HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        assert transport.writes == []  # the run is on a thread: nothing yet
        for _ in range(200):
            if len(transport.writes) >= 4:
                break
            await asyncio.sleep(0.01)
        answers = b"".join(transport.writes).split(b"HTTP/1.1 ")[1:]
        assert len(answers) == 2
        assert answers[0].startswith(b"200") and b'"predictions":[[2.0,4.0,6.0]]' in answers[0]
        assert answers[1].startswith(b"200") and b'{"live":true}' in answers[1]
        assert runtime.in_flight == 0  # the lease was given back

    asyncio.run(go())


def test_taken_requests_are_in_the_access_log(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m:1")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    body = orjson.dumps({"inputs": [[1.0, 2.0, 3.0]]})

    async def go() -> None:
        protocol, transport = _protocol(_app(stack), asyncio.get_running_loop())
        assert protocol.access_log  # uvicorn's default: access_log=True
        protocol.access_logger.addHandler(Keep())  # after the Config set up logging
        protocol.data_received(post("/endpoints/ep/score", body))  # taken
        protocol.data_received(post("/endpoints/nope/score", body))  # taken, answered 404
        protocol.data_received(post("/endpoints/ep/score", body, chunked=True))  # ASGI
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(transport.writes) == 4

    asyncio.run(go())
    assert lines == [
        '127.0.0.1:2 - "POST /endpoints/ep/score HTTP/1.1" 200',
        '127.0.0.1:2 - "POST /endpoints/nope/score HTTP/1.1" 404',
        '127.0.0.1:2 - "POST /endpoints/ep/score HTTP/1.1" 200',
    ]
