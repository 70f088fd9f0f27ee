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
    _register_jobs()
    _register_imports()
    _register_models()
    _register_serving()


def _register_jobs() -> None:
    from trainyard.cli import assets, jobs

    app.add_typer(jobs.app, name="job")
    app.add_typer(assets.environment_app, name="environment")
    app.add_typer(assets.data_app, name="data")
    app.add_typer(assets.code_app, name="code")
    app.add_typer(assets.compute_app, name="compute")
    app.add_typer(assets.datastore_app, name="datastore")


def _register_models() -> None:
    from trainyard.cli import models, recipes, scoring

    app.add_typer(models.app, name="model")
    models.app.command("score")(scoring.score)
    app.add_typer(recipes.app, name="recipe")


def _register_serving() -> None:
    from trainyard.cli import deployments, endpoints, serve

    app.add_typer(endpoints.app, name="endpoint")
    app.add_typer(deployments.deployment_app, name="deployment")
    app.command("serve")(serve.serve)


def _register_imports() -> None:
    from trainyard.cli import imports

    app.add_typer(imports.app, name="import")


_register_groups()
