"""A version's signature, read from its ONNX graph: what goes in and what comes out.

::

    {"inputs":  [{"name": "X", "type": "float32", "shape": [null, 20]}],
     "outputs": [{"name": "label", "type": "int64", "shape": [null]},
                 {"name": "probabilities", "type": "float32", "shape": [null, 2]}],
     "feature_names": ["age", "income", ...] | null,
     "opset": {"": 17, "ai.onnx.ml": 3}, "producer": "skl2onnx 1.20.0"}

``feature_names`` come from the ``trainyard.feature_names`` metadata entry that
:func:`trainyard.onnx.convert` writes when the sample was a DataFrame, else from the input names
when the model takes one input per column; otherwise they are unknown (null).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import onnx

FEATURE_NAMES_KEY = "trainyard.feature_names"
"""The ONNX metadata entry holding the column names of a single-tensor input, as JSON."""


def _type_name(type_proto: Any) -> str:
    import onnx.helper

    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        if type_proto.tensor_type.elem_type == onnx.TensorProto.STRING:
            return "string"
        return str(onnx.helper.tensor_dtype_to_np_dtype(type_proto.tensor_type.elem_type))
    if kind == "sequence_type":
        return f"sequence({_type_name(type_proto.sequence_type.elem_type)})"
    if kind == "map_type":
        key = onnx.helper.tensor_dtype_to_np_dtype(type_proto.map_type.key_type)
        key_name = "string" if type_proto.map_type.key_type == onnx.TensorProto.STRING else key
        return f"map({key_name}, {_type_name(type_proto.map_type.value_type)})"
    return kind or "unknown"


def _shape(type_proto: Any) -> list[int | str | None] | None:
    if type_proto.WhichOneof("value") != "tensor_type" or not type_proto.tensor_type.HasField(
        "shape"
    ):
        return None
    dims: list[int | str | None] = []
    for d in type_proto.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param") and d.dim_param not in ("N", "None", "?"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def _spec(value: Any) -> dict[str, Any]:
    return {"name": value.name, "type": _type_name(value.type), "shape": _shape(value.type)}


def signature_of(model: onnx.ModelProto) -> dict[str, Any]:
    """The signature of an ONNX model (see the module docstring for its shape)."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [_spec(v) for v in model.graph.input if v.name not in initializers]
    outputs = [_spec(v) for v in model.graph.output]
    meta = {p.key: p.value for p in model.metadata_props}
    feature_names: list[str] | None = None
    if FEATURE_NAMES_KEY in meta:
        try:
            names = json.loads(meta[FEATURE_NAMES_KEY])
            if isinstance(names, list) and all(isinstance(n, str) for n in names):
                feature_names = names
        except ValueError:
            feature_names = None
    elif len(inputs) > 1 and all((i["shape"] or [None, 1])[-1] == 1 for i in inputs):
        feature_names = [i["name"] for i in inputs]
    producer = f"{model.producer_name} {model.producer_version}".strip()
    return {
        "inputs": inputs,
        "outputs": outputs,
        "feature_names": feature_names,
        "opset": {o.domain: int(o.version) for o in model.opset_import},
        "producer": producer or None,
    }
