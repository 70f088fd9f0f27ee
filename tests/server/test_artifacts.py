"""Run artifacts over HTTP: streamed upload, listing, byte-exact download and path safety."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error, raw_request, unique
from tests.support import RunningServer

MiB = 1 << 20


def _put(api: httpx.Client, run_id: str, path: str, content: Any) -> httpx.Response:
    return api.put(f"/runs/{run_id}/artifacts/{path}", content=content)


def _get(api: httpx.Client, run_id: str, path: str) -> httpx.Response:
    return api.get(f"/runs/{run_id}/artifacts/{path}")


def _list(api: httpx.Client, run_id: str, **params: Any) -> list[dict[str, Any]]:
    resp = api.get(f"/runs/{run_id}/artifacts", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()["files"]  # type: ignore[no-any-return]


def _on_disk(server: RunningServer, run: dict[str, Any]) -> Path:
    return server.home / "artifacts" / run["artifact_uri"]


def _tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".tmp-" in p.name]


def test_upload_list_and_download(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    model = bytes(range(256)) * 1000
    readme = "héllo\r\n\x00end".encode()

    resp = _put(api, rid, "model/model.pkl", model)
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"path": "model/model.pkl", "is_dir": False, "size": len(model)}
    resp = _put(api, rid, "README.md", readme)
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"path": "README.md", "is_dir": False, "size": len(readme)}

    listing = api.get(f"/runs/{rid}/artifacts")
    assert listing.status_code == 200
    assert listing.json()["root"] == run["artifact_uri"]
    assert listing.json()["path"] == ""
    assert listing.json()["files"] == [
        {"path": "README.md", "is_dir": False, "size": len(readme)},
        {"path": "model", "is_dir": True, "size": None},
    ]
    assert _list(api, rid, recursive="true") == [
        {"path": "README.md", "is_dir": False, "size": len(readme)},
        {"path": "model/model.pkl", "is_dir": False, "size": len(model)},
    ]
    assert _list(api, rid, path="model") == [
        {"path": "model/model.pkl", "is_dir": False, "size": len(model)}
    ]

    got = _get(api, rid, "model/model.pkl")
    assert got.status_code == 200
    assert got.content == model
    assert got.headers["content-length"] == str(len(model))
    assert 'filename="model.pkl"' in got.headers["content-disposition"]
    assert _get(api, rid, "README.md").content == readme


def test_nested_folders(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    for path in ("a/b/c/deep.txt", "a/b/side.txt", "a/top.txt"):
        assert _put(api, rid, path, path.encode()).status_code == 201
    assert [(f["path"], f["is_dir"]) for f in _list(api, rid, path="a")] == [
        ("a/b", True),
        ("a/top.txt", False),
    ]
    assert [(f["path"], f["is_dir"]) for f in _list(api, rid, path="a/b")] == [
        ("a/b/c", True),
        ("a/b/side.txt", False),
    ]
    assert [f["path"] for f in _list(api, rid, path="a/b", recursive="true")] == [
        "a/b/c/deep.txt",
        "a/b/side.txt",
    ]
    assert _get(api, rid, "a/b/c/deep.txt").content == b"a/b/c/deep.txt"


def test_an_empty_file(api: httpx.Client, run: dict[str, Any]) -> None:
    resp = _put(api, run["run_id"], "empty.txt", b"")
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == 0
    got = _get(api, run["run_id"], "empty.txt")
    assert (got.status_code, got.content) == (200, b"")


def test_50_mb_streamed_up_and_down(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    sent = hashlib.sha256()
    rng = random.Random(50)

    def body() -> Iterator[bytes]:
        for _ in range(50):
            chunk = rng.randbytes(MiB)
            sent.update(chunk)
            yield chunk

    resp = _put(api, rid, "big/blob.bin", body())
    assert resp.status_code == 201, resp.text
    assert resp.json()["size"] == 50 * MiB
    assert _list(api, rid, path="big") == [
        {"path": "big/blob.bin", "is_dir": False, "size": 50 * MiB}
    ]

    received = hashlib.sha256()
    n = 0
    with api.stream("GET", f"/runs/{rid}/artifacts/big/blob.bin") as down:
        assert down.status_code == 200
        assert down.headers["content-length"] == str(50 * MiB)
        for chunk in down.iter_bytes():
            received.update(chunk)
            n += len(chunk)
    assert n == 50 * MiB
    assert received.hexdigest() == sent.hexdigest()


def test_overwrite_replaces_the_file(
    server: RunningServer, api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    assert _put(api, rid, "x.bin", b"a" * 1000).status_code == 201
    resp = _put(api, rid, "x.bin", b"new")
    assert resp.status_code == 201
    assert resp.json()["size"] == 3
    assert _get(api, rid, "x.bin").content == b"new"
    assert _list(api, rid) == [{"path": "x.bin", "is_dir": False, "size": 3}]
    assert sorted(os.listdir(_on_disk(server, run))) == ["x.bin"]


def test_download_of_a_missing_file_is_404(api: httpx.Client, run: dict[str, Any]) -> None:
    rid = run["run_id"]
    assert_error(_get(api, rid, "nope.bin"), 404, "NOT_FOUND", contains="nope.bin")
    assert _put(api, rid, "dir/file.txt", b"x").status_code == 201
    assert_error(_get(api, rid, "dir/nope.txt"), 404, "NOT_FOUND")


def test_an_unknown_run_is_404(api: httpx.Client) -> None:
    rid = "0" * 32
    assert_error(_put(api, rid, "a.txt", b"x"), 404, "NOT_FOUND", contains=rid)
    assert_error(_get(api, rid, "a.txt"), 404, "NOT_FOUND", contains=rid)
    assert_error(api.get(f"/runs/{rid}/artifacts"), 404, "NOT_FOUND", contains=rid)


def test_a_folder_cannot_be_downloaded_nor_overwritten(
    api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    assert _put(api, rid, "dir/file.txt", b"inside").status_code == 201
    assert_error(_get(api, rid, "dir"), 400, "INVALID_ARGUMENT", contains="folder")
    assert_error(api.get(f"/runs/{rid}/artifacts/"), 400, "INVALID_ARGUMENT")
    assert_error(_put(api, rid, "dir", b"clobber"), 400, "INVALID_ARGUMENT", contains="folder")
    assert _get(api, rid, "dir/file.txt").content == b"inside"
    assert _list(api, rid, recursive="true") == [
        {"path": "dir/file.txt", "is_dir": False, "size": 6}
    ]


def test_a_file_below_a_file_is_400_and_keeps_the_file(
    server: RunningServer, run: dict[str, Any]
) -> None:
    base = f"{server.api}/runs/{run['run_id']}/artifacts"
    assert httpx.put(f"{base}/a.txt", content=b"keep").status_code == 201
    resp = httpx.put(f"{base}/a.txt/b.txt", content=b"x")
    assert_error(resp, 400, "INVALID_ARGUMENT")
    assert httpx.get(f"{base}/a.txt").content == b"keep"


ESCAPES_ENCODED = [
    "%2e%2e/%2e%2e/{m}",
    "%2E%2E/%2E%2E/%2E%2E/%2E%2E/{m}",
    "sub/%2e%2e/%2e%2e/%2e%2e/{m}",
    "..%2F..%2F{m}",
    "%2e%2e%2f%2e%2e%2f{m}",
    "%2Ftmp%2F{m}",
    "%2F%2Ftmp%2F{m}",
    "a%5C..%5C..%5C{m}",
    "%5Ctmp%5C{m}",
    "C:%5C{m}",
    "C:%2F{m}",
]
ESCAPES_RAW = ["../../{m}", "../../../../{m}", "sub/../../../{m}", "./../{m}", "x/../{m}"]


def _nothing_escaped(server: RunningServer, marker: str) -> None:
    assert not list(server.home.rglob(f"*{marker}*"))
    assert not Path(f"/tmp/{marker}").exists()


@pytest.mark.parametrize("template", ESCAPES_ENCODED)
def test_percent_encoded_escapes_are_400(
    server: RunningServer, api: httpx.Client, run: dict[str, Any], template: str
) -> None:
    marker = unique("escape")
    path = template.format(m=marker)
    rid = run["run_id"]
    assert _put(api, rid, "ok.txt", b"ok").status_code == 201

    assert_error(_put(api, rid, path, b"pwned"), 400, "INVALID_ARGUMENT")
    assert_error(_get(api, rid, path), 400, "INVALID_ARGUMENT")
    _nothing_escaped(server, marker)
    assert _list(api, rid, recursive="true") == [{"path": "ok.txt", "is_dir": False, "size": 2}]


@pytest.mark.parametrize("template", ESCAPES_RAW)
def test_raw_dot_dot_segments_are_400(
    server: RunningServer, api: httpx.Client, run: dict[str, Any], template: str
) -> None:
    marker = unique("escape")
    raw = f"/api/v1/workspaces/default/runs/{run['run_id']}/artifacts/" + template.format(m=marker)
    assert _put(api, run["run_id"], "ok.txt", b"ok").status_code == 201

    assert_error(raw_request(server, "PUT", raw, b"pwned"), 400, "INVALID_ARGUMENT", contains="..")
    assert_error(raw_request(server, "GET", raw), 400, "INVALID_ARGUMENT", contains="..")
    _nothing_escaped(server, marker)
    assert _list(api, run["run_id"], recursive="true") == [
        {"path": "ok.txt", "is_dir": False, "size": 2}
    ]


@pytest.mark.parametrize("path", ["../x", "/etc", "a\\b", "sub/../../x"])
def test_listing_outside_the_run_is_400(api: httpx.Client, run: dict[str, Any], path: str) -> None:
    resp = api.get(f"/runs/{run['run_id']}/artifacts", params={"path": path})
    assert_error(resp, 400, "INVALID_ARGUMENT")


def test_symlinks_inside_the_run_folder_are_refused(
    server: RunningServer, api: httpx.Client, run: dict[str, Any], tmp_path: Path
) -> None:
    rid = run["run_id"]
    assert _put(api, rid, "ok.txt", b"ok").status_code == 201
    folder = _on_disk(server, run)
    assert (folder / "ok.txt").read_bytes() == b"ok"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret")
    (folder / "dirlink").symlink_to(outside, target_is_directory=True)
    (folder / "filelink").symlink_to(outside / "secret.txt")
    (folder / "innerlink").symlink_to(folder / "ok.txt")  # even one that stays inside

    for path in ("dirlink/secret.txt", "filelink", "innerlink"):
        resp = _get(api, rid, path)
        assert_error(resp, 400, "INVALID_ARGUMENT", contains="symlink")
        assert "s3cret" not in resp.text

    for path in ("dirlink/new.txt", "dirlink/secret.txt", "filelink"):
        assert_error(_put(api, rid, path, b"pwned"), 400, "INVALID_ARGUMENT", contains="symlink")
    assert sorted(os.listdir(outside)) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "s3cret"
    assert (folder / "ok.txt").read_bytes() == b"ok"

    assert_error(
        api.get(f"/runs/{rid}/artifacts", params={"path": "dirlink", "recursive": "true"}),
        400,
        "INVALID_ARGUMENT",
    )
    listed = _list(api, rid, recursive="true")
    assert "secret.txt" not in " ".join(f["path"] for f in listed)


def test_temporary_files_never_show(
    server: RunningServer, api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    for i in range(3):
        assert _put(api, rid, f"sub/f{i}.bin", os.urandom(1000)).status_code == 201
    folder = _on_disk(server, run)
    assert _tmp_files(folder) == []
    # what a crashed writer would leave behind
    (folder / "sub" / "f9.bin.tmp-0123456789abcdef").write_bytes(b"half")
    (folder / "orphan.tmp-0123456789abcdef").write_bytes(b"half")

    flat = [f["path"] for f in _list(api, rid)] + [f["path"] for f in _list(api, rid, path="sub")]
    deep = [f["path"] for f in _list(api, rid, recursive="true")]
    assert flat == ["sub", "sub/f0.bin", "sub/f1.bin", "sub/f2.bin"]
    assert deep == ["sub/f0.bin", "sub/f1.bin", "sub/f2.bin"]


def test_an_interrupted_upload_leaves_the_old_file_and_no_temporary(
    server: RunningServer, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    url = f"{server.api}/runs/{rid}/artifacts/keep.bin"
    assert httpx.put(url, content=b"old").status_code == 201

    def body() -> Iterator[bytes]:
        yield b"n" * MiB
        yield b"e" * MiB
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="went away"):
        httpx.put(url, content=body(), timeout=30)

    # the server notices the disconnect on its own time: wait for a state that holds for 0.5 s
    folder = _on_disk(server, run)
    deadline = time.monotonic() + 10
    settled_since: float | None = None
    while time.monotonic() < deadline:
        if sorted(os.listdir(folder)) == ["keep.bin"]:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since >= 0.5:
                break
        else:
            settled_since = None
        time.sleep(0.05)
    assert _tmp_files(folder) == []
    assert sorted(os.listdir(folder)) == ["keep.bin"]
    assert httpx.get(url).content == b"old"
