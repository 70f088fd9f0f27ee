"""What a submitted job and a submitted sweep share: the base of ``Job`` and ``Sweep``.

Both are a job of the workspace (``/jobs/{name}``) as last read into its wire model. The base
keeps the scope and that ``info``, and reads the job again, waits for it to end, cancels it and
opens its run. Each kind keeps its public methods, with their own docstrings, as one-line calls
of these, and what only it does (a job's logs and outputs, a sweep's trials).
"""

from __future__ import annotations

import time
from typing import ClassVar, Generic, Self, TypeVar

from trainyard.client._scope import Scope
from trainyard.client.run import Run
from trainyard.core.jobs import JobStatus
from trainyard.errors import InvalidArgument
from trainyard.schemas import Run as RunInfo
from trainyard.schemas.jobs import Job as JobInfo
from trainyard.schemas.jobs import SweepJob

_Info = TypeVar("_Info", JobInfo, SweepJob)


class SubmittedJob(Generic[_Info]):
    """A job as last read from the server (``info``), of one kind: ``Job`` or ``Sweep``.

    A kind names its wire model (``_model``) and the word its messages use for it (``_kind``,
    which capitalized is also the name its ``repr`` shows).
    """

    info: _Info
    _model: type[_Info]
    _kind: ClassVar[str]

    def __init__(self, scope: Scope, info: _Info) -> None:
        self._scope = scope
        self.info = info

    def __repr__(self) -> str:
        kind = self._kind.capitalize()
        return f"{kind}(name={self.info.name!r}, status={self.info.status.value})"

    def _read(self) -> Self:
        """Read the job again into ``info``."""
        data = self._scope.request("GET", "jobs", self.info.name)
        self.info = self._model.model_validate(data)
        return self

    def _cancel(self) -> Self:
        """Ask the server to cancel the job; ``info`` is its answer."""
        data = self._scope.request("POST", "jobs", self.info.name, "cancel")
        self.info = self._model.model_validate(data)
        return self

    def _wait(self, timeout: float | None, poll: float) -> JobStatus:
        """Read the job every ``poll`` seconds until it ends; ``TimeoutError`` after ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._read().info.status.is_terminal:
            if deadline is not None and time.monotonic() >= deadline:
                status = self.info.status.value
                raise TimeoutError(f"{self._kind} {self.info.name} is still {status}")
            time.sleep(poll)
        return self.info.status

    def _get_run(self) -> Run:
        """The job's run, whose status the job owns (``InvalidArgument`` if it has none yet)."""
        if self.info.run_id is None:
            raise InvalidArgument(f"{self._kind} {self.info.name} has no run")
        data = self._scope.request("GET", "runs", self.info.run_id)
        return Run(self._scope, RunInfo.model_validate(data), owns_status=False)
