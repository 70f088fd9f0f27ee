"""The serving service: endpoints, deployments, keys and traffic, on the serving store.

Rules kept here (the store only keeps them atomic):

- A deployment's model reference is resolved when the deployment is created or its model is
  updated, and the version it named is recorded: ``churn@champion`` does not move the
  deployment when the alias moves later; update the deployment to follow it.
- Before anything is recorded, the model is loaded and warmed (``host.prepare``): a model that
  ONNX Runtime cannot load or run is refused with a 400 and nothing changes.
- The first deployment of an endpoint gets 100% of the traffic; later ones get 0% until
  ``set_traffic`` gives them a share.
- A deployment that takes live traffic cannot be deleted while others remain (move its traffic
  first); deleting the mirror target stops the mirroring.
- A deployment's ``batching`` (off when ``None``) is checked against its limits whenever either
  changes: ``batching.max_rows`` may not exceed ``limits.max_rows``.
- Every change of a deployment's model version (create, update, rollback) is added to its
  history in the same transaction; ``rollback_deployment`` goes back to an earlier entry through
  the same path as an update (resolved, loaded and warmed before it takes traffic).
- Each write is followed by ``host.sync()``, so this process serves the change before the call
  returns; scoring replicas follow within their poll interval.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Literal

from trainyard.core.deployment_history import ChangeReason, DeploymentEvent, rollback_target
from trainyard.core.entities import Page
from trainyard.core.paging import decode_token, encode_token
from trainyard.core.registry import ModelVersionStatus
from trainyard.core.serving import (
    AuthMode,
    Batching,
    Deployment,
    Endpoint,
    EndpointKeys,
    KeyName,
    RequestLimits,
    check_mirror,
    check_replicas,
    check_serving_name,
    check_traffic,
)
from trainyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from trainyard.registry import RegistryService
from trainyard.serving.host import ScoringHost
from trainyard.store._serving_base import EndpointChange, ServingStore

KEY_PREFIX = "tyk_"


def new_key() -> str:
    """A scoring key: ``tyk_`` and 43 URL-safe random characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _now() -> int:
    return int(time.time() * 1000)


