"""The wire forms of stored asset versions and datastores (``trainyard.schemas.assets``)."""

from __future__ import annotations

from typing import Any

from trainyard.core.jobs import AssetVersion, Datastore
from trainyard.schemas import assets as wire


def _common(a: AssetVersion) -> dict[str, Any]:
    return {
        "name": a.name,
        "version": a.version,
        "description": a.description,
        "tags": a.tags,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def environment_out(a: AssetVersion) -> wire.Environment:
    """The wire form of an environment version."""
    return wire.Environment(**_common(a), **a.spec)


def data_out(a: AssetVersion) -> wire.DataAsset:
    """The wire form of a data asset version."""
    return wire.DataAsset(**_common(a), **a.spec)


def code_out(a: AssetVersion) -> wire.CodeAsset:
    """The wire form of a code asset version."""
    return wire.CodeAsset(**_common(a), **a.spec)


def datastore_out(d: Datastore) -> wire.Datastore:
    """The wire form of a registered datastore."""
    return wire.Datastore(
        name=d.name,
        type=d.url.split("://", 1)[0],
        url=d.url,
        description=d.description,
        tags=d.tags,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )
