"""Registered models and their aliases: a mixin of ``RegistryService`` (sharing its stores).

Renaming a model copies its versions' files to keys under the new name inside the store's
transaction (files are keyed by model name) and removes the old ones afterwards; deleting a
model asks the delete guards first (``deletion.py``), then removes the rows, then the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from trainyard.core.entities import Page
from trainyard.core.model_ref import check_alias, check_model_name, check_version
from trainyard.core.paging import decode_token, encode_token
from trainyard.core.registry import ModelVersion, RegisteredModel
from trainyard.registry._inputs import check_description, check_tags
from trainyard.registry.deletion import DeleteGuards, Deletion
from trainyard.registry.files import ModelFiles
from trainyard.store._registry_base import Placement, RegistryStore
from trainyard.tracking import TrackingService

_PAGE = 500


class ModelsMixin(DeleteGuards):
    """Create, read, update, rename and delete models; set and remove aliases."""

    store: RegistryStore
    tracking: TrackingService
    files: ModelFiles

    # ---------------------------------------------------------------- models
    def create_model(
        self, workspace: str, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """A new model without versions; AlreadyExists if the name is taken."""
        self.tracking.get_workspace(workspace)
        return self.store.create_model(
            workspace,
            check_model_name(name),
            check_description(description) or "",
            check_tags(tags),
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
            check_description(description),
            None if tags is None else check_tags(tags),
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
        """Delete a model, its versions, aliases and files.

        Raises:
            NotFound: no such model.
            Conflict: a delete guard refused (e.g. a deployment serves one of its versions);
                nothing is deleted.
        """
        with self._deletion_lock:
            if self._guarded():
                versions = tuple(self._all_versions(workspace, name))  # NotFound if no model
                self._check_deletion(Deletion(workspace, name, versions, whole_model=True))
            self.store.delete_model(workspace, name)
        self.files.delete(workspace, name)

    # ---------------------------------------------------------------- aliases
    def set_alias(self, workspace: str, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version``, moving it if it pointed elsewhere."""
        return self.store.set_alias(workspace, name, check_alias(alias), check_version(version))

    def delete_alias(self, workspace: str, name: str, alias: str) -> None:
        """Remove an alias."""
        self.store.delete_alias(workspace, name, alias)

    # ---------------------------------------------------------------- helpers
    def _all_versions(self, workspace: str, name: str) -> list[ModelVersion]:
        """Every version of the model, newest first."""
        found: list[ModelVersion] = []
        while True:
            items, more = self.store.list_versions(workspace, name, _PAGE, len(found))
            found.extend(items)
            if not more or not items:
                return found

    def _copy(self, key: str | None, workspace: str, name: str, version: int) -> str | None:
        """A copy of the file at ``key`` among the files of ``name``'s ``version``."""
        if key is None or self.files.artifacts.info(key) is None:
            return key
        new = self.files.key(workspace, name, version, PurePosixPath(key).name)
        return self.files.write(new, self.files.artifacts.iter_read(key))
