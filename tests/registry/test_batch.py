"""Batch scoring in process: CSV and Parquet in, Parquet out, in chunks (real ONNX Runtime)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import trainyard.onnx
from trainyard.errors import InvalidArgument


@pytest.fixture(scope="module")
def regressor(regression: tuple[Any, Any]) -> tuple[Any, Any, pd.DataFrame]:
    from sklearn.ensemble import GradientBoostingRegressor

    X, y = regression
    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, y)
    loaded = trainyard.onnx.load(trainyard.onnx.convert(model, X).SerializeToString())
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    return model, loaded, frame


def test_parquet_in_chunks_matches_the_native_model(
    regressor: tuple[Any, Any, pd.DataFrame], tmp_path: Path
) -> None:
    model, loaded, frame = regressor
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(frame.assign(id=np.arange(len(frame)))), src)
    dst = tmp_path / "deep" / "out.parquet"
    report = trainyard.onnx.score_file(
        loaded, src, dst, chunk_size=50, keep_columns=["id"], progress=True
    )
    assert (report.rows, report.chunks, report.output) == (len(frame), 6, dst)
    assert report.rows_per_second > 0
    out = pq.read_table(dst).to_pandas()
    assert list(out.columns) == ["id", "prediction"]
    np.testing.assert_allclose(out["prediction"], model.predict(frame.to_numpy()), rtol=1e-4)
    assert [p.name for p in dst.parent.iterdir()] == ["out.parquet"]  # no temporary left


def test_csv_and_errors_leave_no_file(
    regressor: tuple[Any, Any, pd.DataFrame], tmp_path: Path
) -> None:
    model, loaded, frame = regressor
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    report = trainyard.onnx.score_file(loaded, src, tmp_path / "out.parquet", chunk_size=100)
    np.testing.assert_allclose(
        pq.read_table(report.output).column("prediction").to_numpy(),
        model.predict(frame.to_numpy()),
        rtol=1e-4,
    )
    (tmp_path / "in.txt").write_text("x")
    with pytest.raises(InvalidArgument, match=r"\.csv or \.parquet"):
        trainyard.onnx.score_file(loaded, tmp_path / "in.txt", tmp_path / "x.parquet")
    with pytest.raises(InvalidArgument, match="no such file"):
        trainyard.onnx.score_file(loaded, tmp_path / "nope.csv", tmp_path / "x.parquet")
    with pytest.raises(InvalidArgument, match="chunk_size"):
        trainyard.onnx.score_file(loaded, src, tmp_path / "x.parquet", chunk_size=0)
    frame.assign(c0="oops").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(Exception):  # noqa: B017 - a string where a number belongs
        trainyard.onnx.score_file(loaded, tmp_path / "bad.csv", tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()
    assert not list(tmp_path.glob(".x.parquet*"))


def test_model_with_one_input_per_column(mixed: tuple[pd.DataFrame, Any], tmp_path: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    df, y = mixed
    pipe = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [("cat", OneHotEncoder(), ["city", "plan"])], remainder="passthrough"
                ),
            ),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(df, y)
    loaded = trainyard.onnx.load(trainyard.onnx.convert(pipe, df).SerializeToString())
    src = tmp_path / "in.parquet"
    df.assign(unused="x").to_parquet(src)
    report = trainyard.onnx.score_file(loaded, src, tmp_path / "out.parquet", chunk_size=128)
    out = pq.read_table(report.output).to_pandas()
    assert list(out.columns) == ["prediction", "probability_0", "probability_1"]
    np.testing.assert_array_equal(out["prediction"], pipe.predict(df))
