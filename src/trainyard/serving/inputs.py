"""A model's inputs as scoring sees them, and the checks that turn JSON rows into its feeds.

Two layouts take tabular JSON (rows, records, columns):

- **matrix**: one rank-2 tensor (rows, features), e.g. ``X: float32 [N, 20]``; its columns are
  the ``trainyard.feature_names`` of the model (unnamed when it was converted from an array);
- **columns**: one input per column, each ``[N, 1]`` (or ``[N]``), named after the column, of
  its own type (what :func:`trainyard.onnx.convert` makes of a DataFrame with strings).

Any other model (several wide tensors, images) is scored through the Open Inference Protocol,
which names each tensor. Rows become arrays with one ``numpy.asarray`` call; Python only looks
at single values on the error path, to name the column at fault. A value's JSON type must
suit its column: numbers (``true``/``false`` count as 1/0) for numeric columns, ``null`` only
in float columns (as NaN), whole numbers for integer columns, strings for string columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainyard.errors import InvalidArgument

ORT_TYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}

_NUMERIC = frozenset("fiub")
_ALLOWED_TYPES: dict[str, frozenset[type]] = {
    "f": frozenset({float, int, bool, type(None)}),
    "i": frozenset({int, bool}),
    "b": frozenset({bool}),
    "O": frozenset({str}),
}
_TYPE_WORDS = {"f": "numbers", "i": "whole numbers", "b": "true/false", "O": "strings"}


@dataclass(frozen=True, slots=True)
class TensorInput:
    """One graph input: its name, element type (numpy) and shape (None for any size)."""

    name: str
    dtype: Any
    shape: tuple[int | str | None, ...]
    kind: str = field(init=False)
    """The numpy kind of the element type: ``f``, ``i``, ``b`` or ``O`` (strings)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", str(np.dtype(self.dtype).kind))


def _bad(column: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"column {column!r}: {message}", {"column": column})


