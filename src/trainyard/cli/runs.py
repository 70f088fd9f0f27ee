"""``trainyard runs``: list, show, compare, download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trainyard.cli._common import (
    JsonOption,
    TokenOption,
    UriOption,
    WorkspaceOption,
    connect,
    duration,
    handle_errors,
    out,
    print_json,
    table,
    when,
)

app = typer.Typer(help="Runs: parameters, metrics, tags and files.", no_args_is_help=True)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.6g}"


@app.command("list")
@handle_errors
def list_runs(
    experiment: Annotated[str, typer.Argument(help="Experiment name.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    filter: Annotated[
        str | None, typer.Option("--filter", "-f", help='e.g. "metrics.rmse < 50"')
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", "-o", help="e.g. 'metrics.rmse ASC'")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List an experiment's runs, filtered and ordered like the API."""
    ws = connect(uri, workspace, token)
    exp = ws.get_experiment(experiment)
    runs = []
    for run in exp.runs(filter=filter, order_by=order_by or None):
        runs.append(run.info)
        if len(runs) >= limit:
            break
    if as_json:
        print_json([r.model_dump(mode="json") for r in runs])
        return
    metric_keys = sorted({k for r in runs for k in r.metrics})
    param_keys = sorted({k for r in runs for k in r.params})
    table(
        f"Runs of {experiment}",
        ["run id", "name", "status", "started", "duration", *param_keys, *metric_keys],
        [
            (
                r.run_id,
                r.name,
                r.status.value,
                when(r.start_time),
                duration(r.start_time, r.end_time),
                *(r.params.get(k, "") for k in param_keys),
                *(_fmt(r.metrics[k].value) if k in r.metrics else "" for k in metric_keys),
            )
            for r in runs
        ],
    )


@app.command("show")
@handle_errors
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A run's details, params, tags, latest metrics and files."""
    ws = connect(uri, workspace, token)
    run = ws.get_run(run_id)
    info = run.get_details()
    files = run.get_file_names()
    if as_json:
        print_json({**info.model_dump(mode="json"), "files": files})
        return
    out.print(f"[bold]{info.name}[/bold]  {info.run_id}")
    out.print(
        f"status {info.status.value}  started {when(info.start_time)}  "
        f"duration {duration(info.start_time, info.end_time) or 'running'}"
    )
    if info.status_message:
        out.print(f"message: {info.status_message}")
    table("Parameters", ["name", "value"], sorted(info.params.items()))
    table(
        "Metrics (latest)",
        ["name", "value", "step"],
        [(k, _fmt(m.value), m.step) for k, m in sorted(info.metrics.items())],
    )
    table("Tags", ["name", "value"], sorted(info.tags.items()))
    table("Files", ["path"], [(f,) for f in files])


@app.command("compare")
@handle_errors
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Params and latest metrics of several runs side by side (differences marked)."""
    ws = connect(uri, workspace, token)
    infos = [ws.get_run(r).get_details() for r in run_ids]
    rows: list[tuple[Any, ...]] = []
    data: dict[str, dict[str, Any]] = {}
    for kind, getter in (
        ("param", lambda i, k: i.params.get(k)),
        ("metric", lambda i, k: i.metrics[k].value if k in i.metrics else None),
    ):
        keys = sorted({k for i in infos for k in (i.params if kind == "param" else i.metrics)})
        for k in keys:
            values = [getter(i, k) for i in infos]
            differs = len({str(v) for v in values}) > 1
            data[f"{kind}s.{k}"] = {"values": values, "differs": differs}
            shown = [_fmt(v) if kind == "metric" else (v or "") for v in values]
            rows.append((("* " if differs else "  ") + f"{kind}s.{k}", *shown))
    if as_json:
        print_json({"run_ids": run_ids, "rows": data})
        return
    table("Comparison (* differs)", ["", *(i.name for i in infos)], rows)


@app.command("download")
@handle_errors
def download(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    path: Annotated[str, typer.Argument(help="File path within the run, e.g. outputs/model.pkl")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File or folder.")] = Path("."),
    uri: UriOption = None,
    workspace: WorkspaceOption = "default",
    token: TokenOption = None,
) -> None:
    """Download one of a run's files (with a progress bar)."""
    ws = connect(uri, workspace, token)
    written = ws.get_run(run_id).download_file(path, output_path=str(output), progress=True)
    out.print(f"saved {written}")
