"""MLflow's model-version routes, on Trainyard's model registry.

``mlflow.<flavor>.log_model(..., registered_model_name=X)`` ends in ``model-versions/create`` with
``source = models:/<model_id>``: the version gets Trainyard's next number for X. Where the
flavor converts (scikit-learn, LightGBM, XGBoost) the server converts it to ONNX and checks
parity on the logged input example (``_conversion.py``), so an endpoint can serve it; otherwise
it is a FAILED version in Trainyard, saying why, and still READY for MLflow, whose client loads
it from its MLflow files through the artifact proxy (``get-download-uri``).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import APIRouter, Response

from trainyard.core.filters import Attributes, OrderBy, parse_filter
from trainyard.core.registry import ModelVersion
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.server.deps import Registry, Tracking
from trainyard.server.mlflow import _registry
from trainyard.server.mlflow._conversion import converted, resolve_source
from trainyard.server.mlflow._deps import LoggedModels, Msg, ReadWorkspace, WriteWorkspace
from trainyard.server.mlflow._errors import MlflowRoute
from trainyard.server.mlflow._registry import (
    MODEL_ID_TAG,
    RUN_ID_TAG,
    RUN_LINK_TAG,
    SOURCE_TAG,
    STAGE_TAG,
    STORAGE_TAG,
)
from trainyard.server.mlflow._wire import answer, artifact_uri

router = APIRouter(route_class=MlflowRoute)

DEFAULT_SEARCH_RESULTS = 10_000
MAX_SEARCH_RESULTS = 200_000
_FILTER = Attributes(
    frozenset({"name", "run_id", "source_path"}), frozenset({"version_number"}), {}
)
_ORDER = Attributes(
    frozenset({"name"}),
    frozenset({"version_number", "creation_timestamp", "last_updated_timestamp"}),
    {},
)
_TIE_BREAKERS = [OrderBy("attribute", "name", True), OrderBy("attribute", "version_number", False)]


def _answer(registry: Registry, workspace: str, v: ModelVersion) -> Response:
    model = registry.get_model(workspace, v.name)
    return answer({"model_version": _registry.versions_answer(model, [v])[0]})


def _run_in_workspace(tracking: Tracking, workspace: str, run_id: str | None) -> bool:
    if not run_id:
        return False
    try:
        tracking.get_run(workspace, run_id)
    except (NotFound, InvalidArgument):
        return False
    return True


@router.post("/model-versions/create")
def create_model_version(
    workspace: WriteWorkspace,
    msg: Msg,
    registry: Registry,
    tracking: Tracking,
    models: LoggedModels,
) -> Response:
    """The next version of a model, from MLflow files (converted to ONNX where possible)."""
    name = msg.need("name")
    uri = msg.need("source")
    registry.get_model(workspace, name)
    tags = _registry.user_tags(msg.pairs("tags"))
    src = resolve_source(workspace, uri, tracking, models, registry)
    run_id = msg.text("run_id") or src.run_id
    in_workspace = _run_in_workspace(tracking, workspace, run_id)
    hidden = {SOURCE_TAG: uri, STORAGE_TAG: src.storage}
    for key, value in (
        (MODEL_ID_TAG, msg.text("model_id") or src.model_id),
        (RUN_ID_TAG, None if in_workspace else run_id),
        (RUN_LINK_TAG, msg.text("run_link")),
    ):
        if value:
            hidden[key] = value
    ty_run = run_id if in_workspace else None
    description = msg.text("description") or ""
    # allow_code: the files were uploaded through this server, and the caller has contributor
    # rights in the workspace (WriteWorkspace), enough to run a job's code here anyway.
    with converted(src, allow_code=True) as outcome:
        failure = outcome.failure
        while True:
            try:
                v = registry.register_file(
                    workspace,
                    name,
                    None if failure else outcome.onnx,
                    run_id=ty_run,
                    parity=outcome.parity,
                    failure=failure,
                    description=description,
                    tags={**tags, **hidden},
                )
                break
            except (InvalidArgument, Conflict) as exc:  # the ONNX file failed the server's checks
                if failure is not None:
                    raise
                failure = exc.message
    return _answer(registry, workspace, v)


@router.get("/model-versions/get")
def get_model_version(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """One version."""
    name = msg.need("name")
    return _answer(
        registry, workspace, registry.get_version(workspace, name, _registry.version_number(msg))
    )


@router.get("/model-versions/search")
def search_model_versions(workspace: ReadWorkspace, msg: Msg, registry: Registry) -> Response:
    """Versions matching ``filter`` (``name = 'x'``, ``run_id = '...'``, ``tags.k``, ...)."""
    size = _registry.max_results(msg, DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS)
    comparisons = [
        c
        for c in parse_filter(msg.text("filter"), _FILTER)
        if c.entity == "attribute" and c.key == "name" and c.op == "="
    ]
    if comparisons:  # one model's versions: the usual case
        names = [str(comparisons[0].value)]
        try:
            registry.get_model(workspace, names[0])
        except NotFound:
            names = []
    else:
        names = [m.name for m in _registry.all_models(registry, workspace)]
    models = {n: registry.get_model(workspace, n) for n in names}
    versions = [v for n in names for v in _registry.all_versions(registry, workspace, n)]

    def lookup(v: ModelVersion, entity: str, key: str) -> object:
        if entity == "tag":
            return _registry.tag_value(v.tags, key)
        return {
            "name": v.name,
            "version_number": v.version,
            "run_id": v.tags.get(RUN_ID_TAG) or v.run_id,
            "source_path": _registry.source(v),
            "creation_timestamp": v.created_at,
            "last_updated_timestamp": v.created_at,
        }.get(key)

    page, token = _registry.search(versions, msg, (_FILTER, _ORDER), lookup, _TIE_BREAKERS, size)
    body: dict[str, object] = {
        "model_versions": [_registry.versions_answer(models[v.name], [v])[0] for v in page]
    }
    if token:
        body["next_page_token"] = token
    return answer(body)


@router.patch("/model-versions/update")
def update_model_version(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """A new description."""
    name = msg.need("name")
    number = _registry.version_number(msg)
    v = registry.update_version(workspace, name, number, description=msg.text("description") or "")
    return _answer(registry, workspace, v)


@router.delete("/model-versions/delete")
def delete_model_version(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Delete a version, its aliases and its Trainyard files (its MLflow files stay)."""
    name = msg.need("name")
    number = _registry.version_number(msg)
    registry.delete_version(workspace, name, number)
    model = registry.get_model(workspace, name)
    stale = [
        _registry.ALIAS_TAG + a
        for a, n in _registry.aliases(model).items()
        if n == number and a not in model.aliases
    ]
    if stale:
        registry.update_model(workspace, name, delete_tags=stale)
    return answer()


