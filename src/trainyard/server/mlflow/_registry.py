"""Trainyard's model registry as MLflow shows it: one registry, two views.

A registered model and its versions are Trainyard's (same names, same version numbers, same
aliases, tags and descriptions). What MLflow has and Trainyard's registry does not is kept in
tags under ``trainyard.mlflow.``, which Trainyard shows and MLflow's view hides (and refuses to
set): a version's ``source`` URI and the URI its files download from, the MLflow 3 logged model
behind it, its ``run_link``, a run id that is not one of the workspace's runs, the deprecated
stage, and aliases on versions Trainyard cannot alias (model tags ``trainyard.mlflow.alias.<a>``).

Statuses: a version registered through MLflow is READY for MLflow as soon as it is recorded,
since its MLflow files are in place, even when Trainyard could not convert it to ONNX (then it is
FAILED in Trainyard, and ``status_message`` says why). A FAILED version made through Trainyard's
own API has no MLflow files: MLflow sees ``FAILED_REGISTRATION``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from trainyard.core.filters import Attributes, OrderBy, parse_filter, parse_order_by
from trainyard.core.matching import filter_items, order_items
from trainyard.core.model_ref import check_alias as check_trainyard_alias
from trainyard.core.model_ref import check_version
from trainyard.core.paging import decode_token, encode_token
from trainyard.core.registry import ModelVersion, ModelVersionStatus, RegisteredModel
from trainyard.errors import InvalidArgument
from trainyard.registry import RegistryService
from trainyard.server.mlflow._wire import Message

T = TypeVar("T")

HIDDEN = "trainyard.mlflow."
SOURCE_TAG = HIDDEN + "source"
STORAGE_TAG = HIDDEN + "storage"
MODEL_ID_TAG = HIDDEN + "model_id"
RUN_ID_TAG = HIDDEN + "run_id"
RUN_LINK_TAG = HIDDEN + "run_link"
STAGE_TAG = HIDDEN + "stage"
ALIAS_TAG = HIDDEN + "alias."
PROMPT_TAG = "mlflow.prompt.is_prompt"
STAGES = ("None", "Staging", "Production", "Archived")


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


# ---------------------------------------------------------------- request fields
def user_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Tags a caller sets through MLflow (the ``trainyard.mlflow.`` ones are the server's)."""
    tags = dict(pairs)
    for key in tags:
        check_tag_key(key)
    return tags


def check_tag_key(key: str) -> str:
    """A tag key a caller may set or delete through MLflow."""
    if key.startswith(HIDDEN):
        raise InvalidArgument(
            f"tag {key!r}: keys starting with {HIDDEN!r} are kept by the server for MLflow's view"
        )
    return key


def version_number(msg: Message) -> int:
    """The request's ``version`` (MLflow sends it as a string)."""
    text = msg.need("version")
    try:
        return check_version(text)
    except InvalidArgument:
        raise InvalidArgument(f"Parameter 'version' must be an integer, got {text!r}.") from None


def check_alias(alias: str) -> str:
    """MLflow's reserved aliases (``latest``, ``v<digits>``), then Trainyard's alias rules."""
    if alias.lower() == "latest":
        raise InvalidArgument("'latest' alias name (case insensitive) is reserved.")
    if alias[:1] in ("v", "V") and alias[1:].isdigit():
        raise InvalidArgument(f"Version alias name '{alias}' is reserved.")
    return check_trainyard_alias(alias)


def stage_name(value: str) -> str:
    """A stage in MLflow's spelling, from any case."""
    for stage in STAGES:
        if value.lower() == stage.lower():
            return stage
    raise InvalidArgument(f"Invalid Model Version stage: {value}. Value must be one of {STAGES}.")


def max_results(msg: Message, default: int, limit: int) -> int:
    """``max_results`` within MLflow's bounds for the route."""
    value = msg.integer("max_results") or default
    if not 1 <= value <= limit:
        raise InvalidArgument(
            f"Invalid value for request parameter max_results. It must be at most {limit}, "
            f"but got value {value}"
        )
    return value


# ---------------------------------------------------------------- registry reads
def all_versions(registry: RegistryService, workspace: str, name: str) -> list[ModelVersion]:
    """Every version of a model, newest first."""
    out: list[ModelVersion] = []
    token = None
    while True:
        page = registry.list_versions(workspace, name, 1000, token)
        out.extend(page.items)
        if page.next_page_token is None:
            return out
        token = page.next_page_token


def all_models(registry: RegistryService, workspace: str) -> list[RegisteredModel]:
    """Every registered model of the workspace, by name."""
    out: list[RegisteredModel] = []
    token = None
    while True:
        page = registry.list_models(workspace, None, 1000, token)
        out.extend(page.items)
        if page.next_page_token is None:
            return out
        token = page.next_page_token


def aliases(model: RegisteredModel, versions: Iterable[int] | None = None) -> dict[str, int]:
    """MLflow's aliases of a model: Trainyard's, plus those kept for versions it cannot alias
    (only those pointing at one of ``versions``, when given)."""
    known = None if versions is None else set(versions)
    out: dict[str, int] = {}
    for key, value in model.tags.items():
        wanted = value.isdigit() and (known is None or int(value) in known)
        if key.startswith(ALIAS_TAG) and wanted:
            out[key[len(ALIAS_TAG) :]] = int(value)
    out.update(model.aliases)
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- answers
def stage(v: ModelVersion) -> str:
    """The version's (deprecated) MLflow stage."""
    return v.tags.get(STAGE_TAG, "None")


