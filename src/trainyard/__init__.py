"""Trainyard: a self-hosted machine-learning platform. This module is the Python SDK.

Example::

    import trainyard

    ws = trainyard.connect("http://127.0.0.1:8765")
    with ws.experiment("churn").start_run() as run:
        run.log_params({"alpha": 0.1})
        run.log("rmse", 0.42)

The SDK (httpx, pydantic) loads on first use of a name below, so ``import trainyard`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trainyard import errors
from trainyard._version import __version__

__all__ = [
    "Experiment",
    "Run",
    "Workspace",
    "__version__",
    "connect",
    "errors",
    "get_run",
    "log",
]

if TYPE_CHECKING:
    from trainyard.client.context import get_run, log
    from trainyard.client.experiment import Experiment
    from trainyard.client.run import Run
    from trainyard.client.workspace import Workspace, connect

_LAZY = {
    "connect": "trainyard.client.workspace",
    "Workspace": "trainyard.client.workspace",
    "Experiment": "trainyard.client.experiment",
    "Run": "trainyard.client.run",
    "get_run": "trainyard.client.context",
    "log": "trainyard.client.context",
}


def __getattr__(name: str) -> Any:
    """Load an SDK name on first use (PEP 562), then keep it in the module."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trainyard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, lazy ones included."""
    return sorted({*globals(), *__all__})
