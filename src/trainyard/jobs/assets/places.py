"""Computes and datastores: where a job runs and where its data lives.

Both exist per workspace and are replaced in place rather than versioned. ``local`` (processes
on the server's machine, one slot per core) is a compute until one of that name is registered;
``default`` is the datastore of the artifact store, rooted at ``assets/<workspace>/`` so a
workspace reaches only its own files there, and cannot be replaced.
"""

from __future__ import annotations

import os

from trainyard.core.jobs import (
    DEFAULT_COMPUTE,
    DEFAULT_DATASTORE,
    Compute,
    Datastore,
    check_asset_name,
)
from trainyard.errors import InvalidArgument
from trainyard.jobs import datastores
from trainyard.jobs.assets._base import STORE_PREFIX, AssetBase, now_ms
from trainyard.jobs.assets.convert import datastore_out
from trainyard.schemas import assets as wire
from trainyard.store.artifacts.paths import join_key


def _builtin_local(workspace: str) -> Compute:
    return Compute(
        workspace,
        DEFAULT_COMPUTE,
        "local",
        os.cpu_count() or 1,
        None,
        "Processes on the server's machine, one slot per core.",
        builtin=True,
    )


def _default_datastore(workspace: str) -> wire.Datastore:
    return wire.Datastore(
        name=DEFAULT_DATASTORE,
        type="artifact_store",
        url=f"store:assets/{workspace}",
        description="The server's artifact store (this workspace's uploaded assets).",
        builtin=True,
    )


class ComputesMixin(AssetBase):
    """Create, read and list computes (``local`` included)."""

    def put_compute(self, workspace: str, name: str, body: wire.ComputeCreate) -> wire.Compute:
        """Create or replace a compute; ``ray`` needs the cluster's dashboard address."""
        check_asset_name("compute", name)
        if body.type == "ray":
            if not body.address or not body.address.startswith(("http://", "https://")):
                raise InvalidArgument(
                    "a ray compute needs address: the Ray dashboard URL, e.g. "
                    "http://127.0.0.1:8265 (what `ray start --head` prints)"
                )
        elif body.address:
            raise InvalidArgument("a local compute takes no address")
        slots = body.slots or ((os.cpu_count() or 1) if body.type == "local" else 4)
        c = Compute(workspace, name, body.type, slots, body.address, body.description, now_ms())
        return wire.Compute.model_validate(self.store.put_compute(c))

    def get_compute(self, workspace: str, name: str) -> Compute:
        """The compute; ``local`` exists unless replaced, with one slot per core."""
        if name == DEFAULT_COMPUTE and not any(
            c.name == name for c in self.store.list_computes(workspace)
        ):
            return _builtin_local(workspace)
        return self.store.get_compute(workspace, name)

    def list_computes(self, workspace: str) -> list[wire.Compute]:
        """Every compute of the workspace, ``local`` included."""
        stored = self.store.list_computes(workspace)
        if not any(c.name == DEFAULT_COMPUTE for c in stored):
            stored = [_builtin_local(workspace), *stored]
        return [wire.Compute.model_validate(c) for c in stored]


class DatastoresMixin(AssetBase):
    """Register, read and list datastores; resolve ``datastore://`` URIs to locations."""

    def put_datastore(
        self, workspace: str, name: str, body: wire.DatastoreCreate
    ) -> tuple[wire.Datastore, bool]:
        """Register a datastore (True) or replace its URL, description and tags (False)."""
        check_asset_name("datastore", name)
        if name == DEFAULT_DATASTORE:
            raise InvalidArgument(
                f"{name!r} is the built-in datastore (the artifact store); choose another name"
            )
        url = datastores.check_url(body.url)
        now = now_ms()
        found, created = self.store.put_datastore(
            Datastore(workspace, name, url, body.description, body.tags, now, now)
        )
        return datastore_out(found), created

    def get_datastore(self, workspace: str, name: str) -> wire.Datastore:
        """A datastore; ``default`` is the artifact store."""
        if name == DEFAULT_DATASTORE:
            return _default_datastore(workspace)
        return datastore_out(self.store.get_datastore(workspace, name))

    def list_datastores(self, workspace: str) -> list[wire.Datastore]:
        """``default``, then every registered datastore by name."""
        stored = [datastore_out(d) for d in self.store.list_datastores(workspace)]
        return [_default_datastore(workspace), *stored]

    def datastore_location(self, workspace: str, uri: str) -> str:
        """``datastore://<name>/<path>`` as ``store:<key>`` (``default``) or a URL.

        ``default`` is rooted at ``assets/<workspace>/`` of the artifact store, so a workspace
        reaches only its own files there.

        Raises:
            InvalidArgument: a malformed URI, or a path out of the datastore's root.
            NotFound: no such datastore.
        """
        name, rel = datastores.parse_uri(uri)
        if name == DEFAULT_DATASTORE:
            return STORE_PREFIX + join_key(f"assets/{workspace}", rel, allow_empty=True)
        ds = self.store.get_datastore(workspace, name)
        if ds.url.startswith("file://"):
            datastores.local_path(ds.url, rel)  # no symlink out of the folder
        return datastores.location(ds.url, rel)
