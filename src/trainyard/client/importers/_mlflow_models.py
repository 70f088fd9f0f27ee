"""MLflow's registered models and versions, copied into Trainyard's model registry.

Per registered model (MLflow 3's prompts left out): the Trainyard model of the same name,
created with MLflow's description and tags when missing. Per READY version, oldest first, whose
run was imported: the version's files are downloaded through MLflow's artifact proxy into a
temporary folder, the native model is loaded from its flavor, converted to ONNX and checked for
parity on the version's input example, then registered from the imported run, as
``Run.register_model`` does. A version that cannot be converted (another flavor, no input
example, a failed parity check) is recorded as a FAILED version that says why, so the history
stays complete. Aliases follow their versions. Every version carries
``trainyard.import.source_version`` and ``trainyard.import.source_uri``: a re-run skips it.

Loading runs no code from the MLflow server: skops files are loaded with the types their
``MLmodel`` trusts (MLflow 3's default for scikit-learn and LightGBM), XGBoost and LightGBM
boosters from their own formats. Pickled models (MLflow 2's default) are loaded only with
``allow_pickle``, because unpickling runs whatever the file says: trust the server first.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainyard.client._files import artifact_segments, write_atomically
from trainyard.client._scope import body
from trainyard.client.importers._base import SOURCE_URI_TAG, ImportProgress, ImportSummary
from trainyard.client.importers._mlflow_api import MlflowSource, proxy_root
from trainyard.client.workspace import Workspace
from trainyard.core.model_ref import check_model_name
from trainyard.core.registry import ModelVersionStatus
from trainyard.errors import Conflict, InvalidArgument, NotFound, TrainyardError
from trainyard.schemas import models as s

SOURCE_VERSION_TAG = "trainyard.import.source_version"
"""On every imported model version: its version number in MLflow's registry."""
PROMPT_TAG = "mlflow.prompt.is_prompt"


@dataclass
class ModelCopier:
    """Copies the registry once the runs are imported (``run_ids``: MLflow id -> Trainyard id)."""

    ws: Workspace
    src: MlflowSource
    summary: ImportSummary
    progress: ImportProgress
    run_ids: Mapping[str, str]
    dry_run: bool = False
    allow_pickle: bool = False

    def run(self) -> None:
        plan = []
        for model in self.src.registered_models():
            tags = {t["key"]: t["value"] for t in model.get("tags", [])}
            if tags.get(PROMPT_TAG) == "true":
                continue
            versions = [
                v for v in self.src.model_versions(model["name"]) if v.get("status") == "READY"
            ]
            plan.append((model["name"], sorted(versions, key=lambda v: int(v["version"]))))
        self.progress.planned("models", sum(len(v) for _, v in plan))
        for name, versions in plan:
            try:
                check_model_name(name)
            except InvalidArgument as exc:
                self.summary.skipped_models += 1
                self.summary.warnings.append(f"registered model {name!r} left out: {exc.message}")
                self.progress.advanced("models", len(versions), label=name)
                continue
            self._model(name, versions)

    def _model(self, name: str, versions: list[dict[str, Any]]) -> None:
        source = self.src.call("GET", "registered-models/get", params={"name": name})
        info = source["registered_model"]
        copied: dict[str, s.ModelVersion] = {}
        aliases: dict[str, int] = {}
        try:
            aliases = self.ws.models.get_model(name).aliases
        except NotFound:
            tags = {t["key"]: t["value"] for t in info.get("tags", [])}
            if not self.dry_run:
                self.ws.models.create(name, info.get("description", ""), tags)
            self.summary.models_created += 1
        else:
            for mine in self.ws.models.versions(name):
                if mine.info.tags.get(SOURCE_URI_TAG) == self.src.uri:
                    copied.setdefault(mine.info.tags.get(SOURCE_VERSION_TAG, ""), mine.info)
        self.summary.models += 1
        for v in versions:
            number = v["version"]
            run_id = self.run_ids.get(v.get("run_id") or "")
            if number in copied or run_id is None:  # copied before, or its run was not
                self.summary.skipped_model_versions += 1
            elif self.dry_run:
                self.summary.model_versions += 1
            else:
                copied[number] = self._version(name, v, run_id)
            self.progress.advanced("models", label=f"{name}:{number}")
        for alias in info.get("aliases", []):  # an alias set in Trainyard already stays put
            target = copied.get(str(alias.get("version")))
            wanted = str(alias.get("alias") or "")
            if target is None or target.status is not ModelVersionStatus.READY:
                continue
            if wanted and wanted not in aliases:
                self.ws.models.set_alias(name, wanted, target.version)

    def _version(self, name: str, v: dict[str, Any], run_id: str) -> s.ModelVersion:
        tags = {t["key"]: t["value"] for t in v.get("tags", [])}
        tags |= {SOURCE_VERSION_TAG: v["version"], SOURCE_URI_TAG: self.src.uri}
        description = v.get("description", "")
        run = self.ws.get_run(run_id)
        scope = self.ws._scope
        details: Any = None
        with tempfile.TemporaryDirectory(prefix="trainyard-import-") as tmp:
            try:
                folder = self._download(name, v["version"], Path(tmp))
                model, sample = load_model(folder, self.allow_pickle)
                version = run.register_model(
                    name, model, sample, description=description, tags=tags
                )
                self.summary.model_versions += 1
                return version.info
            except Conflict as exc:  # the parity check failed
                reason, details = exc.message, exc.details
            except (InvalidArgument, NotFound) as exc:  # no files, not loadable or convertible
                reason = exc.message
            except TrainyardError:
                raise
            except Exception as exc:  # the model libraries' own errors (or their absence)
                reason = f"cannot load or convert it: {type(exc).__name__}: {exc}"
        payload = body(
            s.ModelVersionFromRun,
            run_id=run_id,
            failure=f"imported from MLflow ({name} version {v['version']}): {reason}"[:8000],
            parity=details if isinstance(details, dict) and "passed" in details else None,
            description=description,
            tags=tags,
        )
        data = scope.request("POST", "models", name, "versions", json=payload)
        self.summary.model_versions_failed += 1
        self.summary.warnings.append(f"{name} version {v['version']}: FAILED: {reason}")
        return s.ModelVersion.model_validate(data)

    def _download(self, name: str, version: str, dest: Path) -> Path:
        found = self.src.call(
            "GET", "model-versions/get-download-uri", params={"name": name, "version": version}
        )
        uri = str(found.get("artifact_uri", ""))
        if not uri.startswith("mlflow-artifacts:"):
            raise InvalidArgument(
                f"its files are at {uri!r}, which the MLflow server does not serve through its "
                "artifact proxy; register the model by hand"
            )
        root = proxy_root(uri)
        for rel, _size in self.src.proxy_files(root):
            target = dest.joinpath(*artifact_segments(rel))
            write_atomically(target, self.src.download(root, rel))
        return dest


