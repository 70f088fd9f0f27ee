"""The MLflow-compatible API: the ``mlflow`` client, pointed at Trainyard, works unchanged.

Tracking and model registry routes live under ``/api/2.0/mlflow`` (and ``/ajax-api/2.0/mlflow``,
as MLflow's own server mounts them), the artifact proxy under ``/api/2.0/mlflow-artifacts``, the
capability probe at ``/api/3.0/mlflow/server-info``. Every route maps onto the same services as
the native API (one store, two doors; the registry routes onto Trainyard's registry, see
``_registry.py``) and answers errors in MLflow's format (``_errors.py``); routes we do not serve
(traces, prompts, webhooks) answer ``ENDPOINT_NOT_FOUND``. None of it is in the
OpenAPI document, which describes Trainyard's own API. See ``docs/mlflow.md``.
"""

from __future__ import annotations

from fastapi import APIRouter

from trainyard.server.mlflow import (
    artifacts,
    experiments,
    logged_models,
    model_versions,
    registered_models,
    run_logging,
    runs,
    system,
)
from trainyard.server.mlflow._errors import MlflowRoute

router = APIRouter(include_in_schema=False, route_class=MlflowRoute)
_TRACKING = (
    experiments,
    runs,
    run_logging,
    logged_models,
    registered_models,
    model_versions,
)
for _prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
    for _module in _TRACKING:
        router.include_router(_module.router, prefix=_prefix)
router.include_router(artifacts.router, prefix="/api/2.0/mlflow-artifacts")
router.include_router(system.router)
for _prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/2.0/mlflow-artifacts"):
    router.add_api_route(
        _prefix + "/{path:path}",
        system.not_served,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    )

__all__ = ["router"]
