"""The model registry: registered models, versions, aliases; conversion to ONNX, the parity
check, recipes and batch scoring.

Two halves live here:

- the service (``service.py`` assembling ``models.py``, ``versions.py``, ``registration.py``
  and ``deletion.py``; ``checks.py``, ``signature.py``, ``files.py``), which the server builds
  on the registry store, the artifact store and the tracking service;
- pure computation run in the user's process, where the native model lives (``converters/``,
  ``parity.py``, ``runtime.py``, ``batch.py``, ``recipes.py``). These import no store and no
  server; the SDK reaches them only through :mod:`trainyard.onnx` (and the CLI's ``recipe``
  command through ``recipes.py``).

Names load on first use (PEP 562), so importing one pure module does not import the service and,
through it, the stores.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainyard.registry.checks import inspect_onnx
    from trainyard.registry.converters import convert
    from trainyard.registry.deletion import DeleteGuard, Deletion
    from trainyard.registry.parity import ParityResult, check_parity
    from trainyard.registry.runtime import OnnxModel
    from trainyard.registry.service import RegistryService

_LAZY = {
    "RegistryService": "trainyard.registry.service",
    "Deletion": "trainyard.registry.deletion",
    "DeleteGuard": "trainyard.registry.deletion",
    "inspect_onnx": "trainyard.registry.checks",
    "convert": "trainyard.registry.converters",
    "check_parity": "trainyard.registry.parity",
    "ParityResult": "trainyard.registry.parity",
    "OnnxModel": "trainyard.registry.runtime",
}

__all__ = [
    "DeleteGuard",
    "Deletion",
    "OnnxModel",
    "ParityResult",
    "RegistryService",
    "check_parity",
    "convert",
    "inspect_onnx",
]


def __getattr__(name: str) -> Any:
    """Load a public name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trainyard.registry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
