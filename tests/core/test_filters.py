"""The run search grammar."""

from __future__ import annotations

import pytest

from trainyard.core.filters import Comparison, OrderBy, parse_filter, parse_order_by
from trainyard.errors import InvalidArgument


def test_the_documented_example_parses() -> None:
    got = parse_filter(
        "metrics.rmse < 50 and params.alpha = '0.1' and tags.team = 'x' "
        "and attributes.status = 'FINISHED'"
    )
    assert got == [
        Comparison("metric", "rmse", "<", 50.0),
        Comparison("param", "alpha", "=", "0.1"),
        Comparison("tag", "team", "=", "x"),
        Comparison("attribute", "status", "=", "FINISHED"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.`my metric` >= 1e-3", Comparison("metric", "my metric", ">=", 0.001)),
        ('params."learning rate" != "0.1"', Comparison("param", "learning rate", "!=", "0.1")),
        ("tags.mlflow.runName LIKE 'a%'", Comparison("tag", "mlflow.runName", "LIKE", "a%")),
        ("run_name ILIKE '%X%'", Comparison("attribute", "run_name", "ILIKE", "%X%")),
        ("attributes.run_id IN ('a', 'b')", Comparison("attribute", "run_id", "IN", ("a", "b"))),
        ("params.p NOT IN ('x')", Comparison("param", "p", "NOT IN", ("x",))),
        ("attributes.start_time > 17", Comparison("attribute", "start_time", ">", 17.0)),
        ("metric.acc = -2", Comparison("metric", "acc", "=", -2.0)),
        ("tags.note = 'it''s'", Comparison("tag", "note", "=", "it's")),
        ("METRICS.x < 1 AND params.y = 'z'", None),
    ],
)
def test_forms(text: str, expected: Comparison | None) -> None:
    got = parse_filter(text)
    if expected is not None:
        assert got == [expected]
    else:
        assert len(got) == 2


def test_empty_filter_matches_everything() -> None:
    assert parse_filter(None) == [] and parse_filter("   ") == []


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("params.alpha = 0.1", "quote the value"),
        ("metrics.rmse = 'x'", "compared with a number"),
        ("foo.bar = 1", "unknown entity"),
        ("metrics.rmse < 1 or metrics.rmse > 2", "OR is not supported"),
        ("metrics.rmse LIKE 1", "numeric"),
        ("attributes.color = 'x'", "unknown attribute"),
        ("metrics.rmse <", "ends early"),
        ("metrics.rmse < 1 and", "ends early"),
        ("params.a IN 'x'", "IN"),
        ("params.a = 'x' ~", "cannot parse"),
    ],
)
def test_bad_filters_say_what_is_wrong(text: str, hint: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_filter(text)
    assert hint in str(err.value)


def test_order_by() -> None:
    assert parse_order_by(["metrics.rmse", "attributes.start_time DESC", "params.`a b` asc"]) == [
        OrderBy("metric", "rmse", True),
        OrderBy("attribute", "start_time", False),
        OrderBy("param", "a b", True),
    ]
    with pytest.raises(InvalidArgument):
        parse_order_by(["metrics.rmse sideways"])
    with pytest.raises(InvalidArgument):
        parse_order_by(["metrics.rmse ASC DESC"])
