"""The sweep controller: runs every live sweep from the jobs scheduler's thread.

Each ``tick``, for each sweep that is ``Queued`` (it starts: ``Running``) or ``Running``:

1. **sync**: every trial not final yet is matched with its job; a trial whose job ended is
   made final: its objective is its run's latest value of the primary metric (a completed
   trial that never logged it has none), and Optuna is told (complete, pruned or fail).
2. **cancel**: a sweep whose cancel was requested cancels its live trials, then ends Canceled.
3. **early termination**: the policy reads the running trials' metric histories and cancels
   the trials it rules out, recording why on the trial first.
4. **timeout**: past ``limits.timeout`` no trial starts and the live ones are canceled.
5. **launch**: while fewer than ``max_concurrent_trials`` are live and fewer than
   ``max_total_trials`` (or the grid's size) exist, ``study.ask`` a trial, record it, submit its
   job (nested under the sweep's run). Recording first means a restart loses no trial.
6. **finish**: with nothing live and nothing left to launch, the sweep ends ``Completed``
   (its best trial's parameters and objective logged on its run) or ``Failed`` (no trial
   produced the metric).

A restart: ``resume`` runs before the jobs' recovery fails the jobs the dead server left live;
the trials those jobs were running get a new attempt (same number and parameters, job
``<sweep>_trial_<n>_r<k>``), and the study is rebuilt in memory from the recorded trials.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from trainyard.core.entities import RunStatus
from trainyard.core.jobs import LIVE, Job, JobStatus
from trainyard.core.sweeps import Trial, trial_job_name
from trainyard.errors import Conflict, NotFound, TrainyardError
from trainyard.schemas import jobs as wire
from trainyard.sweeps.early_termination import Policy, make_policy
from trainyard.sweeps.finish import finish, trial_outcome
from trainyard.sweeps.service import SweepService, trial_document
from trainyard.sweeps.study import SweepStudy, outcome

log = logging.getLogger("trainyard.sweeps")

SWEEP_LIVE = frozenset({JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING})


def now_ms() -> int:
    """UTC milliseconds."""
    return int(time.time() * 1000)


@dataclass
class _Sweep:
    """What the controller keeps in memory about one live sweep."""

    spec: wire.SweepJobCreate
    study: SweepStudy
    policy: Policy | None
    histories: dict[int, list[float]] = field(default_factory=dict)


class SweepController:
    """Drives sweeps; one per scheduler (``Scheduler.controllers``)."""

    def __init__(self, service: SweepService, poll: float = 0.5) -> None:
        self.service = service
        self.jobs = service.jobs
        self.store = service.store
        self.poll = poll
        self._sweeps: dict[tuple[str, str], _Sweep] = {}
        self._lock = threading.Lock()
        self._stopped = False

    # ------------------------------------------------------------------ Controller
    def _live_sweeps(self) -> list[Job]:
        jobs = self.jobs.store.jobs_in(SWEEP_LIVE, 100_000)
        return [j for j in jobs if j.document.get("type") == "sweep"]

    def resume(self) -> None:
        """Give a new attempt to each trial whose job a dead server left live or failed."""
        for sweep in self._live_sweeps():
            for trial in self.store.list_trials(sweep.workspace, sweep.name):
                if trial.final:
                    continue
                try:
                    job = self.jobs.store.get_job(sweep.workspace, trial.job_name)
                except NotFound:
                    continue  # recorded, never submitted: the next tick submits it
                if job.status in LIVE or job.status == JobStatus.FAILED:
                    attempt = trial.attempt + 1
                    self.store.update_trial(
                        sweep.workspace,
                        sweep.name,
                        trial.number,
                        now_ms(),
                        {
                            "attempt": attempt,
                            "job_name": trial_job_name(sweep.name, trial.number, attempt),
                            "status": JobStatus.QUEUED,
                        },
                    )
                    log.warning("sweep %s: trial %d interrupted, rerun", sweep.name, trial.number)

    def shutdown(self) -> None:
        """Stop ticking (the trials' jobs end with the server; ``resume`` reruns them)."""
        with self._lock:
            self._stopped = True

    def tick(self) -> float | None:
        """Advance every live sweep; poll again soon while any is live."""
        with self._lock:
            if self._stopped:
                return None
            live = self._live_sweeps()
            keys = {(j.workspace, j.name) for j in live}
            for key in list(self._sweeps):
                if key not in keys:
                    del self._sweeps[key]
            for job in live:
                try:
                    self._step(job)
                except Exception:
                    log.exception("sweep %s/%s: step failed; retrying", job.workspace, job.name)
            return self.poll if live else None

    # ------------------------------------------------------------------ one sweep
    def _open(self, job: Job) -> _Sweep:
        key = (job.workspace, job.name)
        if key not in self._sweeps:
            spec = wire.SweepJobCreate.model_validate(job.document)
            from trainyard.sweeps.space import SearchSpace

            trials = self.store.list_trials(job.workspace, job.name)
            algo = spec.sampling_algorithm
            study = SweepStudy(
                SearchSpace(spec.search_space), algo.type, algo.seed, spec.objective.goal, trials
            )
            policy = make_policy(spec.early_termination, spec.objective.goal)
            self._sweeps[key] = _Sweep(spec, study, policy)
        return self._sweeps[key]

    def _step(self, job: Job) -> None:
        ws = job.workspace
        if job.status in (JobStatus.QUEUED, JobStatus.PREPARING):
            job = self._start(job) or job
            if job.status != JobStatus.RUNNING:
                return
        sweep = self._open(job)
        trials = self.store.list_trials(ws, job.name)
        jobs = {t.number: self._sync(job, sweep, t) for t in trials if not t.final}
        trials = self.store.list_trials(ws, job.name)
        live = [t for t in trials if not t.final]
        if job.cancel_requested:
            self._cancel_all(job, live, jobs, None)
            if not live:
                self._finish(job, sweep, trials, JobStatus.CANCELED)
            return
        if sweep.policy is not None:
            self._early_terminate(job, sweep, trials, jobs)
        timeout = sweep.spec.limits.timeout
        started = int(job.state.get("started_at", job.created_at))
        timed_out = bool(timeout) and now_ms() - started >= (timeout or 0) * 1000
        if timed_out:
            reason = f"the sweep's timeout ({timeout} s) was reached"
            self._cancel_all(job, live, jobs, reason)
        else:
            self._launch(job, sweep, trials, len(live))
        trials = self.store.list_trials(ws, job.name)
        if all(t.final for t in trials) and (timed_out or not self._can_launch(job, sweep, trials)):
            self._finish(job, sweep, trials, None)

    def _start(self, job: Job) -> Job | None:
        svc = self.jobs
        if job.status == JobStatus.QUEUED and (
            svc.store.transition(job.workspace, job.name, JobStatus.PREPARING, now_ms()) is None
        ):
            return None
        svc.store.set_state(job.workspace, job.name, {"started_at": now_ms()})
        started = svc.store.transition(
            job.workspace, job.name, JobStatus.RUNNING, now_ms(), "sweep started"
        )
        if started is not None and job.run_id:
            svc.tracking.update_run(job.workspace, job.run_id, status=RunStatus.RUNNING)
        return started

    # ------------------------------------------------------------------ trials
    def _sync(self, sweep_job: Job, sweep: _Sweep, trial: Trial) -> Job | None:
        ws = sweep_job.workspace
        try:
            job = self.jobs.store.get_job(ws, trial.job_name)
        except NotFound:
            if sweep_job.cancel_requested:
                self._final(trial, JobStatus.CANCELED, None, trial.reason or "sweep canceled")
                sweep.study.tell(trial.number, "fail")
                return None
            self._submit(sweep_job, sweep, trial)
            return None
        if job.status.is_terminal:
            objective, reason = trial_outcome(self.jobs, sweep.spec.objective, trial, job)
            done = self._final(trial, job.status, objective, reason)
            sweep.study.tell(trial.number, outcome(done), objective)
        elif job.status != trial.status:
            self._update(trial, {"status": job.status})
        return job

    def _submit(self, sweep_job: Job, sweep: _Sweep, trial: Trial) -> None:
        doc = trial_document(sweep.spec, sweep_job.name, trial)
        try:
            self.jobs.submit(
                sweep_job.workspace, doc, trial.job_name, parent_run_id=sweep_job.run_id
            )
        except TrainyardError as exc:  # e.g. its code asset is gone: the trial fails, once
            self._final(trial, JobStatus.FAILED, None, f"could not submit: {exc.message}")
            sweep.study.tell(trial.number, "fail")

    def _update(self, trial: Trial, changes: dict[str, Any]) -> Trial:
        t = trial
        return self.store.update_trial(t.workspace, t.sweep, t.number, now_ms(), changes)

    def _final(
        self, trial: Trial, status: JobStatus, objective: float | None, reason: str | None
    ) -> Trial:
        changes = {"status": status, "objective": objective, "reason": reason, "final": True}
        return self._update(trial, changes)

    def _cancel_all(
        self, job: Job, live: list[Trial], jobs: dict[int, Job | None], reason: str | None
    ) -> None:
        for trial in live:
            trial_job = jobs.get(trial.number)
            if trial_job is None or trial_job.status.is_terminal:
                continue
            if reason and not trial.reason:
                self._update(trial, {"reason": reason})
            if not trial_job.cancel_requested:
                with contextlib.suppress(Conflict, NotFound):
                    self.jobs.cancel(job.workspace, trial.job_name)

    def _early_terminate(
        self, job: Job, sweep: _Sweep, trials: list[Trial], jobs: dict[int, Job | None]
    ) -> None:
        assert sweep.policy is not None
        metric = sweep.spec.objective.primary_metric
        running: set[int] = set()
        histories: dict[int, list[float]] = {}
        for t in trials:
            if t.number in sweep.histories:
                histories[t.number] = sweep.histories[t.number]
                continue
            trial_job = jobs.get(t.number) if not t.final else self._job(job.workspace, t)
            if trial_job is None or trial_job.run_id is None:
                continue
            page = self.jobs.tracking.metric_history(job.workspace, trial_job.run_id, metric)
            histories[t.number] = [m.value for m in page.items]
            if t.final:
                sweep.histories[t.number] = histories[t.number]
            elif trial_job.status == JobStatus.RUNNING and not t.reason:
                running.add(t.number)
        for number, reason in sweep.policy.evaluate(histories, running).items():
            trial = next(t for t in trials if t.number == number)
            log.info("sweep %s: ending trial %d: %s", job.name, number, reason)
            self._cancel_all(job, [trial], jobs, reason)

    def _job(self, workspace: str, trial: Trial) -> Job | None:
        try:
            return self.jobs.store.get_job(workspace, trial.job_name)
        except NotFound:
            return None

    # ------------------------------------------------------------------ launch and finish
    def _capacity(self, job: Job, sweep: _Sweep) -> int:
        total = sweep.spec.limits.max_total_trials
        grid = sweep.study.capacity
        return total if grid is None else min(total, grid)

    def _can_launch(self, job: Job, sweep: _Sweep, trials: list[Trial]) -> bool:
        return not job.cancel_requested and len(trials) < self._capacity(job, sweep)

    def _launch(self, job: Job, sweep: _Sweep, trials: list[Trial], live: int) -> None:
        concurrent = int(job.resolved.get("max_concurrent_trials", 1))
        count = len(trials)
        while live < concurrent and count < self._capacity(job, sweep):
            number, raw, params = sweep.study.ask()
            now = now_ms()
            trial = Trial(
                job.workspace,
                job.name,
                number,
                trial_job_name(job.name, number),
                0,
                JobStatus.QUEUED,
                params,
                raw,
                now,
                now,
            )
            self.store.add_trial(trial)  # recorded before its job exists: never lost
            self._submit(job, sweep, trial)
            live += 1
            count += 1

    def _finish(
        self, job: Job, sweep: _Sweep, trials: list[Trial], status: JobStatus | None
    ) -> None:
        finish(self.jobs, job, sweep.spec.objective, trials, status)
        self._sweeps.pop((job.workspace, job.name), None)
