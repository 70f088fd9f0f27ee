"""The executor seam: start a prepared job somewhere, watch it, end it.

Contract of an :class:`Executor`:

- ``launch`` starts the job and returns once its user process runs (or raises
  :class:`LaunchError` with a message for the job's ``Failed`` status). The job's files are
  prepared beforehand in ``Launch.workdir`` by the runner: ``code/`` (the snapshot),
  ``inputs/<name>`` (read-only data), ``outputs/<name>/`` (empty folders), ``logs/``.
- An :class:`Execution` keeps ``logs/stdout.log`` and ``logs/stderr.log`` up to date at each
  ``sync_logs`` (a local process writes them itself; a remote one is fetched).
- ``terminate`` ends everything the job started (the whole process group, or the remote job),
  first gently (SIGTERM) then for good (SIGKILL) after ``grace`` seconds, and returns once the
  job is gone.
- ``state`` is what a restarted server needs to end a job it lost (``Executor.reap``) or, on a
  compute whose jobs outlive the server (Ray), to follow it again (``Executor.attach``).
- An execution that ``outlives_server`` is left running when the server stops: the next server
  re-attaches to it. Any other is ended with the server (a local process group).
- Methods are called from the job's runner thread only; executors hold no job between calls.
"""

from __future__ import annotations

import abc
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trainyard.core.jobs import substitute


class LaunchError(Exception):
    """The job could not be started; the message goes into its ``Failed`` status."""


@dataclass
class Launch:
    """Everything an executor needs to start one job."""

    workspace: str
    name: str
    run_id: str
    command: str
    workdir: Path
    inputs: dict[str, Path] = field(default_factory=dict)
    literals: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    compute: dict[str, Any] = field(default_factory=dict)

    @property
    def code_dir(self) -> Path:
        """The snapshot of the job's code; the working directory of its process."""
        return self.workdir / "code"

    @property
    def log_dir(self) -> Path:
        """Where ``stdout.log`` and ``stderr.log`` are kept."""
        return self.workdir / "logs"

    def render(self, path_of: Any = str) -> str:
        """The command with its placeholders filled; ``path_of`` maps a local path for it."""
        values = {("inputs", k): shlex.quote(path_of(p)) for k, p in self.inputs.items()}
        values.update({("inputs", k): shlex.quote(v) for k, v in self.literals.items()})
        values.update({("outputs", k): shlex.quote(path_of(p)) for k, p in self.outputs.items()})
        return substitute(self.command, values)


class Execution(abc.ABC):
    """A started job."""

    state: dict[str, Any]

    @abc.abstractmethod
    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds; the exit code once the job ended, else None."""

    @abc.abstractmethod
    def terminate(self, grace: float = 5.0) -> int | None:
        """End the job and everything it started; its exit code if it had one."""

    def sync_logs(self) -> None:  # noqa: B027 - optional: local processes write their logs
        """Bring ``logs/stdout.log`` and ``logs/stderr.log`` up to date (local: nothing to do)."""

    def local_outputs(self) -> bool:
        """True when ``outputs/<name>/`` folders hold what the job wrote (upload them)."""
        return True

    @property
    def outlives_server(self) -> bool:
        """True when the job runs on without the server, to be re-attached by the next one."""
        return False


class Executor(abc.ABC):
    """Starts jobs on one kind of compute."""

    @abc.abstractmethod
    def launch(self, job: Launch) -> Execution:
        """Start the job; raise :class:`LaunchError` when it cannot start."""

    @abc.abstractmethod
    def reap(self, state: dict[str, Any]) -> None:
        """End whatever is left of a job started by a server that died (best effort)."""

    def reattachable(self, state: dict[str, Any]) -> bool:
        """True when a job a previous server started (its ``state``) may still be followed.

        False (the default) for jobs that die with the server: the restarted server reaps and
        fails them. True sends the job to :meth:`attach`.
        """
        return False

    def attach(self, state: dict[str, Any], log_dir: Path) -> Execution:
        """Follow again a job a previous server started; it may have ended meanwhile.

        Raises:
            LaunchError: the job cannot be found (its cluster is unreachable, or does not know
                it); the message says which, for the job's ``Failed`` status.
        """
        raise LaunchError("jobs on this compute end with the server and cannot be re-attached")
