"""The artifact store over fsspec: a local folder by default, any fsspec URL by setting.

Writes go to ``<name>.tmp-<random>`` in the same folder, are flushed (and fsynced on a local
disk), then renamed, so a reader never sees half a file and a crash leaves no partial file at the
real name. On a local root, any path whose real location is outside the root (through a symlink)
is refused.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from trainyard.core.entities import ArtifactInfo
from trainyard.errors import InvalidArgument, NotFound
from trainyard.store._base import ArtifactStore
from trainyard.store.artifacts.paths import safe_key


class FsspecArtifactStore(ArtifactStore):
    """Files under ``root_url``, addressed by keys relative to it."""

    def __init__(self, root_url: str) -> None:
        fs, root = fsspec.core.url_to_fs(root_url)
        self.fs: Any = fs
        self.local = isinstance(fs, LocalFileSystem)
        if self.local:
            root = os.path.realpath(root)
            os.makedirs(root, exist_ok=True)
        self.root = root.rstrip("/")

    def _path(self, key: str, *, allow_empty: bool = False) -> str:
        rel = safe_key(key, allow_empty=allow_empty)
        path = f"{self.root}/{rel}" if rel else self.root
        if self.local:
            real = os.path.realpath(path)
            if real != path or not (real == self.root or real.startswith(self.root + os.sep)):
                raise InvalidArgument(f"artifact path {key!r} goes through a symlink; refused")
        return path

    @contextmanager
    def open_write(self, key: str) -> Iterator[IO[bytes]]:
        """Write to a temporary name; rename into place when the block succeeds."""
        path = self._path(key)
        parent = path.rsplit("/", 1)[0]
        if any(self.fs.isfile(f"{self.root}/{a}") for a in _ancestors(safe_key(key))):
            raise InvalidArgument(f"artifact path {key!r} goes below a file; choose another path")
        self.fs.makedirs(parent, exist_ok=True)
        self._path(key)  # re-check now that parents exist
        if self.fs.isdir(path):
            raise InvalidArgument(f"artifact path {key!r} is a folder")
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        f = self.fs.open(tmp, "wb")
        try:
            yield f
            f.flush()
            if self.local:
                os.fsync(f.fileno())
            f.close()
            self.fs.mv(tmp, path)
            if self.local:
                dir_fd = os.open(parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except BaseException:
            f.close()
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
            raise

    def open_read(self, key: str) -> IO[bytes]:
        """The file at ``key``."""
        path = self._path(key)
        if not self.fs.exists(path):
            raise NotFound(f"artifact {key!r} does not exist")
        if self.fs.isdir(path):
            raise InvalidArgument(f"artifact {key!r} is a folder; list it instead of downloading")
        return self.fs.open(path, "rb")  # type: ignore[no-any-return]

    def delete(self, key: str) -> None:
        """Remove the file or folder at ``key`` (a folder with everything below it)."""
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def info(self, key: str) -> ArtifactInfo | None:
        """The entry at ``key`` or None."""
        path = self._path(key, allow_empty=True)
        if not self.fs.exists(path):
            return None
        d = self.fs.info(path)
        is_dir = d["type"] == "directory"
        return ArtifactInfo(
            safe_key(key, allow_empty=True), is_dir, None if is_dir else d.get("size")
        )

    def list(self, key: str, recursive: bool) -> list[ArtifactInfo]:
        """Entries below ``key``, relative to it, temporary files left out."""
        base = self._path(key, allow_empty=True)
        if not self.fs.isdir(base):
            return []
        if recursive:
            found = self.fs.find(base, detail=True, withdirs=False)
            entries = found.values()
        else:
            entries = self.fs.ls(base, detail=True)
        out = []
        prefix = base.rstrip("/") + "/"
        for d in entries:
            name = str(d["name"])
            if self.local and d.get("islink"):
                continue  # a symlink in a run's folder is never served, so never listed
            rel = name[len(prefix) :] if name.startswith(prefix) else name.rsplit("/", 1)[-1]
            if ".tmp-" in rel.rsplit("/", 1)[-1]:
                continue
            is_dir = d["type"] == "directory"
            out.append(ArtifactInfo(rel, is_dir, None if is_dir else d.get("size")))
        return sorted(out, key=lambda a: a.path)


def _ancestors(key: str) -> list[str]:
    parts = key.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
