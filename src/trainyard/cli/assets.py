"""``trainyard environment|data|code|compute|datastore``: create and list what jobs use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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

environment_app = typer.Typer(
    help="Environments: Python and pip requirements.", no_args_is_help=True
)
data_app = typer.Typer(help="Data assets: files, folders, tables.", no_args_is_help=True)
code_app = typer.Typer(help="Code assets: content-hashed folders.", no_args_is_help=True)
compute_app = typer.Typer(help="Computes: local and Ray.", no_args_is_help=True)
datastore_app = typer.Typer(
    help="Datastores: where data assets point (datastore://NAME/PATH).", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="Name.")]
VersionArg = Annotated[str, typer.Argument(help="Version.")]


@environment_app.command("create")
@handle_errors
def create_environment(
    name: NameArg,
    version: VersionArg,
    requirement: Annotated[
        list[str] | None, typer.Option("--requirement", "-r", help="A pip requirement.")
    ] = None,
    requirements_file: Annotated[
        Path | None, typer.Option("--requirements-file", help="A requirements.txt.")
    ] = None,
    python: Annotated[str | None, typer.Option(help="Python version, e.g. 3.11.")] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Register an environment version."""
    reqs = list(requirement or [])
    if requirements_file is not None:
        lines = requirements_file.read_text().splitlines()
        reqs += [r.strip() for r in lines if r.strip() and not r.startswith("#")]
    env = connect(uri, workspace, token).environments.create(
        name, version, requirements=reqs, python=python
    )
    out.print(f"environment {env.name}:{env.version} (python {env.python}, {env.hash[:12]})")


@environment_app.command("list")
@handle_errors
def list_environments(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Environments (``python`` is built in)."""
    envs = connect(uri, workspace, token).environments.list()
    if as_json:
        print_json([e.model_dump(mode="json") for e in envs])
        return
    rows = [
        (e.name, e.version, e.python, " ".join(e.requirements), when(e.created_at)) for e in envs
    ]
    table("Environments", ["name", "version", "python", "requirements", "created"], rows)


@data_app.command("create")
@handle_errors
def create_data(
    name: NameArg,
    version: VersionArg,
    path: Annotated[str, typer.Option("--path", "-p", help="Local file or folder, or URL.")],
    type: Annotated[str, typer.Option("--type", "-t", help="uri_file|uri_folder|table")] = (
        "uri_folder"
    ),
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Register a data asset version (local files are uploaded)."""
    data = connect(uri, workspace, token).data.create(name, version, path=path, type=type)
    out.print(f"data {data.name}:{data.version} ({data.type}) at {data.path}", highlight=False)


@data_app.command("list")
@handle_errors
def list_data(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Data asset versions."""
    found = connect(uri, workspace, token).data.list()
    if as_json:
        print_json([d.model_dump(mode="json") for d in found])
        return
    rows = [(d.name, d.version, d.type, d.path, when(d.created_at)) for d in found]
    table("Data", ["name", "version", "type", "path", "created"], rows)


@data_app.command("show")
@handle_errors
def show_data(
    ref: Annotated[str, typer.Argument(help="NAME:VERSION (or NAME: the newest).")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A data asset version and its files."""
    data = connect(uri, workspace, token).data.get(ref)
    if as_json:
        print_json(data.model_dump(mode="json"))
        return
    out.print(f"data {data.name}:{data.version} ({data.type}) at {data.path}", highlight=False)
    if not data.path.startswith(("http://", "https://")):
        table("Files", ["path", "size"], [(f.path, f.size) for f in data.list_files()])


@data_app.command("register-output")
@handle_errors
def register_output(
    job: Annotated[str, typer.Argument(help="A Completed job.")],
    output: Annotated[str, typer.Argument(help="One of its outputs.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Data asset name.")],
    version: Annotated[str, typer.Option("--version", "-v", help="Data asset version.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Register a job's output folder as a uri_folder data asset."""
    data = connect(uri, workspace, token).data.register_output(
        job, output, name=name, version=version
    )
    out.print(f"data {data.name}:{data.version} ({data.type}) at {data.path}", highlight=False)


@code_app.command("create")
@handle_errors
def create_code(
    path: Annotated[Path, typer.Argument(help="The folder to upload.")],
    name: Annotated[str | None, typer.Option(help="Name (default: code-<hash>).")] = None,
    version: Annotated[str | None, typer.Option(help="Version (default: 1).")] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Upload a folder as a code version."""
    code = connect(uri, workspace, token).code.create(path, name, version)
    out.print(f"code {code.name}:{code.version} ({code.files} files, {code.hash[:12]})")


@code_app.command("list")
@handle_errors
def list_code(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Code versions."""
    found = connect(uri, workspace, token).code.list()
    if as_json:
        print_json([c.model_dump(mode="json") for c in found])
        return
    rows = [(c.name, c.version, c.files, c.hash[:12], when(c.created_at)) for c in found]
    table("Code", ["name", "version", "files", "hash", "created"], rows)


@compute_app.command("create")
@handle_errors
def create_compute(
    name: NameArg,
    type: Annotated[str, typer.Option("--type", "-t", help="local or ray")] = "local",
    slots: Annotated[int | None, typer.Option(help="Jobs at once.")] = None,
    address: Annotated[str | None, typer.Option(help="Ray dashboard URL.")] = None,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Create or replace a compute."""
    c = connect(uri, workspace, token).computes.create(name, type, slots=slots, address=address)
    out.print(f"compute {c.name} ({c.type}, {c.slots} slots)")


@compute_app.command("list")
@handle_errors
def list_computes(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Computes (``local`` is always there)."""
    found = connect(uri, workspace, token).computes.list()
    if as_json:
        print_json([c.model_dump(mode="json") for c in found])
        return
    table(
        "Computes",
        ["name", "type", "slots", "address"],
        [(c.name, c.type, c.slots, c.address) for c in found],
    )


@datastore_app.command("create")
@handle_errors
def create_datastore(
    name: NameArg,
    url: Annotated[str, typer.Option("--url", help="file:///folder, s3://bucket/prefix, ...")],
    description: Annotated[str, typer.Option(help="Description.")] = "",
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Register a datastore (or replace its URL)."""
    d = connect(uri, workspace, token).datastores.create(name, url=url, description=description)
    out.print(f"datastore {d.name} ({d.type}) at {d.url}", highlight=False)


@datastore_app.command("show")
@handle_errors
def show_datastore(
    name: NameArg,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One datastore."""
    d = connect(uri, workspace, token).datastores.get(name)
    if as_json:
        print_json(d.model_dump(mode="json"))
        return
    out.print(f"datastore {d.name} ({d.type}) at {d.url}", highlight=False)
    if d.description:
        out.print(d.description, highlight=False, markup=False)


@datastore_app.command("list")
@handle_errors
def list_datastores(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Datastores (``default`` is the artifact store)."""
    found = connect(uri, workspace, token).datastores.list()
    if as_json:
        print_json([d.model_dump(mode="json") for d in found])
        return
    table(
        "Datastores",
        ["name", "type", "url", "created"],
        [(d.name, d.type, d.url, when(d.created_at) if d.created_at else "") for d in found],
    )
