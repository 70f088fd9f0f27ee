"""A job or sweep reads ``datastore://<datastore>/<path>`` directly as an input, no asset first.

Real server (SQLite and PostgreSQL), real jobs as processes: a folder, a file and a table from a
``file://`` datastore are copied into the job's read-only inputs folder and read; each bad path
(out of the root, missing, of the wrong type, a raw server path) is a precise 4xx naming the
input, and nothing is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import trainyard
from tests.server.helpers import assert_error, unique, wait_job
from tests.support import RunningServer
from trainyard.client import Workspace
from trainyard.errors import InvalidArgument, NotFound

READ = b"""import os, sys
note, raw, table = sys.argv[1:4]
print(open(note).read().strip())
print(sorted(os.listdir(raw)), sorted(os.listdir(table)))
print(oct(os.stat(raw).st_mode & 0o777), oct(os.stat(note).st_mode & 0o777))
print(all("/inputs/" in p for p in (note, raw, table)))
"""


@pytest.fixture
def ws(server: RunningServer) -> Iterator[Workspace]:
    with trainyard.connect(server.url) as client:
        yield client


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A datastore folder, with a file and a folder that lead out of it by symlinks."""
    root = tmp_path / "lake"
    (root / "events" / "2026").mkdir(parents=True)
    (root / "events" / "2026" / "jan.csv").write_text("day,clicks\n1,10\n2,32\n")
    (root / "events" / "2026" / "feb.csv").write_text("day,clicks\n1,5\n")
    (root / "notes.txt").write_text("hello from the lake\n")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "outside").mkdir()
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    (root / "escape_dir").symlink_to(tmp_path / "outside")
    return root


@pytest.fixture
def store(api: httpx.Client, lake: Path) -> str:
    """A ``file://`` datastore over ``lake``."""
    name = unique("lake")
    made = api.put(f"/datastores/{name}", json={"url": f"file://{lake}"})
    assert made.status_code == 201, made.text
    return name


def _stdout(api: httpx.Client, name: str) -> str:
    return api.get(f"/jobs/{name}/logs", params={"stream": "stdout"}).text


def test_a_rest_job_reads_a_datastore_folder_file_and_table_directly(
    api: httpx.Client, lake: Path, store: str
) -> None:
    code = unique("read")
    assert api.put(f"/code/{code}/versions/1/files/read.py", content=READ).status_code == 201
    assert api.put(f"/code/{code}/versions/1", json={}).status_code == 201
    name = unique("direct")
    doc = {
        "command": "python read.py ${{inputs.note}} ${{inputs.raw}} ${{inputs.table}}",
        "code": f"{code}:1",
        "inputs": {
            "note": {"type": "uri_file", "path": f"datastore://{store}/notes.txt"},
            "raw": {"type": "uri_folder", "path": f"datastore://{store}/events/2026/"},
            "table": {"type": "table", "path": f"datastore://{store}/events/2026"},
        },
    }
    created = api.put(f"/jobs/{name}", json=doc)
    assert created.status_code == 201, created.text
    job = wait_job(api, name)
    assert job["status"] == "Completed", job
    assert job["inputs"]["raw"]["path"] == f"datastore://{store}/events/2026/"  # as submitted
    resolved = job["resolved"]["inputs"]
    assert resolved["note"] == {
        "type": "uri_file",
        "path": f"file://{lake}/notes.txt",
        "mode": "ro_mount",
        "uri": f"datastore://{store}/notes.txt",
    }
    assert resolved["raw"]["path"] == f"file://{lake}/events/2026"
    assert resolved["raw"]["uri"] == f"datastore://{store}/events/2026/"
    assert resolved["table"]["type"] == "table" and "asset" not in resolved["table"]
    assert _stdout(api, name) == (
        "hello from the lake\n['feb.csv', 'jan.csv'] ['feb.csv', 'jan.csv']\n0o555 0o444\nTrue\n"
    )


def test_a_folder_holding_a_symlink_out_of_it_fails_the_job_and_copies_nothing(
    api: httpx.Client, lake: Path, store: str
) -> None:
    """The datastore's root holds ``escape`` and ``escape_dir``, symlinks to a file and a folder
    beside it: the folder is accepted (it is the root), but the job fails while preparing
    instead of reading them."""
    name = unique("leak")
    doc = {
        "command": "cat ${{inputs.all}}/escape",
        "inputs": {"all": {"type": "uri_folder", "path": f"datastore://{store}/"}},
    }
    created = api.put(f"/jobs/{name}", json=doc)
    assert created.status_code == 201, created.text
    job = wait_job(api, name)
    assert job["status"] == "Failed", job
    assert re.search(r"input 'all': escape(_dir)? is a symlink out of the folder", job["error"])
    assert "outside" not in _stdout(api, name)


