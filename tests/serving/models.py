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
def mixed_classifier(string_labels: bool = False) -> bytes:
    """A pipeline on an int, a float and a string column: one input per column (with
    ``string_labels``, it predicts ``"yes"``/``"no"`` rather than 1/0)."""
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
    if string_labels:
        y = y.map({0: "no", 1: "yes"})
    pre = ColumnTransformer(
        [("city", OneHotEncoder(handle_unknown="ignore"), ["city"])], remainder="passthrough"
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(df, y)
    return trainyard.onnx.convert(model, df).SerializeToString()  # type: ignore[no-any-return]


def lookup_model() -> bytes:
    """y = [10, 20, 30][i] on i: int64 [N, 1]; ONNX Runtime refuses an index outside -3..2
    when it runs (the request's values decode fine: a failure only the model sees)."""
    import onnx
    from onnx import helper as h

    graph = h.make_graph(
        [h.make_node("Gather", ["table", "i"], ["y"], axis=0)],
        "lookup",
        [h.make_tensor_value_info("i", onnx.TensorProto.INT64, [None, 1])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 1])],
        [h.make_tensor("table", onnx.TensorProto.FLOAT, [3], [10.0, 20.0, 30.0])],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], producer_name="test")
    model.ir_version = 8
    return model.SerializeToString()


def slow_model(width: int = 200_000) -> bytes:
    """y = x * width on x: float32 [N, 3], the slow way (each value expanded ``width`` times,
    then summed): about 0.1 ms per row on one thread."""
    import onnx
    from onnx import helper as h

    graph = h.make_graph(
        [
            h.make_node("Unsqueeze", ["x", "axis"], ["x3"]),
            h.make_node("Expand", ["x3", "shape"], ["big"]),
            h.make_node("ReduceSum", ["big", "axis"], ["y"], keepdims=0),
        ],
        "slow",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 3])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 3])],
        [
            h.make_tensor("axis", onnx.TensorProto.INT64, [1], [2]),
            h.make_tensor("shape", onnx.TensorProto.INT64, [3], [1, 1, width]),
        ],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], producer_name="test")
    model.ir_version = 8
    return model.SerializeToString()


def scale_model(scale: float) -> bytes:
    """y = x * scale on x: float32 [N, 3] (no sklearn: instant)."""
    from tests.server.test_models import tiny_onnx

    return tiny_onnx(scale)


def write(folder: Path, name: str, content: bytes) -> Path:
    """``content`` saved as ``folder/name.onnx``."""
    path = folder / f"{name}.onnx"
    path.write_bytes(content)
    return path
