"""The scoring host with real sessions: routing through the table, mirroring, draining, logs."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import numpy as np
import orjson
import pytest

from tests.serving.conftest import WS, Stack
from tests.serving.models import iris_classifier, scale_model
from tests.serving.test_routing import _within_binomial
from trainyard.core.serving import AuthMode
from trainyard.errors import Conflict, InvalidArgument, NotFound, Unauthenticated, Unavailable
from trainyard.serving.runtime import DeadlineExceeded

ROW = {"inputs": [[1.0, 2.0, 3.0]]}


def _two_deployments(stack: Stack, green_scale: float = 3.0) -> None:
    stack.register("m", scale_model(2.0))
    stack.register("m", scale_model(green_scale))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m:1")
    stack.service.create_deployment(WS, "ep", "green", "m:2")


def test_first_deployment_takes_all_traffic_later_ones_none(stack: Stack) -> None:
    _two_deployments(stack)
    e = stack.service.get_endpoint(WS, "ep")
    assert e.traffic == {"blue": 100, "green": 0}
    assert stack.score(ROW)["predictions"] == [[2.0, 4.0, 6.0]]
    answer = stack.score(ROW, deployment="green")  # the header reaches a 0% deployment
    assert (answer["deployment"], answer["predictions"]) == ("green", [[3.0, 6.0, 9.0]])
    with pytest.raises(NotFound, match="no deployment 'red'"):
        stack.score(ROW, deployment="red")


def test_route_decisions_follow_the_table_statistically(stack: Stack) -> None:
    _two_deployments(stack)
    stack.service.set_traffic(WS, "ep", {"blue": 70, "green": 30}, {})
    route = stack.host.table.route(WS, "ep")
    rng = random.Random(3)
    counts = Counter(route.choose(None, rng.randrange).name for _ in range(10_000))
    assert _within_binomial(counts["green"], 10_000, 0.30), counts
    answers = Counter(stack.score(ROW)["deployment"] for _ in range(400))
    assert _within_binomial(answers["green"], 400, 0.30), answers


def test_mirror_compares_and_never_returns(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    _two_deployments(stack, green_scale=3.0)  # green answers differently
    stack.service.set_traffic(WS, "ep", {"blue": 100}, {"green": 100})
    with pytest.raises(InvalidArgument, match="cannot also be the mirror"):
        stack.service.set_traffic(WS, "ep", {"blue": 50, "green": 50})
    answers = [stack.score(ROW) for _ in range(20)]
    assert {a["deployment"] for a in answers} == {"blue"}
    assert all(a["predictions"] == [[2.0, 4.0, 6.0]] for a in answers)
    assert stack.host.mirror.wait_idle()
    sample = stack.host.metrics.registry.get_sample_value
    labels = {"workspace": WS, "endpoint": "ep", "deployment": "green"}
    assert sample("trainyard_scoring_mirror_total", {**labels, "outcome": "mismatch"}) == 20
    assert "differs from 'blue'" in caplog.text

    stack.service.update_deployment(WS, "ep", "green", model="m:1")  # same model as blue
    stack.service.set_traffic(WS, "ep", {"blue": 100}, {"green": 30})
    for _ in range(300):
        assert stack.score(ROW)["deployment"] == "blue"
    assert stack.host.mirror.wait_idle()
    matched = sample("trainyard_scoring_mirror_total", {**labels, "outcome": "match"})
    assert matched is not None and _within_binomial(int(matched), 300, 0.30), matched


def test_a_replaced_deployment_drains_its_requests_before_closing(stack: Stack) -> None:
    _two_deployments(stack)
    _, held = stack.scoring.lease(WS, "ep", None, None)  # a request in flight on blue
    old = held.runtime
    stack.service.set_traffic(WS, "ep", {"green": 100})
    with pytest.raises(Conflict, match="takes 100%"):
        stack.service.delete_deployment(WS, "ep", "green")
    stack.service.delete_deployment(WS, "ep", "blue")
    assert not old.drained.is_set() and old.in_flight == 1
    assert not old.acquire()  # retired: no new request gets it
    out = old.run_inline({"x": np.ones((1, 3), np.float32)})  # the one in flight still runs
    assert out[0].tolist() == [[2.0, 2.0, 2.0]]
    assert stack.score(ROW)["deployment"] == "green"
    old.release()
    assert old.drained.wait(2) and old.model.sessions == []


def test_updating_a_deployment_swaps_its_model_after_warming(stack: Stack) -> None:
    _two_deployments(stack)
    old = stack.host.table.route(WS, "ep").targets["blue"].runtime
    d = stack.service.update_deployment(WS, "ep", "blue", model="m:2", replicas=2)
    assert (d.model_version, d.replicas) == (2, 2)
    new = stack.host.table.route(WS, "ep").targets["blue"].runtime
    assert new is not old and old.drained.is_set() and len(new.model.sessions) == 2
    assert new.model.inline_rows > 0  # warmed and measured before the swap
    assert stack.score(ROW)["predictions"] == [[3.0, 6.0, 9.0]]
    unchanged = stack.service.update_deployment(WS, "ep", "blue", log_requests=True)
    assert stack.host.table.route(WS, "ep").targets["blue"].runtime is new  # no reload
    assert unchanged.log_requests


def test_key_auth_and_regeneration(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep")
    stack.service.create_deployment(WS, "ep", "blue", "m")
    keys = stack.service.keys(WS, "ep")
    with pytest.raises(Unauthenticated, match="needs a key"):
        stack.score(ROW)
    assert stack.score(ROW, key=keys.secondary)["deployment"] == "blue"
    fresh = stack.service.regenerate_key(WS, "ep", "primary")
    assert fresh.secondary == keys.secondary and fresh.primary != keys.primary
    with pytest.raises(Unauthenticated, match="not a key"):
        stack.score(ROW, key=keys.primary)
    assert stack.score(ROW, key=fresh.primary)["predictions"] == [[2.0, 4.0, 6.0]]


def test_a_model_that_cannot_serve_is_refused_before_anything_is_recorded(stack: Stack) -> None:
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    with pytest.raises(NotFound):
        stack.service.create_deployment(WS, "ep", "blue", "nope:1")
    assert stack.service.get_endpoint(WS, "ep").deployments == {}
    with pytest.raises(Unavailable, match="no deployment taking traffic"):
        stack.score(ROW)


def test_timeout_answers_504_and_leaves_the_replica_usable(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m")
    runtime = stack.host.table.route(WS, "ep").targets["blue"].runtime

    async def slow() -> object:
        return await runtime.run_async(lambda run: time.sleep(0.3), timeout=0.02)

    with pytest.raises(DeadlineExceeded, match="within 20 ms") as err:
        asyncio.run(slow())
    assert err.value.http_status == 504

    async def fine() -> object:
        return await runtime.run_async(lambda run: run({"x": np.ones((2, 3), np.float32)}), 5)

    assert asyncio.run(fine())[0].shape == (2, 3)


def test_request_logs_go_to_the_artifact_store_as_json_lines(stack: Stack) -> None:
    stack.register("iris", iris_classifier())
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "iris", log_requests=True)
    rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
    for _ in range(3):
        stack.score({"inputs": rows})
    stack.host.request_log.flush()
    folder = "serving-logs/default/ep"
    files = [f.path for f in stack.artifacts.list(folder, True) if f.path.endswith(".jsonl")]
    assert files and all(f.startswith(time.strftime("%Y-%m-", time.gmtime())) for f in files)
    text = b"".join(b"".join(stack.artifacts.iter_read(f"{folder}/{f}")) for f in files)
    lines = [orjson.loads(x) for x in text.splitlines()]
    assert len(lines) == 3
    assert lines[0]["deployment"] == "blue" and lines[0]["rows"] == 2
    assert np.allclose(lines[0]["inputs"]["X"], rows)
    assert lines[0]["outputs"]["label"] == [0, 2]
