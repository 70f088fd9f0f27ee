"""Error answers: one table from error code to HTTP status, and the handlers that use it."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from trainyard.errors import TrainyardError

log = logging.getLogger("trainyard.server")

STATUS_BY_CODE: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}

_CODE_BY_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "CONFLICT",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
}


def error_response(
    code: str, message: str, details: Any = None, status: int | None = None
) -> Response:
    """The JSON error answer ``{"error": {"code", "message", "details"}}``."""
    headers = {"WWW-Authenticate": "Bearer"} if code == "UNAUTHENTICATED" else None
    return Response(
        orjson.dumps({"error": {"code": code, "message": message, "details": details}}),
        media_type="application/json",
        status_code=status or STATUS_BY_CODE.get(code, 500),
        headers=headers,
    )


_UNION_TAGS = frozenset({"command", "sweep"})


def _describe(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    details = []
    if any(e.get("type") == "json_invalid" for e in errors):
        return "the request body is not valid JSON", [{"field": "", "problem": "invalid JSON"}]
    # an unknown (e.g. misspelt) key first: it usually explains the missing one that follows
    errors = sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")
    for e in errors:
        parts = list(e.get("loc", ()))
        if len(parts) > 2 and parts[0] == "body" and parts[1] in _UNION_TAGS:
            del parts[1]  # the job type's tag (``command``/``sweep``) is no field of the body
        loc = ".".join(str(p) for p in parts if p != "body")
        details.append({"field": loc, "problem": e.get("msg", "invalid")})
    first = details[0] if details else {"field": "", "problem": "invalid request"}
    where = f" at {first['field']!r}" if first["field"] else ""
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return f"invalid request{where}: {first['problem']}{more}", details


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to the documented JSON shape."""

    @app.exception_handler(TrainyardError)
    async def _trainyard(_: Request, exc: TrainyardError) -> Response:
        return error_response(exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        message, details = _describe(list(exc.errors()))
        return error_response("INVALID_ARGUMENT", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = _CODE_BY_STATUS.get(exc.status_code, "INTERNAL")
        message = str(exc.detail) if exc.detail else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = "no such route; see /docs for the API"
        return error_response(code, message, status=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            "INTERNAL", f"internal error ({type(exc).__name__}); see the server log"
        )
