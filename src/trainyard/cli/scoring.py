"""``trainyard model score``: batch-score a data asset with a model version, as a job.

By default the command submits a command job whose input is the data asset and whose output
``scores`` is registered as a new ``uri_folder`` data asset of Parquet files when the job
completes; it streams the job's logs and exits 0 only if the job Completed. Inside the job (or
with ``--local``) the same command scores the files in this process: each CSV or Parquet file of
the input becomes ``<stem>.parquet`` in the output folder, in chunks with a progress bar.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from trainyard.cli._common import (
    TokenOption,
    UriOption,
    WorkspaceOption,
    connect,
    err,
    handle_errors,
    out,
)
from trainyard.errors import InvalidArgument

SUFFIXES = (".csv", ".parquet")


@handle_errors
def score(
    ref: Annotated[str, typer.Argument(help="The model version: NAME:VERSION or NAME@ALIAS.")],
    data: Annotated[
        str | None, typer.Option("--data", help="The data asset to score: NAME:VERSION.")
    ] = None,
    output_name: Annotated[
        str | None, typer.Option("--output-name", help="Register the scores as this data asset.")
    ] = None,
    output_version: Annotated[
        str, typer.Option("--output-version", help="Version of the scores' data asset.")
    ] = "1",
    local: Annotated[
        bool, typer.Option("--local", help="Score in this process instead of as a job.")
    ] = False,
    input_path: Annotated[
        Path | None, typer.Option("--input", help="With --local: a CSV/Parquet file or folder.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --local: the folder to write.")
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per scoring chunk.")] = 100_000,
    compute: Annotated[str, typer.Option(help="The job's compute.")] = "local",
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Score a data asset with a model version into a new data asset (Parquet)."""
    ws = connect(uri, workspace, token)
    try:
        if local:
            if input_path is None or output is None:
                raise InvalidArgument("--local needs --input PATH and --output FOLDER")
            _score_here(ws, ref, input_path, output, chunk_size)
            return
        if data is None or output_name is None:
            raise InvalidArgument("scoring as a job needs --data NAME:VERSION and --output-name")
        _score_as_job(ws, ref, data, output_name, output_version, chunk_size, compute)
    finally:
        ws.close()


def _inputs(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not found:
        raise InvalidArgument(f"no .csv or .parquet file in {str(path)!r} to score")
    return found


def _score_here(ws: Any, ref: str, src: Path, dst: Path, chunk_size: int) -> None:
    version = ws.models.get(ref)
    dst.mkdir(parents=True, exist_ok=True)
    for file in _inputs(src):
        report = version.score_file(file, dst / f"{file.stem}.parquet", chunk_size=chunk_size)
        out.print(
            f"scored {report.rows} rows of {file.name} with {version.name}:{version.version} "
            f"({report.rows_per_second:,.0f} rows/s)"
        )


def _score_as_job(
    ws: Any,
    ref: str,
    data: str,
    output_name: str,
    output_version: str,
    chunk_size: int,
    compute: str,
) -> None:
    version = ws.models.get(ref)  # resolve now: the job scores exactly this version
    asset = ws.data.get(data)
    pinned = f"{version.name}:{version.version}"
    args = ["python", "-m", "trainyard", "model", "score", pinned, "--local"]
    args += ["--chunk-size", str(chunk_size)]
    command = shlex.join(args) + " --input ${{inputs.data}} --output ${{outputs.scores}}"
    job = ws.jobs.create(
        command,
        environment="python",
        inputs={"data": {"type": asset.type, "path": f"{asset.name}:{asset.version}"}},
        outputs={"scores": {"name": output_name, "version": output_version}},
        compute=compute,
        experiment_name=f"score-{version.name}",
        display_name=f"score {data} with {pinned}",
        tags={"trainyard.scoring.model": pinned, "trainyard.scoring.data": data},
    )
    err.print(f"job [bold]{job.name}[/bold] submitted ({job.info.status.value})")
    status = job.stream()
    if status.value != "Completed":
        if job.info.error:
            err.print(job.info.error[-500:], highlight=False, markup=False)
        raise typer.Exit(1)
    out.print(f"scores registered as data asset {output_name}:{output_version}")
