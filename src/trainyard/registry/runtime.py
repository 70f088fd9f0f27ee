"""A loaded ONNX model: an ONNX Runtime session with ``predict`` over DataFrames and arrays.

How inputs are fed (:meth:`OnnxModel.feeds`):

- a mapping whose keys are the model's input names: each value goes to its input;
- a table (pandas DataFrame, pyarrow Table or RecordBatch): a model with one input per column
  takes each column by name; a model with one tensor input takes the columns named by its
  ``trainyard.feature_names`` metadata, in that order (all columns, in order, when unknown);
- an array: a model with one input takes it whole (a 1-D array is one row, or one column when
  the input is one wide); a model with one-wide inputs takes its columns in input order.

Values are cast to each input's element type (strings for ``tensor(string)``).
``predict`` returns the first output (labels or values, flattened when one wide);
``predict_proba`` the ``probabilities`` output (or a ZipMap's, as an array).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from trainyard.errors import InvalidArgument
from trainyard.registry.signature import FEATURE_NAMES_KEY

_DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def _width(shape: list[Any]) -> int | None:
    if len(shape) < 2:
        return 1
    last = shape[-1]
    return last if isinstance(last, int) else None


class OnnxModel:
    """An ONNX Runtime session and the rules to feed it (see the module docstring).

    Args:
        source: the model's bytes or a path to its file.
        threads: intra-op threads (default: ONNX Runtime's choice, one per core).

    Example::

        model = OnnxModel("model.onnx")
        model.predict(df)          # labels or values, one per row
        model.predict_proba(df)    # (rows, classes) for a classifier
    """

    def __init__(self, source: bytes | str | os.PathLike[str], *, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        src = source if isinstance(source, bytes) else os.fspath(source)
        self.session = ort.InferenceSession(src, options, providers=["CPUExecutionProvider"])
        self.inputs = [(i.name, i.type, list(i.shape)) for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.feature_names: list[str] | None = (
            json.loads(meta[FEATURE_NAMES_KEY]) if FEATURE_NAMES_KEY in meta else None
        )

    def __repr__(self) -> str:
        return f"OnnxModel(inputs={[i[0] for i in self.inputs]}, outputs={self.outputs})"

    # ------------------------------------------------------------------ feeding
    def feeds(self, X: Any) -> dict[str, np.ndarray]:
        """The input arrays for ``X`` (a table, an array, or a mapping by input name)."""
        names = [i[0] for i in self.inputs]
        if isinstance(X, Mapping) and set(X) >= set(names):
            return {n: self._cast(i, np.asarray(X[n])) for i, n in enumerate(names)}
        column = _column_getter(X)
        if column is not None:
            return self._feeds_from_columns(column)
        arr = np.asarray(X)
        if len(self.inputs) == 1:
            return {names[0]: self._cast(0, arr)}
        if arr.ndim == 2 and arr.shape[1] == len(names):
            return {n: self._cast(i, arr[:, i]) for i, n in enumerate(names)}
        raise InvalidArgument(
            f"this model takes {len(names)} inputs {names}: pass a DataFrame with those "
            f"columns, or a mapping by input name (got an array of shape {arr.shape})"
        )

    def _feeds_from_columns(self, column: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
        available: list[str] = getattr(column, "names", [])
        name, kind, shape = self.inputs[0]
        by_name = self.feature_names is None and _width(shape) == 1 and name in available
        if len(self.inputs) > 1 or by_name:
            return {n: self._cast(i, column(n)) for i, (n, _, _) in enumerate(self.inputs)}
        cols = self.feature_names or available
        if not cols:
            raise InvalidArgument("the data has no columns")
        dtype = _DTYPES.get(kind, np.float32)
        # column_stack copies column by column into a row-major matrix, far faster than
        # assigning each column into a preallocated one (strided writes)
        parts = [np.asarray(column(c)) for c in cols]
        if dtype is not object:
            parts = [p if p.dtype == dtype else p.astype(dtype) for p in parts]
        return {name: self._cast(0, np.column_stack(parts))}

    def _cast(self, index: int, arr: np.ndarray) -> np.ndarray:
        name, kind, shape = self.inputs[index]
        dtype = _DTYPES.get(kind)
        if dtype is None:
            raise InvalidArgument(f"input {name!r} has type {kind}, which predict cannot feed")
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1) if _width(shape) == 1 and len(shape) >= 2 else arr
            if arr.ndim == 1 and len(shape) >= 2:
                arr = arr.reshape(1, -1)
        if dtype is object:
            if arr.dtype != object or not all(isinstance(v, str) for v in arr.flat[:64]):
                arr = arr.astype(str).astype(object)
            return arr
        return np.ascontiguousarray(arr, dtype=dtype)

    # ------------------------------------------------------------------ running
    def run(self, X: Any) -> dict[str, Any]:
        """Every output for ``X``, by output name."""
        feeds = self.feeds(X)
        return dict(zip(self.outputs, self.session.run(None, feeds), strict=True))

    def predict(self, X: Any) -> np.ndarray:
        """Labels (classifiers) or values (regressors): the first output, one row per row."""
        out = np.asarray(self.session.run([self.outputs[0]], self.feeds(X))[0])
        return out.ravel() if out.ndim == 2 and out.shape[1] == 1 else out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shaped (rows, classes).

        Raises:
            InvalidArgument: the model has no probability output (a regressor, say).
        """
        name = self.proba_output
        if name is None:
            raise InvalidArgument(
                f"this model has no probability output (its outputs are {self.outputs})"
            )
        return _as_matrix(self.session.run([name], self.feeds(X))[0])

    @property
    def proba_output(self) -> str | None:
        """The name of the probabilities output, if the model has one."""
        for name in self.outputs:
            if "prob" in name.lower():
                return name
        return None


def _column_getter(X: Any) -> Callable[[str], np.ndarray] | None:
    """A function giving a table's column by name as a 1-D array (None when X is no table)."""
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas
        cols = [str(c) for c in X.columns]

        def pandas_column(name: str) -> np.ndarray:
            if name not in X.columns:
                raise InvalidArgument(f"the model needs column {name!r}; the data has {cols}")
            return np.asarray(X[name].to_numpy())

        pandas_column.names = cols  # type: ignore[attr-defined]
        return pandas_column
    if hasattr(X, "column_names") and hasattr(X, "column"):  # pyarrow Table or RecordBatch
        names = list(X.column_names)

        def arrow_column(name: str) -> np.ndarray:
            if name not in names:
                raise InvalidArgument(f"the model needs column {name!r}; the data has {names}")
            return np.asarray(X.column(name).to_numpy(zero_copy_only=False))

        arrow_column.names = names  # type: ignore[attr-defined]
        return arrow_column
    return None


def _as_matrix(value: Any) -> np.ndarray:
    if isinstance(value, list) and value and isinstance(value[0], dict):  # a ZipMap's output
        keys = sorted(value[0])
        return np.array([[row[k] for k in keys] for row in value], dtype=np.float64)
    return np.asarray(value)
