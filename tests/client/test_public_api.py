"""The public surface of ``trainyard`` and the layering of the client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trainyard

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_all_is_the_documented_set() -> None:
    assert set(trainyard.__all__) == {
        "connect",
        "Workspace",
        "Experiment",
        "Run",
        "get_run",
        "log",
        "errors",
        "__version__",
    }
    assert trainyard.__version__ == "0.1.0"
    for name in trainyard.__all__:
        assert getattr(trainyard, name) is not None
    assert trainyard.errors.NotFound.code == "NOT_FOUND"


def run_python(code: str) -> None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_import_trainyard_is_light() -> None:
    run_python(
        "import sys, trainyard\n"
        "heavy = {'httpx', 'pydantic', 'orjson'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )


def test_the_client_does_not_load_the_server_side() -> None:
    run_python(
        "import sys, trainyard\n"
        "trainyard.connect, trainyard.log\n"
        "server_side = {'fastapi', 'sqlalchemy', 'trainyard.store', 'trainyard.tracking',\n"
        "               'trainyard.server', 'trainyard.cli', 'trainyard.config'}\n"
        "bad = [m for m in sys.modules\n"
        "       if any(m == s or m.startswith(s + '.') for s in server_side)]\n"
        "assert 'trainyard.client.workspace' in sys.modules\n"
        "assert not bad, bad"
    )
