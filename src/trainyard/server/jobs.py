"""Wiring of the jobs subsystem: its stores, services, routers and the scheduler's lifespan."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from trainyard.config import Settings
from trainyard.errors import NotFound
from trainyard.jobs import AssetService, JobsConfig, JobService, Scheduler
from trainyard.server.auth import TokenService
from trainyard.server.routers import assets, jobs
from trainyard.store import ArtifactStore
from trainyard.store.sql.assets import SqlAssetStore
from trainyard.store.sql.jobs import SqlJobStore
from trainyard.store.sql.sweeps import SqlSweepStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.sweeps import SweepController, SweepService
from trainyard.tracking import TrackingService


class _JobTokens:
    """Job-scoped tokens: contributor in the job's workspace, revoked when the job ends."""

    def __init__(self, tokens: TokenService) -> None:
        self.tokens = tokens

    def issue(self, workspace: str, job: str) -> tuple[str, str]:
        created = self.tokens.create(f"job:{workspace}/{job}"[:100], {workspace: "contributor"})
        return created.token_id, created.secret

    def revoke(self, token_id: str) -> None:
        with contextlib.suppress(NotFound):
            self.tokens.revoke(token_id)


def server_url(settings: Settings) -> str:
    """How jobs reach this server: ``TRAINYARD_PUBLIC_URL``, else its own address."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def install_jobs(
    app: FastAPI,
    settings: Settings,
    store: SqlTrackingStore,
    artifacts: ArtifactStore,
    tracking: TrackingService,
    tokens: TokenService,
) -> Scheduler:
    """Build the asset, job and sweep services on ``app.state``, include their routers; the
    scheduler (with the sweep controller).

    The caller starts the scheduler when the app starts and stops it when it stops.
    """
    asset_service = AssetService(SqlAssetStore(store.db), artifacts)
    config = JobsConfig(
        home=settings.home,
        server_url=server_url(settings),
        tokens=_JobTokens(tokens) if settings.auth_required else None,
    )
    job_service = JobService(SqlJobStore(store.db), asset_service, tracking, config)
    sweep_service = SweepService(job_service, SqlSweepStore(store.db))  # jobs of type: sweep
    app.state.assets = asset_service
    app.state.jobs = job_service
    app.state.sweeps = sweep_service
    app.include_router(assets.router)
    app.include_router(jobs.router)
    scheduler = Scheduler(job_service)
    scheduler.controllers.append(SweepController(sweep_service))
    return scheduler
