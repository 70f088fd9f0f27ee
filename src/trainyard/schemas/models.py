"""Request and response models of the model registry API (``/models``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from trainyard.core.registry import ModelSource, ModelVersionStatus

ModelName = Annotated[str, Field(min_length=1, max_length=200)]


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True, ser_json_inf_nan="strings")


class ModelCreate(BaseModel):
    """Body of ``POST /models``."""

    model_config = ConfigDict(extra="forbid")
    name: ModelName
    description: str = Field(default="", max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)


class ModelUpdate(BaseModel):
    """Body of ``PATCH /models/{name}``: a new description and/or tags to set."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(default=None, max_length=5000)
    tags: dict[str, str] | None = None


class RegisteredModel(_Public):
    """A registered model with its aliases (alias -> version)."""

    workspace: str
    name: str
    description: str
    created_at: int
    updated_at: int
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, int] = Field(default_factory=dict)
    latest_version: int | None = None
    version_count: int = 0


class RegisteredModelList(BaseModel):
    """A page of registered models."""

    models: list[RegisteredModel]
    next_page_token: str | None = None


class TensorSpec(BaseModel):
    """One input or output of an ONNX graph."""

    name: str
    type: str = Field(description="float32, int64, string, ...")
    shape: list[int | str | None] | None = Field(
        default=None, description="null for a dimension of any size (usually the rows)"
    )


class Signature(BaseModel):
    """What a version takes and returns, read from its ONNX graph by the server."""

    inputs: list[TensorSpec] = Field(default_factory=list)
    outputs: list[TensorSpec] = Field(default_factory=list)
    feature_names: list[str] | None = None
    opset: dict[str, int] = Field(default_factory=dict)
    producer: str | None = None


class Parity(_Public):
    """The parity check of a conversion: native model vs ONNX Runtime on a sample."""

    passed: bool
    rows: int = Field(ge=0)
    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)
    compared: list[str] = Field(default_factory=list)
    label_mismatches: int = Field(default=0, ge=0)
    value_mismatches: int = Field(default=0, ge=0)
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0


class ModelVersionFromRun(BaseModel):
    """Body of ``POST /models/{name}/versions``: register the ONNX file a run logged.

    The client converts the model (the native object lives in its process), logs the .onnx file
    as an artifact of the run and reports the parity result; the server checks the file and reads
    its signature itself. ``failure`` instead of a file records a FAILED version.
    """

    model_config = ConfigDict(extra="forbid")
    run_id: str = Field(min_length=1, max_length=32)
    artifact_path: str | None = Field(default=None, max_length=1000)
    native_artifact_path: str | None = Field(default=None, max_length=1000)
    parity: Parity | None = None
    force: bool = False
    description: str = Field(default="", max_length=5000)
    tags: dict[str, str] = Field(default_factory=dict)
    failure: str | None = Field(default=None, max_length=8000)


class ModelVersion(_Public):
    """One version of a registered model."""

    model_id: str
    workspace: str
    name: str
    version: int
    source: ModelSource
    status: ModelVersionStatus
    status_reason: str | None = None
    format: str = "onnx"
    run_id: str | None = None
    artifact_path: str | None = None
    size: int | None = None
    sha256: str | None = None
    has_native: bool = False
    signature: Signature = Field(default_factory=Signature)
    metrics: dict[str, float] = Field(default_factory=dict)
    parity: Parity | None = None
    forced: bool = False
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    created_at: int


class ModelVersionList(BaseModel):
    """A page of a model's versions, newest first."""

    versions: list[ModelVersion]
    next_page_token: str | None = None


class AliasSet(BaseModel):
    """Body of ``PUT /models/{name}/aliases/{alias}``."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1)
