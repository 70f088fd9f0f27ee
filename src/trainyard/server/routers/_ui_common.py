"""What every page of the web studio shares: templates, the page scope, HTML errors, headers.

A page route takes ``ui: UiPage`` (the workspace it shows, authorised for the caller, and the
URL prefix of its links) and answers ``ui.render(...)``. Pages of the ``default`` workspace live
at ``/ui/...``; the same pages of another workspace at ``/ui/w/{workspace}/...``; ``page_route``
registers both paths for one function.

Routes built with ``HtmlPageRoute`` turn the service's errors into HTML pages with the same
message the API gives (404 for an unknown run, 400 for a bad filter, ...), and a missing or
revoked token into a redirect to the sign-in form. Every UI answer carries a
``Content-Security-Policy`` that only allows this server's own scripts, and a ``Server-Timing``
header with the time the server spent (what ``bench/ui.py`` reads).
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

import trainyard.ui
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import TrainyardError, Unauthenticated
from trainyard.schemas.auth import Principal
from trainyard.server.auth import authorize
from trainyard.server.deps import TOKEN_COOKIE, Caller
from trainyard.server.errors import STATUS_BY_CODE

DEFAULT_WORKSPACE = "default"
UI_PACKAGE = Path(trainyard.ui.__file__).parent
STATIC_DIR = UI_PACKAGE / "static"
TEMPLATE_DIR = UI_PACKAGE / "templates"

SECURITY_HEADERS = {
    # Plotly's WebGL traces (parcoords) compile shaders with `new Function`: 'unsafe-eval'.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# ------------------------------------------------------------------------------ formatting
def fmt_time(ms: int | None) -> str:
    """UTC milliseconds as ``2024-05-01 12:03:04`` (UTC); '' for None."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(ms: int | None) -> str:
    """A duration for people: ``850 ms``, ``12.3 s``, ``4m 05s``, ``2h 03m``, ``3d 04h``."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms} ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m}m {sec:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h:02d}h"


def fmt_number(value: float | None) -> str:
    """A metric value in at most 6 significant digits."""
    if value is None:
        return ""
    if value != value:
        return "NaN"
    return f"{value:.6g}"


def fmt_size(n: int | None) -> str:
    """A byte count as ``512 B``, ``3.4 KB``, ``12.0 MB``."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def with_query(base: str, /, **params: Any) -> str:
    """``base`` with the non-empty ``params`` as its query (lists repeat their key)."""
    kept = {k: v for k, v in params.items() if v not in (None, "", [], ())}
    return f"{base}?{urlencode(kept, doseq=True)}" if kept else base


def url_path(*parts: str) -> str:
    """Path segments joined and percent-quoted (slashes inside a part are kept)."""
    return "/".join(quote(p, safe="/:") for p in parts)


def pager(page_token: str | None, size: int, next_token: str | None) -> dict[str, Any]:
    """The page links of a list paged by offset tokens (``core.paging``) ``size`` items at a
    time, as the templates' pager reads them: ``offset`` (of this page's first item),
    ``next_token``, ``previous_token`` and ``has_previous``."""
    offset = decode_token(page_token)
    previous = max(0, offset - size)
    return {
        "offset": offset,
        "next_token": next_token,
        "previous_token": encode_token(previous) if previous else None,
        "has_previous": offset > 0,
    }


