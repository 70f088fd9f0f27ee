"""Every ```python and ```shell block of the README and docs/ runs against a real server.

Blocks run in file order (README first), so later blocks can use what earlier ones made.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(python|shell)\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        for i, m in enumerate(BLOCK.finditer(doc.read_text())):
            found.append((f"{doc.relative_to(ROOT)}#{i}", m.group(1), m.group(2)))
    return found


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    srv = start_server(tmp_path_factory.mktemp("docs-home"), {})
    yield srv
    srv.stop()


@pytest.mark.parametrize(("where", "lang", "code"), _blocks(), ids=[b[0] for b in _blocks()])
def test_block_runs(
    docs_server: RunningServer, tmp_path: Path, where: str, lang: str, code: str
) -> None:
    env = {**os.environ, "TRAINYARD_URI": docs_server.url, "COLUMNS": "200"}
    if lang == "python":
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, timeout=120
        )
        assert proc.returncode == 0, f"{where} failed:\n{proc.stderr.decode()}"
        return
    for line in code.strip().splitlines():
        args = shlex.split(line)
        assert args[0] == "trainyard", f"{where}: shell blocks hold trainyard commands only"
        proc = subprocess.run(
            [sys.executable, "-m", "trainyard", *args[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"{where}: {line!r} failed:\n{proc.stderr.decode()}"
