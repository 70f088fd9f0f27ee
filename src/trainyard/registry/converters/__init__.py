"""Converters from native models to ONNX, one module per library behind ``_base.Converter``.

:func:`convert` picks the first converter whose ``can_convert`` accepts the model. The libraries
themselves (skl2onnx, onnxmltools) load only when a model of theirs is converted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trainyard.errors import InvalidArgument
from trainyard.registry.converters._base import Converter
from trainyard.registry.converters.lightgbm import LightGBMConverter
from trainyard.registry.converters.sklearn import SklearnConverter
from trainyard.registry.converters.xgboost import XGBoostConverter

if TYPE_CHECKING:
    import onnx

CONVERTERS: list[Converter] = [SklearnConverter(), LightGBMConverter(), XGBoostConverter()]


def converter_for(model: Any) -> Converter:
    """The converter for ``model``.

    Raises:
        InvalidArgument: no converter handles the model's class.
    """
    for converter in CONVERTERS:
        if converter.can_convert(model):
            return converter
    cls = type(model)
    raise InvalidArgument(
        f"no converter for {cls.__module__}.{cls.__qualname__}: trainyard converts scikit-learn "
        "estimators and pipelines, LightGBM and XGBoost models; convert others yourself and "
        "register the .onnx file with ws.models.register(name, path=...)"
    )


def convert(model: Any, sample: Any) -> onnx.ModelProto:
    """The ONNX model of a fitted ``model``, with inputs shaped after ``sample``."""
    if sample is None or len(sample) == 0:
        raise InvalidArgument("conversion needs a sample: a few rows of the model's input")
    return converter_for(model).convert(model, sample)


__all__ = ["CONVERTERS", "Converter", "convert", "converter_for"]
