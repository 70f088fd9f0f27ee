"""A real server for the sweep runs, and the tiny trial script they use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import trainyard
from tests.support import RunningServer, start_server

TRIAL = '''\
"""A sweep trial: `value X [Y]` logs loss once; `curve LEVEL N DT` logs N values over time."""
import sys
import time

import trainyard

mode, *args = sys.argv[1:]
if mode == "value":
    x, y = float(args[0]), float(args[1]) if len(args) > 1 else 0.0
    trainyard.log("loss", (x - 0.3) ** 2 + y)
else:
    level, n, dt = float(args[0]), int(args[1]), float(args[2])
    for i in range(n):
        trainyard.log("loss", level * (1 + 0.05 * (n - i)), step=i)
        time.sleep(dt)
'''


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("sweeps-home"), {})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ws(srv: RunningServer) -> Iterator[trainyard.Workspace]:
    with trainyard.connect(srv.url) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trial-code")
    (folder / "trial.py").write_text(TRIAL)
    return folder
