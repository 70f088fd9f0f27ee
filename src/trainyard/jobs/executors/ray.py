"""The Ray executor: the same job on a Ray cluster, through Ray's Job Submission API.

Trainyard does not manage the cluster: it hands each job to Ray (``JobSubmissionClient`` on the
compute's dashboard address) as a Ray job whose runtime environment carries everything:

- ``working_dir``: a staging folder with the code snapshot, the inputs under ``_inputs/<name>``
  (the command's ``${{inputs.x}}`` become these relative paths) and ``_trainyard_entry.py``;
- ``env_vars``: the job's variables (``TRAINYARD_URI``, ``TRAINYARD_RUN_ID``, ...), so the
  script logs into its run over HTTP as it does locally (the cluster must reach the server:
  set ``TRAINYARD_PUBLIC_URL``);
- ``pip``: the requirements of a registered environment (Ray builds and caches it).

The entry script runs the command with bash, then uploads ``_outputs/<name>/`` to the run's
artifacts with the SDK (Trainyard must be installed on the cluster) and exits with the
command's exit code. Ray merges stdout and stderr: the job's log is fetched into
``logs/stdout.log`` at each ``sync_logs``. Statuses map as PENDING/RUNNING -> running,
SUCCEEDED -> exit 0, FAILED -> the driver's exit code, STOPPED -> ended.

A Ray job outlives the server: when the server stops or dies, the job runs on, and the next
server re-attaches to it by its submission id (``ray_job_id`` in the job's state): it follows it
again if it still runs, or takes the final status Ray recorded (and its whole log) if it ended
meanwhile. A cluster that cannot be reached, or that does not know the submission (it was
restarted), fails the job with that reason.

Requires ``ray[default]`` (the ``ray`` extra), imported only when a ray compute is used.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from trainyard.jobs.executors._base import Execution, Executor, Launch, LaunchError

log = logging.getLogger("trainyard.jobs")

POLL_SECONDS = 0.5

ENTRY = '''"""Run by Ray: the job's command, then its outputs uploaded to its Trainyard run."""
import os
import subprocess
import sys

code = subprocess.call(["bash", "-c", {command!r}])
outputs = {outputs!r}
if any(os.path.isdir(p) and os.listdir(p) for p in outputs.values()):
    import trainyard

    run = trainyard.get_run()
    for name, path in outputs.items():
        if os.path.isdir(path):
            run.upload_folder("outputs/" + name, path)
