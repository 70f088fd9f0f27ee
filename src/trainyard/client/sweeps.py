"""Sweeps from the SDK: ``ws.jobs.create_sweep(...)``, ``sweep.wait()``, ``sweep.best_trial()``.

Example::

    sweep = ws.jobs.create_sweep(
        trial={"command": "python train.py --alpha ${{search_space.alpha}}", "code": "./src"},
        search_space={"alpha": {"type": "choice", "values": [0.1, 0.5, 1.0]}},
        objective={"primary_metric": "rmse", "goal": "minimize"},
        sampling_algorithm="grid",
        limits={"max_concurrent_trials": 2},
    )
    sweep.wait()
    print(sweep.best_trial())          # SweepTrial(number=..., parameters={'alpha': 0.1}, ...)
    print(sweep.trials_frame())        # one row per trial (pandas)
"""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING, Any

from trainyard.client._submitted import SubmittedJob
from trainyard.client.run import Run
from trainyard.core.jobs import JobStatus
from trainyard.errors import InvalidArgument
from trainyard.schemas.jobs import SweepJob
from trainyard.schemas.sweeps import SweepTrial

if TYPE_CHECKING:
    import pandas


class Sweep(SubmittedJob[SweepJob]):
    """A submitted sweep job. Made by ``ws.jobs.create_sweep``, ``ws.jobs.get`` or ``submit``."""

    _model = SweepJob
    _kind = "sweep"

    @property
    def name(self) -> str:
        """The sweep's name, unique among the workspace's jobs."""
        return self.info.name

    @property
    def run_id(self) -> str | None:
        """The sweep's run: its trials' runs are nested under it."""
        return self.info.run_id

    @property
    def status(self) -> JobStatus:
        """The sweep's status now (asks the server)."""
        return self.refresh().info.status

    @property
    def trials(self) -> list[SweepTrial]:
        """The trials as last read (see :meth:`refresh`)."""
        return self.info.trials

    def refresh(self) -> Sweep:
        """Read the sweep and its trials again."""
        return self._read()

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> JobStatus:
        """Block until the sweep ends; its final status.

        Raises:
            TimeoutError: it had not ended after ``timeout`` seconds.
        """
        return self._wait(timeout, poll)

    def stream(self, out: IO[str] | None = None, poll: float = 0.5) -> JobStatus:
        """Print each trial's changes of status until the sweep ends; its final status."""
        out = out or sys.stdout
        seen: dict[int, str] = {}
        metric = self.info.objective.primary_metric
        while True:
            done = self.refresh().info.status.is_terminal
            for t in self.info.trials:
                state = f"{t.status.value} {t.objective}"
                if seen.get(t.number) != state:
                    seen[t.number] = state
                    value = "" if t.objective is None else f" {metric}={t.objective:.6g}"
                    why = f" ({t.reason})" if t.reason and t.status.is_terminal else ""
                    out.write(f"trial {t.number} {t.name}: {t.status.value}{value}{why}\n")
                    out.flush()
            if done:
                return self.info.status
            time.sleep(poll)

    def cancel(self) -> Sweep:
        """Cancel the sweep: its live trials are canceled, then it ends Canceled."""
        return self._cancel()

    def best_trial(self) -> SweepTrial | None:
        """The completed trial with the best objective (as last read), or None."""
        return self.info.best_trial

    def trials_frame(self) -> pandas.DataFrame:
        """The trials as a pandas DataFrame: number, name, status, objective, reason, run_id,
        then one column per parameter (``alpha``, ...), by trial number."""
        try:
            import pandas
        except ImportError:  # pragma: no cover - pandas is a dependency
            raise InvalidArgument("trials_frame needs pandas: pip install pandas") from None
        names = list(self.info.search_space)
        rows: list[dict[str, Any]] = []
        for t in self.info.trials:
            row: dict[str, Any] = {
                "number": t.number,
                "name": t.name,
                "status": t.status.value,
                "objective": t.objective,
                "reason": t.reason,
                "run_id": t.run_id,
            }
            row.update({n: t.parameters.get(n) for n in names})
            rows.append(row)
        columns = ["number", "name", "status", "objective", "reason", "run_id", *names]
        return pandas.DataFrame(rows, columns=columns)

    def download(self, output_dir: object = ".") -> list[object]:
        """A sweep has no files of its own: its trials do (``ws.jobs.get(trial.name)``)."""
        best = self.info.best_trial
        hint = f" (the best is {best.name})" if best is not None else ""
        raise InvalidArgument(
            f"sweep {self.name} has no outputs of its own: download one of its trials{hint}"
        )

    def get_run(self) -> Run:
        """The sweep's run (the best trial's parameters and objective once it completed)."""
        return self._get_run()
