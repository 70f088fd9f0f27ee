"""Online endpoints and their deployments, and the traffic maths: pure rules, no I/O.

An **endpoint** is a stable scoring address in a workspace (``POST /endpoints/{name}/score``)
with an auth mode and two keys. Its **deployments** each serve one registered model version
(the reference given, ``churn@champion`` say, is resolved once, at create or update time, and
the version it named is recorded), with a number of replicas and request limits.

**Traffic** is a map deployment -> whole percent, summing to 100 over the endpoint's
deployments (deployments left out get 0). **Mirror** traffic copies a percentage of the
requests to one more deployment, which takes no live traffic itself; its answers are compared
with the live ones and logged, never returned.

A route decision draws ``r`` uniformly from ``0..99`` and takes the first deployment whose
cumulative share exceeds ``r`` (:func:`cumulative`, :func:`pick`), so a deployment with ``p``%
gets each request with probability exactly ``p/100``.

**Batching** (off by default) lets a deployment run small concurrent requests as one ONNX Runtime
call (:class:`Batching`; the request path is ``trainyard.serving.batching``).
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from trainyard.errors import InvalidArgument

MAX_REPLICAS = 64
MAX_ROWS_LIMIT = 1_000_000
MAX_BODY_LIMIT = 1 << 30
MAX_TIMEOUT_MS = 600_000
MAX_BATCH_WAIT_US = 100_000
BATCH_REQUEST_ROWS = 4
"""Requests of at most this many rows (and at most half of ``Batching.max_rows``) are batched."""

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


class AuthMode(enum.StrEnum):
    """How scoring requests authenticate: an endpoint key (``Bearer``), or not at all."""

    KEY = "key"
    NONE = "none"


class KeyName(enum.StrEnum):
    """The two keys of an endpoint: rotate one while clients use the other."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


def check_serving_name(kind: str, name: object) -> str:
    """An endpoint or deployment name: a letter, then letters, digits, ``_``, ``-``; 63 at most.

    Raises:
        InvalidArgument: the name breaks the rule (it names the rule).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidArgument(
            f"{kind} name {name!r} must start with a letter and use only letters, digits, '_' "
            "and '-' (63 characters at most)"
        )
    return name


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """What one scoring request may ask of a deployment."""

    max_rows: int = 10_000
    max_body_bytes: int = 16 << 20
    timeout_ms: int = 10_000

    def checked(self) -> RequestLimits:
        """Itself, if every limit is within its bounds (else InvalidArgument naming it)."""
        for label, value, top in (
            ("max_rows", self.max_rows, MAX_ROWS_LIMIT),
            ("max_body_bytes", self.max_body_bytes, MAX_BODY_LIMIT),
            ("timeout_ms", self.timeout_ms, MAX_TIMEOUT_MS),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise InvalidArgument(f"{label} must be an integer from 1 to {top}, got {value!r}")
        return self


@dataclass(frozen=True, slots=True)
class Batching:
    """Dynamic batching of a deployment's small requests (``None`` on a deployment: off).

    Requests of at most :attr:`request_rows` rows wait in the deployment's open batch; the batch
    runs as one ONNX Runtime call once it holds ``max_rows`` rows, or ``max_wait_us``
    microseconds after its first request arrived, whichever comes first. Larger requests run
    alone, as without batching.

    Example::

        Batching(max_rows=32, max_wait_us=500)
    """

    max_rows: int = 32
    max_wait_us: int = 500

    @property
    def request_rows(self) -> int:
        """The most rows a request may carry to be batched (``BATCH_REQUEST_ROWS``, and at most
        half a batch, so that a batch holds two requests at least)."""
        return min(BATCH_REQUEST_ROWS, self.max_rows // 2)

    def checked(self, limits: RequestLimits) -> Batching:
        """Itself, if ``max_rows`` is from 2 to ``limits.max_rows`` and ``max_wait_us`` from 1
        to ``MAX_BATCH_WAIT_US``.

        Raises:
            InvalidArgument: a value out of its bounds; the message and ``details`` name the
                field (``batching.max_rows`` or ``batching.max_wait_us``).
        """
        for label, value, low, top, why in (
            ("max_rows", self.max_rows, 2, limits.max_rows, " (the deployment's limits.max_rows)"),
            ("max_wait_us", self.max_wait_us, 1, MAX_BATCH_WAIT_US, ""),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
                field = f"batching.{label}"
                problem = f"must be an integer from {low} to {top}{why}, got {value!r}"
                raise InvalidArgument(f"{field} {problem}", [{"field": field, "problem": problem}])
        return self


def check_replicas(replicas: object) -> int:
    """A replica count: 1 to ``MAX_REPLICAS``."""
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        raise InvalidArgument(f"replicas must be an integer, got {replicas!r}")
    if not 1 <= replicas <= MAX_REPLICAS:
        raise InvalidArgument(f"replicas must be from 1 to {MAX_REPLICAS}, got {replicas}")
    return replicas


@dataclass(frozen=True, slots=True)
class Deployment:
    """One model version served under an endpoint."""

    workspace: str
    endpoint: str
    name: str
    model_ref: str
    model_name: str
    model_version: int
    model_id: str
    replicas: int = 1
    limits: RequestLimits = field(default_factory=RequestLimits)
    log_requests: bool = False
    batching: Batching | None = None
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class EndpointKeys:
    """The two scoring keys of an endpoint."""

    primary: str
    secondary: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An endpoint with its deployments (by name), traffic and mirror traffic."""

    workspace: str
    name: str
    auth: AuthMode
    keys: EndpointKeys
    description: str = ""
    traffic: dict[str, int] = field(default_factory=dict)
    mirror: dict[str, int] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0


