"""Runs over HTTP: lifecycle, log-batch, metric history, search and tags."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server.helpers import (
    assert_error,
    create_experiment,
    create_run,
    get_run,
    history,
    unique,
)
from tests.support import RunningServer

FLOAT_MAX = 1.7976931348623157e308


def _now() -> int:
    return int(time.time() * 1000)


def _search(api: httpx.Client, **body: Any) -> dict[str, Any]:
    resp = api.post("/runs/search", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------ create / get


def test_create_answers_201_with_a_running_run(
    api: httpx.Client, experiment: dict[str, Any]
) -> None:
    eid = experiment["experiment_id"]
    resp = api.post(
        "/runs",
        json={"experiment_id": eid, "name": "first", "start_time": 1_234, "tags": {"k": "v"}},
    )

    assert resp.status_code == 201, resp.text
    r = resp.json()
    assert r["experiment_id"] == eid
    assert r["workspace"] == "default"
    assert r["name"] == "first"
    assert r["status"] == "RUNNING"
    assert r["start_time"] == 1_234
    assert r["end_time"] is None
    assert r["lifecycle_stage"] == "active"
    assert r["tags"] == {"k": "v"}
    assert r["params"] == {} and r["metrics"] == {}
    assert isinstance(r["run_id"], str) and r["run_id"]
    assert r["artifact_uri"]
    assert get_run(api, r["run_id"]) == r


def test_a_run_without_name_or_start_time_gets_both(
    api: httpx.Client, experiment: dict[str, Any]
) -> None:
    before = _now()
    r = create_run(api, experiment["experiment_id"])
    after = _now()
    assert isinstance(r["name"], str) and r["name"].strip()
    assert before - 1000 <= r["start_time"] <= after + 1000
    other = create_run(api, experiment["experiment_id"])
    assert other["run_id"] != r["run_id"]


def test_a_child_run_records_its_parent(api: httpx.Client, run: dict[str, Any]) -> None:
    child = create_run(api, run["experiment_id"], parent_run_id=run["run_id"])
    assert get_run(api, child["run_id"])["parent_run_id"] == run["run_id"]


@pytest.mark.parametrize("experiment_id", ["999999", "abc"])
def test_a_run_in_an_unknown_experiment_is_404(api: httpx.Client, experiment_id: str) -> None:
    before = _search(api, include_deleted=True, max_results=50_000)["runs"]
    resp = api.post("/runs", json={"experiment_id": experiment_id, "name": "orphan"})
    assert_error(resp, 404, "NOT_FOUND", contains=experiment_id)
    assert _search(api, include_deleted=True, max_results=50_000)["runs"] == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "experiment_id"),
        ({"experiment_id": "0", "bogus": 1}, "bogus"),
        ({"experiment_id": "0", "name": "x" * 251}, "name"),
        ({"experiment_id": "0", "start_time": "yesterday"}, "start_time"),
        ({"experiment_id": "0", "tags": {"k": 1}}, "tags.k"),
    ],
)
def test_a_malformed_run_create_is_400_naming_the_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = _search(api, experiment_ids=["0"], include_deleted=True)["runs"]
    assert_error(api.post("/runs", json=body), 400, "INVALID_ARGUMENT", field=field)
    assert _search(api, experiment_ids=["0"], include_deleted=True)["runs"] == before


def test_no_run_in_a_deleted_experiment_nor_under_an_unknown_parent(
    api: httpx.Client, experiment: dict[str, Any]
) -> None:
    eid = experiment["experiment_id"]
    assert_error(
        api.post("/runs", json={"experiment_id": eid, "parent_run_id": "f" * 32}),
        404,
        "NOT_FOUND",
    )
    assert api.delete(f"/experiments/{eid}").status_code == 200
    assert_error(api.post("/runs", json={"experiment_id": eid}), 400, "INVALID_ARGUMENT")
    assert _search(api, experiment_ids=[eid], include_deleted=True)["runs"] == []


@pytest.mark.parametrize("run_id", ["0" * 32, "nope"])
def test_an_unknown_run_is_404_everywhere(api: httpx.Client, run_id: str) -> None:
    for resp in (
        api.get(f"/runs/{run_id}"),
        api.patch(f"/runs/{run_id}", json={"status": "FINISHED"}),
        api.delete(f"/runs/{run_id}"),
        api.post(f"/runs/{run_id}/restore"),
        api.post(f"/runs/{run_id}/log-batch", json={"params": {"a": "1"}}),
        api.get(f"/runs/{run_id}/metric-history", params={"key": "m"}),
        api.delete(f"/runs/{run_id}/tags/k"),
    ):
        assert_error(resp, 404, "NOT_FOUND", contains=run_id)


# ------------------------------------------------------------------ update / delete


@pytest.mark.parametrize("status", ["FINISHED", "FAILED", "KILLED"])
def test_a_terminal_status_sets_end_time(
    api: httpx.Client, run: dict[str, Any], status: str
) -> None:
    before = _now()
    resp = api.patch(f"/runs/{run['run_id']}", json={"status": status})
    after = _now()
    assert resp.status_code == 200, resp.text
    r = resp.json()
    assert r["status"] == status
    assert r["end_time"] is not None
    assert before - 1000 <= r["end_time"] <= after + 1000
    assert get_run(api, run["run_id"]) == r


def test_an_explicit_end_time_name_and_message_are_kept(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    resp = api.patch(
        f"/runs/{run['run_id']}",
        json={
            "status": "FINISHED",
            "end_time": run["start_time"] + 42,
            "name": "renamed",
            "status_message": "done well",
        },
    )
    assert resp.status_code == 200, resp.text
    r = get_run(api, run["run_id"])
    assert (r["status"], r["end_time"], r["name"], r["status_message"]) == (
        "FINISHED",
        run["start_time"] + 42,
        "renamed",
        "done well",
    )
    # back to RUNNING clears end_time
    resp = api.patch(f"/runs/{run['run_id']}", json={"status": "RUNNING"})
    assert resp.status_code == 200
    assert (resp.json()["status"], resp.json()["end_time"]) == ("RUNNING", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "DONE"}, "status"),
        ({"status": "finished"}, "status"),
        ({"status": 3}, "status"),
        ({"end_time": "later"}, "end_time"),
        ({"name": "x" * 251}, "name"),
        ({"status_message": "m" * 8001}, "status_message"),
        ({"status": "FINISHED", "run_id": "other"}, "run_id"),
    ],
)
def test_a_bad_update_is_400_and_changes_nothing(
    api: httpx.Client, run: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    resp = api.patch(f"/runs/{run['run_id']}", json=body)
    assert_error(resp, 400, "INVALID_ARGUMENT", field=field)
    assert get_run(api, run["run_id"]) == run


def test_delete_and_restore_a_run(api: httpx.Client, run: dict[str, Any]) -> None:
    rid, eid = run["run_id"], run["experiment_id"]

    resp = api.delete(f"/runs/{rid}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["lifecycle_stage"] == "deleted"
    assert get_run(api, rid)["lifecycle_stage"] == "deleted"
    assert _search(api, experiment_ids=[eid])["runs"] == []
    assert [
        r["run_id"] for r in _search(api, experiment_ids=[eid], include_deleted=True)["runs"]
    ] == [rid]

    resp = api.post(f"/runs/{rid}/restore")
    assert resp.status_code == 200, resp.text
    assert resp.json()["lifecycle_stage"] == "active"
    assert [r["run_id"] for r in _search(api, experiment_ids=[eid])["runs"]] == [rid]


# ------------------------------------------------------------------ log-batch


def test_log_batch_stores_metrics_params_and_tags(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    resp = api.post(
        f"/runs/{rid}/log-batch",
        json={
            "metrics": [
                {"key": "rmse", "value": 0.9, "step": 0, "timestamp": 100},
                {"key": "rmse", "value": 0.5, "step": 2, "timestamp": 300},
                {"key": "rmse", "value": 0.7, "step": 1, "timestamp": 200},
                {"key": "train/loss", "value": 3},
            ],
            "params": {"alpha": "0.1", "layers": "3"},
            "tags": {"team": "ml"},
        },
    )

    assert resp.status_code == 200, resp.text
    assert resp.json() == {"metrics": 4, "params": 2, "tags": 1}
    r = get_run(api, rid)
    assert r["params"] == {"alpha": "0.1", "layers": "3"}
    assert r["tags"] == {"team": "ml"}
    assert r["metrics"]["rmse"] == {"key": "rmse", "value": 0.5, "timestamp": 300, "step": 2}
    assert r["metrics"]["train/loss"]["value"] == 3.0
    assert r["metrics"]["train/loss"]["step"] == 0
    assert [(m["step"], m["value"]) for m in history(api, rid, "rmse")] == [
        (0, 0.9),
        (1, 0.7),
        (2, 0.5),
    ]
    # tags are upserted
    assert api.post(f"/runs/{rid}/log-batch", json={"tags": {"team": "core"}}).status_code == 200
    assert get_run(api, rid)["tags"] == {"team": "core"}


def test_more_than_10000_metric_values_is_400_and_stores_none(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    metrics = [{"key": "m", "value": i, "step": i, "timestamp": 1} for i in range(10_001)]
    resp = api.post(
        f"/runs/{run['run_id']}/log-batch", json={"metrics": metrics, "params": {"p": "1"}}
    )
    assert_error(resp, 400, "INVALID_ARGUMENT", field="metrics", contains="10000")
    assert history(api, run["run_id"], "m") == []
    assert get_run(api, run["run_id"]) == run


def test_more_than_100_params_or_tags_is_400_and_stores_none(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    many = {f"k{i}": "v" for i in range(101)}
    metric = [{"key": "m", "value": 1, "timestamp": 1}]
    for field in ("params", "tags"):
        resp = api.post(f"/runs/{run['run_id']}/log-batch", json={field: many, "metrics": metric})
        assert_error(resp, 400, "INVALID_ARGUMENT", field=field, contains="100")
    assert get_run(api, run["run_id"]) == run
    assert history(api, run["run_id"], "m") == []


def test_exactly_100_params_are_accepted(api: httpx.Client, run: dict[str, Any]) -> None:
    params = {f"p{i:03d}": str(i) for i in range(100)}
    resp = api.post(f"/runs/{run['run_id']}/log-batch", json={"params": params})
    assert resp.status_code == 200, resp.text
    assert get_run(api, run["run_id"])["params"] == params


def test_a_param_conflict_is_409_and_the_whole_batch_is_not_stored(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    assert api.post(f"/runs/{rid}/log-batch", json={"params": {"alpha": "0.1"}}).status_code == 200
    stored = get_run(api, rid)

    resp = api.post(
        f"/runs/{rid}/log-batch",
        json={
            "params": {"beta": "1", "alpha": "0.2"},
            "metrics": [{"key": "loss", "value": 1.5, "step": 3, "timestamp": 10}],
            "tags": {"team": "x"},
        },
    )

    err = assert_error(resp, 409, "CONFLICT", contains=("alpha", "0.1", "0.2"))
    assert err["details"] == {"conflicts": {"alpha": {"stored": "0.1", "given": "0.2"}}}
    assert get_run(api, rid) == stored
    assert get_run(api, rid)["params"] == {"alpha": "0.1"}
    assert history(api, rid, "loss") == []


def test_relogging_a_param_with_the_same_value_is_accepted(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    for _ in range(2):
        resp = api.post(f"/runs/{rid}/log-batch", json={"params": {"alpha": "0.1", "n": "5"}})
        assert resp.status_code == 200, resp.text
    assert get_run(api, rid)["params"] == {"alpha": "0.1", "n": "5"}


def test_retrying_an_identical_batch_does_not_duplicate_history(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    batch = {
        "metrics": [
            {"key": "acc", "value": v, "step": s, "timestamp": 1_000 + s}
            for s, v in enumerate([0.1, 0.2, 0.2, 0.4])
        ]
        + [{"key": "acc", "value": 0.4, "step": 3, "timestamp": 1_003}],  # a repeat in the batch
        "params": {"seed": "7"},
        "tags": {"try": "1"},
    }
    assert api.post(f"/runs/{rid}/log-batch", json=batch).status_code == 200
    first = history(api, rid, "acc")
    assert [(m["step"], m["value"]) for m in first] == [(0, 0.1), (1, 0.2), (2, 0.2), (3, 0.4)]

    for _ in range(2):
        resp = api.post(f"/runs/{rid}/log-batch", json=batch)
        assert resp.status_code == 200, resp.text
    assert history(api, rid, "acc") == first
    assert get_run(api, rid)["metrics"]["acc"]["step"] == 3
    # the same step with another value or time is a new point
    more = [{"key": "acc", "value": 0.5, "step": 3, "timestamp": 1_003}]
    assert api.post(f"/runs/{rid}/log-batch", json={"metrics": more}).status_code == 200
    assert len(history(api, rid, "acc")) == 5


def test_nan_and_infinities(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    resp = api.post(
        f"/runs/{rid}/log-batch",
        json={
            "metrics": [
                {"key": "nan", "value": "NaN", "timestamp": 1},
                {"key": "inf", "value": "Infinity", "timestamp": 1},
                {"key": "ninf", "value": "-Infinity", "timestamp": 1},
                {"key": "fine", "value": 1.25, "timestamp": 1},
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    # JSON's non-standard NaN literal, as Python's json module writes it
    resp = api.post(
        f"/runs/{rid}/log-batch",
        content=b'{"metrics": [{"key": "nan", "value": NaN, "step": 1, "timestamp": 1}]}',
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 200, resp.text

    assert [m["value"] for m in history(api, rid, "nan")] == ["NaN", "NaN"]
    # infinities are stored clamped to the largest double (core/limits.py, as MLflow does)
    assert [m["value"] for m in history(api, rid, "inf")] == [FLOAT_MAX]
    assert [m["value"] for m in history(api, rid, "ninf")] == [-FLOAT_MAX]
    metrics = get_run(api, rid)["metrics"]
    assert metrics["nan"] == {"key": "nan", "value": "NaN", "timestamp": 1, "step": 1}
    assert metrics["fine"]["value"] == 1.25
    # a NaN does not match numeric filters
    found = _search(api, experiment_ids=[run["experiment_id"]], filter="metrics.nan < 1e300")
    assert found["runs"] == []
    found = _search(api, experiment_ids=[run["experiment_id"]], filter="metrics.inf > 1e300")
    assert [r["run_id"] for r in found["runs"]] == [rid]


@pytest.mark.parametrize("value", ["abc", None, [1], {"v": 1}, ""])
def test_a_metric_value_that_is_not_a_number_is_400(
    api: httpx.Client, run: dict[str, Any], value: Any
) -> None:
    resp = api.post(
        f"/runs/{run['run_id']}/log-batch",
        json={"metrics": [{"key": "ok", "value": 1, "timestamp": 1}, {"key": "m", "value": value}]},
    )
    assert_error(resp, 400, "INVALID_ARGUMENT", field="metrics.1.value")
    assert history(api, run["run_id"], "ok") == []


BAD_KEYS = ["../x", "a/../../x", "", "/abs", "a\\b", "k" * 251, "semi;colon", "new\nline"]


@pytest.mark.parametrize("kind", ["metrics", "params", "tags"])
def test_a_bad_key_is_400_and_nothing_of_the_batch_is_stored(
    api: httpx.Client, run: dict[str, Any], kind: str
) -> None:
    rid = run["run_id"]
    good_metric = {"key": "good", "value": 1, "timestamp": 1}
    for key in BAD_KEYS:
        if kind == "metrics":
            body: dict[str, Any] = {"metrics": [good_metric, {"key": key, "value": 1}]}
        else:
            body = {kind: {"good": "1", key: "v"}, "metrics": [good_metric]}
        resp = api.post(f"/runs/{rid}/log-batch", json=body)
        assert_error(resp, 400, "INVALID_ARGUMENT", contains="key")
    assert get_run(api, rid) == run
    assert history(api, rid, "good") == []


def test_keys_with_slashes_dots_and_spaces_are_fine(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    key = "eval/top-1 acc:v2.0"
    body = {
        "metrics": [{"key": key, "value": 1, "timestamp": 1}],
        "params": {key: "p"},
        "tags": {key: "t"},
    }
    assert api.post(f"/runs/{rid}/log-batch", json=body).status_code == 200
    r = get_run(api, rid)
    assert (r["params"], r["tags"], list(r["metrics"])) == ({key: "p"}, {key: "t"}, [key])
    assert [m["value"] for m in history(api, rid, key)] == [1.0]


@pytest.mark.parametrize(
    ("kind", "value", "limit"),
    [("params", "v" * 6001, "6000"), ("tags", "v" * 8001, "8000")],
)
def test_an_overlong_value_is_400(
    api: httpx.Client, run: dict[str, Any], kind: str, value: str, limit: str
) -> None:
    resp = api.post(f"/runs/{run['run_id']}/log-batch", json={kind: {"k": value}})
    assert_error(resp, 400, "INVALID_ARGUMENT", contains=limit)
    assert get_run(api, run["run_id"]) == run


@pytest.mark.parametrize("field", ["step", "timestamp"])
def test_a_step_or_timestamp_beyond_64_bits_is_400(
    server: RunningServer, run: dict[str, Any], field: str
) -> None:
    metric = {"key": "m", "value": 1, "step": 0, "timestamp": 1, field: 2**63}
    resp = httpx.post(f"{server.api}/runs/{run['run_id']}/log-batch", json={"metrics": [metric]})
    assert_error(resp, 400, "INVALID_ARGUMENT")
    with httpx.Client(base_url=server.api) as api:
        assert history(api, run["run_id"], "m") == []


def test_run_times_beyond_64_bits_are_400(server: RunningServer, run: dict[str, Any]) -> None:
    created = httpx.post(f"{server.api}/runs", json={"experiment_id": "0", "start_time": 2**63})
    assert_error(created, 400, "INVALID_ARGUMENT")
    patched = httpx.patch(f"{server.api}/runs/{run['run_id']}", json={"end_time": 2**63})
    assert_error(patched, 400, "INVALID_ARGUMENT")
    with httpx.Client(base_url=server.api) as api:
        assert get_run(api, run["run_id"]) == run


def test_a_param_value_with_a_nul_byte_is_400(server: RunningServer, run: dict[str, Any]) -> None:
    # PostgreSQL text cannot hold NUL; both backends must answer the same way.
    resp = httpx.post(
        f"{server.api}/runs/{run['run_id']}/log-batch", json={"params": {"p": "a\x00b"}}
    )
    assert_error(resp, 400, "INVALID_ARGUMENT")
    with httpx.Client(base_url=server.api) as api:
        assert get_run(api, run["run_id"])["params"] == {}


def test_a_malformed_batch_is_400_naming_the_field(api: httpx.Client, run: dict[str, Any]) -> None:
    for body, field in (
        ({"metrics": [{"value": 1}]}, "metrics.0.key"),
        ({"metrics": [{"key": "m"}]}, "metrics.0.value"),
        ({"metrics": [{"key": "m", "value": 1, "step": "one"}]}, "metrics.0.step"),
        ({"params": {"p": 1}}, "params.p"),
        ({"params": ["p"]}, "params"),
        ({"artifacts": []}, "artifacts"),
    ):
        assert_error(
            api.post(f"/runs/{run['run_id']}/log-batch", json=body),
            400,
            "INVALID_ARGUMENT",
            field=field,
        )
    assert get_run(api, run["run_id"]) == run


# ------------------------------------------------------------------ metric history


def test_metric_history_pages_through_25000_points_in_step_order(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    steps = list(range(25_000))
    random.Random(7).shuffle(steps)
    for i in range(0, len(steps), 10_000):
        chunk = steps[i : i + 10_000]
        metrics = [
            {"key": "loss", "value": s / 2, "step": s, "timestamp": 1_000 + s} for s in chunk
        ]
        resp = api.post(f"/runs/{rid}/log-batch", json={"metrics": metrics})
        assert resp.status_code == 200, resp.text
        assert resp.json()["metrics"] == len(chunk)

    pages = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"key": "loss", "max_results": 10_000}
        if token:
            params["page_token"] = token
        resp = api.get(f"/runs/{rid}/metric-history", params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["key"] == "loss"
        pages.append(body["metrics"])
        token = body["next_page_token"]
        if token is None:
            break
        assert len(pages) < 5, "paging does not end"

    assert [len(p) for p in pages] == [10_000, 10_000, 5_000]
    points = [m for p in pages for m in p]
    assert [m["step"] for m in points] == list(range(25_000))
    assert all(m["value"] == m["step"] / 2 and m["timestamp"] == 1_000 + m["step"] for m in points)
    assert get_run(api, rid)["metrics"]["loss"]["step"] == 24_999


def test_metric_history_orders_by_step_then_time(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    metrics = [
        {"key": "m", "value": 3, "step": 1, "timestamp": 30},
        {"key": "m", "value": 1, "step": 1, "timestamp": 10},
        {"key": "m", "value": 9, "step": 0, "timestamp": 90},
        {"key": "other", "value": 0, "step": 0, "timestamp": 0},
    ]
    assert api.post(f"/runs/{rid}/log-batch", json={"metrics": metrics}).status_code == 200
    assert [(m["step"], m["timestamp"]) for m in history(api, rid, "m")] == [
        (0, 90),
        (1, 10),
        (1, 30),
    ]
    assert history(api, rid, "never-logged") == []


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({}, "query.key", None),
        ({"key": "m", "max_results": 0}, "query.max_results", None),
        ({"key": "m", "max_results": 100_001}, "query.max_results", None),
        ({"key": "m", "page_token": "bogus"}, None, "page_token"),
        ({"key": "../m"}, None, "key"),
    ],
)
def test_bad_metric_history_requests_are_400(
    api: httpx.Client,
    run: dict[str, Any],
    params: dict[str, Any],
    field: str | None,
    fragment: str | None,
) -> None:
    resp = api.get(f"/runs/{run['run_id']}/metric-history", params=params)
    assert_error(resp, 400, "INVALID_ARGUMENT", field=field, contains=fragment or ())


# ------------------------------------------------------------------ search


@pytest.fixture(scope="module")
def corpus(server: RunningServer) -> Iterator[dict[str, Any]]:
    """One experiment with five runs of known metrics, params, tags, statuses and times."""
    with httpx.Client(base_url=server.api, timeout=60) as api:
        e = create_experiment(api, unique("search"))
        eid = e["experiment_id"]
        spec = {
            # name: (start_time, rmse, alpha, team, status)
            "r1": (1_000, 0.5, "0.1", "x", "FINISHED"),
            "r2": (2_000, 1.5, "0.2", "y", "RUNNING"),
            "r3": (3_000, 2.5, "0.1", "x", "FAILED"),
            "r4": (4_000, None, "0.3", None, "RUNNING"),
            "r5": (5_000, 1.0, None, "Xy", "FINISHED"),
        }
        ids = {}
        for name, (start, rmse, alpha, team, status) in spec.items():
            r = create_run(api, eid, name=f"sr-{name}", start_time=start)
            ids[name] = r["run_id"]
            body: dict[str, Any] = {}
            if rmse is not None:
                body["metrics"] = [{"key": "rmse", "value": rmse, "timestamp": start}]
            if alpha is not None:
                body["params"] = {"alpha": alpha}
            if team is not None:
                body["tags"] = {"team": team}
            if body:
                assert api.post(f"/runs/{r['run_id']}/log-batch", json=body).status_code == 200
            if status != "RUNNING":
                patched = api.patch(f"/runs/{r['run_id']}", json={"status": status})
                assert patched.status_code == 200
        yield {"experiment_id": eid, "ids": ids, "names": {v: k for k, v in ids.items()}}


def _names(corpus: dict[str, Any], runs: list[dict[str, Any]]) -> list[str]:
    return [corpus["names"][r["run_id"]] for r in runs]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("metrics.rmse < 2", {"r1", "r2", "r5"}),
        ("metrics.rmse >= 1.5", {"r2", "r3"}),
        ("metrics.rmse = 1", {"r5"}),
        ("metrics.rmse != 1", {"r1", "r2", "r3"}),
        ("params.alpha = '0.1'", {"r1", "r3"}),
        ("params.alpha != '0.1'", {"r2", "r4"}),
        ("params.alpha IN ('0.1', '0.3')", {"r1", "r3", "r4"}),
        ("params.alpha NOT IN ('0.1')", {"r2", "r4"}),
        ("params.alpha LIKE '0.%'", {"r1", "r2", "r3", "r4"}),
        ("tags.team = 'x'", {"r1", "r3"}),
        ("tags.team LIKE 'X%'", {"r5"}),
        ("tags.team ILIKE 'x%'", {"r1", "r3", "r5"}),
        ("tags.team = 'x' and metrics.rmse < 1", {"r1"}),
        ("attributes.status = 'FINISHED'", {"r1", "r5"}),
        ("attributes.status IN ('FAILED', 'RUNNING')", {"r2", "r3", "r4"}),
        ("attributes.run_name = 'sr-r4'", {"r4"}),
        ("attributes.start_time >= 3000", {"r3", "r4", "r5"}),
        ("metrics.rmse > 0 and params.alpha = '0.1' and attributes.status = 'FAILED'", {"r3"}),
        ("metrics.missing > 0", set()),
        ("", {"r1", "r2", "r3", "r4", "r5"}),
    ],
)
def test_search_filters(
    api: httpx.Client, corpus: dict[str, Any], flt: str, expected: set[str]
) -> None:
    found = _search(api, experiment_ids=[corpus["experiment_id"]], filter=flt)
    assert set(_names(corpus, found["runs"])) == expected
    assert found["next_page_token"] is None


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ([], ["r5", "r4", "r3", "r2", "r1"]),  # newest first by default
        (["metrics.rmse ASC"], ["r1", "r5", "r2", "r3", "r4"]),
        (["metrics.rmse DESC"], ["r3", "r2", "r5", "r1", "r4"]),
        (["metrics.rmse"], ["r1", "r5", "r2", "r3", "r4"]),
        (["params.alpha DESC", "attributes.start_time ASC"], ["r4", "r2", "r1", "r3", "r5"]),
        (["params.alpha ASC"], ["r3", "r1", "r2", "r4", "r5"]),  # ties: newest first
        (["attributes.start_time ASC"], ["r1", "r2", "r3", "r4", "r5"]),
    ],
)
def test_search_order_by_puts_missing_values_last(
    api: httpx.Client, corpus: dict[str, Any], order_by: list[str], expected: list[str]
) -> None:
    found = _search(api, experiment_ids=[corpus["experiment_id"]], order_by=order_by)
    assert _names(corpus, found["runs"]) == expected


def test_search_pages(api: httpx.Client, corpus: dict[str, Any]) -> None:
    seen: list[str] = []
    token: str | None = None
    sizes = []
    while True:
        body: dict[str, Any] = {
            "experiment_ids": [corpus["experiment_id"]],
            "order_by": ["metrics.rmse ASC"],
            "max_results": 2,
        }
        if token:
            body["page_token"] = token
        page = _search(api, **body)
        sizes.append(len(page["runs"]))
        seen += _names(corpus, page["runs"])
        token = page["next_page_token"]
        if token is None:
            break
        assert len(sizes) < 10
    assert sizes == [2, 2, 1]
    assert seen == ["r1", "r5", "r2", "r3", "r4"]


def test_search_answers_full_runs(api: httpx.Client, corpus: dict[str, Any]) -> None:
    found = _search(
        api, experiment_ids=[corpus["experiment_id"]], filter="attributes.run_name = 'sr-r1'"
    )
    (r1,) = found["runs"]
    assert r1 == get_run(api, corpus["ids"]["r1"])
    assert r1["params"] == {"alpha": "0.1"} and r1["tags"] == {"team": "x"}
    assert r1["metrics"]["rmse"]["value"] == 0.5


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"filter": "params.alpha = 0.1"}, "quote the value"),
        ({"filter": "metrics.rmse = 'x'"}, "compared with a number"),
        ({"filter": "foo.bar = 1"}, "unknown entity 'foo'"),
        ({"filter": "metrics.rmse < 1 or metrics.rmse > 2"}, "OR is not supported"),
        ({"filter": "attributes.colour = 'red'"}, "unknown attribute 'colour'"),
        ({"filter": "metrics.rmse <"}, "ends early"),
        ({"filter": "metrics.rmse LIKE '1%'"}, "numeric"),
        ({"filter": "params.alpha < '1'"}, "string"),
        ({"filter": "params.alpha IN '0.1'"}, "IN"),
        ({"filter": "metrics.rmse ~ 1"}, "cannot parse"),
        ({"order_by": ["metrics.rmse sideways"]}, "ASC|DESC"),
        ({"order_by": ["bogus.key"]}, "unknown entity"),
        ({"page_token": "not-a-token"}, "page_token"),
    ],
)
def test_a_bad_search_is_400_with_a_helpful_message(
    api: httpx.Client, corpus: dict[str, Any], body: dict[str, Any], fragment: str
) -> None:
    resp = api.post("/runs/search", json={"experiment_ids": [corpus["experiment_id"]], **body})
    assert_error(resp, 400, "INVALID_ARGUMENT", contains=fragment)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_results": 0}, "max_results"),
        ({"max_results": 50_001}, "max_results"),
        ({"experiment_ids": "0"}, "experiment_ids"),
        ({"order_by": "metrics.rmse"}, "order_by"),
        ({"filters": "metrics.rmse < 1"}, "filters"),
    ],
)
def test_a_malformed_search_body_is_400_naming_the_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert_error(api.post("/runs/search", json=body), 400, "INVALID_ARGUMENT", field=field)


@pytest.mark.parametrize("experiment_id", ["999999", "abc"])
def test_search_in_an_unknown_experiment_is_404(api: httpx.Client, experiment_id: str) -> None:
    resp = api.post("/runs/search", json={"experiment_ids": [experiment_id]})
    assert_error(resp, 404, "NOT_FOUND", contains=experiment_id)


def test_search_in_an_unknown_workspace_is_404(server: RunningServer) -> None:
    ws = unique("nows")
    resp = httpx.post(f"{server.url}/api/v1/workspaces/{ws}/runs/search", json={})
    assert_error(resp, 404, "NOT_FOUND", contains=ws)


def test_every_attribute_the_error_names_is_searchable(
    server: RunningServer, corpus: dict[str, Any]
) -> None:
    # The 400 for an unknown attribute lists the searchable ones; each of them must work.
    resp = httpx.post(
        f"{server.api}/runs/search",
        json={"experiment_ids": [corpus["experiment_id"]], "filter": "attributes.color = 'x'"},
    )
    assert resp.status_code == 400
    listed = resp.json()["error"]["message"].split("searchable attributes are ")[1].split(", ")
    assert "run_name" in listed and "user_id" not in listed
    for attr in listed:
        resp = httpx.post(
            f"{server.api}/runs/search",
            json={"experiment_ids": [corpus["experiment_id"]], "order_by": [f"attributes.{attr}"]},
        )
        assert resp.status_code == 200, (attr, resp.text)


def test_deleted_runs_are_hidden_unless_asked_for(
    api: httpx.Client, experiment: dict[str, Any]
) -> None:
    eid = experiment["experiment_id"]
    keep = create_run(api, eid, name="keep", start_time=1)
    gone = create_run(api, eid, name="gone", start_time=2)
    assert api.delete(f"/runs/{gone['run_id']}").status_code == 200

    assert [r["name"] for r in _search(api, experiment_ids=[eid])["runs"]] == ["keep"]
    with_deleted = _search(api, experiment_ids=[eid], include_deleted=True)["runs"]
    assert [(r["name"], r["lifecycle_stage"]) for r in with_deleted] == [
        ("gone", "deleted"),
        ("keep", "active"),
    ]
    found = _search(
        api,
        experiment_ids=[eid],
        filter="attributes.lifecycle_stage = 'deleted'",
        include_deleted=True,
    )
    assert [r["run_id"] for r in found["runs"]] == [gone["run_id"]]
    assert keep["run_id"] in [r["run_id"] for r in _search(api, max_results=50_000)["runs"]]
    assert gone["run_id"] not in [r["run_id"] for r in _search(api, max_results=50_000)["runs"]]


def test_runs_of_a_deleted_experiment_are_hidden(api: httpx.Client) -> None:
    e = create_experiment(api)
    r = create_run(api, e["experiment_id"])
    assert api.delete(f"/experiments/{e['experiment_id']}").status_code == 200

    everything = _search(api, max_results=50_000)["runs"]
    assert r["run_id"] not in [x["run_id"] for x in everything]

    assert api.post(f"/experiments/{e['experiment_id']}/restore").status_code == 200
    everything = _search(api, max_results=50_000)["runs"]
    assert r["run_id"] in [x["run_id"] for x in everything]


# ------------------------------------------------------------------ tags


def test_delete_tag_is_204_then_404(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    body = {"tags": {"gone": "1", "stays": "2", "nested/key": "3"}}
    assert api.post(f"/runs/{rid}/log-batch", json=body).status_code == 200

    resp = api.delete(f"/runs/{rid}/tags/gone")
    assert resp.status_code == 204
    assert resp.content == b""
    assert get_run(api, rid)["tags"] == {"stays": "2", "nested/key": "3"}

    assert_error(api.delete(f"/runs/{rid}/tags/gone"), 404, "NOT_FOUND", contains="gone")
    assert api.delete(f"/runs/{rid}/tags/nested/key").status_code == 204
    assert get_run(api, rid)["tags"] == {"stays": "2"}
