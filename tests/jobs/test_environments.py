"""Environments: the built-in interpreter, and venvs built once per content hash and reused."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainyard.jobs.assets import SERVER_PYTHON, environment_hash
from trainyard.jobs.environments import EnvironmentBuilder, EnvironmentBuildError


def _env(requirements: list[str], python: str = SERVER_PYTHON) -> dict[str, object]:
    return {
        "python": python,
        "requirements": requirements,
        "system_site_packages": True,
        "hash": environment_hash(python, requirements, True),
    }


def test_builtin_is_the_servers_interpreter(tmp_path: Path) -> None:
    assert EnvironmentBuilder(tmp_path).python_for({"builtin": True}) == sys.executable


def test_a_venv_is_built_once_sees_the_servers_packages_and_is_reused(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path / "envs")
    env = _env(["scikit-learn"])  # satisfied by the server's packages: no download
    python = builder.python_for(env, tmp_path / "build.log")
    assert python.startswith(str(tmp_path / "envs" / str(env["hash"])))
    assert "already satisfied" in (tmp_path / "build.log").read_text().lower()
    probe = "import sys, trainyard, sklearn; print(sys.prefix)"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path / "envs" / str(env["hash"]))
    started = time.monotonic()
    assert builder.python_for(env) == python  # cached
    assert time.monotonic() - started < 0.1
    assert [p.name for p in (tmp_path / "envs").iterdir() if not p.name.startswith(".")] == [
        env["hash"]
    ]


def test_a_missing_python_version_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentBuildError, match=r"Python 3\.2, which is not installed"):
        EnvironmentBuilder(tmp_path).python_for(_env([], python="3.2"))
    assert not any(p.name.startswith(".build") for p in tmp_path.iterdir())
