"""How a trial's end and a sweep's end are recorded.

- A trial's **objective** is its run's latest value (by step, then time) of the primary metric
  when its job ends; its **reason** says why it has none, or why it was ended (the policy's or
  the timeout's words, recorded before its job was canceled; a failed job's error).
- A sweep ends ``Completed`` when a trial completed with an objective: the best one's parameters
  (as params), objective (as the metric) and name (tag ``trainyard.best_trial``) are logged on
  the sweep's run first. Otherwise it ends ``Failed`` (or ``Canceled`` when asked).
"""

from __future__ import annotations

import math
import time

from trainyard.core.entities import RunStatus
from trainyard.core.jobs import Job, JobStatus
from trainyard.core.sweeps import Trial
from trainyard.jobs import JobService
from trainyard.schemas.sweeps import Objective
from trainyard.sweeps.service import best_of

RUN_STATUS = {
    JobStatus.COMPLETED: RunStatus.FINISHED,
    JobStatus.FAILED: RunStatus.FAILED,
    JobStatus.CANCELED: RunStatus.KILLED,
}


def trial_outcome(
    jobs: JobService, objective: Objective, trial: Trial, job: Job
) -> tuple[float | None, str | None]:
    """The objective and reason of a trial whose job ``job`` ended."""
    metric = objective.primary_metric
    value = None
    if job.run_id:
        latest = jobs.tracking.get_run(job.workspace, job.run_id).metrics.get(metric)
        if latest is not None and math.isfinite(latest.value):
            value = latest.value
    if job.status == JobStatus.COMPLETED:
        return value, None if value is not None else f"no value of {metric!r} was logged"
    if job.status == JobStatus.CANCELED:
        return value, trial.reason or "canceled"
    return value, (job.error or "failed")[:500]


def finish(
    jobs: JobService,
    job: Job,
    objective: Objective,
    trials: list[Trial],
    status: JobStatus | None,
) -> None:
    """End the sweep ``job`` whose trials are all final (``status`` None: by its results)."""
    ws = job.workspace
    best = best_of(trials, objective.goal)
    counts = {s: sum(t.status == s for t in trials) for s in JobStatus if s.is_terminal}
    summary = ", ".join(f"{n} {s.value.lower()}" for s, n in counts.items() if n)
    if status is None:
        status = JobStatus.COMPLETED if best is not None else JobStatus.FAILED
    if best is not None and job.run_id:
        params = {k: str(v) for k, v in best.parameters.items()}
        metrics = [(objective.primary_metric, best.objective or 0.0, None, 0)]
        tags = {"trainyard.best_trial": best.job_name}
        jobs.tracking.log_batch(ws, job.run_id, metrics, params, tags)
    if status == JobStatus.COMPLETED and best is not None:
        message = (
            f"{len(trials)} trials ({summary}); best: {best.job_name} with "
            f"{objective.primary_metric} {best.objective:.6g}"
        )
    elif status == JobStatus.CANCELED:
        message = f"canceled after {len(trials)} trials ({summary})"
    else:
        message = (
            f"no trial logged {objective.primary_metric!r} and completed "
            f"({len(trials)} trials: {summary or 'none'})"
        )
    error = None if status == JobStatus.COMPLETED else message
    now = int(time.time() * 1000)
    done = jobs.store.transition(ws, job.name, status, now, message, error=error)
    if done is not None and job.run_id:
        jobs.tracking.update_run(ws, job.run_id, status=RUN_STATUS[status], status_message=error)
