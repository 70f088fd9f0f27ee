"""The seed tutorial's portal steps, end to end, and signing in when tokens are required."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import RunningServer, start_server
from tests.ui.conftest import screenshot


def test_seed_001_find_sort_open_the_best_see_charts_download_its_model(
    page: Any, diabetes: dict[str, Any]
) -> None:
    # find the experiment
    page.goto("/ui")
    page.get_by_label("Search experiments by name").fill("diabetes")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=diabetes["name"]).click()
    # sort its runs by rmse, best first
    page.locator('#runs th[data-column="metrics.rmse"] a').click()
    page.wait_for_url("**order_by=metrics.rmse+ASC*")
    best_row = page.locator("#runs tbody tr").first
    assert best_row.get_attribute("data-run-id") == diabetes["best"]
    # open the best run and see its charts
    best_row.locator('td[data-column="attributes.run_name"] a').click()
    page.wait_for_url(f"**/ui/runs/{diabetes['best']}")
    page.wait_for_selector("#charts[data-loaded=true]")
    traces = page.eval_on_selector('.chart[data-key="rmse"]', "e => e.data.length")
    assert traces == 1
    alpha = diabetes["runs"][diabetes["best"]]["alpha"]
    assert page.locator("table[aria-label=Parameters]").inner_text().split() == [
        "alpha",
        f"{alpha:.1f}",
        "solver",
        "auto",
    ]
    # download its model file and load it
    page.locator("#file-tree summary", has_text="outputs/").click()
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download outputs/model_alpha_{alpha}.pkl").click()
    data = Path(download.value.path()).read_bytes()
    assert data == diabetes["runs"][diabetes["best"]]["model"]
    assert pickle.loads(data).alpha == alpha


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server that requires tokens."""
    srv = start_server(tmp_path_factory.mktemp("locked"), {"TRAINYARD_AUTH": "required"})
    try:
        yield srv
    finally:
        srv.stop()


def test_signing_in_with_a_token_when_auth_is_required(browser: Any, locked: RunningServer) -> None:
    import trainyard

    secret = (locked.home / "admin.token").read_text().strip()
    with (
        trainyard.connect(locked.url, token=secret) as ws,
        ws.experiment("private").start_run(name="secret-run") as run,
    ):
        run.log("acc", 0.9)
    context = browser.new_context(base_url=locked.url)
    try:
        page = context.new_page()
        page.goto(f"/ui/runs/{run.run_id}")
        page.wait_for_url("**/ui/login?next=*")
        page.get_by_label("Token").fill("ty_not_a_real_token")
        page.get_by_role("button", name="Sign in").click()
        assert "unknown or revoked" in page.get_by_role("alert").inner_text()
        screenshot(page, "login")
        page.get_by_label("Token").fill(secret)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/ui/runs/{run.run_id}")
        # the page and the data its scripts fetch both pass with the cookie
        page.wait_for_selector("#charts[data-loaded=true]")
        assert page.eval_on_selector('.chart[data-key="acc"]', "e => e.data.length") == 1
        cookie = next(c for c in context.cookies() if c["name"] == "trainyard_token")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.evaluate("document.cookie") == ""  # scripts cannot read the token
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/ui/login")
        page.goto("/ui")
        page.wait_for_url("**/ui/login?next=*")
    finally:
        context.close()
