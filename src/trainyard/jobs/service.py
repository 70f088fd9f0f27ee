"""The jobs service: submit, read, list and cancel jobs, and read their logs.

A submission is checked and resolved whole (``resolve.py``) before anything is created; then
the job's run is created in its experiment (tagged ``trainyard.job``, status SCHEDULED) and the
job is queued. The scheduler (``scheduler.py``) takes it from there.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from trainyard.core.entities import RunStatus
from trainyard.core.jobs import Job, JobStatus
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from trainyard.jobs.assets import AssetService, now_ms
from trainyard.jobs.resolve import resolve
from trainyard.schemas import assets as wire_assets
from trainyard.schemas import jobs as wire
from trainyard.store._jobs_base import JobStore
from trainyard.store.artifacts.paths import join_key
from trainyard.tracking import TrackingService

JOB_TAG = "trainyard.job"
LOG_STREAMS = ("stdout", "stderr")
MAX_LOG_CHUNK = 1 << 20
_WORDS_A = ["amber", "brave", "calm", "eager", "gentle", "keen", "lucky", "quiet", "swift", "tidy"]
_WORDS_B = ["apple", "cloud", "falcon", "harbor", "lemon", "maple", "otter", "river", "stone"]


class JobTokens(Protocol):
    """Issues and revokes the job-scoped tokens a job uses when the server requires tokens."""

    def issue(self, workspace: str, job: str) -> tuple[str, str]:
        """A new token with the contributor role in ``workspace``: ``(token_id, secret)``."""

    def revoke(self, token_id: str) -> None:
        """Revoke a token issued for a job."""


class JobKind(Protocol):
    """A job type other than ``command`` (``sweep``), checked and shown by its own service.

    The service registers itself in ``JobService.kinds``; submission, names, runs, status and
    cancellation stay the jobs service's, and the scheduler leaves such jobs to controllers.
    """

    def resolve(self, workspace: str, name: str, spec: Any) -> dict[str, Any]:
        """Check the document named ``name`` whole and resolve its references, first of all."""

    def render(self, job: Job) -> Any:
        """The job's wire form (e.g. ``SweepJob``, with its trials)."""


@dataclass
class JobsConfig:
    """Where jobs run and how they reach the server.

    Attributes:
        home: ``$TRAINYARD_HOME``; jobs run in ``home/jobs/<workspace>/<name>/`` and
            environments are cached in ``home/envs/<hash>/``.
        server_url: the URL jobs use to reach this server (``TRAINYARD_URI`` of every job).
        tokens: job-scoped tokens when the server requires tokens, else None.
        log_interval: seconds between uploads of a running job's logs to its run.
        adopt_orphans: make this process the subreaper of its jobs' processes (Linux), so the
            processes a job leaves behind are reaped as soon as they are ended. Meant for the
            server process; not for a process that starts servers (a test runner).
    """

    home: Path
    server_url: str
    tokens: JobTokens | None = None
    log_interval: float = 1.0
    adopt_orphans: bool = True


@dataclass(frozen=True)
class LogChunk:
    """Bytes of a log from ``offset``; ``complete`` once the job ended and the log is final."""

    data: bytes
    offset: int
    next_offset: int
    complete: bool
    status: JobStatus


def generate_job_name() -> str:
    """``keen_otter_3f9a2c1b``: readable, and unique enough not to collide."""
    return f"{secrets.choice(_WORDS_A)}_{secrets.choice(_WORDS_B)}_{secrets.token_hex(4)}"


def job_out(job: Job) -> wire.Job:
    """The wire form: the document as submitted, plus where the job is."""
    return wire.Job.model_validate(
        {
            **job.document,
            "name": job.name,
            "status": job.status,
            "status_history": [
                {"status": h.status, "time": h.time, "message": h.message} for h in job.history
            ],
            "run_id": job.run_id,
            "experiment_id": job.experiment_id,
            "resolved": job.resolved,
            "exit_code": job.exit_code,
            "error": job.error,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }
    )


@dataclass
class _Hooks:
    submitted: list[Callable[[], None]] = field(default_factory=list)
    cancel: list[Callable[[str, str], None]] = field(default_factory=list)
    finished: list[Callable[[str, str], None]] = field(default_factory=list)


