"""The jobs pages in Chromium: the list, a finished job, a live job's log tail, unknown jobs."""

from __future__ import annotations

import time
from typing import Any

from tests.ui.conftest import screenshot


def test_jobs_list_links_to_a_finished_job(page: Any, finished_job: Any) -> None:
    name = finished_job.name
    page.goto("/ui")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    page.wait_for_url("**/ui/jobs")
    row = page.locator("table[aria-label=Jobs] tbody tr", has_text=name)
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == ["command", "Completed", "local"]
    assert cells[4] and cells[5] not in ("", "—")  # created, duration
    assert row.locator(".badge").get_attribute("class") == "badge status-completed"
    assert "prints <300> lines" in cells[0]  # escaped text, shown as written
    screenshot(page, "jobs")

    row.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/ui/jobs/{name}")
    assert page.locator("h1").inner_text() == name
    assert page.locator("#command").inner_text() == finished_job.info.command
    details = page.locator("#job-details").inner_text()
    assert "Completed" in details and "Exit code\n0" in details and "local" in details
    assert "python" in page.locator("#job-env").inner_text()
    inputs = page.locator("table[aria-label=Inputs] tbody tr").all_inner_texts()
    assert inputs == ["epochs\tliteral\t3\t"]
    outputs = page.locator("table[aria-label=Outputs] tbody tr")
    assert outputs.locator("th").inner_text() == "model"
    assert outputs.get_by_role("link").inner_text() == "outputs/model/"
    tags = page.locator("table[aria-label=Tags]").inner_text()
    assert "ml <ops>" in tags

    # the log tail: the last 200 of 300 lines, and stderr as text (not markup)
    stdout = page.locator("#job-stdout").inner_text().splitlines()
    assert stdout == [f"line {i}" for i in range(100, 300)]
    assert page.locator("#job-stderr").inner_text().strip() == "<b>careful</b> with 3"
    assert page.locator("#job-stderr b").count() == 0
    screenshot(page, "job")

    page.locator("#run-link").click()
    page.wait_for_url(f"**/ui/runs/{finished_job.run_id}")
    assert page.locator("h1").inner_text()


def test_a_running_job_refreshes_its_log_tail(page: Any, workspace: Any) -> None:
    job = workspace.jobs.create(
        "python -c \"import time; print('warming up', flush=True); time.sleep(4); "
        "print('all done', flush=True)\"",
        experiment_name="ui-jobs",
    )
    deadline = time.monotonic() + 30
    while job.status.value != "Running" and time.monotonic() < deadline:
        time.sleep(0.2)
    page.goto(f"/ui/jobs/{job.name}")
    assert "refreshing while the job is" in page.locator("#job-log-state").inner_text()
    page.wait_for_function(
        "document.getElementById('job-stdout').textContent.includes('all done')", timeout=20_000
    )
    page.wait_for_selector("#job-log-panel[data-done=true]", timeout=20_000)
    assert "warming up" in page.locator("#job-stdout").inner_text()
    assert "completed" in page.locator("#job-log-state").inner_text()


def test_unknown_job_and_workspace_are_404_pages(page: Any) -> None:
    response = page.goto("/ui/jobs/no-such-job")
    assert response.status == 404
    assert "no-such-job" in page.get_by_role("alert").inner_text()
    response = page.goto("/ui/w/no-such-workspace/jobs")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Not found"


def test_a_sweep_shows_its_trials_with_their_objective(page: Any, workspace: Any) -> None:
    log_loss = "import sys, trainyard; trainyard.log('loss', (float(sys.argv[1]) - 2) ** 2)"
    sweep = workspace.jobs.create_sweep(
        trial={"command": f'python -c "{log_loss}" ${{{{search_space.x}}}}'},
        search_space={"x": {"type": "choice", "values": [1, 2]}},
        objective={"primary_metric": "loss", "goal": "minimize"},
        sampling_algorithm="grid",
        limits={"max_total_trials": 2, "max_concurrent_trials": 2},
        experiment_name="ui-sweeps",
    )
    assert sweep.wait(timeout=60).value == "Completed"
    page.goto("/ui/jobs")
    link = page.get_by_role("link", name=sweep.name, exact=True)
    row = page.locator("table[aria-label=Jobs] tbody tr").filter(has=link)
    assert row.locator("td").nth(1).inner_text() == "sweep"
    link.click()
    page.wait_for_url(f"**/ui/jobs/{sweep.name}")
    assert "sweep job" in page.locator(".page-head").inner_text()
    assert "search_space.x" in page.locator("#command").inner_text()
    assert "minimize loss" in page.locator("#trials-h + span").inner_text()
    trials = page.locator("table[aria-label=Trials] tbody tr")
    assert trials.count() == 2
    got = {tuple(trials.nth(i).locator("td").all_inner_texts()[2:5]) for i in range(trials.count())}
    assert got == {("Completed", "x=1", "1"), ("Completed", "x=2", "0")}
    best = page.locator("table[aria-label=Trials] tr.best")
    assert best.locator("td").nth(3).inner_text() == "x=2"
    screenshot(page, "sweep")
    trial_name = best.locator("td").nth(1).inner_text()
    best.get_by_role("link", name=trial_name, exact=True).click()
    page.wait_for_url(f"**/ui/jobs/{trial_name}")
    assert "command job" in page.locator(".page-head").inner_text()
