"""Model registry entities: registered models, their versions and aliases.

A registered model is a name in a workspace; each version gets the next number (numbers are never
reused, so ``churn:3`` never silently means another model), an opaque ``model_id``, one ONNX file
(and optionally the native pickle beside it), the signature read from the ONNX graph, the latest
metrics of the run it came from, and the result of the parity check made when it was converted.
Aliases point at one version each. Times are UTC milliseconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ModelVersionStatus(enum.StrEnum):
    """READY versions can be loaded; a FAILED one records why its registration failed."""

    READY = "READY"
    FAILED = "FAILED"


class ModelSource(enum.StrEnum):
    """Where a version's file came from."""

    RUN = "run"
    UPLOAD = "upload"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model of a workspace, with its aliases (alias -> version number)."""

    workspace: str
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None
    version_count: int = 0


@dataclass(frozen=True, slots=True)
class NewModelVersion:
    """What a store needs to record a version (the number and id are allotted by the store)."""

    source: ModelSource
    run_id: str | None = None
    artifact_path: str | None = None
    size: int | None = None
    sha256: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    parity: dict[str, Any] | None = None
    forced: bool = False
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_reason: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    format: str = "onnx"


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One version of a registered model.

    ``storage_key`` is the ONNX file's key in the artifact store (None for a FAILED version);
    ``native_key`` the native pickle's, when it was kept.
    """

    model_id: str
    workspace: str
    name: str
    version: int
    source: ModelSource
    status: ModelVersionStatus
    created_at: int
    format: str = "onnx"
    run_id: str | None = None
    artifact_path: str | None = None
    storage_key: str | None = None
    native_key: str | None = None
    size: int | None = None
    sha256: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    parity: dict[str, Any] | None = None
    forced: bool = False
    status_reason: str | None = None
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


def parity_refusal_message(name: str, parity: dict[str, Any]) -> str:
    """Why a version whose parity check failed is refused (the same words on both sides)."""
    return (
        f"model {name!r}: the ONNX conversion does not match the native model on the sample "
        f"({parity.get('label_mismatches', 0)} label mismatches, "
        f"{parity.get('value_mismatches', 0)} values off; max abs diff "
        f"{parity.get('max_abs_diff')}, tolerance rtol {parity.get('rtol')} atol "
        f"{parity.get('atol')}); fix the conversion, or register with force=True to keep it "
        "anyway (the version will say it was forced)"
    )
