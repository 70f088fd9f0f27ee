"""Both scoring protocols against real models' inputs: every payload form, every refusal named."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import onnxruntime as ort
import orjson
import pytest

from tests.serving.models import IRIS_COLUMNS, iris_classifier, mixed_classifier, regressor
from trainyard.errors import InvalidArgument
from trainyard.serving.inputs import ModelInputs, inputs_of
from trainyard.serving.protocols import (
    Answer,
    Batch,
    NativeProtocol,
    OpenInferenceProtocol,
    Payload,
)

NATIVE, OIP = NativeProtocol(), OpenInferenceProtocol()
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]


@functools.cache
def _inputs(which: str) -> ModelInputs:
    content = {"iris": iris_classifier, "mixed": mixed_classifier, "gb": regressor}[which]()
    session = ort.InferenceSession(content, providers=["CPUExecutionProvider"])
    names = IRIS_COLUMNS if which == "iris" else None
    return inputs_of(session.get_inputs(), names)


def native(doc: Any, which: str = "iris") -> Batch:
    return NATIVE.decode(orjson.dumps(doc), _inputs(which))


def refused(doc: Any, which: str = "iris", protocol: Any = NATIVE) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        protocol.decode(orjson.dumps(doc), _inputs(which))
    return err.value


def test_rows_records_and_columns_give_the_same_feeds() -> None:
    rows = native({"inputs": ROWS})
    records = native([dict(reversed(list(zip(IRIS_COLUMNS, r, strict=True)))) for r in ROWS])
    order = [2, 0, 3, 1]  # columns in another order than the model's
    split = native(
        {
            "dataframe_split": {
                "columns": [IRIS_COLUMNS[i] for i in order],
                "data": [[r[i] for i in order] for r in ROWS],
            }
        }
    )
    for batch in (rows, records, split):
        assert batch.rows == 2
        assert batch.feeds["X"].dtype == np.float32 and batch.feeds["X"].flags.c_contiguous
        assert np.array_equal(batch.feeds["X"], np.asarray(ROWS, np.float32))
    assert native({"instances": ROWS}).rows == 2  # MLflow's names are accepted too
    assert native({"dataframe_records": [dict(zip(IRIS_COLUMNS, ROWS[0], strict=True))]}).rows == 1


@pytest.mark.parametrize(
    ("doc", "column", "words"),
    [
        ([{c: 1.0 for c in IRIS_COLUMNS[:3]}], IRIS_COLUMNS[3], "missing"),
        ([{**{c: 1.0 for c in IRIS_COLUMNS}, "colour": 1}], "colour", "not a column"),
        (
            {"dataframe_split": {"columns": IRIS_COLUMNS[:3], "data": [[1, 2, 3]]}},
            IRIS_COLUMNS[3],
            "missing",
        ),
        (
            {"dataframe_split": {"columns": [*IRIS_COLUMNS, "x"], "data": [[1, 2, 3, 4, 5]]}},
            "x",
            "not a column",
        ),
        ({"inputs": [[5.1, "wide", 1.4, 0.2]]}, IRIS_COLUMNS[1], "takes numbers"),
        ([{**{c: 1.0 for c in IRIS_COLUMNS}, IRIS_COLUMNS[2]: "x"}], IRIS_COLUMNS[2], "numbers"),
        ({"inputs": [[5.1, 3.5, 1.4]]}, IRIS_COLUMNS[3], "has 3 values; the model takes 4"),
    ],
)
def test_a_missing_extra_or_mistyped_column_is_named(doc: Any, column: str, words: str) -> None:
    err = refused(doc)
    assert column in err.message and words in err.message, err.message
    assert err.details["column"] == column


def test_malformed_requests_say_what_to_send() -> None:
    assert "no rows" in refused({"inputs": []}).message
    assert "unknown request key 'rows'" in refused({"rows": ROWS}).message
    with pytest.raises(InvalidArgument, match="not valid JSON"):
        NATIVE.decode(b"{nope", _inputs("iris"))
    assert "row 1" in refused({"inputs": [[1, 2, 3, 4], [1, 2]]}).message
    assert "record 0 is not an object" in refused([[1, 2, 3, 4]]).message
    assert "values must be scalars" in refused({"inputs": [[1, 2, 3, [4]]]}).message
    unnamed = refused([{"a": 1}], which="gb")
    assert "no names" in unnamed.message and '{"inputs"' in unnamed.message


def test_one_input_per_column_with_their_own_types() -> None:
    batch = native([{"city": "lima", "age": 30, "income": None}], which="mixed")
    assert batch.feeds["age"].dtype == np.int64 and batch.feeds["age"].shape == (1, 1)
    assert np.isnan(batch.feeds["income"][0, 0])  # null is NaN in a float column
    assert batch.feeds["city"].tolist() == [["lima"]]
    rows = native({"inputs": [[30, 52_000.5, "paris"], [61, 41_000, "tokyo"]]}, which="mixed")
    assert rows.feeds["income"].dtype == np.float32 and rows.rows == 2
    for doc, column in (
        ({"inputs": [[30.5, 1.0, "paris"]]}, "age"),  # not a whole number
        ({"inputs": [["30", 1.0, "paris"]]}, "age"),
        ({"inputs": [[30, 1.0, 7]]}, "city"),
        ({"inputs": [[None, 1.0, "lima"]]}, "age"),  # null only in float columns
    ):
        err = refused(doc, which="mixed")
        assert err.details["column"] == column, err.message


def test_native_answers_predictions_probabilities_and_who_answered() -> None:
    outputs = [np.array([0, 2]), np.array([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]], np.float32)]
    answer = Answer("ep", "blue", "iris", 3, ["label", "probabilities"], outputs, "probabilities")
    doc = orjson.loads(NATIVE.encode(native({"inputs": ROWS}), answer))
    assert doc["predictions"] == [0, 2] and doc["deployment"] == "blue"
    assert (doc["model"], doc["model_version"]) == ("iris", 3)
    assert np.allclose(doc["probabilities"], outputs[1])
    value = Answer("ep", "g", "gb", 1, ["variable"], [np.array([[1.5], [2.5]], np.float32)], None)
    doc = orjson.loads(NATIVE.encode(native({"inputs": ROWS}), value))
    assert doc["predictions"] == [1.5, 2.5] and "probabilities" not in doc


def _tensor(name: str, shape: list[int], datatype: str, data: Any) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def test_open_inference_protocol_tensors() -> None:
    doc = {"id": "r1", "inputs": [_tensor("X", [2, 4], "FP32", [v for r in ROWS for v in r])]}
    batch = OIP.decode(orjson.dumps(doc), _inputs("iris"))
    assert batch.rows == 2 and batch.request_id == "r1"
    assert np.array_equal(batch.feeds["X"], np.asarray(ROWS, np.float32))
    nested = {"inputs": [_tensor("X", [2, 4], "FP64", ROWS)], "outputs": [{"name": "label"}]}
    batch = OIP.decode(orjson.dumps(nested), _inputs("iris"))
    assert batch.feeds["X"].dtype == np.float32 and batch.wanted == ("label",)
    outputs = [np.array([0, 2]), np.zeros((2, 3), np.float32)]
    answer = Answer("ep", "blue", "iris", 3, ["label", "probabilities"], outputs, "probabilities")
    out = orjson.loads(OIP.encode(batch, answer))
    assert out["model_name"] == "ep" and out["model_version"] == "3"
    assert out["outputs"] == [{"name": "label", "shape": [2], "datatype": "INT64", "data": [0, 2]}]
    mixed = {
        "inputs": [
            _tensor("age", [1, 1], "INT64", [[30]]),
            _tensor("income", [1, 1], "FP32", [1.0]),
            _tensor("city", [1, 1], "BYTES", ["lima"]),
        ]
    }
    assert OIP.decode(orjson.dumps(mixed), _inputs("mixed")).feeds["city"].tolist() == [["lima"]]


@pytest.mark.parametrize(
    ("inputs", "name", "words"),
    [
        ([], "X", "is missing"),
        (
            [_tensor("X", [1, 4], "FP32", [1, 2, 3, 4]), _tensor("Y", [1], "FP32", [1])],
            "Y",
            "not an input",
        ),
        ([_tensor("X", [1, 4], "BYTES", ["a", "b", "c", "d"])], "X", "got BYTES"),
        ([_tensor("X", [1, 3], "FP32", [1, 2, 3])], "X", "does not fit the model's [-1, 4]"),
        ([_tensor("X", [2, 4], "FP32", [1, 2, 3, 4])], "X", "needs 8 values, got 4"),
        ([_tensor("X", [1, 4], "FP32", [1, 2, "x", 4])], "X", "holds 'x'"),
        ([_tensor("X", [1, 4], "XX", [1, 2, 3, 4])], "X", "unknown datatype"),
    ],
)
def test_oip_refusals_name_the_tensor(inputs: list[Any], name: str, words: str) -> None:
    err = refused({"inputs": inputs}, protocol=OIP)
    assert f"input {name!r}" in err.message and words in err.message, err.message
    assert orjson.loads(OIP.error_body(err.code, err.message)) == {"error": err.message}


def _binary(doc: dict[str, Any], *chunks: bytes) -> tuple[bytes, int]:
    """A binary-extension body: the JSON, then the chunks; and the JSON's length."""
    head = orjson.dumps(doc)
    return head + b"".join(chunks), len(head)


