"""Jobs and their assets: entities, the job state machine, references and placeholders.

A job moves ``Queued -> Preparing -> Running -> Completed | Failed | Canceled``; a queued job
may be canceled directly, and any live job may fail (its setup broke, or the server died under
it). Every change is recorded with its UTC millisecond time.

References name a versioned asset: ``name:version`` or ``name@latest``. Placeholders in a job's
command read ``${{inputs.NAME}}`` and ``${{outputs.NAME}}``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from trainyard.errors import InvalidArgument


class JobStatus(enum.StrEnum):
    """Where a job is in its life."""

    QUEUED = "Queued"
    PREPARING = "Preparing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def is_terminal(self) -> bool:
        """True once the job can no longer change."""
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})
LIVE = frozenset({JobStatus.PREPARING, JobStatus.RUNNING})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PREPARING, JobStatus.CANCELED, JobStatus.FAILED}),
    JobStatus.PREPARING: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """The statuses from which ``target`` may be reached."""
    return frozenset(s for s, nexts in TRANSITIONS.items() if target in nexts)


class AssetKind(enum.StrEnum):
    """The versioned assets a job refers to."""

    ENVIRONMENT = "environments"
    DATA = "data"
    CODE = "code"


DATA_TYPES = ("uri_file", "uri_folder", "table")
BUILTIN_ENVIRONMENT = "python"
DEFAULT_COMPUTE = "local"
DEFAULT_DATASTORE = "default"


@dataclass(frozen=True, slots=True)
class AssetVersion:
    """One version of an environment, data or code asset. ``spec`` holds the kind's fields."""

    kind: AssetKind
    workspace: str
    name: str
    version: str
    spec: dict[str, Any]
    description: str
    tags: dict[str, str]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Compute:
    """Where jobs run: ``local`` processes or a ``ray`` cluster, with a number of slots."""

    workspace: str
    name: str
    type: str
    slots: int
    address: str | None = None
    description: str = ""
    created_at: int = 0
    builtin: bool = False


@dataclass(frozen=True, slots=True)
class Datastore:
    """Where data assets may point: an fsspec URL (``file:///data``, ``s3://bucket/prefix``).

    ``default`` (the server's artifact store) is built in and never stored.
    """

    workspace: str
    name: str
    url: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a job's history."""

    status: JobStatus
    time: int
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """A submitted job: its document as submitted, what it resolved to, and where it is."""

    workspace: str
    name: str
    seq: int
    document: dict[str, Any]
    resolved: dict[str, Any]
    compute: str
    status: JobStatus
    run_id: str | None
    experiment_id: str | None
    created_at: int
    updated_at: int
    exit_code: int | None = None
    error: str | None = None
    cancel_requested: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    history: list[StatusChange] = field(default_factory=list)


_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,249}"
_REF_RE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<version>[A-Za-z0-9_.\-]{{1,64}})|@latest)$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_ASSET_NAME_RE = re.compile(rf"^{_NAME}$")
PLACEHOLDER_RE = re.compile(r"\$\{\{\s*(?P<kind>[A-Za-z_]+)\.(?P<name>[A-Za-z0-9_\-]+)\s*\}\}")


def parse_ref(ref: str) -> tuple[str, str | None] | None:
    """``name:version`` to ``(name, version)``, ``name@latest`` to ``(name, None)``, else None."""
    m = _REF_RE.match(ref)
    if m is None:
        return None
    return m.group("name"), m.group("version")


def check_asset_name(kind: str, name: str) -> str:
    """An asset, compute or job name: letters, digits, '_', '.', '-' (250 at most)."""
    if not _ASSET_NAME_RE.match(name):
        raise InvalidArgument(
            f"{kind} name {name!r} must start with a letter or digit and use only letters, "
            "digits, '_', '.' and '-'"
        )
    return name


def check_version(kind: str, version: str) -> str:
    """An asset version: letters, digits, '_', '.', '-' (64 at most)."""
    if not _VERSION_RE.match(version) or version == "latest":
        raise InvalidArgument(
            f"{kind} version {version!r} must start with a letter or digit and use only "
            "letters, digits, '_', '.' and '-' (64 characters at most); 'latest' is reserved"
        )
    return version


def placeholders(command: str) -> list[tuple[str, str]]:
    """The ``(kind, name)`` of each ``${{kind.name}}`` in ``command``, in order."""
    return [(m.group("kind"), m.group("name")) for m in PLACEHOLDER_RE.finditer(command)]


def substitute(command: str, values: dict[tuple[str, str], str]) -> str:
    """``command`` with each placeholder replaced by ``values[(kind, name)]``."""
    return PLACEHOLDER_RE.sub(lambda m: values[(m.group("kind"), m.group("name"))], command)
