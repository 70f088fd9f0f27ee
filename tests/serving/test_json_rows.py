"""Numeric rows straight to an array: what it takes, what it leaves to the general decoder, and
that both give the same feeds."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import orjson
import pytest

from tests.serving.test_protocols import NATIVE, _inputs
from trainyard.errors import InvalidArgument
from trainyard.serving.json_rows import MIN_BYTES, numeric_rows

RNG = np.random.default_rng(7)
MATRIX = RNG.normal(size=(120, 20))


def body(doc: Any) -> bytes:
    out = orjson.dumps(doc)
    assert len(out) >= MIN_BYTES, "keep test bodies above the fast path's floor"
    return out


def test_rows_of_numbers_become_the_matrix_exactly() -> None:
    rows = MATRIX.tolist()
    got = numeric_rows(body({"inputs": rows}), 20)
    assert got is not None and got.shape == (120, 20)
    assert np.array_equal(got, MATRIX)  # doubles round-trip through JSON exactly
    ints = [[int(v * 100) for v in row] for row in rows]
    got = numeric_rows(body({"instances": ints}), None)
    assert got is not None and np.array_equal(got, np.asarray(ints, dtype=np.float64))


def test_whitespace_and_key_order_do_not_matter() -> None:
    pretty = orjson.dumps({"inputs": MATRIX[:60].tolist()}, option=orjson.OPT_INDENT_2)
    got = numeric_rows(pretty, 20)
    assert got is not None and np.array_equal(got, MATRIX[:60])


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda rows: [*rows[:-1], rows[-1][:-1]], id="short-last-row"),
        pytest.param(
            lambda rows: [rows[0][:-1], [*rows[1], 0.5], *rows[2:]], id="ragged-same-count"
        ),
        pytest.param(lambda rows: [[*rows[0][:-1], [1.0]], *rows[1:]], id="nested-list"),
        pytest.param(
            lambda rows: [[*rows[0][:-2], [], [1.0, 2.0]], *rows[1:]], id="nested-balanced"
        ),
        pytest.param(lambda rows: [[None, *rows[0][1:]], *rows[1:]], id="null"),
        pytest.param(lambda rows: [[True, *rows[0][1:]], *rows[1:]], id="bool"),
        pytest.param(lambda rows: [["1.5", *rows[0][1:]], *rows[1:]], id="string"),
        pytest.param(lambda rows: [rows[0], 3.0, *rows[2:]], id="scalar-row"),
        pytest.param(lambda rows: [{"a": 1.0}, *rows[1:]], id="object-row"),
    ],
)
def test_anything_but_a_clean_matrix_is_left_to_the_general_decoder(mutate: Any) -> None:
    assert numeric_rows(body({"inputs": mutate(MATRIX.tolist())}), 20) is None


def test_other_forms_and_broken_bodies_are_left_alone_and_the_parser_recovers() -> None:
    rows = MATRIX.tolist()
    names = [f"c{i}" for i in range(20)]
    for doc in (
        [dict(zip(names, row, strict=True)) for row in rows],
        {"dataframe_split": {"columns": names, "data": rows}},
        {"inputs": rows, "extra": 1},
        {"inputs": []},
    ):
        assert numeric_rows(orjson.dumps(doc), 20) is None
    broken = body({"inputs": rows})[:-5]
    assert numeric_rows(broken, 20) is None
    assert numeric_rows(body({"inputs": rows}), 19) is None  # the model's width, not the rows'
    good = numeric_rows(body({"inputs": rows}), 20)  # a parser that failed is replaced
    assert good is not None and np.array_equal(good, MATRIX)
    assert numeric_rows(orjson.dumps({"inputs": rows[:2]}), 20) is None  # small: general path


def test_parsers_are_per_thread() -> None:
    results: list[bool] = []
    payload = body({"inputs": MATRIX.tolist()})

    def work() -> None:
        for _ in range(50):
            got = numeric_rows(payload, 20)
            results.append(got is not None and np.array_equal(got, MATRIX))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and all(results)


def test_native_decoding_is_the_same_on_both_paths() -> None:
    """A large numeric body (fast path) feeds the model exactly as the general decoder does."""
    inputs = _inputs("gb")
    rows = MATRIX.tolist()
    fast = NATIVE.decode(body({"inputs": rows}), inputs)
    general = inputs.feeds(rows)[0]
    assert fast.rows == 120
    assert list(fast.feeds) == list(general)
    for name, array in general.items():
        assert fast.feeds[name].dtype == array.dtype
        assert np.array_equal(fast.feeds[name], array)


def test_refusals_still_name_the_column_on_large_bodies() -> None:
    rows = MATRIX.tolist()
    rows[7] = [*rows[7][:3], "x", *rows[7][4:]]
    with pytest.raises(InvalidArgument) as err:
        NATIVE.decode(body({"inputs": rows}), _inputs("gb"))
    assert err.value.details == {"column": "#3"}
    rows = MATRIX.tolist()
    rows[5] = rows[5][:-1]
    with pytest.raises(InvalidArgument, match="row 5 has 19 values"):
        NATIVE.decode(body({"inputs": rows}), _inputs("gb"))
