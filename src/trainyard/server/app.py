"""The app factory: the one place where stores, services, routers and handlers are wired."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from trainyard.config import Settings
from trainyard.registry import RegistryService
from trainyard.server.auth import TokenService, bootstrap_admin_token
from trainyard.server.body import document_bodies
from trainyard.server.errors import install_error_handlers
from trainyard.server.jobs import install_jobs
from trainyard.server.mlflow import router as mlflow_router
from trainyard.server.request_assets import request_log_asset_hook
from trainyard.server.routers import artifacts, experiments, models, runs, system, ui
from trainyard.server.serving import install_serving
from trainyard.store import open_artifacts
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.tracking import LoggedModelService, TrackingService

log = logging.getLogger("trainyard.server")


def create_app(settings: Settings) -> FastAPI:
    """Open the stores named by ``settings`` (migrating them), build the services, and the app."""
    from trainyard._version import __version__

    settings.home.mkdir(parents=True, exist_ok=True)
    store = SqlTrackingStore(settings.resolved_database_url)
    artifact_store = open_artifacts(settings.resolved_artifacts)
    tokens = TokenService(store, settings.auth_required)
    written = bootstrap_admin_token(tokens, settings.admin_token_path)
    if written:
        log.warning("auth is required: an owner token was written to %s (mode 0600)", written)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        scheduler.start()  # jobs: recover from a previous server, then schedule
        scoring_host.start()  # endpoints: load and warm every deployment, then follow
        yield
        scoring_host.stop()
        scheduler.stop()
        store.close()

    app = FastAPI(
        title="Trainyard",
        version=__version__,
        description="Self-hosted ML platform: tracking API (native) under /api/v1.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tracking = TrackingService(store, artifact_store)
    app.state.tokens = tokens
    app.state.logged_models = LoggedModelService(store, artifact_store)
    app.state.registry = RegistryService(
        SqlRegistryStore(store.db), app.state.tracking, artifact_store
    )
    install_error_handlers(app)
    document_bodies(app)
    scoring_host = install_serving(app, store.db, artifact_store, app.state.registry)
    scheduler = install_jobs(app, settings, store, artifact_store, app.state.tracking, tokens)
    scoring_host.request_log.on_folder = request_log_asset_hook(app.state.assets)
    for module in (system, experiments, runs, artifacts, models, ui):
        app.include_router(module.router)
    app.include_router(mlflow_router)  # the mlflow client's API, on the same services
    app.mount("/ui/static", StaticFiles(directory=ui.STATIC_DIR), name="ui-static")
    return app


def upgrade_database(settings: Settings) -> str | None:
    """Apply migrations to the configured metadata store; return the revision reached."""
    from trainyard.store.sql.engine import make_engine
    from trainyard.store.sql.migrate import current_revision, upgrade

    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        upgrade(engine)
        return current_revision(engine)
    finally:
        engine.dispose()
