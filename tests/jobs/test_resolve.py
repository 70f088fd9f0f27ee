"""A job document is checked whole before anything is created: precise errors, nothing queued."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.conftest import Services
from trainyard.core.jobs import JobStatus
from trainyard.errors import AlreadyExists, InvalidArgument, NotFound
from trainyard.schemas.assets import (
    CodeAssetCreate,
    ComputeCreate,
    DataAssetCreate,
    DatastoreCreate,
    EnvironmentCreate,
)
from trainyard.schemas.jobs import JobCreate


def _spec(**fields: object) -> JobCreate:
    return JobCreate.model_validate({"command": "echo hi", **fields})


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"command": "cat ${{inputs.data}}"}, InvalidArgument, "no input 'data'"),
        ({"command": "ls ${{outputs.model}}"}, InvalidArgument, "no output 'model'"),
        ({"command": "echo ${{search_space.lr}}"}, InvalidArgument, "only ${{inputs.NAME}}"),
        ({"environment": "lgbm:1"}, NotFound, "'environment': environment lgbm:1"),
        ({"environment": "lgbm"}, InvalidArgument, "name:version or name@latest"),
        ({"code": "src:1"}, NotFound, "'code': code src:1 does not exist"),
        ({"compute": "gpu"}, NotFound, "'compute': compute 'gpu' does not exist"),
        (
            {"inputs": {"iris": {"type": "uri_file", "path": "iris:3"}}},
            NotFound,
            "'inputs.iris.path': data iris:3 does not exist",
        ),
        (
            {"inputs": {"iris": {"type": "uri_file", "path": "./iris.csv"}}},
            InvalidArgument,
            "looks like a local path, which the server cannot read; submit with the CLI or SDK "
            "(they upload it), register a datastore",
        ),
        (
            {"inputs": {"d": {"type": "uri_folder", "path": "https://x.org/a.csv"}}},
            InvalidArgument,
            "declare the input as uri_file",
        ),
        ({"environment_variables": {"TRAINYARD_URI": "x"}}, InvalidArgument, "reserved"),
        ({"environment_variables": {"1BAD": "x"}}, InvalidArgument, "not a variable name"),
    ],
)
def test_bad_documents_are_refused_before_anything_exists(
    services: Services, fields: dict[str, object], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as caught:
        services.jobs.submit("default", _spec(**fields), "bad")
    assert fragment in str(caught.value)
    with pytest.raises(NotFound):
        services.jobs.get("default", "bad")
    runs = services.tracking.search_runs("default", [])
    assert runs.items == []


def test_mismatched_data_type_is_refused(services: Services) -> None:
    services.upload("data", "iris", "1", {"iris.csv": b"a\n1\n"})
    services.assets.put_data("default", "iris", "1", DataAssetCreate(type="uri_file"))
    spec = _spec(inputs={"iris": {"type": "uri_folder", "path": "iris:1"}})
    with pytest.raises(InvalidArgument, match="is a uri_file but the input is declared"):
        services.jobs.submit("default", spec)


def test_a_good_document_resolves_its_references_and_owns_a_run(services: Services) -> None:
    services.upload("data", "iris", "1", {"iris.csv": b"a\n1\n"})
    services.assets.put_data("default", "iris", "1", DataAssetCreate(type="uri_file"))
    services.upload("code", "src", "1", {"train.py": b"print(1)\n"})
    services.assets.put_code("default", "src", "1", CodeAssetCreate())
    services.assets.put_environment("default", "env", "2", EnvironmentCreate(requirements=["x"]))
    services.assets.put_compute("default", "one", ComputeCreate(type="local", slots=1))
    spec = _spec(
        command="python train.py ${{inputs.iris}} ${{inputs.lr}} ${{outputs.model}}",
        code="src:1",
        environment="env@latest",
        inputs={"iris": {"type": "uri_file", "path": "iris@latest"}, "lr": 0.1},
        outputs={"model": None},
        compute="one",
        experiment_name="resolve",
        tags={"team": "a"},
    )
    job, created = services.jobs.submit("default", spec)
    assert created and job.status == JobStatus.QUEUED and job.name
    assert job.resolved["environment"]["version"] == "2"
    assert job.resolved["code"]["hash"] and job.resolved["compute"]["slots"] == 1
    assert job.resolved["inputs"]["iris"]["asset"] == "iris:1"
    assert job.resolved["inputs"]["lr"] == {"type": "literal", "value": "0.1"}
    run = services.tracking.get_run("default", job.run_id or "")
    assert run.tags["trainyard.job"] == job.name and run.tags["team"] == "a"
    assert run.status.value == "SCHEDULED"
    # the same document again is the same job; another document under the name is refused
    same, created = services.jobs.submit("default", spec.model_copy(update={"name": job.name}))
    assert not created and same.run_id == job.run_id
    with pytest.raises(AlreadyExists):
        services.jobs.submit("default", _spec(name=job.name))


def test_a_datastore_path_resolves_directly_as_a_datastore_asset_does(
    services: Services, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    (lake / "events").mkdir(parents=True)
    (lake / "events" / "a.csv").write_text("x\n1\n")
    services.assets.put_datastore("default", "lake", DatastoreCreate(url=f"file://{lake}"))
    services.upload("data", "iris", "1", {"iris.csv": b"a\n1\n"})  # under the default datastore
    spec = _spec(
        inputs={
            "events": {"type": "uri_folder", "path": "datastore://lake/events"},
            "a": {"type": "table", "path": "datastore://lake/events/a.csv"},
            "iris": {"type": "uri_file", "path": "datastore://default/data/iris/1/iris.csv"},
        }
    )
    job, _ = services.jobs.submit("default", spec)
    assert job.resolved["inputs"]["events"] == {
        "type": "uri_folder",
        "path": f"file://{lake}/events",
        "mode": "ro_mount",
        "uri": "datastore://lake/events",
    }
    assert job.resolved["inputs"]["a"]["path"] == f"file://{lake}/events/a.csv"
    assert job.resolved["inputs"]["iris"]["path"] == "store:assets/default/data/iris/1/iris.csv"


@pytest.mark.parametrize(
    ("type_", "path", "error", "fragment"),
    [
        ("uri_file", "datastore://lake/../x", InvalidArgument, "'..'"),
        ("uri_file", "datastore://lake/out", InvalidArgument, "out of the datastore"),
        ("uri_file", "datastore://gone/x", NotFound, "datastore 'gone'"),
        ("uri_file", "datastore://lake/missing", InvalidArgument, "does not exist"),
        ("uri_folder", "datastore://lake/a.csv", InvalidArgument, "declare the data as uri_file"),
        ("uri_file", "datastore://default/nothing.csv", InvalidArgument, "nothing is stored"),
        ("uri_file", "s3://bucket/a.csv", InvalidArgument, "register a datastore"),
        ("uri_file", "file:///etc/passwd", InvalidArgument, "register a datastore"),
        ("uri_file", "/etc/passwd", InvalidArgument, "register a datastore"),
    ],
)
def test_bad_datastore_paths_are_refused_naming_the_input(
    services: Services, tmp_path: Path, type_: str, path: str, error: type[Exception], fragment: str
) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "a.csv").write_text("x\n1\n")
    (tmp_path / "secret").write_text("s")
    (lake / "out").symlink_to(tmp_path / "secret")
    services.assets.put_datastore("default", "lake", DatastoreCreate(url=f"file://{lake}"))
    spec = _spec(inputs={"raw": {"type": type_, "path": path}})
    with pytest.raises(error) as caught:
        services.jobs.submit("default", spec, "bad")
    assert "job field 'inputs.raw.path'" in str(caught.value) and fragment in str(caught.value)
    with pytest.raises(NotFound):
        services.jobs.get("default", "bad")
    assert services.tracking.search_runs("default", []).items == []
