"""Seed 001, on Trainyard: train Ridge on the diabetes data for ten alphas, then pick the best.

Run a server first (``trainyard up``), then ``python examples/diabetes_ridge.py``. The server is
taken from ``TRAINYARD_URI`` (default ``http://127.0.0.1:8765``).
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

import trainyard


def main(output_dir: str = ".") -> str:
    """Train, log and upload one run per alpha; download the best model; return its path."""
    ws = trainyard.connect()
    exp = ws.experiment("diabetes-regression")

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=66)

    for alpha in np.arange(0.0, 1.0, 0.1):
        with exp.start_run() as run, tempfile.TemporaryDirectory() as tmp:
            model = Ridge(alpha=alpha).fit(X_train, y_train)
            rmse = float(np.sqrt(mean_squared_error(y_test, model.predict(X_test))))
            run.log_params({"alpha": f"{alpha:.1f}"})
            run.log("alpha_value", float(alpha))
            run.log("rmse", rmse)
            model_file = Path(tmp) / f"model_alpha_{alpha:.1f}.pkl"
            model_file.write_bytes(pickle.dumps(model))
            run.upload_file(name=f"outputs/{model_file.name}", path=str(model_file))
            print(f"alpha={alpha:.1f} rmse={rmse:.2f} run={run.run_id}")

    runs = list(exp.runs())
    print(f"{len(runs)} runs in {exp.name!r}")
    best = exp.best_run("rmse", goal="min")
    assert best is not None
    print(f"best run: {best.run_id} rmse={best.get_metrics()['rmse']:.2f}")
    files = best.get_file_names()
    print("its files:", files)
    model_name = next(f for f in files if f.endswith(".pkl"))
    return best.download_file(name=model_name, output_path=output_dir)


if __name__ == "__main__":
    print("downloaded", main())
