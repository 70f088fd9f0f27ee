"""What runs log through MLflow: metrics, params, tags, inputs (data sets, models) and outputs.

MLflow's rules on top of the service's: at most 1,000 metrics, 100 params and 100 tags (1,000
entities) per batch; one value per param key in a batch; over-long param and tag values are
truncated (with a warning in the log) as MLflow's server does, not refused. A metric sent with a
``model_id`` is also attributed to that logged model. Retried writes are harmless: identical
metric points are stored once and a param re-logged with its value is accepted.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response

from trainyard.core.entities import Dataset, DatasetInput, ModelMetric
from trainyard.core.limits import MAX_PARAM_VALUE_LENGTH, MAX_TAG_VALUE_LENGTH
from trainyard.errors import InvalidArgument
from trainyard.server.deps import Tracking
from trainyard.server.mlflow._deps import LoggedModels, Msg, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._wire import Message, answer
from trainyard.server.mlflow.runs import RUN_NAME_TAG

router = APIRouter(route_class=MlflowRoute)
log = logging.getLogger("trainyard.server.mlflow")

MAX_METRICS = 1000
MAX_PARAMS = 100
MAX_TAGS = 100
MAX_ENTITIES = 1000


def _truncated(kind: str, items: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    out = []
    for k, v in items:
        if len(v) > limit:
            log.warning("%s %r: value of %d characters truncated to %d", kind, k, len(v), limit)
            v = v[:limit]
        out.append((k, v))
    return out


@dataclass(frozen=True, slots=True)
class _Point:
    key: str
    value: float
    timestamp: int
    step: int
    model_id: str | None
    dataset_name: str | None
    dataset_digest: str | None


def _metric(item: Any) -> _Point:
    if not isinstance(item, dict):
        raise InvalidArgument(f"Invalid value {item!r} for parameter 'metrics' supplied.")
    m = Message(item)
    value = m.number("value", required=True)
    timestamp = m.integer("timestamp", required=True)
    assert value is not None and timestamp is not None
    return _Point(
        m.need("key"),
        value,
        timestamp,
        m.integer("step") or 0,
        m.text("model_id"),
        m.text("dataset_name"),
        m.text("dataset_digest"),
    )


def _log(
    workspace: str,
    run_id: str,
    tracking: Tracking,
    models: LoggedModels,
    metrics: list[_Point],
    params: list[tuple[str, str]],
    tags: list[tuple[str, str]],
) -> None:
    if len(metrics) > MAX_METRICS:
        raise InvalidArgument(
            f"A batch logging request can contain at most {MAX_METRICS} metrics. Got "
            f"{len(metrics)} metrics. Please split up metrics across multiple requests."
        )
    if len(params) > MAX_PARAMS:
        raise InvalidArgument(
            f"A batch logging request can contain at most {MAX_PARAMS} params. Got {len(params)}."
        )
    if len(tags) > MAX_TAGS:
        raise InvalidArgument(
            f"A batch logging request can contain at most {MAX_TAGS} tags. Got {len(tags)}."
        )
    if len(metrics) + len(params) + len(tags) > MAX_ENTITIES:
        raise InvalidArgument(
            f"A batch logging request can contain at most {MAX_ENTITIES} metrics, params and "
            "tags in total."
        )
    keys = [k for k, _ in params]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise InvalidArgument(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the "
            "request contains only one param value per param key."
        )
    tag_map = dict(_truncated("tag", tags, MAX_TAG_VALUE_LENGTH))
    new_name = tag_map.pop(RUN_NAME_TAG, None)
    tracking.log_batch(
        workspace,
        run_id,
        [(m.key, m.value, m.timestamp, m.step) for m in metrics],
        dict(_truncated("param", params, MAX_PARAM_VALUE_LENGTH)),
        tag_map,
    )
    if new_name:
        tracking.update_run(workspace, run_id, name=new_name)
    by_model: dict[str, list[ModelMetric]] = defaultdict(list)
    for m in metrics:
        if m.model_id:
            by_model[m.model_id].append(
                ModelMetric(
                    m.key, m.value, m.timestamp, m.step, run_id, m.dataset_name, m.dataset_digest
                )
            )
    for model_id, points in by_model.items():
        models.log_metrics(workspace, model_id, points)


@router.post("/runs/log-batch")
def log_batch(
    workspace: WriteWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """Metrics, params and tags in one atomic write."""
    run_id = msg.run_id()
    metrics = [_metric(item) for item in msg.items("metrics")]
    _log(workspace, run_id, tracking, models, metrics, msg.pairs("params"), msg.pairs("tags"))
    return answer()


@router.post("/runs/log-metric")
def log_metric(
    workspace: WriteWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """One metric point."""
    run_id = msg.run_id()
    _log(workspace, run_id, tracking, models, [_metric(msg.data)], [], [])
    return answer()


@router.post("/runs/log-parameter")
def log_param(
    workspace: WriteWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """One param: the same value again is accepted, another value is INVALID_PARAMETER_VALUE."""
    pair = (msg.need("key"), msg.text("value") or "")
    _log(workspace, msg.run_id(), tracking, models, [], [pair], [])
    return answer()


@router.post("/runs/set-tag")
def set_tag(
    workspace: WriteWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """One tag (``mlflow.runName`` renames the run)."""
    pair = (msg.need("key"), msg.text("value") or "")
    _log(workspace, msg.run_id(), tracking, models, [], [], [pair])
    return answer()


@router.post("/runs/delete-tag")
def delete_tag(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Remove a tag (the run name, shown as ``mlflow.runName``, stays)."""
    key = msg.need("key")
    if key != RUN_NAME_TAG:
        tracking.delete_tag(workspace, msg.need("run_id"), key)
    return answer()


