"""``trainyard model``: register, list, show, download, alias, delete."""

from __future__ import annotations

from pathlib import Path
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
from trainyard.core.model_ref import parse_model_ref

app = typer.Typer(help="Registered models: ONNX versions, aliases, files.", no_args_is_help=True)


def _shape(spec: Any) -> str:
    dims = spec.shape
    return (
        "?" if dims is None else "[" + ", ".join("N" if d is None else str(d) for d in dims) + "]"
    )


@app.command("register")
@handle_errors
def register(
    name: Annotated[str, typer.Argument(help="Registered model name (created if missing).")],
    path: Annotated[Path, typer.Option("--path", "-p", help="The .onnx file to upload.")],
    description: Annotated[str, typer.Option(help="The version's description.")] = "",
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload your own ONNX file as the next version (checked by the server first)."""
    v = connect(uri, workspace, token).models.register(
        name, path, description=description, progress=not as_json
    )
    if as_json:
        print_json(v.info.model_dump(mode="json"))
        return
    out.print(f"registered {v.name}:{v.version}  model_id {v.model_id}")


@app.command("list")
@handle_errors
def list_models(
    name_contains: Annotated[str | None, typer.Option(help="Filter on the name.")] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Registered models with their latest version and aliases."""
    models = connect(uri, workspace, token).models.list(name_contains)
    if as_json:
        print_json([m.model_dump(mode="json") for m in models])
        return
    table(
        "Models",
        ["name", "latest", "versions", "aliases", "updated", "description"],
        [
            (
                m.name,
                m.latest_version,
                m.version_count,
                ", ".join(f"{a}→{v}" for a, v in m.aliases.items()),
                when(m.updated_at),
                m.description,
            )
            for m in models
        ],
    )


@app.command("show")
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="NAME, NAME:VERSION, NAME@ALIAS or a model id.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A model and its versions (NAME), or one version's details."""
    ws = connect(uri, workspace, token)
    parsed = parse_model_ref(ref)
    if parsed.is_latest:
        assert parsed.name is not None
        model = ws.models.get_model(parsed.name)
        versions = [v.info for v in ws.models.versions(parsed.name)]
        if as_json:
            data = model.model_dump(mode="json")
            print_json({**data, "versions": [v.model_dump(mode="json") for v in versions]})
            return
        out.print(f"[bold]{model.name}[/bold]  {model.description}")
        table(
            "Versions",
            ["version", "model id", "status", "source", "aliases", "created", "parity"],
            [
                (
                    v.version,
                    v.model_id,
                    v.status.value + (" (forced)" if v.forced else ""),
                    v.source.value + (f" {v.run_id}" if v.run_id else ""),
                    ", ".join(v.aliases),
                    when(v.created_at),
                    "" if v.parity is None else ("passed" if v.parity.passed else "FAILED"),
                )
                for v in versions
            ],
        )
        return
    info = ws.models.get(ref).info
    if as_json:
        print_json(info.model_dump(mode="json"))
        return
    out.print(f"[bold]{info.name}:{info.version}[/bold]  model_id {info.model_id}")
    status = info.status.value + (f" ({info.status_reason})" if info.status_reason else "")
    out.print(f"status {status}  source {info.source.value}  created {when(info.created_at)}")
    if info.aliases:
        out.print("aliases: " + ", ".join(info.aliases))
    if info.parity is not None:
        p = info.parity
        verdict = "passed" if p.passed else "FAILED" + (" (forced)" if info.forced else "")
        out.print(
            f"parity {verdict}: {p.rows} rows, {p.label_mismatches} label mismatches, "
            f"{p.value_mismatches} values off, max abs diff {p.max_abs_diff:.3g} "
            f"(rtol {p.rtol:g}, atol {p.atol:g})"
        )
    sig = info.signature
    table("Inputs", ["name", "type", "shape"], [(i.name, i.type, _shape(i)) for i in sig.inputs])
    table("Outputs", ["name", "type", "shape"], [(o.name, o.type, _shape(o)) for o in sig.outputs])
    if sig.feature_names:
        out.print("features: " + ", ".join(sig.feature_names))
    if info.metrics:
        table("Metrics (source run)", ["name", "value"], sorted(info.metrics.items()))


@app.command("download")
@handle_errors
def download(
    ref: Annotated[str, typer.Argument(help="NAME:VERSION, NAME@ALIAS, NAME or a model id.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File or folder.")] = Path("."),
    native: Annotated[bool, typer.Option(help="The native model instead of ONNX.")] = False,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Download a version's ONNX file."""
    version = connect(uri, workspace, token).models.get(ref)
    written = version.download(output, native=native, progress=True)
    out.print(f"saved {written}")


@app.command("alias")
@handle_errors
def alias(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. champion.")],
    version: Annotated[int | None, typer.Argument(help="The version to point at.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Point ALIAS at VERSION (moving it), or remove it with --remove."""
    models = connect(uri, workspace, token).models
    if remove:
        models.delete_alias(name, alias_name)
        out.print(f"removed {name}@{alias_name}")
        return
    if version is None:
        raise typer.BadParameter("give the VERSION to point at, or --remove")
    v = models.set_alias(name, alias_name, version)
    out.print(f"{name}@{alias_name} -> version {v.version} ({v.model_id})")


@app.command("delete")
@handle_errors
def delete(
    ref: Annotated[str, typer.Argument(help="NAME (every version) or NAME:VERSION.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Delete one version, or a model with all its versions, aliases and files."""
    connect(uri, workspace, token).models.delete(ref)
    out.print(f"deleted {ref}")
