"""The converter interface, and how a sample becomes the ONNX model's inputs.

A converter turns a fitted model of one library into an ``onnx.ModelProto``. Contract:

- ``can_convert`` is cheap: it looks at the model's class and imports nothing heavy.
- ``convert`` returns a model that ONNX Runtime loads, whose first output is the labels
  (classifiers) or values (regressors) and, for classifiers, an output named ``probabilities``
  shaped (rows, classes) (no ZipMap), so :class:`trainyard.registry.runtime.OnnxModel` and the
  parity check read every converter's output alike.
- Inputs follow :func:`sample_layout`: a table with a string column, or a model that selects
  columns by name (a ``ColumnTransformer``), gets one input per column named after it; any other
  sample one float tensor ``X`` of shape (rows, features), with the column names, when the sample
  was a table, in the ``trainyard.feature_names`` metadata entry.
- Failures raise ``InvalidArgument`` saying what could not be converted and what to do instead.
"""

from __future__ import annotations

import abc
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trainyard.errors import InvalidArgument
from trainyard.registry.signature import FEATURE_NAMES_KEY

if TYPE_CHECKING:
    import onnx

OPSET = 17
"""The ONNX opset converters target: recent enough for every converter, old enough that any
ONNX Runtime of the last years (a serving replica, say) loads the result."""
ML_OPSET = 3
ONNXMLTOOLS_OPSET = 15
"""onnxmltools (LightGBM, XGBoost) supports opsets up to 15."""


class Converter(abc.ABC):
    """Converts fitted models of one library to ONNX (see the module docstring)."""

    name: str = ""

    @abc.abstractmethod
    def can_convert(self, model: Any) -> bool:
        """True if this converter handles ``model``'s class."""

    @abc.abstractmethod
    def convert(self, model: Any, sample: Any) -> onnx.ModelProto:
        """The ONNX model of ``model``, with inputs shaped after ``sample``."""


@dataclass(frozen=True)
class SampleLayout:
    """The inputs a sample calls for: ``columns`` is ``[(name, kind)]`` with kind ``float``,
    ``int`` or ``string``; ``per_column`` says one input per column rather than one tensor."""

    columns: list[tuple[str, str]]
    per_column: bool
    feature_names: list[str] | None


def _kind(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind in "fc":
        return "float"
    if kind in "iub":
        return "int"
    return "string"


def sample_layout(sample: Any, *, by_name: bool = False) -> SampleLayout:
    """How ``sample`` maps onto inputs; ``by_name``: the model selects columns by name."""
    if hasattr(sample, "columns") and hasattr(sample, "dtypes"):  # a pandas DataFrame
        names = [str(c) for c in sample.columns]
        if len(set(names)) != len(names):
            raise InvalidArgument(f"the sample has duplicate column names: {names}")
        kinds = [_kind(d) for d in sample.dtypes]
        per_column = by_name or "string" in kinds
        return SampleLayout(list(zip(names, kinds, strict=True)), per_column, names)
    arr = np.asarray(sample)
    if arr.ndim != 2:
        raise InvalidArgument(
            f"the sample must be 2-D (rows, features) or a DataFrame, got shape {arr.shape}"
        )
    if _kind(arr.dtype) == "string":
        raise InvalidArgument("an array sample must be numeric; pass string columns in a DataFrame")
    return SampleLayout([(f"f{i}", "float") for i in range(arr.shape[1])], False, None)


def numeric_only(layout: SampleLayout, library: str) -> None:
    """Refuse string columns for libraries that only take one numeric tensor."""
    strings = [n for n, k in layout.columns if k == "string"]
    if strings:
        raise InvalidArgument(
            f"{library} models convert from numeric features only; the sample has string "
            f"columns {strings}: encode them first (e.g. in a scikit-learn Pipeline)"
        )


def finish(
    onx: onnx.ModelProto, model: Any, layout: SampleLayout, converter: str
) -> onnx.ModelProto:
    """Record provenance (and the feature names of a one-tensor input) in the metadata."""
    cls = type(model)
    entries = {
        "trainyard.converter": converter,
        "trainyard.native_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    if layout.feature_names and not layout.per_column:
        entries[FEATURE_NAMES_KEY] = json.dumps(layout.feature_names)
    existing = {p.key for p in onx.metadata_props}
    for key, value in entries.items():
        if key not in existing:
            prop = onx.metadata_props.add()
            prop.key, prop.value = key, value
    return onx


def failed(library: str, model: Any, exc: BaseException) -> InvalidArgument:
    """The error for a conversion the library refused."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:500]
    return InvalidArgument(
        f"{library} could not convert {type(model).__name__}: {text}; convert it yourself and "
        "register the .onnx file with ws.models.register(name, path=...)",
        {"converter": library, "problem": str(exc)[:2000]},
    )