class ServingService:
    """Endpoints and deployments (see the module docstring).

    Args:
        store: the serving store.
        registry: resolves model references.
        host: this process's scoring host (None: changes are only recorded).
    """

    def __init__(
        self, store: ServingStore, registry: RegistryService, host: ScoringHost | None
    ) -> None:
        self.store = store
        self.registry = registry
        self.host = host

    def _synced(self, endpoint: Endpoint) -> Endpoint:
        if self.host is not None:
            self.host.sync()
        return endpoint

    # ---------------------------------------------------------------- endpoints
    def create_endpoint(
        self, workspace: str, name: str, auth: AuthMode = AuthMode.KEY, description: str = ""
    ) -> Endpoint:
        """A new endpoint with two fresh keys and no deployment."""
        self.registry.tracking.get_workspace(workspace)
        now = _now()
        endpoint = Endpoint(
            workspace=workspace,
            name=check_serving_name("endpoint", name),
            auth=AuthMode(auth),
            keys=EndpointKeys(new_key(), new_key()),
            description=description,
            created_at=now,
            updated_at=now,
        )
        return self._synced(self.store.create_endpoint(endpoint))

    def get_endpoint(self, workspace: str, name: str) -> Endpoint:
        """The endpoint with its deployments and traffic."""
        return self.store.get_endpoint(workspace, name)

    def list_endpoints(
        self, workspace: str, max_results: int = 100, page_token: str | None = None
    ) -> Page[Endpoint]:
        """A page of endpoints by name."""
        self.registry.tracking.get_workspace(workspace)
        offset = decode_token(page_token)
        items, more = self.store.list_endpoints(workspace, max_results, offset)
        return Page(items, encode_token(offset + len(items)) if more else None)

    def update_endpoint(
        self,
        workspace: str,
        name: str,
        auth: AuthMode | None = None,
        description: str | None = None,
    ) -> Endpoint:
        """Change the auth mode and/or the description."""
        mode = None if auth is None else AuthMode(auth)
        change = EndpointChange(auth=mode, description=description)
        return self._synced(self.store.change_endpoint(workspace, name, lambda _: change, _now()))

    def delete_endpoint(self, workspace: str, name: str) -> None:
        """Delete the endpoint and its deployments (their sessions drain, then close)."""
        self.store.delete_endpoint(workspace, name)
        if self.host is not None:
            self.host.sync()

    def keys(self, workspace: str, name: str) -> EndpointKeys:
        """Both scoring keys."""
        return self.store.get_endpoint(workspace, name).keys

    def regenerate_key(self, workspace: str, name: str, which: KeyName) -> EndpointKeys:
        """Replace one key; the old one stops working at once, the other keeps working."""
        which = KeyName(which)

        def mutate(e: Endpoint) -> EndpointChange:
            k = e.keys
            fresh = new_key()
            keys = (
                EndpointKeys(fresh, k.secondary)
                if which is KeyName.PRIMARY
                else (EndpointKeys(k.primary, fresh))
            )
            return EndpointChange(keys=keys)

        return self._synced(self.store.change_endpoint(workspace, name, mutate, _now())).keys

    def set_traffic(
        self,
        workspace: str,
        name: str,
        traffic: Mapping[str, int],
        mirror: Mapping[str, int] | None = None,
    ) -> Endpoint:
        """Replace the traffic shares (and the mirror, when given) in one atomic write."""

        def mutate(e: Endpoint) -> EndpointChange:
            full = check_traffic(traffic, list(e.deployments))
            shares = check_mirror(e.mirror if mirror is None else mirror, full, list(e.deployments))
            return EndpointChange(traffic=full, mirror=shares)

        return self._synced(self.store.change_endpoint(workspace, name, mutate, _now()))

    # ---------------------------------------------------------------- deployments
    def get_deployment(self, workspace: str, endpoint: str, name: str) -> Deployment:
        """One deployment of an endpoint."""
        return self._deployment(self.store.get_endpoint(workspace, endpoint), name)

    def create_deployment(
        self,
        workspace: str,
        endpoint: str,
        name: str,
        model: str,
        replicas: int = 1,
        limits: RequestLimits | None = None,
        log_requests: bool = False,
        batching: Batching | None = None,
    ) -> Deployment:
        """Resolve ``model``, load and warm it, then record the deployment (``batching``
        None: off)."""
        check_serving_name("deployment", name)
        limits = (limits or RequestLimits()).checked()
        if batching is not None:
            batching = batching.checked(limits)
        current = self.store.get_endpoint(workspace, endpoint)
        if name in current.deployments:
            raise AlreadyExists(f"endpoint {endpoint!r} has a deployment {name!r} already")
        now = _now()
        d = self._resolved(
            Deployment(
                workspace=workspace,
                endpoint=endpoint,
                name=name,
                model_ref=model,
                model_name="",
                model_version=0,
                model_id="",
                replicas=check_replicas(replicas),
                limits=limits,
                log_requests=bool(log_requests),
                batching=batching,
                created_at=now,
                updated_at=now,
            )
        )

        def mutate(e: Endpoint) -> EndpointChange:
            if name in e.deployments:
                raise AlreadyExists(f"endpoint {endpoint!r} has a deployment {name!r} already")
            self._still_registered(d)
            first = sum(e.traffic.values()) == 0
            traffic = {**e.traffic, name: 100 if first else 0}
            return EndpointChange(traffic=traffic, put_deployment=d, history=ChangeReason.CREATED)

        return self._write(d, mutate).deployments[name]

    def update_deployment(
        self,
        workspace: str,
        endpoint: str,
        name: str,
        model: str | None = None,
        replicas: int | None = None,
        limits: RequestLimits | None = None,
        log_requests: bool | None = None,
        batching: Batching | Literal[False] | None = None,
    ) -> Deployment:
        """Change a deployment; a new model or replica count loads before it takes over.
        Arguments left None keep their value; ``batching=False`` switches batching off."""
        old = self._deployment(self.store.get_endpoint(workspace, endpoint), name)
        limits = old.limits if limits is None else limits.checked()
        batched = old.batching if batching is None else (None if batching is False else batching)
        if batched is not None:
            batched = batched.checked(limits)
        d = Deployment(
            workspace=workspace,
            endpoint=endpoint,
            name=name,
            model_ref=old.model_ref if model is None else model,
            model_name=old.model_name,
            model_version=old.model_version,
            model_id=old.model_id,
            replicas=old.replicas if replicas is None else check_replicas(replicas),
            limits=limits,
            log_requests=old.log_requests if log_requests is None else bool(log_requests),
            batching=batched,
            created_at=old.created_at,
            updated_at=_now(),
        )
        if model is not None:
            d = self._resolved(d)  # the reference again: an alias is followed now
        elif d.replicas != old.replicas:
            d = self._resolved(d, old.model_id)  # the same version, with new sessions

        def mutate(e: Endpoint) -> EndpointChange:
            current = self._deployment(e, name)
            if d.model_id != old.model_id:
                self._still_registered(d)
            changed = d.model_id != current.model_id
            return EndpointChange(
                put_deployment=d, history=ChangeReason.UPDATED if changed else None
            )

        return self._write(d, mutate).deployments[name]

    def rollback_deployment(
        self, workspace: str, endpoint: str, name: str, to_version: int | None = None
    ) -> Deployment:
        """Serve again a model version the deployment served before: by default the last one
        other than the current, else the most recent entry of version ``to_version``.

        The version is loaded and warmed before it takes over, exactly as in an update; the
        deployment's reference becomes ``NAME:VERSION``, and the rest of it is kept.

        Raises:
            Conflict: no earlier version, ``to_version`` is the current one, or the deployment
                changed while the version loaded.
            NotFound: no such endpoint or deployment, a ``to_version`` it never served, or the
                version was deleted from the registry (the message names it).
        """
        old = self.get_deployment(workspace, endpoint, name)
        target = rollback_target(
            name, old.model_id, self._history(workspace, endpoint, name), to_version
        )
        ref = f"{target.model_name}:{target.model_version}"
        try:
            self.registry.resolve(workspace, target.model_id)
        except NotFound:
            raise NotFound(
                f"{ref}, which deployment {name!r} served before, was deleted from the registry: "
                "roll back to another version (--to-version) or update it with --model"
            ) from None
        d = self._resolved(replace(old, model_ref=ref, updated_at=_now()), target.model_id)

        def mutate(e: Endpoint) -> EndpointChange:
            current = self._deployment(e, name)
            if current.model_id != old.model_id:
                raise Conflict(
                    f"deployment {name!r} changed while rolling back (it now serves "
                    f"{current.model_name}:{current.model_version}): look at its history and "
                    "try again"
                )
            self._still_registered(d)
            return EndpointChange(put_deployment=d, history=ChangeReason.ROLLED_BACK)

        return self._write(d, mutate).deployments[name]

    def deployment_history(
        self,
        workspace: str,
        endpoint: str,
        name: str,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[DeploymentEvent]:
        """A page of the model versions the deployment served, newest first."""
        self.get_deployment(workspace, endpoint, name)
        offset = decode_token(page_token)
        items, more = self.store.list_history(workspace, endpoint, name, max_results, offset)
        return Page(items, encode_token(offset + len(items)) if more else None)

    def delete_deployment(self, workspace: str, endpoint: str, name: str) -> Endpoint:
        """Delete a deployment that takes no live traffic (or is the last one)."""

        def mutate(e: Endpoint) -> EndpointChange:
            self._deployment(e, name)
            share = e.traffic.get(name, 0)
            if share > 0 and len(e.deployments) > 1:
                raise Conflict(
                    f"deployment {name!r} takes {share}% of endpoint {endpoint!r}'s traffic: "
                    f"move it to the other deployments first (trainyard endpoint traffic "
                    f"{endpoint} ...)"
                )
            traffic = {k: v for k, v in e.traffic.items() if k != name}
            mirror = {k: v for k, v in e.mirror.items() if k != name}
            return EndpointChange(traffic=traffic, mirror=mirror, delete_deployments=(name,))

        return self._synced(self.store.change_endpoint(workspace, endpoint, mutate, _now()))

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _deployment(e: Endpoint, name: str) -> Deployment:
        found = e.deployments.get(name)
        if found is None:
            raise NotFound(
                f"endpoint {e.name!r} has no deployment {name!r} "
                f"(its deployments: {sorted(e.deployments)})"
            )
        return found

    def _still_registered(self, d: Deployment) -> None:
        """The version was not deleted while it loaded. Called under the registry's deletion
        lock (``_write``), so a deletion racing a new deployment is refused by its guard or
        makes this raise ``NotFound``: never both recorded."""
        self.registry.store.get_version_by_id(d.workspace, d.model_id)

    def _history(self, workspace: str, endpoint: str, name: str) -> Iterator[DeploymentEvent]:
        """The deployment's whole history, newest first, read a page at a time."""
        offset, more = 0, True
        while more:
            items, more = self.store.list_history(workspace, endpoint, name, 1000, offset)
            offset += len(items)
            yield from items

    def _resolved(self, d: Deployment, ref: str | None = None) -> Deployment:
        """``d`` with the version ``ref`` (default: its reference) names, loaded and warm."""
        v = self.registry.resolve(d.workspace, ref or d.model_ref)
        if v.status is not ModelVersionStatus.READY:
            raise InvalidArgument(f"{v.name}:{v.version} is {v.status}: {v.status_reason}")
        if self.host is not None:
            self.host.prepare(d.workspace, v.model_id, d.replicas)
        return replace(d, model_name=v.name, model_version=v.version, model_id=v.model_id)

    def _write(self, d: Deployment, mutate: Callable[[Endpoint], EndpointChange]) -> Endpoint:
        try:
            with self.registry.deletion_lock:  # no deletion between the check and the write
                written = self.store.change_endpoint(d.workspace, d.endpoint, mutate, _now())
        except Exception:
            if self.host is not None:
                self.host.discard(d.workspace, d.model_id, d.replicas)
            raise
        return self._synced(written)
