"""The local executor: a process group per job, logs to files, group ended on terminate."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from trainyard.jobs.environments import EnvironmentBuilder
from trainyard.jobs.executors._base import Launch
from trainyard.jobs.executors.local import LocalExecutor, group_alive


def _launch(tmp_path: Path, command: str, **kw: object) -> Launch:
    job = Launch("default", "j", "r" * 32, command, tmp_path / "w", **kw)  # type: ignore[arg-type]
    job.code_dir.mkdir(parents=True)
    return job


def _gone(pgid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_runs_in_its_folder_with_its_variables_and_placeholders(tmp_path: Path) -> None:
    inp = tmp_path / "in.txt"
    inp.write_text("data")
    job = _launch(
        tmp_path,
        "pwd; echo $GREETING ${{inputs.lr}}; cat ${{inputs.f}}; echo oops >&2; exit 3",
        inputs={"f": inp},
        literals={"lr": "a b"},
        environment={"builtin": True},
        env={"GREETING": "hello"},
    )
    execution = LocalExecutor(EnvironmentBuilder(tmp_path / "envs")).launch(job)
    assert execution.wait(30) == 3
    out = (job.log_dir / "stdout.log").read_text().splitlines()
    assert out == [str(job.code_dir), "hello a b", "data"]
    assert (job.log_dir / "stderr.log").read_text() == "oops\n"


def test_the_servers_settings_do_not_leak_into_jobs(tmp_path: Path, monkeypatch: object) -> None:
    os.environ["TRAINYARD_DATABASE_URL"] = "postgresql://u:secret@h/db"
    try:
        job = _launch(tmp_path, "env", environment={"builtin": True})
        execution = LocalExecutor(EnvironmentBuilder(tmp_path)).launch(job)
        assert execution.wait(30) == 0
    finally:
        del os.environ["TRAINYARD_DATABASE_URL"]
    env = (job.log_dir / "stdout.log").read_text()
    assert "secret" not in env and "PYTHONUNBUFFERED=1" in env
    assert f"PATH={os.path.dirname(sys.executable)}" in env


def test_terminate_ends_the_whole_group_even_what_ignores_sigterm(tmp_path: Path) -> None:
    job = _launch(
        tmp_path,
        "trap '' TERM; sleep 60 & sleep 60 & echo started; wait",
        environment={"builtin": True},
    )
    execution = LocalExecutor(EnvironmentBuilder(tmp_path)).launch(job)
    pgid = execution.state["pgid"]
    deadline = time.monotonic() + 10
    while "started" not in (job.log_dir / "stdout.log").read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert execution.wait(0.1) is None
    started = time.monotonic()
    execution.terminate(grace=0.5)
    assert time.monotonic() - started < 8
    assert _gone(pgid)


def test_processes_left_behind_by_a_finished_command_are_ended(tmp_path: Path) -> None:
    job = _launch(tmp_path, "sleep 60 & exit 0", environment={"builtin": True})
    execution = LocalExecutor(EnvironmentBuilder(tmp_path)).launch(job)
    assert execution.wait(30) == 0
    assert _gone(execution.state["pgid"])
