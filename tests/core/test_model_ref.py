"""Model references: ``name``, ``name:3``, ``name@alias`` and model ids, and the name rules."""

from __future__ import annotations

import pytest

from trainyard.core.model_ref import (
    ModelRef,
    check_alias,
    check_model_name,
    check_version,
    is_model_id,
    parse_model_ref,
)
from trainyard.errors import InvalidArgument

MODEL_ID = "mv-" + "0123456789abcdef" * 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", ModelRef(name="churn")),
        ("churn:3", ModelRef(name="churn", version=3)),
        ("churn:0003", ModelRef(name="churn", version=3)),
        ("churn@champion", ModelRef(name="churn", alias="champion")),
        ("churn@latest", ModelRef(name="churn")),
        ("retail-sales.v2@_shadow-1", ModelRef(name="retail-sales.v2", alias="_shadow-1")),
        ("  churn:1  ", ModelRef(name="churn", version=1)),
        (MODEL_ID, ModelRef(model_id=MODEL_ID)),
    ],
)
def test_parse(text: str, expected: ModelRef) -> None:
    assert parse_model_ref(text) == expected


@pytest.mark.parametrize("ref", ["churn", "churn:3", "churn@champion", MODEL_ID])
def test_str_round_trips(ref: str) -> None:
    assert str(parse_model_ref(ref)) == ref
    assert parse_model_ref(str(parse_model_ref(ref))) == parse_model_ref(ref)


def test_is_latest() -> None:
    assert parse_model_ref("churn").is_latest
    assert not parse_model_ref("churn:1").is_latest
    assert not parse_model_ref("churn@a").is_latest
    assert not parse_model_ref(MODEL_ID).is_latest


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "non-empty"),
        ("   ", "non-empty"),
        ("churn:", "must be a number"),
        ("churn:x", "NAME@x"),
        ("churn:-1", "must be a number"),
        ("churn:1.5", "must be a number"),
        ("churn:0", "positive integer"),
        ("churn:99999999999", "positive integer"),
        ("churn@", "non-empty"),
        ("churn@1st", "must start with a letter"),
        ("churn@a b", "must start with a letter"),
        ("churn:1@a", "both ':' and '@'"),
        (":3", "non-empty"),
        ("@a", "non-empty"),
        ("-churn", "must start with a letter or digit"),
        ("ch/urn", "must start with a letter or digit"),
        ("a" * 201, "the limit is 200"),
    ],
)
def test_bad_refs_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_model_ref(text)
    assert fragment in err.value.message


def test_non_string_ref() -> None:
    with pytest.raises(InvalidArgument):
        parse_model_ref(3)


def test_names_aliases_versions() -> None:
    assert check_model_name("Churn_2.v-1") == "Churn_2.v-1"
    with pytest.raises(InvalidArgument, match="looks like a model id"):
        check_model_name(MODEL_ID)
    assert check_alias("champion") == "champion"
    for bad in ("latest", "LATEST", "9lives", "a" * 65, "", "é"):
        with pytest.raises(InvalidArgument):
            check_alias(bad)
    assert check_version("7") == 7 and check_version(1) == 1
    for bad_version in (True, 0, -1, "x", 2**31, 1.0):
        with pytest.raises(InvalidArgument):
            check_version(bad_version)
    assert is_model_id(MODEL_ID) and not is_model_id(MODEL_ID.upper())
    assert not is_model_id("mv-123")
