"""A job's working folder: the code snapshot, its inputs (read-only), empty output folders.

::

    $TRAINYARD_HOME/jobs/<workspace>/<name>/
        code/             the code asset's files; the process's working directory
        inputs/<input>/   each data input, downloaded (files 0444, folders 0555)
        outputs/<output>/ empty folders the job writes; uploaded as outputs/<output>/ of its run
        logs/             stdout.log, stderr.log (and environment.log when a venv was built)

The folder stays after the job, so its logs are kept even if the server dies before uploading.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from trainyard.core.jobs import Job
from trainyard.jobs.assets import STORE_PREFIX
from trainyard.jobs.datastores import LeavesFolder, fetch
from trainyard.jobs.executors._base import Launch
from trainyard.store import ArtifactStore
from trainyard.store.artifacts.paths import join_key

DOWNLOAD_TIMEOUT = 60.0


class PrepareError(Exception):
    """An input or the code could not be put in place; the message says which and why."""


def _copy_key(artifacts: ArtifactStore, key: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with artifacts.open_read(key) as src, dest.open("wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def _copy_tree(artifacts: ArtifactStore, root: str, dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    for entry in artifacts.list(root, recursive=True):
        if not entry.is_dir:
            _copy_key(artifacts, join_key(root, entry.path), dest / entry.path)
            n += 1
    return n


def _read_only(path: Path) -> None:
    if path.is_file():
        path.chmod(0o444)
        return
    for folder, dirs, files in os.walk(path, topdown=False):
        for f in files:
            os.chmod(os.path.join(folder, f), 0o444)
        for d in dirs:
            os.chmod(os.path.join(folder, d), 0o555)
    path.chmod(0o555)


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as resp, dest.open("wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
    except OSError as exc:
        raise PrepareError(f"could not download {url}: {exc}") from exc


def _input(artifacts: ArtifactStore, name: str, spec: dict[str, Any], folder: Path) -> Path:
    path = str(spec["path"])
    if path.startswith(("http://", "https://")):
        base = os.path.basename(urllib.parse.urlparse(path).path) or "data"
        dest = folder / base
        _download(path, dest)
        return dest
    if not path.startswith(STORE_PREFIX):
        if "://" not in path:
            raise PrepareError(f"input {name!r}: unsupported path {path!r}")
        try:
            return fetch(path, folder)
        except ImportError as exc:
            raise PrepareError(
                f"input {name!r}: the server cannot reach {path} ({exc}); install the fsspec "
                "implementation of its protocol on the server"
            ) from exc
        except FileNotFoundError as exc:
            raise PrepareError(f"input {name!r}: {path} does not exist ({exc})") from exc
        except LeavesFolder as exc:
            raise PrepareError(f"input {name!r}: {exc}") from exc
    key = path[len(STORE_PREFIX) :]
    info = artifacts.info(key)
    if info is None:
        raise PrepareError(f"input {name!r}: the data at {key!r} is missing from the store")
    if info.is_dir:
        _copy_tree(artifacts, key, folder)
        return folder
    dest = folder / key.rsplit("/", 1)[-1]
    _copy_key(artifacts, key, dest)
    return dest


def prepare(job: Job, artifacts: ArtifactStore, root: Path, run_id: str) -> Launch:
    """Lay out the job's folder under ``root`` and describe the launch.

    Raises:
        PrepareError: the code or an input could not be fetched.
    """
    workdir = root / job.workspace / job.name
    launch = Launch(
        workspace=job.workspace,
        name=job.name,
        run_id=run_id,
        command=str(job.document["command"]),
        workdir=workdir,
        environment=job.resolved["environment"],
        compute=job.resolved["compute"],
    )
    for sub in ("code", "inputs", "outputs", "logs"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    code = job.resolved.get("code")
    if code:
        try:
            _copy_tree(artifacts, code["path"], launch.code_dir)
        except OSError as exc:
            what = f"{code['name']}:{code['version']}"
            raise PrepareError(f"could not copy the code {what}: {exc}") from exc
    for name, spec in job.resolved.get("inputs", {}).items():
        if spec["type"] == "literal":
            launch.literals[name] = spec["value"]
            continue
        folder = workdir / "inputs" / name
        try:
            launch.inputs[name] = _input(artifacts, name, spec, folder)
        except OSError as exc:
            raise PrepareError(f"could not fetch input {name!r}: {exc}") from exc
        _read_only(folder)
    for name in job.document.get("outputs", {}) or {}:
        out = workdir / "outputs" / name
        out.mkdir(parents=True, exist_ok=True)
        launch.outputs[name] = out
    return launch
