"""The scheduler: a background thread that moves queued jobs onto computes with a free slot.

Jobs are taken in submission order (FIFO); a job whose compute is full waits, and so do the
jobs behind it on that compute, while jobs for other computes go ahead. Claiming is a
compare-and-set ``Queued -> Preparing`` in the store, so a job cannot start twice.

It wakes when a job is submitted or a slot is freed, and every ``idle_poll`` seconds anyway.

On start it recovers from a previous server (stopped or dead). Jobs left ``Preparing`` or
``Running`` on a compute whose jobs outlive the server (Ray, once the job was submitted) are
re-attached: a runner follows each again on its compute slot and finishes it as usual (see
``runner.py``). The others (local process groups) are marked ``Failed`` with the reason,
whatever is left of their processes is ended, and their log files (kept in their working
folder) are uploaded to their runs. Queued jobs stay queued and run.

One scheduler serves a database: ``trainyard up`` starts it (not ``trainyard serve`` replicas).

Jobs of other types than ``command`` (sweeps) take no compute slot: their *controllers* run in
this thread. A controller's ``tick`` runs after each scheduling pass and says when it wants the
next one; ``resume`` runs at start, before the recovery of lost jobs; ``shutdown`` first at stop.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import defaultdict
from pathlib import Path
from typing import Protocol

from trainyard.core.entities import RunStatus
from trainyard.core.jobs import LIVE, Job, JobStatus
from trainyard.errors import NotFound
from trainyard.jobs.assets import now_ms
from trainyard.jobs.environments import EnvironmentBuilder
from trainyard.jobs.executors._base import Executor
from trainyard.jobs.executors.local import LocalExecutor, become_subreaper
from trainyard.jobs.runner import JobRunner, upload_logs
from trainyard.jobs.service import JobService

log = logging.getLogger("trainyard.jobs")

QUEUE_BATCH = 500


class Controller(Protocol):
    """Drives the jobs of a type other than ``command`` (e.g. the sweep controller)."""

    def resume(self) -> None:
        """At start, before the jobs a dead server left live are failed: take stock."""

    def tick(self) -> float | None:
        """Advance every job it drives; seconds until it wants to run again (None: on wake)."""

    def shutdown(self) -> None:
        """At stop, before running jobs are ended: stop ticking."""


def is_command(job: Job) -> bool:
    """True for a command job (the scheduler runs it on a compute slot)."""
    return job.document.get("type", "command") == "command"


class Scheduler:
    """Runs the jobs of one ``JobService``."""

    def __init__(self, service: JobService, idle_poll: float = 2.0) -> None:
        self.service = service
        self.idle_poll = idle_poll
        builder = EnvironmentBuilder(service.config.home / "envs")
        self._executors: dict[str, Executor] = {"local": LocalExecutor(builder)}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._used: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._runners: dict[tuple[str, str], JobRunner] = {}
        self._thread: threading.Thread | None = None
        self.controllers: list[Controller] = []
        self._wait = idle_poll
        service.hooks.submitted.append(self.wake)
        service.hooks.cancel.append(self._cancel)
        service.hooks.finished.append(lambda _ws, _name: self.wake())

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Recover from a previous server, then schedule in a background thread."""
        if self.service.config.adopt_orphans:
            become_subreaper()  # orphans of a job's group come back to us, to be reaped at once
        for controller in self.controllers:
            try:
                controller.resume()
            except Exception:
                log.exception("a controller could not resume")
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="trainyard-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop scheduling; end running jobs (Failed: the server shut down) and wait for them."""
        for controller in self.controllers:
            controller.shutdown()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            runners = list(self._runners.values())
        for runner in runners:
            runner.thread.join(timeout)

    def wake(self) -> None:
        """Look at the queue now."""
        self._wake.set()

    def _cancel(self, workspace: str, name: str) -> None:
        with self._lock:
            runner = self._runners.get((workspace, name))
        if runner is not None:
            runner.cancel.set()

    def executor(self, compute_type: str) -> Executor:
        """The executor of a compute type (Ray's is loaded on first use)."""
        if compute_type not in self._executors:
            if compute_type != "ray":
                raise NotFound(f"no executor for compute type {compute_type!r}")
            from trainyard.jobs.executors.ray import RayExecutor

            self._executors["ray"] = RayExecutor()
        return self._executors[compute_type]

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._wait)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._schedule()
                self._tick()
            except Exception:
                log.exception("scheduling failed; retrying")
                self._stop.wait(1.0)

    def _tick(self) -> None:
        wait = self.idle_poll
        for controller in self.controllers:
            try:
                again = controller.tick()
            except Exception:
                log.exception("a controller failed; retrying")
                again = 1.0
            if again is not None:
                wait = min(wait, again)
        self._wait = wait

    def _schedule(self) -> None:
        svc = self.service
        queued = svc.store.jobs_in(frozenset({JobStatus.QUEUED}), QUEUE_BATCH)
        slots: dict[tuple[str, str], int] = {}
        full: set[tuple[str, str]] = set()
        for job in queued:
            if not is_command(job):
                continue  # a controller's
            key = (job.workspace, job.compute)
            if key in full:
                continue
            if key not in slots:
                try:
                    slots[key] = svc.assets.get_compute(job.workspace, job.compute).slots
                except NotFound:
                    slots[key] = int(job.resolved["compute"]["slots"])
            with self._lock:
                if self._used[key] >= slots[key]:
                    full.add(key)
                    continue
                claimed = svc.store.transition(
                    job.workspace, job.name, JobStatus.PREPARING, now_ms()
                )
                if claimed is None:
                    continue
                self._used[key] += 1
                runner = JobRunner(
                    svc,
                    self.executor(job.resolved["compute"]["type"]),
                    claimed,
                    functools.partial(self._done, key, claimed),
                    self._stop,
                )
                self._runners[(job.workspace, job.name)] = runner
            runner.start()

    def _done(self, key: tuple[str, str], job: Job) -> None:
        with self._lock:
            self._used[key] -= 1
            self._runners.pop((job.workspace, job.name), None)
        self._wake.set()

    # ------------------------------------------------------------------ recovery
    def recover(self) -> int:
        """Re-attach or fail the jobs a previous server left live; return how many there were."""
        svc = self.service
        lost = [j for j in svc.store.jobs_in(LIVE, 100_000) if is_command(j)]
        for job in lost:
            try:
                if not self._reattach(job):
                    self._recover_one(job)
            except Exception:
                log.exception("could not recover job %s/%s", job.workspace, job.name)
        return len(lost)

    def _reattach(self, job: Job) -> bool:
        """Follow the job again on its compute slot if its executor can; False if not."""
        executor = self.executor(job.resolved["compute"]["type"])
        if not executor.reattachable(job.state):
            return False
        key = (job.workspace, job.compute)
        with self._lock:
            self._used[key] += 1
            runner = JobRunner(
                self.service,
                executor,
                job,
                functools.partial(self._done, key, job),
                self._stop,
                reattach=True,
            )
            self._runners[(job.workspace, job.name)] = runner
        runner.start()
        return True

    def _recover_one(self, job: Job) -> None:
        svc = self.service
        state = job.state
        try:
            marker = f"{job.workspace}/{job.name}"  # found even if its pid was not recorded
            self.executor(job.resolved["compute"]["type"]).reap({"marker": marker, **state})
        except Exception:
            log.exception("could not end what is left of job %s", job.name)
        workdir = state.get("workdir")
        if workdir:
            upload_logs(svc, job, Path(workdir) / "logs", {})
        message = (
            f"the server stopped while the job was {job.status.value}; its process was ended. "
            "Its logs up to then are kept: submit it again under a new name to rerun it"
        )
        done = svc.store.transition(
            job.workspace, job.name, JobStatus.FAILED, now_ms(), message, error=message
        )
        if done is not None and job.run_id:
            svc.tracking.update_run(
                job.workspace, job.run_id, status=RunStatus.FAILED, status_message=message
            )
        token_id = state.get("token_id")
        if token_id and svc.config.tokens is not None:
            svc.config.tokens.revoke(str(token_id))
        log.warning("job %s/%s: %s", job.workspace, job.name, message)
