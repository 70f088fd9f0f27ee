"""LightGBM's scikit-learn models (``LGBMClassifier``, ``LGBMRegressor``) through onnxmltools."""

from __future__ import annotations

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


class LightGBMConverter(Converter):
    """LightGBM classifiers and regressors (one float tensor in; no ZipMap out)."""

    name = "lightgbm"

    def can_convert(self, model: Any) -> bool:
        """True for LightGBM classes."""
        return type(model).__module__.split(".")[0] == "lightgbm"

    def convert(self, model: Any, sample: Any) -> onnx.ModelProto:
        """Convert with ``onnxmltools.convert_lightgbm``."""
        from onnxmltools import convert_lightgbm
        from onnxmltools.convert.common.data_types import FloatTensorType

        layout = sample_layout(sample)
        numeric_only(layout, "LightGBM")
        initial = [("X", FloatTensorType([None, len(layout.columns)]))]
        try:
            onx = convert_lightgbm(
                model, initial_types=initial, zipmap=False, target_opset=ONNXMLTOOLS_OPSET
            )
        except Exception as exc:
            raise failed("onnxmltools", model, exc) from exc
        return finish(onx, model, layout, self.name)