def test_the_sdk_and_a_sweep_read_a_datastore_path_directly(
    api: httpx.Client, ws: Workspace, store: str
) -> None:
    job = ws.jobs.create(
        "python -c \"import sys; print(open(sys.argv[1] + '/jan.csv').read().split()[-1])\" "
        "${{inputs.raw}}",
        inputs={"raw": {"type": "uri_folder", "path": f"datastore://{store}/events/2026"}},
    )
    assert job.wait(60).value == "Completed", job.info.error
    assert job.info.resolved["inputs"]["raw"]["uri"] == f"datastore://{store}/events/2026"
    assert _stdout(api, job.name) == "2,32\n"
    sweep = ws.jobs.create_sweep(
        trial={
            "command": "python -c \"import sys, trainyard; trainyard.log('loss', "
            'len(open(sys.argv[1]).read()) * float(sys.argv[2]))" '
            "${{inputs.note}} ${{search_space.x}}"
        },
        search_space={"x": {"type": "choice", "values": [1, 2]}},
        objective={"primary_metric": "loss", "goal": "minimize"},
        sampling_algorithm="grid",
        inputs={"note": {"type": "uri_file", "path": f"datastore://{store}/notes.txt"}},
    )
    assert sweep.wait(90).value == "Completed", sweep.info.error
    assert sweep.info.resolved["trial"]["inputs"]["note"]["uri"] == (
        f"datastore://{store}/notes.txt"
    )
    trials = sweep.info.trials
    assert len(trials) == 2 and {t.status.value for t in trials} == {"Completed"}
    assert sorted(t.objective for t in trials) == [20.0, 40.0]  # len("hello from the lake\n")
    # a raw path goes to the server (not uploaded as a local file) and is refused there
    with pytest.raises(InvalidArgument, match="register a datastore"):
        ws.jobs.create("true", inputs={"raw": {"type": "uri_folder", "path": "s3://b/events"}})
    with pytest.raises(NotFound, match="datastore 'nope'"):
        ws.jobs.create("true", inputs={"raw": {"type": "uri_file", "path": "datastore://nope/x"}})


def _bad_paths(store: str, lake: Path) -> list[tuple[str, str, int, str, str]]:
    """(type, path, status, code, a fragment of the message) of inputs that must be refused."""
    bad = "INVALID_ARGUMENT"
    return [
        ("uri_file", f"datastore://{store}/../secret.txt", 400, bad, "'..'"),
        ("uri_file", f"datastore://{store}/events/../../secret.txt", 400, bad, "'..'"),
        ("uri_file", f"datastore://{store}/%2E%2E/secret.txt", 400, bad, "'..'"),
        ("uri_file", f"datastore://{store}//etc/passwd", 400, bad, "relative to the datastore"),
        ("uri_file", f"datastore://{store}/escape", 400, bad, "out of the datastore"),
        ("uri_folder", f"datastore://{store}/escape_dir", 400, bad, "out of the datastore"),
        ("uri_file", "datastore://nope/x.csv", 404, "NOT_FOUND", "datastore 'nope'"),
        ("uri_file", "datastore:///x.csv", 400, bad, "names no datastore"),
        ("uri_file", f"datastore://{store}/missing.csv", 400, bad, "does not exist"),
        ("table", f"datastore://{store}/events/2027", 400, bad, "does not exist"),
        (
            "uri_file",
            f"datastore://{store}/events/2026",
            400,
            bad,
            "declare the data as uri_folder",
        ),
        ("uri_folder", f"datastore://{store}/notes.txt", 400, bad, "declare the data as uri_file"),
        ("uri_folder", "s3://bucket/events", 400, bad, "register a datastore"),
        ("uri_file", "file:///etc/passwd", 400, bad, "register a datastore"),
        ("uri_file", f"file://{lake}/notes.txt", 400, bad, "register a datastore"),
        ("uri_file", "/etc/passwd", 400, bad, "register a datastore"),
        ("uri_folder", str(lake / "events"), 400, bad, "register a datastore"),
    ]


def test_bad_datastore_paths_are_precise_4xx_and_record_nothing(
    api: httpx.Client, lake: Path, store: str
) -> None:
    experiment = unique("refused")
    for type_, path, status, code, says in _bad_paths(store, lake):
        name = unique("bad")
        doc = {
            "command": "cat ${{inputs.raw}}",
            "inputs": {"raw": {"type": type_, "path": path}},
            "experiment_name": experiment,
        }
        resp = api.put(f"/jobs/{name}", json=doc)
        assert_error(resp, status, code, contains=("'inputs.raw.path'", says))
        assert api.get(f"/jobs/{name}").status_code == 404, path
    sweep = {
        "type": "sweep",
        "trial": {"command": "cat ${{inputs.raw}} ${{search_space.x}}"},
        "sampling_algorithm": "grid",
        "search_space": {"x": {"type": "choice", "values": [1]}},
        "objective": {"primary_metric": "loss", "goal": "minimize"},
        "inputs": {"raw": {"type": "uri_file", "path": f"datastore://{store}/escape"}},
        "experiment_name": experiment,
    }
    resp = api.post("/jobs", json=sweep)
    assert_error(resp, 400, "INVALID_ARGUMENT", contains=("inputs.raw.path", "out of the"))
    # no job, no run: the experiment the jobs name was never even created
    missing = api.get("/experiments/by-name", params={"name": experiment})
    assert_error(missing, 404, "NOT_FOUND")
    assert not [j for j in api.get("/jobs").json()["jobs"] if j["name"].startswith("bad-")]
