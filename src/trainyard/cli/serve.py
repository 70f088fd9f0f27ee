"""``trainyard serve``: dedicated scoring replicas (loads the server lazily, like ``up``)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trainyard.cli.up import _redact, _settings

console = Console(stderr=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8766,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (default $TRAINYARD_HOME or ~/.trainyard).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log a line per request (uvicorn's access log).")
    ] = False,
) -> None:
    """Start scoring replicas: the scoring routes, health and /metrics, no API.

    They read the endpoints from the metadata store (TRAINYARD_DATABASE_URL or the home's
    SQLite) and follow their changes without a restart. Put several behind a load balancer.
    """
    import uvicorn

    from trainyard.server.app import upgrade_database
    from trainyard.server.scoring_http import http_protocol

    settings = _settings(host, port, home)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    upgrade_database(settings)  # once, here, not in each worker
    os.environ["TRAINYARD_HOME"] = str(settings.home)
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="trainyard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    console.print(
        f"[bold green]Trainyard scoring[/bold green] on http://{shown_host}:{settings.port} "
        f"({workers} worker{'s' if workers > 1 else ''})"
    )
    console.print(f"  metadata:  {_redact(settings.resolved_database_url)}")
    try:
        uvicorn.run(
            "trainyard.server.scoring_app:create_scoring_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=log_level.lower(),
            access_log=access_log,
            http=http_protocol(),
            server_header=False,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
