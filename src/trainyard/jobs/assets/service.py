"""The asset service: one class assembled from the asset mixins, sharing their stores."""

from __future__ import annotations

from trainyard.jobs.assets.data import DataMixin
from trainyard.jobs.assets.places import ComputesMixin, DatastoresMixin
from trainyard.jobs.assets.snapshots import CodeMixin, EnvironmentsMixin
from trainyard.store import ArtifactStore
from trainyard.store._jobs_base import AssetStore


class AssetService(DataMixin, EnvironmentsMixin, CodeMixin, ComputesMixin, DatastoresMixin):
    """Register, read and list assets; check uploads; know the computes and datastores.

    Example::

        assets = AssetService(SqlAssetStore(db), artifacts)
        with assets.upload("default", AssetKind.CODE, "train", "1", "train.py") as f:
            f.write(source)
        code, created = assets.put_code("default", "train", "1", CodeAssetCreate())
    """

    def __init__(self, store: AssetStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts
