"""What every resource object shares: the transport, the workspace and the batcher settings."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from trainyard.client._transport import Transport
from trainyard.client.batcher import BatcherOptions, MetricBatcher
from trainyard.errors import InvalidArgument

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Scope:
    """The transport bound to one workspace, and the metric batchers of its runs."""

    transport: Transport
    workspace: str
    batcher: BatcherOptions = field(default_factory=BatcherOptions)
    batchers: weakref.WeakSet[MetricBatcher] = field(default_factory=weakref.WeakSet)

    def path(self, *segments: str) -> str:
        """``/workspaces/{ws}/seg/...``, each segment percent-encoded (slashes included)."""
        return "/workspaces/" + "/".join(quote(s, safe="") for s in (self.workspace, *segments))

    def request(self, method: str, *segments: str, **kwargs: Any) -> Any:
        """:meth:`Transport.request` on a workspace path."""
        return self.transport.request(method, self.path(*segments), **kwargs)


def body(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """A request body validated by its wire model; a bad field is an ``InvalidArgument``."""
    try:
        return model(**fields).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidArgument(f"invalid {model.__name__}: {problems}") from exc


def iter_pages(fetch: Callable[[str | None], tuple[list[T], str | None]]) -> Iterator[T]:
    """Every item of a paginated list; ``fetch(page_token)`` returns a page and the next token."""
    token: str | None = None
    while True:
        items, token = fetch(token)
        yield from items
        if not token:
            return
