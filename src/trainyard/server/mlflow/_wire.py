"""Protobuf-JSON as MLflow speaks it: reading request messages, writing entities.

Requests: GET messages come as query parameters (repeated fields as repeated keys), the others as
a JSON body. int64 fields may be numbers or strings; doubles may be ``"NaN"``/``"Infinity"``.
Answers: empty fields are omitted, int64 values are JSON numbers, NaN is ``"NaN"``, run infos
echo ``run_uuid``, and Trainyard's relative artifact keys are shown as ``mlflow-artifacts:/<key>``
so the client streams files through the artifact proxy.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from fastapi import Request, Response

from trainyard.core.entities import (
    DatasetInput,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Run,
    RunInputs,
)
from trainyard.errors import InvalidArgument

ARTIFACTS_SCHEME = "mlflow-artifacts:/"
LOGGED_MODEL_STATUS = {
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
MODEL_STATUS_BY_NAME = {v: k for k, v in LOGGED_MODEL_STATUS.items()}


def _missing(name: str) -> InvalidArgument:
    return InvalidArgument(
        f"Missing value for required parameter '{name}'. "
        "See the API docs for more information about request parameters."
    )


def _bad(name: str, value: Any) -> InvalidArgument:
    return InvalidArgument(f"Invalid value {value!r} for parameter '{name}' supplied.")


class Message:
    """One request message, with typed accessors that answer MLflow's errors."""

    def __init__(self, data: dict[str, Any], from_query: bool = False) -> None:
        self.data = data
        self.from_query = from_query

    def _scalar(self, name: str) -> Any:
        value = self.data.get(name)
        if self.from_query and isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, (list, dict)):
            raise _bad(name, value)
        return value

    def text(self, name: str, required: bool = False) -> str | None:
        """A string field (None or '' when absent)."""
        value = self._scalar(name)
        if value is None or value == "":
            if required:
                raise _missing(name)
            return None
        if not isinstance(value, str):
            raise _bad(name, value)
        return value

    def need(self, name: str) -> str:
        """A required, non-empty string field."""
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, required: bool = False) -> int | None:
        """An int32/int64 field, from a number or a decimal string."""
        value = self._scalar(name)
        if value is None or value == "":
            if required:
                raise _missing(name)
            return None
        if isinstance(value, bool):
            raise _bad(name, value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(name, value) from None

    def number(self, name: str, required: bool = False) -> float | None:
        """A double field: a number, or "NaN", "Infinity", "-Infinity" or a numeric string."""
        value = self._scalar(name)
        return to_float(name, value, required)

    def boolean(self, name: str, default: bool = False) -> bool:
        """A bool field (``true``/``false`` in a query string)."""
        value = self._scalar(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _bad(name, value)

    def items(self, name: str) -> list[Any]:
        """A repeated field."""
        value = self.data.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def pairs(self, name: str) -> list[tuple[str, str]]:
        """A repeated ``{key, value}`` field (tags, params), in order."""
        out = []
        for item in self.items(name):
            if not isinstance(item, dict):
                raise _bad(name, item)
            sub = Message(item)
            key = sub.text("key", required=True)
            value = sub._scalar("value")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise _bad(f"{name}.value", value)
            out.append((str(key), value))
        return out

    def run_id(self) -> str:
        """``run_id``, or the legacy ``run_uuid``."""
        value = self.text("run_id") or self.text("run_uuid")
        if value is None:
            raise _missing("run_id")
        return value


def to_float(name: str, value: Any, required: bool = True) -> float | None:
    """A protobuf-JSON double."""
    if value is None or value == "":
        if required:
            raise _missing(name)
        return None
    if isinstance(value, bool):
        raise _bad(name, value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad(name, value) from None


async def read_message(request: Request) -> Message:
    """The request's message: its query for GET, else its JSON body."""
    if request.method == "GET":
        data: dict[str, Any] = {}
        for k, v in request.query_params.multi_items():
            data.setdefault(k, []).append(v)
        return Message(data, from_query=True)
    body = await request.body()
    if not body.strip():
        return Message({})
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidArgument("the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument("the request body must be a JSON object")
    return Message(parsed)


def answer(body: dict[str, Any] | None = None) -> Response:
    """A 200 JSON answer (``{}`` when there is nothing to say)."""
    return Response(orjson.dumps(body or {}), media_type="application/json")


def number(value: float) -> float | str:
    """A double as protobuf-JSON writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def artifact_uri(key: str) -> str:
    """A stored artifact key as the URI the client resolves through our proxy."""
    return ARTIFACTS_SCHEME + key.lstrip("/")


def _kv(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def experiment(e: Experiment) -> dict[str, Any]:
    """An ``Experiment`` message."""
    return _drop_empty(
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "artifact_location": artifact_uri(e.artifact_location),
            "lifecycle_stage": e.lifecycle_stage.value,
            "creation_time": e.created_at,
            "last_update_time": e.updated_at,
            "tags": _kv(e.tags),
            "workspace": e.workspace,
        }
    )


def metric(m: Metric, **extra: Any) -> dict[str, Any]:
    """A ``Metric`` message."""
    return _drop_empty(
        {"key": m.key, "value": number(m.value), "timestamp": m.timestamp, "step": m.step, **extra}
    )


def run_tags(r: Run) -> dict[str, str]:
    """The run's tags as MLflow shows them: the run name and parent as ``mlflow.*`` tags."""
    tags = dict(r.tags)
    tags["mlflow.runName"] = r.name
    if r.parent_run_id and "mlflow.parentRunId" not in tags:
        tags["mlflow.parentRunId"] = r.parent_run_id
    return tags


def run_info(r: Run) -> dict[str, Any]:
    """A ``RunInfo`` message."""
    return _drop_empty(
        {
            "run_id": r.run_id,
            "run_uuid": r.run_id,
            "run_name": r.name,
            "experiment_id": r.experiment_id,
            "user_id": r.tags.get("mlflow.user", ""),
            "status": r.status.value,
            "start_time": r.start_time,
            "end_time": r.end_time,
            "artifact_uri": artifact_uri(r.artifact_uri),
            "lifecycle_stage": r.lifecycle_stage.value,
        }
    )


def dataset_input(i: DatasetInput) -> dict[str, Any]:
    """A ``DatasetInput`` message: the input's tags and its ``Dataset``."""
    d = i.dataset
    dataset = _drop_empty(
        {
            "name": d.name,
            "digest": d.digest,
            "source_type": d.source_type,
            "source": d.source,
            "schema": d.schema,
            "profile": d.profile,
        }
    )
    return _drop_empty({"tags": _kv(i.tags), "dataset": dataset})


def run(
    r: Run,
    outputs: list[tuple[str, int]] | None = None,
    inputs: RunInputs | None = None,
) -> dict[str, Any]:
    """A ``Run`` message: info, data (latest metric per key), inputs and outputs."""
    data = _drop_empty(
        {
            "metrics": [metric(m) for m in r.metrics.values()],
            "params": _kv(r.params),
            "tags": _kv(run_tags(r)),
        }
    )
    model_outputs = [{"model_id": m, "step": s} for m, s in outputs or []]
    inputs = inputs or RunInputs()
    dataset_inputs = [dataset_input(i) for i in inputs.datasets]
    model_inputs = [{"model_id": m} for m in inputs.models]
    return {
        "info": run_info(r),
        "data": data,
        "inputs": _drop_empty({"dataset_inputs": dataset_inputs, "model_inputs": model_inputs}),
        "outputs": _drop_empty({"model_outputs": model_outputs}),
    }


def logged_model(m: LoggedModel) -> dict[str, Any]:
    """A ``LoggedModel`` message."""
    info = _drop_empty(
        {
            "model_id": m.model_id,
            "experiment_id": m.experiment_id,
            "name": m.name,
            "creation_timestamp_ms": m.created_at,
            "last_updated_timestamp_ms": m.updated_at,
            "artifact_uri": artifact_uri(m.artifact_location),
            "status": LOGGED_MODEL_STATUS[m.status],
            "model_type": m.model_type,
            "source_run_id": m.source_run_id,
            "status_message": m.status_message,
            "tags": _kv(m.tags),
        }
    )
    metrics = [
        _drop_empty(
            {
                "key": p.key,
                "value": number(p.value),
                "timestamp": p.timestamp,
                "step": p.step,
                "run_id": p.run_id,
                "dataset_name": p.dataset_name,
                "dataset_digest": p.dataset_digest,
                "model_id": m.model_id,
            }
        )
        for p in m.metrics
    ]
    return {"info": info, "data": _drop_empty({"params": _kv(m.params), "metrics": metrics})}
