"""Python environments for local jobs: the server's own interpreter, or a cached venv.

A registered environment is built once per content hash in ``$TRAINYARD_HOME/envs/<hash>/``:
``python -m venv`` (with the server's packages visible through a ``.pth`` file when
``system_site_packages`` is on, so ``import trainyard`` works), then ``pip install`` of its
requirements. The build happens in a temporary folder renamed into place when it succeeded,
under a file lock, so concurrent jobs build it once and a failed build leaves nothing behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import site
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from trainyard.jobs.assets import SERVER_PYTHON

_PURELIB = "import sysconfig; print(sysconfig.get_paths()['purelib'])"


class EnvironmentBuildError(Exception):
    """The environment could not be built; the message says why (pip's output included)."""


def _interpreter(version: str) -> str:
    if version == SERVER_PYTHON:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        raise EnvironmentBuildError(
            f"the environment asks for Python {version}, which is not installed on the server "
            f"(it has {SERVER_PYTHON}); install python{version} or change the environment"
        )
    return found


def _server_site_packages() -> list[str]:
    paths = [*site.getsitepackages(), site.getusersitepackages()]
    return [p for p in dict.fromkeys(paths) if os.path.isdir(p)]


class EnvironmentBuilder:
    """Build and cache venvs under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def python_for(self, env: dict[str, Any], log: Path | None = None) -> str:
        """The interpreter a job with the resolved ``env`` runs, building its venv if needed.

        Raises:
            EnvironmentBuildError: the interpreter is missing or pip failed.
        """
        if env.get("builtin"):
            return sys.executable
        target = self.root / env["hash"]
        python = target / "bin" / "python"
        if (target / ".ready").exists():
            return str(python)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{env['hash']}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / ".ready").exists():
                self._build(env, target, log)
        return str(python)

    def _build(self, env: dict[str, Any], target: Path, log: Path | None) -> None:
        tmp = self.root / f".build-{uuid.uuid4().hex[:8]}"
        try:
            self._run([_interpreter(env["python"]), "-m", "venv", "--without-pip", str(tmp)], log)
            venv_python = tmp / "bin" / "python"
            if env.get("system_site_packages", True):
                purelib = subprocess.run(
                    [str(venv_python), "-c", _PURELIB],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                # "import" lines of a .pth run at start-up: addsitedir also reads the .pth
                # files there (editable installs), after the venv's own packages
                lines = [f"import site; site.addsitedir({p!r})" for p in _server_site_packages()]
                Path(purelib, "_trainyard_server.pth").write_text("\n".join(lines) + "\n")
            requirements = env.get("requirements") or []
            if requirements:
                req = tmp / "requirements.txt"
                req.write_text("\n".join(requirements) + "\n")
                pip = [sys.executable, "-m", "pip", "--python", str(venv_python), "install"]
                self._run([*pip, "--disable-pip-version-check", "-r", str(req)], log)
            (tmp / ".ready").write_text(env["hash"])
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _run(args: list[str], log: Path | None) -> None:
        proc = subprocess.run(args, capture_output=True, text=True)
        if log is not None:
            with log.open("a") as f:
                f.write(f"$ {' '.join(args)}\n{proc.stdout}{proc.stderr}")
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-2000:]
            raise EnvironmentBuildError(
                f"building the environment failed ({' '.join(args[:4])}...): {tail}"
            )
