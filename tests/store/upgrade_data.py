"""Rows an older Trainyard wrote, per schema revision, for the upgrade tests (``test_upgrades``).

``ROWS`` holds, in foreign-key order, the rows of every table as the stores write them (JSON
text, NaN as ``0.0`` plus ``is_nan``, autoincrement keys left to the database), tagged with the
revision that created the table. ``seed`` inserts those a database at a given revision has,
against the tables reflected from that database, so each row has exactly the columns that
revision's schema had; ``upgrade_expected`` states what the current stores must read back.
(Over 400 lines because it is data: one place for every table's rows.)
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import Connection, MetaData, text

T0 = 1_700_000_000_000
"""A timestamp in UTC milliseconds, as every table keeps them."""

R1, R2, R3 = "1" * 32, "2" * 32, "3" * 32
LM1, LM2 = "m-" + "a" * 32, "m-" + "b" * 32
MV1, MV2 = "mv-" + "c" * 32, "mv-" + "d" * 32
D1 = "e" * 32
LONG = "x" * 6000
BATCH_SINCE = "0008"
"""The revision that added ``deployments.batch_max_rows`` and ``batch_max_wait_us``."""

EXP_TAGS = {"team": "cv", "note": "a\nb ✓"}
PARAMS = {
    R1: {"lr": "0.001", "layers": "[64, 64]", "empty": "", "long": LONG},
    R3: {"quote": 'it\'s "quoted" %s ? ✓'},
}
TAGS = {R1: {"mlflow.runName": "baseline ✓", "mlflow.user": "ana"}, R2: {"mlflow.parentRunId": R1}}

ENV_SPEC = {"image": "python:3.11", "conda": {"deps": ["numpy==2.0"]}}
DATA_SPEC = {"type": "uri_file", "path": "datastore://ds/iris.csv"}
SIGNATURE = {"inputs": [{"name": "x", "type": "float", "shape": [-1, 4]}]}
TRIAL_PARAMS = [{"lr": 0.01, "layers": [64, 64]}, {"lr": 0.02, "layers": [64, 64]}]
TRIAL_RAW = [{"lr": -4.605170185988091}, {"lr": -3.912023005428146}]
DATASET_SOURCE = '{"uri": "/data/iris.csv"}'
DATASET_SCHEMA = '{"mlflow_colspec": [{"name": "x", "type": "double"}]}'
JOBS: list[tuple[int, str, str, dict[str, Any]]] = [
    (
        1,
        "job-one",
        "Completed",
        {
            "document": {"command": "python train.py --lr ${{inputs.lr}}", "inputs": {"lr": 0.01}},
            "run_id": R1,
            "experiment_id": "1",
            "exit_code": 0,
            "state": {"pid": 4242, "log": "logs/job-one.txt"},
        },
    ),
    (
        2,
        "job-two",
        "Failed",
        {"exit_code": 137, "error": "killed: OOM\n", "cancel_requested": True},
    ),
    (3, "sweep1", "Running", {"document": {"type": "sweep", "limits": {"max_total_trials": 4}}}),
]
"""Jobs as (seq, name, status, the fields that differ from ``_job``'s defaults)."""

HISTORY: list[tuple[Any, ...]] = [
    (1, "default", "ep", "blue", "clf", 2, MV2, "clf@champion", "created", T0 + 92),
    (2, "default", "ep", "blue", "clf", 1, MV1, "models:/clf/1", "rolled back", T0 + 93),
    (3, "default", "ep", "green", "clf", 1, MV1, "models:/clf@champion", "created", T0 + 92),
]
"""Deployment history rows (0011), oldest first, as ``id ... reason created_at``."""

AUTO_IDS = {
    "experiments": "experiment_id",
    "jobs": "seq",
    "job_status_changes": "id",
    "registered_models": "id",
    "deployment_history": "id",
}
"""Autoincrement keys: left out of the insert (as the stores do), checked against the seed's."""


def _json(value: Any) -> str:
    """JSON as ``store/sql/assets.dumps`` and ``serving._dumps`` write it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _rows(columns: str, *values: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows from a space-separated column list and one tuple of values per row."""
    names = columns.split()
    return [dict(zip(names, row, strict=True)) for row in values]


def _metric(run: str, key: str, step: int, ts: int, value: float) -> dict[str, Any]:
    nan = math.isnan(value)
    return {
        "run_id": run,
        "key": key,
        "step": step,
        "timestamp": ts,
        "value": 0.0 if nan else value,
        "is_nan": nan,
    }


METRIC_POINTS: dict[tuple[str, str], list[tuple[int, int, float]]] = {
    (R1, "loss"): [(0, T0 + 10, 0.5), (1, T0 + 20, 0.25), (1, T0 + 21, 0.2), (2, T0 + 30, 0.125)],
    # a NaN and a real 0.0 at the same step and time: two rows, told apart by is_nan
    (R1, "acc"): [(0, T0 + 10, math.nan), (0, T0 + 10, 0.0), (1, T0 + 20, 0.0)],
    (R1, "ratio"): [(0, T0, math.inf), (1, T0, -math.inf)],
    (R1, "extremes"): [(0, T0, 5e-324), (1, T0, 1.7976931348623157e308), (2**40, T0, 0.1 + 0.2)],
    (R2, "loss"): [(0, T0, math.nan)],
}
"""Each metric's history (step, timestamp, value), as logged."""

LATEST: dict[tuple[str, str], tuple[int, int, float]] = {
    (R1, "loss"): (2, T0 + 30, 0.125),
    (R1, "acc"): (1, T0 + 20, 0.0),
    (R1, "ratio"): (1, T0, -math.inf),
    (R1, "extremes"): (2**40, T0, 0.1 + 0.2),
    (R2, "loss"): (0, T0, math.nan),
}
"""``latest_metrics``: the point with the greatest (step, timestamp, value) of each metric."""


def _run(run_id: str, exp: int, ws: str, name: str, status: str, **kw: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "experiment_id": exp,
        "workspace": ws,
        "name": name,
        "status": status,
        "start_time": kw.get("start_time", T0 + 1),
        "end_time": kw.get("end_time"),
        "lifecycle_stage": kw.get("lifecycle_stage", "active"),
        "artifact_uri": f"{kw.get('location', exp)}/{run_id}/artifacts",
        "parent_run_id": kw.get("parent_run_id"),
        "status_message": kw.get("status_message"),
    }


def _kv(key_col: str, owner: object, items: dict[str, str]) -> list[dict[str, Any]]:
    return [{key_col: owner, "key": k, "value": v} for k, v in items.items()]


def _asset(name: str, version: str, spec: dict[str, Any], desc: str, tags: dict[str, str]) -> Any:
    return [
        {
            "workspace": "default",
            "name": name,
            "version": version,
            "spec": _json(spec),
            "description": desc,
            "tags": _json(tags),
            "created_at": T0 + 2,
            "updated_at": T0 + 3,
        }
    ]


def _job(seq: int, name: str, status: str, **kw: Any) -> dict[str, Any]:
    return {
        "seq": seq,
        "workspace": "default",
        "name": name,
        "compute": kw.get("compute", "local"),
        "status": status,
        "document": _json(kw.get("document", {"command": f"python {name}.py"})),
        "resolved": _json(kw.get("resolved", {"environment": "py311:1"})),
        "run_id": kw.get("run_id"),
        "experiment_id": kw.get("experiment_id"),
        "exit_code": kw.get("exit_code"),
        "error": kw.get("error"),
        "cancel_requested": kw.get("cancel_requested", False),
        "state": _json(kw.get("state", {})),
        "created_at": T0 + 40 + seq,
        "updated_at": T0 + 50 + seq,
    }


def _version(mid: str, version: int, **kw: Any) -> dict[str, Any]:
    return {
        "model_id": mid,
        "registered_model_id": 1,
        "version": version,
        "workspace": "default",
        "source": kw.get("source", "run"),
        "run_id": kw.get("run_id"),
        "artifact_path": kw.get("artifact_path"),
        "storage_key": kw.get("storage_key"),
        "native_key": kw.get("native_key"),
        "format": "onnx",
        "size": kw.get("size"),
        "sha256": kw.get("sha256"),
        "signature": json.dumps(kw.get("signature", {})),
        "metrics": json.dumps(kw.get("metrics", {})),
        "parity": None if kw.get("parity") is None else json.dumps(kw["parity"]),
        "forced": kw.get("forced", False),
        "status": kw.get("status", "READY"),
        "status_reason": kw.get("status_reason"),
        "description": kw.get("description", ""),
        "tags": json.dumps(kw.get("tags", {})),
        "created_at": T0 + 70 + version,
    }


def _deployment(ep: str, name: str, ref: str, mid: str, **kw: Any) -> dict[str, Any]:
    return {
        "workspace": "default",
        "endpoint": ep,
        "name": name,
        "model_ref": ref,
        "model_name": "clf",
        "model_version": 1,
        "model_id": mid,
        "replicas": kw.get("replicas", 1),
        "max_rows": kw.get("max_rows", 10_000),
        "max_body_bytes": kw.get("max_body_bytes", 16 << 20),
        "timeout_ms": kw.get("timeout_ms", 10_000),
        "log_requests": kw.get("log_requests", False),
        "created_at": T0 + 92,
        "updated_at": T0 + 93,
        "batch_max_rows": kw.get("batch_max_rows"),
        "batch_max_wait_us": kw.get("batch_max_wait_us"),
    }


ROWS: list[tuple[str, str, list[dict[str, Any]]]] = [
    ("0001", "workspaces", _rows("name created_at", ("team-a", T0))),
    (
        "0001",
        "experiments",
        _rows(
            "experiment_id workspace name artifact_location lifecycle_stage created_at updated_at",
            (1, "default", "vision ✓ 'quoted' %s ?", "1", "active", T0, T0 + 1),
            (2, "team-a", "old", "s3://bucket/exp", "deleted", T0 + 2, T0 + 3),
        ),
    ),
    ("0001", "experiment_tags", _kv("experiment_id", 1, EXP_TAGS)),
    (
        "0001",
        "runs",
        [
            _run(R1, 1, "default", "baseline ✓", "FINISHED", end_time=T0 + 5000),
            _run(
                R2,
                1,
                "default",
                "child",
                "RUNNING",
                parent_run_id=R1,
                lifecycle_stage="deleted",
                status_message="still going\nline 2",
            ),
            _run(
                R3,
                2,
                "team-a",
                "",
                "KILLED",
                start_time=T0 + 7,
                end_time=T0 + 9,
                location="s3://bucket/exp",
                status_message="",
            ),
        ],
    ),
    ("0001", "params", [r for run, kv in PARAMS.items() for r in _kv("run_id", run, kv)]),
    ("0001", "tags", [r for run, kv in TAGS.items() for r in _kv("run_id", run, kv)]),
    (
        "0001",
        "metrics",
        [_metric(run, key, *p) for (run, key), points in METRIC_POINTS.items() for p in points],
    ),
    ("0001", "latest_metrics", [_metric(run, key, *p) for (run, key), p in LATEST.items()]),
    (
        "0001",
        "tokens",
        _rows(
            "token_id name secret_hash roles created_at revoked_at",
            ("t" * 32, "ci", "a" * 64, json.dumps({"default": "editor"}), T0 + 1, None),
            ("u" * 32, "old laptop", "b" * 64, json.dumps({"*": "owner"}), T0, T0 + 100),
        ),
    ),
    ("0002", "environments", _asset("py311", "1", ENV_SPEC, "", {})),
    ("0002", "data_assets", _asset("iris", "2", DATA_SPEC, "Iris ✓", {"k": "v"})),
    ("0002", "code_assets", _asset("src", "abc123", {"sha256": "f" * 64}, "", {})),
    (
        "0002",
        "computes",
        _rows(
            "workspace name type slots address description created_at",
            ("default", "local4", "local", 4, None, "", T0),
            ("default", "ray1", "ray", 16, "ray://10.0.0.1:10001", "cluster", T0 + 1),
        ),
    ),
    ("0002", "jobs", [_job(seq, name, status, **kw) for seq, name, status, kw in JOBS]),
    (
        "0002",
        "job_status_changes",
        _rows(
            "id job_seq status time message",
            (1, 1, "Queued", T0 + 41, None),
            (2, 1, "Preparing", T0 + 42, None),
            (3, 1, "Running", T0 + 43, "pid 4242"),
            (4, 2, "Queued", T0 + 44, None),
            (5, 1, "Completed", T0 + 51, "exit code 0"),
            (6, 2, "Failed", T0 + 52, "OOM ✗"),
            (7, 3, "Queued", T0 + 53, None),
        ),
    ),
    (
        "0003",
        "logged_models",
        _rows(
            "model_id experiment_id workspace name artifact_location status lifecycle_stage "
            "created_at updated_at model_type source_run_id status_message",
            (
                LM1,
                1,
                "default",
                "model",
                f"1/models/{LM1}/artifacts",
                "READY",
                "active",
                T0 + 60,
                T0 + 61,
                "sklearn",
                R1,
                None,
            ),
            (
                LM2,
                1,
                "default",
                "draft",
                f"1/models/{LM2}/artifacts",
                "PENDING",
                "deleted",
                T0 + 62,
                T0 + 63,
                None,
                None,
                "upload failed",
            ),
        ),
    ),
    ("0003", "logged_model_params", _kv("model_id", LM1, {"alpha": "0.5", "empty": ""})),
    ("0003", "logged_model_tags", _kv("model_id", LM1, {"mlflow.source.name": "train.py"})),
    (
        "0003",
        "logged_model_metrics",
        [
            {
                **_metric(R1, "rmse", 0, T0, 0.75),
                "model_id": LM1,
                "dataset_name": "iris",
                "dataset_digest": "abcd",
            },
            {
                **_metric(R1, "r2", 0, T0, math.nan),
                "model_id": LM1,
                "dataset_name": None,
                "dataset_digest": None,
            },
        ],
    ),
    ("0003", "logged_model_outputs", _rows("run_id model_id step", (R1, LM1, 3))),
    (
        "0004",
        "registered_models",
        _rows(
            "id workspace name description tags next_version created_at updated_at",
            (1, "default", "clf", "Iris classifier ✓", '{"team": "ml"}', 3, T0 + 70, T0 + 80),
            (2, "team-a", "empty-model", "", "{}", 1, T0 + 74, T0 + 74),
        ),
    ),
    (
        "0004",
        "model_versions",
        [
            _version(
                MV1,
                1,
                run_id=R1,
                artifact_path="model",
                storage_key="models/default/clf/1/model.onnx",
                native_key="models/default/clf/1/model.pkl",
                size=12_345,
                sha256="f" * 64,
                signature=SIGNATURE,
                metrics={"accuracy": 0.97, "rmse": 0.1 + 0.2},
                parity={"ok": True, "max_abs_diff": 1e-07},
                description="first",
                tags={"stage": "prod"},
            ),
            _version(
                MV2, 2, source="upload", forced=True, status="FAILED", status_reason="parity ✗"
            ),
        ],
    ),
    (
        "0004",
        "model_aliases",
        _rows("registered_model_id alias version updated_at", (1, "champion", 1, T0 + 79)),
    ),
    (
        "0005",
        "sweep_trials",
        _rows(
            "workspace sweep number job_name attempt status parameters raw objective reason "
            "final created_at updated_at",
            (
                "default",
                "sweep1",
                0,
                "sweep1-0-0",
                0,
                "Completed",
                _json(TRIAL_PARAMS[0]),
                _json(TRIAL_RAW[0]),
                0.1 + 0.2,
                None,
                True,
                T0 + 80,
                T0 + 85,
            ),
            (
                "default",
                "sweep1",
                1,
                "sweep1-1-1",
                1,
                "Failed",
                _json(TRIAL_PARAMS[1]),
                _json(TRIAL_RAW[1]),
                None,
                "early terminated ✓",
                False,
                T0 + 81,
                T0 + 86,
            ),
        ),
    ),
    (
        "0006",
        "endpoints",
        _rows(
            "workspace name auth primary_key secondary_key description traffic mirror "
            "created_at updated_at",
            (
                "default",
                "ep",
                "key",
                "pk-ep",
                "sk-ep",
                "live ✓",
                _json({"blue": 90, "green": 10}),
                _json({"green": 5}),
                T0 + 90,
                T0 + 91,
            ),
            ("team-a", "ep2", "none", "pk-ep2", "sk-ep2", "", "{}", "{}", T0 + 90, T0 + 91),
        ),
    ),
    (
        "0006",
        "deployments",
        [
            _deployment("ep", "blue", "models:/clf/1", MV1, replicas=2, log_requests=True),
            _deployment(
                "ep",
                "green",
                "models:/clf@champion",
                MV1,
                max_rows=500,
                max_body_bytes=1 << 20,
                timeout_ms=2_500,
                batch_max_rows=32,
                batch_max_wait_us=500,
            ),
        ],
    ),
    (
        "0007",
        "datastores",
        _rows(
            "workspace name url description tags created_at updated_at",
            ("default", "ds", "s3://bucket/prefix", "raw data ✓", '{"a":"b"}', T0 + 95, T0 + 96),
        ),
    ),
    (
        "0009",
        "datasets",
        _rows(
            "dataset_id experiment_id name digest source_type source schema profile",
            (D1, 1, "iris", "abcd1234", "local", DATASET_SOURCE, DATASET_SCHEMA, None),
        ),
    ),
    ("0009", "run_inputs", _rows("run_id dataset_id position", (R1, D1, 0))),
    (
        "0009",
        "run_input_tags",
        _rows("run_id dataset_id key value", (R1, D1, "mlflow.data.context", "train")),
    ),
    ("0010", "run_model_inputs", _rows("run_id model_id position", (R2, LM2, 0), (R2, LM1, 1))),
    (
        "0011",
        "deployment_history",
        _rows(
            "id workspace endpoint deployment model_name model_version model_id model_ref reason "
            "created_at",
            *HISTORY,
        ),
    ),
]
SERVING_REVISION = 7
"""What ``serving_revision`` counts once the rows above were written through the store."""


def row_as_at(table: str, row: dict[str, Any], revision: str) -> dict[str, Any]:
    """``row`` with the columns ``table`` had at ``revision`` (batching came with 0008)."""
    if table == "deployments" and revision < BATCH_SINCE:
        return {k: v for k, v in row.items() if not k.startswith("batch_")}
    return dict(row)


def seed(conn: Connection, revision: str) -> None:
    """Insert the rows a database at ``revision`` can hold, into its reflected tables.

    Raises AssertionError if a row's columns are not exactly its table's columns at
    ``revision``, or if the database gives an autoincrement key other than the expected one.
    """
    meta = MetaData()
    meta.reflect(conn)
    for since, name, rows in ROWS:
        if since > revision:
            assert name not in meta.tables, f"{name} exists at {revision}, before {since}"
            continue
        table = meta.tables[name]
        for full in rows:
            row = row_as_at(name, full, revision)
            assert set(row) == set(table.c.keys()), (name, revision, set(row) ^ set(table.c.keys()))
            auto = AUTO_IDS.get(name)
            expected_id = row.pop(auto) if auto else None
            done = conn.execute(table.insert().values(**row))
            if auto:
                key = done.inserted_primary_key
                assert key is not None and key[0] == expected_id, (name, expected_id)
    if revision >= "0006":  # the store bumps the counter that 0006 created with one row
        conn.execute(text("UPDATE serving_revision SET revision = :r"), {"r": SERVING_REVISION})
