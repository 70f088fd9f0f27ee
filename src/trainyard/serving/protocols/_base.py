"""The base of scoring protocols: a request body in, model feeds out; outputs in, a body out.

Contract of a :class:`ScoringProtocol`:

- ``decode`` and ``encode`` are pure (no I/O, no clock) and thread-safe: the same instance
  serves every request, on the event loop or on a replica's thread.
- ``decode`` checks the body against the model's inputs (:class:`ModelInputs`) and raises
  ``InvalidArgument`` for anything it cannot feed; when the fault is in one column or tensor,
  the message names it and ``details["column"]`` holds its name.
- ``error_body`` renders an error in the protocol's own format (the HTTP status comes from the
  error's code, in ``server/errors.py``'s table).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainyard.serving.inputs import ModelInputs


@dataclass(frozen=True, slots=True)
class Batch:
    """A decoded request: the feeds by input name, the row count, protocol extras."""

    feeds: dict[str, np.ndarray]
    rows: int
    request_id: str | None = None
    wanted: tuple[str, ...] | None = None
    binary: frozenset[str] | bool = frozenset()
    """Outputs to answer as raw bytes (OIP binary tensor extension); True: every output."""


class Payload(bytes):
    """An answer body that is not plain JSON: its content type and extra headers go with it."""

    content_type: bytes = b"application/json"
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def of(
        cls, body: bytes, content_type: bytes, headers: tuple[tuple[bytes, bytes], ...]
    ) -> Payload:
        """``body`` with its content type and headers."""
        payload = cls(body)
        payload.content_type = content_type
        payload.headers = headers
        return payload


@dataclass(frozen=True, slots=True)
class Answer:
    """What a deployment answered, and who answered it."""

    endpoint: str
    deployment: str
    model_name: str
    model_version: int
    output_names: list[str]
    outputs: list[Any]
    proba_output: str | None


class ScoringProtocol(abc.ABC):
    """One wire format of scoring requests and answers (see the module docstring)."""

    name: str = ""

    @abc.abstractmethod
    def decode(self, body: bytes, inputs: ModelInputs, json_length: int | None = None) -> Batch:
        """The feeds for a request body (``json_length``: the ``Inference-Header-Content-Length``
        header of the OIP binary tensor extension, when the request has one)."""

    @abc.abstractmethod
    def encode(self, batch: Batch, answer: Answer) -> bytes:
        """The answer body."""

    @abc.abstractmethod
    def error_body(self, code: str, message: str, details: Any = None) -> bytes:
        """An error answer body."""