def _bin_tensor(name: str, shape: list[int], datatype: str, size: int) -> dict[str, Any]:
    return {
        "name": name,
        "shape": shape,
        "datatype": datatype,
        "parameters": {"binary_data_size": size},
    }


def _strings(*values: str) -> bytes:
    return b"".join(len(v.encode()).to_bytes(4, "little") + v.encode() for v in values)


def test_oip_binary_tensor_extension() -> None:
    rows = np.asarray(ROWS, dtype=np.float32)
    body, n = _binary({"inputs": [_bin_tensor("X", [2, 4], "FP32", 32)]}, rows.tobytes())
    batch = OIP.decode(body, _inputs("iris"), n)
    assert batch.rows == 2 and np.array_equal(batch.feeds["X"], rows)
    doubles = rows.astype("<f8")  # little-endian FP64 for a float32 input: cast
    body, n = _binary({"inputs": [_bin_tensor("X", [2, 4], "FP64", 64)]}, doubles.tobytes())
    assert np.array_equal(OIP.decode(body, _inputs("iris"), n).feeds["X"], rows)
    mixed = {
        "inputs": [
            _bin_tensor("age", [2, 1], "INT64", 16),
            _tensor("income", [2, 1], "FP32", [1.0, 2.5]),  # JSON and binary inputs mixed
            _bin_tensor("city", [2, 1], "BYTES", len(_strings("lima", "são paulo"))),
        ]
    }
    ages = np.asarray([[30], [41]], dtype="<i8").tobytes()
    body, n = _binary(mixed, ages, _strings("lima", "são paulo"))
    feeds = OIP.decode(body, _inputs("mixed"), n).feeds
    assert feeds["age"].tolist() == [[30], [41]] and feeds["city"].tolist() == [
        ["lima"],
        ["são paulo"],
    ]
    assert feeds["income"].tolist() == [[1.0], [2.5]]


