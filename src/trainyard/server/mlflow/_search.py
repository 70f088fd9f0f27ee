"""Search translations between MLflow's view of a run and Trainyard's.

MLflow keeps the run name in the tag ``mlflow.runName`` and the user in ``attributes.user_id``;
Trainyard keeps the name as an attribute and the user as the tag ``mlflow.user``. Filters and
orders are parsed with Trainyard's grammar, rewritten, and written back as text for the service.

Experiments are searched in memory: a workspace holds few of them, and MLflow's experiment filter
(``name``, ``creation_time``, ``last_update_time``, ``tags.*``) is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainyard.core.entities import Experiment
from trainyard.core.filters import (
    RUN_ATTRIBUTES,
    Attributes,
    Comparison,
    EntityType,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from trainyard.core.limits import FLOAT_MAX
from trainyard.core.matching import filter_items, order_items

# MLflow's run attributes: Trainyard's plus ``user_id`` (stored as the tag ``mlflow.user``)
MLFLOW_RUN_ATTRIBUTES = Attributes(
    RUN_ATTRIBUTES.strings | {"user_id"},
    RUN_ATTRIBUTES.numbers,
    RUN_ATTRIBUTES.aliases,
    datasets=True,
)
_PREFIX = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}

EXPERIMENT_ATTRIBUTES = Attributes(
    strings=frozenset({"name", "experiment_id"}),
    numbers=frozenset({"creation_time", "last_update_time"}),
    aliases={},
)
_EXPERIMENT_FIELDS = {"creation_time": "created_at", "last_update_time": "updated_at"}
_DEFAULT_EXPERIMENT_ORDER = [
    OrderBy("attribute", "creation_time", False),
    OrderBy("attribute", "experiment_id", True),
]


def _mapped(entity: EntityType, key: str) -> tuple[EntityType, str]:
    if entity == "tag" and key == "mlflow.runName":
        return "attribute", "run_name"
    if entity == "attribute" and key == "user_id":
        return "tag", "mlflow.user"
    return entity, key


def _ident(entity: EntityType, key: str) -> str:
    return f"{_PREFIX[entity]}.`{key}`"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _value(value: str | float | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_quote(v) for v in value) + ")"
    if isinstance(value, float):
        return repr(max(-FLOAT_MAX, min(FLOAT_MAX, value)))
    return _quote(value)


def run_filter(text: str | None, extra: Sequence[Comparison] = ()) -> str | None:
    """MLflow's run filter, as Trainyard's (plus ``extra`` comparisons)."""
    comparisons = [*parse_filter(text, MLFLOW_RUN_ATTRIBUTES), *extra]
    if not comparisons:
        return None
    parts = []
    for c in comparisons:
        entity, key = _mapped(c.entity, c.key)
        parts.append(f"{_ident(entity, key)} {c.op} {_value(c.value)}")
    return " and ".join(parts)


def run_order_by(clauses: Sequence[str]) -> list[str]:
    """MLflow's ``order_by`` clauses, as Trainyard's."""
    out = []
    for o in parse_order_by(list(clauses), MLFLOW_RUN_ATTRIBUTES):
        entity, key = _mapped(o.entity, o.key)
        out.append(f"{_ident(entity, key)} {'ASC' if o.ascending else 'DESC'}")
    return out


def _experiment_value(e: Experiment, entity: str, key: str) -> Any:
    if entity == "tag":
        return e.tags.get(key)
    if entity != "attribute":
        return None
    return getattr(e, _EXPERIMENT_FIELDS.get(key, key))


def _experiment_order_value(e: Experiment, entity: str, key: str) -> Any:
    if entity == "attribute" and key == "experiment_id":
        return int(e.experiment_id)  # numerically, as MLflow's integer column sorts
    return _experiment_value(e, entity, key)


def search_experiments(
    experiments: Sequence[Experiment], filter: str | None, order_by: Sequence[str]
) -> list[Experiment]:
    """The experiments matching MLflow's experiment filter, in MLflow's order."""
    comparisons = parse_filter(filter, EXPERIMENT_ATTRIBUTES)
    orders = parse_order_by(list(order_by), EXPERIMENT_ATTRIBUTES) or _DEFAULT_EXPERIMENT_ORDER
    if not any(o.key == "experiment_id" for o in orders):
        orders = [*orders, OrderBy("attribute", "experiment_id", True)]
    matched = filter_items(experiments, comparisons, _experiment_value)
    return order_items(matched, orders, _experiment_order_value)
