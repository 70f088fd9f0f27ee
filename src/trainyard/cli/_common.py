"""What every command shares: connection options, output as tables or JSON, error exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.table import Table

from trainyard.errors import TrainyardError

P = ParamSpec("P")
R = TypeVar("R")

out = Console()
err = Console(stderr=True)

# exit codes by error code: scripts can tell "not found" from "refused" from "server down"
EXIT_CODES = {
    "INVALID_ARGUMENT": 2,
    "NOT_FOUND": 3,
    "ALREADY_EXISTS": 4,
    "CONFLICT": 4,
    "UNAUTHENTICATED": 5,
    "PERMISSION_DENIED": 5,
    "UNAVAILABLE": 6,
}

UriOption = Annotated[
    str | None,
    typer.Option("--uri", envvar="TRAINYARD_URI", help="Server URL.", show_default=False),
]
WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", envvar="TRAINYARD_WORKSPACE", help="Workspace.")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="TRAINYARD_TOKEN", help="API token.", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a Trainyard error into a one-line message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TrainyardError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(EXIT_CODES.get(exc.code, 1)) from None

    return wrapper


def connect(uri: str | None, workspace: str, token: str | None) -> Any:
    """The SDK workspace for the common options."""
    import trainyard

    return trainyard.connect(uri, workspace=workspace, token=token)


def print_json(data: Any) -> None:
    """JSON on stdout, one document."""
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A Rich table on stdout."""
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    out.print(t)


def when(ms: int | None) -> str:
    """A UTC millisecond timestamp for people."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(start: int, end: int | None) -> str:
    """``1m 05s``-style duration of a run (empty while it runs)."""
    if end is None:
        return ""
    s = max(0, (end - start) // 1000)
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"