@pytest.mark.parametrize(
    ("doc", "chunks", "words"),
    [
        ({"inputs": [_bin_tensor("X", [2, 4], "FP32", 30)]}, [b"\0" * 30], "does not fit shape"),
        ({"inputs": [_bin_tensor("X", [2, 4], "FP32", 40)]}, [b"\0" * 32], "past the end"),
        ({"inputs": [_bin_tensor("X", [2, 4], "FP32", 32)]}, [b"\0" * 36], "4 bytes after"),
        ({"inputs": [_bin_tensor("X", [1, 4], "FP32", -1)]}, [], "byte count"),
        ({"inputs": [_bin_tensor("X", [1, 4], "BYTES", 8)]}, [b"\0" * 8], "got BYTES"),
    ],
)
def test_oip_binary_refusals(doc: dict[str, Any], chunks: list[bytes], words: str) -> None:
    body, n = _binary(doc, *chunks)
    with pytest.raises(InvalidArgument, match=words):
        OIP.decode(body, _inputs("iris"), n)
    with pytest.raises(InvalidArgument, match="more than the body"):
        OIP.decode(body, _inputs("iris"), len(body) + 1)


def test_oip_binary_strings_are_checked() -> None:
    doc = {
        "inputs": [
            _tensor("age", [1, 1], "INT64", [30]),
            _tensor("income", [1, 1], "FP32", [1.0]),
            _bin_tensor("city", [1, 1], "BYTES", 6),
        ]
    }
    for chunk, words in ((b"\x09\0\0\0li", "cut short"), (b"\x02\0\0\0\xff\xfe", "not UTF-8")):
        body, n = _binary(doc, chunk)
        with pytest.raises(InvalidArgument, match=words):
            OIP.decode(body, _inputs("mixed"), n)


