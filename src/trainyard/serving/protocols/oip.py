"""The Open Inference Protocol v2 (KServe, Triton, MLServer), REST/JSON form.

``POST /v2/models/{name}/infer``::

    {"id": "42",                                            (optional, echoed back)
     "inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32",
                 "data": [5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3]}],   (flat or nested)
     "outputs": [{"name": "label"}]}                        (optional: which outputs)

    -> {"model_name": "iris", "model_version": "3", "id": "42",
        "parameters": {"deployment": "blue"},
        "outputs": [{"name": "label", "shape": [2], "datatype": "INT64", "data": [0, 1]}]}

``{name}`` is the endpoint. Every model input must be sent once, by name, with a datatype
that suits it (numeric datatypes for numeric inputs, ``BYTES`` for strings) and a shape whose
rank and fixed sizes match the model's; the data must hold exactly that many values. Errors
answer ``{"error": "<message>"}``, the protocol's format.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson

from trainyard.errors import InvalidArgument
from trainyard.serving.inputs import ModelInputs, TensorInput
from trainyard.serving.protocols._base import Answer, Batch, Payload, ScoringProtocol
from trainyard.serving.protocols.native import parse_json

DATATYPES: dict[str, Any] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}
_ACCEPTS = {  # the datatypes each kind of model input takes
    "f": {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32"},
    "i": {"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32"},
    "b": {"BOOL"},
    "O": {"BYTES"},
}
_KINDS = {"f": "fiub", "i": "iu", "b": "b"}  # numpy kinds of JSON data each input kind takes
_NAMES = {np.dtype(v).name: k for k, v in DATATYPES.items() if k != "BYTES"}


def datatype_of(dtype: Any) -> str:
    """The OIP datatype of a numpy dtype (``BYTES`` for strings and objects)."""
    return _NAMES.get(np.dtype(dtype).name, "BYTES")


def _bad(name: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"input {name!r}: {message}", {"column": name})


def tensor_feed(spec: Any, t: TensorInput, binary: memoryview | None = None) -> np.ndarray:
    """The array for one request input, checked against the model input ``t``; its values come
    from ``data``, or from ``binary`` (its bytes in the binary tensor extension)."""
    datatype, shape, data = spec.get("datatype"), spec.get("shape"), spec.get("data")
    if datatype not in DATATYPES:
        raise _bad(t.name, f"unknown datatype {datatype!r} (one of {sorted(DATATYPES)})")
    if datatype not in _ACCEPTS.get(t.kind, set()):
        want = sorted(_ACCEPTS.get(t.kind, set()))
        raise _bad(t.name, f"takes {np.dtype(t.dtype).name} ({', '.join(want)}), got {datatype}")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise _bad(t.name, f"shape must be a list of sizes, got {shape!r}")
    if len(shape) != len(t.shape) or any(
        w is not None and d != w for d, w in zip(shape, t.shape, strict=True)
    ):
        want_shape = [-1 if d is None else d for d in t.shape]
        raise _bad(t.name, f"shape {shape} does not fit the model's {want_shape}")
    if binary is not None:
        arr = binary_array(t.name, datatype, shape, binary)
        return arr if t.kind == "O" else arr.astype(t.dtype, copy=False)
    if not isinstance(data, list):
        raise _bad(t.name, "data must be a list (flat or nested, row-major)")
    try:
        arr = np.asarray(data, dtype=np.object_ if t.kind == "O" else None)
    except (ValueError, TypeError):
        raise _bad(t.name, "data is ragged: nested lists must all have the same length") from None
    if arr.size != math.prod(shape):
        raise _bad(t.name, f"shape {shape} needs {math.prod(shape)} values, got {arr.size}")
    if t.kind == "O":
        if not all(isinstance(v, str) for v in arr.flat):
            raise _bad(t.name, "BYTES data must be strings")
        return arr.reshape(shape)
    if arr.size and arr.dtype.kind not in _KINDS[t.kind]:
        values = np.asarray(data, dtype=np.object_).flat  # the JSON values, not numpy's casts
        allowed = {"f": (int, float, bool), "i": (int,), "b": (bool,)}[t.kind]
        wrong = next((v for v in values if type(v) not in allowed), arr.flat[0])
        raise _bad(t.name, f"{datatype} data holds {wrong!r}")
    return arr.astype(t.dtype, copy=False).reshape(shape)


def binary_array(name: str, datatype: str, shape: list[int], data: memoryview) -> np.ndarray:
    """A tensor from its binary form: little-endian values, row-major; ``BYTES`` elements are
    each a 4-byte little-endian length and that many UTF-8 bytes."""
    count = math.prod(shape)
    if datatype == "BYTES":
        values, at, raw = [], 0, bytes(data)
        while at < len(raw):
            size = int.from_bytes(raw[at : at + 4], "little") if at + 4 <= len(raw) else -1
            if size < 0 or at + 4 + size > len(raw):
                raise _bad(name, "BYTES binary data is cut short (4-byte length, then the bytes)")
            try:
                values.append(raw[at + 4 : at + 4 + size].decode())
            except UnicodeDecodeError:
                raise _bad(name, f"BYTES element {len(values)} is not UTF-8") from None
            at += 4 + size
        if len(values) != count:
            raise _bad(name, f"shape {shape} needs {count} values, got {len(values)}")
        return np.asarray(values, dtype=np.object_).reshape(shape)
    dtype = np.dtype(DATATYPES[datatype]).newbyteorder("<")
    if len(data) != count * dtype.itemsize:
        raise _bad(
            name,
            f"binary_data_size {len(data)} does not fit shape {shape} of {datatype} "
            f"({count * dtype.itemsize} bytes)",
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def binary_bytes(values: np.ndarray) -> bytes:
    """A flat tensor's binary form (the inverse of :func:`binary_array`)."""
    if values.dtype == np.object_ or values.dtype.kind in "SU":
        out: list[bytes] = []
        for v in values.tolist():
            data = v if isinstance(v, bytes) else str(v).encode()
            out += (len(data).to_bytes(4, "little"), data)
        return b"".join(out)
    return np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()


