"""Local-file helpers for artifacts: chunked reads, an optional progress bar, atomic writes."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from trainyard.errors import InvalidArgument

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

CHUNK_SIZE = 1 << 20


class Progress:
    """A progress report for one transfer; this base class reports nothing."""

    def restart(self) -> None:
        """Start again from zero (a retried upload)."""

    def advance(self, n: int) -> None:
        """Count ``n`` more bytes."""


class _RichProgress(Progress):
    def __init__(self, bar: RichProgress, task: TaskID) -> None:
        self._bar = bar
        self._task = task

    def restart(self) -> None:
        self._bar.reset(self._task)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)


@contextlib.contextmanager
def progress_bar(label: str, total: int, enabled: bool) -> Iterator[Progress]:
    """A Rich progress bar when ``enabled`` (and Rich is installed), else a silent one."""
    if not enabled:
        yield Progress()
        return
    try:
        from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
        from rich.progress import Progress as RichProgress
    except ImportError:  # pragma: no cover - rich is a dependency, but stay usable without it
        yield Progress()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with RichProgress(*columns, TransferSpeedColumn(), transient=True) as bar:
        yield _RichProgress(bar, bar.add_task(label, total=total))


def file_chunks(path: Path, progress: Progress) -> Iterator[bytes]:
    """The bytes of ``path`` in chunks of 1 MiB, so memory stays flat for big files."""
    progress.restart()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            progress.advance(len(chunk))
            yield chunk


def artifact_segments(name: str) -> list[str]:
    """The segments of a relative artifact path; absolute paths and ``..`` are refused."""
    if not isinstance(name, str) or not name.strip("/"):
        raise InvalidArgument("an artifact name must be a non-empty relative path")
    if name.startswith("/") or "\\" in name:
        raise InvalidArgument(f"artifact name {name!r} must be relative and use '/' separators")
    segments = [s for s in name.split("/") if s not in ("", ".")]
    if ".." in segments:
        raise InvalidArgument(f"artifact name {name!r} must not contain '..'")
    return segments


def walk_files(root: Path) -> list[tuple[str, Path]]:
    """Every file under ``root`` as ``(relative posix name, path)``, in a stable order."""
    if not root.is_dir():
        raise InvalidArgument(f"{str(root)!r} is not a folder")
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in sorted(files):
            path = Path(folder) / file
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return found


def write_atomically(dest: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to a temporary file beside ``dest``, then rename it to ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(4)}.part"
    # os.open with 0o666 lets the umask decide the mode, as for any new file (mkstemp: 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