def _dataset_input(i: int, item: Any) -> DatasetInput:
    """One ``DatasetInput`` message; the service checks its fields and names a bad one."""
    if not isinstance(item, dict):
        raise InvalidArgument(f"Invalid value {item!r} for parameter 'datasets[{i}]' supplied.")
    d = item.get("dataset") or {}
    if not isinstance(d, dict):
        raise InvalidArgument(f"Invalid value {d!r} for parameter 'datasets[{i}].dataset'.")
    fields: list[Any] = [
        d.get(f) for f in ("name", "digest", "source_type", "source", "schema", "profile")
    ]
    tags: dict[Any, Any] = {}
    for tag in Message(item).items("tags"):
        if not isinstance(tag, dict) or not isinstance(tag.get("key"), (str, type(None))):
            raise InvalidArgument(f"Invalid value {tag!r} for parameter 'datasets[{i}].tags'.")
        value = tag.get("value")
        tags[tag.get("key")] = "" if value is None else value
    return DatasetInput(Dataset(*fields), tags)


def _model_input(i: int, item: Any) -> str:
    """One ``ModelInput`` message: the id of a logged model the run used."""
    model_id = item.get("model_id") if isinstance(item, dict) else None
    if not isinstance(model_id, str) or not model_id:
        raise InvalidArgument(f"Invalid value {item!r} for parameter 'models[{i}]' supplied.")
    return model_id


@router.post("/runs/log-inputs")
def log_inputs(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Store the data sets and logged models the run used (``mlflow.log_input``).

    A model must exist in the workspace (404 ``RESOURCE_DOES_NOT_EXIST`` otherwise, and nothing
    of the request is stored); MLflow's own server takes any id.
    """
    run_id = msg.need("run_id")
    inputs = [_dataset_input(i, item) for i, item in enumerate(msg.items("datasets"))]
    models = [_model_input(i, item) for i, item in enumerate(msg.items("models"))]
    if inputs or models:
        tracking.log_inputs(workspace, run_id, inputs, models)
    else:
        tracking.get_run(workspace, run_id)
    return answer()


@router.post("/runs/outputs")
def log_outputs(workspace: WriteWorkspace, msg: Msg, models: LoggedModels) -> Response:
    """Record the logged models a run produced (``log_model`` in MLflow 3)."""
    outputs = []
    for item in msg.items("models"):
        if not isinstance(item, dict):
            raise InvalidArgument(f"Invalid value {item!r} for parameter 'models' supplied.")
        m = Message(item)
        outputs.append((m.need("model_id"), m.integer("step") or 0))
    models.log_outputs(workspace, msg.need("run_id"), outputs)
    return answer()
