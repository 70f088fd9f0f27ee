"""Checks of what users write on models and versions: tags, descriptions, parity refusals."""

from __future__ import annotations

from typing import Any

from trainyard.core.limits import MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_BATCH, check_key, check_value
from trainyard.core.registry import parity_refusal_message
from trainyard.errors import Conflict, InvalidArgument

MAX_DESCRIPTION_LENGTH = 5000


def check_tags(tags: dict[str, str] | None) -> dict[str, str]:
    """The tags (``{}`` for None), each key and value checked, at most one batch of them."""
    tags = tags or {}
    if len(tags) > MAX_TAGS_PER_BATCH:
        raise InvalidArgument(f"{len(tags)} tags; the limit is {MAX_TAGS_PER_BATCH}")
    for k, v in tags.items():
        check_key("tag", k)
        check_value("tag", k, v, MAX_TAG_VALUE_LENGTH)
    return tags


def check_description(text: str | None) -> str | None:
    """The description unchanged, or InvalidArgument when it is too long."""
    if text is not None and len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgument(
            f"description is {len(text)} characters; the limit is {MAX_DESCRIPTION_LENGTH}"
        )
    return text


def parity_refusal(name: str, parity: dict[str, Any]) -> Conflict:
    """The error for a version whose parity check failed and that was not forced."""
    return Conflict(parity_refusal_message(name, parity), parity)
