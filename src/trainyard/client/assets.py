"""Assets from the SDK: ``ws.environments``, ``ws.data``, ``ws.code``, ``ws.computes`` and
``ws.datastores``.

Local files are uploaded to the version's files, then the version is registered. A code folder
(or a local input of a job) uploaded without a name becomes an anonymous, content-addressed
version (``code-<hash>:1``, ``data-<hash>:1``): submitting the same files again uploads
nothing.

Example::

    env = ws.environments.create("sklearn", "1", requirements=["scikit-learn"])
    iris = ws.data.create("iris", "1", path="./iris.csv", type="uri_file")
    code = ws.code.create("./src")
    lake = ws.datastores.create("lake", url="file:///srv/lake")
    sales = ws.data.create("sales", "1", path="datastore://lake/sales.parquet", type="table")
    frame = ws.data.get("sales:1").to_pandas()
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

from trainyard.client._files import Progress, file_chunks, walk_files
from trainyard.client._scope import Scope, body
from trainyard.core.jobs import parse_ref
from trainyard.errors import InvalidArgument, NotFound
from trainyard.schemas import assets as wire

StrPath = str | os.PathLike[str]


def local_files(path: Path) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of a file (its base name) or of every file under a folder."""
    if path.is_file():
        return [(path.name, path)]
    if path.is_dir():
        return [(rel, p) for rel, p in walk_files(path) if "__pycache__" not in rel.split("/")]
    raise InvalidArgument(f"{str(path)!r} does not exist (paths are relative to {os.getcwd()!r})")


def tree_hash(files: list[tuple[str, Path]]) -> str:
    """The server's content hash of a set of files (names and contents)."""
    digest = hashlib.sha256()
    for rel, path in sorted(files):
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest.update(f"{rel}\0{h.hexdigest()}\0".encode())
    return digest.hexdigest()


class _Versioned:
    kind = ""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def _get(self, name: str, version: str) -> Any:
        return self._scope.request("GET", self.kind, name, "versions", version)

    def _upload(self, name: str, version: str, files: list[tuple[str, Path]]) -> None:
        for rel, path in files:
            size = path.stat().st_size
            self._scope.request(
                "PUT",
                self.kind,
                name,
                "versions",
                version,
                "files",
                *rel.split("/"),
                content=lambda path=path: file_chunks(path, Progress()),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )


