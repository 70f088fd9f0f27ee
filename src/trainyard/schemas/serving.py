"""Request and response models of the endpoints API (``/endpoints``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from trainyard.core.deployment_history import ChangeReason
from trainyard.core.serving import (
    MAX_BATCH_WAIT_US,
    MAX_BODY_LIMIT,
    MAX_REPLICAS,
    MAX_ROWS_LIMIT,
    MAX_TIMEOUT_MS,
    AuthMode,
    KeyName,
)

ServingName = Annotated[str, Field(min_length=1, max_length=63)]
Percent = Annotated[int, Field(ge=0, le=100)]


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Limits(_Public):
    """Request limits of a deployment."""

    max_rows: int = Field(default=10_000, ge=1, le=MAX_ROWS_LIMIT)
    max_body_bytes: int = Field(default=16 << 20, ge=1, le=MAX_BODY_LIMIT)
    timeout_ms: int = Field(default=10_000, ge=1, le=MAX_TIMEOUT_MS)


class Batching(_Public):
    """Dynamic batching of a deployment's small concurrent requests (null or left out: off).

    A batch runs once it holds ``max_rows`` rows or ``max_wait_us`` after its first request;
    ``max_rows`` may not exceed the deployment's ``limits.max_rows``.
    """

    model_config = ConfigDict(from_attributes=True, extra="forbid")
    max_rows: int = Field(default=32, ge=2, le=MAX_ROWS_LIMIT)
    max_wait_us: int = Field(default=500, ge=1, le=MAX_BATCH_WAIT_US)


class EndpointCreate(BaseModel):
    """Body of ``POST /endpoints``."""

    model_config = ConfigDict(extra="forbid")
    name: ServingName
    auth: AuthMode = AuthMode.KEY
    description: str = Field(default="", max_length=5000)


class EndpointUpdate(BaseModel):
    """Body of ``PATCH /endpoints/{name}``."""

    model_config = ConfigDict(extra="forbid")
    auth: AuthMode | None = None
    description: str | None = Field(default=None, max_length=5000)


class TrafficSet(BaseModel):
    """Body of ``PUT /endpoints/{name}/traffic``: both maps are replaced at once.

    ``mirror`` left out keeps the current mirror (``{}`` removes it).
    """

    model_config = ConfigDict(extra="forbid")
    traffic: dict[str, Percent]
    mirror: dict[str, Percent] | None = None


class KeyRegenerate(BaseModel):
    """Body of ``POST /endpoints/{name}/keys/regenerate``."""

    model_config = ConfigDict(extra="forbid")
    key: KeyName = KeyName.PRIMARY


class EndpointKeys(_Public):
    """The two scoring keys (``Authorization: Bearer <key>``; either works)."""

    primary: str
    secondary: str


class DeploymentCreate(BaseModel):
    """Body of ``POST /endpoints/{name}/deployments``."""

    model_config = ConfigDict(extra="forbid")
    name: ServingName
    model: str = Field(
        min_length=1, max_length=300, description="NAME:VERSION, NAME@ALIAS, NAME or a model id"
    )
    replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS)
    limits: Limits = Field(default_factory=Limits)
    log_requests: bool = False
    batching: Batching | None = None


class DeploymentUpdate(BaseModel):
    """Body of ``PATCH /endpoints/{name}/deployments/{deployment}``: what to change.

    A ``model`` reference is resolved again (``churn@champion`` follows the alias now).
    ``batching`` left out keeps the current setting; ``null`` switches batching off.
    """

    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(default=None, min_length=1, max_length=300)
    replicas: int | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    limits: Limits | None = None
    log_requests: bool | None = None
    batching: Batching | None = None


class Deployment(_Public):
    """A deployment: the model reference as given and the version it was resolved to."""

    name: str
    endpoint: str
    model_ref: str
    model_name: str
    model_version: int
    model_id: str
    replicas: int
    limits: Limits
    log_requests: bool
    batching: Batching | None = None
    created_at: int
    updated_at: int


class DeploymentRollback(BaseModel):
    """Body of ``POST /endpoints/{name}/deployments/{deployment}/rollback`` (optional).

    ``to_version`` left out: the version served before the current one.
    """

    model_config = ConfigDict(extra="forbid")
    to_version: int | None = Field(default=None, ge=1)


class DeploymentEvent(_Public):
    """One entry of a deployment's history: the model version it served from ``at`` on."""

    deployment: str
    model_name: str
    model_version: int
    model_id: str
    model_ref: str = Field(description="the reference as given, e.g. churn@champion")
    reason: ChangeReason
    at: int


class DeploymentHistory(BaseModel):
    """A page of a deployment's history, newest first."""

    history: list[DeploymentEvent]
    next_page_token: str | None = None


class Endpoint(_Public):
    """An endpoint with its deployments and traffic (keys are only in ``/keys``)."""

    workspace: str
    name: str
    auth: AuthMode
    description: str
    traffic: dict[str, int] = Field(default_factory=dict)
    mirror: dict[str, int] = Field(default_factory=dict)
    deployments: list[Deployment] = Field(default_factory=list)
    scoring_path: str = Field(description="POST here to score, e.g. /endpoints/churn/score")
    created_at: int
    updated_at: int


class EndpointList(BaseModel):
    """A page of endpoints."""

    endpoints: list[Endpoint]
    next_page_token: str | None = None
