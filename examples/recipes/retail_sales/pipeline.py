"""Retail sales: next week's sales of each store, with a gradient-boosting regressor.

The recipe of the seed's tutorial: ``train`` reads its hyperparameters from the configuration,
fits a ``GradientBoostingRegressor`` predicting ``weeklySalesAhead``, and returns the model;
``trainyard recipe run . --train`` then converts it to ONNX, checks parity and registers it (no
``convert_sklearn`` or ``ONNX_MODEL_PATH`` needed here). ``score`` predicts with whatever model
it is given: the native one here, the registered ONNX one under ``--score``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingRegressor

FEATURES = [
    "storeType",
    "storeSize",
    "weekOfYear",
    "isHoliday",
    "temperature",
    "fuelPrice",
    "cpi",
    "unemployment",
    "weeklySales",
]


def features(config: dict[str, Any], data: Any) -> Any:
    """The model's input columns."""
    return data[FEATURES].astype("float64")


def _split(config: dict[str, Any], data: Any) -> tuple[Any, Any]:
    """The last ``holdout_weeks`` weeks are kept out of training, to evaluate on."""
    cutoff = data["week"].max() - int(config.get("holdout_weeks", 8))
    return data[data["week"] <= cutoff], data[data["week"] > cutoff]


def train(config: dict[str, Any], data: Any) -> GradientBoostingRegressor:
    """Fit the regressor on all but the holdout weeks."""
    hp = config["hyperparameters"]
    fit_on, _ = _split(config, data)
    model = GradientBoostingRegressor(
        learning_rate=float(hp["learning_rate"]),
        n_estimators=int(hp["n_estimators"]),
        max_depth=int(hp["max_depth"]),
        random_state=1234,
    )
    model.fit(features(config, fit_on), fit_on[config["target"]])
    return model


def evaluate(config: dict[str, Any], data: Any, model: Any) -> dict[str, float]:
    """RMSE, MAPE and R² on the holdout weeks."""
    _, holdout = _split(config, data)
    y = holdout[config["target"]].to_numpy()
    pred = np.asarray(model.predict(features(config, holdout)))
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    mape = float(np.mean(np.abs(pred - y) / np.abs(y)))
    r2 = float(1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
    return {"rmse": rmse, "mape": mape, "r2": r2}


def score(config: dict[str, Any], data: Any, model: Any) -> Any:
    """Predicted sales for each row."""
    return model.predict(features(config, data))
