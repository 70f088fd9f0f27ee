"""XGBoost's scikit-learn models (``XGBClassifier``, ``XGBRegressor``) through onnxmltools.

onnxmltools reads the trees from the booster's text dump, which names features ``f0, f1, ...``
only when the booster has no feature names: a model fitted on a DataFrame is converted from a
copy whose names are cleared (the names are kept in the ONNX metadata instead).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from trainyard.registry.converters._base import (
    ONNXMLTOOLS_OPSET,
    Converter,
    failed,
    finish,
    numeric_only,
    sample_layout,
)

if TYPE_CHECKING:
    import onnx


class XGBoostConverter(Converter):
    """XGBoost classifiers and regressors (one float tensor in)."""

    name = "xgboost"

    def can_convert(self, model: Any) -> bool:
        """True for XGBoost classes."""
        return type(model).__module__.split(".")[0] == "xgboost"

    def convert(self, model: Any, sample: Any) -> onnx.ModelProto:
        """Convert with ``onnxmltools.convert_xgboost``."""
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType

        layout = sample_layout(sample)
        numeric_only(layout, "XGBoost")
        initial = [("X", FloatTensorType([None, len(layout.columns)]))]
        target = model
        booster = model.get_booster()
        if booster.feature_names is not None:
            target = copy.deepcopy(model)
            target.get_booster().feature_names = None
        try:
            onx = convert_xgboost(target, initial_types=initial, target_opset=ONNXMLTOOLS_OPSET)
        except Exception as exc:
            raise failed("onnxmltools", model, exc) from exc
        return finish(onx, model, layout, self.name)
