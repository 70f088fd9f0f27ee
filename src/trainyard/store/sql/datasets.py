"""The SQL store of runs' dataset inputs (``mlflow.log_input``), as MLflow keeps them.

A data set belongs to the run's experiment and is stored once per (name, digest); a run links to
it once. Logging a data set the run has already is a no-op (the first input's tags stay), as in
MLflow. Inserts skip rows that exist (``ON CONFLICT DO NOTHING``), so two writers logging the
same new data set at once both succeed on PostgreSQL too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from trainyard.core.entities import Dataset, DatasetInput
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


class SqlDatasetStore:
    """The dataset-input half of ``TrackingStore``, mixed into ``SqlTrackingStore``."""

    db: Database
    _insert: Any

    def log_inputs(self, workspace: str, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        """Link the run to each data set (created in its experiment if new), with its tags."""
        r = t.runs
        with self.db.write() as conn:
            run = conn.execute(
                select(r.c.experiment_id).where(r.c.run_id == run_id, r.c.workspace == workspace)
            ).first()
            if run is None:
                raise NotFound(f"run {run_id!r} does not exist in workspace {workspace!r}")
            unique: dict[tuple[str, str], DatasetInput] = {}
            for item in inputs:  # the first of two inputs with one name and digest wins
                unique.setdefault((item.dataset.name, item.dataset.digest), item)
            if not unique:
                return
            self._add_datasets(conn, run.experiment_id, list(unique.values()))
            ids = _dataset_ids(conn, run.experiment_id, list(unique))
            self._link(conn, run_id, [(ids[k], item) for k, item in unique.items()])

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

    def run_inputs(self, run_ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
        """The dataset inputs of each run, in the order they were logged (one query per 900)."""
        out: dict[str, list[DatasetInput]] = {i: [] for i in run_ids}
        ri, d, tg = t.run_inputs, t.datasets, t.run_input_tags
        with self.db.read() as conn:
            for chunk in _chunks(list(out)):
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
                        out[row.run_id].append(DatasetInput(dataset, {}))
                    if row.key is not None:
                        out[row.run_id][-1].tags[row.key] = row.value
        return out
