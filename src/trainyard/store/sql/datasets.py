"""The SQL store of runs' inputs (``mlflow.log_input``): data sets, as MLflow keeps them, and
logged models.

A data set belongs to the run's experiment and is stored once per (name, digest); a run links to
it once. Logging a data set the run has already is a no-op (the first input's tags stay), as in
MLflow. A logged model used as an input must exist in the run's workspace (MLflow's own store
takes any id; a foreign key keeps ours from dangling) and is linked once per run. Inserts skip
rows that exist (``ON CONFLICT DO NOTHING``), so two writers logging the same new input at once
both succeed on PostgreSQL too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from trainyard.core.entities import Dataset, DatasetInput, RunInputs
from trainyard.errors import NotFound
from trainyard.store.sql import tables as t
from trainyard.store.sql.engine import Database


def _chunks(items: Sequence[str], size: int = 900) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _dataset_ids(
    conn: Connection, experiment_id: int, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    d = t.datasets
    names = sorted({n for n, _ in keys})
    rows = conn.execute(
        select(d.c.dataset_id, d.c.name, d.c.digest).where(
            d.c.experiment_id == experiment_id, d.c.name.in_(names)
        )
    )
    wanted = set(keys)
    return {(r.name, r.digest): r.dataset_id for r in rows if (r.name, r.digest) in wanted}


def _check_models(conn: Connection, workspace: str, model_ids: list[str]) -> None:
    lm = t.logged_models
    found: set[str] = set()
    for chunk in _chunks(model_ids):
        found.update(
            conn.execute(
                select(lm.c.model_id).where(lm.c.model_id.in_(chunk), lm.c.workspace == workspace)
            ).scalars()
        )
    missing = [m for m in model_ids if m not in found]
    if missing:
        raise NotFound(
            f"logged model {missing[0]!r} does not exist in workspace {workspace!r}"
            + (f" (nor {len(missing) - 1} other model input(s))" if len(missing) > 1 else "")
        )


class SqlDatasetStore:
    """The run-input half of ``TrackingStore``, mixed into ``SqlTrackingStore``."""

    db: Database
    _insert: Any

    def log_inputs(
        self,
        workspace: str,
        run_id: str,
        inputs: Sequence[DatasetInput],
        models: Sequence[str] = (),
    ) -> None:
        """Link the run to each data set (created in its experiment if new), with its tags, and
        to each logged model; all or nothing."""
        r = t.runs
        with self.db.write() as conn:
            run = conn.execute(
                select(r.c.experiment_id).where(r.c.run_id == run_id, r.c.workspace == workspace)
            ).first()
            if run is None:
                raise NotFound(f"run {run_id!r} does not exist in workspace {workspace!r}")
            model_ids = list(dict.fromkeys(models))  # the first of two equal ids wins
            if model_ids:
                _check_models(conn, workspace, model_ids)
            unique: dict[tuple[str, str], DatasetInput] = {}
            for item in inputs:  # the first of two inputs with one name and digest wins
                unique.setdefault((item.dataset.name, item.dataset.digest), item)
            if unique:
                self._add_datasets(conn, run.experiment_id, list(unique.values()))
                ids = _dataset_ids(conn, run.experiment_id, list(unique))
                self._link(conn, run_id, [(ids[k], item) for k, item in unique.items()])
            if model_ids:
                self._link_models(conn, run_id, model_ids)

    def _link_models(self, conn: Connection, run_id: str, model_ids: list[str]) -> None:
        mi = t.run_model_inputs
        have = set(
            conn.execute(
                select(mi.c.model_id).where(mi.c.run_id == run_id, mi.c.model_id.in_(model_ids))
            ).scalars()
        )
        new = [m for m in model_ids if m not in have]
        if not new:
            return
        start = conn.execute(
            select(func.count()).select_from(mi).where(mi.c.run_id == run_id)
        ).scalar_one()
        conn.execute(
            self._insert(mi).on_conflict_do_nothing(),
            [{"run_id": run_id, "model_id": m, "position": start + n} for n, m in enumerate(new)],
        )

    def _add_datasets(
        self, conn: Connection, experiment_id: int, inputs: Sequence[DatasetInput]
    ) -> None:
        rows = [
            {
                "dataset_id": uuid.uuid4().hex,
                "experiment_id": experiment_id,
                "name": i.dataset.name,
                "digest": i.dataset.digest,
                "source_type": i.dataset.source_type,
                "source": i.dataset.source,
                "schema": i.dataset.schema,
                "profile": i.dataset.profile,
            }
            for i in inputs
        ]
        stmt = self._insert(t.datasets).on_conflict_do_nothing(
            index_elements=["experiment_id", "name", "digest"]
        )
        conn.execute(stmt, rows)

    def _link(self, conn: Connection, run_id: str, links: list[tuple[str, DatasetInput]]) -> None:
        ri = t.run_inputs
        have = set(
            conn.execute(
                select(ri.c.dataset_id).where(
                    ri.c.run_id == run_id, ri.c.dataset_id.in_([i for i, _ in links])
                )
            ).scalars()
        )
        new = [(i, item) for i, item in links if i not in have]
        if not new:
            return
        start = conn.execute(
            select(func.count()).select_from(ri).where(ri.c.run_id == run_id)
        ).scalar_one()
        conn.execute(
            self._insert(ri).on_conflict_do_nothing(),
            [
                {"run_id": run_id, "dataset_id": i, "position": start + n}
                for n, (i, _) in enumerate(new)
            ],
        )
        tags = [
            {"run_id": run_id, "dataset_id": i, "key": k, "value": v}
            for i, item in new
            for k, v in item.tags.items()
        ]
        if tags:
            conn.execute(self._insert(t.run_input_tags).on_conflict_do_nothing(), tags)

    def run_inputs(self, run_ids: Sequence[str]) -> dict[str, RunInputs]:
        """The data sets and models each run used, in the order they were logged (one query of
        each per 900 runs)."""
        out: dict[str, RunInputs] = {i: RunInputs() for i in run_ids}
        ri, d, tg, mi = t.run_inputs, t.datasets, t.run_input_tags, t.run_model_inputs
        with self.db.read() as conn:
            for chunk in _chunks(list(out)):
                models = (
                    select(mi.c.run_id, mi.c.model_id)
                    .where(mi.c.run_id.in_(chunk))
                    .order_by(mi.c.run_id, mi.c.position, mi.c.model_id)
                )
                for run_id, model_id in conn.execute(models):
                    out[run_id].models.append(model_id)
                q = (
                    select(
                        ri.c.run_id,
                        ri.c.dataset_id,
                        d.c.name,
                        d.c.digest,
                        d.c.source_type,
                        d.c.source,
                        d.c.schema,
                        d.c.profile,
                        tg.c.key,
                        tg.c.value,
                    )
                    .join(d, d.c.dataset_id == ri.c.dataset_id)
                    .outerjoin(
                        tg, (tg.c.run_id == ri.c.run_id) & (tg.c.dataset_id == ri.c.dataset_id)
                    )
                    .where(ri.c.run_id.in_(chunk))
                    .order_by(ri.c.run_id, ri.c.position, d.c.name, ri.c.dataset_id, tg.c.key)
                )
                current: tuple[str, str] | None = None
                for row in conn.execute(q):
                    if (row.run_id, row.dataset_id) != current:
                        current = (row.run_id, row.dataset_id)
                        dataset = Dataset(
                            row.name,
                            row.digest,
                            row.source_type,
                            row.source,
                            row.schema,
                            row.profile,
                        )
                        out[row.run_id].datasets.append(DatasetInput(dataset, {}))
                    if row.key is not None:
                        out[row.run_id].datasets[-1].tags[row.key] = row.value
        return out