def _percent(kind: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidArgument(
            f"{kind} of deployment {name!r} must be a whole percent from 0 to 100, got {value!r}"
        )
    return value


def _known(kind: str, names: Collection[str], deployments: Collection[str]) -> None:
    unknown = sorted(set(names) - set(deployments))
    if unknown:
        have = ", ".join(sorted(deployments)) or "none yet"
        raise InvalidArgument(
            f"{kind} names {unknown[0]!r}, which is not a deployment of this endpoint "
            f"(its deployments: {have})"
        )


def check_traffic(traffic: Mapping[str, object], deployments: Collection[str]) -> dict[str, int]:
    """The full traffic map for ``traffic``: every deployment, whole percents summing to 100.

    Deployments not named get 0. With no deployments the map is empty.

    Raises:
        InvalidArgument: an unknown deployment, a value that is not a whole percent, or a sum
            other than 100 (the message gives the sum).
    """
    _known("traffic", traffic, deployments)
    full = {d: _percent("traffic", d, traffic.get(d, 0)) for d in sorted(deployments)}
    total = sum(full.values())
    if deployments and total != 100:
        shares = ", ".join(f"{k}={v}" for k, v in full.items())
        raise InvalidArgument(f"traffic must sum to 100 across deployments, got {total} ({shares})")
    return full


def check_mirror(
    mirror: Mapping[str, object], traffic: Mapping[str, int], deployments: Collection[str]
) -> dict[str, int]:
    """The mirror map: at most one deployment with a non-zero share, which takes no live traffic.

    Raises:
        InvalidArgument: an unknown deployment, a bad percent, two mirrors, or a mirror that
            also takes live traffic (its answers would be compared with themselves).
    """
    _known("mirror traffic", mirror, deployments)
    shares = {d: _percent("mirror traffic", d, v) for d, v in mirror.items()}
    shares = {d: v for d, v in shares.items() if v > 0}
    if len(shares) > 1:
        raise InvalidArgument(
            f"mirror traffic goes to one deployment at most, got {sorted(shares)}"
        )
    for d in shares:
        if traffic.get(d, 0) > 0:
            raise InvalidArgument(
                f"deployment {d!r} takes {traffic[d]}% of the live traffic, so it cannot also "
                "be the mirror: move its traffic to the others first"
            )
    return shares


def parse_shares(items: Sequence[str]) -> dict[str, int]:
    """``["blue=90", "green=10"]`` as ``{"blue": 90, "green": 10}`` (the CLI's syntax)."""
    shares: dict[str, int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidArgument(f"expected DEPLOYMENT=PERCENT like blue=90, got {item!r}")
        if name in shares:
            raise InvalidArgument(f"deployment {name!r} is given twice")
        shares[check_serving_name("deployment", name.strip())] = int(value)
    return shares


def cumulative(traffic: Mapping[str, int]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The deployments with a share, and their running totals (for :func:`pick`)."""
    names: list[str] = []
    bounds: list[int] = []
    total = 0
    for name, share in sorted(traffic.items()):
        if share > 0:
            total += share
            names.append(name)
            bounds.append(total)
    return tuple(names), tuple(bounds)


def pick(names: Sequence[str], bounds: Sequence[int], r: int) -> str:
    """The deployment for a draw ``r`` in ``0..99``: the first whose running total exceeds it."""
    return names[bisect.bisect_right(bounds, r)]
