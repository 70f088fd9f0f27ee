"""An experiment seen from the SDK: start runs, search them, pick the best one.

Example::

    exp = ws.experiment("churn")
    with exp.start_run(tags={"team": "growth"}) as run:
        run.log("auc", 0.91)
    best = exp.best_run("auc", goal="max")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from trainyard import schemas
from trainyard.client._scope import Scope, body, iter_pages
from trainyard.client.run import Run
from trainyard.errors import InvalidArgument


class Experiment:
    """A named group of runs. Made by ``Workspace.experiment`` or ``Workspace.get_experiment``."""

    def __init__(self, scope: Scope, info: schemas.Experiment) -> None:
        self._scope = scope
        self.info = info

    @property
    def experiment_id(self) -> str:
        """The experiment's opaque id."""
        return self.info.experiment_id

    @property
    def name(self) -> str:
        """The experiment's name, unique in its workspace."""
        return self.info.name

    @property
    def tags(self) -> dict[str, str]:
        """The experiment's tags."""
        return self.info.tags

    def __repr__(self) -> str:
        return f"Experiment(experiment_id={self.experiment_id!r}, name={self.name!r})"

    def start_run(
        self,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
    ) -> Run:
        """Create a RUNNING run in this experiment.

        Args:
            name: the run's name (the server makes one up when None).
            tags: tags to set at once (values go through ``str()``).
            parent_run_id: the id of a parent run, for nested runs.

        Returns:
            The run; use it as a context manager to end it FINISHED or FAILED.
        """
        payload = body(
            schemas.RunCreate,
            experiment_id=self.experiment_id,
            name=name,
            parent_run_id=parent_run_id,
            tags={k: str(v) for k, v in (tags or {}).items()},
        )
        data = self._scope.request("POST", "runs", json=payload)
        return Run(self._scope, schemas.Run.model_validate(data))

    def runs(
        self,
        filter: str | None = None,
        order_by: list[str] | None = None,
        max_results_per_page: int = 1000,
    ) -> Iterator[Run]:
        """Every run of the experiment matching ``filter``, page after page.

        Args:
            filter: e.g. ``"metrics.rmse < 50 and params.alpha = '0.1'"``.
            order_by: e.g. ``["metrics.rmse ASC"]``; runs lacking the value come last.
            max_results_per_page: the page size asked of the server.
        """

        def page(token: str | None) -> tuple[list[Run], str | None]:
            payload = body(
                schemas.RunSearch,
                experiment_ids=[self.experiment_id],
                filter=filter,
                order_by=order_by or [],
                max_results=max_results_per_page,
                page_token=token,
            )
            found = schemas.RunList.model_validate(
                self._scope.request("POST", "runs", "search", json=payload)
            )
            return [Run(self._scope, info) for info in found.runs], found.next_page_token

        return iter_pages(page)

    def best_run(self, metric: str, goal: str = "min") -> Run | None:
        """The run with the lowest (``goal="min"``) or highest (``"max"``) latest ``metric``.

        Returns:
            The run, or None when no run has logged ``metric``.

        Raises:
            InvalidArgument: ``goal`` is neither ``"min"`` nor ``"max"``.
        """
        if goal not in ("min", "max"):
            raise InvalidArgument(f"goal must be 'min' or 'max', got {goal!r}")
        if "`" in metric:
            raise InvalidArgument(f"metric name {metric!r} cannot contain a backtick")
        order = "ASC" if goal == "min" else "DESC"
        found = self.runs(order_by=[f"metrics.`{metric}` {order}"], max_results_per_page=1)
        run = next(found, None)
        if run is None or metric not in run.info.metrics:
            return None
        return run
