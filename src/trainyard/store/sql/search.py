"""Translate parsed filters and ``order_by`` clauses into one SQL query over runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, not_, select

from trainyard.core.entities import DATASET_CONTEXT_TAG, LifecycleStage
from trainyard.core.filters import Comparison, OrderBy
from trainyard.store.sql import tables as t

_ATTRIBUTE_COLUMNS = {
    "run_id": t.runs.c.run_id,
    "run_name": t.runs.c.name,
    "status": t.runs.c.status,
    "artifact_uri": t.runs.c.artifact_uri,
    "lifecycle_stage": t.runs.c.lifecycle_stage,
    "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "LIKE":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ILIKE":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "IN":
        return column.in_(value)  # type: ignore[no-any-return]
    if op == "NOT IN":
        return not_(column.in_(value))
    raise AssertionError(op)


def _dataset_match(c: Comparison) -> ColumnElement[bool]:
    """MLflow's meaning: one of the run's data sets (or input contexts) satisfies the test."""
    r, ri, d, tg = t.runs, t.run_inputs, t.datasets, t.run_input_tags
    if c.key == "context":
        return exists().where(
            tg.c.run_id == r.c.run_id,
            tg.c.key == DATASET_CONTEXT_TAG,
            _compare(tg.c.value, c.op, c.value),
        )
    return exists().where(
        ri.c.run_id == r.c.run_id,
        d.c.dataset_id == ri.c.dataset_id,
        _compare(d.c[c.key], c.op, c.value),
    )


def _entity_table(entity: str) -> Any:
    return {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}[entity]


def build_search(
    workspace: str,
    experiment_ids: Sequence[int],
    filters: Sequence[Comparison],
    order_by: Sequence[OrderBy],
    include_deleted: bool,
) -> Select[Any]:
    """A ``SELECT runs.*`` with one join per filtered or ordered key, ordered and tie-broken."""
    r, e = t.runs, t.experiments
    q = select(r).where(r.c.workspace == workspace)
    if experiment_ids:
        q = q.where(r.c.experiment_id.in_(experiment_ids))
    if not include_deleted:
        # a deleted experiment hides its runs too
        q = q.join(e, e.c.experiment_id == r.c.experiment_id).where(
            r.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
            e.c.lifecycle_stage == LifecycleStage.ACTIVE.value,
        )
    metric_filter_alias: dict[str, Any] = {}
    for i, c in enumerate(filters):
        if c.entity == "attribute":
            if c.key == "duration":
                col: Any = r.c.end_time - r.c.start_time
            else:
                col = _ATTRIBUTE_COLUMNS[c.key]
            q = q.where(_compare(col, c.op, c.value))
            continue
        if c.entity == "dataset":
            q = q.where(_dataset_match(c))
            continue
        a = _entity_table(c.entity).alias(f"f{i}")
        cond = and_(a.c.run_id == r.c.run_id, a.c.key == c.key)
        if c.entity == "metric":
            cond = and_(cond, a.c.is_nan.is_(False))
        q = q.join(a, and_(cond, _compare(a.c.value, c.op, c.value)))
        if c.entity == "metric":
            metric_filter_alias.setdefault(c.key, a)
    order: list[Any] = []
    for i, o in enumerate(order_by):
        if o.entity == "attribute":
            col = (
                (r.c.end_time - r.c.start_time)
                if o.key == "duration"
                else _ATTRIBUTE_COLUMNS[o.key]
            )
        elif o.entity == "metric" and o.key in metric_filter_alias:
            col = metric_filter_alias[o.key].c.value  # the filter's join already has the value
        else:
            a = _entity_table(o.entity).alias(f"o{i}")
            q = q.outerjoin(a, and_(a.c.run_id == r.c.run_id, a.c.key == o.key))
            col = a.c.value
        order.append(case((col.is_(None), 1), else_=0))  # runs lacking the value come last
        order.append(col.asc() if o.ascending else col.desc())
    order += [r.c.start_time.desc(), r.c.run_id.asc()]
    return q.order_by(*order)
