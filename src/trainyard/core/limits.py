"""Size limits, the same as MLflow's so that anything one accepts the other accepts too."""

from __future__ import annotations

import math
import re

from trainyard.core.entities import DatasetInput
from trainyard.errors import InvalidArgument

MAX_NAME_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 5000
MAX_KEY_LENGTH = 250
MAX_METRICS_PER_BATCH = 10_000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_RESULTS = 50_000
DEFAULT_RESULTS = 1_000
FLOAT_MAX = 1.7976931348623157e308
MAX_DATASETS_PER_REQUEST = 1000
MAX_MODEL_INPUTS_PER_REQUEST = 1000
MAX_MODEL_ID_LENGTH = 34  # "m-" and 32 hex characters, the width of the logged models' key
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_TYPE_LENGTH = 36  # the width of MLflow's column
MAX_DATASET_SOURCE_LENGTH = 65_535
MAX_DATASET_SCHEMA_LENGTH = 1_048_575
MAX_DATASET_PROFILE_LENGTH = 16_777_215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

_KEY_RE = re.compile(r"^[\w\-. /:]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")


def check_key(kind: str, key: object) -> str:
    """A metric, param or tag key: non-empty, at most 250 characters, no path tricks."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"{kind} key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"{kind} key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_LENGTH}"
        )
    if not _KEY_RE.match(key) or ".." in key.split("/") or key.startswith("/"):
        raise InvalidArgument(
            f"{kind} key {key!r} may only contain letters, digits, '_', '-', '.', ' ', '/' and ':'"
        )
    return key


def check_value(kind: str, key: str, value: object, limit: int) -> str:
    """A param or tag value: a string of at most ``limit`` characters."""
    if not isinstance(value, str):
        raise InvalidArgument(
            f"{kind} {key!r} must have a string value, got {type(value).__name__}"
        )
    if "\x00" in value:
        raise InvalidArgument(f"{kind} {key!r} has a NUL character in its value; remove it")
    if len(value) > limit:
        raise InvalidArgument(
            f"{kind} {key!r} has a value of {len(value)} characters; the limit is {limit}"
        )
    return value


def clamp_metric(value: float) -> float:
    """Infinities are stored clamped to the largest double, as MLflow's SQL store does."""
    if math.isinf(value):
        return FLOAT_MAX if value > 0 else -FLOAT_MAX
    return value


def check_workspace_name(name: str) -> str:
    """A workspace name: letters, digits, '_', '.', '-'; at most 63 characters."""
    if not _NAME_RE.match(name):
        raise InvalidArgument(
            f"workspace name {name!r} must start with a letter or digit and use only letters, "
            "digits, '_', '.' and '-' (63 characters at most)"
        )
    return name


def check_name(kind: str, name: object) -> str:
    """An experiment or run name: non-empty, at most 250 characters."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"{kind} name must be a non-empty string")
    if "\x00" in name:
        raise InvalidArgument(f"{kind} name has a NUL character; remove it")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"{kind} name is {len(name)} characters; the limit is 250")
    return name


def _check_text(field: str, value: object, limit: int, required: bool) -> None:
    if value is None or value == "":
        if required:
            raise InvalidArgument(f"Missing value for required parameter '{field}'")
        return
    if not isinstance(value, str):
        raise InvalidArgument(f"'{field}' must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidArgument(f"'{field}' has a NUL character; remove it")
    if len(value) > limit:
        raise InvalidArgument(f"'{field}' is {len(value)} characters; the limit is {limit}")


def check_dataset_inputs(inputs: list[DatasetInput]) -> list[DatasetInput]:
    """Dataset inputs within MLflow's limits; InvalidArgument naming the field otherwise.

    Fields are named as in MLflow's request, e.g. ``datasets[0].dataset.digest``.
    """
    if len(inputs) > MAX_DATASETS_PER_REQUEST:
        raise InvalidArgument(
            f"{len(inputs)} dataset inputs in one request; the limit is {MAX_DATASETS_PER_REQUEST}"
        )
    for i, item in enumerate(inputs):
        d, at = item.dataset, f"datasets[{i}].dataset"
        _check_text(f"{at}.name", d.name, MAX_DATASET_NAME_LENGTH, True)
        _check_text(f"{at}.digest", d.digest, MAX_DATASET_DIGEST_LENGTH, True)
        _check_text(f"{at}.source_type", d.source_type, MAX_DATASET_SOURCE_TYPE_LENGTH, True)
        _check_text(f"{at}.source", d.source, MAX_DATASET_SOURCE_LENGTH, True)
        _check_text(f"{at}.schema", d.schema, MAX_DATASET_SCHEMA_LENGTH, False)
        _check_text(f"{at}.profile", d.profile, MAX_DATASET_PROFILE_LENGTH, False)
        for key, value in item.tags.items():
            _check_text(f"datasets[{i}].tags.key", key, MAX_INPUT_TAG_KEY_LENGTH, True)
            if not isinstance(value, str):
                raise InvalidArgument(f"datasets[{i}].tags {key!r} must have a string value")
            _check_text(f"datasets[{i}].tags.value", value, MAX_INPUT_TAG_VALUE_LENGTH, False)
    return inputs


def check_model_inputs(model_ids: list[str]) -> list[str]:
    """Logged-model ids a run used, each a non-empty string of at most 34 characters.

    InvalidArgument names the field as in MLflow's request, e.g. ``models[0].model_id``.
    """
    if len(model_ids) > MAX_MODEL_INPUTS_PER_REQUEST:
        raise InvalidArgument(
            f"{len(model_ids)} model inputs in one request; the limit is "
            f"{MAX_MODEL_INPUTS_PER_REQUEST}"
        )
    for i, model_id in enumerate(model_ids):
        _check_text(f"models[{i}].model_id", model_id, MAX_MODEL_ID_LENGTH, True)
    return model_ids
