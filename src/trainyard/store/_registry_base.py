"""The model registry's repository interface. The registry service depends on it; backends are
injected (``store/sql/registry.py`` for SQLite and PostgreSQL).

Contract (checked by ``trainyard.testing.registry_suite`` on every backend), on top of the store
contract of ``store/_base.py`` (thread safety, durability, all-or-nothing writes):

- A model name is unique in its workspace (``AlreadyExists``); missing models, versions and
  aliases raise ``NotFound`` with a message naming what is missing.
- Version numbers start at 1 and grow by one per version of a model; a number is never reused,
  even after its version is deleted.
- ``create_version`` allots the number, calls ``place(version)`` inside the same transaction to
  put the files in place, and commits only if ``place`` returns: a version row is never visible
  without its file, and when ``place`` raises no row is written. ``expected_version``, when
  given, must be the number the version would get (``Conflict`` otherwise), which makes
  ``PUT .../versions/{n}`` safe to retry.
- An alias points at one existing READY version of its model; setting it again moves it in one
  statement (readers see the old or the new version, never neither). Deleting a version deletes
  the aliases pointing at it.
- ``rename_model`` keeps the versions, their numbers, ids and aliases; ``move(version)`` runs
  inside the transaction for each version and returns the keys its files now have (files are
  keyed by model name). A taken name is ``AlreadyExists`` and changes nothing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from trainyard.core.registry import ModelVersion, NewModelVersion, RegisteredModel

Placement = tuple[str | None, str | None]
"""Where ``place`` put a version's files: the ONNX key and the native key (None when absent)."""


class RegistryStore(abc.ABC):
    """Registered models, their versions and aliases."""

    @abc.abstractmethod
    def create_model(
        self, workspace: str, name: str, description: str, tags: dict[str, str]
    ) -> RegisteredModel:
        """A new model without versions; ``AlreadyExists`` if the name is taken."""

    @abc.abstractmethod
    def get_model(self, workspace: str, name: str) -> RegisteredModel:
        """The model with its aliases, latest version number and version count."""

    @abc.abstractmethod
    def list_models(
        self, workspace: str, name_contains: str | None, max_results: int, offset: int
    ) -> tuple[list[RegisteredModel], bool]:
        """A page of models by name, and whether more follow."""

    @abc.abstractmethod
    def update_model(
        self,
        workspace: str,
        name: str,
        description: str | None,
        tags: dict[str, str] | None,
        delete_tags: Sequence[str] = (),
    ) -> RegisteredModel:
        """Replace the description, upsert tags and/or remove tags (absent keys are ignored)."""

    @abc.abstractmethod
    def rename_model(
        self,
        workspace: str,
        name: str,
        new_name: str,
        move: Callable[[ModelVersion], Placement],
    ) -> RegisteredModel:
        """Rename a model, moving each version's files with ``move`` (see the module notes)."""

    @abc.abstractmethod
    def delete_model(self, workspace: str, name: str) -> list[ModelVersion]:
        """Delete the model, its versions and aliases; return the versions it had (their files
        are the caller's to remove)."""

    @abc.abstractmethod
    def create_version(
        self,
        workspace: str,
        name: str,
        new: NewModelVersion,
        place: Callable[[int], Placement],
        expected_version: int | None = None,
    ) -> ModelVersion:
        """Allot the next number, put the files in place with ``place(number)``, record the row."""

    @abc.abstractmethod
    def get_version(self, workspace: str, name: str, version: int) -> ModelVersion:
        """One version of a model."""

    @abc.abstractmethod
    def get_version_by_id(self, workspace: str, model_id: str) -> ModelVersion:
        """The version with that opaque id."""

    @abc.abstractmethod
    def latest_version(self, workspace: str, name: str) -> ModelVersion:
        """The READY version with the highest number; ``NotFound`` if the model has none."""

    @abc.abstractmethod
    def list_versions(
        self, workspace: str, name: str, max_results: int, offset: int
    ) -> tuple[list[ModelVersion], bool]:
        """A page of a model's versions, newest first, and whether more follow."""

    @abc.abstractmethod
    def update_version(
        self,
        workspace: str,
        name: str,
        version: int,
        description: str | None,
        tags: dict[str, str] | None,
        delete_tags: Sequence[str] = (),
    ) -> ModelVersion:
        """Replace a version's description, upsert and/or remove tags (files are immutable)."""

    @abc.abstractmethod
    def delete_version(self, workspace: str, name: str, version: int) -> ModelVersion:
        """Delete one version (and the aliases pointing at it); return what it was."""

    @abc.abstractmethod
    def set_alias(self, workspace: str, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it if it exists); ``Conflict`` if FAILED."""

    @abc.abstractmethod
    def delete_alias(self, workspace: str, name: str, alias: str) -> None:
        """Remove an alias; ``NotFound`` if the model has no such alias."""

    @abc.abstractmethod
    def resolve_alias(self, workspace: str, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at."""