class ModelInputs:
    """The inputs of one model and how tabular rows feed them (see the module docstring).

    Args:
        tensors: the graph's inputs, in order.
        feature_names: the column names of a matrix input, when the model records them.
    """

    def __init__(self, tensors: Sequence[TensorInput], feature_names: Sequence[str] | None):
        self.tensors = list(tensors)
        first = self.tensors[0] if self.tensors else None
        self.layout = "other"
        self.columns: list[str] | None = None
        self.width: int | None = None
        if first is not None and len(self.tensors) == 1 and len(first.shape) == 2:
            self.layout = "matrix"
            last = first.shape[1]
            self.width = last if isinstance(last, int) else None
            names = list(feature_names or [])
            if names and (self.width is None or len(names) == self.width):
                self.columns = names
                self.width = len(names)
        elif self.tensors and all(
            len(t.shape) == 1 or (len(t.shape) == 2 and t.shape[1] == 1) for t in self.tensors
        ):
            self.layout = "columns"
            self.columns = [t.name for t in self.tensors]
            self.width = len(self.tensors)
        self._index = {c: i for i, c in enumerate(self.columns or [])}
        self.float_matrix = (
            first if self.layout == "matrix" and first and first.kind == "f" else None
        )
        """The input when it is one float matrix: rows of numbers feed it without Python floats."""

    # ------------------------------------------------------------------ public
    def feeds(
        self, rows: Any, columns: Sequence[str] | None = None
    ) -> tuple[dict[str, np.ndarray], int]:
        """The feeds for row-major ``rows`` whose columns are ``columns`` (None: the model's
        order), and the number of rows.

        Raises:
            InvalidArgument: no rows, a row of the wrong length, a missing or extra column, or
                a value of the wrong type; the message names the column.
        """
        if self.layout == "other":
            raise InvalidArgument(
                f"this model takes tensors {[t.name for t in self.tensors]} that are not one "
                "table: score it through the Open Inference Protocol (/v2/models/NAME/infer)"
            )
        if not isinstance(rows, list) or not rows:
            raise InvalidArgument("no rows to score: send at least one row")
        order = self._order(columns)
        if self.layout == "matrix":
            return self._matrix(rows, columns or self.columns, order), len(rows)
        return self._columns(rows, columns or self.columns or [], order), len(rows)

    def require_names(self) -> list[str]:
        """The column names (records and columns forms need them)."""
        if self.columns is None:
            raise InvalidArgument(
                "this model's columns have no names (it was converted from an array, not a "
                'DataFrame): send rows in model order, {"inputs": [[...], ...]}'
            )
        return self.columns

    def check_names(self, given: Sequence[str]) -> None:
        """A column list must hold exactly the model's columns (any order), each once."""
        names = self.require_names()
        seen: set[str] = set()
        for c in given:
            if not isinstance(c, str):
                raise InvalidArgument(f"column names must be strings, got {c!r}")
            if c in seen:
                raise _bad(c, "is given twice")
            if c not in self._index:
                raise _bad(c, f"is not a column of this model (its columns: {names})")
            seen.add(c)
        for c in names:
            if c not in seen:
                raise _bad(c, "is missing")

    # ------------------------------------------------------------------ layouts
    def _order(self, columns: Sequence[str] | None) -> list[int] | None:
        if columns is None or list(columns) == self.columns:
            return None
        self.check_names(columns)
        return [list(columns).index(c) for c in self.columns or []]

    def _matrix(
        self, rows: list[Any], names: Sequence[str] | None, order: list[int] | None
    ) -> dict[str, np.ndarray]:
        t = self.tensors[0]
        try:
            arr = np.asarray(rows, dtype=np.object_ if t.kind == "O" else None)
        except (ValueError, TypeError):
            raise self._ragged(rows) from None
        if arr.ndim != 2:
            raise self._ragged(rows)
        if self.width is not None and arr.shape[1] != self.width:
            raise self._ragged(rows)
        if arr.dtype.kind not in _NUMERIC or t.kind not in _NUMERIC:
            if arr.dtype.kind == "U":  # a string among numbers: numpy made them all strings
                arr = np.asarray(rows, dtype=np.object_)
            arr = self._checked_objects(arr, t, names)
        elif t.kind in "ib" and arr.dtype.kind != t.kind:
            self._checked_objects(arr.astype(np.object_), t, names)
        if order is not None:
            arr = arr[:, order]
        return {t.name: np.ascontiguousarray(arr, dtype=t.dtype)}

    def _columns(
        self, rows: list[Any], names: Sequence[str], order: list[int] | None
    ) -> dict[str, np.ndarray]:
        try:
            arr = np.asarray(rows, dtype=np.object_)
        except (ValueError, TypeError):
            raise self._ragged(rows) from None
        if arr.ndim != 2 or arr.shape[1] != len(self.tensors):
            raise self._ragged(rows)
        feeds: dict[str, np.ndarray] = {}
        for i, t in enumerate(self.tensors):
            j = i if order is None else order[i]
            col = self._checked_objects(arr[:, j : j + 1], t, [t.name])
            col = col.astype(t.dtype) if t.kind != "O" else col
            feeds[t.name] = col if len(t.shape) == 2 else col.reshape(-1)
        return feeds

    # ------------------------------------------------------------------ errors
    def _checked_objects(
        self, arr: np.ndarray, t: TensorInput, names: Sequence[str] | None
    ) -> np.ndarray:
        """An object or string matrix, checked column by column against ``t``'s type."""
        allowed = _ALLOWED_TYPES[t.kind if t.kind != "u" else "i"]
        for j in range(arr.shape[1]):
            col = arr[:, j]
            found = set(map(type, col))
            if found <= allowed:
                continue
            wrong = next(v for v in col if type(v) not in allowed)
            name = names[j] if names and j < len(names) else f"#{j}"
            raise _bad(
                name,
                f"takes {_TYPE_WORDS.get(t.kind, t.kind)} ({np.dtype(t.dtype).name}), "
                f"got {wrong!r}",
            )
        if t.kind == "f":
            return np.where(arr == None, np.nan, arr).astype(t.dtype)  # noqa: E711
        return arr

    def _ragged(self, rows: list[Any]) -> InvalidArgument:
        want = self.width
        for i, row in enumerate(rows):
            if not isinstance(row, list | tuple):
                return InvalidArgument(
                    f"row {i} is {type(row).__name__}: each row must be a list of values"
                    + (f" ({want} per row)" if want else ""),
                    {"row": i},
                )
            if want is not None and len(row) != want:
                return self._width_error(i, len(row), want)
            if any(isinstance(v, list | dict) for v in row):
                return InvalidArgument(f"row {i} holds a list or an object: values must be scalars")
        return InvalidArgument("the rows must all have the same number of values")

    def _width_error(self, i: int, got: int, want: int) -> InvalidArgument:
        cols = self.columns
        if cols is None:
            return InvalidArgument(f"row {i} has {got} values; the model takes {want}", {"row": i})
        if got < want:
            missing = cols[got]
            return InvalidArgument(
                f"row {i} has {got} values; the model takes {want}: column {missing!r} "
                f"(and any after it) is missing. Columns in order: {cols}",
                {"row": i, "column": missing},
            )
        return InvalidArgument(
            f"row {i} has {got} values; the model takes {want} (an extra column after "
            f"{cols[-1]!r}). Columns in order: {cols}",
            {"row": i},
        )


def inputs_of(session_inputs: Sequence[Any], feature_names: Sequence[str] | None) -> ModelInputs:
    """The :class:`ModelInputs` of an ONNX Runtime session (``session.get_inputs()``).

    Raises:
        InvalidArgument: an input of a type scoring cannot feed (e.g. a sequence or a map).
    """
    tensors = []
    for i in session_inputs:
        dtype = ORT_TYPES.get(i.type)
        if dtype is None:
            raise InvalidArgument(f"input {i.name!r} has type {i.type}, which scoring cannot feed")
        shape = tuple(d if isinstance(d, int) and d > 0 else None for d in i.shape)
        tensors.append(TensorInput(i.name, dtype, shape))
    return ModelInputs(tensors, feature_names)
