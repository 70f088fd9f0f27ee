"""Each page of the studio, clicked through in Chromium: table, charts, files, log, compare."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import RunningServer
from tests.ui.conftest import screenshot


def rmse_column(page: Any) -> list[float]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        '#runs td[data-column="metrics.rmse"]', "els => els.map(e => Number(e.dataset.value))"
    )


def run_names(page: Any) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        '#runs td[data-column="attributes.run_name"]', "els => els.map(e => e.textContent.trim())"
    )


def trace_counts(page: Any) -> dict[str, int]:
    """``{metric key: number of Plotly traces}`` of every chart, once all are drawn."""
    page.wait_for_selector("#charts[data-loaded=true]")
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        "#charts .chart",
        "els => Object.fromEntries(els.map(e => [e.dataset.key, e.data ? e.data.length : -1]))",
    )


def test_experiments_to_runs_to_a_run(page: Any, diabetes: dict[str, Any]) -> None:
    page.goto("/ui")
    row = page.locator("table[aria-label=Experiments] tr", has_text=diabetes["name"])
    assert row.locator("td").nth(1).inner_text() == "10"  # run count
    screenshot(page, "experiments")
    page.get_by_role("link", name=diabetes["name"]).click()
    page.wait_for_url(f"**/ui/experiments/{diabetes['experiment_id']}")
    assert page.locator("h1").inner_text() == diabetes["name"]
    assert page.locator("#runs tbody tr").count() == 10
    headers = page.eval_on_selector_all(
        "#runs thead tr:last-child th[data-column]", "els => els.map(e => e.dataset.column)"
    )
    assert headers == [
        "attributes.run_name",
        "attributes.status",
        "attributes.start_time",
        "attributes.duration",
        "params.alpha",
        "params.solver",
        "metrics.alpha_value",
        "metrics.fold_rmse",
        "metrics.rmse",
    ]
    first = run_names(page)[0]
    page.get_by_role("link", name=first, exact=True).click()
    page.wait_for_url("**/ui/runs/*")
    assert page.locator("h1").inner_text() == first


def test_sorting_by_rmse_then_flipping(page: Any, diabetes: dict[str, Any]) -> None:
    page.goto(f"/ui/experiments/{diabetes['experiment_id']}")
    header = page.locator('#runs th[data-column="metrics.rmse"]')
    header.get_by_role("link").click()
    page.wait_for_url("**order_by=metrics.rmse+ASC*")
    values = rmse_column(page)
    assert values == sorted(values) and len(values) == 10
    assert header.get_attribute("aria-sort") == "ascending"
    screenshot(page, "runs")
    header.get_by_role("link").click()
    page.wait_for_url("**order_by=metrics.rmse+DESC*")
    assert rmse_column(page) == sorted(values, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"


def test_filtering_with_the_api_grammar(
    page: Any, diabetes: dict[str, Any], studio: RunningServer
) -> None:
    page.goto(f"/ui/experiments/{diabetes['experiment_id']}?order_by=metrics.rmse+ASC")
    page.fill("#filter", "params.alpha IN ('0.1', '0.2', '0.3') and metrics.rmse > 0")
    page.press("#filter", "Enter")
    page.wait_for_url("**filter=*")
    assert page.locator("#runs tbody tr").count() == 3
    values = rmse_column(page)
    assert values == sorted(values)  # the order is kept while filtering

    bad = "metrics.rmse < 'low'"
    page.fill("#filter", bad)
    page.press("#filter", "Enter")
    page.wait_for_selector("#filter-error")
    body = {"experiment_ids": [diabetes["experiment_id"]], "filter": bad}
    expected = httpx.post(f"{studio.api}/runs/search", json=body).json()["error"]["message"]
    assert page.locator("#filter-error").inner_text() == expected
    assert page.input_value("#filter") == bad
    screenshot(page, "runs-bad-filter")


def test_column_chooser_hides_and_restores_columns(page: Any, diabetes: dict[str, Any]) -> None:
    page.goto(f"/ui/experiments/{diabetes['experiment_id']}")
    page.get_by_text("Columns", exact=True).click()
    page.get_by_label("solver").uncheck()
    page.get_by_label("fold_rmse").uncheck()
    page.locator(".chooser-body").get_by_role("button", name="Apply").click()
    page.wait_for_url("**cols=1*")
    assert page.locator('#runs th[data-column="params.solver"]').count() == 0
    assert page.locator('#runs th[data-column="metrics.fold_rmse"]').count() == 0
    assert page.locator('#runs th[data-column="metrics.rmse"]').count() == 1
    # sorting keeps the choice
    page.locator('#runs th[data-column="metrics.rmse"] a').click()
    page.wait_for_url("**order_by=*")
    assert page.locator('#runs th[data-column="params.solver"]').count() == 0
    page.get_by_text("Columns", exact=True).click()
    page.get_by_role("link", name="Show all").click()
    page.wait_for_selector('#runs th[data-column="params.solver"]')


def test_run_page_charts_every_metric_and_switches_the_x_axis(
    page: Any, diabetes: dict[str, Any]
) -> None:
    page.goto(f"/ui/runs/{diabetes['best']}")
    assert trace_counts(page) == {"alpha_value": 1, "fold_rmse": 1, "rmse": 1}
    steps = page.eval_on_selector('.chart[data-key="fold_rmse"]', "e => e.data[0].x")
    assert steps == [0, 1, 2, 3, 4]
    screenshot(page, "run")
    page.select_option("#x-axis", "time")
    axis = page.eval_on_selector('.chart[data-key="fold_rmse"]', "e => e._fullLayout.xaxis.type")
    assert axis == "date"


def test_a_100k_point_metric_charts_downsampled_and_fast(
    page: Any, workspace: Any, studio: RunningServer
) -> None:
    exp = workspace.experiment("long-training")
    with exp.start_run(name="long-run") as run:
        for step in range(100_000):
            run.log("loss", 1 / (1 + step / 1000) + (0.5 if step == 54_321 else 0.0), step=step)
    started = time.monotonic()
    page.goto(f"/ui/runs/{run.run_id}")
    counts = trace_counts(page)
    elapsed = time.monotonic() - started
    assert counts == {"loss": 1}
    x = page.eval_on_selector('.chart[data-key="loss"]', "e => e.data[0].x")
    assert len(x) <= 1000 and x[0] == 0 and x[-1] == 99_999 and 54_321 in x  # the spike stays
    note = page.locator(".chart-note").inner_text()
    assert "of 100,000 points drawn" in note
    assert elapsed < 10, f"the page took {elapsed:.1f} s to chart 100,000 points"
    # the full history downloads as CSV
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV").click()
    lines = Path(info.value.path()).read_text().splitlines()
    assert lines[0] == "step,timestamp,value" and len(lines) == 100_001


def test_a_file_is_downloaded_from_the_tree_and_viewed_inline(
    page: Any, diabetes: dict[str, Any], workspace: Any, tmp_path: Path
) -> None:
    run_id = diabetes["best"]
    info = diabetes["runs"][run_id]
    name = f"model_alpha_{info['alpha']}.pkl"
    page.goto(f"/ui/runs/{run_id}")
    page.locator("#file-tree summary", has_text="outputs/").click()
    link = page.get_by_role("link", name=f"Download outputs/{name}")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == name
    assert Path(download.value.path()).read_bytes() == info["model"]

    # a text file and a CSV open inline
    run = workspace.get_run(run_id)
    (tmp_path / "summary.csv").write_text("alpha,rmse\n" + f"{info['alpha']},{info['rmse']}\n")
    run.upload_file(name="reports/summary.csv", path=tmp_path / "summary.csv")
    page.goto(f"/ui/runs/{run_id}")
    page.locator("#file-tree summary", has_text="reports/").click()
    page.get_by_role("link", name="summary.csv", exact=True).click()
    page.wait_for_url("**/files/reports/summary.csv")
    cells = page.locator("table.csv td").all_inner_texts()
    assert cells == [str(info["alpha"]), str(info["rmse"])]
    screenshot(page, "file")


def test_the_log_panel_follows_a_running_run(page: Any, workspace: Any, tmp_path: Path) -> None:
    run = workspace.experiment("live-logs").start_run(name="still-going")
    lines = [f"epoch {i}: loss {1 / i:.3f}\n" for i in range(1, 40)]
    log = tmp_path / "stdout.log"
    log.write_text(lines[0])
    run.upload_file(name="logs/stdout.log", path=log)
    page.goto(f"/ui/runs/{run.run_id}")
    panel = page.locator("#log")
    page.wait_for_function("document.getElementById('log').textContent.includes('epoch 1')")
    before = len(panel.text_content())

    log.write_text("".join(lines))  # the job wrote more
    run.upload_file(name="logs/stdout.log", path=log)
    page.wait_for_function("document.getElementById('log').textContent.includes('epoch 39')")
    assert len(panel.text_content()) > before
    assert panel.text_content() == log.read_text()  # appended, not repeated
    assert page.locator("#log-panel").get_attribute("data-done") is None  # still following
    screenshot(page, "run-live-log")

    run.complete()
    page.wait_for_selector("#log-panel[data-done=true]")
    assert "run finished" in page.locator("#log-state").inner_text()


def test_compare_from_the_table_overlays_one_trace_per_run(
    page: Any, diabetes: dict[str, Any]
) -> None:
    page.goto(f"/ui/experiments/{diabetes['experiment_id']}?order_by=metrics.rmse+ASC")
    chosen = run_names(page)[:3]
    button = page.locator("#compare-button")
    assert button.is_disabled()
    for name in chosen:
        page.get_by_label(f"Select {name}").check()
    assert button.inner_text() == "Compare 3 selected"
    button.click()
    page.wait_for_url("**/ui/compare?runs=*")
    assert trace_counts(page) == {"alpha_value": 3, "fold_rmse": 3, "rmse": 3}
    names = page.eval_on_selector('.chart[data-key="rmse"]', "e => e.data.map(t => t.name)")
    assert names == chosen
    # parallel coordinates: the differing param (alpha) against the chosen metric
    page.wait_for_function("document.getElementById('parcoords').data !== undefined")
    dims = page.eval_on_selector("#parcoords", "e => e.data[0].dimensions.map(d => d.label)")
    assert page.eval_on_selector("#parcoords", "e => e.data[0].type") == "parcoords"
    assert dims == ["alpha", "alpha_value"]  # the first metric is chosen first
    page.select_option("#pc-metric", "rmse")
    dims = page.eval_on_selector("#parcoords", "e => e.data[0].dimensions.map(d => d.label)")
    assert dims == ["alpha", "rmse"]
    diff = page.locator("#param-diff tbody tr")
    assert diff.count() == 1 and diff.first.locator("th").inner_text() == "alpha"
    screenshot(page, "compare")


def test_select_all_and_an_unknown_run(page: Any, diabetes: dict[str, Any]) -> None:
    page.goto(f"/ui/experiments/{diabetes['experiment_id']}")
    page.get_by_label("Select every run on this page").check()
    assert page.locator("#compare-button").inner_text() == "Compare 10 selected"
    response = page.goto("/ui/runs/0123456789abcdef0123456789abcdef")
    assert response.status == 404
    assert "does not exist" in page.get_by_role("alert").inner_text()
    screenshot(page, "not-found")
