"""MLflow's error answers: ``{"error_code": ..., "message": ...}`` with MLflow's statuses.

Every route of the MLflow package uses ``MlflowRoute``, which turns whatever a route raises
(Trainyard errors, validation errors, HTTP errors, surprises) into MLflow's shape, so the
``mlflow`` client sees the codes it branches on (``RESOURCE_DOES_NOT_EXIST`` makes
``get_experiment_by_name`` return None, ``RESOURCE_ALREADY_EXISTS`` is tolerated by
``register_model``, ...). The native API keeps its own format; nothing here touches it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from trainyard.errors import TrainyardError

log = logging.getLogger("trainyard.server.mlflow")

# Trainyard code -> (MLflow error_code, HTTP status). MLflow answers a taken name and a changed
# param with 400, not 409.
CODE_MAP: dict[str, tuple[str, int]] = {
    "NOT_FOUND": ("RESOURCE_DOES_NOT_EXIST", 404),
    "ALREADY_EXISTS": ("RESOURCE_ALREADY_EXISTS", 400),
    "INVALID_ARGUMENT": ("INVALID_PARAMETER_VALUE", 400),
    "CONFLICT": ("INVALID_PARAMETER_VALUE", 400),
    "UNAUTHENTICATED": ("UNAUTHENTICATED", 401),
    "PERMISSION_DENIED": ("PERMISSION_DENIED", 403),
    "UNAVAILABLE": ("TEMPORARILY_UNAVAILABLE", 503),
    "INTERNAL": ("INTERNAL_ERROR", 500),
}

_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "ENDPOINT_NOT_FOUND",
    413: "INVALID_PARAMETER_VALUE",
    422: "INVALID_PARAMETER_VALUE",
}


class MlflowApiError(Exception):
    """An error with an MLflow code of its own (e.g. ``ENDPOINT_NOT_FOUND``)."""

    def __init__(self, error_code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status


def mlflow_error(error_code: str, message: str, status: int) -> Response:
    """The JSON error answer MLflow's server gives."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        orjson.dumps({"error_code": error_code, "message": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def to_mlflow_error(exc: Exception, request: Request) -> Response:
    """Map any exception a route raised to MLflow's answer."""
    if isinstance(exc, MlflowApiError):
        return mlflow_error(exc.error_code, exc.message, exc.status)
    if isinstance(exc, TrainyardError):
        code, status = CODE_MAP.get(exc.code, ("INTERNAL_ERROR", 500))
        return mlflow_error(code, exc.message, status)
    if isinstance(exc, RequestValidationError):
        errors = list(exc.errors())
        where = ".".join(str(p) for p in errors[0].get("loc", ())) if errors else ""
        problem = errors[0].get("msg", "invalid") if errors else "invalid request"
        return mlflow_error("INVALID_PARAMETER_VALUE", f"Invalid value for {where}: {problem}", 400)
    if isinstance(exc, HTTPException):
        code = _CODE_BY_STATUS.get(exc.status_code, "INTERNAL_ERROR")
        return mlflow_error(code, str(exc.detail), exc.status_code)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return mlflow_error(
        "INTERNAL_ERROR", f"internal error ({type(exc).__name__}); see the server log", 500
    )


class MlflowRoute(APIRoute):
    """A route whose failures answer in MLflow's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler (which also runs the dependencies) in the mapping."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return to_mlflow_error(exc, request)

        return route
