"""The routing table: which deployment answers a request, as one immutable object.

A :class:`RoutingTable` maps (workspace, endpoint) to a :class:`Route`, which holds the
endpoint's keys, its :class:`Target` s (one loaded deployment each, with its limits) and its
traffic as running totals. The host builds a whole new table for every change and swaps the
reference (``host.table = new``, one store to one attribute), so a request sees the old table
or the new one, never a mixture: a traffic change is atomic for scoring.
"""

from __future__ import annotations

import hmac
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from trainyard.core.serving import RequestLimits, pick
from trainyard.errors import NotFound, Unauthenticated, Unavailable
from trainyard.serving.batching import Batcher
from trainyard.serving.metrics import Series
from trainyard.serving.runtime import DeploymentRuntime


@dataclass(frozen=True, slots=True)
class Target:
    """A loaded deployment as routes see it."""

    name: str
    runtime: DeploymentRuntime
    limits: RequestLimits
    log_requests: bool
    series: Series
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    """The answer headers naming the deployment and model version (built once)."""
    batcher: Batcher | None = None
    """Where its small requests wait to run together (None: batching off)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: keys, targets and traffic (see the module docstring)."""

    workspace: str
    name: str
    open: bool
    keys: tuple[bytes, ...]
    targets: dict[str, Target]
    names: tuple[str, ...]
    bounds: tuple[int, ...]
    mirror: Target | None = None
    mirror_percent: int = 0
    missing: dict[str, str] = field(default_factory=dict)
    """Deployments that could not be loaded here, with why (requests to them are 503s)."""

    def authorize(self, authorization: str | None) -> None:
        """Check ``Authorization: Bearer <key>`` against both keys (constant time).

        Raises:
            Unauthenticated: key auth and no key, or a key that is neither.
        """
        if self.open:
            return
        if not authorization or authorization[:7].lower() != "bearer ":
            raise Unauthenticated(
                f"endpoint {self.name!r} needs a key: send 'Authorization: Bearer <key>' "
                f"(trainyard endpoint keys {self.name})"
            )
        given = authorization[7:].strip().encode()
        ok = False
        for key in self.keys:
            ok |= hmac.compare_digest(given, key)
        if not ok:
            raise Unauthenticated(f"the key is not a key of endpoint {self.name!r}")

    def choose(self, wanted: str | None, draw: Callable[[int], int] = random.randrange) -> Target:
        """The target for a request: the one ``wanted`` names (the ``X-Trainyard-Deployment``
        header), else one drawn by traffic share.

        Raises:
            NotFound: ``wanted`` is no deployment of this endpoint.
            Unavailable: no deployment takes traffic, or the chosen one is not loaded.
        """
        if wanted:
            found = self.targets.get(wanted)
            if found is None:
                if wanted in self.missing:
                    raise Unavailable(self.missing[wanted])
                raise NotFound(
                    f"endpoint {self.name!r} has no deployment {wanted!r} "
                    f"(its deployments: {sorted(self.targets)})"
                )
            return found
        if not self.names:
            raise Unavailable(
                f"endpoint {self.name!r} has no deployment taking traffic: create one "
                f"(trainyard deployment create {self.name} NAME --model MODEL:VERSION)"
            )
        names = self.names
        name = names[0] if len(names) == 1 else pick(names, self.bounds, draw(100))
        target = self.targets.get(name)
        if target is None:
            raise Unavailable(self.missing.get(name, f"deployment {name!r} is not loaded yet"))
        return target

    def for_version(self, version: str, wanted: str | None = None) -> Target:
        """The target serving model version ``version`` (the OIP ``/versions/{v}`` routes):
        the deployment ``wanted`` names if it serves it, else the one with the largest traffic
        share among those that do, else any deployment serving it.

        Raises:
            NotFound: no deployment here serves that version (the message lists those served).
        """
        served = {t.runtime.model_version for t in self.targets.values()}
        if wanted:
            target = self.choose(wanted)
            if str(target.runtime.model_version) == version:
                return target
        else:
            shares = dict(zip(self.names, _shares(self.bounds), strict=True))
            candidates = [
                t for t in self.targets.values() if str(t.runtime.model_version) == version
            ]
            if candidates:
                return max(candidates, key=lambda t: shares.get(t.name, -1))
        raise NotFound(
            f"endpoint {self.name!r} serves no model version {version!r}"
            + (f" on deployment {wanted!r}" if wanted else "")
            + f" (versions served: {sorted(served)})"
        )

    def largest(self) -> str | None:
        """The deployment with the largest traffic share (None without traffic)."""
        if not self.names:
            return None
        shares = _shares(self.bounds)
        return self.names[shares.index(max(shares))]

    def versions(self) -> list[str]:
        """The model versions this endpoint's loaded deployments serve, in order."""
        return [str(v) for v in sorted({t.runtime.model_version for t in self.targets.values()})]

    def mirrors(self, draw: Callable[[int], int] = random.randrange) -> Target | None:
        """The mirror target if this request is to be copied to it."""
        if self.mirror is not None and draw(100) < self.mirror_percent:
            return self.mirror
        return None


def _shares(bounds: tuple[int, ...]) -> list[int]:
    """Traffic percents from running totals."""
    return [b - a for a, b in zip((0, *bounds), bounds, strict=False)]


@dataclass(frozen=True, slots=True)
class RoutingTable:
    """Every endpoint's route at one store revision."""

    revision: int = -1
    routes: dict[tuple[str, str], Route] = field(default_factory=dict)

    def route(self, workspace: str, name: str) -> Route:
        """The endpoint's route.

        Raises:
            NotFound: no such endpoint in the workspace.
        """
        found = self.routes.get((workspace, name))
        if found is None:
            raise NotFound(f"endpoint {name!r} does not exist in workspace {workspace!r}")
        return found

    def runtimes(self) -> set[DeploymentRuntime]:
        """Every runtime the table uses."""
        return {t.runtime for r in self.routes.values() for t in r.targets.values()} | {
            r.mirror.runtime for r in self.routes.values() if r.mirror is not None
        }
