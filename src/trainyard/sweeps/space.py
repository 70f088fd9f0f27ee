"""Search spaces: each parameter's Optuna distribution, the transform to the value a trial gets,
and the checks a sweep document passes before anything runs.

Optuna samples a *raw* value from a distribution it knows; the trial gets ``value(raw)``:

============  ====================================  ==========================================
type          Optuna samples                        the trial gets
============  ====================================  ==========================================
choice        ``Categorical(values)``               the value
randint       ``Int(0, upper - 1)``                 the integer
uniform       ``Float(min_value, max_value)``       the float
loguniform    ``Float(e^min, e^max, log=True)``     the float: ``exp(uniform(min, max))``
quniform      ``Float(min_value, max_value)``       ``round(x / q) * q``
qloguniform   ``Float(e^min, e^max, log=True)``     ``round(x / q) * q``
normal        ``Float(u)``, u in (0, 1)             ``mu + sigma * Phi^-1(u)``
lognormal     ``Float(u)``, u in (0, 1)             ``exp(mu + sigma * Phi^-1(u))``
============  ====================================  ==========================================

Sampling a normal through its quantile keeps every sampler (random, TPE) on a bounded space;
``u`` is kept within ``[1e-9, 1 - 1e-9]``, so draws lie within about six deviations of ``mu``.
Quantised values are integers when ``q`` is a whole number, so ``--batch-size 32`` parses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from trainyard.core.sweeps import search_space_names
from trainyard.errors import InvalidArgument
from trainyard.schemas import sweeps as wire

U_EPS = 1e-9
MAX_GRID = 100_000
_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
GRID_TYPES = ("choice", "randint")


def _clean(x: float) -> float:
    return float(f"{x:.12g}")


def _quantise(x: float, q: float) -> float | int:
    v = round(x / q) * q
    return round(v) if float(q).is_integer() else _clean(v)


@dataclass(frozen=True)
class Parameter:
    """One parameter of a search space: its wire spec, Optuna distribution and transform."""

    name: str
    spec: Any

    def distribution(self) -> BaseDistribution:
        """What Optuna samples for this parameter."""
        s = self.spec
        if s.type == "choice":
            return CategoricalDistribution(list(s.values))
        if s.type == "randint":
            return IntDistribution(0, s.upper - 1)
        if s.type in ("uniform", "quniform"):
            return FloatDistribution(s.min_value, s.max_value)
        if s.type in ("loguniform", "qloguniform"):
            return FloatDistribution(math.exp(s.min_value), math.exp(s.max_value), log=True)
        return FloatDistribution(U_EPS, 1 - U_EPS)  # normal, lognormal: the quantile

    def value(self, raw: Any) -> Any:
        """The value the trial gets for Optuna's ``raw`` sample."""
        s = self.spec
        if s.type in ("choice", "randint"):
            return raw
        if s.type in ("uniform", "loguniform"):
            return float(raw)
        if s.type in ("quniform", "qloguniform"):
            return _quantise(float(raw), s.q)
        x = NormalDist(s.mu, s.sigma).inv_cdf(float(raw))
        return math.exp(x) if s.type == "lognormal" else x

    def grid_values(self) -> list[Any]:
        """The values a grid takes (choice and randint only)."""
        if self.spec.type == "choice":
            return list(self.spec.values)
        return list(range(self.spec.upper))


class SearchSpace:
    """The parameters of a sweep, by name (in the document's order)."""

    def __init__(self, space: dict[str, Any]) -> None:
        self.parameters = {name: Parameter(name, spec) for name, spec in space.items()}

    def distributions(self) -> dict[str, BaseDistribution]:
        """Optuna's distributions, for ``study.ask`` and ``create_trial``."""
        return {name: p.distribution() for name, p in self.parameters.items()}

    def values(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The trial's parameters for Optuna's raw sample."""
        return {name: p.value(raw[name]) for name, p in self.parameters.items()}

    def grid(self) -> dict[str, list[Any]]:
        """Every parameter's grid values."""
        return {name: p.grid_values() for name, p in self.parameters.items()}

    def grid_size(self) -> int:
        """How many points the grid has."""
        return math.prod(len(v) for v in self.grid().values())


def check_sweep(spec: Any) -> SearchSpace:
    """Check a ``SweepJobCreate`` beyond its schema; its search space, or the precise error.

    Raises:
        InvalidArgument: a placeholder without its parameter, a parameter the command never
            uses, a bad parameter name, a grid over a continuous distribution or too large.
    """
    space = spec.search_space
    for name in space:
        if not _NAME_RE.match(name):
            raise InvalidArgument(
                f"search_space: parameter name {name!r} must be letters, digits, '_' and '-' "
                "(64 at most), as in ${{search_space.NAME}}"
            )
    used = search_space_names(spec.trial.command)
    for name in used:
        if name not in space:
            raise InvalidArgument(
                f"trial.command uses ${{{{search_space.{name}}}}} but search_space has no "
                f"{name!r} (search_space: {', '.join(space)})"
            )
    for name in space:
        if name not in used:
            raise InvalidArgument(
                f"search_space.{name} is not used by trial.command: write "
                f"${{{{search_space.{name}}}}} where its value goes, or remove it"
            )
    result = SearchSpace(space)
    if spec.sampling_algorithm.type == "grid":
        for name, dist in space.items():
            if dist.type not in GRID_TYPES:
                raise InvalidArgument(
                    f"search_space.{name}: grid sampling needs discrete parameters (choice or "
                    f"randint) but {name!r} is {dist.type}; list the values to try with choice, "
                    "or sample with random or bayesian"
                )
        size = result.grid_size()
        if size > MAX_GRID:
            raise InvalidArgument(
                f"search_space: the grid has {size} points, more than {MAX_GRID}; use fewer "
                "values, or random or bayesian sampling"
            )
    return result


def render_value(value: wire.ParamValue) -> str:
    """A parameter as the command line gets it (``0.1``, ``32``, ``adam``, ``True``)."""
    return repr(value) if isinstance(value, float) else str(value)
