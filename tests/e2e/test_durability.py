"""A server killed with SIGKILL in the middle of logging loses nothing it acknowledged."""

from __future__ import annotations

import threading
import time

import httpx

from tests.support import RunningServer, start_server


def _history_steps(srv: RunningServer, run_id: str, key: str) -> list[int]:
    steps: list[int] = []
    token = None
    while True:
        params: dict[str, str | int] = {"key": key, "max_results": 100_000}
        if token:
            params["page_token"] = token
        page = httpx.get(
            f"{srv.api}/runs/{run_id}/metric-history", params=params, timeout=30
        ).json()
        steps += [m["step"] for m in page["metrics"]]
        token = page["next_page_token"]
        if not token:
            return steps


def test_sigkill_mid_logging_loses_no_acknowledged_value(sqlite_server: RunningServer) -> None:
    srv = sqlite_server
    run = httpx.post(f"{srv.api}/runs", json={"experiment_id": "0"}).json()
    run_id = run["run_id"]
    acked: list[int] = []  # steps whose batch the server answered 200 to
    stop = threading.Event()

    def writer() -> None:
        step = 0
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                batch = [
                    {"key": "loss", "value": 1.0 / (s + 1), "step": s, "timestamp": s}
                    for s in range(step, step + 500)
                ]
                try:
                    r = client.post(f"{srv.api}/runs/{run_id}/log-batch", json={"metrics": batch})
                except httpx.HTTPError:
                    return  # the server died under us: this batch was never acknowledged
                if r.status_code == 200:
                    acked.extend(range(step, step + 500))
                step += 500

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 20
    while len(acked) < 20_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv.kill()  # SIGKILL while the writer is still sending
    stop.set()
    thread.join(30)
    assert len(acked) >= 20_000, "the writer should have been acknowledged before the kill"

    revived = start_server(srv.home, srv.env, port=srv.port)
    try:
        stored = set(_history_steps(revived, run_id, "loss"))
        missing = set(acked) - stored
        assert not missing, f"{len(missing)} acknowledged values lost, e.g. {sorted(missing)[:5]}"
        # whatever landed is whole batches: the store never keeps half a batch
        assert len(stored) % 500 == 0
    finally:
        revived.stop()


def test_sdk_rides_out_a_server_restart_without_losing_or_duplicating(
    sqlite_server: RunningServer,
) -> None:
    import trainyard

    srv = sqlite_server
    ws = trainyard.connect(srv.url)
    run = ws.experiment("durability").start_run()
    for step in range(30_000):
        run.log("loss", float(step), step=step)
    run.flush()
    srv.kill()  # the server dies; the SDK keeps queueing
    for step in range(30_000, 60_000):
        run.log("loss", float(step), step=step)
    revived = start_server(srv.home, srv.env, port=srv.port)
    try:
        run.complete()  # flushes: the batcher retried with backoff until the server came back
        steps = _history_steps(revived, run.run_id, "loss")
        assert sorted(steps) == list(range(60_000))
        assert run.get_details().status.value == "FINISHED"
    finally:
        ws.close()
        revived.stop()
