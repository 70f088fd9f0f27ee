"""Recipes: a folder that trains a model and scores data with it, run by ``trainyard recipe run``.

::

    my_recipe/
      pipeline.py    train(config, data) -> model          (required)
                     score(config, data, model) -> preds    (optional: default, model.predict)
                     evaluate(config, data, model) -> dict  (optional: metrics to log)
                     features(config, data) -> X            (optional: default, data less target)
      config.json    {"name": "retail-sales",                the registered model
                      "experiment": "retail-sales",          optional, default: the name
                      "target": "weeklySalesAhead",
                      "hyperparameters": {"n_estimators": 100, ...},
                      "data": {"train": "data/train.csv", "score": "data/score.csv"},
                      "keep_columns": ["store", "date"],     optional, copied into the scores
                      "output": "scores.parquet"}            optional, relative to the folder

Training loads the train data (CSV or Parquet, relative to the folder), starts a run in the
experiment, logs the hyperparameters as params, calls ``train``, logs what ``evaluate`` returns,
then registers the model from the run (conversion to ONNX with the parity check, on the first
``sample_rows`` rows of the features, 1,000 by default). If conversion or parity fails, a FAILED
version records why, and the error is raised.

Scoring loads the model version (``name``, or ``--model REF``) and scores the score data in
chunks into Parquet: with ``score`` when the pipeline defines it (it gets each chunk as a
DataFrame and the loaded ONNX model, whose ``predict`` takes DataFrames), else with the model's
outputs.

This module is SDK-side code: it reaches the server only through the SDK workspace it is given
(``ws``), so it runs the same in the CLI's process now and inside a job later (where the CLI
attaches to the job's run instead of starting one).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from trainyard.errors import InvalidArgument, TrainyardError
from trainyard.registry.batch import BatchReport, score_file


@dataclass(frozen=True)
class Recipe:
    """A loaded recipe folder."""

    root: Path
    config: dict[str, Any]
    pipeline: ModuleType

    @property
    def name(self) -> str:
        """The registered model's name."""
        return str(self.config["name"])

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The ``hyperparameters`` section (logged as params)."""
        return dict(self.config.get("hyperparameters") or {})

    def data_path(self, which: str) -> Path:
        """The path of the ``train`` or ``score`` data, resolved against the folder."""
        data = self.config.get("data") or {}
        rel = data.get(which) if isinstance(data, dict) else data
        if not rel:
            raise InvalidArgument(f"{self.root / 'config.json'}: data.{which} is not set")
        return (self.root / rel).resolve()


def load_recipe(folder: str | Path) -> Recipe:
    """Read ``config.json`` and import ``pipeline.py`` from ``folder``.

    Raises:
        InvalidArgument: a file is missing, the config is not a JSON object with a ``name``, or
            the pipeline has no ``train``.
    """
    root = Path(folder).resolve()
    config_file, pipeline_file = root / "config.json", root / "pipeline.py"
    for f in (config_file, pipeline_file):
        if not f.is_file():
            raise InvalidArgument(f"{str(root)!r} is not a recipe: {f.name} is missing")
    try:
        config = json.loads(config_file.read_text())
    except ValueError as exc:
        raise InvalidArgument(f"{config_file} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise InvalidArgument(f'{config_file} must be a JSON object with a "name" (the model)')
    spec = importlib.util.spec_from_file_location(
        f"_trainyard_recipe_{uuid.uuid4().hex}", pipeline_file
    )
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"cannot import {pipeline_file}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(root))  # the pipeline may import its own helper modules
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root))
    if not callable(getattr(module, "train", None)):
        raise InvalidArgument(f"{pipeline_file} must define train(config, data) -> model")
    return Recipe(root, config, module)


def read_table(path: Path) -> Any:
    """A CSV or Parquet file as a pandas DataFrame."""
    import pandas as pd

    if not path.is_file():
        raise InvalidArgument(f"data file {str(path)!r} does not exist")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] in ([".parquet"], [".pq"]):
        return pd.read_parquet(path)
    if ".csv" in suffixes:
        return pd.read_csv(path)
    raise InvalidArgument(f"data file {str(path)!r}: use .csv or .parquet")


def features(recipe: Recipe, data: Any) -> Any:
    """The model's input: the pipeline's ``features``, else the data without the target."""
    fn = getattr(recipe.pipeline, "features", None)
    if callable(fn):
        return fn(recipe.config, data)
    target = recipe.config.get("target")
    return data.drop(columns=[target]) if target and target in data.columns else data


def train(recipe: Recipe, ws: Any, *, run: Any = None, force: bool = False) -> Any:
    """Train, log and register; returns the SDK's ``ModelVersion``.

    Args:
        recipe: the loaded recipe.
        ws: the SDK workspace (``trainyard.connect(...)``).
        run: a run to log into (a job's); by default a new run of the recipe's experiment,
            completed at the end (FAILED, with the message, when something raises).
        force: register even if the parity check fails.
    """
    data = read_table(recipe.data_path("train"))
    if run is None:
        experiment = ws.experiment(str(recipe.config.get("experiment") or recipe.name))
        with experiment.start_run(tags={"trainyard.recipe": recipe.root.name}) as new_run:
            return _train_in(recipe, ws, new_run, data, force)
    return _train_in(recipe, ws, run, data, force)


def _train_in(recipe: Recipe, ws: Any, run: Any, data: Any, force: bool) -> Any:
    if recipe.hyperparameters:
        run.log_params(recipe.hyperparameters)
    model = recipe.pipeline.train(recipe.config, data)
    evaluate = getattr(recipe.pipeline, "evaluate", None)
    if callable(evaluate):
        for key, value in dict(evaluate(recipe.config, data, model)).items():
            run.log(key, float(value))
    sample = features(recipe, data)[: int(recipe.config.get("sample_rows", 1000))]
    try:
        return run.register_model(recipe.name, model=model, sample=sample, force=force)
    except TrainyardError as exc:
        ws.models.record_failure(recipe.name, run, exc.message, details=exc.details)
        raise


def score(
    recipe: Recipe,
    ws: Any,
    *,
    ref: str | None = None,
    output: Path | None = None,
    chunk_size: int = 100_000,
    progress: bool = True,
) -> tuple[Any, BatchReport]:
    """Score the recipe's score data with a registered version into Parquet.

    Returns the version used and the batch report.
    """
    version = ws.models.get(ref or recipe.name)
    model = version.load()
    dst = output or recipe.root / str(recipe.config.get("output") or "scores.parquet")
    user_score = getattr(recipe.pipeline, "score", None)
    predict = None
    if callable(user_score):

        def predict(batch: Any) -> dict[str, np.ndarray]:
            preds = user_score(recipe.config, batch.to_pandas(), model)
            return {"prediction": np.asarray(preds).ravel()}

    report = score_file(
        model,
        recipe.data_path("score"),
        Path(dst),
        chunk_size=chunk_size,
        keep_columns=list(recipe.config.get("keep_columns") or []),
        progress=progress,
        predict=predict,
    )
    return version, report
