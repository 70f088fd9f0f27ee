"""``trainyard endpoint``: online endpoints, keys, traffic, scoring (``trainyard deployment`` is
in ``deployments.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
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
from trainyard.core.serving import AuthMode, KeyName, parse_shares
from trainyard.errors import InvalidArgument

app = typer.Typer(help="Online endpoints: keys, traffic, scoring.", no_args_is_help=True)

EndpointArg = Annotated[str, typer.Argument(metavar="ENDPOINT", help="The endpoint's name.")]


def batching_text(b: Any) -> str:
    """A deployment's batching setting in a few words ("" when off)."""
    return "" if b is None else f"{b.max_rows} rows / {b.max_wait_us} us"


def _show(e: Any) -> None:
    out.print(f"[bold]{e.name}[/bold]  auth {e.auth.value}  score: POST {e.scoring_path}")
    if e.description:
        out.print(e.description)
    rows = [
        (
            d.name,
            f"{d.model_name}:{d.model_version}",
            d.model_ref,
            f"{e.traffic.get(d.name, 0)}%",
            f"{e.mirror[d.name]}%" if d.name in e.mirror else "",
            d.replicas,
            f"{d.limits.max_rows} rows, {d.limits.max_body_bytes} B, {d.limits.timeout_ms} ms",
            "yes" if d.log_requests else "",
            batching_text(d.batching),
        )
        for d in e.deployments
    ]
    columns = [
        "deployment",
        "model",
        "as given",
        "traffic",
        "mirror",
        "replicas",
        "limits",
        "log",
        "batching",
    ]
    table("Deployments", columns, rows)


@app.command("create")
@handle_errors
def create(
    name: EndpointArg,
    auth: Annotated[AuthMode, typer.Option(help="key: Bearer key required; none: open.")] = (
        AuthMode.KEY
    ),
    description: Annotated[str, typer.Option(help="What it serves.")] = "",
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an endpoint (then add a deployment to it)."""
    e = connect(uri, workspace, token).endpoints.create(name, auth=auth, description=description)
    if as_json:
        print_json(e.model_dump(mode="json"))
        return
    out.print(f"created endpoint {e.name} (auth {e.auth.value}); score at POST {e.scoring_path}")
    if e.auth is AuthMode.KEY:
        out.print(f"its keys: trainyard endpoint keys {e.name}")


@app.command("show")
@handle_errors
def show(
    name: EndpointArg,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """An endpoint with its deployments and traffic."""
    e = connect(uri, workspace, token).endpoints.get(name)
    if as_json:
        print_json(e.model_dump(mode="json"))
        return
    _show(e)


@app.command("list")
@handle_errors
def list_endpoints(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The workspace's endpoints."""
    found = connect(uri, workspace, token).endpoints.list()
    if as_json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    table(
        "Endpoints",
        ["name", "auth", "traffic", "mirror", "updated"],
        [
            (
                e.name,
                e.auth.value,
                " ".join(f"{k}={v}" for k, v in e.traffic.items() if v),
                " ".join(f"{k}={v}" for k, v in e.mirror.items()),
                when(e.updated_at),
            )
            for e in found
        ],
    )


@app.command("delete")
@handle_errors
def delete(
    name: EndpointArg,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Delete an endpoint and its deployments."""
    connect(uri, workspace, token).endpoints.delete(name)
    out.print(f"deleted endpoint {name}")


@app.command("keys")
@handle_errors
def keys(
    name: EndpointArg,
    regenerate: Annotated[
        KeyName | None, typer.Option(help="Replace this key first (the other keeps working).")
    ] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The primary and secondary scoring keys (send one as 'Authorization: Bearer KEY')."""
    endpoints = connect(uri, workspace, token).endpoints
    found = endpoints.regenerate_key(name, regenerate) if regenerate else endpoints.keys(name)
    if as_json:
        print_json({"primary": found.primary, "secondary": found.secondary})
        return
    table("Keys", ["key", "value"], [("primary", found.primary), ("secondary", found.secondary)])


@app.command("traffic")
@handle_errors
def traffic(
    name: EndpointArg,
    shares: Annotated[
        list[str] | None, typer.Argument(metavar="DEPLOYMENT=PERCENT...", help="e.g. blue=90")
    ] = None,
    mirror: Annotated[
        str | None, typer.Option(help="Copy a share to a deployment: green=10 (green=0: stop).")
    ] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set the traffic split at once (whole percents summing to 100), or show it."""
    endpoints = connect(uri, workspace, token).endpoints
    if shares:
        mirrored = None if mirror is None else parse_shares([mirror])
        e = endpoints.traffic(name, parse_shares(shares), mirror=mirrored)
    elif mirror is not None:
        raise InvalidArgument("give the traffic shares too (e.g. blue=100 --mirror green=10)")
    else:
        e = endpoints.get(name)
    if as_json:
        print_json({"traffic": e.traffic, "mirror": e.mirror})
        return
    line = " ".join(f"{k}={v}" for k, v in e.traffic.items())
    out.print(f"{e.name}: {line or 'no deployments'}")
    if e.mirror:
        out.print("mirror: " + " ".join(f"{k}={v}" for k, v in e.mirror.items()))


@app.command("invoke")
@handle_errors
def invoke(
    name: EndpointArg,
    data: Annotated[Path, typer.Option("--data", "-d", help="A JSON request body file.")],
    deployment: Annotated[str | None, typer.Option(help="Send it to this deployment.")] = None,
    key: Annotated[
        str | None, typer.Option(envvar="TRAINYARD_ENDPOINT_KEY", help="Endpoint key.")
    ] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Score a JSON file (rows, records or columns) and print the answer."""
    try:
        doc = orjson.loads(data.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidArgument(f"cannot read {str(data)!r} as JSON: {exc}") from None
    answer = connect(uri, workspace, token).endpoints.invoke(
        name, doc, deployment=deployment, key=key
    )
    print_json(answer)
