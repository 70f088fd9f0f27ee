"""What the client probes: ``server-info`` (capabilities), ``/health``, ``/version``; and the
MLflow-format 404 for routes we do not serve (the client branches on ``ENDPOINT_NOT_FOUND``)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from trainyard.server.mlflow._errors import MlflowApiError, MlflowRoute
from trainyard.server.mlflow._wire import answer

router = APIRouter(route_class=MlflowRoute)


def server_info() -> Response:
    """Capabilities: workspaces (the ``X-MLFLOW-WORKSPACE`` header), no multipart uploads."""
    return answer(
        {
            "store_type": "SqlStore",
            "workspaces_enabled": True,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_upload_run_id_supported": False,
        }
    )


def health() -> PlainTextResponse:
    """``OK`` while the server is up."""
    return PlainTextResponse("OK")


def version() -> PlainTextResponse:
    """Trainyard's version (the client only reads it to decide whether traces are supported)."""
    from trainyard._version import __version__

    return PlainTextResponse(__version__)


def not_served(path: str) -> Response:
    """ENDPOINT_NOT_FOUND (404) in MLflow's format, e.g. for the model registry routes."""
    raise MlflowApiError("ENDPOINT_NOT_FOUND", f"Trainyard does not serve {path!r}", 404)


for prefix in ("/api", "/ajax-api"):
    router.add_api_route(f"{prefix}/3.0/mlflow/server-info", server_info, methods=["GET"])
router.add_api_route("/health", health, methods=["GET"])
router.add_api_route("/version", version, methods=["GET"])
