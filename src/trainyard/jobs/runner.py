"""One job's life after the scheduler claimed it: prepare, launch, watch, finish.

The runner thread moves the job ``Preparing -> Running -> Completed | Failed | Canceled`` and
its run ``SCHEDULED -> RUNNING -> FINISHED | FAILED | KILLED``. While the job runs it uploads
``logs/stdout.log`` and ``logs/stderr.log`` to the run every ``log_interval`` seconds (when they
grew), and ends the job's process group on cancel, on timeout and when the server shuts down.
At the end it uploads the logs and ``outputs/<name>/`` and only then records the final status,
so a client that sees the final status finds the final files.

A runner made with ``reattach=True`` takes over a job a previous server launched on a compute
whose jobs outlive the server (Ray): it asks the executor to ``attach`` to it from the job's
recorded state and then follows it exactly as a fresh one (logs, cancel, timeout counted from
its original start, outputs, final status). When the server stops, such a job is not ended:
the runner uploads its logs so far and lets go, leaving it ``Running`` for the next server.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from trainyard.core.entities import RunStatus
from trainyard.core.jobs import Job, JobStatus
from trainyard.errors import TrainyardError
from trainyard.jobs.assets import now_ms
from trainyard.jobs.executors._base import Execution, Executor, Launch, LaunchError
from trainyard.jobs.service import LOG_STREAMS, JobService
from trainyard.jobs.workdir import PrepareError, prepare
from trainyard.schemas import assets as wire_assets

log = logging.getLogger("trainyard.jobs")

STDERR_TAIL = 2000


def tail(path: Path, n: int = STDERR_TAIL) -> str:
    """The last ``n`` characters of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - n * 4))
            return f.read().decode(errors="replace")[-n:].strip()
    except OSError:
        return ""


def upload_logs(service: JobService, job: Job, log_dir: Path, sizes: dict[str, int]) -> None:
    """Copy the job's log files to ``logs/`` of its run when they changed since ``sizes``."""
    if not job.run_id:
        return
    for stream in LOG_STREAMS:
        path = log_dir / f"{stream}.log"
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if sizes.get(stream) == size:
            continue
        with (
            path.open("rb") as src,
            service.tracking.artifact_writer(job.workspace, job.run_id, f"logs/{stream}.log") as f,
        ):
            while chunk := src.read(1 << 20):
                f.write(chunk)
        sizes[stream] = size


