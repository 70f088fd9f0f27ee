"""Small fitted models and data shared by the registry tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support import RunningServer, start_server


@pytest.fixture(scope="session")
def classification() -> tuple[np.ndarray, np.ndarray]:
    """300 rows, 6 features, 3 classes."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        300, 6, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    return X, y


@pytest.fixture(scope="session")
def regression() -> tuple[np.ndarray, np.ndarray]:
    """300 rows, 6 features."""
    from sklearn.datasets import make_regression

    X, y = make_regression(300, 6, noise=3.0, random_state=0)
    return X, y


@pytest.fixture(scope="session")
def mixed() -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric (float and int) and string columns, and a binary target."""
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50_000, 12_000, n),
            "city": rng.choice(["paris", "tokyo", "lima"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    y = ((df["age"] > 45) ^ (df["city"] == "tokyo")).astype(int).to_numpy()
    return df, y


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server (SQLite) for a test module."""
    srv = start_server(tmp_path_factory.mktemp("registry-home"), {})
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def ws(registry_server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An SDK workspace on the module's server, with a model cache of its own."""
    import trainyard

    monkeypatch.setenv("TRAINYARD_CACHE", str(tmp_path / "cache"))
    with trainyard.connect(registry_server.url) as workspace:
        yield workspace
