"""Datastores, data assets in them, job outputs registered as data, tables read back as pandas.

Real server (SQLite and PostgreSQL), real jobs as processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

import trainyard
from tests.server.helpers import assert_error, unique
from tests.support import RunningServer
from trainyard.client import Workspace
from trainyard.errors import Conflict, NotFound


@pytest.fixture
def ws(server: RunningServer) -> Iterator[Workspace]:
    with trainyard.connect(server.url) as client:
        yield client


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    (root / "sales").mkdir(parents=True)
    pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.5, 2.5]}).to_parquet(root / "sales" / "a.parquet")
    pd.DataFrame({"x": [4], "y": [3.5]}).to_parquet(root / "sales" / "b.parquet")
    (root / "notes.txt").write_text("hello from the lake\n")
    (tmp_path / "secret.txt").write_text("outside")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    return root


def test_datastores_register_list_show_and_refuse_bad_input(api: httpx.Client, lake: Path) -> None:
    name = unique("lake")
    made = api.put(f"/datastores/{name}", json={"url": f"file://{lake}"})
    assert made.status_code == 201, made.text
    assert made.json()["type"] == "file" and made.json()["url"] == f"file://{lake}"
    again = api.put(f"/datastores/{name}", json={"url": f"file://{lake}/", "description": "d"})
    assert again.status_code == 200 and again.json()["description"] == "d"
    listed = [d["name"] for d in api.get("/datastores").json()["datastores"]]
    assert listed[0] == "default" and name in listed
    default = api.get("/datastores/default").json()
    assert default["builtin"] and default["type"] == "artifact_store"
    s3 = api.put(f"/datastores/{unique('s3')}", json={"url": "s3://bucket/prefix"})
    assert s3.status_code == 201 and s3.json()["type"] == "s3"  # recorded, not reached
    assert_error(api.get("/datastores/nope"), 404, "NOT_FOUND", contains="datastore 'nope'")
    assert_error(
        api.put("/datastores/default", json={"url": f"file://{lake}"}),
        400,
        "INVALID_ARGUMENT",
        contains="built-in",
    )
    for url, says in [
        ("file://relative/x", "absolute path"),
        (f"file://{lake}/missing", "is not a folder"),
        ("nosuchproto://x", "no protocol 'nosuchproto'"),
        ("/just/a/path", "fsspec URL"),
    ]:
        resp = api.put(f"/datastores/{unique('bad')}", json={"url": url})
        assert_error(resp, 400, "INVALID_ARGUMENT", contains=says)
    assert_error(
        api.put(f"/datastores/{unique('x')}", json={"url": f"file://{lake}", "bogus": 1}),
        400,
        "INVALID_ARGUMENT",
        contains="bogus",
    )


def test_data_in_a_datastore_feeds_a_job_and_reads_back_as_pandas(
    api: httpx.Client, ws: Workspace, lake: Path
) -> None:
    store = unique("lake")
    ws.datastores.create(store, url=f"file://{lake}")
    sales = unique("sales")
    ws.data.create(sales, "1", path=f"datastore://{store}/sales", type="table")
    frame = ws.data.get(f"{sales}:1").to_pandas()
    assert list(frame["x"]) == [1, 2, 3, 4]
    notes = unique("notes")
    ws.data.create(notes, "1", path=f"datastore://{store}/notes.txt", type="uri_file")
    assert [f.path for f in ws.data.get(notes).list_files()] == ["notes.txt"]
    for path, status, code, says in [
        (f"datastore://{store}/../secret.txt", 400, "INVALID_ARGUMENT", "'..'"),
        (f"datastore://{store}/escape", 400, "INVALID_ARGUMENT", "out of the datastore"),
        (f"datastore://{store}/missing.csv", 400, "INVALID_ARGUMENT", "does not exist"),
        (f"datastore://{store}/sales", 400, "INVALID_ARGUMENT", "declare the data as uri_folder"),
        ("datastore://nope/x.csv", 404, "NOT_FOUND", "datastore 'nope'"),
    ]:
        resp = api.put(f"/data/{unique('d')}/versions/1", json={"type": "uri_file", "path": path})
        assert_error(resp, status, code, contains=says)
    job = ws.jobs.create(
        'python -c "import sys,os; print(open(sys.argv[1]).read().strip()); '
        'print(sorted(os.listdir(sys.argv[2])))" ${{inputs.notes}} ${{inputs.sales}}',
        inputs={
            "notes": {"type": "uri_file", "path": f"{notes}:1"},
            "sales": {"type": "table", "path": f"{sales}:1"},
        },
    )
    assert job.wait(60).value == "Completed", job.info.error
    assert job.info.resolved["inputs"]["notes"]["uri"] == f"datastore://{store}/notes.txt"
    stdout = api.get(f"/jobs/{job.name}/logs", params={"stream": "stdout"}).text
    assert stdout == "hello from the lake\n['a.parquet', 'b.parquet']\n"


def test_a_job_output_registered_as_data_is_the_next_jobs_input(
    api: httpx.Client, ws: Workspace
) -> None:
    features = unique("features")
    write = (
        "python -c \"import sys; open(sys.argv[1] + '/part.csv', 'w').write('a,b\\n1,2\\n3,4\\n')\""
        " ${{outputs.out}}"
    )
    a = ws.jobs.create(write, outputs={"out": {"name": features, "version": "1"}})
    assert a.wait(60).value == "Completed", a.info.error
    data = ws.data.get(f"{features}:1")
    assert data.type == "uri_folder" and data.path.startswith("store:")
    assert data.tags["trainyard.job"] == a.name
    assert data.to_pandas().to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    # the same version again is refused before anything runs
    resp = api.post(
        "/jobs", json={"command": "true", "outputs": {"out": {"name": features, "version": "1"}}}
    )
    assert_error(resp, 409, "CONFLICT", contains=f"{features}:1 exists already")
    resp = api.post("/jobs", json={"command": "true", "outputs": {"out": {"name": features}}})
    assert_error(resp, 400, "INVALID_ARGUMENT", contains="both name and version")
    # registered afterwards, by the SDK, from a job that did not say so
    b = ws.jobs.create(write, outputs={"out": {}})
    assert b.wait(60).value == "Completed", b.info.error
    again = ws.data.register_output(b.name, "out", name=features, version="2")
    assert again.version == "2" and again.tags["trainyard.output"] == "out"
    with pytest.raises(NotFound, match="no output 'nope'"):
        ws.data.register_output(b.name, "nope", name=features, version="3")
    with pytest.raises(Conflict, match="exists already with other contents"):
        ws.data.register_output(b.name, "out", name=features, version="1")
    reader = ws.jobs.create(
        "cat ${{inputs.features}}/part.csv",
        inputs={"features": {"type": "uri_folder", "path": f"{features}:2"}},
    )
    assert reader.wait(60).value == "Completed", reader.info.error
    stdout = api.get(f"/jobs/{reader.name}/logs", params={"stream": "stdout"}).text
    assert stdout == "a,b\n1,2\n3,4\n"


def test_a_running_jobs_output_cannot_be_registered(api: httpx.Client, ws: Workspace) -> None:
    job = ws.jobs.create("sleep 30", outputs={"out": {}})
    try:
        with pytest.raises(Conflict, match="only a Completed job"):
            ws.data.register_output(job.name, "out", name=unique("o"), version="1")
    finally:
        job.cancel()
    assert_error(
        api.post("/jobs/nope/outputs/out/register", json={"name": "x", "version": "1"}),
        404,
        "NOT_FOUND",
    )


def test_a_datastore_folder_lists_and_serves_only_what_is_inside_it(
    api: httpx.Client, lake: Path
) -> None:
    """``escape`` at the lake's root links to a file beside the lake: a data asset over the
    whole lake neither lists it nor serves it (a reader would otherwise read any file the
    server's account can)."""
    store = unique("lake")
    assert api.put(f"/datastores/{store}", json={"url": f"file://{lake}"}).status_code == 201
    name = unique("all")
    made = api.put(
        f"/data/{name}/versions/1", json={"type": "uri_folder", "path": f"datastore://{store}/"}
    )
    assert made.status_code == 201, made.text
    files = api.get(f"/data/{name}/versions/1/files").json()["files"]
    assert sorted(f["path"] for f in files) == ["notes.txt", "sales/a.parquet", "sales/b.parquet"]
    assert api.get(f"/data/{name}/versions/1/files/notes.txt").text == "hello from the lake\n"
    leak = api.get(f"/data/{name}/versions/1/files/escape")
    assert_error(leak, 404, "NOT_FOUND", contains="no file 'escape'")
    assert "outside" not in leak.text