def source(v: ModelVersion) -> str:
    """The ``source`` MLflow was given, or the run file a Trainyard version came from."""
    if SOURCE_TAG in v.tags:
        return v.tags[SOURCE_TAG]
    if v.run_id and v.artifact_path:
        return f"runs:/{v.run_id}/{v.artifact_path}"
    return ""


def status(v: ModelVersion) -> tuple[str, str]:
    """MLflow's status and status message of a version."""
    if v.status is ModelVersionStatus.READY:
        return "READY", ""
    reason = v.status_reason or "no reason recorded"
    if SOURCE_TAG in v.tags:
        return (
            "READY",
            f"Trainyard could not convert it to ONNX, so no endpoint serves it: {reason}",
        )
    return "FAILED_REGISTRATION", reason


def model_version(v: ModelVersion, alias_names: Sequence[str]) -> dict[str, Any]:
    """A ``ModelVersion`` message."""
    state, message = status(v)
    visible = [{"key": k, "value": x} for k, x in v.tags.items() if not k.startswith(HIDDEN)]
    body = _drop_empty(
        {
            "name": v.name,
            "version": str(v.version),
            "creation_timestamp": v.created_at,
            "last_updated_timestamp": v.created_at,
            "current_stage": stage(v),
            "source": source(v),
            "run_id": v.tags.get(RUN_ID_TAG) or v.run_id,
            "status": state,
            "status_message": message,
            "tags": visible,
            "run_link": v.tags.get(RUN_LINK_TAG),
            "aliases": list(alias_names),
            "model_id": v.tags.get(MODEL_ID_TAG),
        }
    )
    return {**body, "description": v.description}  # "" too, as MLflow answers


def versions_answer(model: RegisteredModel, versions: Sequence[ModelVersion]) -> list[Any]:
    """``ModelVersion`` messages of some of ``model``'s versions, with their aliases."""
    by_alias = aliases(model)
    return [model_version(v, [a for a, n in by_alias.items() if n == v.version]) for v in versions]


def latest_per_stage(versions: Sequence[ModelVersion], stages: Sequence[str] = ()) -> list[Any]:
    """The newest version in each stage (in ``stages``, or in every stage), oldest stage first."""
    newest: dict[str, ModelVersion] = {}
    for v in versions:
        s = stage(v)
        if (not stages or s in stages) and (s not in newest or v.version > newest[s].version):
            newest[s] = v
    return sorted(newest.values(), key=lambda v: v.version)


def registered_model(model: RegisteredModel, versions: Sequence[ModelVersion]) -> dict[str, Any]:
    """A ``RegisteredModel`` message (``versions``: all of the model's)."""
    by_alias = aliases(model, [v.version for v in versions])
    return _drop_empty(
        {
            "name": model.name,
            "creation_timestamp": model.created_at,
            "last_updated_timestamp": model.updated_at,
            "description": model.description,
            "latest_versions": versions_answer(model, latest_per_stage(versions)),
            "tags": [
                {"key": k, "value": x} for k, x in model.tags.items() if not k.startswith(HIDDEN)
            ],
            "aliases": [{"alias": a, "version": str(n)} for a, n in by_alias.items()],
        }
    )


# ---------------------------------------------------------------- search
def search(
    items: Sequence[T],
    msg: Message,
    attributes: tuple[Attributes, Attributes],
    lookup: Callable[[T, str, str], Any],
    tie_breakers: Sequence[OrderBy],
    page_size: int,
) -> tuple[list[T], str | None]:
    """One page of ``items`` matching MLflow's ``filter``, in its ``order_by`` order.

    ``attributes`` are what the filter and the order may name; tags are filtered as strings
    (a model without ``mlflow.prompt.is_prompt`` is not a prompt, as MLflow has it).
    """
    filters, orders = attributes
    comparisons = parse_filter(msg.text("filter"), filters)
    clauses = parse_order_by([str(o) for o in msg.items("order_by")], orders)
    for c in comparisons:
        if c.entity not in ("attribute", "tag"):
            raise InvalidArgument(f"Invalid entity type '{c.entity}': use attributes or tags")
    for o in clauses:
        if o.entity != "attribute":
            raise InvalidArgument(f"Invalid order_by entity: {o.entity}")
    keys = {o.key for o in clauses}
    clauses += [o for o in tie_breakers if o.key not in keys]
    found = order_items(filter_items(items, comparisons, lookup), clauses, lookup)
    offset = decode_token(msg.text("page_token"))
    more = offset + page_size < len(found)
    return found[offset : offset + page_size], encode_token(offset + page_size) if more else None


def tag_value(tags: dict[str, str], key: str) -> str | None:
    """A tag as a filter sees it."""
    if key.startswith(HIDDEN):
        return None
    return tags.get(key, "false" if key == PROMPT_TAG else None)
