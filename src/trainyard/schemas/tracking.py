"""Request and response models of the tracking API, named as a ladder (Create, Update, List)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from trainyard.core.entities import LifecycleStage, RunStatus
from trainyard.core.limits import MAX_METRICS_PER_BATCH, MAX_PARAMS_PER_BATCH, MAX_TAGS_PER_BATCH

Name = Annotated[str, Field(min_length=1, max_length=250)]
Millis = Annotated[int, Field(ge=0, le=2**63 - 1, description="UTC milliseconds")]
Step = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class _Public(BaseModel):
    # NaN and infinities travel as the strings "NaN", "Infinity", "-Infinity" (valid JSON).
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class ExperimentCreate(BaseModel):
    """Body of ``POST /experiments``."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    tags: dict[str, str] = Field(default_factory=dict)
    artifact_location: str | None = None


class ExperimentUpdate(BaseModel):
    """Body of ``PATCH /experiments/{id}``: a new name and/or tags to set."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    tags: dict[str, str] | None = None


class Experiment(_Public):
    """An experiment as the API shows it."""

    experiment_id: str
    workspace: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    tags: dict[str, str] = Field(default_factory=dict)
    run_count: int | None = None
    last_activity: int | None = None


class ExperimentList(BaseModel):
    """A page of experiments."""

    experiments: list[Experiment]
    next_page_token: str | None = None


class RunCreate(BaseModel):
    """Body of ``POST /runs``."""

    model_config = ConfigDict(extra="forbid")
    experiment_id: str
    name: str | None = Field(default=None, max_length=250)
    start_time: Millis | None = None
    parent_run_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RunUpdate(BaseModel):
    """Body of ``PATCH /runs/{id}``: end a run, rename it, or both."""

    model_config = ConfigDict(extra="forbid")
    status: RunStatus | None = None
    end_time: Millis | None = None
    name: str | None = Field(default=None, max_length=250)
    status_message: str | None = Field(default=None, max_length=8000)


class Metric(_Public):
    """One point of a metric history."""

    key: str
    value: float
    timestamp: int
    step: int


class MetricIn(BaseModel):
    """One metric value to log; ``timestamp`` defaults to the server's clock, ``step`` to 0."""

    key: str
    value: float
    timestamp: Millis | None = None
    step: Step = 0


class RunDatasetInput(BaseModel):
    """A data set a run used (logged with ``mlflow.log_input``), as MLflow describes it.

    ``source`` is the JSON MLflow writes for ``source_type`` (a path, a URL, a table);
    ``schema`` and ``profile`` are JSON text too, or None. ``context`` is what the run used it
    for (``training``, ``eval``..., the ``mlflow.data.context`` input tag); ``tags`` holds the
    input's other tags. In Python the schema is ``schema_`` (``schema`` is pydantic's).
    """

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    name: str
    digest: str
    source_type: str
    source: str
    schema_: str | None = Field(default=None, alias="schema")
    profile: str | None = None
    context: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RunModelInput(BaseModel):
    """A logged model a run used as an input (``log_inputs(models=...)`` in MLflow 3)."""

    model_id: str


class RunInputs(BaseModel):
    """What a run used, each in the order first logged; both lists are empty for most runs."""

    datasets: list[RunDatasetInput] = Field(default_factory=list)
    models: list[RunModelInput] = Field(default_factory=list)


class Run(_Public):
    """A run with its params, tags, the latest value of each metric, and its inputs."""

    run_id: str
    experiment_id: str
    workspace: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None = None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    parent_run_id: str | None = None
    status_message: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(default_factory=dict)
    inputs: RunInputs = Field(default_factory=RunInputs)


class RunList(BaseModel):
    """A page of runs."""

    runs: list[Run]
    next_page_token: str | None = None


class RunSearch(BaseModel):
    """Body of ``POST /runs/search``."""

    model_config = ConfigDict(extra="forbid")
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: str | None = None
    include_deleted: bool = False


class LogBatch(BaseModel):
    """Body of ``POST /runs/{id}/log-batch``: metrics, params and tags in one call."""

    model_config = ConfigDict(extra="forbid")
    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_METRICS_PER_BATCH)
    params: dict[str, str] = Field(default_factory=dict, max_length=MAX_PARAMS_PER_BATCH)
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS_PER_BATCH)


class LogBatchResult(BaseModel):
    """What a batch stored: counts, so that a client can account for every value."""

    metrics: int
    params: int
    tags: int


class MetricHistory(BaseModel):
    """A page of one metric's history, in step then timestamp order."""

    key: str
    metrics: list[Metric]
    next_page_token: str | None = None


class ArtifactFile(_Public):
    """A file or folder under a run's artifacts."""

    path: str
    is_dir: bool
    size: int | None = None


class ArtifactList(BaseModel):
    """The entries directly below ``path`` (or all files below it, when listed recursively)."""

    root: str
    path: str
    files: list[ArtifactFile]