@cache
def plotly_js() -> tuple[Path, str]:
    """The ``plotly`` package's bundled ``plotly.min.js`` and its plotly.js version."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the 'plotly' package is missing: pip install 'plotly>=5.20'")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    with path.open("rb") as f:
        head = f.read(512).decode("ascii", errors="replace")
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    return path, found.group(1) if found else "unknown"


@cache
def templates() -> Jinja2Templates:
    """The Jinja2 environment of the UI (built on first use, not at import)."""
    from trainyard._version import __version__

    t = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = t.env
    env.filters.update(time=fmt_time, duration=fmt_duration, num=fmt_number, size=fmt_size)
    env.globals.update(
        version=__version__,
        with_query=with_query,
        url_path=url_path,
        static=lambda name: f"/ui/static/{name}?v={__version__}",
        plotly_src=lambda: f"/ui/vendor/plotly.min.js?v={plotly_js()[1]}",
    )
    env.trim_blocks = env.lstrip_blocks = True
    return t


# ------------------------------------------------------------------------------ the page scope
@dataclass(frozen=True)
class UiScope:
    """The workspace a page shows, who asks, and where its links point."""

    workspace: str
    caller: Principal
    request: Request

    @property
    def base(self) -> str:
        """The prefix of this workspace's pages: ``/ui`` or ``/ui/w/{workspace}``."""
        if self.workspace == DEFAULT_WORKSPACE:
            return "/ui"
        return f"/ui/w/{quote(self.workspace, safe='')}"

    @property
    def api(self) -> str:
        """The prefix of this workspace's REST routes."""
        return f"/api/v1/workspaces/{quote(self.workspace, safe='')}"

    @property
    def ui_api(self) -> str:
        """The prefix of this workspace's UI data routes (``ui_api.py``)."""
        return f"/ui/api/workspaces/{quote(self.workspace, safe='')}"

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """The template rendered inside the frame (navigation, workspace switcher, sign-out)."""
        tracking = self.request.app.state.tracking
        readable = [w.name for w in tracking.list_workspaces() if self.caller.role_in(w.name) > 0]
        return templates().TemplateResponse(
            self.request,
            template,
            {
                "ui": self,
                "workspaces": readable,
                "signed_in": signed_in(self.request),
                **context,
            },
            status_code=status,
        )


def signed_in(request: Request) -> bool:
    """True when the caller came in with the UI's cookie on a server that requires tokens."""
    return bool(request.app.state.tokens.required and request.cookies.get(TOKEN_COOKIE))


def _ui_scope(request: Request, caller: Caller) -> UiScope:
    workspace = request.path_params.get("workspace", DEFAULT_WORKSPACE)
    authorize(caller, workspace, "reader")
    return UiScope(workspace, caller, request)


UiPage = Annotated[UiScope, Depends(_ui_scope)]


# ------------------------------------------------------------------------------ routes
def login_url(request: Request) -> str:
    """The sign-in form, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return with_query("/ui/login", next=here)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error inside the frame: the status, the service's message, and a way back."""
    return templates().TemplateResponse(
        request,
        "error.html",
        {
            "ui": None,
            "workspaces": [],
            "signed_in": signed_in(request),
            "status": status,
            "message": message,
        },
        status_code=status,
    )


class UiRoute(APIRoute):
    """Adds the security headers and ``Server-Timing`` to every answer of the UI."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, timed and with the UI's headers."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            started = time.perf_counter()
            response = await self.call_handler(handler, request)
            response.headers.update(SECURITY_HEADERS)
            elapsed = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
            return response

        return route

    async def call_handler(
        self, handler: Callable[[Request], Awaitable[Response]], request: Request
    ) -> Response:
        """Run the handler (subclasses turn errors into pages)."""
        return await handler(request)


class HtmlPageRoute(UiRoute):
    """A page: errors become HTML pages with the API's message; no token means sign in."""

    async def call_handler(
        self, handler: Callable[[Request], Awaitable[Response]], request: Request
    ) -> Response:
        """Run the handler, answering errors with pages."""
        try:
            return await handler(request)
        except Unauthenticated:
            return RedirectResponse(login_url(request), status_code=303)
        except TrainyardError as exc:
            return error_page(request, STATUS_BY_CODE.get(exc.code, 500), exc.message)
        except RequestValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()))
            return error_page(request, 400, f"invalid {where}: {first.get('msg', 'invalid')}")


def page_route(router: APIRouter, path: str, **kwargs: Any) -> Callable[[Any], Any]:
    """Register a GET page at ``path`` (default workspace) and at ``/w/{workspace}`` + path."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        for full in (path, f"/w/{{workspace}}{path}"):
            router.add_api_route(
                full,
                endpoint,
                methods=["GET"],
                response_class=HTMLResponse,
                include_in_schema=False,
                **kwargs,
            )
        return endpoint

    return register
