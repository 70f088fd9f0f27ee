"""A version registered through MLflow, converted to ONNX on the server.

The client registers a ``source`` (MLflow 3: ``models:/<model_id>``, the logged model whose
files it uploaded through our artifact proxy). When those files are in Trainyard's artifact
store and their flavor is scikit-learn, LightGBM or XGBoost, the server reads the ``MLmodel``
file, loads the native model from the flavor's file, reads the input example MLflow logged
beside it, converts the model with the registry's converters and checks parity on the example.
Only the files the flavor names are read, so a large model of another flavor is never fetched.

Loading and trust: XGBoost and LightGBM boosters load from their own formats, and skops files
(MLflow 3's default for scikit-learn and LightGBM) without running code as long as the types they
hold come from scikit-learn, LightGBM, XGBoost, NumPy or SciPy. A pickle (``pickle`` or
``cloudpickle``, e.g. autolog's ``model.pkl``), or a skops file holding other types, runs code
when it is loaded: that happens only with ``allow_code``, which the route grants for files that
were uploaded through this server and a caller with contributor rights in the workspace, the
right that already lets a caller run a job's code on the server.
"""

from __future__ import annotations

import importlib
import json
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainyard.core.entities import LoggedModelStatus
from trainyard.core.model_ref import check_model_name, check_version
from trainyard.errors import InvalidArgument, NotFound, TrainyardError
from trainyard.registry import RegistryService
from trainyard.server.mlflow import _registry
from trainyard.server.mlflow._wire import ARTIFACTS_SCHEME, artifact_uri
from trainyard.server.mlflow.artifacts import Target, locate
from trainyard.store.artifacts.paths import safe_key
from trainyard.tracking import LoggedModelService, TrackingService

MAX_COPY_DEPTH = 10
SAFE_SKOPS_ROOTS = ("sklearn", "lightgbm", "xgboost", "numpy", "scipy")
SAFE_SKOPS_TYPES = frozenset({"collections.OrderedDict", "collections.defaultdict"})


class CannotConvert(Exception):
    """Why the version cannot be converted (it is then recorded as FAILED with this reason)."""


@dataclass(frozen=True)
class Source:
    """Where an MLflow version's files are.

    ``storage`` is the URI they download from (``get-download-uri``); ``files`` the folder in
    Trainyard's artifact store, or None with ``problem`` saying why it cannot be read.
    """

    uri: str
    storage: str
    files: Target | None
    run_id: str | None = None
    model_id: str | None = None
    problem: str | None = None


@dataclass
class Outcome:
    """The converted ONNX file and its parity result, or why there is none."""

    onnx: Path | None = None
    parity: dict[str, Any] | None = None
    failure: str | None = None


def resolve_source(
    workspace: str,
    uri: str,
    tracking: TrackingService,
    models: LoggedModelService,
    registry: RegistryService,
    depth: int = 0,
) -> Source:
    """The files a ``source`` URI names (NotFound for a logged model, run or version that the
    workspace does not have)."""
    if uri.startswith("models:/m-"):
        model = models.get(workspace, uri[len("models:/") :].strip("/"))
        files = locate(workspace, model.artifact_location, tracking, models)
        problem = None
        if model.status is not LoggedModelStatus.READY:
            problem = f"logged model {model.model_id} is {model.status.value}, not finalized"
        storage = artifact_uri(model.artifact_location)
        return Source(uri, storage, files, model.source_run_id, model.model_id, problem)
    if uri.startswith("models:/"):  # models:/<name>/<version>: a copy of another version
        name, _, number = uri[len("models:/") :].strip("/").partition("/")
        if not number.isdigit():
            raise InvalidArgument(f"source {uri!r}: use models:/<model_id> or models:/NAME/N")
        v = registry.get_version(workspace, check_model_name(name), check_version(number))
        inner = v.tags.get(_registry.SOURCE_TAG)
        if inner is None or depth >= MAX_COPY_DEPTH:
            return Source(uri, uri, None, v.run_id, None, f"{name}:{number} has no MLflow files")
        found = resolve_source(workspace, inner, tracking, models, registry, depth + 1)
        return replace(found, uri=uri)
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/") :].partition("/")
        run = tracking.get_run(workspace, run_id)
        key = "/".join(
            p for p in (run.artifact_uri.strip("/"), safe_key(path, allow_empty=True)) if p
        )
        return _in_store(workspace, uri, key, tracking, models, run_id)
    if uri.startswith(ARTIFACTS_SCHEME):
        return _in_store(workspace, uri, uri[len(ARTIFACTS_SCHEME) :], tracking, models, None)
    return Source(uri, uri, None, problem="its files are not in Trainyard's artifact store")


def _in_store(
    workspace: str,
    uri: str,
    key: str,
    tracking: TrackingService,
    models: LoggedModelService,
    run_id: str | None,
) -> Source:
    storage = artifact_uri(safe_key(key, allow_empty=True))
    try:
        files = locate(workspace, key, tracking, models)
    except NotFound as exc:
        return Source(uri, storage, None, run_id, problem=exc.message)
    if files is None:
        return Source(uri, storage, None, run_id, problem="no run or logged model holds it")
    if files.models is not None:
        model = models.get(workspace, files.owner_id)
        return Source(uri, storage, files, run_id or model.source_run_id, model.model_id)
    return Source(uri, storage, files, run_id or files.owner_id)


@contextmanager
def converted(source: Source, allow_code: bool) -> Iterator[Outcome]:
    """Convert the source's model in a temporary folder, which lives as long as the context."""
    with tempfile.TemporaryDirectory(prefix="trainyard-mlflow-") as tmp:
        yield _attempt(source, Path(tmp), allow_code)


