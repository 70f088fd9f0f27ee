"""What every asset mixin shares: the stores, uploads of a version's files, versioned get and put.

A version's files are written to the artifact store under
``assets/<workspace>/<kind>/<name>/<version>/`` while the version is not registered yet; once it
is, uploads to it are refused, so a registered version never changes.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from trainyard.core.jobs import AssetKind, AssetVersion, check_asset_name, check_version
from trainyard.errors import Conflict, InvalidArgument
from trainyard.jobs import datastores
from trainyard.jobs.assets.convert import code_out, data_out, environment_out
from trainyard.store import ArtifactStore
from trainyard.store._jobs_base import AssetStore
from trainyard.store.artifacts.paths import join_key

SERVER_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
STORE_PREFIX = datastores.STORE_PREFIX


def now_ms() -> int:
    """UTC milliseconds."""
    return int(time.time() * 1000)


class _HashingWriter:
    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.size = 0
        self.sha = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self._f.write(chunk)
        self.size += len(chunk)
        self.sha.update(chunk)


class AssetBase:
    """The stores of ``AssetService``, uploads, and the get and put every asset kind uses."""

    store: AssetStore
    artifacts: ArtifactStore

    # ---------------------------------------------------------------- uploads
    @staticmethod
    def files_key(workspace: str, kind: AssetKind, name: str, version: str) -> str:
        """Where the uploaded files of a version live in the artifact store."""
        check_asset_name(kind.value, name)
        check_version(kind.value, version)
        return f"assets/{workspace}/{kind.value}/{name}/{version}"

    @contextmanager
    def upload(
        self, workspace: str, kind: AssetKind, name: str, version: str, path: str
    ) -> Iterator[_HashingWriter]:
        """A writer for one file of a version not registered yet (visible when closed)."""
        if kind == AssetKind.ENVIRONMENT:
            raise InvalidArgument("environments have no files: give their requirements instead")
        key = join_key(self.files_key(workspace, kind, name, version), path)
        if self._exists(kind, workspace, name, version):
            raise Conflict(
                f"{kind.value} {name}:{version} is registered already and cannot change; "
                "upload the files of a new version"
            )
        with self.artifacts.open_write(key) as f:
            writer = _HashingWriter(f)
            yield writer

    def _exists(self, kind: AssetKind, workspace: str, name: str, version: str) -> bool:
        return any(a.version == version for a in self.store.list_assets(kind, workspace, name))

    def _uploaded(self, workspace: str, kind: AssetKind, name: str, version: str) -> list[str]:
        root = self.files_key(workspace, kind, name, version)
        return [e.path for e in self.artifacts.list(root, recursive=True) if not e.is_dir]

    # ---------------------------------------------------------------- versions
    def _get(self, kind: AssetKind, workspace: str, name: str, version: str | None) -> AssetVersion:
        return self.store.get_asset(kind, workspace, name, version)

    def _put(
        self,
        kind: AssetKind,
        workspace: str,
        name: str,
        version: str,
        spec: dict[str, Any],
        body: Any,
    ) -> tuple[Any, bool]:
        check_asset_name(kind.value, name)
        check_version(kind.value, version)
        asset, created = self.store.put_asset(
            kind, workspace, name, version, spec, body.description, body.tags, now_ms()
        )
        out = {AssetKind.ENVIRONMENT: environment_out, AssetKind.DATA: data_out}.get(kind, code_out)
        return out(asset), created
