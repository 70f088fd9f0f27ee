"""The local executor: each job is a process group on the server's machine.

The command runs under ``bash -c`` in ``<workdir>/code`` as the leader of a new session
(``start_new_session``), so that cancel and timeout can signal the whole group: SIGTERM, then
SIGKILL after a grace period, then a wait until no member is left. Its stdout and stderr go
straight to ``logs/stdout.log`` and ``logs/stderr.log`` (unbuffered Python), which the runner
uploads to the job's run while it runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from trainyard.jobs.environments import EnvironmentBuilder, EnvironmentBuildError
from trainyard.jobs.executors._base import Execution, Executor, Launch, LaunchError

log = logging.getLogger("trainyard.jobs")

_PR_SET_CHILD_SUBREAPER = 36
_PROC = Path("/proc")
SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
MARKER = "TRAINYARD_JOB"


def base_environment() -> dict[str, str]:
    """The server's environment without its own settings (a database URL may hold a password)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRAINYARD_", "MLFLOW_")) and k != "VIRTUAL_ENV"
    }


def group_alive(pgid: int) -> bool:
    """True while any process of the group exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def become_subreaper() -> bool:
    """Adopt the orphans of our jobs (Linux), so that ``end_group`` can reap them at once."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _members(pgid: int) -> list[tuple[int, int]]:
    """``(pid, parent pid)`` of the group's processes, from /proc (Linux; else empty)."""
    found = []
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            found.append((int(entry.name), int(fields[1])))
    return found


def _reap(pgid: int, leader: subprocess.Popen[bytes] | None = None) -> None:
    """Collect the exit status of the group's dead members that are our children."""
    if leader is not None:
        leader.poll()
    me = os.getpid()
    for pid, ppid in _members(pgid):
        if ppid == me and (leader is None or pid != leader.pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)


def end_group(pgid: int, grace: float, leader: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the group, SIGKILL it after ``grace`` seconds, wait (5 s at most) for its end.

    ``leader``: our own child leading the group, reaped through its ``Popen``.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_alive(pgid) and time.monotonic() < deadline:
        _reap(pgid, leader)
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        _reap(pgid, leader)
        time.sleep(0.02)


class LocalExecution(Execution):
    """A job's process group."""

    def __init__(self, proc: subprocess.Popen[bytes], files: list[Any]) -> None:
        self.proc = proc
        self.pgid = proc.pid
        self._files = files
        self.state = {"pid": proc.pid, "pgid": proc.pid}
        # a pidfd turns readable the moment the process exits (Popen.wait polls every 50 ms)
        self._pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(proc.pid)

    def wait(self, timeout: float) -> int | None:
        """The exit code once the leader exited (stray members of its group are ended too)."""
        if self._pidfd is not None and self.proc.returncode is None:
            ready, _, _ = select.select([self._pidfd], [], [], timeout)
            if not ready:
                return None
            timeout = 5.0
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._cleanup(0.5)
        return code

    def terminate(self, grace: float = 5.0) -> int | None:
        """End the group, gently then for good."""
        end_group(self.pgid, grace, self.proc)
        code = self.proc.wait()
        self._close()
        return code

    def _cleanup(self, grace: float) -> None:
        if group_alive(self.pgid):  # the command left processes behind: end them
            end_group(self.pgid, grace)
        self._close()

    def _close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class LocalExecutor(Executor):
    """Runs jobs as local process groups, in their environment's interpreter."""

    def __init__(self, environments: EnvironmentBuilder) -> None:
        self.environments = environments

    def launch(self, job: Launch) -> Execution:
        """Build or reuse the environment, then start ``bash -c command`` in the code folder."""
        job.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            python = self.environments.python_for(job.environment, job.log_dir / "environment.log")
        except EnvironmentBuildError as exc:
            raise LaunchError(str(exc)) from exc
        env = base_environment()
        env.update(job.env)
        env["PATH"] = f"{os.path.dirname(python)}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env[MARKER] = f"{job.workspace}/{job.name}"
        if not job.environment.get("builtin"):
            env["VIRTUAL_ENV"] = str(Path(python).parent.parent)
        stdout = open(job.log_dir / "stdout.log", "ab")  # noqa: SIM115 - closed by the execution
        stderr = open(job.log_dir / "stderr.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                [SHELL, "-c", job.render()],
                cwd=job.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            stdout.close()
            stderr.close()
            raise LaunchError(f"could not start the job's process: {exc}") from exc
        execution = LocalExecution(proc, [stdout, stderr])
        execution.state["marker"] = env[MARKER]
        return execution

    def reap(self, state: dict[str, Any]) -> None:
        """End the process groups a dead server left for this job (found by their marker)."""
        marker = state.get("marker")
        if not marker:
            return
        tag = f"{MARKER}={marker}".encode()
        pgid = state.get("pgid")
        groups = {pgid} if isinstance(pgid, int) else _groups_with(tag)
        for group in groups:
            if group_alive(group) and _belongs(group, tag):
                log.warning("ending process group %s left by a previous server (%s)", group, marker)
                end_group(group, 2.0)


def _groups_with(marker: bytes) -> set[int]:
    """The process groups of processes carrying ``marker`` in their environment (Linux)."""
    found = set()
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.add(os.getpgid(int(entry.name)))
        except (OSError, ProcessLookupError):
            continue
    return found


def _belongs(pgid: int, marker: bytes) -> bool:
    """True when a member of the group carries the job's marker in its environment (Linux)."""
    for pid, _ in _members(pgid):
        try:
            if marker in (_PROC / str(pid) / "environ").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False
