"""Experiments of a workspace."""

from __future__ import annotations

from fastapi import APIRouter, Query

from trainyard.core.entities import Experiment as ExperimentEntity
from trainyard.schemas import Experiment, ExperimentCreate, ExperimentList, ExperimentUpdate
from trainyard.server.deps import ReadableWorkspace, Tracking, WritableWorkspace

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/experiments", tags=["experiments"])


def _out(e: ExperimentEntity) -> Experiment:
    return Experiment.model_validate(e)


@router.get("", response_model=ExperimentList)
def list_experiments(
    workspace: ReadableWorkspace,
    tracking: Tracking,
    name_contains: str | None = None,
    include_deleted: bool = False,
    max_results: int = Query(100, ge=1, le=50_000),
    page_token: str | None = None,
) -> ExperimentList:
    """Experiments by name, with run counts and last activity."""
    page = tracking.list_experiments(
        workspace, name_contains, include_deleted, max_results, page_token
    )
    items = []
    for e, n, last in page.items:
        out = _out(e)
        out.run_count, out.last_activity = n, last
        items.append(out)
    return ExperimentList(experiments=items, next_page_token=page.next_page_token)


@router.post("", response_model=Experiment, status_code=201)
def create_experiment(
    workspace: WritableWorkspace, body: ExperimentCreate, tracking: Tracking
) -> Experiment:
    """Create an experiment (409 if the name is taken)."""
    return _out(tracking.create_experiment(workspace, body.name, body.tags, body.artifact_location))


@router.get("/by-name", response_model=Experiment)
def get_experiment_by_name(
    workspace: ReadableWorkspace, tracking: Tracking, name: str
) -> Experiment:
    """The experiment with that name."""
    return _out(tracking.get_experiment_by_name(workspace, name))


@router.get("/{experiment_id}", response_model=Experiment)
def get_experiment(
    workspace: ReadableWorkspace, experiment_id: str, tracking: Tracking
) -> Experiment:
    """One experiment."""
    return _out(tracking.get_experiment(workspace, experiment_id))


@router.patch("/{experiment_id}", response_model=Experiment)
def update_experiment(
    workspace: WritableWorkspace, experiment_id: str, body: ExperimentUpdate, tracking: Tracking
) -> Experiment:
    """Rename and/or set tags."""
    return _out(tracking.update_experiment(workspace, experiment_id, body.name, body.tags))


@router.delete("/{experiment_id}", response_model=Experiment)
def delete_experiment(
    workspace: WritableWorkspace, experiment_id: str, tracking: Tracking
) -> Experiment:
    """Soft-delete (restorable)."""
    return _out(tracking.delete_experiment(workspace, experiment_id))


@router.post("/{experiment_id}/restore", response_model=Experiment)
def restore_experiment(
    workspace: WritableWorkspace, experiment_id: str, tracking: Tracking
) -> Experiment:
    """Undo a delete."""
    return _out(tracking.restore_experiment(workspace, experiment_id))
