"""Copying a ``file://`` datastore folder for a job: symlinks are followed only inside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainyard.jobs.datastores import LeavesFolder, fetch


def test_a_folder_is_copied_with_its_inner_symlinks_followed(tmp_path: Path) -> None:
    src = tmp_path / "lake" / "events"
    (src / "2026").mkdir(parents=True)
    (src / "2026" / "jan.csv").write_text("day,clicks\n1,10\n")
    (src / "latest.csv").symlink_to(src / "2026" / "jan.csv")  # stays inside: copied as a file
    (src / "current").symlink_to(src / "2026")  # a folder inside: copied as a folder
    dest = fetch(f"file://{src}", tmp_path / "inputs")
    assert (dest / "latest.csv").read_text() == "day,clicks\n1,10\n"
    assert not (dest / "latest.csv").is_symlink()
    assert (dest / "current" / "jan.csv").is_file()


@pytest.mark.parametrize("leak", ["file", "folder", "nested"])
def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path, leak: str) -> None:
    src = tmp_path / "lake" / "events"
    (src / "2026").mkdir(parents=True)
    (src / "2026" / "jan.csv").write_text("ok")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key").write_text("outside")
    sibling = tmp_path / "lake" / "other.csv"  # inside the datastore, outside the folder
    sibling.write_text("neighbour")
    if leak == "file":
        (src / "escape.txt").symlink_to(tmp_path / "secret.txt")
    elif leak == "folder":
        (src / "escape").symlink_to(tmp_path / "private")
    else:
        (src / "2026" / "up.csv").symlink_to(sibling)
    with pytest.raises(LeavesFolder, match="is a symlink out of the folder"):
        fetch(f"file://{src}", tmp_path / "inputs")
    copied = [p.read_text() for p in (tmp_path / "inputs").rglob("*") if p.is_file()]
    assert "outside" not in copied and "neighbour" not in copied
