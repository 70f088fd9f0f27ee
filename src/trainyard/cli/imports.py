"""``trainyard import``: copy another tracking server's data into Trainyard."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import closing
from typing import TYPE_CHECKING, Annotated

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
)

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from trainyard.client.importers import ImportProgress, ImportSummary

app = typer.Typer(help="Import data from other tracking servers.", no_args_is_help=True)


def _progress_display() -> tuple[Progress, ImportProgress, Callable[[], None]]:
    """A Rich display on stderr (experiments, runs, files, model versions), the importer's
    progress sink, and what completes the display at the end."""
    from rich.filesize import decimal
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from trainyard.client.importers import ImportProgress

    bar = Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}", markup=False),
        console=err,
    )
    tasks: dict[str, TaskID] = {
        kind: bar.add_task(kind, total=None, detail="")
        for kind in ("experiments", "runs", "files", "models")
    }
    copied = [0]

    class RichProgress(ImportProgress):
        def planned(self, counter: str, total: int) -> None:
            bar.update(tasks[counter], total=total)

        def advanced(self, counter: str, n: int = 1, label: str = "") -> None:
            if counter == "bytes":
                copied[0] += n
                bar.update(tasks["files"], detail=decimal(copied[0]))
                return
            detail = label if counter != "files" else decimal(copied[0])
            bar.update(tasks[counter], advance=n, detail=detail[:60])

    def finish() -> None:  # totals never announced (files) are what was done
        for task in bar.tasks:
            if task.total is None:
                bar.update(task.id, total=task.completed)

    return bar, RichProgress(), finish


def _print_summary(s: ImportSummary) -> None:
    title = f"Imported from {s.source} into {s.workspace}"
    if s.dry_run:
        title = f"Dry run: would import from {s.source} into {s.workspace} (nothing written)"
    table(
        title,
        ["", "copied", "skipped"],
        [
            ("experiments", s.experiments, s.skipped_experiments),
            ("runs", s.runs, s.skipped_runs),
            ("metric values", s.metric_values, ""),
            ("params", s.params, ""),
            ("tags", s.tags, ""),
            ("files", s.files, s.skipped_files),
            ("bytes", s.bytes, ""),
            ("models", s.models, s.skipped_models),
            ("model versions", s.model_versions, s.skipped_model_versions),
            ("failed versions", s.model_versions_failed, ""),
        ],
    )
    for warning in s.warnings:
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    if s.skipped_runs:
        out.print(f"{s.skipped_runs} run(s) were imported earlier and left alone.", highlight=False)
    if s.skipped_experiments:
        out.print(
            f"{s.skipped_experiments} experiment(s) left out: deleted ones need --include-deleted.",
            highlight=False,
        )


@app.command("mlflow")
@handle_errors
def import_mlflow(
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="The MLflow tracking server, e.g. http://127.0.0.1:5000.",
            show_default=False,
        ),
    ],
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Only this experiment (repeat for more)."),
    ] = None,
    include_deleted: Annotated[
        bool, typer.Option(help="Copy deleted experiments and runs too (they stay deleted).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be copied; write nothing.")
    ] = False,
    models: Annotated[
        bool, typer.Option(help="Copy registered models and versions (converted to ONNX).")
    ] = True,
    allow_pickle: Annotated[
        bool,
        typer.Option(
            "--allow-pickle",
            help="Load pickled models to convert them (unpickling runs their code).",
        ),
    ] = False,
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy an MLflow server's experiments, runs, histories, files and registered models.

    Safe to run again: runs copied earlier are skipped, interrupted copies completed.

    Credentials for MLflow: MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and _PASSWORD.
    """
    from trainyard.client.importers import MlflowSource
    from trainyard.client.importers import import_mlflow as run_import

    src = MlflowSource(
        source,
        token=os.environ.get("MLFLOW_TRACKING_TOKEN") or None,
        username=os.environ.get("MLFLOW_TRACKING_USERNAME") or None,
        password=os.environ.get("MLFLOW_TRACKING_PASSWORD") or None,
    )
    bar, progress, finish = _progress_display()
    with connect(uri, workspace, token) as ws, closing(src), bar:
        summary = run_import(
            ws,
            src,
            experiments=experiment or (),
            include_deleted=include_deleted,
            dry_run=dry_run,
            models=models,
            allow_pickle=allow_pickle,
            progress=progress,
        )
        finish()
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