def _attempt(source: Source, folder: Path, allow_code: bool) -> Outcome:
    try:
        if source.files is None or source.problem:
            raise CannotConvert(source.problem or "its files cannot be read")
        return _convert(source.files, folder, allow_code)
    except CannotConvert as exc:
        return Outcome(failure=str(exc))
    except TrainyardError as exc:
        return Outcome(failure=exc.message, parity=_parity_of(exc))
    except ImportError as exc:
        return Outcome(
            failure=f"the server lacks {exc.name or 'a library'} to load or convert it: "
            "install trainyard[models] where the server runs"
        )
    except Exception as exc:  # the model libraries' own errors
        return Outcome(failure=f"cannot load or convert it: {type(exc).__name__}: {exc}")


def _parity_of(exc: TrainyardError) -> dict[str, Any] | None:
    details = getattr(exc, "details", None)
    return details if isinstance(details, dict) and "passed" in details else None


def _convert(files: Target, folder: Path, allow_code: bool) -> Outcome:
    import yaml

    from trainyard.registry.converters import convert
    from trainyard.registry.parity import check_parity

    fetch = _fetcher(files, folder)
    try:
        conf = yaml.safe_load(fetch("MLmodel").read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CannotConvert(f"no readable MLmodel file in its folder: {exc}") from exc
    model = _load_native(conf.get("flavors") or {}, fetch, allow_code)
    sample = _input_example(conf, fetch)
    onx = convert(model, sample)
    parity = check_parity(model, onx, sample)
    if not parity.passed:
        return Outcome(parity=parity.to_dict(), failure=parity.summary())
    out = folder / "converted.onnx"
    out.write_bytes(onx.SerializeToString())
    return Outcome(onnx=out, parity=parity.to_dict())


def _fetcher(files: Target, folder: Path) -> Callable[[str], Path]:
    """``fetch(rel)``: the file (or folder) ``rel`` of the model, copied under ``folder``."""

    def fetch(rel: str) -> Path:
        rel = safe_key(rel)
        target = replace(files, rel=f"{files.rel}/{rel}" if files.rel else rel)
        info = target.info()
        if info is None:
            raise CannotConvert(f"its folder has no {rel!r}")
        local = folder / "model" / rel
        if info.is_dir:
            local.mkdir(parents=True, exist_ok=True)
            for entry in target.children():
                fetch(f"{rel}/{entry.path}")
            return local
        local.parent.mkdir(parents=True, exist_ok=True)
        with local.open("wb") as f:
            for chunk in target.read():
                f.write(chunk)
        return local

    return fetch


def _load_native(flavors: dict[str, Any], fetch: Callable[[str], Path], allow_code: bool) -> Any:
    if "xgboost" in flavors:
        f = flavors["xgboost"]
        module, _, cls = str(f.get("model_class") or "xgboost.core.Booster").rpartition(".")
        if module.split(".")[0] != "xgboost":
            raise CannotConvert(f"unexpected XGBoost model class {module}.{cls}")
        model = getattr(importlib.import_module(module), cls)()
        model.load_model(str(fetch(str(f["data"]))))
        return model
    if "lightgbm" in flavors and flavors["lightgbm"].get("model_class") == "lightgbm.basic.Booster":
        import lightgbm

        return lightgbm.Booster(model_file=str(fetch(str(flavors["lightgbm"]["data"]))))
    for flavor in ("sklearn", "lightgbm"):
        if flavor in flavors:
            f = flavors[flavor]
            file = fetch(str(f.get("pickled_model") or f["data"]))
            fmt = str(f.get("serialization_format") or "pickle")
            return _deserialize(file, fmt, allow_code)
    raise CannotConvert(
        f"its flavors ({', '.join(sorted(flavors)) or 'none'}) hold no scikit-learn, LightGBM "
        "or XGBoost model, which is what Trainyard converts to ONNX"
    )


def _deserialize(file: Path, fmt: str, allow_code: bool) -> Any:
    if fmt == "skops":
        import skops.io

        needed = skops.io.get_untrusted_types(file=file)
        unsafe = [
            t
            for t in needed
            if t not in SAFE_SKOPS_TYPES and t.split(".")[0] not in SAFE_SKOPS_ROOTS
        ]
        if unsafe and not allow_code:
            raise CannotConvert(f"its skops file holds types that may run code: {unsafe}")
        return skops.io.load(file, trusted=needed)
    if fmt not in ("pickle", "cloudpickle"):
        raise CannotConvert(f"unknown serialization format {fmt!r}")
    if not allow_code:
        raise CannotConvert(f"it is a {fmt} file, and unpickling runs code from it")
    with file.open("rb") as fh:
        return pickle.load(fh)  # allowed: see the module notes on trust


def _input_example(conf: dict[str, Any], fetch: Callable[[str], Path]) -> Any:
    info = conf.get("saved_input_example_info") or {}
    if not info.get("artifact_path"):
        raise CannotConvert(
            "it was logged without an input example, which the parity check of the ONNX "
            "conversion needs: log it with input_example=..."
        )
    data = json.loads(fetch(str(info["artifact_path"])).read_text())
    if info.get("type") == "dataframe":
        import pandas as pd

        if isinstance(data, dict) and "columns" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        return pd.DataFrame(data)
    if info.get("type") not in (None, "ndarray"):
        raise CannotConvert(f"its input example is a {info.get('type')}, not a table or array")
    import numpy as np

    if isinstance(data, dict) and "inputs" in data:
        data = data["inputs"]
    if isinstance(data, dict):
        raise CannotConvert("its input example has several named inputs; Trainyard takes one")
    return np.asarray(data)
