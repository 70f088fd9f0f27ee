"""What the current stores must read from the rows of ``upgrade_data`` seeded at a revision.

``observed(store)`` reads everything back through the stores the server uses; ``expected(rev)``
states, entity by entity, what that must be for a database seeded at revision ``rev`` (tables
newer than ``rev`` read as empty, and deployments written before ``0008`` read as unbatched).
Both give a dict with the same keys; ``exact`` makes their values comparable bit for bit (a
float compares by its ``repr``, so NaN equals NaN and ``0.30000000000000004`` is not ``0.3``).
(Over 400 lines because it is data: one expected entity per seeded row group.)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from tests.store.upgrade_data import (
    BATCH_SINCE,
    DATA_SPEC,
    DATASET_SCHEMA,
    DATASET_SOURCE,
    ENV_SPEC,
    EXP_TAGS,
    HISTORY,
    JOBS,
    LATEST,
    LM1,
    LM2,
    METRIC_POINTS,
    MV1,
    MV2,
    PARAMS,
    R1,
    R2,
    R3,
    SERVING_REVISION,
    SIGNATURE,
    T0,
    TAGS,
    TRIAL_PARAMS,
    TRIAL_RAW,
)
from trainyard.core.deployment_history import ChangeReason, DeploymentEvent
from trainyard.core.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    LifecycleStage,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelMetric,
    Run,
    RunInputs,
    RunStatus,
    Workspace,
)
from trainyard.core.jobs import AssetKind, AssetVersion, Compute, Datastore, Job, JobStatus
from trainyard.core.jobs import StatusChange as Change
from trainyard.core.registry import ModelSource, ModelVersion, ModelVersionStatus, RegisteredModel
from trainyard.core.serving import (
    AuthMode,
    Batching,
    Deployment,
    Endpoint,
    EndpointKeys,
    RequestLimits,
)
from trainyard.core.sweeps import Trial
from trainyard.errors import NotFound
from trainyard.store.sql.assets import SqlAssetStore
from trainyard.store.sql.jobs import SqlJobStore
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.serving import SqlServingStore
from trainyard.store.sql.sweeps import SqlSweepStore
from trainyard.store.sql.tracking import SqlTrackingStore

ACTIVE, DELETED = LifecycleStage.ACTIVE, LifecycleStage.DELETED
RUNS = {R1: "default", R2: "default", R3: "team-a"}


def exact(value: Any) -> Any:
    """``value`` as plain data that compares exactly: floats by ``repr``, entities by field."""
    if isinstance(value, float):
        return ("float", repr(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: exact(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return (type(value).__name__, fields)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple such as Metric
        return (
            type(value).__name__,
            {k: exact(v) for k, v in zip(value._fields, value, strict=True)},
        )
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    return value


def _or_empty(read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except NotFound:
        return None


def observed(store: SqlTrackingStore) -> dict[str, Any]:
    """Everything the seed wrote, read through the current stores."""
    db = store.db
    assets, jobs = SqlAssetStore(db), SqlJobStore(db)
    registry, sweeps, serving = SqlRegistryStore(db), SqlSweepStore(db), SqlServingStore(db)
    workspaces = ("default", "team-a")
    searched = [
        store.search_runs(ws, ids, [], [], True, 100, 0)[0]
        for ws, ids in (("default", ["0", "1"]), ("team-a", ["2"]))
    ]
    return {
        "workspaces": store.list_workspaces(),
        "experiments": {ws: store.list_experiments(ws, None, True, 100, 0) for ws in workspaces},
        "runs": {run: store.get_run(ws, run) for run, ws in RUNS.items()},
        "searched runs": sorted(r.run_id for page in searched for r in page),
        "metric histories": {
            f"{run}/{key}": sorted(
                exact(store.metric_history(RUNS[run], run, key, 1000, 0)[0]), key=repr
            )
            for run, key in METRIC_POINTS
        },
        "tokens": store.list_tokens(),
        "token lookup": [store.find_token("a" * 64), store.find_token("b" * 64)],
        "logged models": store.list_logged_models("default", [], True),
        "run outputs": store.run_outputs(list(RUNS)),
        "run inputs": store.run_inputs(list(RUNS)),
        "assets": {kind.value: assets.list_assets(kind, "default", None) for kind in AssetKind},
        "computes": assets.list_computes("default"),
        "datastores": assets.list_datastores("default"),
        "jobs": jobs.list_jobs("default", None, 100, 0),
        "models": {ws: registry.list_models(ws, None, 100, 0) for ws in workspaces},
        "versions": _or_empty(registry.list_versions, "default", "clf", 100, 0),
        "trials": sweeps.list_trials("default", "sweep1"),
        "serving": serving.snapshot(),
        "deployment history": {
            d: serving.list_history("default", "ep", d, 100, 0) for d in ("blue", "green")
        },
    }


def _run(run: str, exp: str, ws: str, name: str, status: RunStatus, **kw: Any) -> Run:
    metrics = {k: Metric(k, v, ts, step) for (r, k), (step, ts, v) in LATEST.items() if r == run}
    return Run(
        run_id=run,
        experiment_id=exp,
        workspace=ws,
        name=name,
        status=status,
        start_time=kw.get("start_time", T0 + 1),
        end_time=kw.get("end_time"),
        lifecycle_stage=kw.get("stage", ACTIVE),
        artifact_uri=f"{kw.get('location', exp)}/{run}/artifacts",
        parent_run_id=kw.get("parent_run_id"),
        status_message=kw.get("status_message"),
        params=PARAMS.get(run, {}),
        tags=TAGS.get(run, {}),
        metrics=metrics,
    )


def _tracking() -> dict[str, Any]:
    default_exp = Experiment("0", "default", "Default", "0", ACTIVE, 0, 0)
    exp1 = Experiment("1", "default", "vision ✓ 'quoted' %s ?", "1", ACTIVE, T0, T0 + 1, EXP_TAGS)
    exp2 = Experiment("2", "team-a", "old", "s3://bucket/exp", DELETED, T0 + 2, T0 + 3)
    live = {"token_id": "t" * 32, "name": "ci", "roles": {"default": "editor"}}
    revoked = {"token_id": "u" * 32, "name": "old laptop", "roles": {"*": "owner"}}
    return {
        "workspaces": [Workspace("default", 0), Workspace("team-a", T0)],
        "experiments": {
            "default": ([(default_exp, 0, None), (exp1, 1, T0 + 5000)], False),
            "team-a": ([(exp2, 1, T0 + 9)], False),
        },
        "runs": {
            R1: _run(R1, "1", "default", "baseline ✓", RunStatus.FINISHED, end_time=T0 + 5000),
            R2: _run(
                R2,
                "1",
                "default",
                "child",
                RunStatus.RUNNING,
                stage=DELETED,
                parent_run_id=R1,
                status_message="still going\nline 2",
            ),
            R3: _run(
                R3,
                "2",
                "team-a",
                "",
                RunStatus.KILLED,
                start_time=T0 + 7,
                end_time=T0 + 9,
                location="s3://bucket/exp",
                status_message="",
            ),
        },
        "searched runs": sorted(RUNS),
        "metric histories": {
            f"{run}/{key}": sorted(exact([Metric(key, v, ts, s) for s, ts, v in pts]), key=repr)
            for (run, key), pts in METRIC_POINTS.items()
        },
        "tokens": [
            {**live, "created_at": T0 + 1, "revoked_at": None},
            {**revoked, "created_at": T0, "revoked_at": T0 + 100},
        ],
        "token lookup": [{**live, "created_at": T0 + 1, "revoked_at": None}, None],
    }


def _jobs() -> dict[str, Any]:
    def job(seq: int, name: str, status: str, kw: dict[str, Any]) -> Job:
        return Job(
            workspace="default",
            name=name,
            seq=seq,
            document=kw.get("document", {"command": f"python {name}.py"}),
            resolved={"environment": "py311:1"},
            compute="local",
            status=JobStatus(status),
            run_id=kw.get("run_id"),
            experiment_id=kw.get("experiment_id"),
            created_at=T0 + 40 + seq,
            updated_at=T0 + 50 + seq,
            exit_code=kw.get("exit_code"),
            error=kw.get("error"),
            cancel_requested=kw.get("cancel_requested", False),
            state=kw.get("state", {}),
            history=history[seq],
        )

    q = JobStatus.QUEUED
    history = {
        1: [
            Change(q, T0 + 41),
            Change(JobStatus.PREPARING, T0 + 42),
            Change(JobStatus.RUNNING, T0 + 43, "pid 4242"),
            Change(JobStatus.COMPLETED, T0 + 51, "exit code 0"),
        ],
        2: [Change(q, T0 + 44), Change(JobStatus.FAILED, T0 + 52, "OOM ✗")],
        3: [Change(q, T0 + 53)],
    }

    def asset(kind: AssetKind, name: str, version: str, spec: Any, desc: str, tags: Any) -> Any:
        return [AssetVersion(kind, "default", name, version, spec, desc, tags, T0 + 2, T0 + 3)]

    return {
        "assets": {
            "environments": asset(AssetKind.ENVIRONMENT, "py311", "1", ENV_SPEC, "", {}),
            "data": asset(AssetKind.DATA, "iris", "2", DATA_SPEC, "Iris ✓", {"k": "v"}),
            "code": asset(AssetKind.CODE, "src", "abc123", {"sha256": "f" * 64}, "", {}),
        },
        "computes": [
            Compute("default", "local4", "local", 4, None, "", T0),
            Compute("default", "ray1", "ray", 16, "ray://10.0.0.1:10001", "cluster", T0 + 1),
        ],
        "jobs": ([job(*spec) for spec in reversed(JOBS)], False),  # newest first
    }


def _logged_models() -> dict[str, Any]:
    lm1 = LoggedModel(
        LM1,
        "1",
        "default",
        "model",
        f"1/models/{LM1}/artifacts",
        LoggedModelStatus.READY,
        ACTIVE,
        T0 + 60,
        T0 + 61,
        "sklearn",
        R1,
        None,
        params={"alpha": "0.5", "empty": ""},
        tags={"mlflow.source.name": "train.py"},
        metrics=[
            ModelMetric("r2", math.nan, T0, 0, R1),
            ModelMetric("rmse", 0.75, T0, 0, R1, "iris", "abcd"),
        ],
    )
    lm2 = LoggedModel(
        LM2,
        "1",
        "default",
        "draft",
        f"1/models/{LM2}/artifacts",
        LoggedModelStatus.PENDING,
        DELETED,
        T0 + 62,
        T0 + 63,
        status_message="upload failed",
    )
    return {"logged models": [lm2, lm1], "run outputs": {R1: [(LM1, 3)], R2: [], R3: []}}


def _registry() -> dict[str, Any]:
    clf = RegisteredModel(
        "default",
        "clf",
        "Iris classifier ✓",
        T0 + 70,
        T0 + 80,
        {"team": "ml"},
        {"champion": 1},
        1,
        2,
    )
    v1 = ModelVersion(
        MV1,
        "default",
        "clf",
        1,
        ModelSource.RUN,
        ModelVersionStatus.READY,
        T0 + 71,
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
        aliases=["champion"],
    )
    v2 = ModelVersion(
        MV2,
        "default",
        "clf",
        2,
        ModelSource.UPLOAD,
        ModelVersionStatus.FAILED,
        T0 + 72,
        forced=True,
        status_reason="parity ✗",
    )
    return {
        "models": {
            "default": ([clf], False),
            "team-a": ([RegisteredModel("team-a", "empty-model", "", T0 + 74, T0 + 74)], False),
        },
        "versions": ([v2, v1], False),
    }


def _trials() -> list[Trial]:
    return [
        Trial(
            "default",
            "sweep1",
            0,
            "sweep1-0-0",
            0,
            JobStatus.COMPLETED,
            TRIAL_PARAMS[0],
            TRIAL_RAW[0],
            T0 + 80,
            T0 + 85,
            0.1 + 0.2,
            None,
            True,
        ),
        Trial(
            "default",
            "sweep1",
            1,
            "sweep1-1-1",
            1,
            JobStatus.FAILED,
            TRIAL_PARAMS[1],
            TRIAL_RAW[1],
            T0 + 81,
            T0 + 86,
            None,
            "early terminated ✓",
            False,
        ),
    ]


def _serving(revision: str) -> tuple[int, list[Endpoint]]:
    def deployment(name: str, ref: str, replicas: int, limits: RequestLimits, **kw: Any) -> Any:
        return Deployment(
            "default",
            "ep",
            name,
            ref,
            "clf",
            1,
            MV1,
            replicas,
            limits,
            created_at=T0 + 92,
            updated_at=T0 + 93,
            **kw,
        )

    batching = Batching(32, 500) if revision >= BATCH_SINCE else None
    deployments = {
        "blue": deployment("blue", "models:/clf/1", 2, RequestLimits(), log_requests=True),
        "green": deployment(
            "green",
            "models:/clf@champion",
            1,
            RequestLimits(500, 1 << 20, 2_500),
            batching=batching,
        ),
    }
    ep = Endpoint(
        "default",
        "ep",
        AuthMode.KEY,
        EndpointKeys("pk-ep", "sk-ep"),
        "live ✓",
        {"blue": 90, "green": 10},
        {"green": 5},
        deployments,
        T0 + 90,
        T0 + 91,
    )
    ep2 = Endpoint(
        "team-a",
        "ep2",
        AuthMode.NONE,
        EndpointKeys("pk-ep2", "sk-ep2"),
        "",
        {},
        {},
        {},
        T0 + 90,
        T0 + 91,
    )
    return SERVING_REVISION, [ep, ep2]


def _history(revision: str) -> dict[str, tuple[list[DeploymentEvent], bool]]:
    """The seeded history (0011 on), or what 0011 gives existing deployments (0006 to 0010):
    their current version, as ``created`` at their last update."""
    if revision >= "0011":
        events = [DeploymentEvent(*row[1:8], ChangeReason(row[8]), row[9]) for row in HISTORY]
    elif revision >= "0006":
        events = [
            DeploymentEvent("default", "ep", d, "clf", 1, MV1, ref, ChangeReason.CREATED, T0 + 93)
            for d, ref in (("blue", "models:/clf/1"), ("green", "models:/clf@champion"))
        ]
    else:
        events = []
    return {
        d: ([e for e in reversed(events) if e.deployment == d], False) for d in ("blue", "green")
    }


def expected(revision: str) -> dict[str, Any]:
    """What ``observed`` must give for a database seeded (by ``seed``) at ``revision``."""

    def since(created: str) -> bool:
        return revision >= created

    dataset = Dataset(
        "iris",
        "abcd1234",
        "local",
        DATASET_SOURCE,
        DATASET_SCHEMA,
    )
    inputs = {
        R1: RunInputs([DatasetInput(dataset, {"mlflow.data.context": "train"})]),
        R2: RunInputs(models=[LM2, LM1] if since("0010") else []),
        R3: RunInputs(),
    }
    no_assets: dict[str, Any] = {
        "assets": {k.value: [] for k in AssetKind},
        "computes": [],
        "jobs": ([], False),
    }
    no_models: dict[str, Any] = {
        "models": {"default": ([], False), "team-a": ([], False)},
        "versions": None,
    }
    return {
        **_tracking(),
        **(_jobs() if since("0002") else no_assets),
        **(
            _logged_models()
            if since("0003")
            else {"logged models": [], "run outputs": {run: [] for run in RUNS}}
        ),
        **(_registry() if since("0004") else no_models),
        "trials": _trials() if since("0005") else [],
        "serving": _serving(revision) if since("0006") else (0, []),
        "deployment history": _history(revision),
        "datastores": (
            [
                Datastore(
                    "default",
                    "ds",
                    "s3://bucket/prefix",
                    "raw data ✓",
                    {"a": "b"},
                    T0 + 95,
                    T0 + 96,
                )
            ]
            if since("0007")
            else []
        ),
        "run inputs": inputs if since("0009") else {run: RunInputs() for run in RUNS},
    }
