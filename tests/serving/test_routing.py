"""Traffic maths and route decisions: validation, and the split's proportions, statistically."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from trainyard.core.serving import check_mirror, check_traffic, cumulative, parse_shares, pick
from trainyard.errors import InvalidArgument

DRAWS = 10_000


def _within_binomial(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """``count`` successes of ``n`` is within ``sigmas`` standard deviations of ``n * p``."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


@pytest.mark.parametrize(
    "shares",
    [{"blue": 90, "green": 10}, {"a": 50, "b": 50}, {"a": 1, "b": 33, "c": 66}, {"solo": 100}],
)
def test_the_split_follows_the_shares_over_10k_decisions(shares: dict[str, int]) -> None:
    rng = random.Random(7)
    names, bounds = cumulative(shares)
    counts = Counter(pick(names, bounds, rng.randrange(100)) for _ in range(DRAWS))
    for name, share in shares.items():
        assert _within_binomial(counts[name], DRAWS, share / 100), (name, counts)


def test_every_draw_maps_to_exactly_its_share() -> None:
    names, bounds = cumulative({"blue": 90, "green": 10, "idle": 0})
    assert names == ("blue", "green")  # a 0% deployment is never drawn
    counts = Counter(pick(names, bounds, r) for r in range(100))
    assert counts == {"blue": 90, "green": 10}


def test_traffic_must_be_whole_percents_summing_to_100() -> None:
    deployments = ["blue", "green"]
    assert check_traffic({"blue": 100}, deployments) == {"blue": 100, "green": 0}
    assert check_traffic({}, []) == {}
    with pytest.raises(InvalidArgument, match=r"sum to 100.*got 90"):
        check_traffic({"blue": 80, "green": 10}, deployments)
    with pytest.raises(InvalidArgument, match=r"'red'.*not a deployment"):
        check_traffic({"red": 100}, deployments)
    for bad in (50.5, -10, 101, True, "50"):
        with pytest.raises(InvalidArgument, match="whole percent"):
            check_traffic({"blue": bad, "green": 50}, deployments)  # type: ignore[dict-item]


def test_mirror_goes_to_one_deployment_without_live_traffic() -> None:
    traffic = {"blue": 100, "green": 0, "red": 0}
    assert check_mirror({"green": 10}, traffic, traffic) == {"green": 10}
    assert check_mirror({"green": 0}, traffic, traffic) == {}
    with pytest.raises(InvalidArgument, match="one deployment at most"):
        check_mirror({"green": 10, "red": 10}, traffic, traffic)
    with pytest.raises(InvalidArgument, match="cannot also be the mirror"):
        check_mirror({"blue": 10}, traffic, traffic)


def test_cli_share_syntax() -> None:
    assert parse_shares(["blue=90", "green=10"]) == {"blue": 90, "green": 10}
    for bad in (["blue"], ["blue=x"], ["blue=1", "blue=2"], ["=5"]):
        with pytest.raises(InvalidArgument):
            parse_shares(bad)
