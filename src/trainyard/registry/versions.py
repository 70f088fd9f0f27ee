"""Reading, updating and deleting model versions: a mixin of ``RegistryService``.

Versions are made in ``registration.py``; here they are listed, resolved from a reference
(``name``, ``name:3``, ``name@alias`` or a model id), read as files, re-described and deleted
(after the delete guards of ``deletion.py`` agree).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

from trainyard.core.entities import Page
from trainyard.core.model_ref import ModelRef, check_version, parse_model_ref
from trainyard.core.paging import decode_token, encode_token
from trainyard.core.registry import ModelVersion, ModelVersionStatus
from trainyard.errors import Conflict, NotFound
from trainyard.registry._inputs import check_description, check_tags
from trainyard.registry.deletion import DeleteGuards, Deletion
from trainyard.registry.files import ModelFiles
from trainyard.store._registry_base import RegistryStore


class VersionsMixin(DeleteGuards):
    """List, get, resolve, open, update and delete versions."""

    store: RegistryStore
    files: ModelFiles

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
            check_description(description),
            None if tags is None else check_tags(tags),
            list(delete_tags),
        )

    def delete_version(self, workspace: str, name: str, version: int) -> None:
        """Delete one version, the aliases on it and its files.

        Raises:
            NotFound: no such model or version.
            Conflict: a delete guard refused (e.g. a deployment serves the version); nothing
                is deleted.
        """
        version = check_version(version)
        with self._deletion_lock:
            if self._guarded():
                v = self.store.get_version(workspace, name, version)
                self._check_deletion(Deletion(workspace, name, (v,), whole_model=False))
            self.store.delete_version(workspace, name, version)
        self.files.delete(workspace, name, version)
