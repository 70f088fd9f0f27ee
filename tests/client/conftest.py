"""Fixtures of the SDK's unit tests: a fake server behind ``httpx.MockTransport``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if importlib.util.find_spec("trainyard") is None:  # the package is not installed: use src/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from trainyard.client import Workspace, connect

from .fake_server import FAST_BATCHER, FAST_RETRY, FakeServer


@pytest.fixture
def fake() -> FakeServer:
    """An empty fake server."""
    return FakeServer()


@pytest.fixture
def ws(fake: FakeServer) -> Iterator[Workspace]:
    """A workspace on the fake server, with tiny retry delays."""
    workspace = connect(
        "http://testserver", transport=fake.transport(), retry=FAST_RETRY, batcher=FAST_BATCHER
    )
    yield workspace
    workspace.close()
