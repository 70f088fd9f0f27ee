"""The acceptance check of an ONNX file: the ONNX checker, then an ONNX Runtime session.

A file is accepted only if ``onnx`` parses it, ``onnx.checker.check_model`` passes and
``onnxruntime.InferenceSession`` loads it; each refusal is an ``InvalidArgument`` that names the
step that failed (``details.check``: ``empty``, ``parse``, ``external_data``, ``onnx.checker``
or ``onnxruntime``) and what it said. onnx and onnxruntime are imported on first use, so the
server starts without paying for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainyard.errors import InvalidArgument
from trainyard.registry.signature import signature_of

MAX_ONNX_BYTES = 2**31 - 1
"""Protobuf's limit for one message; larger models need external data, which is refused."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def inspect_onnx(path: Path, label: str = "the file") -> dict[str, Any]:
    """Check the ONNX file at ``path`` and return its signature.

    Args:
        path: a local file.
        label: how to name the file in error messages, e.g. ``"the upload"``.

    Raises:
        InvalidArgument: the file is empty, not ONNX, refused by the checker, or not loadable by
            ONNX Runtime; ``details`` says which check failed and what it reported.
    """
    import onnx
    import onnx.checker
    import onnxruntime as ort

    size = path.stat().st_size
    if size == 0:
        raise InvalidArgument(f"{label} is empty: send the bytes of an .onnx file", _d("empty"))
    if size > MAX_ONNX_BYTES:
        raise InvalidArgument(f"{label} is {size} bytes; the limit is 2 GiB", _d("size"))
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise InvalidArgument(
            f"{label} is not an ONNX model: its bytes do not parse as an onnx.ModelProto "
            f"({_first_line(exc)})",
            _d("parse", exc),
        ) from None
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        raise InvalidArgument(
            f"{label} keeps tensors in external files; save it as one file "
            "(onnx.save(model, path, save_as_external_data=False))",
            _d("external_data"),
        )
    try:
        onnx.checker.check_model(model)
    except Exception as exc:
        raise InvalidArgument(
            f"{label} fails the ONNX checker: {_first_line(exc)}", _d("onnx.checker", exc)
        ) from None
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise InvalidArgument(
            f"{label} passes the ONNX checker but ONNX Runtime cannot load it: {_first_line(exc)}",
            _d("onnxruntime", exc),
        ) from None
    return signature_of(model)


def _d(check: str, exc: BaseException | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"check": check}
    if exc is not None:
        details["problem"] = str(exc).strip()[:2000]
    return details
