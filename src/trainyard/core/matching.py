"""Evaluate parsed filters in memory, for the short lists (experiments, logged models) that are
filtered after loading rather than in SQL.

Semantics follow the SQL search: a comparison on a value the item lacks is false, ``LIKE`` uses
``%`` and ``_`` and is case-sensitive, ``ILIKE`` is not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from trainyard.core.filters import Comparison, OrderBy

T = TypeVar("T")

Lookup = Callable[[T, str, str], Any]
"""``lookup(item, entity, key)``: the item's value for ``entity.key``, or None if it has none."""


@lru_cache(maxsize=256)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(parts), re.S | (re.I if ignore_case else 0))


def compare(actual: Any, op: str, target: Any) -> bool:
    """``actual <op> target`` as the search grammar means it; a missing ``actual`` is False."""
    if actual is None or (isinstance(actual, float) and math.isnan(actual)):
        return False
    if isinstance(target, float) and not isinstance(actual, (int, float)):
        return False
    if op == "=":
        return bool(actual == target)
    if op == "!=":
        return bool(actual != target)
    if op == "<":
        return bool(actual < target)
    if op == "<=":
        return bool(actual <= target)
    if op == ">":
        return bool(actual > target)
    if op == ">=":
        return bool(actual >= target)
    if op in ("LIKE", "ILIKE"):
        return _like_regex(str(target), op == "ILIKE").fullmatch(str(actual)) is not None
    if op == "IN":
        return actual in target
    if op == "NOT IN":
        return actual not in target
    raise AssertionError(op)


def filter_items(
    items: Sequence[T], comparisons: Sequence[Comparison], lookup: Lookup[T]
) -> list[T]:
    """The items for which every comparison holds."""
    return [
        item
        for item in items
        if all(compare(lookup(item, c.entity, c.key), c.op, c.value) for c in comparisons)
    ]


def order_items(items: Sequence[T], order_by: Sequence[OrderBy], lookup: Lookup[T]) -> list[T]:
    """Items sorted by each clause in turn (stable); items lacking a value come last."""
    out = list(items)
    for o in reversed(order_by):
        present = [i for i in out if lookup(i, o.entity, o.key) is not None]
        missing = [i for i in out if lookup(i, o.entity, o.key) is None]
        present.sort(key=lambda i: lookup(i, o.entity, o.key), reverse=not o.ascending)
        out = present + missing
    return out
