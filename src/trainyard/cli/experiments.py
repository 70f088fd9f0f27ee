"""``trainyard experiments``."""

from __future__ import annotations

from typing import Annotated

import typer

from trainyard.cli._common import (
    JsonOption,
    TokenOption,
    UriOption,
    WorkspaceOption,
    connect,
    handle_errors,
    print_json,
    table,
    when,
)

app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)


@app.command("list")
@handle_errors
def list_experiments(
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    name_contains: Annotated[str | None, typer.Option(help="Only names containing this.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the experiments of a workspace with their run counts."""
    ws = connect(uri, workspace, token)
    found = [e.info for e in ws.experiments(name_contains=name_contains)]
    if as_json:
        print_json([e.model_dump(mode="json") for e in found])
        return
    table(
        f"Experiments in {workspace}",
        ["id", "name", "runs", "last activity", "created"],
        [
            (e.experiment_id, e.name, e.run_count, when(e.last_activity), when(e.created_at))
            for e in found
        ],
    )
