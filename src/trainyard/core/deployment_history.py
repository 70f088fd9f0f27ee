"""The model history of a deployment, and which entry a rollback goes back to: pure rules.

Every time a deployment's model version changes (it is created, updated to another version, or
rolled back), one :class:`DeploymentEvent` is recorded with the version it serves from then on.
Changes that keep the version (replicas, limits, batching) record nothing.

A rollback (:func:`rollback_target`) goes back to a version the deployment served before:

- by default, the most recent entry whose model version differs from the one served now, so
  two rollbacks in a row swap back and forth between the last two versions (like an undo that
  can itself be undone);
- with ``to_version``, the most recent entry of that version number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from trainyard.errors import Conflict, NotFound


class ChangeReason(enum.StrEnum):
    """Why a deployment's model version changed."""

    CREATED = "created"
    UPDATED = "updated"
    ROLLED_BACK = "rolled back"


@dataclass(frozen=True, slots=True)
class DeploymentEvent:
    """One entry of a deployment's history: the version it served from ``at`` on, and why."""

    workspace: str
    endpoint: str
    deployment: str
    model_name: str
    model_version: int
    model_id: str
    model_ref: str
    reason: ChangeReason
    at: int


def rollback_target(
    name: str, current_model_id: str, history: Iterable[DeploymentEvent], to_version: int | None
) -> DeploymentEvent:
    """The entry a rollback of deployment ``name`` restores (``history`` newest first).

    Raises:
        Conflict: no earlier version to go back to, or ``to_version`` is the version served now.
        NotFound: ``to_version`` is not a version the deployment served (the message lists them).
    """
    served: list[int] = []
    for event in history:
        if event.model_id == current_model_id:
            if to_version is not None and event.model_version == to_version:
                raise Conflict(
                    f"deployment {name!r} serves {event.model_name}:{to_version} already"
                )
            continue
        if to_version is None or event.model_version == to_version:
            return event
        served.append(event.model_version)
    if to_version is None:
        raise Conflict(
            f"deployment {name!r} has no earlier model version to roll back to: it has served "
            "only the one it serves now (update it with --model instead)"
        )
    versions = ", ".join(str(v) for v in sorted(set(served))) or "none"
    raise NotFound(
        f"deployment {name!r} never served model version {to_version} "
        f"(earlier versions it served: {versions})"
    )
