"""The error tree of Trainyard, with one stable code per class.

::

    TrainyardError                      INTERNAL
     +-- NotFound                       NOT_FOUND          (HTTP 404)
     +-- AlreadyExists                  ALREADY_EXISTS     (HTTP 409)
     +-- InvalidArgument                INVALID_ARGUMENT   (HTTP 400)
     +-- Conflict                       CONFLICT           (HTTP 409)
     +-- Unauthenticated                UNAUTHENTICATED    (HTTP 401)
     +-- PermissionDenied               PERMISSION_DENIED  (HTTP 403)
     +-- Unavailable                    UNAVAILABLE        (HTTP 503)

The server maps ``code`` to an HTTP status in one table (``server/errors.py``) and the SDK maps
an error answer back to the same class, so code that catches ``trainyard.errors.NotFound`` works
the same in-process and over HTTP. Messages say what went wrong and what to do next.
"""

from __future__ import annotations

from typing import Any


class TrainyardError(Exception):
    """Base of every error Trainyard raises on purpose."""

    code = "INTERNAL"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The wire form: ``{"code", "message", "details"}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(TrainyardError):
    """The named resource does not exist (or is not visible to the caller)."""

    code = "NOT_FOUND"


class AlreadyExists(TrainyardError):
    """A resource with that name or id exists already."""

    code = "ALREADY_EXISTS"


class InvalidArgument(TrainyardError):
    """The request is malformed or breaks a documented limit."""

    code = "INVALID_ARGUMENT"


class Conflict(TrainyardError):
    """The request contradicts the stored state (e.g. a param re-logged with another value)."""

    code = "CONFLICT"


class Unauthenticated(TrainyardError):
    """No valid token was presented where one is required."""

    code = "UNAUTHENTICATED"


class PermissionDenied(TrainyardError):
    """The token is valid but may not do this in this workspace."""

    code = "PERMISSION_DENIED"


class Unavailable(TrainyardError):
    """The server or a backend is unreachable; retrying later may succeed."""

    code = "UNAVAILABLE"


ERROR_CLASSES: dict[str, type[TrainyardError]] = {
    cls.code: cls
    for cls in (
        TrainyardError,
        NotFound,
        AlreadyExists,
        InvalidArgument,
        Conflict,
        Unauthenticated,
        PermissionDenied,
        Unavailable,
    )
}


def error_from_dict(body: dict[str, Any]) -> TrainyardError:
    """Rebuild the typed error from its wire form (unknown codes become ``TrainyardError``)."""
    cls = ERROR_CLASSES.get(str(body.get("code", "INTERNAL")), TrainyardError)
    err = cls(str(body.get("message", "unknown error")), body.get("details"))
    return err
