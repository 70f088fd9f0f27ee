"""Numeric JSON rows straight to an array: ``{"inputs": [[1.5, 2, ...], ...]}`` without a
Python float per value.

The common request of a tabular model is rows of plain numbers. Decoding it with a general JSON
parser makes a Python float for every value, and ``numpy.asarray`` then reads them back: on 100
rows of 20 features that costs more than ONNX Runtime's own run of a tree ensemble. Here
simdjson parses the body and copies the numbers into one buffer of doubles
(:func:`numeric_rows`); a body of any other form, or with anything but numbers in its rows
(``null``, ``true``, a string, a nested list, a row of the wrong length), gets ``None``, and the
general decoder then parses it and names what is wrong.

Exactness of the shape: simdjson flattens nested lists, so besides each row's length the body
must hold exactly one ``[`` per row plus the outer one (the only key is ``inputs`` or
``instances`` and every value is a number, so no ``[`` can hide in a string).
"""

from __future__ import annotations

import threading
from typing import Any, cast

import numpy as np

ROW_KEYS = ("inputs", "instances")
MIN_BYTES = 2048
"""Smaller bodies (a few rows) decode faster the general way than through a parser's setup."""
_OPEN = ord("[")
_local = threading.local()


def _parser() -> Any:
    parser = getattr(_local, "parser", None)
    if parser is None:
        import simdjson

        parser = _local.parser = simdjson.Parser()
    return parser


def numeric_rows(body: bytes, width: int | None) -> np.ndarray | None:
    """The rows of ``{"inputs"|"instances": [[numbers], ...]}`` as a float64 matrix (rows,
    ``width``; with ``width`` None, the first row's length), or None when the body is not
    exactly that (the caller then decodes it the general way, as it does bodies under
    ``MIN_BYTES``)."""
    if len(body) < MIN_BYTES:
        return None
    head = body[:40]
    if b'"inputs"' not in head and b'"instances"' not in head:
        return None
    try:
        rows, flat = _parse(body, width)
    except Exception:  # not JSON, another form, a value that is not a number: the slow path
        _local.parser = None  # a parser with a failed document may refuse the next one
        return None
    if rows is None or flat is None:
        return None
    if np.count_nonzero(np.frombuffer(body, np.uint8) == _OPEN) != len(rows) + 1:
        return None  # a nested list, which the flat buffer would hide
    return flat.reshape(len(rows), -1)


def _parse(body: bytes, width: int | None) -> tuple[list[int] | None, np.ndarray | None]:
    """Parse; the rows' lengths and the flat values (``None, None`` for another form)."""
    import simdjson

    doc: Any = None
    arr: Any = None
    try:
        doc = _parser().parse(body)
        if not isinstance(doc, simdjson.Object) or len(doc) != 1:
            return None, None
        key = next(iter(doc.keys()))
        if key not in ROW_KEYS:
            return None, None
        arr = doc[key]
        if not isinstance(arr, simdjson.Array) or len(arr) == 0:
            return None, None
        lengths = [len(row) for row in cast(Any, arr)]  # TypeError for a row that is no list
        want = width if width is not None else lengths[0]
        if want == 0 or lengths.count(want) != len(lengths):
            return None, None
        flat = np.frombuffer(arr.as_buffer(of_type="d"), np.float64)
        if flat.size != want * len(lengths):
            return None, None
        return lengths, flat
    finally:
        del doc, arr
