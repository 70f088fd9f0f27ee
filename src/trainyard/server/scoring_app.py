"""The app of a dedicated scoring replica (``trainyard serve``): scoring routes, health, metrics.

Each worker process builds one with :func:`create_scoring_app` (uvicorn calls it as a factory):
it opens the metadata store (without migrating it: ``trainyard serve`` did that once before
starting the workers) and the artifact store named by the ``TRAINYARD_*`` settings, loads every
endpoint, and follows the store's changes (the host polls its revision every second). There is
no API here and no platform token: requests authenticate with endpoint keys.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from trainyard.config import Settings
from trainyard.jobs.assets import AssetService
from trainyard.registry import RegistryService
from trainyard.server.errors import _CODE_BY_STATUS, error_response
from trainyard.server.request_assets import request_log_asset_hook
from trainyard.server.scoring import scoring_routes
from trainyard.server.scoring_asgi import ScoringFastPath
from trainyard.serving import Scoring, ScoringHost
from trainyard.store import open_artifacts
from trainyard.store.sql.assets import SqlAssetStore
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.serving import SqlServingStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.tracking import TrackingService

log = logging.getLogger("trainyard.server")


def create_scoring_app(settings: Settings | None = None) -> Starlette:
    """A scoring replica's app for ``settings`` (default: read from ``TRAINYARD_*``)."""
    settings = settings or Settings()
    store = SqlTrackingStore(settings.resolved_database_url, migrate=False)
    artifacts = open_artifacts(settings.resolved_artifacts)
    registry = RegistryService(
        SqlRegistryStore(store.db), TrackingService(store, artifacts), artifacts
    )
    budget = settings.scoring_inline_us / 1e6
    host = ScoringHost(SqlServingStore(store.db), registry, artifacts, inline_budget_s=budget)
    assets = AssetService(SqlAssetStore(store.db), artifacts)
    host.request_log.on_folder = request_log_asset_hook(assets)  # as trainyard up does

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        host.start()
        log.info("scoring replica ready: %d endpoints", len(host.table.routes))
        yield
        host.stop()
        store.close()

    async def not_found(_: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = "no such route: this is a scoring replica (/endpoints/NAME/score, /v2/...)"
        return error_response(_CODE_BY_STATUS.get(status, "INTERNAL"), message, status=status)

    scoring = Scoring(host)
    app = Starlette(
        routes=scoring_routes(scoring),
        middleware=[Middleware(ScoringFastPath, scoring=scoring)],
        lifespan=lifespan,
        exception_handlers={HTTPException: not_found},
    )
    app.state.scoring_host = host
    app.state.scoring = scoring  # found there by ScoringHttpProtocol
    return app
