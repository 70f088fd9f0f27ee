"""The metric batcher: batching, order, back-pressure, retries, failures, flush and exit."""

from __future__ import annotations

import math
import statistics
import threading
import time
from typing import Any

import httpx
import pytest

from trainyard import errors, schemas
from trainyard.client import BatcherOptions, MetricBatcher, RetryPolicy, Workspace
from trainyard.client.batcher import encode, flush_all

from .fake_server import FAST_BATCH_RETRY, FakeServer, error


class Recorder:
    """A ``send`` that keeps every batch, optionally stalled until ``gate`` is set."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, metrics: list[dict[str, Any]], retry: RetryPolicy) -> None:
        self.gate.wait()
        self.batches.append(metrics)


def batcher(send: Any, **options: Any) -> MetricBatcher:
    opts = {"interval": 0.01, "retry": FAST_BATCH_RETRY, **options}
    return MetricBatcher(send, label="r1", options=BatcherOptions(**opts))


def test_all_values_arrive_in_order_in_batches_of_at_most_10000() -> None:
    rec = Recorder()
    rec.gate.clear()  # let a backlog build so that full batches form
    b = batcher(rec)
    for i in range(25_000):
        b.put(("loss", float(i), 0, i))
    rec.gate.set()
    b.flush()
    sent = [m for batch in rec.batches for m in batch]
    assert max(len(batch) for batch in rec.batches) <= 10_000
    assert [m["step"] for m in sent] == list(range(25_000))
    assert b.acknowledged == 25_000 and b.pending == 0
    assert len(rec.batches) <= 4  # one stalled first batch, then full ones


def test_batches_go_out_through_log_batch(ws: Workspace, fake: FakeServer) -> None:
    run = ws.experiment("e").start_run()
    for i in range(23_456):
        run.log("a", i)
        run.log("b", -i)
    run.flush()
    assert max(fake.batch_sizes) <= 10_000
    points = fake.metrics[run.run_id]
    assert len(points) == 2 * 23_456
    for key, sign in (("a", 1), ("b", -1)):
        mine = [p for p in points if p["key"] == key]
        assert [p["step"] for p in mine] == list(range(23_456))  # auto steps, order kept
        assert [p["value"] for p in mine] == [sign * float(i) for i in range(23_456)]


def test_non_finite_values_are_sent_as_strings_the_server_accepts() -> None:
    body = encode([("a", math.nan, 1, 0), ("a", math.inf, 1, 1), ("a", -math.inf, 1, 2)])
    assert [m["value"] for m in body] == ["NaN", "Infinity", "-Infinity"]
    parsed = schemas.LogBatch.model_validate({"metrics": body}).metrics
    assert math.isnan(parsed[0].value) and parsed[1].value == math.inf
    assert parsed[2].value == -math.inf


def test_full_queue_blocks_log_until_the_sender_takes_a_batch() -> None:
    rec = Recorder()
    rec.gate.clear()
    b = batcher(rec, max_pending=100, batch_size=10)
    done = threading.Event()

    def produce() -> None:
        for i in range(300):
            b.put(("x", float(i), 0, i))
        done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    time.sleep(0.2)
    assert not done.is_set(), "put() should block while the sender is stalled"
    assert b.pending <= 100  # bounded: never more than max_pending waiting
    rec.gate.set()
    assert done.wait(5)
    b.flush()
    assert [m["value"] for batch in rec.batches for m in batch] == [float(i) for i in range(300)]


def test_503_and_connection_errors_are_retried_without_losing_data(
    ws: Workspace, fake: FakeServer
) -> None:
    run = ws.experiment("e").start_run()
    faults = [httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(500)]

    def hook(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("log-batch") and faults:
            fault = faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        return None

    fake.hook = hook
    for i in range(1000):
        run.log("m", i)
    run.flush()
    assert not faults
    assert [p["step"] for p in fake.metrics[run.run_id]] == list(range(1000))
    assert run._batcher is not None and run._batcher.acknowledged == 1000


def lasting_outage(fake: FakeServer) -> None:
    def hook(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("log-batch"):
            return error(503, "UNAVAILABLE", "database is locked")
        return None

    fake.hook = hook


def test_permanent_failure_is_raised_on_the_next_log_with_the_count(
    ws: Workspace, fake: FakeServer
) -> None:
    run = ws.experiment("e").start_run()
    lasting_outage(fake)
    for i in range(7):
        run.log("m", i)
    with pytest.raises(errors.Unavailable, match="7 metric value"):
        run.flush()
    run.log("m", 8)  # raised once: later values are tried again
    with pytest.raises(
        errors.Unavailable, match=r"\d+ metric value\(s\) of run \w+ were not stored"
    ):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            run.log("m", 9)
            time.sleep(0.01)


def test_the_value_logged_when_a_failure_is_raised_is_kept(ws: Workspace, fake: FakeServer) -> None:
    run = ws.experiment("e").start_run()
    lasting_outage(fake)
    run.log("m", 1.0)
    assert run._batcher is not None
    deadline = time.monotonic() + 5
    while run._batcher.dropped == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    fake.hook = None  # the server is back
    with pytest.raises(errors.Unavailable, match="1 metric value"):
        run.log("m", 2.0)
    run.flush()
    assert [p["value"] for p in fake.metrics[run.run_id]] == [2.0]


def test_permanent_failure_is_raised_by_complete(ws: Workspace, fake: FakeServer) -> None:
    run = ws.experiment("e").start_run()
    lasting_outage(fake)
    run.log("m", 1.0)
    run.log("m", 2.0)
    with pytest.raises(errors.Unavailable, match="2 metric value"):
        run.complete()
    assert fake.runs[run.run_id]["status"] == "RUNNING"  # not claimed FINISHED


def test_refused_batch_is_not_retried(ws: Workspace, fake: FakeServer) -> None:
    run = ws.experiment("e").start_run()
    fake.runs.pop(run.run_id)  # e.g. deleted meanwhile: 404
    run.log("m", 1.0)
    with pytest.raises(errors.NotFound, match="1 metric value"):
        run.flush()
    assert sum(r.url.path.endswith("log-batch") for r in fake.requests) == 1


def test_flush_all_at_exit_sends_what_is_queued(ws: Workspace, fake: FakeServer) -> None:
    run = ws.experiment("e").start_run()
    for i in range(50):
        run.log("m", i)
    flush_all()
    assert len(fake.metrics[run.run_id]) == 50


def test_values_logged_after_close_restart_the_sender() -> None:
    rec = Recorder()
    b = batcher(rec)
    b.put(("a", 1.0, 0, 0))
    b.close()
    b.put(("a", 2.0, 0, 1))
    b.flush()
    assert [m["value"] for batch in rec.batches for m in batch] == [1.0, 2.0]


def test_flush_with_timeout_raises_when_stalled() -> None:
    rec = Recorder()
    rec.gate.clear()
    b = batcher(rec)
    b.put(("a", 1.0, 0, 0))
    with pytest.raises(errors.Unavailable, match="still unsent"):
        b.flush(timeout=0.05)
    rec.gate.set()
    b.flush()


def test_log_costs_microseconds(ws: Workspace) -> None:
    run = ws.experiment("e").start_run()
    run.log("warm", 0.0)
    costs = []
    clock = time.perf_counter_ns
    for i in range(20_000):
        start = clock()
        run.log("loss", 0.5, i)
        costs.append(clock() - start)
    assert statistics.median(costs) < 20_000  # ns
    run.flush()