class JobRunner:
    """Runs one claimed job in its own thread."""

    def __init__(
        self,
        service: JobService,
        executor: Executor,
        job: Job,
        release: Callable[[], None],
        shutdown: threading.Event,
        *,
        reattach: bool = False,
    ) -> None:
        self.service = service
        self.reattach = reattach
        self.executor = executor
        self.job = job
        self.cancel = threading.Event()
        self._release = release
        self._released = False
        self._shutdown = shutdown
        self._sizes: dict[str, int] = {}
        self._token_id: str | None = None
        self.thread = threading.Thread(target=self.run, name=f"job-{job.name}", daemon=True)

    def start(self) -> None:
        """Run the job in the background."""
        self.thread.start()

    def release(self) -> None:
        """Give the compute slot back (once)."""
        if not self._released:
            self._released = True
            self._release()

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> None:
        """The thread's body: never raises; an unexpected error fails the job."""
        job = self.job
        try:
            self._run()
        except Exception as exc:
            log.exception("job %s/%s failed unexpectedly", job.workspace, job.name)
            self._finish(JobStatus.FAILED, f"internal error while running the job: {exc!r}", None)
        finally:
            self.release()

    def _run(self) -> None:
        job = self.job
        svc = self.service
        assert job.run_id is not None
        if self.reattach:
            self._reattach()
            return
        root = svc.config.home / "jobs"
        workdir = root / job.workspace / job.name
        self._log_dir = workdir / "logs"
        try:
            launch = prepare(job, svc.assets.artifacts, root, job.run_id)
        except PrepareError as exc:
            self._finish(JobStatus.FAILED, str(exc), None)
            return
        launch.env.update(self._job_env(launch))
        svc.live_logs[(job.workspace, job.name)] = {
            s: self._log_dir / f"{s}.log" for s in LOG_STREAMS
        }
        try:
            execution = self.executor.launch(launch)
        except LaunchError as exc:
            self._finish(JobStatus.FAILED, str(exc), None)
            return
        svc.store.set_state(job.workspace, job.name, {**execution.state, "workdir": str(workdir)})
        pid = execution.state.get("pid") or execution.state.get("ray_job_id")
        moved = svc.store.transition(
            job.workspace, job.name, JobStatus.RUNNING, now_ms(), f"started ({pid})"
        )
        if moved is None or svc.store.get_job(job.workspace, job.name).cancel_requested:
            self.cancel.set()
        else:
            svc.tracking.update_run(job.workspace, job.run_id, status=RunStatus.RUNNING)
        self._watch(execution, launch.outputs)

    def _reattach(self) -> None:
        """Follow a job a previous server launched, from its recorded state (see the module)."""
        job, svc = self.job, self.service
        assert job.run_id is not None
        state = job.state
        workdir = Path(state.get("workdir") or svc.config.home / "jobs" / job.workspace / job.name)
        self._log_dir = workdir / "logs"
        if state.get("token_id"):
            self._token_id = str(state["token_id"])
        try:
            execution = self.executor.attach(state, self._log_dir)
        except LaunchError as exc:
            self._finish(
                JobStatus.FAILED,
                f"the server stopped while the job was {job.status.value} and could not "
                f"re-attach to it: {exc}. Its logs up to then are kept: submit it again under a "
                "new name to rerun it",
                None,
            )
            return
        svc.live_logs[(job.workspace, job.name)] = {
            s: self._log_dir / f"{s}.log" for s in LOG_STREAMS
        }
        ident = state.get("pid") or state.get("ray_job_id")
        log.warning("job %s/%s: re-attached to %s after a restart", job.workspace, job.name, ident)
        if job.status == JobStatus.PREPARING:
            moved = svc.store.transition(
                job.workspace, job.name, JobStatus.RUNNING, now_ms(), f"started ({ident})"
            )
            if moved is not None:
                svc.tracking.update_run(job.workspace, job.run_id, status=RunStatus.RUNNING)
        if svc.store.get_job(job.workspace, job.name).cancel_requested:
            self.cancel.set()
        outputs = {n: workdir / "outputs" / n for n in job.document.get("outputs") or {}}
        self._watch(execution, outputs)

    def _started(self) -> float:
        """``time.monotonic()`` of the job's start: now, or its recorded start if re-attached."""
        started = next((h.time for h in self.job.history if h.status == JobStatus.RUNNING), None)
        if started is None:
            return time.monotonic()
        return time.monotonic() - max(0.0, (now_ms() - started) / 1000)

    def _detach(self, execution: Execution) -> None:
        """Let go of a job that outlives the server: logs uploaded, status left as it is."""
        job, svc = self.job, self.service
        execution.sync_logs()
        try:
            upload_logs(svc, job, self._log_dir, self._sizes)
        except Exception:
            log.exception("could not upload the logs of job %s", job.name)
        svc.live_logs.pop((job.workspace, job.name), None)
        log.warning(
            "job %s/%s keeps running on its compute; the next server re-attaches to it",
            job.workspace,
            job.name,
        )

    def _job_env(self, launch: Launch) -> dict[str, str]:
        job, cfg = self.job, self.service.config
        assert job.run_id is not None
        env = {
            "TRAINYARD_URI": cfg.server_url,
            "TRAINYARD_WORKSPACE": job.workspace,
            "TRAINYARD_RUN_ID": job.run_id,
            "TRAINYARD_JOB_NAME": job.name,
            "MLFLOW_TRACKING_URI": cfg.server_url,
            "MLFLOW_RUN_ID": job.run_id,
            "MLFLOW_EXPERIMENT_ID": job.experiment_id or "0",
        }
        if cfg.tokens is not None:
            self._token_id, secret = cfg.tokens.issue(job.workspace, job.name)
            self.service.store.set_state(job.workspace, job.name, {"token_id": self._token_id})
            env["TRAINYARD_TOKEN"] = secret
            env["MLFLOW_TRACKING_TOKEN"] = secret
        env.update(
            {str(k): str(v) for k, v in job.document.get("environment_variables", {}).items()}
        )
        return env

    def _watch(self, execution: Execution, outputs: dict[str, Path]) -> None:
        job, cfg = self.job, self.service.config
        timeout = (job.document.get("limits") or {}).get("timeout")
        deadline = self._started() + timeout if timeout else None
        next_upload = time.monotonic() + cfg.log_interval
        reason: tuple[JobStatus, str] | None = None
        while True:
            step = 0.25
            if deadline is not None:
                step = max(0.0, min(step, deadline - time.monotonic()))
            code = execution.wait(step)
            if code is not None:
                break
            if self.cancel.is_set():
                reason = (JobStatus.CANCELED, "canceled")
            elif self._shutdown.is_set() and execution.outlives_server:
                self._detach(execution)
                return
            elif self._shutdown.is_set():
                reason = (JobStatus.FAILED, "the server shut down while the job was running")
            elif deadline is not None and time.monotonic() >= deadline:
                reason = (JobStatus.FAILED, f"timed out after {timeout} s (limits.timeout)")
            if reason is not None:
                code = execution.terminate()
                break
            if time.monotonic() >= next_upload:
                execution.sync_logs()
                upload_logs(self.service, job, self._log_dir, self._sizes)
                next_upload = time.monotonic() + cfg.log_interval
        self.release()
        execution.sync_logs()
        if reason is None:
            if code == 0:
                reason = (JobStatus.COMPLETED, "exit code 0")
            else:
                stderr = tail(self._log_dir / "stderr.log")
                reason = (JobStatus.FAILED, f"exit code {code}" + (f": {stderr}" if stderr else ""))
        if execution.local_outputs():
            self._upload_outputs(outputs)
        if reason[0] == JobStatus.COMPLETED:
            problem = self._register_outputs()
            if problem is not None:
                reason = (JobStatus.FAILED, problem)
        self._finish(reason[0], reason[1], code)

    def _register_outputs(self) -> str | None:
        """Register the outputs the document names as data assets; the first problem, if any."""
        job = self.job
        for output, ref in (job.resolved.get("outputs") or {}).items():
            try:
                self.service.register_output(
                    job.workspace,
                    job.name,
                    output,
                    wire_assets.RegisterOutput(name=ref["name"], version=ref["version"]),
                    job=job,
                )
            except TrainyardError as exc:
                return (
                    f"output {output!r} could not be registered as data "
                    f"{ref['name']}:{ref['version']}: {exc.message}"
                )
        return None

    def _upload_outputs(self, outputs: dict[str, Path]) -> None:
        job = self.job
        assert job.run_id is not None
        for name, folder in outputs.items():
            for dirpath, _, files in os.walk(folder):
                for f in sorted(files):
                    path = Path(dirpath) / f
                    rel = path.relative_to(folder).as_posix()
                    key = f"outputs/{name}/{rel}"
                    with (
                        path.open("rb") as src,
                        self.service.tracking.artifact_writer(job.workspace, job.run_id, key) as w,
                    ):
                        while chunk := src.read(1 << 20):
                            w.write(chunk)

    def _finish(self, status: JobStatus, message: str, code: int | None) -> None:
        """Upload the final logs, then record the final status of the job and its run."""
        job, svc = self.job, self.service
        log_dir = getattr(self, "_log_dir", None)
        if log_dir is not None:
            try:
                upload_logs(svc, job, log_dir, self._sizes)
            except Exception:
                log.exception("could not upload the logs of job %s", job.name)
        svc.live_logs.pop((job.workspace, job.name), None)
        error = None if status == JobStatus.COMPLETED else message
        done = svc.store.transition(
            job.workspace, job.name, status, now_ms(), message, exit_code=code, error=error
        )
        if done is not None and job.run_id:
            run_status = {
                JobStatus.COMPLETED: RunStatus.FINISHED,
                JobStatus.FAILED: RunStatus.FAILED,
                JobStatus.CANCELED: RunStatus.KILLED,
            }[status]
            svc.tracking.update_run(
                job.workspace, job.run_id, status=run_status, status_message=error
            )
        if self._token_id is not None and svc.config.tokens is not None:
            svc.config.tokens.revoke(self._token_id)
        for hook in svc.hooks.finished:
            hook(job.workspace, job.name)
