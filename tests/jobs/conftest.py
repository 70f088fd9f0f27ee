"""In-process jobs services over a real SQLite store and a local artifact folder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from trainyard.jobs import AssetService, JobsConfig, JobService
from trainyard.store import open_artifacts
from trainyard.store.sql.assets import SqlAssetStore
from trainyard.store.sql.jobs import SqlJobStore
from trainyard.store.sql.tracking import SqlTrackingStore
from trainyard.tracking import TrackingService


@dataclass
class Services:
    """The services a server would build, without the server."""

    home: Path
    tracking: TrackingService
    assets: AssetService
    jobs: JobService

    def upload(self, kind: str, name: str, version: str, files: dict[str, bytes]) -> None:
        """Store files of an asset version, as the upload route does."""
        from trainyard.core.jobs import AssetKind

        for path, data in files.items():
            with self.assets.upload("default", AssetKind(kind), name, version, path) as w:
                w.write(data)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'trainyard.db'}")
    artifacts = open_artifacts(str(tmp_path / "artifacts"))
    tracking = TrackingService(store, artifacts)
    assets = AssetService(SqlAssetStore(store.db), artifacts)
    # adopt_orphans off: this test process also starts servers, whose orphans must go to init
    config = JobsConfig(
        home=tmp_path, server_url="http://127.0.0.1:9", log_interval=0.2, adopt_orphans=False
    )
    jobs = JobService(SqlJobStore(store.db), assets, tracking, config)
    yield Services(tmp_path, tracking, assets, jobs)
    store.close()
