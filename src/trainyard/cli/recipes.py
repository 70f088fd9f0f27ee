"""``trainyard recipe run DIR --train/--score``: a recipe folder, run as a job or in-process.

By default the command submits a command job: the folder is its code, its command is this one
with ``--local`` (``python -m trainyard recipe run . --local ...``), environment ``python``,
experiment the recipe's; it streams the job's logs and exits 0 only if the job Completed.
Scores go to the job's output ``scores`` (``outputs/scores/`` of its run). ``--local`` runs in
this process; inside a job (``TRAINYARD_RUN_ID`` set) training logs into the job's run.
"""

from __future__ import annotations

import os
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

app = typer.Typer(
    help="Recipes: a pipeline.py and config.json that train and score.", no_args_is_help=True
)


@app.command("run")
@handle_errors
def run(
    folder: Annotated[Path, typer.Argument(help="The recipe folder.")],
    train: Annotated[bool, typer.Option("--train", help="Train, log and register.")] = False,
    score: Annotated[bool, typer.Option("--score", help="Batch-score the score data.")] = False,
    force: Annotated[bool, typer.Option(help="Register even if parity fails.")] = False,
    model: Annotated[
        str | None, typer.Option("--model", help="Version to score with (default: latest).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Scores file.")] = None,
    chunk_size: Annotated[int, typer.Option(help="Rows per scoring chunk.")] = 100_000,
    local: Annotated[
        bool, typer.Option("--local", help="Run in this process instead of as a job.")
    ] = False,
    compute: Annotated[str, typer.Option(help="The job's compute.")] = "local",
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Train (--train) and/or batch-score (--score) with a recipe folder."""
    from trainyard.registry import recipes

    if not (train or score):
        raise typer.BadParameter("choose --train, --score or both")
    recipe = recipes.load_recipe(folder)
    ws = connect(uri, workspace, token)
    if not local:
        try:
            _run_as_job(ws, recipe, train, score, force, model, chunk_size, compute)
        finally:
            ws.close()
        return
    try:
        if train:
            job_run = None
            if os.environ.get("TRAINYARD_RUN_ID"):
                import trainyard

                job_run = trainyard.get_run()
            v = recipes.train(recipe, ws, run=job_run, force=force)
            out.print(f"registered {v.name}:{v.version}  model_id {v.model_id}")
            if v.parity is not None:
                out.print(
                    f"parity {'passed' if v.parity.passed else 'FAILED (forced)'}: max abs diff "
                    f"{v.parity.max_abs_diff:.3g} on {v.parity.rows} rows"
                )
        if score:
            ref = model or (f"{recipe.name}:{v.version}" if train else None)
            version, report = recipes.score(
                recipe, ws, ref=ref, output=output, chunk_size=chunk_size
            )
            out.print(
                f"scored {report.rows} rows with {version.name}:{version.version} into "
                f"{report.output} ({report.rows_per_second:,.0f} rows/s)"
            )
    finally:
        ws.close()


def _run_as_job(
    ws: Any,
    recipe: Any,
    train: bool,
    score: bool,
    force: bool,
    model: str | None,
    chunk_size: int,
    compute: str,
) -> None:
    """Submit the recipe as a command job, stream its logs, exit 1 unless it Completed."""
    args = ["python", "-m", "trainyard", "recipe", "run", ".", "--local"]
    args += ["--train"] if train else []
    args += ["--force"] if force else []
    args += ["--model", model] if model else []
    outputs: dict[str, Any] = {}
    if score:
        args += ["--score", "--chunk-size", str(chunk_size)]
        outputs["scores"] = {}
    command = shlex.join(args)
    if score:
        command += " --output ${{outputs.scores}}/scores.parquet"
    job = ws.jobs.create(
        command,
        code=recipe.root,
        environment="python",
        outputs=outputs,
        compute=compute,
        experiment_name=str(recipe.config.get("experiment") or recipe.name),
        display_name=f"recipe {recipe.root.name}",
        tags={"trainyard.recipe": recipe.root.name},
    )
    err.print(f"job [bold]{job.name}[/bold] submitted ({job.info.status.value})")
    status = job.stream()
    colour = "green" if status.value == "Completed" else "red"
    err.print(f"job {job.name}: [{colour}]{status.value}[/{colour}]", highlight=False)
    if status.value != "Completed":
        if job.info.error:
            err.print(job.info.error[-500:], highlight=False, markup=False)
        raise typer.Exit(1)
