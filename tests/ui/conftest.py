"""A real server with real data, and Debian's Chromium driven by Playwright.

One server and one browser serve the whole browser suite (each test gets a fresh browser
context, so cookies and downloads do not leak between tests). The data is made through the
SDK, as a user would: the diabetes experiment of the seed tutorial (ten Ridge models on
scikit-learn's bundled diabetes data, a model file each), a run with a 100,000-point metric,
and whatever a test adds. Every test fails on an uncaught error in the page's scripts.

Screenshots go to ``test-artifacts/screenshots/`` (ignored by git); the runs page is also
copied to ``docs/images/runs.png`` when that file is missing or
``TRAINYARD_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import RunningServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SCREENSHOT = ROOT / "docs" / "images" / "runs.png"
VIEWPORT = {"width": 1280, "height": 860}


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if name == "runs" and (
        not DOCS_SCREENSHOT.exists() or os.environ.get("TRAINYARD_UPDATE_SCREENSHOTS") == "1"
    ):
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOT)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package (``scripts/test`` installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/test`, which installs Debian's "
            "chromium package, or `apt-get install -y chromium`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """``trainyard up`` on the embedded default (SQLite and a local folder)."""
    srv = start_server(tmp_path_factory.mktemp("studio"), {})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def page(browser: Any, studio: RunningServer) -> Iterator[Any]:
    """A fresh browser context and page on the studio; fails the test on a script error."""
    context = browser.new_context(base_url=studio.url, accept_downloads=True, viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"errors in the page's scripts: {errors}"


@pytest.fixture(scope="session")
def workspace(studio: RunningServer) -> Iterator[Any]:
    """The SDK connected to the studio's default workspace."""
    import trainyard

    ws = trainyard.connect(studio.url)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture(scope="session")
def diabetes(workspace: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seed tutorial's runs: alphas 0.1 to 1.0, rmse, a model file each."""
    import numpy as np
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import KFold, train_test_split

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    exp = workspace.experiment("diabetes-experiment")
    out = tmp_path_factory.mktemp("models")
    runs: dict[str, dict[str, Any]] = {}
    for alpha in [round(0.1 * i, 1) for i in range(1, 11)]:
        with exp.start_run() as run:
            run.log_params({"alpha": f"{alpha:.1f}", "solver": "auto"})
            run.log("alpha_value", alpha)
            folds = KFold(n_splits=5, shuffle=True, random_state=0).split(X_train)
            for step, (tr, va) in enumerate(folds):
                fold = Ridge(alpha=alpha).fit(X_train[tr], y_train[tr])
                err = math.sqrt(mean_squared_error(y_train[va], fold.predict(X_train[va])))
                run.log("fold_rmse", err, step=step)
            model = Ridge(alpha=alpha).fit(X_train, y_train)
            rmse = float(np.sqrt(mean_squared_error(y_test, model.predict(X_test))))
            run.log("rmse", rmse)
            path = out / f"model_alpha_{alpha}.pkl"
            path.write_bytes(pickle.dumps(model))
            run.upload_file(name=f"outputs/{path.name}", path=path)
            runs[run.run_id] = {"alpha": alpha, "rmse": rmse, "model": path.read_bytes()}
    best = exp.best_run("rmse", goal="min")
    assert best is not None
    return {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "runs": runs,
        "best": best.run_id,
        "by_rmse": sorted(runs, key=lambda r: runs[r]["rmse"]),
    }


JOB_COMMAND = (
    "python -c \"import sys; print(*[f'line {i}' for i in range(300)], sep=chr(10)); "
    "print('<b>careful</b> with ' + sys.argv[1], file=sys.stderr)\" ${{inputs.epochs}}"
)


@pytest.fixture(scope="session")
def finished_job(workspace: Any) -> Any:
    """A small command job run to completion: 300 lines of stdout, one of stderr."""
    job = workspace.jobs.create(
        JOB_COMMAND,
        inputs={"epochs": 3},
        outputs={"model": {}},
        experiment_name="ui-jobs",
        display_name="prints <300> lines",
        tags={"team": "ml <ops>"},
    )
    assert job.wait(timeout=60).value == "Completed", job.read_log("stderr")
    return job.refresh()


@pytest.fixture(scope="session")
def registered_model(workspace: Any) -> dict[str, Any]:
    """``ui-iris``: two versions registered from two runs (parity checked), an alias."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    name = "ui-iris"
    workspace.models.create(name, description="Iris <i>classifier</i>", tags={"owner": "ml"})
    runs: list[str] = []
    for c in (0.5, 2.0):
        with workspace.experiment("ui-models").start_run(name=f"iris-c{c}") as run:
            run.log_params({"C": c})
            clf = LogisticRegression(C=c, max_iter=500).fit(X, y)
            run.log("accuracy", float(clf.score(X, y)))
            run.register_model(name, model=clf, sample=X[:40], description=f"C={c}")
            runs.append(run.run_id)
    workspace.models.set_alias(name, "champion", 2)
    return {"name": name, "runs": runs}


@pytest.fixture(scope="session")
def split_endpoint(workspace: Any, registered_model: dict[str, Any]) -> dict[str, Any]:
    """``ui-ep``: blue (v1, 90%) and green (v2 with batching and request logs, 10%)."""
    name, model = "ui-ep", registered_model["name"]
    workspace.endpoints.create(name, description="iris in <real> time")
    workspace.endpoints.deployments.create(name, "blue", f"{model}:1", max_rows=500)
    workspace.endpoints.deployments.create(
        name,
        "green",
        f"{model}@champion",
        replicas=2,
        log_requests=True,
        batching={"max_rows": 16, "max_wait_us": 800},
    )
    workspace.endpoints.traffic(name, {"blue": 90, "green": 10})
    keys = workspace.endpoints.keys(name)
    return {"name": name, "model": model, "keys": [keys.primary, keys.secondary]}
