"""``trainyard job``: create from YAML (command jobs and sweeps), show, list, stream, cancel,
download."""

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
    err,
    handle_errors,
    out,
    print_json,
    table,
    when,
)
from trainyard.cli.sweeps import show_sweep
from trainyard.errors import InvalidArgument
from trainyard.schemas.jobs import SweepJob

app = typer.Typer(help="Jobs and sweeps: submit, follow, cancel, download.", no_args_is_help=True)


def load_job_file(path: Path) -> dict[str, Any]:
    """The job document of a YAML file, checked against the job schema (unknown keys refused)."""
    import yaml
    from pydantic import ValidationError

    from trainyard.schemas.jobs import JobCreate, SweepJobCreate

    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InvalidArgument(f"cannot read {str(path)!r}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{path}: a job file holds a mapping (command:, code:, ...)")
    try:
        (SweepJobCreate if doc.get("type") == "sweep" else JobCreate).model_validate(doc)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"] if p not in ("data", "literal"))
        problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise InvalidArgument(f"{path}: {where}: {problem}") from None
    return doc


def _follow(job: Any) -> None:
    status = job.stream()
    if hasattr(job, "best_trial") and status.value == "Completed":
        best = job.best_trial()
        if best is not None:
            err.print(f"best trial: {best.name} {best.parameters} -> {best.objective:.6g}")
    colour = "green" if status.value == "Completed" else "red"
    err.print(f"job {job.name}: [{colour}]{status.value}[/{colour}]", highlight=False)
    if status.value != "Completed":
        if job.info.error:
            err.print(job.info.error[-500:], highlight=False, markup=False)
        raise typer.Exit(1)


@app.command("create")
@handle_errors
def create(
    file: Annotated[Path, typer.Option("--file", "-f", help="The job's YAML file.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="Name the job.")] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Follow its logs until it ends.")
    ] = False,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a job; local paths in the file (code, inputs) are relative to it and uploaded."""
    doc = load_job_file(file)
    if name:
        doc["name"] = name
    ws = connect(uri, workspace, token)
    job = ws.jobs.submit(doc, base_dir=file.parent)
    if as_json:
        print_json(job.info.model_dump(mode="json"))
    else:
        err.print(f"job [bold]{job.name}[/bold] submitted ({job.info.status.value})")
    if stream:
        _follow(job)


@app.command("show")
@handle_errors
def show(
    name: Annotated[str, typer.Argument(help="Job name.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
    sort: Annotated[
        str, typer.Option("--sort", help="A sweep's trials by number, objective, status, name.")
    ] = "number",
) -> None:
    """A job's document, status, history, run and resolved assets; a sweep's trials."""
    info = connect(uri, workspace, token).jobs.get(name).info
    if isinstance(info, SweepJob):
        show_sweep(info, sort, as_json)
        return
    if as_json:
        print_json(info.model_dump(mode="json"))
        return
    out.print(f"[bold]{info.name}[/bold]  {info.status.value}")
    out.print(f"command:  {info.command}", markup=False, highlight=False)
    out.print(f"compute:  {info.compute}   environment: {info.environment}   code: {info.code}")
    out.print(f"run:      {info.run_id} (experiment {info.experiment_id})")
    if info.exit_code is not None:
        out.print(f"exit code {info.exit_code}")
    if info.error:
        out.print(f"error:    {info.error}", markup=False, highlight=False)
    table(
        "History",
        ["status", "time", "message"],
        [(h.status.value, when(h.time), h.message) for h in info.status_history],
    )


@app.command("list")
@handle_errors
def list_jobs(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first."""
    jobs = []
    for job in connect(uri, workspace, token).jobs.list(status=status):
        jobs.append(job.info)
        if len(jobs) >= limit:
            break
    if as_json:
        print_json([j.model_dump(mode="json") for j in jobs])
        return
    table(
        "Jobs",
        ["name", "status", "compute", "experiment", "submitted", "run id"],
        [
            (j.name, j.status.value, j.compute, j.experiment_name, when(j.created_at), j.run_id)
            for j in jobs
        ],
    )


@app.command("stream")
@handle_errors
def stream_job(
    name: Annotated[str, typer.Argument(help="Job name.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Follow a job's stdout and stderr live; exit 0 only if it ends Completed."""
    _follow(connect(uri, workspace, token).jobs.get(name))


@app.command("cancel")
@handle_errors
def cancel(
    name: Annotated[str, typer.Argument(help="Job name.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Cancel a job (its whole process group is ended)."""
    job = connect(uri, workspace, token).jobs.get(name).cancel()
    err.print(f"job {job.name}: cancel requested ({job.info.status.value})")


@app.command("download")
@handle_errors
def download(
    name: Annotated[str, typer.Argument(help="Job name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder.")] = Path("."),
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Download a job's outputs and logs (as ``outputs/...`` and ``logs/...`` under -o)."""
    written = connect(uri, workspace, token).jobs.get(name).download(output)
    for path in written:
        out.print(f"saved {path}", highlight=False)
