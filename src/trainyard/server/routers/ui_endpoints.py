"""The web studio's online endpoint pages: the endpoints, and an endpoint with its deployments.

Both read through ``ServingService`` (``app.state.serving``) and turn what it returns into the
REST wire form (``endpoints.endpoint_out``) before rendering, so a template never holds an
endpoint's keys: the pages show the scoring URL and a ``curl`` example with a placeholder key.
"""

from __future__ import annotations

import json
import shlex

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from trainyard.core.serving import AuthMode
from trainyard.errors import NotFound
from trainyard.registry import RegistryService
from trainyard.schemas.serving import Endpoint
from trainyard.server.deps import Registry, Serving
from trainyard.server.routers._ui_common import (
    HtmlPageRoute,
    UiPage,
    page_route,
    pager,
)
from trainyard.server.routers.endpoints import endpoint_out

router = APIRouter(prefix="/ui", route_class=HtmlPageRoute, include_in_schema=False)

ENDPOINTS_PER_PAGE = 50
KEY_PLACEHOLDER = "<your-endpoint-key>"


def traffic_text(shares: dict[str, int]) -> str:
    """``blue 90% · green 10%``: the shares, largest first ('' when there are none)."""
    ordered = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(f"{name} {pct}%" for name, pct in ordered)


def example_row(registry: RegistryService, workspace: str, endpoint: Endpoint) -> list[float]:
    """A row of zeros as wide as the main deployment's model input (one zero if unknown)."""
    if not endpoint.deployments:
        return [0.0]
    main = max(endpoint.deployments, key=lambda d: endpoint.traffic.get(d.name, 0))
    try:
        version = registry.get_version(workspace, main.model_name, main.model_version)
    except NotFound:
        return [0.0]
    inputs = version.signature.get("inputs") or []
    shape = inputs[0].get("shape") if len(inputs) == 1 else None
    width = shape[-1] if isinstance(shape, list) and len(shape) == 2 else None
    return [0.0] * width if isinstance(width, int) and 0 < width <= 50 else [0.0]


def curl_example(url: str, auth: AuthMode, row: list[float]) -> str:
    """A ``curl`` line scoring one row, with a placeholder where the key goes."""
    lines = [f"curl -s {shlex.quote(url)} \\"]
    if auth == AuthMode.KEY:
        lines.append(f'  -H "Authorization: Bearer {KEY_PLACEHOLDER}" \\')
    lines.append('  -H "Content-Type: application/json" \\')
    lines.append(f"  -d {shlex.quote(json.dumps({'inputs': [row]}))}")
    return "\n".join(lines)


def scoring_url(request: Request, endpoint: Endpoint) -> str:
    """The absolute URL to score on, as this server was reached."""
    return str(request.base_url).rstrip("/") + endpoint.scoring_path


@page_route(router, "/endpoints")
def endpoints_page(ui: UiPage, serving: Serving, page_token: str | None = None) -> HTMLResponse:
    """The workspace's online endpoints by name: auth mode, deployments, traffic split."""
    page = serving.list_endpoints(ui.workspace, ENDPOINTS_PER_PAGE, page_token)
    return ui.render(
        "endpoints.html",
        nav="endpoints",
        rows=[(e, traffic_text(e.traffic)) for e in map(endpoint_out, page.items)],
        **pager(page_token, ENDPOINTS_PER_PAGE, page.next_page_token),
    )


@page_route(router, "/endpoints/{name}")
def endpoint_page(
    ui: UiPage, serving: Serving, registry: Registry, name: str, request: Request
) -> HTMLResponse:
    """An endpoint: its deployments, traffic and mirror shares, scoring URL and a curl example.

    The keys are never rendered (readers may see this page; only contributors read keys).
    """
    endpoint = endpoint_out(serving.get_endpoint(ui.workspace, name))
    url = scoring_url(request, endpoint)
    return ui.render(
        "endpoint.html",
        nav="endpoints",
        endpoint=endpoint,
        traffic=traffic_text(endpoint.traffic),
        mirror=traffic_text(endpoint.mirror),
        scoring_url=url,
        curl=curl_example(url, endpoint.auth, example_row(registry, ui.workspace, endpoint)),
        key_placeholder=KEY_PLACEHOLDER,
    )
