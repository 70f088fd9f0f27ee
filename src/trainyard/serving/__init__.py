"""Online serving: endpoints, deployments, traffic, and the scoring of requests.

- ``service.py`` (:class:`ServingService`): endpoints, deployments, keys and traffic on the
  serving store, with the rules (model references resolved at write time, warm before traffic).
- ``host.py`` (:class:`ScoringHost`): the loaded deployments of every endpoint and the routing
  table, following the store (``trainyard up`` and each ``trainyard serve`` worker have one).
- ``engine.py`` (:class:`Scoring`): the request path, framework-free; ``protocols/`` the wire
  formats behind ``protocols/_base.py`` (Trainyard's rows/records/columns, the Open Inference
  Protocol v2); ``inputs.py`` the checks of rows against a model's signature.
- ``runtime.py``: ONNX Runtime sessions tuned for small tabular models, leases and draining;
  ``routing.py`` the immutable routing table; ``mirror.py``, ``request_log.py``, ``metrics.py``;
  ``batching.py`` the dynamic batching of a deployment's small concurrent requests.
- ``in_use.py`` (:class:`ServedVersionsGuard`): the registry's delete guard, refusing to delete
  a model version a deployment serves.

Names load on first use (PEP 562): importing the package does not import ONNX Runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainyard.serving.engine import Scoring
    from trainyard.serving.host import ScoringHost
    from trainyard.serving.in_use import ServedVersionsGuard
    from trainyard.serving.service import ServingService

_LAZY = {
    "Scoring": "trainyard.serving.engine",
    "ScoringHost": "trainyard.serving.host",
    "ServedVersionsGuard": "trainyard.serving.in_use",
    "ServingService": "trainyard.serving.service",
}

__all__ = ["Scoring", "ScoringHost", "ServedVersionsGuard", "ServingService"]


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trainyard.serving' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
