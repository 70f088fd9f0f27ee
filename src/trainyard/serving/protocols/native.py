"""Trainyard's own scoring format, ``POST /endpoints/{name}/score``: rows, records or columns.

Requests (one JSON document)::

    {"inputs": [[5.1, 3.5, 1.4, 0.2], ...]}                 rows, in the model's column order
    [{"sepal length (cm)": 5.1, ...}, ...]                  records, by column name
    {"dataframe_split": {"columns": [...], "data": [[...], ...]}}   columns, then rows

(``{"instances": [...]}`` is taken as rows and ``{"dataframe_records": [...]}`` as records,
the names MLflow's scoring server uses.) Answer::

    {"predictions": [...], "probabilities": [[...], ...],   (classifiers with probabilities)
     "deployment": "blue", "model": "iris", "model_version": 3}

Errors are Trainyard's ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from trainyard.errors import InvalidArgument
from trainyard.serving.inputs import ModelInputs
from trainyard.serving.json_rows import numeric_rows
from trainyard.serving.protocols._base import Answer, Batch, ScoringProtocol

_FORMS = '{"inputs": [[...]]}, [{column: value}, ...] or {"dataframe_split": {"columns", "data"}}'
_DUMP = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def parse_json(body: bytes) -> Any:
    """The JSON document of a body (400 when it is not JSON)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidArgument(f"the request body is not valid JSON: {exc}") from None


def records_feeds(records: Any, inputs: ModelInputs) -> tuple[dict[str, np.ndarray], int]:
    """Feeds for ``[{column: value}, ...]``: every record must have exactly the model's columns."""
    names = inputs.require_names()
    if not isinstance(records, list) or not records:
        raise InvalidArgument("no records to score: send at least one {column: value} object")
    getter = itemgetter(*names)
    try:
        values = list(map(getter, records))
    except KeyError as exc:
        column = exc.args[0]
        row = next(i for i, r in enumerate(records) if column not in r)
        raise InvalidArgument(
            f"column {column!r} is missing from record {row}", {"column": column, "row": row}
        ) from None
    except TypeError:
        row = next(i for i, r in enumerate(records) if not isinstance(r, dict))
        raise InvalidArgument(
            f"record {row} is not an object: records are {{column: value}} objects", {"row": row}
        ) from None
    if any(len(r) != len(names) for r in records):
        row = next(i for i, r in enumerate(records) if len(r) != len(names))
        extra = next(k for k in records[row] if k not in names)
        raise InvalidArgument(
            f"column {extra!r} in record {row} is not a column of this model (its columns: "
            f"{names})",
            {"column": extra, "row": row},
        )
    rows = [[v] for v in values] if len(names) == 1 else values
    return inputs.feeds(rows)


def split_feeds(split: Any, inputs: ModelInputs) -> tuple[dict[str, np.ndarray], int]:
    """Feeds for ``{"columns": [...], "data": [[...], ...]}`` (rows in the order of columns)."""
    if not isinstance(split, dict) or not isinstance(split.get("columns"), list):
        raise InvalidArgument('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
    columns = split["columns"]
    inputs.check_names(columns)
    return inputs.feeds(split.get("data"), columns)


class NativeProtocol(ScoringProtocol):
    """Rows, records or columns in; predictions (and probabilities) out."""

    name = "native"

    def decode(self, body: bytes, inputs: ModelInputs, json_length: int | None = None) -> Batch:
        """Pick the form by its top-level key and feed it."""
        if json_length is not None:
            raise InvalidArgument(
                "Inference-Header-Content-Length (binary tensors) is for the Open Inference "
                "Protocol: POST /v2/models/NAME/infer"
            )
        matrix = inputs.float_matrix
        if matrix is not None:
            values = numeric_rows(body, inputs.width)
            if values is not None:
                return Batch({matrix.name: values.astype(matrix.dtype)}, len(values))
        doc = parse_json(body)
        if isinstance(doc, list):
            feeds, rows = records_feeds(doc, inputs)
        elif isinstance(doc, dict) and len(doc) == 1:
            ((key, value),) = doc.items()
            if key in ("inputs", "instances"):
                feeds, rows = inputs.feeds(value)
            elif key == "dataframe_split":
                feeds, rows = split_feeds(value, inputs)
            elif key == "dataframe_records":
                feeds, rows = records_feeds(value, inputs)
            else:
                raise InvalidArgument(f"unknown request key {key!r}: send {_FORMS}")
        else:
            raise InvalidArgument(f"send one of {_FORMS}")
        return Batch(feeds, rows)

    def encode(self, batch: Batch, answer: Answer) -> bytes:
        """``predictions`` from the first output, ``probabilities`` from the probability one."""
        first = answer.outputs[0]
        doc: dict[str, Any] = {"predictions": _column(first)}
        if answer.proba_output is not None:
            proba = answer.outputs[answer.output_names.index(answer.proba_output)]
            doc["probabilities"] = _plain(proba)
        doc["deployment"] = answer.deployment
        doc["model"] = answer.model_name
        doc["model_version"] = answer.model_version
        return orjson.dumps(doc, option=_DUMP)

    def error_body(self, code: str, message: str, details: Any = None) -> bytes:
        """Trainyard's error format."""
        return orjson.dumps({"error": {"code": code, "message": message, "details": details}})


def _column(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] == 1:
        value = value.ravel()
    return _plain(value)


def _plain(value: Any) -> Any:
    """orjson writes numeric arrays natively; string arrays (object) become lists."""
    if isinstance(value, np.ndarray) and value.dtype == np.object_:
        return value.tolist()
    return value
