"""Jobs from the SDK: ``ws.jobs.create(...)``, ``job.wait()``, ``job.stream()``, ``job.cancel()``.

Local paths in a job (its ``code`` folder, data inputs given as local files or folders) are
uploaded first, as content-addressed assets, and the job is submitted with references to them.

Example::

    job = ws.jobs.create(
        command="python train.py --data ${{inputs.iris}} --out ${{outputs.model}}",
        code="./src",
        inputs={"iris": {"type": "uri_file", "path": "./iris.csv"}},
        outputs={"model": {}},
        experiment_name="iris",
    )
    job.stream()          # prints stdout and stderr as they grow, until the job ends
    print(job.status)     # Completed
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from trainyard.client._scope import Scope, body, iter_pages
from trainyard.client._submitted import SubmittedJob
from trainyard.client.assets import CodeAssets, DataAssets
from trainyard.client.run import Run
from trainyard.client.sweeps import Sweep
from trainyard.core.jobs import JobStatus, parse_ref
from trainyard.schemas.jobs import Job as JobInfo
from trainyard.schemas.jobs import JobCreate, JobList, SweepJob, SweepJobCreate

StrPath = str | os.PathLike[str]
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def _wrap(scope: Scope, data: Any) -> Job | Sweep:
    """A ``Job``, or a ``Sweep`` for a job of ``type: sweep``."""
    if isinstance(data, SweepJob) or (isinstance(data, Mapping) and data.get("type") == "sweep"):
        return Sweep(scope, SweepJob.model_validate(data))
    return Job(scope, JobInfo.model_validate(data))


def _is_remote(path: str) -> bool:
    """Not a local path to upload: an asset reference or any ``scheme://`` path.

    ``datastore://<datastore>/<path>`` and http(s) URLs are read by the server; any other
    scheme (``s3://``, ``file://``) is passed on too, for the server to refuse with what to do.
    """
    return _URL_RE.match(path) is not None or (parse_ref(path) is not None and "/" not in path)


class Job(SubmittedJob[JobInfo]):
    """A submitted job. Made by ``ws.jobs.create`` or ``ws.jobs.get``."""

    _model = JobInfo
    _kind = "job"

    @property
    def name(self) -> str:
        """The job's name, unique in its workspace."""
        return self.info.name

    @property
    def run_id(self) -> str | None:
        """The id of the job's run (its metrics, logs and outputs)."""
        return self.info.run_id

    @property
    def status(self) -> JobStatus:
        """The job's status now (asks the server)."""
        return self.refresh().info.status

    def refresh(self) -> Job:
        """Read the job again from the server."""
        return self._read()

    def wait(self, timeout: float | None = None, poll: float = 0.5) -> JobStatus:
        """Block until the job ends; its final status.

        Raises:
            TimeoutError: it had not ended after ``timeout`` seconds.
        """
        return self._wait(timeout, poll)

    def cancel(self) -> Job:
        """Cancel the job (a running one ends once its process group is gone)."""
        return self._cancel()

    def read_log(self, stream: str = "stdout", offset: int = 0) -> tuple[bytes, int, bool]:
        """Bytes of ``stdout`` or ``stderr`` from ``offset``: ``(data, next offset, complete)``."""
        path = self._scope.path("jobs", self.name, "logs")
        params = {"stream": stream, "offset": offset}
        with self._scope.transport.stream("GET", path, params=params) as resp:
            data = resp.read()
            nxt = int(resp.headers.get("Trainyard-Next-Offset", offset + len(data)))
            return data, nxt, resp.headers.get("Trainyard-Log-Complete") == "true"

    def stream(
        self, stdout: IO[str] | None = None, stderr: IO[str] | None = None, poll: float = 0.5
    ) -> JobStatus:
        """Print the job's stdout and stderr as they grow, until it ends; its final status."""
        outs = {"stdout": stdout or sys.stdout, "stderr": stderr or sys.stderr}
        offsets = {"stdout": 0, "stderr": 0}
        done = {"stdout": False, "stderr": False}
        while not all(done.values()):
            grew = False
            for name, out in outs.items():
                if done[name]:
                    continue
                data, offsets[name], done[name] = self.read_log(name, offsets[name])
                if data:
                    out.write(data.decode(errors="replace"))
                    out.flush()
                    grew = True
            if not grew and not all(done.values()):
                time.sleep(poll)
        return self.refresh().info.status

    def get_run(self) -> Run:
        """The job's run (metrics, params, artifacts)."""
        return self._get_run()

    def download(self, output_dir: StrPath = ".") -> list[Path]:
        """Download the job's outputs and logs into ``output_dir`` (paths as in its run)."""
        run = self.get_run()
        written = []
        for name in run.get_file_names():
            if name.startswith(("outputs/", "logs/")):
                dest = Path(output_dir, *name.split("/"))
                written.append(run.download_file(name, dest))
        return written


class Jobs:
    """The jobs of a workspace (``ws.jobs``)."""

    def __init__(self, scope: Scope, code: CodeAssets, data: DataAssets) -> None:
        self._scope = scope
        self._code = code
        self._data = data

    def create(
        self,
        command: str,
        *,
        name: str | None = None,
        code: StrPath | None = None,
        environment: str = "python",
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        compute: str = "local",
        experiment_name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        timeout: int | None = None,
    ) -> Job:
        """Upload what is local, then submit a command job (see the module's example).

        Args:
            command: the shell command, with ``${{inputs.NAME}}`` and ``${{outputs.NAME}}``.
            code: a local folder (uploaded) or a code asset ``name:version``.
            inputs: literal values, or data inputs ``{"type": "uri_file", "path": ...}`` whose
                path is local (uploaded), a data asset ``name:version``, a
                ``datastore://<datastore>/<path>`` or an http(s) URL; a ``pathlib.Path`` is a
                local file or folder.
            outputs: folders the job writes, e.g. ``{"model": {}}``.
            timeout: ``limits.timeout`` in seconds.
        """
        document: dict[str, Any] = {
            "command": command,
            "environment": environment,
            "compute": compute,
            "name": name,
            "code": None if code is None else str(code),
            "inputs": dict(inputs or {}),
            "outputs": {k: (v or {}) for k, v in (outputs or {}).items()},
            "experiment_name": experiment_name,
            "display_name": display_name,
            "description": description,
            "tags": dict(tags or {}),
            "environment_variables": dict(environment_variables or {}),
        }
        if timeout is not None:
            document["limits"] = {"timeout": timeout}
        job = self.submit({k: v for k, v in document.items() if v is not None})
        assert isinstance(job, Job)
        return job

    def create_sweep(
        self,
        trial: Mapping[str, Any],
        search_space: Mapping[str, Any],
        objective: Mapping[str, Any],
        *,
        sampling_algorithm: str | Mapping[str, Any] = "random",
        limits: Mapping[str, Any] | None = None,
        early_termination: Mapping[str, Any] | None = None,
        name: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        outputs: Mapping[str, Any] | None = None,
        compute: str = "local",
        experiment_name: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Sweep:
        """Upload what is local, then submit a sweep job (``trainyard.client.sweeps``' example).

        Args:
            trial: the command job each trial runs: ``command`` (with
                ``${{search_space.NAME}}``), ``code`` (a local folder is uploaded),
                ``environment``, ``environment_variables``.
            search_space: per parameter a distribution, e.g. ``{"type": "uniform",
                "min_value": 0, "max_value": 1}`` (``docs/sweeps.md``).
            objective: ``{"primary_metric": "rmse", "goal": "minimize"}``.
            sampling_algorithm: ``random``, ``grid``, ``bayesian``, or e.g.
                ``{"type": "random", "seed": 7}``.
            limits: ``max_total_trials``, ``max_concurrent_trials``, ``timeout``,
                ``trial_timeout`` (seconds).
            early_termination: ``{"type": "bandit", "slack_factor": 0.1, ...}``.
        """
        document: dict[str, Any] = {
            "type": "sweep",
            "name": name,
            "trial": dict(trial),
            "search_space": {k: dict(v) for k, v in search_space.items()},
            "objective": dict(objective),
            "sampling_algorithm": sampling_algorithm,
            "limits": None if limits is None else dict(limits),
            "early_termination": None if early_termination is None else dict(early_termination),
            "inputs": dict(inputs or {}),
            "outputs": {k: (v or {}) for k, v in (outputs or {}).items()},
            "compute": compute,
            "experiment_name": experiment_name,
            "display_name": display_name,
            "description": description,
            "tags": dict(tags or {}),
        }
        sweep = self.submit({k: v for k, v in document.items() if v is not None})
        assert isinstance(sweep, Sweep)
        return sweep

    def submit(self, document: Mapping[str, Any], base_dir: StrPath = ".") -> Job | Sweep:
        """Submit a job document (as in ``job.yml``, or a sweep's ``type: sweep``); local paths
        are relative to ``base_dir``."""
        doc = self.upload_local(document, Path(base_dir))
        if doc.get("type") == "sweep":
            trial = dict(doc.get("trial") or {})
            code = trial.get("code")
            if code is not None and not _is_remote(str(code)):
                uploaded = self._code.create(Path(base_dir) / str(code))
                trial["code"] = f"{uploaded.name}:{uploaded.version}"
            doc["trial"] = trial
            payload = body(SweepJobCreate, **doc)
        else:
            payload = body(JobCreate, **doc)
        if doc.get("name"):
            data = self._scope.request("PUT", "jobs", doc["name"], json=payload)
        else:
            data = self._scope.request("POST", "jobs", json=payload)
        return _wrap(self._scope, data)

    def upload_local(self, document: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
        """The document with its local code folder and local inputs replaced by asset refs."""
        doc = dict(document)
        code = doc.get("code")
        if code is not None and not _is_remote(str(code)):
            uploaded = self._code.create(base_dir / str(code))
            doc["code"] = f"{uploaded.name}:{uploaded.version}"
        inputs = {}
        for key, value in (doc.get("inputs") or {}).items():
            if isinstance(value, Path):
                value = {"type": "uri_file" if value.is_file() else "uri_folder", "path": value}
            if isinstance(value, Mapping) and "path" in value:
                value = dict(value)
                path = str(value["path"])
                if not _is_remote(path):
                    kind = str(value.get("type", "uri_folder"))
                    asset = self._data.upload_anonymous(base_dir / path, kind)
                    value["path"] = f"{asset.name}:{asset.version}"
            inputs[key] = value
        if inputs:
            doc["inputs"] = inputs
        if doc.get("outputs"):
            doc["outputs"] = {k: (v or {}) for k, v in doc["outputs"].items()}
        return doc

    def get(self, name: str) -> Job | Sweep:
        """The job called ``name`` (``NotFound`` if none): a ``Sweep`` for a sweep job."""
        return _wrap(self._scope, self._scope.request("GET", "jobs", name))

    def list(self, status: str | None = None) -> Iterator[Job | Sweep]:
        """Every job of the workspace, newest first (optionally of one status)."""

        def page(token: str | None) -> tuple[list[Job | Sweep], str | None]:
            params: dict[str, Any] = {"max_results": 100}
            if status:
                params["status"] = status
            if token:
                params["page_token"] = token
            found = JobList.model_validate(self._scope.request("GET", "jobs", params=params))
            return [_wrap(self._scope, j) for j in found.jobs], found.next_page_token

        return iter_pages(page)
