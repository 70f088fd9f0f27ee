"""Every supported model family converts to ONNX and passes the parity check (real ONNX Runtime)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trainyard.onnx
from trainyard.errors import InvalidArgument
from trainyard.registry.checks import inspect_onnx
from trainyard.registry.signature import signature_of


def _fit(model: Any, X: Any, y: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _classifiers() -> list[Any]:
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    return [
        SVC(),
        LogisticRegression(max_iter=500),
        RandomForestClassifier(n_estimators=30, random_state=0),
        GradientBoostingClassifier(n_estimators=30, random_state=0),
        lgb.LGBMClassifier(n_estimators=30, verbose=-1),
        xgb.XGBClassifier(n_estimators=30),
    ]


def _regressors() -> list[Any]:
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge

    return [
        Ridge(),
        GradientBoostingRegressor(n_estimators=50, random_state=0),
        lgb.LGBMRegressor(n_estimators=30, verbose=-1),
        xgb.XGBRegressor(n_estimators=30),
    ]


@pytest.mark.parametrize("model", _classifiers(), ids=lambda m: type(m).__name__)
def test_classifiers_convert_with_parity(model: Any, classification: tuple[Any, Any]) -> None:
    X, y = classification
    _fit(model, X, y)
    onx = trainyard.onnx.convert(model, X[:200])
    result = trainyard.onnx.check_parity(model, onx, X)
    assert result.passed, result.summary()
    assert result.rows == len(X) and result.label_mismatches == 0
    if hasattr(model, "predict_proba") and type(model).__name__ != "SVC":
        assert result.compared == ["labels", "probabilities"]
        loaded = trainyard.onnx.load(onx.SerializeToString())
        proba = loaded.predict_proba(X)
        assert proba.shape == (len(X), 3)
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-4, atol=1e-5)
    sig = signature_of(onx)
    assert sig["inputs"] == [{"name": "X", "type": "float32", "shape": [None, 6]}]
    assert sig["outputs"][0]["name"] == "label"


@pytest.mark.parametrize("model", _regressors(), ids=lambda m: type(m).__name__)
def test_regressors_convert_with_parity(model: Any, regression: tuple[Any, Any]) -> None:
    X, y = regression
    _fit(model, X, y)
    onx = trainyard.onnx.convert(model, X)
    result = trainyard.onnx.check_parity(model, onx, X)
    assert result.passed and result.compared == ["values"], result.summary()
    predicted = trainyard.onnx.load(onx.SerializeToString()).predict(X)
    assert predicted.shape == (len(X),)
    np.testing.assert_allclose(predicted, model.predict(X), rtol=1e-4, atol=1e-3)


def test_pipeline_with_column_transformer_over_mixed_columns(
    mixed: tuple[pd.DataFrame, Any],
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df, y = mixed
    pipe = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), ["age", "income"]),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
                    ]
                ),
            ),
            ("clf", LogisticRegression()),
        ]
    ).fit(df, y)
    onx = trainyard.onnx.convert(pipe, df)
    sig = signature_of(onx)
    assert [(i["name"], i["type"]) for i in sig["inputs"]] == [
        ("age", "int64"),
        ("income", "float32"),
        ("city", "string"),
        ("plan", "string"),
    ]
    assert sig["feature_names"] == ["age", "income", "city", "plan"]
    assert [o["name"] for o in sig["outputs"]] == ["label", "probabilities"]
    result = trainyard.onnx.check_parity(pipe, onx, df)
    assert result.passed and result.compared == ["labels", "probabilities"], result.summary()
    # columns are taken by name, whatever their order in the frame
    model = trainyard.onnx.load(onx.SerializeToString())
    shuffled = df[["plan", "income", "city", "age"]]
    np.testing.assert_array_equal(model.predict(shuffled), pipe.predict(df))


def test_a_numeric_frame_feeds_one_tensor_by_feature_name(regression: tuple[Any, Any]) -> None:
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = regression
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    model = _fit(GradientBoostingRegressor(n_estimators=20, random_state=0), df, y)
    onx = trainyard.onnx.convert(model, df)
    assert signature_of(onx)["feature_names"] == list(df.columns)
    loaded = trainyard.onnx.load(onx.SerializeToString())
    reordered = df[list(reversed(df.columns))].assign(extra=1.0)
    np.testing.assert_allclose(loaded.predict(reordered), model.predict(df), rtol=1e-4)
    np.testing.assert_allclose(loaded.predict(X), model.predict(df), rtol=1e-4)  # an array too
    with pytest.raises(InvalidArgument, match="needs column 'c0'"):
        loaded.predict(df.drop(columns=["c0"]))
    with pytest.raises(InvalidArgument, match="no probability output"):
        loaded.predict_proba(df)


def test_zero_tolerance_makes_float32_parity_fail(regression: tuple[Any, Any]) -> None:
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = regression
    model = _fit(GradientBoostingRegressor(n_estimators=50, random_state=0), X, y)
    onx = trainyard.onnx.convert(model, X)
    result = trainyard.onnx.check_parity(model, onx, X, rtol=0, atol=0)
    assert not result.passed and result.value_mismatches > 0 and result.max_abs_diff > 0
    assert "FAILED" in result.summary() and result.to_dict()["rtol"] == 0


def test_conversion_refusals_are_precise(
    mixed: tuple[pd.DataFrame, Any], classification: tuple[Any, Any]
) -> None:
    import lightgbm as lgb

    X, _ = classification
    with pytest.raises(InvalidArgument, match=r"no converter for builtins\.dict"):
        trainyard.onnx.convert({}, X)
    df, target = mixed
    model = _fit(lgb.LGBMClassifier(n_estimators=5, verbose=-1), df[["age", "income"]], target)
    with pytest.raises(InvalidArgument, match=r"string columns \['city', 'plan'\]"):
        trainyard.onnx.convert(model, df)
    with pytest.raises(InvalidArgument, match="must be 2-D"):
        trainyard.onnx.convert(model, X[0])
    with pytest.raises(InvalidArgument, match="needs a sample"):
        trainyard.onnx.convert(model, X[:0])


def test_inspect_refuses_what_onnx_runtime_cannot_load(tmp_path: Any) -> None:
    import onnx
    import onnx.helper as h

    bad = tmp_path / "bad.onnx"
    for content, check in [(b"", "empty"), (b"not an onnx file at all", "parse")]:
        bad.write_bytes(content)
        with pytest.raises(InvalidArgument) as err:
            inspect_onnx(bad, "the upload")
        assert err.value.details["check"] == check and "the upload" in err.value.message
    # a graph whose node uses an operator nobody defines: the checker refuses it
    node = h.make_node("NoSuchOp", ["x"], ["y"])
    graph = h.make_graph(
        [node],
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, 2])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, 2])],
    )
    bad.write_bytes(h.make_model(graph, opset_imports=[h.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(InvalidArgument) as err:
        inspect_onnx(bad)
    assert err.value.details["check"] == "onnx.checker" and "NoSuchOp" in err.value.message
