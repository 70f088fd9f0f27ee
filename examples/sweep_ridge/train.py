"""One trial of ``examples/sweep_ridge.yml``: Ridge on the diabetes data for one alpha.

Seed 001 looped over ten alphas in one process; here each alpha is a trial of a sweep, and the
sweep picks the best. The data ship with scikit-learn (no download); the split is seed 001's.
"""

from __future__ import annotations

import argparse
import math
import pickle
from pathlib import Path

from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

import trainyard


def rmse_for(alpha: float) -> tuple[Ridge, float]:
    """Fit Ridge(alpha) on seed 001's training split; the model and its test RMSE."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)
    model = Ridge(alpha=alpha).fit(X_train, y_train)
    return model, math.sqrt(mean_squared_error(y_test, model.predict(X_test)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--model-dir", default="outputs")
    args = parser.parse_args()
    model, rmse = rmse_for(args.alpha)
    trainyard.log("alpha_value", args.alpha)
    trainyard.log("rmse", rmse)  # the sweep's objective
    out = Path(args.model_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.pkl").write_bytes(pickle.dumps(model))
    print(f"alpha={args.alpha} rmse={rmse:.4f}")


if __name__ == "__main__":
    main()
