"""Page tokens and size limits."""

from __future__ import annotations

import math

import pytest

from trainyard.core.limits import FLOAT_MAX, check_key, check_workspace_name, clamp_metric
from trainyard.core.paging import decode_token, encode_token
from trainyard.errors import InvalidArgument


def test_tokens_round_trip_and_foreign_tokens_are_refused() -> None:
    assert decode_token(encode_token(1234)) == 1234
    assert decode_token(None) == 0
    for bad in ("garbage", "eyJ4IjogMX0=", encode_token(-1)):
        with pytest.raises(InvalidArgument):
            decode_token(bad)


def test_keys() -> None:
    assert check_key("metric", "train/loss") == "train/loss"
    for bad in ("", "../x", "/abs", "a" * 251, "semi;colon"):
        with pytest.raises(InvalidArgument):
            check_key("metric", bad)


def test_infinities_are_clamped_like_mlflow() -> None:
    assert clamp_metric(math.inf) == FLOAT_MAX and clamp_metric(-math.inf) == -FLOAT_MAX
    assert math.isnan(clamp_metric(math.nan))


def test_workspace_names() -> None:
    assert check_workspace_name("team-a.1") == "team-a.1"
    for bad in ("", "-x", "a/b", "x" * 64):
        with pytest.raises(InvalidArgument):
            check_workspace_name(bad)
