"""Registering versions: uploads, a run's logged file, files the server converted itself.

A mixin of ``RegistryService``. Every version's ONNX file is checked here, on the server,
before anything is stored (:func:`trainyard.registry.checks.inspect_onnx`: the ONNX checker,
then an ONNX Runtime session), and its signature is read from the graph here too, whatever a
client says. The file is written by the ``place`` callback inside the store's transaction that
records the version, so a version is never visible without its file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from trainyard.core.model_ref import check_version
from trainyard.core.registry import (
    ModelSource,
    ModelVersion,
    ModelVersionStatus,
    NewModelVersion,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.registry._inputs import check_description, check_tags, parity_refusal
from trainyard.registry.checks import inspect_onnx
from trainyard.registry.files import ONNX_FILE, ModelFiles, file_chunks, sha256_of
from trainyard.store._registry_base import Placement, RegistryStore
from trainyard.tracking import TrackingService


class RegistrationMixin:
    """The three ways a version is made: ``register_upload``, ``_from_run``, ``_file``."""

    store: RegistryStore
    tracking: TrackingService
    files: ModelFiles

    def register_upload(
        self,
        workspace: str,
        name: str,
        path: Path,
        version: int | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> tuple[ModelVersion, bool]:
        """Check the ONNX file at ``path`` and store it as the next version.

        ``version``, when given, must be the next number, or an existing version holding the
        same bytes (then it is returned unchanged: a retried upload is harmless). Returns the
        version and whether it was created.
        """
        self.store.get_model(workspace, name)
        if version is not None:
            version = check_version(version)
        digest = sha256_of(path)
        if version is not None and (same := self._same_upload(workspace, name, version, digest)):
            return same, False
        signature = inspect_onnx(path, "the upload")
        new = NewModelVersion(
            source=ModelSource.UPLOAD,
            size=path.stat().st_size,
            sha256=digest,
            signature=signature,
            description=check_description(description) or "",
            tags=check_tags(tags),
        )

        def place(number: int) -> Placement:
            return self.files.write(
                self.files.key(workspace, name, number), file_chunks(path)
            ), None

        try:
            return self.store.create_version(workspace, name, new, place, version), True
        except Conflict:
            if version is not None and (
                same := self._same_upload(workspace, name, version, digest)
            ):
                return same, False
            raise

    def register_from_run(
        self,
        workspace: str,
        name: str,
        run_id: str,
        artifact_path: str | None,
        *,
        native_artifact_path: str | None = None,
        parity: dict[str, Any] | None = None,
        force: bool = False,
        description: str = "",
        tags: dict[str, str] | None = None,
        failure: str | None = None,
    ) -> ModelVersion:
        """Register the ONNX file a run logged at ``artifact_path`` as the next version.

        The file is checked here; the parity result comes from the client that converted the
        model (the native model only exists in its process). A failed parity check is refused
        with ``Conflict`` unless ``force``. With ``failure`` instead of a file, a FAILED version
        records why the registration could not be made (a recipe whose conversion failed).
        """
        self.store.get_model(workspace, name)
        run = self.tracking.get_run(workspace, run_id)
        metrics = {k: m.value for k, m in run.metrics.items()}
        common: dict[str, Any] = {
            "source": ModelSource.RUN,
            "run_id": run_id,
            "metrics": metrics,
            "description": check_description(description) or "",
            "tags": check_tags(tags),
        }
        if failure is not None:
            new = NewModelVersion(
                artifact_path=artifact_path,
                parity=parity,
                status=ModelVersionStatus.FAILED,
                status_reason=failure[:8000] or "failed",
                **common,
            )
            return self.store.create_version(workspace, name, new, lambda n: (None, None))
        if not artifact_path:
            raise InvalidArgument("artifact_path is required: the run's path of the .onnx file")
        failed_parity = parity is not None and not parity.get("passed", False)
        if failed_parity and not force:
            raise parity_refusal(name, parity or {})
        if (
            native_artifact_path
            and self.tracking.artifact_info(workspace, run_id, native_artifact_path) is None
        ):
            raise NotFound(f"run {run_id!r} has no file {native_artifact_path!r}")
        with tempfile.TemporaryDirectory(prefix="trainyard-model-") as tmp:
            local = Path(tmp) / ONNX_FILE
            with local.open("wb") as f:
                for chunk in self.tracking.read_artifact(workspace, run_id, artifact_path):
                    f.write(chunk)
            signature = inspect_onnx(local, f"run {run_id}'s {artifact_path!r}")
            new = NewModelVersion(
                artifact_path=artifact_path,
                size=local.stat().st_size,
                sha256=sha256_of(local),
                signature=signature,
                parity=parity,
                forced=failed_parity and force,
                **common,
            )

            def place(number: int) -> Placement:
                key = self.files.write(self.files.key(workspace, name, number), file_chunks(local))
                if not native_artifact_path:
                    return key, None
                base = PurePosixPath(native_artifact_path).name
                native = self.tracking.read_artifact(workspace, run_id, native_artifact_path)
                return key, self.files.write(self.files.key(workspace, name, number, base), native)

            return self.store.create_version(workspace, name, new, place)

    def register_file(
        self,
        workspace: str,
        name: str,
        path: Path | None,
        *,
        run_id: str | None = None,
        parity: dict[str, Any] | None = None,
        failure: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Register an ONNX file the server converted itself (an MLflow model's flavor).

        ``run_id`` (a run of the workspace) is the version's source run, whose metrics are
        copied. The parity result is the server's own: a failed one is refused with
        ``Conflict``; ``failure`` instead of a file records a FAILED version that says why.
        """
        self.store.get_model(workspace, name)
        metrics: dict[str, float] = {}
        if run_id is not None:
            run = self.tracking.get_run(workspace, run_id)
            metrics = {k: m.value for k, m in run.metrics.items()}
        common: dict[str, Any] = {
            "source": ModelSource.RUN if run_id else ModelSource.UPLOAD,
            "run_id": run_id,
            "metrics": metrics,
            "parity": parity,
            "description": check_description(description) or "",
            "tags": check_tags(tags),
        }
        if failure is not None or path is None:
            new = NewModelVersion(
                status=ModelVersionStatus.FAILED,
                status_reason=(failure or "failed")[:8000],
                **common,
            )
            return self.store.create_version(workspace, name, new, lambda n: (None, None))
        if parity is not None and not parity.get("passed", False):
            raise parity_refusal(name, parity)
        signature = inspect_onnx(path, "the converted model")
        new = NewModelVersion(
            size=path.stat().st_size, sha256=sha256_of(path), signature=signature, **common
        )

        def place(number: int) -> Placement:
            key = self.files.key(workspace, name, number)
            return self.files.write(key, file_chunks(path)), None

        return self.store.create_version(workspace, name, new, place)

    def _same_upload(
        self, workspace: str, name: str, version: int, digest: str
    ) -> ModelVersion | None:
        """The existing ``version`` if it holds these bytes; None if there is none; Conflict."""
        try:
            existing = self.store.get_version(workspace, name, version)
        except NotFound:
            return None
        if existing.sha256 != digest:
            raise Conflict(
                f"version {version} of model {name!r} exists with other content; versions are "
                "immutable: upload to the next version instead",
                {"sha256": existing.sha256},
            )
        return existing