class Environments(_Versioned):
    """Environment versions: a Python version and pip requirements, built once, cached."""

    kind = "environments"

    def create(
        self,
        name: str,
        version: str,
        *,
        requirements: list[str] | None = None,
        python: str | None = None,
        system_site_packages: bool = True,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> wire.Environment:
        """Register (or update the description and tags of) an environment version."""
        payload = body(
            wire.EnvironmentCreate,
            requirements=requirements or [],
            python=python,
            system_site_packages=system_site_packages,
            description=description,
            tags=tags or {},
        )
        data = self._scope.request("PUT", self.kind, name, "versions", version, json=payload)
        return wire.Environment.model_validate(data)

    def get(self, name: str, version: str = "latest") -> wire.Environment:
        """One version (``latest``: the newest)."""
        return wire.Environment.model_validate(self._get(name, version))

    def list(self) -> list[wire.Environment]:
        """The built-in ``python`` environment and every registered version."""
        data = self._scope.request("GET", self.kind)
        return wire.EnvironmentList.model_validate(data).environments


class DataVersion(wire.DataAsset):
    """A data asset version from the SDK, with ``list_files``, ``download`` and ``to_pandas``."""

    _scope: Scope | None = PrivateAttr(default=None)

    def _segments(self, *rest: str) -> tuple[str, ...]:
        return ("data", self.name, "versions", self.version, "files", *rest)

    def _request(self) -> Scope:
        if self._scope is None:
            raise InvalidArgument("this data version is not attached to a workspace")
        return self._scope

    def list_files(self) -> list[wire.DataFile]:
        """The files of the version, relative to it (a ``uri_file``: its one file)."""
        data = self._request().request("GET", *self._segments())
        return wire.DataFileList.model_validate(data).files

    def read_bytes(self, path: str) -> bytes:
        """One file's bytes."""
        scope = self._request()
        url = scope.path(*self._segments(*path.split("/")))
        with scope.transport.stream("GET", url) as resp:
            return bytes(resp.read())

    def download(self, dest: StrPath = ".") -> list[Path]:
        """Write the version's files under ``dest``; the paths written."""
        written = []
        for f in self.list_files():
            target = Path(dest, *f.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_bytes(f.path))
            written.append(target)
        return written

    def to_pandas(self) -> Any:
        """The CSV and Parquet files of the version as one pandas DataFrame (rows in file order).

        Needs pandas (and pyarrow for Parquet), imported here.
        """
        import pandas as pd

        if self.path.startswith(("http://", "https://")):
            return _read_frame(pd, self.path, self.path)
        names = [f.path for f in self.list_files() if _table_file(f.path)]
        if not names:
            raise InvalidArgument(
                f"data {self.name}:{self.version} holds no .csv or .parquet file to read"
            )
        frames = [_read_frame(pd, io.BytesIO(self.read_bytes(n)), n) for n in sorted(names)]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _table_file(name: str) -> bool:
    return name.lower().endswith((".csv", ".parquet", ".pq"))


def _read_frame(pd: Any, source: Any, name: str) -> Any:
    if name.lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(source)
    return pd.read_csv(source)


class DataAssets(_Versioned):
    """Data asset versions: a file, a folder or a table, uploaded or at an http(s) URL."""

    kind = "data"

    def create(
        self,
        name: str,
        version: str,
        *,
        path: StrPath,
        type: str = "uri_folder",
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> wire.DataAsset:
        """Register a version from a local file or folder (uploaded), an http(s) URL, or
        ``datastore://<datastore>/<path>``."""
        text = str(path)
        if text.startswith(("http://", "https://", "datastore://")):
            payload = body(wire.DataAssetCreate, type=type, path=text)
        else:
            try:
                self._get(name, version)
            except NotFound:
                self._upload(name, version, local_files(Path(path)))
            payload = body(wire.DataAssetCreate, type=type)
        payload.update(description=description, tags=tags or {})
        data = self._scope.request("PUT", self.kind, name, "versions", version, json=payload)
        return wire.DataAsset.model_validate(data)

    def upload_anonymous(self, path: StrPath, type: str) -> wire.DataAsset:
        """A content-addressed version ``data-<hash>:1`` of a local file or folder."""
        files = local_files(Path(path))
        digest = hashlib.sha256(f"{type}\0{tree_hash(files)}".encode()).hexdigest()
        name = f"data-{digest[:16]}"
        try:
            return wire.DataAsset.model_validate(self._get(name, "1"))
        except NotFound:
            pass
        self._upload(name, "1", files)
        payload = body(wire.DataAssetCreate, type=type)
        data = self._scope.request("PUT", self.kind, name, "versions", "1", json=payload)
        return wire.DataAsset.model_validate(data)

    def get(self, name: str, version: str = "latest") -> DataVersion:
        """One version: ``get("iris", "1")``, ``get("iris:1")``, ``get("iris")`` (the newest).

        The version reads its files back: ``.list_files()``, ``.download(dest)``, ``.to_pandas()``.
        """
        ref = parse_ref(name) if ":" in name or "@" in name else None
        if ref is not None and version == "latest":
            name, version = ref[0], ref[1] or "latest"
        found = DataVersion.model_validate(self._get(name, version))
        found._scope = self._scope
        return found

    def list(self) -> list[wire.DataAsset]:
        """Every data asset version."""
        return wire.DataAssetList.model_validate(self._scope.request("GET", self.kind)).data

    def register_output(
        self,
        job: str,
        output: str,
        *,
        name: str,
        version: str,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> DataVersion:
        """Register the output folder ``output`` of the Completed job ``job`` as the
        ``uri_folder`` data ``name:version`` (its files stay the run's artifacts)."""
        payload = body(
            wire.RegisterOutput,
            name=name,
            version=version,
            description=description,
            tags=tags or {},
        )
        data = self._scope.request("POST", "jobs", job, "outputs", output, "register", json=payload)
        found = DataVersion.model_validate(data)
        found._scope = self._scope
        return found


class CodeAssets(_Versioned):
    """Code snapshots, content-hashed."""

    kind = "code"

    def create(
        self,
        path: StrPath,
        name: str | None = None,
        version: str | None = None,
        *,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> wire.CodeAsset:
        """Upload the folder ``path`` as a code version (``code-<hash>:1`` without a name).

        A version that exists already is reused when its hash matches, else refused.
        """
        files = local_files(Path(path))
        digest = tree_hash(files)
        name = name or f"code-{digest[:16]}"
        version = version or "1"
        try:
            found = wire.CodeAsset.model_validate(self._get(name, version))
        except NotFound:
            found = None
        if found is not None and found.hash != digest:
            raise InvalidArgument(
                f"code {name}:{version} exists with other files; give a new version"
            )
        if found is None:
            self._upload(name, version, files)
        payload = body(wire.CodeAssetCreate, description=description, tags=tags or {})
        data = self._scope.request("PUT", self.kind, name, "versions", version, json=payload)
        return wire.CodeAsset.model_validate(data)

    def get(self, name: str, version: str = "latest") -> wire.CodeAsset:
        """One version (``latest``: the newest)."""
        return wire.CodeAsset.model_validate(self._get(name, version))

    def list(self) -> list[wire.CodeAsset]:
        """Every code version."""
        return wire.CodeAssetList.model_validate(self._scope.request("GET", self.kind)).code


class Computes:
    """Where jobs run: ``local`` (always there) and Ray clusters."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def create(
        self,
        name: str,
        type: str = "local",
        *,
        slots: int | None = None,
        address: str | None = None,
        description: str = "",
    ) -> wire.Compute:
        """Create or replace a compute; a ``ray`` one needs its dashboard ``address``."""
        payload = body(
            wire.ComputeCreate, type=type, slots=slots, address=address, description=description
        )
        return wire.Compute.model_validate(
            self._scope.request("PUT", "computes", name, json=payload)
        )

    def get(self, name: str) -> wire.Compute:
        """One compute."""
        return wire.Compute.model_validate(self._scope.request("GET", "computes", name))

    def list(self) -> list[wire.Compute]:
        """Every compute of the workspace."""
        return wire.ComputeList.model_validate(self._scope.request("GET", "computes")).computes


class Datastores:
    """Where data assets may point: ``default`` (the artifact store) and registered URLs."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def create(
        self,
        name: str,
        *,
        url: str,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> wire.Datastore:
        """Register a datastore (or replace its URL): ``file:///srv/data``, ``s3://bucket/x``."""
        payload = body(wire.DatastoreCreate, url=url, description=description, tags=tags or {})
        return wire.Datastore.model_validate(
            self._scope.request("PUT", "datastores", name, json=payload)
        )

    def get(self, name: str) -> wire.Datastore:
        """One datastore."""
        return wire.Datastore.model_validate(self._scope.request("GET", "datastores", name))

    def list(self) -> list[wire.Datastore]:
        """Every datastore of the workspace, ``default`` first."""
        data = self._scope.request("GET", "datastores")
        return wire.DatastoreList.model_validate(data).datastores
