"""scikit-learn estimators and pipelines through skl2onnx (scalers, encoders, ColumnTransformer).

Classifiers are converted with ``zipmap=False`` so probabilities come out as one tensor. A sample
DataFrame with string columns, or a model whose first step is a ``ColumnTransformer``, gives one
input per column with its own type (float, int64 or string), as the transformer selects them by
name; otherwise the model takes one float tensor.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from trainyard.registry.converters._base import (
    ML_OPSET,
    OPSET,
    Converter,
    failed,
    finish,
    sample_layout,
)

if TYPE_CHECKING:
    import onnx


def _selects_by_name(model: Any) -> bool:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    return isinstance(first, ColumnTransformer)


def _is_classifier(model: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(model))


class SklearnConverter(Converter):
    """Any estimator or pipeline skl2onnx knows."""

    name = "sklearn"

    def can_convert(self, model: Any) -> bool:
        """True for scikit-learn classes."""
        return type(model).__module__.split(".")[0] == "sklearn"

    def convert(self, model: Any, sample: Any) -> onnx.ModelProto:
        """Convert with skl2onnx (opset 17, ai.onnx.ml 3)."""
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

        layout = sample_layout(sample, by_name=_selects_by_name(model))
        types = {"float": FloatTensorType, "int": Int64TensorType, "string": StringTensorType}
        if layout.per_column:
            initial = [(n, types[k]([None, 1])) for n, k in layout.columns]
        else:
            initial = [("X", FloatTensorType([None, len(layout.columns)]))]
        options = {id(model): {"zipmap": False}} if _is_classifier(model) else None
        try:
            with warnings.catch_warnings():
                # skl2onnx reads attributes scikit-learn has deprecated (SVC's probA_, ...)
                warnings.simplefilter("ignore", FutureWarning)
                onx = convert_sklearn(
                    model,
                    initial_types=initial,
                    options=options,
                    target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
                )
        except Exception as exc:
            raise failed("skl2onnx", model, exc) from exc
        return finish(onx, model, layout, self.name)