def load_model(folder: Path, allow_pickle: bool = False) -> tuple[Any, Any]:
    """The native model of an MLflow model folder and a sample of its input.

    Raises:
        InvalidArgument: no convertible flavor, a pickle without ``allow_pickle``, or no
            input example to check parity on.
    """
    import yaml

    try:
        conf = yaml.safe_load((folder / "MLmodel").read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidArgument(f"no readable MLmodel file: {exc}") from exc
    flavors: dict[str, Any] = conf.get("flavors") or {}
    model = _load_flavor(folder, flavors, allow_pickle)
    return model, _input_example(folder, conf)


def _load_flavor(folder: Path, flavors: dict[str, Any], allow_pickle: bool) -> Any:
    if "xgboost" in flavors:
        import importlib

        f = flavors["xgboost"]
        module, _, cls = str(f.get("model_class", "xgboost.core.Booster")).rpartition(".")
        if module.split(".")[0] != "xgboost":
            raise InvalidArgument(f"unexpected XGBoost model class {module}.{cls}")
        model = getattr(importlib.import_module(module), cls)()
        model.load_model(str(folder / f["data"]))
        return model
    for flavor in ("sklearn", "lightgbm"):
        if flavor not in flavors:
            continue
        f = flavors[flavor]
        file = folder / (f.get("pickled_model") or f["data"])
        fmt = f.get("serialization_format") or ("native" if file.suffix != ".pkl" else "pickle")
        if fmt == "skops":
            import skops.io

            return skops.io.load(file, trusted=f.get("skops_trusted_types") or None)
        if flavor == "lightgbm" and fmt == "native":
            import lightgbm

            return lightgbm.Booster(model_file=str(file))
        if not allow_pickle:
            raise InvalidArgument(
                f"its {flavor} model is a {fmt} file, and unpickling runs code from it: import "
                "again with --allow-pickle if you trust the MLflow server's contents"
            )
        with file.open("rb") as fh:
            return pickle.load(fh)  # opted in with allow_pickle
    raise InvalidArgument(
        f"its flavors ({', '.join(sorted(flavors)) or 'none'}) hold no scikit-learn, LightGBM "
        "or XGBoost model, which is what Trainyard converts to ONNX"
    )


def _input_example(folder: Path, conf: dict[str, Any]) -> Any:
    info = conf.get("saved_input_example_info") or {}
    path = folder / str(info.get("artifact_path", "input_example.json"))
    if not info or not path.is_file():
        raise InvalidArgument(
            "it was logged without an input example, which the parity check of the ONNX "
            "conversion needs: log it again with input_example=..., or register it by hand"
        )
    data = json.loads(path.read_text())
    if info.get("type") == "dataframe":
        import pandas as pd

        if isinstance(data, dict) and "columns" in data:
            return pd.DataFrame(data["data"], columns=data["columns"])
        return pd.DataFrame(data)
    import numpy as np

    if isinstance(data, dict) and "inputs" in data:
        data = data["inputs"]
    if isinstance(data, dict):
        raise InvalidArgument("its input example has several named inputs; Trainyard takes one")
    return np.asarray(data)
