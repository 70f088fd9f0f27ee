"""The parity check: the native model and its ONNX conversion must predict the sample alike.

Rules:

- **Labels** (classifiers) must match exactly, row for row (compared as numbers when both sides
  are numeric, else as strings).
- **Values** (regressors) and **probabilities** (classifiers whose native model has
  ``predict_proba``) must agree within ``|onnx - native| <= atol + rtol * |native|`` elementwise,
  NumPy's ``isclose`` rule. The defaults, ``rtol=1e-4`` and ``atol=1e-5``, allow for ONNX Runtime
  computing in float32 where scikit-learn computes in float64 (float32 carries about 7 significant
  digits; sums over hundreds of trees lose a few of them) and nothing more.

The result records the sample size, the tolerance, the largest absolute and relative
differences, the number of mismatching labels and values, and whether it passed; it is stored on
the registered version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trainyard.registry.runtime import OnnxModel

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5


@dataclass(frozen=True)
class ParityResult:
    """The outcome of one parity check."""

    passed: bool
    rows: int
    rtol: float
    atol: float
    compared: list[str]
    label_mismatches: int
    value_mismatches: int
    max_abs_diff: float
    max_rel_diff: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored on a model version."""
        return asdict(self)

    def summary(self) -> str:
        """One line for people."""
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"parity {verdict} on {self.rows} rows ({', '.join(self.compared)}): "
            f"{self.label_mismatches} label mismatches, {self.value_mismatches} values off, "
            f"max abs diff {self.max_abs_diff:.3g}, max rel diff {self.max_rel_diff:.3g} "
            f"(rtol {self.rtol:g}, atol {self.atol:g})"
        )


def _is_classifier(model: Any) -> bool:
    try:
        from sklearn.base import is_classifier

        if is_classifier(model):
            return True
    except Exception:  # not a scikit-learn-style model, or sklearn missing
        pass
    return hasattr(model, "classes_") and hasattr(model, "predict_proba")


def _labels_mismatch(native: np.ndarray, onnx: np.ndarray) -> int:
    native, onnx = native.ravel(), onnx.ravel()
    if native.shape != onnx.shape:
        return max(len(native), len(onnx))
    if native.dtype.kind in "iufb" and onnx.dtype.kind in "iufb":
        return int(np.count_nonzero(native.astype(np.float64) != onnx.astype(np.float64)))
    return int(np.count_nonzero(native.astype(str) != onnx.astype(str)))


def _compare(native: Any, onnx: Any, rtol: float, atol: float) -> tuple[int, float, float]:
    a = np.asarray(native, dtype=np.float64)
    b = np.asarray(onnx, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a.ravel()
    if b.ndim == 2 and b.shape[1] == 1:
        b = b.ravel()
    if a.shape != b.shape:
        return max(a.size, b.size), float("inf"), float("inf")
    diff = np.abs(a - b)
    bad = int(np.count_nonzero(~(diff <= atol + rtol * np.abs(a))))  # NaN counts as bad
    big = np.abs(a) > atol  # relative differences of values near zero say nothing
    rel = diff[big] / np.abs(a[big])
    return bad, float(np.max(diff, initial=0.0)), float(np.max(rel, initial=0.0))


def check_parity(
    native: Any,
    onnx_model: Any,
    sample: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> ParityResult:
    """Compare ``native`` with its ONNX conversion on ``sample``.

    Args:
        native: the fitted model (anything with ``predict``).
        onnx_model: an ``onnx.ModelProto``, its bytes, or an :class:`OnnxModel`.
        sample: rows of the model's input (DataFrame or array), as given to the converter.
        rtol: relative tolerance for values and probabilities.
        atol: absolute tolerance for values and probabilities.

    Example::

        result = check_parity(model, trainyard.onnx.convert(model, X[:500]), X[:500])
        assert result.passed, result.summary()
    """
    session = onnx_model if isinstance(onnx_model, OnnxModel) else OnnxModel(_bytes(onnx_model))
    outputs = session.run(sample)
    first = np.asarray(outputs[session.outputs[0]])
    rows = len(first)
    compared: list[str] = []
    label_bad = value_bad = 0
    max_abs = max_rel = 0.0
    if _is_classifier(native):
        compared.append("labels")
        label_bad = _labels_mismatch(np.asarray(native.predict(sample)), first)
        proba_name = session.proba_output
        native_proba = None
        if proba_name is not None and hasattr(native, "predict_proba"):
            try:
                native_proba = native.predict_proba(sample)
            except AttributeError:  # e.g. SVC(probability=False): labels only
                native_proba = None
        if native_proba is not None and proba_name is not None:
            compared.append("probabilities")
            onnx_proba = outputs[proba_name]
            value_bad, max_abs, max_rel = _compare(native_proba, onnx_proba, rtol, atol)
    else:
        compared.append("values")
        value_bad, max_abs, max_rel = _compare(native.predict(sample), first, rtol, atol)
    return ParityResult(
        passed=label_bad == 0 and value_bad == 0,
        rows=rows,
        rtol=rtol,
        atol=atol,
        compared=compared,
        label_mismatches=label_bad,
        value_mismatches=value_bad,
        max_abs_diff=max_abs,
        max_rel_diff=max_rel,
    )


def _bytes(onnx_model: Any) -> bytes:
    if isinstance(onnx_model, bytes):
        return onnx_model
    return bytes(onnx_model.SerializeToString())
