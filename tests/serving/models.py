"""Small ONNX models for the serving tests, built once per process (real conversions)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@functools.cache
def iris_classifier() -> bytes:
    """Logistic regression on iris as a DataFrame: one float tensor X with named columns,
    outputs ``label`` and ``probabilities``."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import trainyard.onnx

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    return trainyard.onnx.convert(model, X).SerializeToString()  # type: ignore[no-any-return]


@functools.cache
def regressor(n_estimators: int = 10, features: int = 20) -> bytes:
    """Gradient boosting on an array: one float tensor X without column names."""
    from sklearn.ensemble import GradientBoostingRegressor

    import trainyard.onnx

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, features))
    y = 3 * X[:, 0] + X[:, 1] * X[:, 2]
    model = GradientBoostingRegressor(n_estimators=n_estimators, max_depth=3, random_state=0)
    return trainyard.onnx.convert(model.fit(X, y), X).SerializeToString()  # type: ignore[no-any-return]


@functools.cache
def mixed_classifier() -> bytes:
    """A pipeline on an int, a float and a string column: one input per column."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    import trainyard.onnx

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 200),
            "income": rng.normal(50_000, 10_000, 200),
            "city": rng.choice(["paris", "tokyo", "lima"], 200),
        }
    )
    y = ((df["age"] > 45) ^ (df["city"] == "tokyo")).astype(int)
    pre = ColumnTransformer(
        [("city", OneHotEncoder(handle_unknown="ignore"), ["city"])], remainder="passthrough"
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(df, y)
    return trainyard.onnx.convert(model, df).SerializeToString()  # type: ignore[no-any-return]


def scale_model(scale: float) -> bytes:
    """y = x * scale on x: float32 [N, 3] (no sklearn: instant)."""
    from tests.server.test_models import tiny_onnx

    return tiny_onnx(scale)


def write(folder: Path, name: str, content: bytes) -> Path:
    """``content`` saved as ``folder/name.onnx``."""
    path = folder / f"{name}.onnx"
    path.write_bytes(content)
    return path
