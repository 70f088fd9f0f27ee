"""The SDK's registry against a real server: register from a run, upload, resolve, load, score."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trainyard.onnx
from tests.support import RunningServer
from trainyard.errors import Conflict, InvalidArgument, NotFound


def _gbr(regression: tuple[Any, Any]) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = regression
    return GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, y)


def test_register_from_a_run_then_load_and_alias(
    ws: Any, mixed: tuple[pd.DataFrame, Any], tmp_path: Path
) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    df, y = mixed
    # trees take the numeric columns as they are: scikit-learn compares them in float32 too, so
    # parity holds exactly (a float32 StandardScaler before trees can flip rows on a split)
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"])],
        remainder="passthrough",
    )
    pipe = Pipeline(
        [("pre", encode), ("rf", RandomForestClassifier(n_estimators=20, random_state=0))]
    ).fit(df, y)
    with ws.experiment("registry-sdk").start_run() as run:
        run.log("accuracy", float((pipe.predict(df) == y).mean()))
        v = run.register_model("churn-sdk", model=pipe, sample=df, keep_native=True)
    assert v.version == 1 and v.model_id.startswith("mv-")
    assert v.parity.passed and v.parity.compared == ["labels", "probabilities"]
    assert v.metrics == {"accuracy": pytest.approx(1.0, abs=0.2)}
    assert [i.name for i in v.signature.inputs] == ["age", "income", "city", "plan"]
    assert v.info.run_id == run.run_id and v.info.has_native
    model = ws.models.get("churn-sdk:1").load()
    np.testing.assert_array_equal(model.predict(df), pipe.predict(df))
    np.testing.assert_allclose(model.predict_proba(df), pipe.predict_proba(df), atol=1e-5)
    ws.models.set_alias("churn-sdk", "champion", 1)
    champion = ws.models.get("churn-sdk@champion")
    assert champion.model_id == v.model_id and champion.aliases == ["champion"]
    assert ws.models.get(v.model_id).version == 1
    native = champion.download(tmp_path, native=True)
    restored = pickle.loads(native.read_bytes())
    np.testing.assert_array_equal(restored.predict(df), pipe.predict(df))
    onnx_file = champion.download(tmp_path / "out.onnx")
    assert trainyard.onnx.load(onnx_file).predict(df).shape == (len(df),)
    assert "churn-sdk" in [m.name for m in ws.models.list()]
    assert ws.models.get_model("churn-sdk").aliases == {"champion": 1}


def test_failing_parity_refuses_unless_forced(ws: Any, regression: tuple[Any, Any]) -> None:
    X, _ = regression
    model = _gbr(regression)
    with ws.experiment("registry-sdk").start_run() as run:
        with pytest.raises(Conflict) as err:
            run.register_model("strict", model=model, sample=X, rtol=0, atol=0)
        assert "force=True" in err.value.message and err.value.details["value_mismatches"] > 0
        assert run.get_file_names() == []  # refused before anything was uploaded
        with pytest.raises(NotFound):
            ws.models.get_model("strict")
        v = run.register_model("strict", model=model, sample=X, rtol=0, atol=0, force=True)
    assert v.info.forced and not v.parity.passed and v.parity.max_abs_diff > 0
    assert ws.models.get("strict").info.forced


def test_register_own_onnx_file_and_corrupt_one(
    ws: Any, regression: tuple[Any, Any], tmp_path: Path
) -> None:
    X, _ = regression
    model = _gbr(regression)
    path = tmp_path / "model.onnx"
    path.write_bytes(trainyard.onnx.convert(model, X).SerializeToString())
    v1 = ws.models.register("uploaded", path=path, description="mine")
    assert (v1.version, v1.info.source.value, v1.info.description) == (1, "upload", "mine")
    np.testing.assert_allclose(v1.load().predict(X), model.predict(X), rtol=1e-4)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"definitely not a model")
    with pytest.raises(InvalidArgument, match="not an ONNX model"):
        ws.models.register("uploaded", path=bad)
    with pytest.raises(InvalidArgument, match="not a file"):
        ws.models.register("uploaded", path=tmp_path / "missing.onnx")
    assert ws.models.register("uploaded", path=path).version == 2
    assert [v.version for v in ws.models.versions("uploaded")] == [2, 1]
    ws.models.delete("uploaded:1")
    assert [v.version for v in ws.models.versions("uploaded")] == [2]
    ws.models.delete("uploaded")
    with pytest.raises(NotFound):
        ws.models.get("uploaded")


def test_score_file_through_the_sdk(
    ws: Any, classification: tuple[Any, Any], tmp_path: Path
) -> None:
    import pyarrow.parquet as pq
    from sklearn.linear_model import LogisticRegression

    X, y = classification
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = LogisticRegression(max_iter=500).fit(df, y)
    with ws.experiment("registry-sdk").start_run() as run:
        v = run.register_model("scorer", model=clf, sample=df)
    src = tmp_path / "in.csv"
    df.assign(customer=np.arange(len(df))).to_csv(src, index=False)
    report = v.score_file(src, tmp_path / "out.parquet", chunk_size=64, keep_columns=["customer"])
    assert report.rows == len(df) and report.chunks >= 4
    out = pq.read_table(report.output).to_pandas()
    assert list(out.columns) == ["customer", "prediction", *(f"probability_{i}" for i in range(3))]
    assert (out["customer"].to_numpy() == np.arange(len(df))).all()
    np.testing.assert_array_equal(out["prediction"].to_numpy(), clf.predict(df))


def test_load_refuses_a_failed_version(ws: Any, registry_server: RunningServer) -> None:
    with ws.experiment("registry-sdk").start_run() as run:
        failed = ws.models.record_failure("broken", run, "conversion failed: no converter")
    assert failed.status.value == "FAILED" and failed.info.status_reason.startswith("conversion")
    with pytest.raises(Conflict, match="FAILED"):
        failed.load()
