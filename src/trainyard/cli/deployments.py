"""``trainyard deployment``: deploy model versions under endpoints, update, roll back, delete.

Exit codes are those of every command (``_common.handle_errors``): a rollback with no earlier
version is a conflict (4), one to a version deleted from the registry is not found (3).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from trainyard.cli._common import (
    JsonOption,
    TokenOption,
    UriOption,
    WorkspaceOption,
    connect,
    handle_errors,
    out,
    print_json,
    table,
    when,
)
from trainyard.cli.endpoints import EndpointArg, batching_text
from trainyard.errors import InvalidArgument

deployment_app = typer.Typer(help="Deployments of online endpoints.", no_args_is_help=True)

DeploymentArg = Annotated[str, typer.Argument(metavar="DEPLOYMENT", help="The deployment.")]
Replicas = Annotated[int | None, typer.Option(help="Sessions (and threads) serving it.")]
MaxRows = Annotated[int | None, typer.Option(help="Most rows in one request.")]
MaxBody = Annotated[int | None, typer.Option(help="Largest request body, in bytes.")]
Timeout = Annotated[int | None, typer.Option(help="Longest run of one request, in ms.")]
BatchRows = Annotated[
    int | None,
    typer.Option(help="Batch small concurrent requests: run a batch once it holds N rows."),
]
BatchWait = Annotated[
    int | None,
    typer.Option(
        help="Batch small concurrent requests: run a batch US microseconds after its first request."
    ),
]
BatchingFlag = Annotated[
    bool | None,
    typer.Option(
        "--batching/--no-batching",
        help="Switch dynamic batching on (defaults: 32 rows, 500 us) or off.",
    ),
]


def _batching(on: bool | None, max_rows: int | None, wait_us: int | None) -> Any:
    """The SDK's ``batching`` argument for the flags: None (unchanged), False (off) or the
    keys given (on)."""
    given = {"max_rows": max_rows, "max_wait_us": wait_us}
    fields = {k: v for k, v in given.items() if v is not None}
    if on is False:
        if fields:
            raise InvalidArgument("--no-batching takes no --batch-max-rows or --batch-wait-us")
        return False
    return fields if fields or on else None


@deployment_app.command("create")
@handle_errors
def create_deployment(
    endpoint: EndpointArg,
    name: DeploymentArg,
    model: Annotated[str, typer.Option(help="NAME:VERSION, NAME@ALIAS or NAME.")],
    replicas: Replicas = 1,
    max_rows: MaxRows = None,
    max_body_bytes: MaxBody = None,
    timeout_ms: Timeout = None,
    log_requests: Annotated[bool, typer.Option(help="Log scored inputs and outputs.")] = False,
    batching: BatchingFlag = None,
    batch_max_rows: BatchRows = None,
    batch_wait_us: BatchWait = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy a model version under an endpoint (loaded and warm before it takes traffic)."""
    batched = _batching(batching, batch_max_rows, batch_wait_us)
    d = connect(uri, workspace, token).endpoints.deployments.create(
        endpoint,
        name,
        model,
        replicas=replicas or 1,
        max_rows=max_rows,
        max_body_bytes=max_body_bytes,
        timeout_ms=timeout_ms,
        log_requests=log_requests,
        batching=None if batched is False else batched,
    )
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    out.print(f"deployed {d.model_name}:{d.model_version} as {endpoint}/{d.name}")
    if d.batching is not None:
        out.print(f"batching: {batching_text(d.batching)}")


@deployment_app.command("update")
@handle_errors
def update_deployment(
    endpoint: EndpointArg,
    name: DeploymentArg,
    model: Annotated[str | None, typer.Option(help="A new model reference.")] = None,
    replicas: Replicas = None,
    max_rows: MaxRows = None,
    max_body_bytes: MaxBody = None,
    timeout_ms: Timeout = None,
    log_requests: Annotated[bool | None, typer.Option(help="Log scored requests.")] = None,
    batching: BatchingFlag = None,
    batch_max_rows: BatchRows = None,
    batch_wait_us: BatchWait = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a deployment; a new model takes over once warm, the old one drains."""
    batched = _batching(batching, batch_max_rows, batch_wait_us)
    d = connect(uri, workspace, token).endpoints.deployments.update(
        endpoint,
        name,
        model=model,
        replicas=replicas,
        max_rows=max_rows,
        max_body_bytes=max_body_bytes,
        timeout_ms=timeout_ms,
        log_requests=log_requests,
        batching=batched,
    )
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    out.print(f"updated {endpoint}/{d.name}: {d.model_name}:{d.model_version}")
    out.print(f"batching: {batching_text(d.batching) or 'off'}")


@deployment_app.command("delete")
@handle_errors
def delete_deployment(
    endpoint: EndpointArg,
    name: DeploymentArg,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Delete a deployment that takes no traffic (it finishes its requests first)."""
    connect(uri, workspace, token).endpoints.deployments.delete(endpoint, name)
    out.print(f"deleted deployment {endpoint}/{name}")


@deployment_app.command("rollback")
@handle_errors
def rollback_deployment(
    endpoint: EndpointArg,
    name: DeploymentArg,
    to_version: Annotated[
        int | None,
        typer.Option(help="Go back to this model version (default: the one served before)."),
    ] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve the previous model version again (loaded and warm before it takes over)."""
    d = connect(uri, workspace, token).endpoints.deployments.rollback(
        endpoint, name, to_version=to_version
    )
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    out.print(f"rolled back {endpoint}/{d.name} to {d.model_name}:{d.model_version}")


@deployment_app.command("history")
@handle_errors
def deployment_history(
    endpoint: EndpointArg,
    name: DeploymentArg,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The model versions a deployment served, newest first (the first one serves now)."""
    found = connect(uri, workspace, token).endpoints.deployments.history(endpoint, name)
    if as_json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    table(
        f"History of {endpoint}/{name}",
        ["when", "model", "as given", "why"],
        [
            (when(e.at), f"{e.model_name}:{e.model_version}", e.model_ref, e.reason.value)
            for e in found
        ],
    )
