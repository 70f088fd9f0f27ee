"""The ``trainyard`` application: one sub-command group per resource."""

from __future__ import annotations

import typer

from trainyard.cli import up as up_module

app = typer.Typer(
    name="trainyard",
    help="Trainyard: track, train, tune, register and serve models on your own machines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("up")(up_module.up)

db_app = typer.Typer(help="The metadata database.", no_args_is_help=True)
db_app.command("upgrade")(up_module.db_upgrade)
app.add_typer(db_app, name="db")


def _register_groups() -> None:
    from trainyard.cli import experiments, runs, tokens

    app.add_typer(experiments.app, name="experiments")
    app.add_typer(runs.app, name="runs")
    app.add_typer(tokens.app, name="tokens")


_register_groups()
