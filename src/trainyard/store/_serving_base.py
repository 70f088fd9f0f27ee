"""Repository interface of online endpoints and deployments. The serving service depends on it;
backends are injected (``store/sql/serving.py`` for SQLite and PostgreSQL).

Contract (checked by ``trainyard.testing.serving_suite`` on every backend), on top of the store
contract of ``store/_base.py`` (thread safety, durability, all-or-nothing writes):

- An endpoint name is unique in its workspace (``AlreadyExists``); missing endpoints raise
  ``NotFound`` naming them.
- ``change_endpoint`` calls ``mutate(current)`` under the endpoint's row lock and writes what it
  returns in the same transaction: two concurrent changes are applied one after the other, each
  seeing the other's result, so a traffic map is never computed from a stale set of
  deployments. When ``mutate`` raises, nothing is written.
- Every write (endpoint or deployment) bumps one store-wide ``revision`` in its transaction:
  a scoring replica that reads an unchanged revision knows nothing changed.
- When a change carries ``history``, the deployment it puts is added to that deployment's
  model history (:class:`~trainyard.core.deployment_history.DeploymentEvent`) in the same
  transaction, dated ``now``; a deployment's history goes when the deployment or its endpoint
  is deleted (or replaced by ``delete_deployments`` then ``put_deployment``).
- ``list_history`` pages a deployment's history newest first (an unknown deployment has none).
- ``snapshot`` returns the revision and every endpoint with its deployments, read in one
  transaction (consistent with that revision).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

from trainyard.core.deployment_history import ChangeReason, DeploymentEvent
from trainyard.core.serving import AuthMode, Deployment, Endpoint, EndpointKeys


@dataclass(frozen=True, slots=True)
class EndpointChange:
    """What ``mutate`` asks ``change_endpoint`` to write; None/empty fields change nothing.
    ``history``: record ``put_deployment``'s model version in its history, for this reason."""

    auth: AuthMode | None = None
    description: str | None = None
    keys: EndpointKeys | None = None
    traffic: dict[str, int] | None = None
    mirror: dict[str, int] | None = None
    put_deployment: Deployment | None = None
    delete_deployments: tuple[str, ...] = field(default_factory=tuple)
    history: ChangeReason | None = None


class ServingStore(abc.ABC):
    """Endpoints, their deployments and traffic, and the store-wide revision."""

    @abc.abstractmethod
    def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        """Record a new endpoint (no deployments); ``AlreadyExists`` if the name is taken."""

    @abc.abstractmethod
    def get_endpoint(self, workspace: str, name: str) -> Endpoint:
        """The endpoint with its keys, traffic and deployments."""

    @abc.abstractmethod
    def list_endpoints(
        self, workspace: str, max_results: int, offset: int
    ) -> tuple[list[Endpoint], bool]:
        """A page of the workspace's endpoints by name, and whether more follow."""

    @abc.abstractmethod
    def change_endpoint(
        self, workspace: str, name: str, mutate: Callable[[Endpoint], EndpointChange], now: int
    ) -> Endpoint:
        """Apply ``mutate(current)`` atomically under the endpoint's lock; the result."""

    @abc.abstractmethod
    def delete_endpoint(self, workspace: str, name: str) -> Endpoint:
        """Delete the endpoint and its deployments; return what it was."""

    @abc.abstractmethod
    def list_history(
        self, workspace: str, endpoint: str, deployment: str, max_results: int, offset: int
    ) -> tuple[list[DeploymentEvent], bool]:
        """A page of a deployment's model history, newest first, and whether more follow."""

    @abc.abstractmethod
    def revision(self) -> int:
        """The store-wide revision of serving state (grows with every write)."""

    @abc.abstractmethod
    def snapshot(self) -> tuple[int, list[Endpoint]]:
        """The revision and every endpoint of every workspace, in one consistent read."""
