"""The model registry seen from the SDK: register, resolve, alias, download, load, score.

Example::

    with exp.start_run() as run:
        v = run.register_model("churn", model=clf, sample=X_train[:500])   # converts + checks
    ws.models.set_alias("churn", "champion", v.version)
    model = ws.models.get("churn@champion").load()
    model.predict(X_test)

Conversion, parity, ONNX Runtime and pyarrow are used through :mod:`trainyard.onnx`, imported
inside the methods that need them: this module (and so the client) imports none of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainyard.client._files import Progress, file_chunks, progress_bar, write_atomically
from trainyard.client._scope import Scope, body, iter_pages
from trainyard.core.model_ref import check_model_name, parse_model_ref
from trainyard.core.registry import ModelVersionStatus
from trainyard.errors import AlreadyExists, Conflict, InvalidArgument
from trainyard.schemas import models as s

if TYPE_CHECKING:
    from trainyard.onnx import BatchReport, OnnxModel

StrPath = str | os.PathLike[str]


def cache_dir() -> Path:
    """Where loaded models are cached by ``model_id`` (versions never change, so no expiry)."""
    base = os.environ.get("TRAINYARD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "trainyard"
    )
    return Path(base) / "models"


class ModelVersion:
    """One version of a registered model. Made by ``ws.models.get`` or ``register``."""

    def __init__(self, scope: Scope, info: s.ModelVersion) -> None:
        self._scope = scope
        self.info = info

    name = property(lambda self: self.info.name, doc="The registered model's name.")
    version = property(lambda self: self.info.version, doc="The version number.")
    model_id = property(lambda self: self.info.model_id, doc="The opaque id of this version.")
    status = property(lambda self: self.info.status, doc="READY or FAILED.")
    signature = property(lambda self: self.info.signature, doc="Inputs and outputs.")
    parity = property(lambda self: self.info.parity, doc="The parity check, if converted.")
    metrics = property(lambda self: self.info.metrics, doc="The source run's metrics.")
    aliases = property(lambda self: self.info.aliases, doc="Aliases pointing here.")

    def __repr__(self) -> str:
        return f"ModelVersion({self.name}:{self.version}, model_id={self.model_id!r})"

    def download(
        self, path: StrPath = ".", *, native: bool = False, progress: bool = False
    ) -> Path:
        """Download the ONNX file (or, with ``native``, the native model kept beside it).

        Args:
            path: a folder (the file is named ``<name>-v<version>.onnx`` there) or a file.
            native: the native model (a pickle) instead, if it was kept.
            progress: show a Rich progress bar.

        Returns:
            The path written (whole or not at all).
        """
        dest = Path(path)
        route = self._scope.path("models", self.name, "versions", str(self.version), "download")
        params = {"native": "true"} if native else None
        with self._scope.transport.stream("GET", route, params=params) as response:
            if dest.is_dir():
                disposition = response.headers.get("Content-Disposition", "")
                dest = dest / (disposition.rpartition("filename=")[2].strip('"') or "model.onnx")
            size = int(response.headers.get("Content-Length") or 0)
            with progress_bar(dest.name, size, progress) as bar:
                write_atomically(dest, _counted(response.iter_bytes(), bar))
        return dest

    def load(self, *, threads: int | None = None) -> OnnxModel:
        """An ONNX Runtime session of this version, with ``predict`` and ``predict_proba``.

        The file is cached by ``model_id`` (``$TRAINYARD_CACHE``, else ``~/.cache/trainyard``)
        and checked against its SHA-256.
        """
        import trainyard.onnx

        if self.status is not ModelVersionStatus.READY:
            raise Conflict(
                f"{self.name}:{self.version} is {self.status}: {self.info.status_reason}"
            )
        cached = cache_dir() / f"{self.model_id}.onnx"
        if not cached.is_file() or _sha256(cached) != self.info.sha256:
            self.download(cached)
            if self.info.sha256 and _sha256(cached) != self.info.sha256:
                cached.unlink(missing_ok=True)
                raise Conflict(f"the download of {self.name}:{self.version} is corrupt; retry")
        return trainyard.onnx.load(cached, threads=threads)

    def score_file(
        self,
        src: StrPath,
        dst: StrPath,
        *,
        chunk_size: int = 100_000,
        keep_columns: list[str] | None = None,
        progress: bool = True,
    ) -> BatchReport:
        """Score a CSV or Parquet file into a Parquet file, in chunks (see
        :func:`trainyard.registry.batch.score_file`)."""
        import trainyard.onnx

        return trainyard.onnx.score_file(
            self.load(),
            src,
            dst,
            chunk_size=chunk_size,
            keep_columns=keep_columns,
            progress=progress,
        )

    def set_alias(self, alias: str) -> ModelVersion:
        """Point ``alias`` at this version (moving it from another one)."""
        data = self._scope.request(
            "PUT", "models", self.name, "aliases", alias, json={"version": self.version}
        )
        self.info = s.ModelVersion.model_validate(data)
        return self


class Models:
    """The registry of a workspace: ``ws.models``."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def create(
        self, name: str, description: str = "", tags: Mapping[str, Any] | None = None
    ) -> s.RegisteredModel:
        """Create a registered model (``AlreadyExists`` if the name is taken)."""
        payload = body(
            s.ModelCreate,
            name=check_model_name(name),
            description=description,
            tags={k: str(v) for k, v in (tags or {}).items()},
        )
        return s.RegisteredModel.model_validate(self._scope.request("POST", "models", json=payload))

    def ensure(self, name: str) -> s.RegisteredModel:
        """The model called ``name``, created if missing."""
        try:
            return self.create(name)
        except AlreadyExists:
            return self.get_model(name)

    def get_model(self, name: str) -> s.RegisteredModel:
        """The registered model with its aliases and latest version number."""
        return s.RegisteredModel.model_validate(self._scope.request("GET", "models", name))

    def list(self, name_contains: str | None = None) -> list[s.RegisteredModel]:
        """Every registered model of the workspace, by name."""

        def page(token: str | None) -> tuple[list[s.RegisteredModel], str | None]:
            params: dict[str, Any] = {"max_results": 1000}
            if name_contains:
                params["name_contains"] = name_contains
            if token:
                params["page_token"] = token
            found = s.RegisteredModelList.model_validate(
                self._scope.request("GET", "models", params=params)
            )
            return found.models, found.next_page_token

        return list(iter_pages(page))

    def versions(self, name: str) -> Iterator[ModelVersion]:
        """The versions of a model, newest first."""

        def page(token: str | None) -> tuple[list[ModelVersion], str | None]:
            params: dict[str, Any] = {
                "max_results": 1000,
                **({"page_token": token} if token else {}),
            }
            found = s.ModelVersionList.model_validate(
                self._scope.request("GET", "models", name, "versions", params=params)
            )
            return [ModelVersion(self._scope, v) for v in found.versions], found.next_page_token

        return iter_pages(page)

    def get(self, ref: str) -> ModelVersion:
        """The version ``ref`` names: ``name:3``, ``name@champion``, ``name`` (latest READY) or a
        ``model_id``.

        Raises:
            trainyard.errors.NotFound: no such model, version or alias.
        """
        parsed = parse_model_ref(ref)
        data = self._scope.request("GET", "model-versions", str(parsed))
        return ModelVersion(self._scope, s.ModelVersion.model_validate(data))

    def register(
        self, name: str, path: StrPath, *, description: str = "", progress: bool = False
    ) -> ModelVersion:
        """Upload your own ONNX file as the next version of ``name`` (created if missing).

        The server checks it (ONNX checker, then an ONNX Runtime session) before keeping it.

        Raises:
            trainyard.errors.InvalidArgument: the file is not a loadable ONNX model.
        """
        src = Path(path)
        if not src.is_file():
            raise InvalidArgument(f"cannot register {str(src)!r}: it is not a file")
        next_version = (self.ensure(name).latest_version or 0) + 1
        size = src.stat().st_size
        for _ in range(5):  # another client may take the number first: try the next one
            route = ("models", name, "versions", str(next_version))
            try:
                with progress_bar(src.name, size, progress) as bar:
                    data = self._scope.request(
                        "PUT",
                        *route,
                        params={"description": description} if description else None,
                        content=lambda bar=bar: file_chunks(src, bar),
                        headers={"Content-Type": "application/octet-stream"},
                    )
                return ModelVersion(self._scope, s.ModelVersion.model_validate(data))
            except Conflict as exc:
                details = exc.details if isinstance(exc.details, dict) else {}
                if "next_version" not in details:
                    raise
                next_version = int(details["next_version"])
        raise Conflict(f"could not get a version number for {name!r}: too many concurrent uploads")

    def record_failure(self, name: str, run: Any, reason: str, details: Any = None) -> ModelVersion:
        """Record a FAILED version of ``name`` from ``run``, saying why it could not be made
        (recipes do this when conversion or the parity check fails)."""
        self.ensure(name)
        parity = details if isinstance(details, dict) and "passed" in details else None
        payload = body(
            s.ModelVersionFromRun, run_id=run.run_id, failure=reason[:8000], parity=parity
        )
        data = self._scope.request("POST", "models", name, "versions", json=payload)
        return ModelVersion(self._scope, s.ModelVersion.model_validate(data))

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` of model ``name`` at ``version`` (moved atomically if it exists)."""
        data = self._scope.request(
            "PUT", "models", name, "aliases", alias, json=body(s.AliasSet, version=version)
        )
        return ModelVersion(self._scope, s.ModelVersion.model_validate(data))

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        self._scope.request("DELETE", "models", name, "aliases", alias)

    def delete(self, ref: str) -> None:
        """Delete ``name:version`` (one version) or ``name`` (the model and every version)."""
        parsed = parse_model_ref(ref)
        if parsed.name is None or parsed.alias is not None:
            raise InvalidArgument(f"delete takes NAME or NAME:VERSION, got {ref!r}")
        if parsed.version is None:
            self._scope.request("DELETE", "models", parsed.name)
        else:
            self._scope.request("DELETE", "models", parsed.name, "versions", str(parsed.version))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _counted(chunks: Iterator[bytes], bar: Progress) -> Iterator[bytes]:
    for chunk in chunks:
        bar.advance(len(chunk))
        yield chunk
