"""Environments and code snapshots: the two asset kinds that say what a job runs.

An environment is a Python version and a list of requirements, named by a content hash of the
two so that executors can cache its build; ``builtin`` is the server's own interpreter. A code
version is the files uploaded to it, named by the SHA-256 of their names and contents, computed
here from the stored bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trainyard.core.jobs import BUILTIN_ENVIRONMENT, AssetKind
from trainyard.errors import InvalidArgument
from trainyard.jobs.assets._base import SERVER_PYTHON, AssetBase
from trainyard.jobs.assets.convert import code_out, environment_out
from trainyard.schemas import assets as wire
from trainyard.store.artifacts.paths import join_key, safe_key


def environment_hash(python: str, requirements: list[str], system_site_packages: bool) -> str:
    """The content hash that names an environment's cached build."""
    doc = {"python": python, "requirements": requirements, "ssp": system_site_packages}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


BUILTIN_ENV = wire.Environment(
    name=BUILTIN_ENVIRONMENT,
    version=SERVER_PYTHON,
    python=SERVER_PYTHON,
    description="The interpreter the server runs on, with Trainyard installed.",
    hash="builtin",
    builtin=True,
)


class EnvironmentsMixin(AssetBase):
    """Register, read and list environment versions (``builtin`` included)."""

    def put_environment(
        self, workspace: str, name: str, version: str, body: wire.EnvironmentCreate
    ) -> tuple[wire.Environment, bool]:
        """Create or update an environment version."""
        if name == BUILTIN_ENVIRONMENT:
            raise InvalidArgument(f"{name!r} is the built-in environment; choose another name")
        python = body.python or SERVER_PYTHON
        requirements = [r.strip() for r in body.requirements if r.strip()]
        spec = {
            "python": python,
            "requirements": requirements,
            "system_site_packages": body.system_site_packages,
            "hash": environment_hash(python, requirements, body.system_site_packages),
        }
        return self._put(AssetKind.ENVIRONMENT, workspace, name, version, spec, body)

    def get_environment(self, workspace: str, name: str, version: str | None) -> wire.Environment:
        """A version (newest when None); ``python`` is the built-in one."""
        if name == BUILTIN_ENVIRONMENT:
            return BUILTIN_ENV
        return environment_out(self._get(AssetKind.ENVIRONMENT, workspace, name, version))

    def list_environments(self, workspace: str) -> list[wire.Environment]:
        """The built-in environment, then every registered version."""
        found = self.store.list_assets(AssetKind.ENVIRONMENT, workspace, None)
        return [BUILTIN_ENV, *(environment_out(a) for a in found)]


class CodeMixin(AssetBase):
    """Register, read and list code snapshots, content-hashed from their uploaded files."""

    def put_code(
        self, workspace: str, name: str, version: str, body: wire.CodeAssetCreate
    ) -> tuple[wire.CodeAsset, bool]:
        """Register the files uploaded to a code version (content-hashed)."""
        if self._exists(AssetKind.CODE, workspace, name, version):
            spec = self._get(AssetKind.CODE, workspace, name, version).spec
        else:
            spec = self._code_spec(workspace, name, version)
        return self._put(AssetKind.CODE, workspace, name, version, spec, body)

    def _code_spec(self, workspace: str, name: str, version: str) -> dict[str, Any]:
        root = self.files_key(workspace, AssetKind.CODE, name, version)
        files = self._uploaded(workspace, AssetKind.CODE, name, version)
        if not files:
            raise InvalidArgument(
                f"code {name}:{version} has no files: upload them first with "
                f"PUT .../code/{name}/versions/{version}/files/<path>"
            )
        return {"hash": self.tree_hash(root, files), "files": len(files), "path": root}

    def tree_hash(self, root: str, files: list[str]) -> str:
        """SHA-256 over ``name NUL sha256(content) NUL`` of each file, in name order."""
        digest = hashlib.sha256()
        for rel in sorted(files):
            h = hashlib.sha256()
            for chunk in self.artifacts.iter_read(join_key(root, rel)):
                h.update(chunk)
            digest.update(f"{safe_key(rel)}\0{h.hexdigest()}\0".encode())
        return digest.hexdigest()

    def get_code(self, workspace: str, name: str, version: str | None) -> wire.CodeAsset:
        """A version (newest when None)."""
        return code_out(self._get(AssetKind.CODE, workspace, name, version))

    def list_code(self, workspace: str) -> list[wire.CodeAsset]:
        """Every code version."""
        return [code_out(a) for a in self.store.list_assets(AssetKind.CODE, workspace, None)]
