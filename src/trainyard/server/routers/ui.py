"""The web studio at ``/ui``: its routers in one, sign-in, and the bundled Plotly script.

``create_app`` includes ``router`` and mounts ``STATIC_DIR`` at ``/ui/static``. The tracking
pages are in ``ui_pages.py``; jobs, models and endpoints in ``ui_jobs.py``, ``ui_models.py`` and
``ui_endpoints.py``; the data their scripts fetch in ``ui_api.py``, what they share in
``_ui_common.py``; ``docs/ui.md`` says how to add a page.

Signing in: when the server requires tokens, a page opened without one redirects to
``/ui/login``, whose form checks the token and keeps it in an HttpOnly, ``SameSite=Lax`` cookie
(``trainyard_token``) that ``deps._principal`` accepts on reads (GET, HEAD) in place of the
``Authorization`` header. Nothing is fetched from another host: Plotly's script is served from
the ``plotly`` Python package's own bundled copy.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from trainyard.errors import Unauthenticated
from trainyard.server.deps import TOKEN_COOKIE, Tokens
from trainyard.server.routers import ui_api, ui_endpoints, ui_jobs, ui_models, ui_pages
from trainyard.server.routers._ui_common import (
    STATIC_DIR,
    UiRoute,
    plotly_js,
    signed_in,
    templates,
)

__all__ = ["STATIC_DIR", "plotly_js", "router"]

router = APIRouter(include_in_schema=False)
_own = APIRouter(prefix="/ui", route_class=UiRoute, include_in_schema=False)


@_own.get("/vendor/plotly.min.js")
def plotly_script() -> FileResponse:
    """plotly.js as bundled in the ``plotly`` package (the version is in ``docs/ui.md``)."""
    path, version = plotly_js()
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400", "X-Plotly-Version": version},
    )


def _safe_next(target: str) -> str:
    # Only back into the UI: never an absolute URL or a scheme-relative '//host'.
    if target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


def _login_page(request: Request, next_: str, error: str = "", status: int = 200) -> HTMLResponse:
    return templates().TemplateResponse(
        request,
        "login.html",
        {
            "ui": None,
            "workspaces": [],
            "signed_in": signed_in(request),
            "next": _safe_next(next_),
            "error": error,
        },
        status_code=status,
    )


@_own.get("/login", response_class=HTMLResponse)
def login_form(request: Request, tokens: Tokens, next: str = "/ui") -> Response:
    """The sign-in form (straight back to ``next`` when the server needs no token)."""
    if not tokens.required:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next)


@_own.post("/login")
async def login(request: Request, tokens: Tokens) -> Response:
    """Check the posted token; keep it in the HttpOnly cookie and go back to ``next``."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = form.get("token", [""])[0].strip()
    target = _safe_next(form.get("next", ["/ui"])[0])
    try:
        await to_thread.run_sync(tokens.authenticate, f"Bearer {token}")
    except Unauthenticated as exc:
        return _login_page(request, target, f"Sign-in failed: {exc.message}.", status=401)
    response = RedirectResponse(target, status_code=303)
    if tokens.required:
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


@_own.post("/logout")
def logout(tokens: Tokens) -> Response:
    """Forget the cookie."""
    response = RedirectResponse("/ui/login" if tokens.required else "/ui", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


@router.get("/")
def root() -> RedirectResponse:
    """The server's root opens the studio."""
    return RedirectResponse("/ui", status_code=307)


router.include_router(_own)
router.include_router(ui_pages.router)
router.include_router(ui_jobs.router)
router.include_router(ui_models.router)
router.include_router(ui_endpoints.router)
router.include_router(ui_api.router)
