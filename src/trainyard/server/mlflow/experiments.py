"""MLflow's experiment routes, on Trainyard's tracking service."""

from __future__ import annotations

from fastapi import APIRouter, Response

from trainyard.core.entities import Experiment, LifecycleStage
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import InvalidArgument
from trainyard.server.deps import Tracking
from trainyard.server.mlflow import _wire
from trainyard.server.mlflow._deps import Msg, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._search import search_experiments
from trainyard.server.mlflow._wire import ARTIFACTS_SCHEME, answer

router = APIRouter(route_class=MlflowRoute)

VIEW_TYPES = {"ACTIVE_ONLY": "1", "DELETED_ONLY": "2", "ALL": "3"}


def view_type(value: str | None) -> str:
    """``ACTIVE_ONLY``, ``DELETED_ONLY`` or ``ALL`` from a name or the enum's number."""
    if value is None:
        return "ACTIVE_ONLY"
    for name, number in VIEW_TYPES.items():
        if value in (name, number):
            return name
    raise InvalidArgument(f"Invalid value {value!r} for the view type")


def _location(value: str | None) -> str | None:
    """The artifact key for a requested ``artifact_location`` (ours, or a relative key)."""
    if value is None:
        return None
    if value.startswith(ARTIFACTS_SCHEME):
        return value[len(ARTIFACTS_SCHEME) :].lstrip("/") or None
    if "://" in value or value.startswith(("/", "file:")):
        raise InvalidArgument(
            f"artifact_location {value!r}: Trainyard keeps artifacts in its own store; give a "
            "relative key, an mlflow-artifacts:/ URI, or nothing"
        )
    return value


@router.post("/experiments/create")
def create_experiment(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """A new experiment; RESOURCE_ALREADY_EXISTS (400) if the name is taken."""
    name = msg.need("name")
    e = tracking.create_experiment(
        workspace, name, dict(msg.pairs("tags")), _location(msg.text("artifact_location"))
    )
    return answer({"experiment_id": e.experiment_id})


@router.get("/experiments/get")
def get_experiment(workspace: ReadWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """One experiment by id."""
    experiment_id = msg.need("experiment_id")
    return answer(
        {"experiment": _wire.experiment(tracking.get_experiment(workspace, experiment_id))}
    )


@router.get("/experiments/get-by-name")
def get_experiment_by_name(workspace: ReadWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """One experiment by name (RESOURCE_DOES_NOT_EXIST makes the client answer None)."""
    name = msg.need("experiment_name")
    return answer(
        {"experiment": _wire.experiment(tracking.get_experiment_by_name(workspace, name))}
    )


def _all_experiments(tracking: Tracking, workspace: str, include_deleted: bool) -> list[Experiment]:
    out: list[Experiment] = []
    token = None
    while True:
        page = tracking.list_experiments(workspace, None, include_deleted, 50_000, token)
        out.extend(e for e, _n, _last in page.items)
        token = page.next_page_token
        if token is None:
            return out


@router.api_route("/experiments/search", methods=["GET", "POST"])
def search(workspace: ReadWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Experiments matching ``filter``, in ``order_by`` order, a page at a time."""
    max_results = msg.integer("max_results") or 1000
    if not 1 <= max_results <= 50_000:
        raise InvalidArgument(
            f"Invalid value {max_results} for parameter 'max_results' supplied: "
            "it must be at most 50000"
        )
    view = view_type(msg.text("view_type"))
    experiments = _all_experiments(tracking, workspace, include_deleted=view != "ACTIVE_ONLY")
    if view == "DELETED_ONLY":
        experiments = [e for e in experiments if e.lifecycle_stage == LifecycleStage.DELETED]
    found = search_experiments(
        experiments, msg.text("filter"), [str(o) for o in msg.items("order_by")]
    )
    offset = decode_token(msg.text("page_token"))
    page = found[offset : offset + max_results]
    body: dict[str, object] = {"experiments": [_wire.experiment(e) for e in page]}
    if offset + max_results < len(found):
        body["next_page_token"] = encode_token(offset + max_results)
    return answer(body)


@router.post("/experiments/update")
def update_experiment(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Rename."""
    experiment_id = msg.need("experiment_id")
    tracking.update_experiment(workspace, experiment_id, msg.text("new_name"))
    return answer()


@router.post("/experiments/delete")
def delete_experiment(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Soft-delete; the name stays taken until it is restored."""
    experiment_id = msg.need("experiment_id")
    tracking.delete_experiment(workspace, experiment_id)
    return answer()


@router.post("/experiments/restore")
def restore_experiment(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Undo a delete."""
    experiment_id = msg.need("experiment_id")
    tracking.restore_experiment(workspace, experiment_id)
    return answer()


@router.post("/experiments/set-experiment-tag")
def set_experiment_tag(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Set one tag."""
    experiment_id = msg.need("experiment_id")
    key = msg.need("key")
    tracking.update_experiment(workspace, experiment_id, tags={key: msg.text("value") or ""})
    return answer()


@router.post("/experiments/delete-experiment-tag")
def delete_experiment_tag(workspace: WriteWorkspace, msg: Msg, tracking: Tracking) -> Response:
    """Remove one tag."""
    experiment_id = msg.need("experiment_id")
    key = msg.need("key")
    tracking.delete_experiment_tag(workspace, experiment_id, key)
    return answer()
