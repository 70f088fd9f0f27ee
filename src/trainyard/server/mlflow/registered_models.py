"""MLflow's registered-model routes (and aliases), on Trainyard's model registry.

The models are Trainyard's: a model created here is listed by ``GET /api/v1/.../models``, an
alias set here is the alias ``ws.models.get("NAME@ALIAS")`` resolves, and the other way round.
An alias on a version Trainyard cannot alias (one whose ONNX conversion failed) is kept for
MLflow alone (``_registry.ALIAS_TAG``), so MLflow code that aliases any flavor keeps working.
Errors follow MLflow: a missing model is RESOURCE_DOES_NOT_EXIST (404), a taken name
RESOURCE_ALREADY_EXISTS (400), an unknown alias INVALID_PARAMETER_VALUE (400).
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Response

from trainyard.core.filters import Attributes, OrderBy
from trainyard.core.registry import ModelVersionStatus, RegisteredModel
from trainyard.errors import InvalidArgument, NotFound
from trainyard.server.deps import Registry
from trainyard.server.mlflow import _registry
from trainyard.server.mlflow._deps import Msg, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._registry import ALIAS_TAG, STAGES
from trainyard.server.mlflow._wire import answer

router = APIRouter(route_class=MlflowRoute)

MAX_SEARCH_RESULTS = 1000
_FILTER = Attributes(frozenset({"name"}), frozenset(), {})
_ORDER = Attributes(
    frozenset({"name"}), frozenset({"creation_timestamp", "last_updated_timestamp"}), {}
)
_TIE_BREAKERS = [OrderBy("attribute", "name", True)]


def _model_answer(registry: Registry, workspace: str, model: RegisteredModel) -> Response:
    versions = _registry.all_versions(registry, workspace, model.name)
    return answer({"registered_model": _registry.registered_model(model, versions)})


@router.post("/registered-models/create")
def create_registered_model(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """A new model without versions (RESOURCE_ALREADY_EXISTS if the name is taken)."""
    model = registry.create_model(
        workspace,
        msg.need("name"),
        msg.text("description") or "",
        _registry.user_tags(msg.pairs("tags")),
    )
    return answer({"registered_model": _registry.registered_model(model, [])})


@router.get("/registered-models/get")
def get_registered_model(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """One model with its tags, aliases and latest version per stage."""
    return _model_answer(registry, workspace, registry.get_model(workspace, msg.need("name")))


@router.get("/registered-models/search")
def search_registered_models(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """Models matching ``filter`` (``name``, ``name LIKE``, ``tags.x``), by name unless ordered."""
    size = _registry.max_results(msg, 100, MAX_SEARCH_RESULTS)

    def lookup(m: RegisteredModel, entity: str, key: str) -> object:
        if entity == "tag":
            return _registry.tag_value(m.tags, key)
        return {
            "name": m.name,
            "creation_timestamp": m.created_at,
            "last_updated_timestamp": m.updated_at,
        }.get(key)

    page, token = _registry.search(
        _registry.all_models(registry, workspace),
        msg,
        (_FILTER, _ORDER),
        lookup,
        _TIE_BREAKERS,
        size,
    )
    found = [
        _registry.registered_model(m, _registry.all_versions(registry, workspace, m.name))
        for m in page
    ]
    body: dict[str, object] = {"registered_models": found}
    if token:
        body["next_page_token"] = token
    return answer(body)


@router.post("/registered-models/rename")
def rename_registered_model(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """A new name; versions, numbers, aliases and files follow."""
    model = registry.rename_model(workspace, msg.need("name"), msg.need("new_name"))
    return _model_answer(registry, workspace, model)


@router.patch("/registered-models/update")
def update_registered_model(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """A new description ('' clears it)."""
    description = msg.text("description") or ""
    model = registry.update_model(workspace, msg.need("name"), description=description)
    return _model_answer(registry, workspace, model)


@router.delete("/registered-models/delete")
def delete_registered_model(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Delete the model, every version, alias and file."""
    registry.delete_model(workspace, msg.need("name"))
    return answer()


@router.post("/registered-models/set-tag")
def set_registered_model_tag(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Set one tag."""
    key = _registry.check_tag_key(msg.need("key"))
    registry.update_model(workspace, msg.need("name"), tags={key: msg.text("value") or ""})
    return answer()


@router.delete("/registered-models/delete-tag")
def delete_registered_model_tag(
    workspace: WriteWorkspace, msg: Msg, registry: Registry
) -> Response:
    """Remove one tag (a missing one is not an error, as in MLflow)."""
    key = _registry.check_tag_key(msg.need("key"))
    registry.update_model(workspace, msg.need("name"), delete_tags=[key])
    return answer()


@router.api_route("/registered-models/get-latest-versions", methods=["GET", "POST"])
def get_latest_versions(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """The newest version in each of ``stages`` (every stage when none is given)."""
    name = msg.need("name")
    stages = [_registry.stage_name(str(s)) for s in msg.items("stages")]
    model = registry.get_model(workspace, name)
    versions = _registry.all_versions(registry, workspace, name)
    latest = _registry.latest_per_stage(versions, stages or STAGES)
    return answer({"model_versions": _registry.versions_answer(model, latest)})


# ---------------------------------------------------------------- aliases
@router.post("/registered-models/alias")
def set_alias(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Point an alias at a version, moving it if it pointed elsewhere."""
    name = msg.need("name")
    alias = _registry.check_alias(msg.need("alias"))
    version = registry.get_version(workspace, name, _registry.version_number(msg))
    model = registry.get_model(workspace, name)
    hidden = ALIAS_TAG + alias
    if version.status is ModelVersionStatus.READY:
        registry.set_alias(workspace, name, alias, version.version)
        if hidden in model.tags:
            registry.update_model(workspace, name, delete_tags=[hidden])
        return answer()
    if alias in model.aliases:  # moves off a version Trainyard serves, onto one it cannot
        registry.delete_alias(workspace, name, alias)
    registry.update_model(workspace, name, tags={hidden: str(version.version)})
    return answer()


@router.get("/registered-models/alias")
def get_model_version_by_alias(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """The version an alias points at (an unknown alias is a 400, as in MLflow)."""
    name = msg.need("name")
    alias = msg.need("alias")
    model = registry.get_model(workspace, name)
    number = _registry.aliases(model).get(alias)
    try:
        if number is None:
            raise NotFound(alias)
        version = registry.get_version(workspace, name, number)
    except NotFound:
        raise InvalidArgument(f"Registered model alias {alias} not found.") from None
    return answer({"model_version": _registry.versions_answer(model, [version])[0]})


@router.delete("/registered-models/alias")
def delete_alias(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Remove an alias (a missing one is not an error, as in MLflow)."""
    name = msg.need("name")
    alias = msg.need("alias")
    model = registry.get_model(workspace, name)
    if alias in model.aliases:
        with contextlib.suppress(NotFound):  # removed meanwhile
            registry.delete_alias(workspace, name, alias)
    if ALIAS_TAG + alias in model.tags:
        registry.update_model(workspace, name, delete_tags=[ALIAS_TAG + alias])
    return answer()