sys.exit(code)
'''


def _client(address: str) -> Any:
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise LaunchError(
            "this compute is a Ray cluster but Ray is not installed on the server: "
            "pip install 'trainyard[ray]'"
        ) from exc
    try:
        return JobSubmissionClient(address)
    except Exception as exc:
        raise LaunchError(f"cannot reach the Ray cluster at {address}: {exc}") from exc


class RayExecution(Execution):
    """A Ray job, watched through the Job Submission API."""

    def __init__(self, client: Any, job_id: str, log_dir: Path, address: str) -> None:
        self.client = client
        self.job_id = job_id
        self.log_dir = log_dir
        self.state = {"ray_job_id": job_id, "ray_address": address}
        self._last_poll = 0.0

    def _exit_code(self) -> int | None:
        info = self.client.get_job_info(self.job_id)
        status = str(info.status)
        if status.endswith("SUCCEEDED"):
            return 0
        if status.endswith("FAILED") or status.endswith("STOPPED"):
            code = getattr(info, "driver_exit_code", None)
            if isinstance(code, int) and code != 0:
                return code
            return 143 if status.endswith("STOPPED") else 1
        return None

    def wait(self, timeout: float) -> int | None:
        """Poll Ray (every half second at most) until the job ends or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            pause = self._last_poll + POLL_SECONDS - time.monotonic()
            if pause > 0:
                if time.monotonic() + pause > deadline:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    return None
                time.sleep(pause)
            self._last_poll = time.monotonic()
            code = self._exit_code()
            if code is not None or time.monotonic() >= deadline:
                return code

    def terminate(self, grace: float = 5.0) -> int | None:
        """Ask Ray to stop the job (Ray signals its process group), and wait for its end."""
        with contextlib.suppress(Exception):
            self.client.stop_job(self.job_id)
        return self.wait(grace + 30)

    def sync_logs(self) -> None:
        """Fetch the job's (merged) log from Ray into ``logs/stdout.log``."""
        try:
            text = self.client.get_job_logs(self.job_id)
        except Exception as exc:
            log.debug("could not fetch the logs of Ray job %s: %s", self.job_id, exc)
            return
        path = self.log_dir / "stdout.log"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(path)

    def local_outputs(self) -> bool:
        """The entry script uploads the outputs from the cluster."""
        return False

    @property
    def outlives_server(self) -> bool:
        """A Ray job runs on the cluster whether the server lives or not."""
        return True


class RayExecutor(Executor):
    """Submits jobs to the Ray cluster named by their compute's address."""

    def launch(self, job: Launch) -> Execution:
        """Stage the working dir, submit the Ray job, return once Ray accepted it."""
        address = str(job.compute.get("address") or "")
        client = _client(address)
        staging = job.workdir / "ray"
        if staging.exists():
            shutil.rmtree(staging)
        shutil.copytree(job.code_dir, staging)
        rel: dict[Path, str] = {}
        for name, path in job.inputs.items():
            target = staging / "_inputs" / name / path.name
            if path.is_dir():
                shutil.copytree(path, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
            rel[path] = target.relative_to(staging).as_posix()
        outputs = {name: f"_outputs/{name}" for name in job.outputs}
        for name in job.outputs:
            rel[job.outputs[name]] = outputs[name]
        command = f"mkdir -p {' '.join(outputs.values()) or '.'} && {job.render(rel.__getitem__)}"
        (staging / "_trainyard_entry.py").write_text(ENTRY.format(command=command, outputs=outputs))
        runtime_env: dict[str, Any] = {
            "working_dir": str(staging),
            "env_vars": {**job.env, "PYTHONUNBUFFERED": "1"},
        }
        requirements = job.environment.get("requirements") or []
        if requirements:
            runtime_env["pip"] = list(requirements)
        submission_id = f"trainyard-{job.workspace}-{job.name}-{secrets.token_hex(3)}"
        job.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            job_id = client.submit_job(
                entrypoint="python _trainyard_entry.py",
                runtime_env=runtime_env,
                submission_id=submission_id,
                metadata={"trainyard_job": f"{job.workspace}/{job.name}"},
            )
        except Exception as exc:
            raise LaunchError(f"the Ray cluster at {address} refused the job: {exc}") from exc
        return RayExecution(client, str(job_id), job.log_dir, address)

    def reattachable(self, state: dict[str, Any]) -> bool:
        """True once the job was submitted (its submission id and cluster are recorded)."""
        return bool(state.get("ray_job_id") and state.get("ray_address"))

    def attach(self, state: dict[str, Any], log_dir: Path) -> Execution:
        """Find the submission on its cluster again; raise ``LaunchError`` saying why not."""
        job_id, address = str(state.get("ray_job_id")), str(state.get("ray_address"))
        client = _client(address)
        try:
            client.get_job_info(job_id)
        except Exception as exc:
            if "404" in str(exc) or "does not exist" in str(exc):
                raise LaunchError(
                    f"the Ray cluster at {address} does not know the job's submission {job_id} "
                    "(was the cluster restarted?)"
                ) from exc
            raise LaunchError(
                f"cannot ask the Ray cluster at {address} about submission {job_id}: {exc}"
            ) from exc
        log_dir.mkdir(parents=True, exist_ok=True)
        return RayExecution(client, job_id, log_dir, address)

    def reap(self, state: dict[str, Any]) -> None:
        """Stop the Ray job a dead server left (best effort)."""
        job_id, address = state.get("ray_job_id"), state.get("ray_address")
        if not job_id or not address:
            return
        with contextlib.suppress(Exception):
            _client(str(address)).stop_job(str(job_id))
