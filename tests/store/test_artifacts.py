"""The fsspec artifact store: atomic writes and path safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainyard.errors import InvalidArgument, NotFound
from trainyard.store import open_artifacts
from trainyard.store.artifacts.paths import safe_key


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = open_artifacts(str(tmp_path))
    with store.open_write("a/b.bin") as f:
        f.write(b"old")
    with pytest.raises(RuntimeError), store.open_write("a/b.bin") as f:
        f.write(b"half of the new")
        raise RuntimeError("client went away")
    assert b"".join(store.iter_read("a/b.bin")) == b"old"
    assert sorted(os.listdir(tmp_path / "a")) == ["b.bin"]


def test_listing_and_info(tmp_path: Path) -> None:
    store = open_artifacts(str(tmp_path))
    for key in ("r/x.txt", "r/sub/y.txt", "r/sub/deeper/z.txt"):
        with store.open_write(key) as f:
            f.write(key.encode())
    assert [a.path for a in store.list("r", recursive=True)] == [
        "sub/deeper/z.txt",
        "sub/y.txt",
        "x.txt",
    ]
    flat = store.list("r", recursive=False)
    assert [(a.path, a.is_dir) for a in flat] == [("sub", True), ("x.txt", False)]
    assert store.list("missing", recursive=True) == []
    info = store.info("r/x.txt")
    assert info is not None and info.size == len(b"r/x.txt")
    with pytest.raises(NotFound):
        store.open_read("r/nope")
    with pytest.raises(InvalidArgument):
        store.open_read("r/sub")


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/passwd", "a\\b", "C:/x", "a\x00b"])
def test_escaping_keys_are_refused(tmp_path: Path, bad: str) -> None:
    store = open_artifacts(str(tmp_path / "root"))
    with pytest.raises(InvalidArgument):
        store.open_read(bad)
    with pytest.raises(InvalidArgument), store.open_write(bad) as f:
        f.write(b"x")


def test_symlinks_out_of_the_root_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    store = open_artifacts(str(tmp_path / "root"))
    os.symlink(outside, tmp_path / "root" / "link")
    with pytest.raises(InvalidArgument, match="symlink"):
        store.open_read("link/secret")
    with pytest.raises(InvalidArgument), store.open_write("link/new") as f:
        f.write(b"x")
    assert not (outside / "new").exists()


def test_safe_key_normalises() -> None:
    assert safe_key("./a//b/") == "a/b"
    with pytest.raises(InvalidArgument):
        safe_key("")
