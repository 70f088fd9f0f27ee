"""Storage: the metadata store (SQLAlchemy) and the artifact store (fsspec), chosen by URL."""

from __future__ import annotations

from trainyard.store._base import ArtifactStore, TrackingStore


def open_store(url: str, *, migrate: bool = True) -> TrackingStore:
    """Open the metadata store at ``url`` (``sqlite:///...`` or ``postgresql://...``).

    Migrations are applied first unless ``migrate`` is False.
    """
    from trainyard.store.sql.tracking import SqlTrackingStore

    return SqlTrackingStore(url, migrate=migrate)


def open_artifacts(url: str) -> ArtifactStore:
    """Open the artifact store rooted at ``url`` (a local folder or any fsspec URL)."""
    from trainyard.store.artifacts.fsspec_store import FsspecArtifactStore

    return FsspecArtifactStore(url)


__all__ = ["ArtifactStore", "TrackingStore", "open_artifacts", "open_store"]
