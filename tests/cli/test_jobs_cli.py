"""``trainyard job`` and the asset groups against a real server: the iris example, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, start_server

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "jobs" / "iris"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = start_server(tmp_path_factory.mktemp("cli-jobs-home"), {})
    yield server
    server.stop()


def cli(
    srv: RunningServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRAINYARD_URI": srv.url, "COLUMNS": "250"}
    env.pop("TRAINYARD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "trainyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_the_iris_example_streams_completes_and_downloads(
    srv: RunningServer, tmp_path: Path
) -> None:
    res = cli(srv, "job", "create", "-f", str(IRIS / "job.yml"), "--name", "iris-cli", "--stream")
    assert res.returncode == 0, res.stderr
    assert "accuracy" in res.stdout and "Completed" in res.stderr
    shown = json.loads(cli(srv, "job", "show", "iris-cli", "--json").stdout)
    assert shown["status"] == "Completed" and shown["name"] == "iris-cli"
    assert shown["code"].startswith("code-") and shown["inputs"]["learning_rate"] == 0.1
    assert shown["inputs"]["iris"]["path"].startswith("data-")
    assert shown["experiment_name"] == "iris-example"
    # the same files again reuse the uploaded assets
    again = cli(srv, "job", "create", "-f", str(IRIS / "job.yml"), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["code"] == shown["code"]
    res = cli(srv, "job", "download", "iris-cli", "-o", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "outputs" / "model" / "model.pkl").stat().st_size > 0
    assert "accuracy" in (tmp_path / "logs" / "stdout.log").read_text()
    listed = json.loads(cli(srv, "job", "list", "--json").stdout)
    assert "iris-cli" in [j["name"] for j in listed]
    assert cli(srv, "job", "stream", "iris-cli").returncode == 0


def test_exit_codes_of_failures(srv: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "fail.yml").write_text("command: python -c 'import sys; sys.exit(3)'\n")
    res = cli(srv, "job", "create", "-f", str(tmp_path / "fail.yml"), "--stream")
    assert res.returncode == 1 and "Failed" in res.stderr
    (tmp_path / "typo.yml").write_text("commnd: echo hi\n")
    res = cli(srv, "job", "create", "-f", str(tmp_path / "typo.yml"))
    assert res.returncode == 2 and "commnd: unknown key" in res.stderr
    (tmp_path / "missing.yml").write_text("command: cat ${{inputs.data}}\n")
    res = cli(srv, "job", "create", "-f", str(tmp_path / "missing.yml"))
    assert res.returncode == 2 and "no input 'data'" in res.stderr
    (tmp_path / "ref.yml").write_text("command: echo\nenvironment: nope:1\n")
    res = cli(srv, "job", "create", "-f", str(tmp_path / "ref.yml"))
    assert res.returncode == 3 and "nope:1" in res.stderr
    (tmp_path / "bad.yml").write_text("command: [unclosed\n")
    assert cli(srv, "job", "create", "-f", str(tmp_path / "bad.yml")).returncode == 2
    assert cli(srv, "job", "stream", "no-such-job").returncode == 3
    (tmp_path / "sleep.yml").write_text("name: sleeper\ncommand: sleep 300\n")
    assert cli(srv, "job", "create", "-f", str(tmp_path / "sleep.yml")).returncode == 0
    assert cli(srv, "job", "cancel", "sleeper").returncode == 0
    assert cli(srv, "job", "stream", "sleeper").returncode == 1


def test_asset_groups(srv: RunningServer, tmp_path: Path) -> None:
    res = cli(srv, "environment", "create", "skl", "1", "-r", "scikit-learn")
    assert res.returncode == 0, res.stderr
    envs = json.loads(cli(srv, "environment", "list", "--json").stdout)
    assert {"python", "skl"} <= {e["name"] for e in envs}
    res = cli(srv, "data", "create", "iris", "1", "-p", str(IRIS / "iris.csv"), "-t", "uri_file")
    assert res.returncode == 0, res.stderr
    assert "iris" in [d["name"] for d in json.loads(cli(srv, "data", "list", "--json").stdout)]
    res = cli(srv, "code", "create", str(IRIS / "src"), "--name", "iris-src")
    assert res.returncode == 0, res.stderr
    assert "iris-src" in cli(srv, "code", "list").stdout
    assert cli(srv, "compute", "create", "two", "--slots", "2").returncode == 0
    computes = json.loads(cli(srv, "compute", "list", "--json").stdout)
    assert [(c["name"], c["slots"]) for c in computes][-1] == ("two", 2)


def test_a_yaml_job_reads_a_datastore_path_directly(srv: RunningServer, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    (lake / "events").mkdir(parents=True)
    (lake / "events" / "jan.csv").write_text("day,clicks\n1,10\n")
    res = cli(srv, "datastore", "create", "cli-lake", "--url", f"file://{lake}")
    assert res.returncode == 0, res.stderr
    (tmp_path / "job.yml").write_text(
        "command: cat ${{inputs.raw}}/jan.csv\n"
        "inputs:\n"
        "  raw:\n"
        "    type: uri_folder\n"
        "    path: datastore://cli-lake/events\n"
    )
    res = cli(srv, "job", "create", "-f", str(tmp_path / "job.yml"), "--stream", "--json")
    assert res.returncode == 0, res.stderr
    assert "day,clicks\n1,10\n" in res.stdout and "Completed" in res.stderr
    (tmp_path / "raw.yml").write_text(
        "command: cat ${{inputs.raw}}\n"
        "inputs:\n"
        "  raw:\n"
        "    type: uri_file\n"
        f"    path: file://{lake}/events/jan.csv\n"
    )
    res = cli(srv, "job", "create", "-f", str(tmp_path / "raw.yml"))
    assert res.returncode == 2 and "register a datastore" in res.stderr, res.stderr