def test_oip_binary_outputs_when_asked() -> None:
    rows = np.asarray(ROWS, dtype=np.float32)
    outputs = [np.array([0, 2]), np.asarray([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]], np.float32)]
    answer = Answer("ep", "blue", "iris", 3, ["label", "probabilities"], outputs, "probabilities")
    asked = {
        "inputs": [_tensor("X", [2, 4], "FP32", rows.ravel().tolist())],
        "outputs": [
            {"name": "label", "parameters": {"binary_data": True}},
            {"name": "probabilities"},
        ],
    }
    batch = OIP.decode(orjson.dumps(asked), _inputs("iris"))
    assert batch.binary == frozenset({"label"})
    payload = OIP.encode(batch, answer)
    assert isinstance(payload, Payload) and payload.content_type == b"application/octet-stream"
    ((header, size),) = payload.headers
    head, raw = payload[: int(size)], payload[int(size) :]
    assert header == b"inference-header-content-length"
    doc = orjson.loads(head)
    label, proba = doc["outputs"]
    assert label["parameters"] == {"binary_data_size": 16} and "data" not in label
    assert np.frombuffer(raw, "<i8").tolist() == [0, 2]
    assert proba["data"] == pytest.approx([0.9, 0.1, 0.0, 0.0, 0.2, 0.8])
    every = {"inputs": asked["inputs"], "parameters": {"binary_data_output": True}}
    payload = OIP.encode(OIP.decode(orjson.dumps(every), _inputs("iris")), answer)
    assert isinstance(payload, Payload)
    head_size = int(dict(payload.headers)[b"inference-header-content-length"])
    sizes = [
        o["parameters"]["binary_data_size"] for o in orjson.loads(payload[:head_size])["outputs"]
    ]
    assert sizes == [16, 24] and len(payload) == head_size + 40
    plain = OIP.encode(
        OIP.decode(orjson.dumps({"inputs": asked["inputs"]}), _inputs("iris")), answer
    )
    assert not isinstance(plain, Payload) and orjson.loads(plain)["outputs"][0]["data"] == [0, 2]
    with pytest.raises(InvalidArgument, match="binary_data_output must be true or false"):
        OIP.decode(
            orjson.dumps({**every, "parameters": {"binary_data_output": "yes"}}), _inputs("iris")
        )


def test_oip_binary_string_outputs_are_length_prefixed() -> None:
    from trainyard.serving.protocols.oip import binary_array, binary_bytes

    values = np.asarray(["lima", "são paulo", ""], dtype=np.object_)
    raw = binary_bytes(values)
    assert raw[:8] == b"\x04\0\0\0lima"
    assert binary_array("c", "BYTES", [3], memoryview(raw)).tolist() == values.tolist()
