"""Online endpoints: endpoints, their keys and traffic, and their deployments.

Scoring itself is not here: it is served at the root (``/endpoints/{name}/score``, ``/v2/...``)
by ``server/scoring.py``, outside ``/api/v1``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from trainyard.core.serving import Batching as BatchingEntity
from trainyard.core.serving import Deployment as DeploymentEntity
from trainyard.core.serving import Endpoint as EndpointEntity
from trainyard.core.serving import RequestLimits
from trainyard.schemas.serving import (
    Batching,
    Deployment,
    DeploymentCreate,
    DeploymentEvent,
    DeploymentHistory,
    DeploymentRollback,
    DeploymentUpdate,
    Endpoint,
    EndpointCreate,
    EndpointKeys,
    EndpointList,
    EndpointUpdate,
    KeyRegenerate,
    Limits,
    TrafficSet,
)
from trainyard.server.deps import ReadableWorkspace, Serving, WritableWorkspace

router = APIRouter(prefix="/api/v1/workspaces/{workspace}/endpoints", tags=["endpoints"])

MaxResults = Annotated[int, Query(ge=1, le=1000)]


def _deployment(d: DeploymentEntity) -> Deployment:
    return Deployment.model_validate(d)


def endpoint_out(e: EndpointEntity) -> Endpoint:
    """The wire form of an endpoint: without its keys (also what the studio's pages show)."""
    return Endpoint(
        workspace=e.workspace,
        name=e.name,
        auth=e.auth,
        description=e.description,
        traffic=e.traffic,
        mirror=e.mirror,
        deployments=[_deployment(d) for _, d in sorted(e.deployments.items())],
        scoring_path=f"/endpoints/{e.name}/score",
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


def _limits(limits: Limits | None) -> RequestLimits | None:
    return None if limits is None else RequestLimits(**limits.model_dump())


def _batching(batching: Batching | None) -> BatchingEntity | None:
    return None if batching is None else BatchingEntity(**batching.model_dump())


def _batching_change(body: DeploymentUpdate) -> BatchingEntity | Literal[False] | None:
    """None: keep (left out); False: switch off (``null``); else the new setting."""
    if "batching" not in body.model_fields_set:
        return None
    return _batching(body.batching) or False


@router.post("", response_model=Endpoint, status_code=201)
def create_endpoint(
    workspace: WritableWorkspace, body: EndpointCreate, serving: Serving
) -> Endpoint:
    """Create an endpoint (409 if the name is taken); its keys are in ``/keys``."""
    return endpoint_out(serving.create_endpoint(workspace, body.name, body.auth, body.description))


@router.get("", response_model=EndpointList)
def list_endpoints(
    workspace: ReadableWorkspace,
    serving: Serving,
    max_results: MaxResults = 100,
    page_token: str | None = None,
) -> EndpointList:
    """The workspace's endpoints by name, with their deployments and traffic."""
    page = serving.list_endpoints(workspace, max_results, page_token)
    return EndpointList(
        endpoints=[endpoint_out(e) for e in page.items], next_page_token=page.next_page_token
    )


@router.get("/{name}", response_model=Endpoint)
def get_endpoint(workspace: ReadableWorkspace, name: str, serving: Serving) -> Endpoint:
    """One endpoint."""
    return endpoint_out(serving.get_endpoint(workspace, name))


@router.patch("/{name}", response_model=Endpoint)
def update_endpoint(
    workspace: WritableWorkspace, name: str, body: EndpointUpdate, serving: Serving
) -> Endpoint:
    """Change the auth mode and/or the description."""
    return endpoint_out(serving.update_endpoint(workspace, name, body.auth, body.description))


@router.delete("/{name}", status_code=204)
def delete_endpoint(workspace: WritableWorkspace, name: str, serving: Serving) -> None:
    """Delete the endpoint and its deployments (requests in flight finish first)."""
    serving.delete_endpoint(workspace, name)


@router.get("/{name}/keys", response_model=EndpointKeys)
def get_keys(workspace: WritableWorkspace, name: str, serving: Serving) -> EndpointKeys:
    """Both scoring keys (contributors only: readers cannot score with them)."""
    return EndpointKeys.model_validate(serving.keys(workspace, name))


@router.post("/{name}/keys/regenerate", response_model=EndpointKeys)
def regenerate_key(
    workspace: WritableWorkspace, name: str, body: KeyRegenerate, serving: Serving
) -> EndpointKeys:
    """Replace the primary or secondary key; the other keeps working."""
    return EndpointKeys.model_validate(serving.regenerate_key(workspace, name, body.key))


@router.put("/{name}/traffic", response_model=Endpoint)
def set_traffic(
    workspace: WritableWorkspace, name: str, body: TrafficSet, serving: Serving
) -> Endpoint:
    """Replace the traffic shares (whole percents summing to 100) and, if given, the mirror."""
    return endpoint_out(serving.set_traffic(workspace, name, body.traffic, body.mirror))


@router.post("/{name}/deployments", response_model=Deployment, status_code=201)
def create_deployment(
    workspace: WritableWorkspace, name: str, body: DeploymentCreate, serving: Serving
) -> Deployment:
    """Resolve the model, load and warm it, then add the deployment (0% of the traffic, or
    100% when it is the endpoint's first); ``batching`` left out or null: off."""
    d = serving.create_deployment(
        workspace,
        name,
        body.name,
        body.model,
        body.replicas,
        _limits(body.limits),
        body.log_requests,
        _batching(body.batching),
    )
    return _deployment(d)


@router.get("/{name}/deployments/{deployment}", response_model=Deployment)
def get_deployment(
    workspace: ReadableWorkspace, name: str, deployment: str, serving: Serving
) -> Deployment:
    """One deployment."""
    return _deployment(serving.get_deployment(workspace, name, deployment))


@router.patch("/{name}/deployments/{deployment}", response_model=Deployment)
def update_deployment(
    workspace: WritableWorkspace,
    name: str,
    deployment: str,
    body: DeploymentUpdate,
    serving: Serving,
) -> Deployment:
    """Change the model (resolved again), replicas, limits, request logging or batching
    (``null`` switches it off); a new model loads and warms before it takes over, and the old
    one drains."""
    d = serving.update_deployment(
        workspace,
        name,
        deployment,
        body.model,
        body.replicas,
        _limits(body.limits),
        body.log_requests,
        _batching_change(body),
    )
    return _deployment(d)


@router.post("/{name}/deployments/{deployment}/rollback", response_model=Deployment)
def rollback_deployment(
    workspace: WritableWorkspace,
    name: str,
    deployment: str,
    serving: Serving,
    body: DeploymentRollback | None = None,
) -> Deployment:
    """Serve again the version served before the current one (or ``to_version``); it loads
    and warms before it takes over, as in an update. 409 when there is no earlier version."""
    to_version = None if body is None else body.to_version
    return _deployment(serving.rollback_deployment(workspace, name, deployment, to_version))


@router.get("/{name}/deployments/{deployment}/history", response_model=DeploymentHistory)
def deployment_history(
    workspace: ReadableWorkspace,
    name: str,
    deployment: str,
    serving: Serving,
    max_results: MaxResults = 100,
    page_token: str | None = None,
) -> DeploymentHistory:
    """The model versions the deployment served, newest first, and why each change was made."""
    page = serving.deployment_history(workspace, name, deployment, max_results, page_token)
    return DeploymentHistory(
        history=[DeploymentEvent.model_validate(e) for e in page.items],
        next_page_token=page.next_page_token,
    )


@router.delete("/{name}/deployments/{deployment}", status_code=204)
def delete_deployment(
    workspace: WritableWorkspace, name: str, deployment: str, serving: Serving
) -> None:
    """Delete a deployment that takes no live traffic (409 otherwise); it drains first."""
    serving.delete_deployment(workspace, name, deployment)
