"""Delete guards: checks other services hook into the registry to refuse a deletion.

The registry sits below the services that use its versions (``serving`` records the version
each deployment serves), so it cannot ask them whether a version is in use. Instead they
register a guard on :class:`~trainyard.registry.RegistryService` when the app is wired
(``add_delete_guard``); every guard is called with the :class:`Deletion` before anything is
deleted, and one that raises (``Conflict``, naming who uses what) stops it: nothing is deleted.

The guards run and the rows are deleted under :attr:`DeleteGuards.deletion_lock`. A service
that records a new user of a version (serving, a deployment) holds the same lock while it checks
that the version still exists and writes: in one server process the two cannot interleave, so
either the deletion sees the new user and refuses, or the new user sees the version gone. (Two
API processes on one database do not share the lock: there, a user recorded between another
process's check and delete is not seen.)

Example::

    def guard(d: Deletion) -> None:
        if any(v.version == 1 for v in d.versions):
            raise Conflict(f"{d.model}:1 is pinned")

    registry.add_delete_guard(guard)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from trainyard.core.registry import ModelVersion


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a delete is about to remove: one version, or a whole model with its versions."""

    workspace: str
    model: str
    versions: tuple[ModelVersion, ...]
    whole_model: bool


DeleteGuard = Callable[[Deletion], None]
"""Called with a deletion before it is made; raises (``Conflict``) to refuse it."""


class DeleteGuards:
    """The guards of a registry service (a mixin of ``RegistryService``)."""

    _delete_guards: list[DeleteGuard]
    _deletion_lock: threading.RLock

    @property
    def deletion_lock(self) -> threading.RLock:
        """Held while a deletion runs its guards and deletes the rows; hold it while checking
        that a version still exists and recording a use of it (see the module)."""
        return self._deletion_lock

    def add_delete_guard(self, guard: DeleteGuard) -> None:
        """Call ``guard`` before every deletion of a version or a model (see the module)."""
        self._delete_guards.append(guard)

    def _guarded(self) -> bool:
        return bool(self._delete_guards)

    def _check_deletion(self, deletion: Deletion) -> None:
        """Run every guard; the first that raises stops the deletion."""
        for guard in self._delete_guards:
            guard(deletion)
