"""``Run.register_model``: convert in this process, check parity, upload, register.

The native model only exists here, so conversion and the parity check run on the client
(through :mod:`trainyard.onnx`, imported on use); the server then checks the ONNX file itself
(checker, ONNX Runtime session), reads its signature and copies the run's metrics.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trainyard.client._scope import Scope, body
from trainyard.client.models import Models, ModelVersion
from trainyard.core.model_ref import check_model_name
from trainyard.core.registry import parity_refusal_message
from trainyard.errors import Conflict
from trainyard.schemas import models as s


def register_run_model(
    scope: Scope,
    run: Any,
    name: str,
    model: Any,
    sample: Any,
    *,
    force: bool = False,
    keep_native: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    description: str = "",
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """What ``Run.register_model`` does: convert, check parity, upload, register."""
    import trainyard.onnx

    check_model_name(name)
    onx = trainyard.onnx.convert(model, sample)
    parity = trainyard.onnx.check_parity(
        model,
        onx,
        sample,
        rtol=trainyard.onnx.DEFAULT_RTOL if rtol is None else rtol,
        atol=trainyard.onnx.DEFAULT_ATOL if atol is None else atol,
    )
    if not parity.passed and not force:  # refused before anything is uploaded
        raise Conflict(parity_refusal_message(name, parity.to_dict()), parity.to_dict())
    folder = f"registered-models/{name}"
    native_path = None
    with tempfile.TemporaryDirectory(prefix="trainyard-model-") as tmp:
        onnx_file = Path(tmp) / "model.onnx"
        onnx_file.write_bytes(onx.SerializeToString())
        run.upload_file(f"{folder}/model.onnx", onnx_file)
        if keep_native:
            native_file = Path(tmp) / "model.pkl"
            native_file.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
            native_path = f"{folder}/model.pkl"
            run.upload_file(native_path, native_file)
    run.flush()  # the run's metrics are copied onto the version: send them first
    Models(scope).ensure(name)
    payload = body(
        s.ModelVersionFromRun,
        run_id=run.run_id,
        artifact_path=f"{folder}/model.onnx",
        native_artifact_path=native_path,
        parity=parity.to_dict(),
        force=force,
        description=description,
        tags={k: str(v) for k, v in (tags or {}).items()},
    )
    data = scope.request("POST", "models", name, "versions", json=payload)
    return ModelVersion(scope, s.ModelVersion.model_validate(data))