class JobService:
    """Jobs of every workspace, over a job store, the asset service and the tracking service."""

    def __init__(
        self,
        store: JobStore,
        assets: AssetService,
        tracking: TrackingService,
        config: JobsConfig,
    ) -> None:
        self.store = store
        self.assets = assets
        self.tracking = tracking
        self.config = config
        self.hooks = _Hooks()
        self.kinds: dict[str, JobKind] = {}
        # log files of jobs running in this process, read directly for the freshest bytes
        self.live_logs: dict[tuple[str, str], dict[str, Path]] = {}

    # ---------------------------------------------------------------- submit
    def submit(
        self,
        workspace: str,
        spec: wire.JobCreate | wire.SweepJobCreate,
        name: str | None = None,
        *,
        parent_run_id: str | None = None,
    ) -> tuple[wire.Job | wire.SweepJob, bool]:
        """Queue a job (True), or return the identical job submitted before (False).

        ``parent_run_id`` nests the job's run under another (a sweep's trials).

        Raises:
            InvalidArgument: the document is wrong (see ``resolve``), or names disagree.
            NotFound: a referenced asset or compute does not exist.
            AlreadyExists: another job has that name.
        """
        self.tracking.get_workspace(workspace)
        if name is not None and spec.name is not None and spec.name != name:
            raise InvalidArgument(
                f"the document names the job {spec.name!r} but the URL says {name!r}"
            )
        name = name or spec.name or generate_job_name()
        wire.JobCreate.model_validate({"name": name, "command": "x"})  # the name's pattern
        document = {**spec.model_dump(mode="json", exclude_unset=True), "name": name}
        try:
            existing = self.store.get_job(workspace, name)
        except NotFound:
            existing = None
        if existing is not None:
            if existing.document == document:
                return self.out(existing), False
            raise AlreadyExists(
                f"a job named {name!r} exists already in workspace {workspace!r} with another "
                "document; job names are unique: pick another or leave the name out"
            )
        if isinstance(spec, wire.JobCreate):
            resolved = resolve(self.assets, workspace, spec)
        elif spec.type in self.kinds:
            resolved = self.kinds[spec.type].resolve(workspace, name, spec)
        else:
            raise InvalidArgument(f"jobs of type {spec.type!r} are not run by this server")
        run_id, experiment_id = self._create_run(workspace, name, spec, parent_run_id)
        try:
            job = self.store.create_job(
                workspace, name, spec.compute, document, resolved, run_id, experiment_id, now_ms()
            )
        except AlreadyExists:
            self.tracking.delete_run(workspace, run_id)
            raise
        for hook in self.hooks.submitted:
            hook()
        return self.out(job), True

    def _create_run(
        self,
        workspace: str,
        name: str,
        spec: wire.JobCreate | wire.SweepJobCreate,
        parent_run_id: str | None,
    ) -> tuple[str, str]:
        exp_name = spec.experiment_name or "Default"
        try:
            exp = self.tracking.get_experiment_by_name(workspace, exp_name)
        except NotFound:
            try:
                exp = self.tracking.create_experiment(workspace, exp_name)
            except AlreadyExists:
                exp = self.tracking.get_experiment_by_name(workspace, exp_name)
        tags = {**spec.tags, JOB_TAG: name, "trainyard.compute": spec.compute}
        run = self.tracking.create_run(
            workspace,
            exp.experiment_id,
            name=spec.display_name or name,
            parent_run_id=parent_run_id,
            tags=tags,
        )
        self.tracking.update_run(workspace, run.run_id, status=RunStatus.SCHEDULED)
        return run.run_id, exp.experiment_id

    # ---------------------------------------------------------------- read
    def out(self, job: Job) -> wire.Job | wire.SweepJob:
        """The wire form of a job of any type."""
        kind = job.document.get("type", "command")
        if kind != "command" and kind in self.kinds:
            return self.kinds[kind].render(job)  # type: ignore[no-any-return]
        return job_out(job)

    def get(self, workspace: str, name: str) -> wire.Job | wire.SweepJob:
        """The job, or NotFound."""
        return self.out(self.store.get_job(workspace, name))

    def list(
        self,
        workspace: str,
        status: JobStatus | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> wire.JobList:
        """A page of jobs, newest first."""
        self.tracking.get_workspace(workspace)
        if not 1 <= max_results <= 1000:
            raise InvalidArgument(f"max_results must be between 1 and 1000, got {max_results}")
        offset = decode_token(page_token)
        jobs, more = self.store.list_jobs(workspace, status, max_results, offset)
        token = encode_token(offset + len(jobs)) if more else None
        return wire.JobList(jobs=[self.out(j) for j in jobs], next_page_token=token)

    # ---------------------------------------------------------------- cancel
    def cancel(self, workspace: str, name: str) -> wire.Job | wire.SweepJob:
        """Cancel a job: a queued one at once, a live one as soon as its process group ends.

        Raises:
            Conflict: the job completed or failed already.
        """
        job = self.store.get_job(workspace, name)
        if job.status == JobStatus.QUEUED:
            done = self.store.transition(workspace, name, JobStatus.CANCELED, now_ms(), "canceled")
            if done is not None:
                if job.run_id:
                    self.tracking.update_run(
                        workspace, job.run_id, status=RunStatus.KILLED, status_message="canceled"
                    )
                return self.out(done)
            job = self.store.get_job(workspace, name)
        if job.status == JobStatus.CANCELED:
            return self.out(job)
        if job.status.is_terminal:
            raise Conflict(
                f"job {name!r} is {job.status.value} already; there is nothing to cancel"
            )
        job = self.store.request_cancel(workspace, name)
        for hook in self.hooks.cancel:
            hook(workspace, name)
        return self.out(job)

    # ---------------------------------------------------------------- outputs
    def register_output(
        self,
        workspace: str,
        name: str,
        output: str,
        body: wire_assets.RegisterOutput,
        *,
        job: Job | None = None,
    ) -> tuple[wire_assets.DataAsset, bool]:
        """Register a completed job's output folder as the ``uri_folder`` data ``name:version``.

        ``job`` is the job itself when the runner registers it before its final status.

        Raises:
            NotFound: no such job, or it declares no such output.
            Conflict: the job has not completed (and is not completing), or the data version
                exists with another path.
        """
        if job is None:
            job = self.store.get_job(workspace, name)
            if job.status != JobStatus.COMPLETED:
                raise Conflict(
                    f"job {name!r} is {job.status.value}; only a Completed job's outputs can be "
                    "registered"
                )
        if output not in (job.document.get("outputs") or {}):
            declared = ", ".join(sorted(job.document.get("outputs") or {})) or "none"
            raise NotFound(f"job {name!r} has no output {output!r} (outputs: {declared})")
        if not job.run_id:
            raise Conflict(f"job {name!r} has no run, so no outputs")
        run = self.tracking.get_run(workspace, job.run_id)
        key = join_key(run.artifact_uri, f"outputs/{output}")
        data = wire_assets.DataAssetCreate(
            type="uri_folder",
            description=body.description or f"output {output!r} of job {name!r}",
            tags={"trainyard.job": name, "trainyard.output": output, **body.tags},
        )
        return self.assets.put_data_at(workspace, body.name, body.version, key, data)

    # ---------------------------------------------------------------- logs
    def read_log(
        self, workspace: str, name: str, stream: str, offset: int = 0, limit: int = MAX_LOG_CHUNK
    ) -> LogChunk:
        """Up to ``limit`` bytes of the job's ``stdout`` or ``stderr`` from ``offset``."""
        if stream not in LOG_STREAMS:
            raise InvalidArgument(f"stream must be stdout or stderr, got {stream!r}")
        if offset < 0 or not 1 <= limit <= MAX_LOG_CHUNK:
            raise InvalidArgument(f"offset must be >= 0 and limit in 1..{MAX_LOG_CHUNK}")
        job = self.store.get_job(workspace, name)
        data = b""
        live = self.live_logs.get((workspace, name), {}).get(stream)
        if live is not None and live.exists():
            with live.open("rb") as f:
                f.seek(offset)
                data = f.read(limit)
        elif job.run_id:
            data = self._artifact_log(workspace, job.run_id, stream, offset, limit)
        complete = job.status.is_terminal and len(data) < limit
        return LogChunk(data, offset, offset + len(data), complete, job.status)

    def tail_log(
        self, workspace: str, name: str, stream: str = "stdout", max_bytes: int = 64 * 1024
    ) -> LogChunk:
        """The last ``max_bytes`` (at most) of the job's ``stdout`` or ``stderr``.

        Read through :meth:`read_log` from ``size - max_bytes``; the answer's ``offset`` says
        where the bytes start, so a reader showing lines drops the first (partial) one when it
        is above 0. Meant for showing the end of a long log without reading all of it.
        """
        if not 1 <= max_bytes <= MAX_LOG_CHUNK:
            raise InvalidArgument(f"max_bytes must be in 1..{MAX_LOG_CHUNK}, got {max_bytes}")
        size = self._log_size(workspace, name, stream)
        return self.read_log(workspace, name, stream, max(0, size - max_bytes), max_bytes)

    def _log_size(self, workspace: str, name: str, stream: str) -> int:
        job = self.store.get_job(workspace, name)
        live = self.live_logs.get((workspace, name), {}).get(stream)
        if live is not None:
            try:
                return live.stat().st_size
            except FileNotFoundError:  # the job just ended: its log is among the artifacts
                pass
        if not job.run_id:
            return 0
        run = self.tracking.get_run(workspace, job.run_id)
        info = self.tracking.artifacts.info(join_key(run.artifact_uri, f"logs/{stream}.log"))
        return (info.size if info is not None else None) or 0

    def _artifact_log(
        self, workspace: str, run_id: str, stream: str, offset: int, limit: int
    ) -> bytes:
        run = self.tracking.get_run(workspace, run_id)
        key = join_key(run.artifact_uri, f"logs/{stream}.log")
        if self.tracking.artifacts.info(key) is None:
            return b""
        with self.tracking.artifacts.open_read(key) as f:
            f.seek(offset)
            return f.read(limit)  # type: ignore[no-any-return]
