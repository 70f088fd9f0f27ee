"""Opaque page tokens: base64 of a small JSON document, validated on the way back in."""

from __future__ import annotations

import base64
import json

from trainyard.errors import InvalidArgument

MAX_OFFSET = 10**12


def encode_token(offset: int) -> str:
    """The token that resumes a listing at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    """The offset a token stands for; a token that was not made here is a 400."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"page_token {token!r} is not a token this server issued") from exc
    if offset < 0 or offset > MAX_OFFSET:
        raise InvalidArgument("page_token is not a token this server issued")
    return offset
