"""Tracking entities. They map one to one onto MLflow's (experiment and run ids, lifecycle stage).

Times are UTC milliseconds since the epoch. Ids are opaque strings: experiment ids are decimal
strings (MLflow's convention), run ids 32 hex characters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class RunStatus(enum.StrEnum):
    """The lifecycle of a run; the terminal ones set ``end_time``."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


class LifecycleStage(enum.StrEnum):
    """Soft deletion, as MLflow has it: deleted things can be restored."""

    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A namespace for experiments, jobs, models and endpoints."""

    name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs inside a workspace."""

    experiment_id: str
    workspace: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)


class Metric(NamedTuple):
    """One point of a metric's history.

    A named tuple rather than a frozen dataclass: ingest builds one per logged value, and a tuple
    is several times cheaper to make.
    """

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True, slots=True)
class Run:
    """One execution: its status, parameters, tags and the latest value of each metric."""

    run_id: str
    experiment_id: str
    workspace: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    parent_run_id: str | None = None
    status_message: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Dataset:
    """A data set a run used, as MLflow describes it (``mlflow.data``).

    One per experiment for each (name, digest): logging the same data again reuses it.
    ``source`` is the JSON MLflow writes for ``source_type`` (a path, a URL, a table);
    ``schema`` and ``profile`` are JSON too, or None.
    """

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


DATASET_CONTEXT_TAG = "mlflow.data.context"
"""The input tag saying what a data set was used for (``training``, ``eval``...)."""


@dataclass(frozen=True, slots=True)
class DatasetInput:
    """A data set logged as a run's input, with the input's tags (``mlflow.data.context``)."""

    dataset: Dataset
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunInputs:
    """What a run used, each in the order it was first logged: data sets with the input's tags,
    and the ids of logged models (``mlflow.log_input(model=...)`` in MLflow 3)."""

    datasets: list[DatasetInput] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


class LoggedModelStatus(enum.StrEnum):
    """A logged model is PENDING while its files upload, then READY (or FAILED)."""

    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class ModelMetric:
    """A metric point attributed to a logged model (and the run and data set it came from)."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model saved by a run (MLflow 3's "logged model"): files under its own artifact root."""

    model_id: str
    experiment_id: str
    workspace: str
    name: str
    artifact_location: str
    status: LoggedModelStatus
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[ModelMetric] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A file or folder under a run's artifact root."""

    path: str
    is_dir: bool
    size: int | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, and the token of the next (None on the last page)."""

    items: list[T]
    next_page_token: str | None = None
