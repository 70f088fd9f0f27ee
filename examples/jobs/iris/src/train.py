"""Train a classifier on iris and log to the job's run: the LightGBM example of the docs.

LightGBM is used when it is installed, else scikit-learn's HistGradientBoostingClassifier (the
same kind of model). Run as a Trainyard job, ``trainyard.log`` lands in the job's run with no
configuration; run by hand, set TRAINYARD_RUN_ID first or it fails with a clear message.

Usage: python train.py --data iris.csv --model-dir out/ [--learning-rate 0.1] [--rounds 50]
"""

from __future__ import annotations

import argparse
import csv
import pickle
from pathlib import Path

import numpy as np

import trainyard


def load(path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = [k for k in rows[0] if k != "species"]
    classes = sorted({r["species"] for r in rows})
    x = np.array([[float(r[k]) for k in features] for r in rows])
    y = np.array([classes.index(r["species"]) for r in rows])
    return x, y, classes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    x, y, classes = load(args.data)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=42, stratify=y
    )
    try:
        from lightgbm import LGBMClassifier

        model = LGBMClassifier(
            n_estimators=args.rounds, learning_rate=args.learning_rate, verbose=-1
        )
        library = "lightgbm"
    except ImportError:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=args.rounds, learning_rate=args.learning_rate
        )
        library = "sklearn"
    run = trainyard.get_run()
    run.log_params({"library": library, "learning_rate": args.learning_rate, "rounds": args.rounds})
    print(f"training a {library} classifier on {len(x_train)} rows, {len(classes)} classes")
    model.fit(x_train, y_train)

    proba = model.predict_proba(x_test)
    accuracy = accuracy_score(y_test, proba.argmax(axis=1))
    loss = log_loss(y_test, proba, labels=list(range(len(classes))))
    trainyard.log("accuracy", accuracy)
    trainyard.log("log_loss", loss)
    print(f"accuracy {accuracy:.3f}  log_loss {loss:.3f}")

    out = Path(args.model_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "model.pkl", "wb") as f:
        pickle.dump({"model": model, "classes": classes}, f)
    print(f"model written to {out / 'model.pkl'}")


if __name__ == "__main__":
    main()
