"""The sweeps service: checks and shows sweep jobs; the jobs service does the rest.

A sweep is submitted like any job (``JobService.submit``): this service is its ``JobKind``, so
it checks the document whole first (``resolve``: the search space against the trial's command,
the grid, then the trial resolved as a command job would be) and shows it with its trials and
best trial (``render``). The controller (``controller.py``) runs it.
"""

from __future__ import annotations

import math
from typing import Any

from trainyard.core.jobs import Job, JobStatus, placeholders, substitute
from trainyard.core.sweeps import SEARCH_SPACE, Trial
from trainyard.errors import InvalidArgument, NotFound
from trainyard.jobs import JobService
from trainyard.jobs import resolve_job as resolve_command
from trainyard.schemas import jobs as wire
from trainyard.schemas.sweeps import SweepTrial
from trainyard.store._sweeps_base import SweepStore
from trainyard.sweeps.space import check_sweep, render_value

MAX_SWEEP_NAME = 200
SWEEP_TAG = "trainyard.sweep"
TRIAL_TAG = "trainyard.trial"


def trial_command(command: str, parameters: dict[str, Any]) -> str:
    """``command`` with its ``${{search_space.NAME}}`` filled (quoted for the shell)."""
    import shlex

    values = {(SEARCH_SPACE, k): shlex.quote(render_value(v)) for k, v in parameters.items()}
    for kind, name in placeholders(command):
        values.setdefault((kind, name), "${{" + f"{kind}.{name}" + "}}")
    return substitute(command, values)


def trial_document(spec: wire.SweepJobCreate, sweep: str, trial: Trial) -> wire.JobCreate:
    """The command job of one trial: the sweep's trial, inputs, outputs, compute and limits."""
    limits = spec.limits.trial_timeout
    return wire.JobCreate(
        name=trial.job_name,
        command=trial_command(spec.trial.command, trial.parameters),
        code=spec.trial.code,
        environment=spec.trial.environment,
        inputs=spec.inputs,
        outputs=spec.outputs,
        compute=spec.compute,
        experiment_name=spec.experiment_name,
        tags={**spec.tags, SWEEP_TAG: sweep, TRIAL_TAG: str(trial.number)},
        environment_variables=spec.trial.environment_variables,
        limits=wire.JobLimits(timeout=limits) if limits else None,
    )


def best_of(trials: list[Trial], goal: str) -> Trial | None:
    """The completed trial with the best objective (the earliest among equals)."""
    done = [
        (t.objective, t)
        for t in trials
        if t.status == JobStatus.COMPLETED
        and t.objective is not None
        and math.isfinite(t.objective)
    ]
    if not done:
        return None
    sign = 1.0 if goal == "minimize" else -1.0
    return min(done, key=lambda pair: (sign * pair[0], pair[1].number))[1]


class SweepService:
    """Sweep jobs over the jobs service and a sweep store; registers itself as ``sweep``."""

    def __init__(self, jobs: JobService, store: SweepStore) -> None:
        self.jobs = jobs
        self.store = store
        jobs.kinds["sweep"] = self

    # ---------------------------------------------------------------- JobKind
    def resolve(self, workspace: str, name: str, spec: wire.SweepJobCreate) -> dict[str, Any]:
        """Check a sweep whole; what its trials resolve to, and its effective concurrency.

        Raises:
            InvalidArgument: see ``space.check_sweep``; a name too long for trial names.
            NotFound: an asset or compute of the trial does not exist.
        """
        if len(name) > MAX_SWEEP_NAME:
            raise InvalidArgument(
                f"a sweep's name has {MAX_SWEEP_NAME} characters at most (its trials are "
                f"named <sweep>_trial_<n>), got {len(name)}"
            )
        space = check_sweep(spec)
        probe = trial_document(
            spec,
            name,
            Trial(workspace, name, 0, name, 0, JobStatus.QUEUED, {}, {}, 0, 0),
        )
        filled = {k: 0 for k in space.parameters}
        probe.command = trial_command(spec.trial.command, filled)
        resolved = resolve_command(self.jobs.assets, workspace, probe)
        slots = int(resolved["compute"]["slots"])
        concurrent = spec.limits.max_concurrent_trials or slots
        return {
            "trial": resolved,
            "max_concurrent_trials": min(concurrent, spec.limits.max_total_trials),
        }

    def render(self, job: Job) -> wire.SweepJob:
        """The sweep document with its status, trials and best trial."""
        spec = wire.SweepJobCreate.model_validate(job.document)
        records = self.store.list_trials(job.workspace, job.name)
        trials = [self._trial_out(job.workspace, t) for t in records]
        best = best_of(records, spec.objective.goal)
        return wire.SweepJob.model_validate(
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
                "error": job.error,
                "created_at": job.created_at,
                "updated_at": job.updated_at,
                "trials": trials,
                "best_trial": None if best is None else trials[records.index(best)],
            }
        )

    def _trial_out(self, workspace: str, trial: Trial) -> SweepTrial:
        run_id = None
        status = trial.status
        try:
            job = self.jobs.store.get_job(workspace, trial.job_name)
            run_id = job.run_id
            if not trial.final:
                status = job.status
        except NotFound:
            pass
        return SweepTrial(
            number=trial.number,
            name=trial.job_name,
            status=status,
            parameters=trial.parameters,
            objective=trial.objective,
            reason=trial.reason,
            run_id=run_id,
            created_at=trial.created_at,
            updated_at=trial.updated_at,
        )
