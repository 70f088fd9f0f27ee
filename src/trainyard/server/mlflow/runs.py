"""MLflow's run routes: create, read, update, delete, restore, search and metric history.

What a run logs (metrics, params, tags, inputs, outputs) is in ``run_logging.py``. The run name
is one thing on both sides: MLflow's ``run_name`` and tag ``mlflow.runName`` both read and
write Trainyard's run name (the tag is never stored, it is shown from the name).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Response

from trainyard.core.entities import Run, RunStatus
from trainyard.core.filters import Comparison
from trainyard.errors import InvalidArgument, NotFound
from trainyard.server.deps import Tracking
from trainyard.server.mlflow import _wire
from trainyard.server.mlflow._deps import LoggedModels, Msg, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._search import run_filter, run_order_by
from trainyard.server.mlflow._wire import answer
from trainyard.server.mlflow.experiments import view_type

router = APIRouter(route_class=MlflowRoute)

RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
USER_TAG = "mlflow.user"
MAX_SEARCH_RESULTS = 50_000


def run_status(value: str | None) -> RunStatus | None:
    """A run status from its name (or the enum's number, 1-5)."""
    if value is None:
        return None
    by_number = {"1": "RUNNING", "2": "SCHEDULED", "3": "FINISHED", "4": "FAILED", "5": "KILLED"}
    try:
        return RunStatus(by_number.get(value, value))
    except ValueError:
        raise InvalidArgument(f"Invalid value {value!r} for parameter 'status' supplied.") from None


def run_answer(r: Run, tracking: Tracking, models: LoggedModels) -> dict[str, object]:
    """``{"run": ...}`` with the data sets the run used and the models it produced."""
    return {"run": run_messages([r], tracking, models)[0]}


def run_messages(
    runs: Sequence[Run], tracking: Tracking, models: LoggedModels
) -> list[dict[str, object]]:
    """``Run`` messages for a page of runs: their inputs and outputs loaded in one query each."""
    ids = [r.run_id for r in runs]
    inputs = tracking.run_inputs(ids)
    outputs = models.run_outputs(ids)
    return [_wire.run(r, outputs[r.run_id], inputs[r.run_id]) for r in runs]


@router.post("/runs/create")
def create_run(
    workspace: WriteWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """Start a run; ``run_name`` (or tag ``mlflow.runName``) names it, else a name is made."""
    tags = dict(msg.pairs("tags"))
    name = msg.text("run_name") or tags.get(RUN_NAME_TAG) or None
    tags.pop(RUN_NAME_TAG, None)
    user = msg.text("user_id")
    if user and USER_TAG not in tags:
        tags[USER_TAG] = user
    r = tracking.create_run(
        workspace,
        msg.text("experiment_id") or "0",
        name,
        msg.integer("start_time"),
        tags.get(PARENT_TAG),
        tags,
    )
    return answer(run_answer(r, tracking, models))


@router.get("/runs/get")
def get_run(
    workspace: ReadWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """One run: info, params, tags and the latest value of each metric."""
    return answer(run_answer(tracking.get_run(workspace, msg.run_id()), tracking, models))


@router.post("/runs/update")
def update_run(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """End or rename a run."""
    r = tracking.update_run(
        workspace,
        msg.run_id(),
        run_status(msg.text("status")),
        msg.integer("end_time"),
        msg.text("run_name"),
    )
    return answer({"run_info": _wire.run_info(r)})


@router.post("/runs/delete")
def delete_run(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Soft-delete."""
    tracking.delete_run(workspace, msg.need("run_id"))
    return answer()


@router.post("/runs/restore")
def restore_run(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Undo a delete."""
    tracking.restore_run(workspace, msg.need("run_id"))
    return answer()


@router.post("/runs/search")
def search_runs(
    workspace: ReadWorkspace, msg: Msg, tracking: Tracking, models: LoggedModels
) -> Response:
    """Runs matching MLflow's filter grammar, in ``order_by`` order, a page at a time."""
    max_results = msg.integer("max_results") or 1000
    if not 1 <= max_results <= MAX_SEARCH_RESULTS:
        raise InvalidArgument(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {MAX_SEARCH_RESULTS}"
        )
    view = view_type(msg.text("run_view_type"))
    extra = []
    if view == "DELETED_ONLY":
        extra.append(Comparison("attribute", "lifecycle_stage", "=", "deleted"))
    page = tracking.search_runs(
        workspace,
        [str(i) for i in msg.items("experiment_ids")],
        run_filter(msg.text("filter"), extra),
        run_order_by([str(o) for o in msg.items("order_by")]),
        max_results,
        msg.text("page_token"),
        include_deleted=view != "ACTIVE_ONLY",
    )
    body: dict[str, object] = {"runs": run_messages(page.items, tracking, models)}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return answer(body)


@router.get("/metrics/get-history")
def metric_history(workspace: ReadWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Every point of one metric, by step then time (``{}`` for an unknown run, as MLflow)."""
    run_id = msg.run_id()
    key = msg.need("metric_key")
    try:
        page = tracking.metric_history(
            workspace, run_id, key, msg.integer("max_results") or 25_000, msg.text("page_token")
        )
    except NotFound:
        return answer()
    body: dict[str, object] = {"metrics": [_wire.metric(m) for m in page.items]}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return answer(body)