def _flag(doc: dict[str, Any], name: str) -> bool:
    """A boolean request parameter (``parameters.<name>``), false when absent."""
    parameters = doc.get("parameters")
    value = parameters.get(name) if isinstance(parameters, dict) else None
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"parameter {name} must be true or false, got {value!r}")
    return bool(value)


def binary_size(spec: dict[str, Any], name: str) -> int | None:
    """An input's ``parameters.binary_data_size`` (None when its data is JSON)."""
    parameters = spec.get("parameters")
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(name, f"binary_data_size must be a byte count, got {size!r}")
    return size


class OpenInferenceProtocol(ScoringProtocol):
    """Named tensors in, named tensors out."""

    name = "oip-v2"

    def decode(self, body: bytes, inputs: ModelInputs, json_length: int | None = None) -> Batch:
        """Match the request's tensors with the model's inputs, by name. With ``json_length``
        (the ``Inference-Header-Content-Length`` header), the body is that much JSON followed
        by the binary data of the inputs that give a ``binary_data_size``, in their order."""
        rest = memoryview(b"")
        if json_length is not None:
            if json_length > len(body):
                raise InvalidArgument(
                    f"Inference-Header-Content-Length {json_length} is more than the body's "
                    f"{len(body)} bytes"
                )
            body, rest = body[:json_length], memoryview(body)[json_length:]
        doc = parse_json(body)
        if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), list):
            raise InvalidArgument('an inference request is {"inputs": [{"name", "shape", ...}]}')
        given: dict[str, Any] = {}
        binaries: dict[str, memoryview] = {}
        at = 0
        for spec in doc["inputs"]:
            name = spec.get("name") if isinstance(spec, dict) else None
            if not isinstance(name, str):
                raise InvalidArgument("each input needs a name, a shape, a datatype and data")
            if name in given:
                raise _bad(name, "is given twice")
            given[name] = spec
            size = binary_size(spec, name)
            if size is not None:
                if at + size > len(rest):
                    raise _bad(name, f"binary_data_size {size} goes past the end of the body")
                binaries[name], at = rest[at : at + size], at + size
        if at != len(rest):
            raise InvalidArgument(
                f"the body has {len(rest) - at} bytes after the inputs' binary data "
                "(Inference-Header-Content-Length or a binary_data_size is wrong)"
            )
        by_name = {t.name: t for t in inputs.tensors}
        for name in given:
            if name not in by_name:
                raise _bad(name, f"is not an input of this model (its inputs: {list(by_name)})")
        feeds: dict[str, np.ndarray] = {}
        for t in inputs.tensors:
            if t.name not in given:
                raise _bad(t.name, "is missing")
            feeds[t.name] = tensor_feed(given[t.name], t, binaries.get(t.name))
        rows = {a.shape[0] if a.ndim else 1 for a in feeds.values()}
        if len(rows) > 1:
            raise InvalidArgument(f"the inputs have different row counts {sorted(rows)}")
        wanted = None
        binary: frozenset[str] | bool = _flag(doc, "binary_data_output")
        if isinstance(doc.get("outputs"), list):
            asked = [o for o in doc["outputs"] if isinstance(o, dict)]
            wanted = tuple(str(o.get("name")) for o in asked)
            if binary is False:
                binary = frozenset(str(o.get("name")) for o in asked if _flag(o, "binary_data"))
        request_id = doc.get("id")
        return Batch(
            feeds,
            rows.pop(),
            None if request_id is None else str(request_id),
            wanted,
            binary or frozenset(),
        )

    def encode(self, batch: Batch, answer: Answer) -> bytes:
        """Every output (or the ones asked for), flat, row-major; the ones asked for as binary
        after the JSON (a :class:`Payload` with ``Inference-Header-Content-Length``)."""
        outputs = []
        chunks: list[bytes] = []
        for name, value in zip(answer.output_names, answer.outputs, strict=True):
            if batch.wanted is not None and name not in batch.wanted:
                continue
            arr = np.asarray(value) if not isinstance(value, list) else value
            if isinstance(arr, list):  # a ZipMap's list of dicts: not a tensor
                outputs.append(
                    {
                        "name": name,
                        "shape": [len(arr)],
                        "datatype": "BYTES",
                        "data": [
                            orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode() for v in arr
                        ],
                    }
                )
                continue
            data: Any = arr.ravel()
            entry: dict[str, Any] = {
                "name": name,
                "shape": list(arr.shape),
                "datatype": datatype_of(arr.dtype),
            }
            if batch.binary is True or (batch.binary and name in batch.binary):
                raw = binary_bytes(data)
                entry["parameters"] = {"binary_data_size": len(raw)}
                chunks.append(raw)
            else:
                entry["data"] = data.tolist() if data.dtype == np.object_ else data
            outputs.append(entry)
        if batch.wanted is not None:
            unknown = sorted(set(batch.wanted) - set(answer.output_names))
            if unknown:
                raise InvalidArgument(
                    f"output {unknown[0]!r} is not an output of this model "
                    f"(its outputs: {answer.output_names})",
                    {"column": unknown[0]},
                )
        doc: dict[str, Any] = {
            "model_name": answer.endpoint,
            "model_version": str(answer.model_version),
            "parameters": {"deployment": answer.deployment, "model": answer.model_name},
            "outputs": outputs,
        }
        if batch.request_id is not None:
            doc["id"] = batch.request_id
        head = orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
        if not chunks:
            return head
        size = (b"inference-header-content-length", str(len(head)).encode())
        return Payload.of(head + b"".join(chunks), b"application/octet-stream", (size,))

    def error_body(self, code: str, message: str, details: Any = None) -> bytes:
        """The protocol's ``{"error": "<message>"}``."""
        return orjson.dumps({"error": message})


def tensor_metadata(t: TensorInput) -> dict[str, Any]:
    """An input's ``{"name", "datatype", "shape"}`` for the model metadata route."""
    return {
        "name": t.name,
        "datatype": datatype_of(t.dtype),
        "shape": [-1 if d is None else d for d in t.shape],
    }
