"""Wiring of online serving into the main app: its store, service, host, REST and scoring routes.

``trainyard up`` serves endpoints in-process: the scoring routes go first in the app's route
list (matched before the API's), and the host follows the store like a ``trainyard serve``
replica does, so a change made through any server sharing the database reaches this one too.
The registry gets serving's delete guard here: a version a deployment serves cannot be deleted.
"""

from __future__ import annotations

from fastapi import FastAPI

from trainyard.registry import RegistryService
from trainyard.server.routers import endpoints
from trainyard.server.scoring import scoring_routes
from trainyard.server.scoring_asgi import ScoringFastPath
from trainyard.serving import Scoring, ScoringHost, ServedVersionsGuard, ServingService
from trainyard.store import ArtifactStore
from trainyard.store.sql.engine import Database
from trainyard.store.sql.serving import SqlServingStore


def install_serving(
    app: FastAPI, db: Database, artifacts: ArtifactStore, registry: RegistryService
) -> ScoringHost:
    """Build the serving service and host on ``app.state``; include the routes; the host.

    The caller starts the host when the app starts and stops it when it stops.
    """
    store = SqlServingStore(db)
    budget = app.state.settings.scoring_inline_us / 1e6
    host = ScoringHost(store, registry, artifacts, inline_budget_s=budget)
    app.state.serving = ServingService(store, registry, host)
    registry.add_delete_guard(ServedVersionsGuard(store))
    app.state.scoring_host = host
    app.include_router(endpoints.router)
    scoring = app.state.scoring = Scoring(host)  # found there by ScoringHttpProtocol
    app.router.routes[0:0] = scoring_routes(scoring)
    app.add_middleware(ScoringFastPath, scoring=scoring)  # scoring skips the app's stack
    return host
