"""``trainyard up`` and ``trainyard db upgrade``: the only commands that load the server."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from trainyard.config import Settings

console = Console(stderr=True)


def _settings(host: str | None, port: int | None, home: Path | None) -> Settings:
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if home is not None:
        overrides["home"] = home.expanduser().resolve()
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        console.print(f"[red]error:[/red] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None


def up(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8765).")] = None,
    home: Annotated[
        Path | None, typer.Option(help="Data folder (default $TRAINYARD_HOME or ~/.trainyard).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Server log level.")] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log a line per request (uvicorn's access log).")
    ] = False,
) -> None:
    """Start the platform: API, web UI and scheduler in one process."""
    import uvicorn

    from trainyard.server.app import create_app
    from trainyard.server.scoring_http import http_protocol

    settings = _settings(host, port, home)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    console.print(f"[bold green]Trainyard[/bold green] on http://{shown_host}:{settings.port}")
    console.print(f"  metadata:  {_redact(settings.resolved_database_url)}")
    console.print(f"  artifacts: {settings.resolved_artifacts}")
    if settings.auth_required:
        console.print(f"  auth:      tokens required (owner token in {settings.admin_token_path})")
    else:
        console.print("  auth:      off (loopback only)")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        access_log=access_log,
        http=http_protocol(),
        server_header=False,
    )


def db_upgrade(
    home: Annotated[Path | None, typer.Option(help="Data folder.")] = None,
) -> None:
    """Apply the metadata store's migrations (``trainyard up`` does this too)."""
    from trainyard.server.app import upgrade_database

    settings = _settings(None, None, home)
    revision = upgrade_database(settings)
    console.print(
        f"database at {_redact(settings.resolved_database_url)} is at revision {revision}"
    )


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
