"""An in-process serving stack on a real SQLite file, real artifact folder and real sessions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from trainyard.core.registry import ModelVersion
from trainyard.errors import AlreadyExists
from trainyard.registry import RegistryService
from trainyard.serving import Scoring, ScoringHost, ServingService
from trainyard.serving.protocols import NativeProtocol
from trainyard.store import ArtifactStore, open_artifacts
from trainyard.store.sql.registry import SqlRegistryStore
from trainyard.store.sql.serving import SqlServingStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.tracking import TrackingService

WS = "default"


@dataclass
class Stack:
    """The stores, the registry, the serving service and its host, the request path."""

    folder: Path
    tracking: SqlTrackingStore
    artifacts: ArtifactStore
    registry: RegistryService
    host: ScoringHost
    service: ServingService
    scoring: Scoring

    def register(self, name: str, content: bytes) -> ModelVersion:
        """Upload ``content`` as the next version of ``name`` (created if missing)."""
        with contextlib.suppress(AlreadyExists):
            self.registry.create_model(WS, name)
        path = self.folder / f"upload-{name}.onnx"
        path.write_bytes(content)
        return self.registry.register_upload(WS, name, path)[0]

    def score(
        self, doc: Any, endpoint: str = "ep", deployment: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """Score ``doc`` through the request path (as the HTTP route does); the answer."""
        body = orjson.dumps(doc)

        async def read(limit: int) -> bytes:
            return body

        async def go() -> tuple[bytes, Any]:
            auth = f"Bearer {key}" if key else None
            return await self.scoring.score(
                NativeProtocol(), WS, endpoint, auth, deployment, len(body), read
            )

        payload, _ = asyncio.run(go())
        return orjson.loads(payload)  # type: ignore[no-any-return]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A fresh stack (the host is not started: no poller; service writes sync it)."""
    tracking = SqlTrackingStore(f"sqlite:///{tmp_path / 'trainyard.db'}")
    artifacts = open_artifacts(str(tmp_path / "artifacts"))
    registry = RegistryService(
        SqlRegistryStore(tracking.db), TrackingService(tracking, artifacts), artifacts
    )
    store = SqlServingStore(tracking.db)
    host = ScoringHost(store, registry, artifacts, poll_seconds=3600)
    service = ServingService(store, registry, host)
    yield Stack(tmp_path, tracking, artifacts, registry, host, service, Scoring(host))
    host.stop()
    tracking.close()
