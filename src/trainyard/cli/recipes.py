"""``trainyard recipe run DIR --train/--score``: a recipe folder, run in this process.

Inside a job (``TRAINYARD_RUN_ID`` set) training logs into the job's run instead of a new one;
that is how ``--train`` will run as a job once the jobs system submits this command.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from trainyard.cli._common import (
    TokenOption,
    UriOption,
    WorkspaceOption,
    connect,
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
