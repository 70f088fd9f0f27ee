"""MLflow 3's logged-model routes: what ``mlflow.<flavor>.log_model`` and ``runs:/`` need.

``log_model`` creates a PENDING model, uploads its files to the model's artifact root through
the proxy, then finalizes it READY; loading ``runs:/<run>/<name>`` searches the run's experiment
for ``name = '<name>'`` and matches the ``source_run_id``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from trainyard.core.entities import LifecycleStage
from trainyard.errors import InvalidArgument, NotFound
from trainyard.server.mlflow import _wire
from trainyard.server.mlflow._deps import LoggedModels, Msg, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._wire import MODEL_STATUS_BY_NAME, Message, answer

router = APIRouter(route_class=MlflowRoute)


@router.post("/logged-models")
def create_logged_model(workspace: WriteWorkspace, msg: Msg, models: LoggedModels) -> Response:
    """A new PENDING model of an experiment (and, usually, of a run)."""
    m = models.create(
        workspace,
        msg.need("experiment_id"),
        msg.text("name") or "model",
        msg.text("model_type"),
        msg.text("source_run_id"),
        dict(msg.pairs("params")),
        dict(msg.pairs("tags")),
    )
    return answer({"model": _wire.logged_model(m)})


@router.post("/logged-models/search")
def search_logged_models(workspace: ReadWorkspace, msg: Msg, models: LoggedModels) -> Response:
    """Models of the experiments matching ``filter``, newest first unless ordered."""
    order_by = []
    for item in msg.items("order_by"):
        if not isinstance(item, dict):
            raise InvalidArgument(f"Invalid value {item!r} for parameter 'order_by' supplied.")
        o = Message(item)
        order_by.append((o.need("field_name"), o.boolean("ascending", default=True)))
    page = models.search(
        workspace,
        [str(i) for i in msg.items("experiment_ids")],
        msg.text("filter"),
        order_by,
        msg.integer("max_results") or 100,
        msg.text("page_token"),
    )
    body: dict[str, object] = {"models": [_wire.logged_model(m) for m in page.items]}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return answer(body)


@router.get("/logged-models/{model_id}")
def get_logged_model(
    workspace: ReadWorkspace, model_id: str, msg: Msg, models: LoggedModels
) -> Response:
    """One model (a deleted one only with ``allow_deleted=true``)."""
    m = models.get(workspace, model_id)
    if m.lifecycle_stage == LifecycleStage.DELETED and not msg.boolean("allow_deleted"):
        raise NotFound(f"logged model {model_id!r} is deleted")
    return answer({"model": _wire.logged_model(m)})


@router.patch("/logged-models/{model_id}")
def finalize_logged_model(
    workspace: WriteWorkspace, model_id: str, msg: Msg, models: LoggedModels
) -> Response:
    """Mark the model READY (its files are uploaded) or LOGGED_MODEL_UPLOAD_FAILED."""
    name = msg.need("status")
    status = MODEL_STATUS_BY_NAME.get(name)
    if status is None:
        raise InvalidArgument(
            f"Invalid value {name!r} for parameter 'status' supplied: use LOGGED_MODEL_READY "
            "or LOGGED_MODEL_UPLOAD_FAILED"
        )
    return answer({"model": _wire.logged_model(models.finalize(workspace, model_id, status))})


@router.delete("/logged-models/{model_id}")
def delete_logged_model(workspace: WriteWorkspace, model_id: str, models: LoggedModels) -> Response:
    """Soft-delete: hidden from search; ``allow_deleted=true`` still reads it."""
    models.delete(workspace, model_id)
    return answer()


@router.patch("/logged-models/{model_id}/tags")
def set_logged_model_tags(
    workspace: WriteWorkspace, model_id: str, msg: Msg, models: LoggedModels
) -> Response:
    """Add or replace tags."""
    m = models.set_tags(workspace, model_id, dict(msg.pairs("tags")))
    return answer({"model": _wire.logged_model(m)})


@router.delete("/logged-models/{model_id}/tags/{key:path}")
def delete_logged_model_tag(
    workspace: WriteWorkspace, model_id: str, key: str, models: LoggedModels
) -> Response:
    """Remove a tag."""
    models.delete_tag(workspace, model_id, key)
    return answer()


@router.post("/logged-models/{model_id}/params")
def log_logged_model_params(
    workspace: WriteWorkspace, model_id: str, msg: Msg, models: LoggedModels
) -> Response:
    """More params (the client sends them 100 at a time past the first 100)."""
    models.log_params(workspace, model_id, dict(msg.pairs("params")))
    return answer()
