"""The registry service: models, versions and aliases on the registry store and artifact store.

Every version's ONNX file is checked here, on the server, before anything is stored
(:func:`trainyard.registry.checks.inspect_onnx`: the ONNX checker, then an ONNX Runtime session),
and its signature is read from the graph here too, whatever a client says. Files live in the
artifact store under ``models/<workspace>/<name>/<version>/`` (workspaces are in the key because
names are unique per workspace only), and are placed inside the transaction that records the
version, so a version is never visible without its file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from trainyard.core.entities import Page
from trainyard.core.limits import MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_BATCH, check_key, check_value
from trainyard.core.model_ref import (
    ModelRef,
    check_alias,
    check_model_name,
    check_version,
    parse_model_ref,
)
from trainyard.core.paging import decode_token, encode_token
from trainyard.core.registry import (
    ModelSource,
    ModelVersion,
    ModelVersionStatus,
    NewModelVersion,
    RegisteredModel,
    parity_refusal_message,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.registry.checks import inspect_onnx
from trainyard.registry.files import ONNX_FILE, ModelFiles, file_chunks, sha256_of
from trainyard.store import ArtifactStore
from trainyard.store._registry_base import Placement, RegistryStore
from trainyard.tracking import TrackingService

MAX_DESCRIPTION_LENGTH = 5000


def _tags(tags: dict[str, str] | None) -> dict[str, str]:
    tags = tags or {}
    if len(tags) > MAX_TAGS_PER_BATCH:
        raise InvalidArgument(f"{len(tags)} tags; the limit is {MAX_TAGS_PER_BATCH}")
    for k, v in tags.items():
        check_key("tag", k)
        check_value("tag", k, v, MAX_TAG_VALUE_LENGTH)
    return tags


def _description(text: str | None) -> str | None:
    if text is not None and len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgument(
            f"description is {len(text)} characters; the limit is {MAX_DESCRIPTION_LENGTH}"
        )
    return text


def parity_refusal(name: str, parity: dict[str, Any]) -> Conflict:
    """The error for a version whose parity check failed and that was not forced."""
    return Conflict(parity_refusal_message(name, parity), parity)


class RegistryService:
    """Registered models, versions and aliases; uses tracking for a version's source run."""

    def __init__(
        self, store: RegistryStore, tracking: TrackingService, artifacts: ArtifactStore
    ) -> None:
        self.store = store
        self.tracking = tracking
        self.files = ModelFiles(artifacts)

    # ---------------------------------------------------------------- models
    def create_model(
        self, workspace: str, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """A new model without versions; AlreadyExists if the name is taken."""
        self.tracking.get_workspace(workspace)
        return self.store.create_model(
            workspace, check_model_name(name), _description(description) or "", _tags(tags)
        )

    def get_model(self, workspace: str, name: str) -> RegisteredModel:
        """The model with its aliases."""
        return self.store.get_model(workspace, name)

    def list_models(
        self,
        workspace: str,
        name_contains: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """A page of models by name."""
        self.tracking.get_workspace(workspace)
        offset = decode_token(page_token)
        items, more = self.store.list_models(workspace, name_contains, max_results, offset)
        return Page(items, encode_token(offset + len(items)) if more else None)

    def update_model(
        self,
        workspace: str,
        name: str,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        delete_tags: Sequence[str] = (),
    ) -> RegisteredModel:
        """Replace the description, set tags and/or remove tags."""
        return self.store.update_model(
            workspace,
            name,
            _description(description),
            None if tags is None else _tags(tags),
            list(delete_tags),
        )

    def rename_model(self, workspace: str, name: str, new_name: str) -> RegisteredModel:
        """Rename a model: its versions, numbers, aliases and files follow it."""
        check_model_name(new_name)

        def move(v: ModelVersion) -> Placement:
            return self._copy(v.storage_key, workspace, new_name, v.version), self._copy(
                v.native_key, workspace, new_name, v.version
            )

        model = self.store.rename_model(workspace, name, new_name, move)
        if new_name != name:
            self.files.delete(workspace, name)
        return model

    def delete_model(self, workspace: str, name: str) -> None:
        """Delete a model, its versions, aliases and files."""
        self.store.delete_model(workspace, name)
        self.files.delete(workspace, name)

    # ---------------------------------------------------------------- versions
    def list_versions(
        self, workspace: str, name: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[ModelVersion]:
        """A page of a model's versions, newest first."""
        offset = decode_token(page_token)
        items, more = self.store.list_versions(workspace, name, max_results, offset)
        return Page(items, encode_token(offset + len(items)) if more else None)

    def get_version(self, workspace: str, name: str, version: int) -> ModelVersion:
        """One version."""
        return self.store.get_version(workspace, name, check_version(version))

    def resolve(self, workspace: str, ref: str | ModelRef) -> ModelVersion:
        """The version a reference names: ``name``, ``name:3``, ``name@alias`` or a model id."""
        r = parse_model_ref(ref) if isinstance(ref, str) else ref
        if r.model_id is not None:
            return self.store.get_version_by_id(workspace, r.model_id)
        assert r.name is not None
        if r.version is not None:
            return self.store.get_version(workspace, r.name, r.version)
        if r.alias is not None:
            return self.store.resolve_alias(workspace, r.name, r.alias)
        return self.store.latest_version(workspace, r.name)

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
            description=_description(description) or "",
            tags=_tags(tags),
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
            "description": _description(description) or "",
            "tags": _tags(tags),
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
            "description": _description(description) or "",
            "tags": _tags(tags),
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

    def update_version(
        self,
        workspace: str,
        name: str,
        version: int,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        delete_tags: Sequence[str] = (),
    ) -> ModelVersion:
        """Replace a version's description, set and/or remove its tags."""
        return self.store.update_version(
            workspace,
            name,
            check_version(version),
            _description(description),
            None if tags is None else _tags(tags),
            list(delete_tags),
        )

    def delete_version(self, workspace: str, name: str, version: int) -> None:
        """Delete one version, the aliases on it and its files."""
        self.store.delete_version(workspace, name, check_version(version))
        self.files.delete(workspace, name, version)

    def open_file(
        self, workspace: str, ref: str, native: bool = False
    ) -> tuple[ModelVersion, Iterator[bytes], int | None, str]:
        """A version's ONNX file (or native file) as chunks, with its size and file name."""
        v = self.resolve(workspace, ref)
        key = v.native_key if native else v.storage_key
        if v.status is not ModelVersionStatus.READY:
            raise Conflict(f"{v.name}:{v.version} is {v.status}: {v.status_reason}")
        if key is None:
            raise NotFound(f"{v.name}:{v.version} was registered without its native model")
        found = self.files.read(key)
        if found is None:
            raise NotFound(f"the file of {v.name}:{v.version} is missing from the artifact store")
        return v, found[0], found[1], PurePosixPath(key).name

    # ---------------------------------------------------------------- aliases
    def set_alias(self, workspace: str, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version``, moving it if it pointed elsewhere."""
        return self.store.set_alias(workspace, name, check_alias(alias), check_version(version))

    def delete_alias(self, workspace: str, name: str, alias: str) -> None:
        """Remove an alias."""
        self.store.delete_alias(workspace, name, alias)

    # ---------------------------------------------------------------- helpers
    def _copy(self, key: str | None, workspace: str, name: str, version: int) -> str | None:
        """A copy of the file at ``key`` among the files of ``name``'s ``version``."""
        if key is None or self.files.artifacts.info(key) is None:
            return key
        new = self.files.key(workspace, name, version, PurePosixPath(key).name)
        return self.files.write(new, self.files.artifacts.iter_read(key))

    def _same_upload(
        self, workspace: str, name: str, version: int, digest: str
    ) -> ModelVersion | None:
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
