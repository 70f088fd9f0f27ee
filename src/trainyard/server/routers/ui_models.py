"""The web studio's model registry pages: the registered models, and a model's versions.

Both read through ``RegistryService`` (``app.state.registry``), as the REST models router does.
A version links to the run it was registered from (its lineage) and shows the ONNX conversion's
parity check as the registry recorded it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from trainyard.server.deps import Registry
from trainyard.server.routers._ui_common import (
    HtmlPageRoute,
    UiPage,
    fmt_number,
    page_route,
    pager,
)

router = APIRouter(prefix="/ui", route_class=HtmlPageRoute, include_in_schema=False)

MODELS_PER_PAGE = 50
VERSIONS_PER_PAGE = 100


def parity_summary(parity: dict[str, Any] | None, forced: bool) -> str:
    """The parity check in a few words: ``passed on 500 rows (max abs diff 1.2e-07)``.

    '' when the registry recorded none (an uploaded ONNX file has no native model to compare).
    """
    if not parity:
        return "forced" if forced else ""
    rows = parity.get("rows")
    diff = parity.get("max_abs_diff")
    words = "passed" if parity.get("passed") else "failed"
    text = f"{words} on {rows} rows" if rows is not None else words
    if diff is not None:
        text += f" (max abs diff {fmt_number(float(diff))})"
    mismatches = int(parity.get("label_mismatches") or 0) + int(parity.get("value_mismatches") or 0)
    if mismatches:
        text += f", {mismatches} mismatches"
    return text + (" · forced" if forced else "")


@page_route(router, "/models")
def models_page(
    ui: UiPage, registry: Registry, q: str = "", page_token: str | None = None
) -> HTMLResponse:
    """The workspace's registered models by name: latest version, aliases, last update."""
    page = registry.list_models(ui.workspace, q.strip() or None, MODELS_PER_PAGE, page_token)
    return ui.render(
        "models.html",
        nav="models",
        q=q,
        rows=page.items,
        **pager(page_token, MODELS_PER_PAGE, page.next_page_token),
    )


@page_route(router, "/models/{name}")
def model_page(
    ui: UiPage, registry: Registry, name: str, page_token: str | None = None
) -> HTMLResponse:
    """A registered model: description, tags, aliases and its versions, newest first."""
    model = registry.get_model(ui.workspace, name)
    page = registry.list_versions(ui.workspace, name, VERSIONS_PER_PAGE, page_token)
    return ui.render(
        "model.html",
        nav="models",
        model=model,
        versions=[(v, parity_summary(v.parity, v.forced)) for v in page.items],
        **pager(page_token, VERSIONS_PER_PAGE, page.next_page_token),
    )
