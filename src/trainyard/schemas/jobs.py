"""Wire models of command jobs, with the field names of the cloud job schema users know.

``JobCreate`` is the document a client submits (YAML for the CLI, JSON for the API); unknown
keys are refused (``extra="forbid"``), so a misspelt key is a precise 400 naming it. ``Job`` is
the same document as submitted, with where the job is: its status and history, its run and what
its references resolved to.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from trainyard.core.jobs import JobStatus
from trainyard.schemas.sweeps import (
    Distribution,
    EarlyTermination,
    Objective,
    SamplingField,
    SweepLimits,
    SweepTrial,
    TrialCommand,
)

JobName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,249}$")]


class JobInput(BaseModel):
    """A data input: a data asset (``name:version`` or ``name@latest``), a path in a datastore
    (``datastore://<datastore>/<path>``, read directly) or an http(s) URL.

    The CLI and SDK also take a local file or folder here, upload it and put the asset they
    registered in its place. Any other path (``s3://...``, ``/srv/...``) is refused: register a
    datastore over it.
    """

    model_config = ConfigDict(extra="forbid")
    type: Literal["uri_file", "uri_folder", "table"] = "uri_folder"
    path: str = Field(min_length=1)
    mode: Literal["ro_mount", "download"] = "ro_mount"
    description: str | None = None


class JobOutput(BaseModel):
    """A folder the job writes; kept as ``outputs/<name>/`` among its run's artifacts.

    With ``name`` and ``version`` the folder is registered as the ``uri_folder`` data asset
    ``name:version`` when the job completes (the version must not exist yet).
    """

    model_config = ConfigDict(extra="forbid")
    type: Literal["uri_folder"] = "uri_folder"
    mode: Literal["rw_mount", "upload"] = "rw_mount"
    description: str | None = None
    name: str | None = Field(default=None, max_length=250)
    version: str | None = Field(default=None, max_length=64)


class JobLimits(BaseModel):
    """Bounds on a job: ``timeout`` in seconds, after which it is ended and Failed."""

    model_config = ConfigDict(extra="forbid")
    timeout: int | None = Field(default=None, gt=0)


def _input_kind(value: Any) -> str:
    return "data" if isinstance(value, dict | JobInput) else "literal"


InputValue = Annotated[
    Annotated[JobInput, Tag("data")] | Annotated[bool | int | float | str, Tag("literal")],
    Discriminator(_input_kind),
]
"""An input: a data input (a mapping with ``type`` and ``path``) or a literal value."""


class JobCreate(BaseModel):
    """A command job as submitted (``PUT /jobs/{name}``, ``POST /jobs``, ``job.yml``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_url: str | None = Field(default=None, alias="$schema", exclude=True)
    name: JobName | None = None
    type: Literal["command"] = "command"
    command: str = Field(min_length=1, max_length=100_000)
    code: str | None = None
    environment: str = "python"
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    outputs: dict[str, JobOutput | None] = Field(default_factory=dict)
    compute: str = "local"
    experiment_name: str | None = Field(default=None, max_length=250)
    display_name: str | None = Field(default=None, max_length=250)
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    environment_variables: dict[str, str] = Field(default_factory=dict)
    limits: JobLimits | None = None


class JobStatusChange(BaseModel):
    """One step of a job's history (UTC milliseconds)."""

    model_config = ConfigDict(from_attributes=True)
    status: JobStatus
    time: int
    message: str | None = None


class Job(JobCreate):
    """A job: its document as submitted, plus its status, history, run and resolved assets."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    name: str
    status: JobStatus
    status_history: list[JobStatusChange] = Field(default_factory=list)
    run_id: str | None = None
    experiment_id: str | None = None
    resolved: dict[str, Any] = Field(default_factory=dict)
    exit_code: int | None = None
    error: str | None = None
    created_at: int
    updated_at: int


class SweepJobCreate(BaseModel):
    """A sweep job as submitted: trials of ``trial`` over ``search_space`` (``docs/sweeps.md``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_url: str | None = Field(default=None, alias="$schema", exclude=True)
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")] | None = None
    type: Literal["sweep"]
    trial: TrialCommand
    inputs: dict[str, InputValue] = Field(default_factory=dict)
    outputs: dict[str, JobOutput | None] = Field(default_factory=dict)
    compute: str = "local"
    experiment_name: str | None = Field(default=None, max_length=250)
    display_name: str | None = Field(default=None, max_length=250)
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    sampling_algorithm: SamplingField
    search_space: dict[str, Distribution] = Field(min_length=1, max_length=100)
    objective: Objective
    limits: SweepLimits = Field(default_factory=SweepLimits)
    early_termination: EarlyTermination | None = None


class SweepJob(SweepJobCreate):
    """A sweep: its document as submitted, where it is, its trials and the best of them."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    name: str
    status: JobStatus
    status_history: list[JobStatusChange] = Field(default_factory=list)
    run_id: str | None = None
    experiment_id: str | None = None
    resolved: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: int
    updated_at: int
    trials: list[SweepTrial] = Field(default_factory=list)
    best_trial: SweepTrial | None = None


def _job_type(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if isinstance(kind, str) else "command"


JobDocument = Annotated[
    Annotated[JobCreate, Tag("command")] | Annotated[SweepJobCreate, Tag("sweep")],
    Discriminator(
        _job_type,
        custom_error_type="job_type",
        custom_error_message="type must be 'command' (the default) or 'sweep'",
    ),
]
"""Any job as submitted: a command job, or a sweep (``type: sweep``)."""

AnyJob = Annotated[
    Annotated[Job, Tag("command")] | Annotated[SweepJob, Tag("sweep")],
    Discriminator(_job_type),
]
"""Any job as shown: a command job, or a sweep with its trials."""


class JobList(BaseModel):
    """A page of jobs, newest first."""

    jobs: list[AnyJob]
    next_page_token: str | None = None
