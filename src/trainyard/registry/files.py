"""Where the registry keeps version files: ``models/<workspace>/<name>/<version>/`` in the
artifact store (the workspace is in the key because model names are unique per workspace only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from trainyard.store import ArtifactStore

ONNX_FILE = "model.onnx"


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    for chunk in file_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def file_chunks(path: Path) -> Iterator[bytes]:
    """A local file's bytes in chunks of 1 MiB."""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            yield chunk


class ModelFiles:
    """The registry's files in one artifact store."""

    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts

    @staticmethod
    def folder(workspace: str, name: str, version: int | None = None) -> str:
        """The key of a model's folder, or of one version's."""
        base = f"models/{workspace}/{name}"
        return base if version is None else f"{base}/{version}"

    def key(self, workspace: str, name: str, version: int, file: str = ONNX_FILE) -> str:
        """The key of one file of a version."""
        return f"{self.folder(workspace, name, version)}/{file}"

    def write(self, key: str, chunks: Iterable[bytes]) -> str:
        """Write ``chunks`` at ``key`` (visible whole or not at all); return the key."""
        with self.artifacts.open_write(key) as f:
            for chunk in chunks:
                f.write(chunk)
        return key

    def delete(self, workspace: str, name: str, version: int | None = None) -> None:
        """Remove a version's folder, or a whole model's."""
        self.artifacts.delete(self.folder(workspace, name, version))

    def read(self, key: str) -> tuple[Iterator[bytes], int | None] | None:
        """The file's chunks and size, or None when it is missing."""
        info = self.artifacts.info(key)
        if info is None:
            return None
        return self.artifacts.iter_read(key), info.size
