"""Runs: logging rules, params and tags, the context manager, artifacts, reads."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from trainyard import errors
from trainyard.client import Run, Workspace
from trainyard.core.entities import RunStatus

from .fake_server import FakeServer


@pytest.fixture
def run(ws: Workspace) -> Run:
    return ws.experiment("exp").start_run(name="r", tags={"team": "x"})


def test_start_run_sends_name_and_tags(run: Run, fake: FakeServer) -> None:
    stored = fake.runs[run.run_id]
    assert (stored["name"], stored["tags"], run.status) == ("r", {"team": "x"}, RunStatus.RUNNING)


def test_auto_steps_count_per_key_and_follow_explicit_steps(run: Run, fake: FakeServer) -> None:
    for _ in range(3):
        run.log("a", 1.0)
    run.log("b", 1.0)
    run.log("a", 1.0, step=10)
    run.log("a", 1.0)
    run.flush()
    steps = [(p["key"], p["step"]) for p in fake.metrics[run.run_id]]
    assert steps == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("a", 10), ("a", 11)]


def test_timestamp_is_taken_at_log_time(run: Run, fake: FakeServer) -> None:
    before = time.time_ns() // 1_000_000
    run.log("a", 1)
    after = time.time_ns() // 1_000_000
    time.sleep(0.05)
    run.flush()
    assert before <= fake.metrics[run.run_id][0]["timestamp"] <= after


@pytest.mark.parametrize("value", [True, "1.0", None, 1 + 2j, [1.0]])
def test_log_refuses_non_real_values(run: Run, value: object) -> None:
    with pytest.raises(errors.InvalidArgument, match="real number"):
        run.log("a", value)  # type: ignore[arg-type]


def test_log_accepts_ints_fractions_nan_and_inf(run: Run, fake: FakeServer) -> None:
    for value in (3, Fraction(1, 2), float("nan"), float("inf")):
        run.log("a", value)  # type: ignore[arg-type]
    run.flush()
    values = [p["value"] for p in fake.metrics[run.run_id]]
    assert values[:2] == [3.0, 0.5] and values[2] != values[2] and values[3] == float("inf")


def test_log_refuses_bad_keys_and_steps(run: Run) -> None:
    with pytest.raises(errors.InvalidArgument):
        run.log("../etc", 1.0)
    with pytest.raises(errors.InvalidArgument, match="step"):
        run.log("a", 1.0, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgument, match="step"):
        run.log("a", 1.0, step=True)


def test_context_manager_completes_the_run(ws: Workspace, fake: FakeServer) -> None:
    with ws.experiment("exp").start_run() as run:
        run.log("a", 1.0)
    stored = fake.runs[run.run_id]
    assert stored["status"] == "FINISHED" and run.status == RunStatus.FINISHED
    assert len(fake.metrics[run.run_id]) == 1  # flushed before the status changed


def test_context_manager_fails_the_run_and_propagates(ws: Workspace, fake: FakeServer) -> None:
    with pytest.raises(ValueError, match="diverged"), ws.experiment("exp").start_run() as run:
        run.log("a", 1.0)
        raise ValueError("loss diverged")
    stored = fake.runs[run.run_id]
    assert (stored["status"], stored["status_message"]) == ("FAILED", "loss diverged")
    assert len(fake.metrics[run.run_id]) == 1


def test_complete_patches_after_the_metrics_arrive(run: Run, fake: FakeServer) -> None:
    run.log("a", 1.0)
    run.complete()
    paths = [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in fake.requests]
    assert paths.index(("POST", "log-batch")) < paths.index(("PATCH", run.run_id))


def test_log_params_and_tags_are_sent_as_strings_at_once(run: Run, fake: FakeServer) -> None:
    run.log_params({"alpha": 0.1, "layers": 3})
    run.set_tags({"stage": "dev"})
    stored = fake.runs[run.run_id]
    assert stored["params"] == {"alpha": "0.1", "layers": "3"}
    assert stored["tags"] == {"team": "x", "stage": "dev"}


def test_log_params_raises_conflict_on_another_value(run: Run) -> None:
    run.log_params({"alpha": 0.1})
    run.log_params({"alpha": "0.1"})  # the same value again is fine
    with pytest.raises(errors.Conflict, match="alpha"):
        run.log_params({"alpha": 0.2})


def test_many_params_go_in_chunks_of_100(run: Run, fake: FakeServer) -> None:
    run.log_params({f"p{i}": i for i in range(250)})
    assert len(fake.runs[run.run_id]["params"]) == 250


def test_get_metrics_flushes_first(run: Run) -> None:
    run.log("a", 1.0)
    run.log("a", 2.0)
    run.log("b", 5)
    assert run.get_metrics() == {"a": 2.0, "b": 5.0}


def test_get_metric_history_reads_every_page(run: Run, fake: FakeServer) -> None:
    fake.page_limit = 7
    for i in range(30):
        run.log("a", i)
    history = run.get_metric_history("a")
    assert [m.step for m in history] == list(range(30))
    assert [m.value for m in history] == [float(i) for i in range(30)]


def test_upload_and_download_a_file(run: Run, fake: FakeServer, tmp_path: Path) -> None:
    src = tmp_path / "model.bin"
    src.write_bytes(b"\x00\x01" * 1_000_000)
    info = run.upload_file("model/model.bin", src)
    assert info.path == "model/model.bin" and info.size == 2_000_000
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.headers["Content-Length"] == "2000000"
    assert "Transfer-Encoding" not in put.headers

    out = tmp_path / "out"
    out.mkdir()
    written = run.download_file("model/model.bin", out)
    assert written == out / "model.bin" and written.read_bytes() == src.read_bytes()
    assert [p.name for p in out.iterdir()] == ["model.bin"]  # no temporary file left
    other = run.download_file("model/model.bin", tmp_path / "copy.bin")
    assert other.read_bytes() == src.read_bytes()


def test_upload_is_retried_with_the_whole_body(run: Run, fake: FakeServer, tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_bytes(b"hello")
    failures = [httpx.Response(503)]
    fake.hook = lambda r: failures.pop() if r.method == "PUT" and failures else None
    run.upload_file("f.txt", src, progress=True)
    assert fake.files[(run.run_id, "f.txt")] == b"hello"


def test_upload_folder_and_list_file_names(run: Run, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.txt").write_text("b")
    run.upload_folder("outputs", tmp_path)
    assert run.get_file_names() == ["outputs/a.txt", "outputs/sub/b.txt"]


def test_download_of_a_missing_file_is_not_found(run: Run, tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound):
        run.download_file("nope.txt", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_artifact_names_must_be_relative(run: Run, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_text("x")
    for name in ("/etc/passwd", "a/../../b", "a\\b", ""):
        with pytest.raises(errors.InvalidArgument):
            run.upload_file(name, src)


def test_fail_mentions_values_that_were_not_stored(run: Run, fake: FakeServer) -> None:
    fake.hook = lambda r: httpx.Response(503) if r.url.path.endswith("log-batch") else None
    run.log("a", 1.0)
    run.fail("crashed")
    message = fake.runs[run.run_id]["status_message"]
    assert message.startswith("crashed (also: 1 metric value(s)")


def test_get_details_refreshes_info(run: Run, fake: FakeServer) -> None:
    fake.runs[run.run_id]["name"] = "renamed"
    assert run.get_details().name == "renamed" and run.info.name == "renamed"
