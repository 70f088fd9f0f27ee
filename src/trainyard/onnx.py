"""ONNX on the SDK side: convert a fitted model, check parity, load, score files in batches.

These run in your process, where the native model lives; nothing here talks to the server.
The work is done by :mod:`trainyard.registry`'s pure modules (converters, parity, runtime,
batch), imported on first use so ``import trainyard.onnx`` stays light.

Example::

    import trainyard.onnx

    onx = trainyard.onnx.convert(model, X_train[:500])      # an onnx.ModelProto
    result = trainyard.onnx.check_parity(model, onx, X_train[:500])
    print(result.summary())
    session = trainyard.onnx.load(onx.SerializeToString())
    session.predict(X_test)

Parity tolerance: labels must match exactly; values and probabilities must satisfy
``|onnx - native| <= atol + rtol * |native|`` with ``rtol=1e-4`` and ``atol=1e-5`` by default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

    from trainyard.registry.batch import BatchReport
    from trainyard.registry.parity import ParityResult
    from trainyard.registry.runtime import OnnxModel

DEFAULT_RTOL = 1e-4
"""Relative tolerance of the parity check (see :mod:`trainyard.registry.parity`)."""
DEFAULT_ATOL = 1e-5
"""Absolute tolerance of the parity check."""


def convert(model: Any, sample: Any) -> onnx.ModelProto:
    """Convert a fitted scikit-learn, LightGBM or XGBoost model to ONNX.

    Args:
        model: the fitted model (a scikit-learn estimator or Pipeline, LightGBM, XGBoost).
        sample: rows of its input, a DataFrame or a 2-D array; a DataFrame with string columns,
            or a model starting with a ``ColumnTransformer``, gets one input per column.

    Raises:
        trainyard.errors.InvalidArgument: no converter for the model, or the converter failed.
    """
    from trainyard.registry.converters import convert as _convert

    return _convert(model, sample)


def check_parity(
    model: Any,
    onnx_model: Any,
    sample: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> ParityResult:
    """Compare the native model with its ONNX conversion on ``sample`` (labels exactly, values
    and probabilities within ``atol + rtol * |native|``)."""
    from trainyard.registry.parity import check_parity as _check

    return _check(model, onnx_model, sample, rtol=rtol, atol=atol)


def load(source: bytes | str | os.PathLike[str], *, threads: int | None = None) -> OnnxModel:
    """An ONNX Runtime session over a model's bytes or file, with ``predict`` and
    ``predict_proba`` taking DataFrames or arrays."""
    from trainyard.registry.runtime import OnnxModel

    return OnnxModel(source, threads=threads)


def score_file(
    model: OnnxModel,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    chunk_size: int = 100_000,
    keep_columns: list[str] | None = None,
    progress: bool = False,
) -> BatchReport:
    """Score a CSV or Parquet file into a Parquet file, ``chunk_size`` rows at a time."""
    from trainyard.registry.batch import score_file as _score

    return _score(
        model,
        Path(src),
        Path(dst),
        chunk_size=chunk_size,
        keep_columns=keep_columns,
        progress=progress,
    )


__all__ = ["DEFAULT_ATOL", "DEFAULT_RTOL", "check_parity", "convert", "load", "score_file"]
