"""Scoring protocols: one module per wire format behind ``_base.ScoringProtocol``."""

from trainyard.serving.protocols._base import Answer, Batch, Payload, ScoringProtocol
from trainyard.serving.protocols.native import NativeProtocol
from trainyard.serving.protocols.oip import OpenInferenceProtocol

__all__ = [
    "Answer",
    "Batch",
    "NativeProtocol",
    "OpenInferenceProtocol",
    "Payload",
    "ScoringProtocol",
]