@router.post("/model-versions/set-tag")
def set_model_version_tag(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Set one tag."""
    name = msg.need("name")
    number = _registry.version_number(msg)
    key = _registry.check_tag_key(msg.need("key"))
    registry.update_version(workspace, name, number, tags={key: msg.text("value") or ""})
    return answer()


@router.delete("/model-versions/delete-tag")
def delete_model_version_tag(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """Remove one tag (a missing one is not an error, as in MLflow)."""
    name = msg.need("name")
    number = _registry.version_number(msg)
    key = _registry.check_tag_key(msg.need("key"))
    registry.update_version(workspace, name, number, delete_tags=[key])
    return answer()


@router.get("/model-versions/get-download-uri")
def get_download_uri(
    workspace: ReadWorkspace, msg: Msg, registry: Registry, tracking: Tracking
) -> Response:
    """Where the version's MLflow files download from (through the artifact proxy)."""
    name = msg.need("name")
    v = registry.get_version(workspace, name, _registry.version_number(msg))
    if STORAGE_TAG in v.tags:
        return answer({"artifact_uri": v.tags[STORAGE_TAG]})
    if v.run_id and v.artifact_path:  # registered through Trainyard: the run's ONNX folder
        run = tracking.get_run(workspace, v.run_id)
        folder = PurePosixPath(run.artifact_uri.strip("/"), v.artifact_path).parent
        return answer({"artifact_uri": artifact_uri(str(folder))})
    raise InvalidArgument(
        f"version {v.version} of {name!r} was registered through Trainyard's own API and has no "
        "MLflow model files: load it with Trainyard's SDK (ws.models.get(...).load())"
    )


@router.post("/model-versions/transition-stage")
def transition_stage(workspace: WriteWorkspace, msg: Msg, registry: Registry) -> Response:
    """MLflow's deprecated stages, kept as a tag; optionally archive the stage's others."""
    name = msg.need("name")
    number = _registry.version_number(msg)
    stage = _registry.stage_name(msg.need("stage"))
    archive = msg.boolean("archive_existing_versions")
    if archive and stage not in ("Staging", "Production"):
        raise InvalidArgument(
            f"Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are Staging and Production."
        )
    registry.get_version(workspace, name, number)
    if archive:
        for other in _registry.all_versions(registry, workspace, name):
            if other.version != number and _registry.stage(other) == stage:
                registry.update_version(
                    workspace, name, other.version, tags={STAGE_TAG: "Archived"}
                )
    v = registry.update_version(workspace, name, number, tags={STAGE_TAG: stage})
    return _answer(registry, workspace, v)
