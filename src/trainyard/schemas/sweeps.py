"""Wire models of sweep jobs' parts: search space, sampling, objective, limits, policies, trials.

The field names and semantics are the cloud sweep job's (``docs/sweeps.md``): each distribution
is a mapping with a ``type`` (``choice``, ``randint``, ``uniform``, ``loguniform``, ``quniform``,
``qloguniform``, ``normal``, ``lognormal``) and its own keys; unknown keys are refused
(``extra="forbid"``), so a misspelt one is a 400 naming it. ``loguniform`` and ``qloguniform``
take the *exponents*: a value is ``exp(uniform(min_value, max_value))``.

The whole sweep document (``SweepJobCreate``) lives in ``schemas/jobs.py`` beside the command
job, since both are submitted on the same routes.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from trainyard.core.jobs import JobStatus

ParamValue = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(_Strict):
    """One of ``values`` (numbers, strings or booleans)."""

    type: Literal["choice"]
    values: list[ParamValue] = Field(min_length=1, max_length=10_000)


class RandInt(_Strict):
    """An integer in ``[0, upper)``."""

    type: Literal["randint"]
    upper: int = Field(ge=1)


class _Range(_Strict):
    min_value: float
    max_value: float

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if not (math.isfinite(self.min_value) and math.isfinite(self.max_value)):
            raise ValueError("min_value and max_value must be finite numbers")
        if self.min_value >= self.max_value:
            raise ValueError(
                f"min_value ({self.min_value}) must be smaller than max_value ({self.max_value})"
            )
        return self


class Uniform(_Range):
    """A float uniformly in ``[min_value, max_value]``."""

    type: Literal["uniform"]


class LogUniform(_Range):
    """``exp(uniform(min_value, max_value))``: log-uniform in ``[e^min_value, e^max_value]``."""

    type: Literal["loguniform"]

    @model_validator(mode="after")
    def _not_overflowing(self) -> LogUniform:
        if self.max_value > 700:
            raise ValueError(
                "loguniform takes exponents: exp(max_value) overflows past max_value 700 "
                "(for values in [1e-4, 1] write min_value: -9.21, max_value: 0)"
            )
        return self


class QUniform(_Range):
    """``round(uniform(min_value, max_value) / q) * q``."""

    type: Literal["quniform"]
    q: float = Field(gt=0)


class QLogUniform(LogUniform):
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""

    type: Literal["qloguniform"]  # type: ignore[assignment]
    q: float = Field(gt=0)


class Normal(_Strict):
    """A float from the normal distribution of mean ``mu`` and deviation ``sigma``."""

    type: Literal["normal"]
    mu: float
    sigma: float = Field(gt=0)


class LogNormal(_Strict):
    """``exp(normal(mu, sigma))``."""

    type: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)


Distribution = Annotated[
    Choice | RandInt | Uniform | LogUniform | QUniform | QLogUniform | Normal | LogNormal,
    Field(discriminator="type"),
]
"""One parameter's distribution, chosen by its ``type``."""


class SamplingAlgorithm(_Strict):
    """``random``, ``grid`` or ``bayesian`` (TPE); ``seed`` makes the choices reproducible."""

    type: Literal["random", "grid", "bayesian"]
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


def _sampling(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


SamplingField = Annotated[SamplingAlgorithm, BeforeValidator(_sampling)]
"""``random`` (a name) or ``{type: random, seed: 42}`` (a mapping)."""


class Objective(_Strict):
    """The metric the trials log, and whether lower or higher is better."""

    primary_metric: str = Field(min_length=1, max_length=250, pattern=r"\S")
    goal: Literal["minimize", "maximize"]


class SweepLimits(_Strict):
    """Bounds: trials in all and at once, and seconds for the sweep and for each trial.

    ``max_concurrent_trials`` defaults to the compute's slots; it may exceed
    ``max_total_trials`` (then every trial may run at once).
    """

    max_total_trials: int = Field(default=1000, ge=1, le=10_000)
    max_concurrent_trials: int | None = Field(default=None, ge=1, le=1000)
    timeout: int | None = Field(default=None, gt=0)
    trial_timeout: int | None = Field(default=None, gt=0)


class _Policy(_Strict):
    evaluation_interval: int = Field(default=1, ge=1)
    delay_evaluation: int = Field(default=0, ge=0)


class BanditPolicy(_Policy):
    """End trials that fall out of ``slack_factor`` (a ratio) or ``slack_amount`` of the best."""

    type: Literal["bandit"]
    slack_factor: float | None = Field(default=None, gt=0)
    slack_amount: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_slack(self) -> BanditPolicy:
        if (self.slack_factor is None) == (self.slack_amount is None):
            raise ValueError("a bandit policy takes exactly one of slack_factor and slack_amount")
        return self


class MedianStoppingPolicy(_Policy):
    """End trials whose best value is worse than the median of the trials' running averages."""

    type: Literal["median_stopping"]


class TruncationSelectionPolicy(_Policy):
    """End the ``truncation_percentage`` % worst trials at each evaluation interval."""

    type: Literal["truncation_selection"]
    truncation_percentage: int = Field(ge=1, le=99)
    exclude_finished_jobs: bool = False


EarlyTermination = Annotated[
    BanditPolicy | MedianStoppingPolicy | TruncationSelectionPolicy,
    Field(discriminator="type"),
]


class TrialCommand(_Strict):
    """What each trial runs: a command job whose command uses ``${{search_space.NAME}}``."""

    command: str = Field(min_length=1, max_length=100_000)
    code: str | None = None
    environment: str = "python"
    environment_variables: dict[str, str] = Field(default_factory=dict)


class SweepTrial(BaseModel):
    """One trial of a sweep: its job, the parameters it was given, where it is, its objective.

    ``reason`` says why an early-termination policy (or the sweep's timeout) ended it.
    """

    number: int
    name: str
    status: JobStatus
    parameters: dict[str, ParamValue]
    objective: float | None = None
    reason: str | None = None
    run_id: str | None = None
    created_at: int
    updated_at: int
