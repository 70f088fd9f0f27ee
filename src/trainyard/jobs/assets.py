"""Environments, data and code assets, and computes: what a job refers to by name.

Uploaded files live in the artifact store under ``assets/<workspace>/<kind>/<name>/<version>/``
and are accepted only until the version is registered; after that a version never changes, so
a job always runs what it resolved at submission. A code version's hash is the SHA-256 of its
files' names and contents, computed here from the stored bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from trainyard.core.jobs import (
    BUILTIN_ENVIRONMENT,
    DEFAULT_COMPUTE,
    DEFAULT_DATASTORE,
    AssetKind,
    AssetVersion,
    Compute,
    Datastore,
    check_asset_name,
    check_version,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.jobs import datastores
from trainyard.schemas import assets as wire
from trainyard.store import ArtifactStore
from trainyard.store._jobs_base import AssetStore
from trainyard.store.artifacts.paths import join_key, safe_key

SERVER_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
STORE_PREFIX = datastores.STORE_PREFIX


def now_ms() -> int:
    """UTC milliseconds."""
    return int(time.time() * 1000)


def environment_hash(python: str, requirements: list[str], system_site_packages: bool) -> str:
    """The content hash that names an environment's cached build."""
    doc = {"python": python, "requirements": requirements, "ssp": system_site_packages}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


BUILTIN_ENV = wire.Environment(
    name=BUILTIN_ENVIRONMENT,
    version=SERVER_PYTHON,
    python=SERVER_PYTHON,
    description="The interpreter the server runs on, with Trainyard installed.",
    hash="builtin",
    builtin=True,
)


class _HashingWriter:
    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.size = 0
        self.sha = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self._f.write(chunk)
        self.size += len(chunk)
        self.sha.update(chunk)


class AssetService:
    """Register, read and list assets; check uploads; know the computes."""

    def __init__(self, store: AssetStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    # ---------------------------------------------------------------- uploads
    @staticmethod
    def files_key(workspace: str, kind: AssetKind, name: str, version: str) -> str:
        """Where the uploaded files of a version live in the artifact store."""
        check_asset_name(kind.value, name)
        check_version(kind.value, version)
        return f"assets/{workspace}/{kind.value}/{name}/{version}"

    @contextmanager
    def upload(
        self, workspace: str, kind: AssetKind, name: str, version: str, path: str
    ) -> Iterator[_HashingWriter]:
        """A writer for one file of a version not registered yet (visible when closed)."""
        if kind == AssetKind.ENVIRONMENT:
            raise InvalidArgument("environments have no files: give their requirements instead")
        key = join_key(self.files_key(workspace, kind, name, version), path)
        if self._exists(kind, workspace, name, version):
            raise Conflict(
                f"{kind.value} {name}:{version} is registered already and cannot change; "
                "upload the files of a new version"
            )
        with self.artifacts.open_write(key) as f:
            writer = _HashingWriter(f)
            yield writer

    def _exists(self, kind: AssetKind, workspace: str, name: str, version: str) -> bool:
        return any(a.version == version for a in self.store.list_assets(kind, workspace, name))

    def _uploaded(self, workspace: str, kind: AssetKind, name: str, version: str) -> list[str]:
        root = self.files_key(workspace, kind, name, version)
        return [e.path for e in self.artifacts.list(root, recursive=True) if not e.is_dir]

    # ---------------------------------------------------------------- environments
    def put_environment(
        self, workspace: str, name: str, version: str, body: wire.EnvironmentCreate
    ) -> tuple[wire.Environment, bool]:
        """Create or update an environment version."""
        if name == BUILTIN_ENVIRONMENT:
            raise InvalidArgument(f"{name!r} is the built-in environment; choose another name")
        python = body.python or SERVER_PYTHON
        requirements = [r.strip() for r in body.requirements if r.strip()]
        spec = {
            "python": python,
            "requirements": requirements,
            "system_site_packages": body.system_site_packages,
            "hash": environment_hash(python, requirements, body.system_site_packages),
        }
        return self._put(AssetKind.ENVIRONMENT, workspace, name, version, spec, body)

    def get_environment(self, workspace: str, name: str, version: str | None) -> wire.Environment:
        """A version (newest when None); ``python`` is the built-in one."""
        if name == BUILTIN_ENVIRONMENT:
            return BUILTIN_ENV
        return environment_out(self._get(AssetKind.ENVIRONMENT, workspace, name, version))

    def list_environments(self, workspace: str) -> list[wire.Environment]:
        """The built-in environment, then every registered version."""
        found = self.store.list_assets(AssetKind.ENVIRONMENT, workspace, None)
        return [BUILTIN_ENV, *(environment_out(a) for a in found)]

    # ---------------------------------------------------------------- data
    def put_data(
        self, workspace: str, name: str, version: str, body: wire.DataAssetCreate
    ) -> tuple[wire.DataAsset, bool]:
        """Create or update a data asset version (a URL, or the files uploaded to it)."""
        spec: dict[str, Any] = {"type": body.type}
        if body.path is not None and datastores.is_datastore_uri(body.path):
            self._check_location(body.type, self.datastore_location(workspace, body.path))
            spec["path"] = body.path
        elif body.path is not None:
            if not body.path.startswith(("http://", "https://")):
                raise InvalidArgument(
                    f"data path {body.path!r} must be an http(s) URL or "
                    "datastore://<datastore>/<path>; to use local files, upload them to the "
                    "version first (the CLI and SDK do) and leave path out"
                )
            spec["path"] = body.path
        elif self._exists(AssetKind.DATA, workspace, name, version):
            spec = self._get(AssetKind.DATA, workspace, name, version).spec
            if spec["type"] != body.type:
                raise Conflict(f"data {name}:{version} is a {spec['type']}, not a {body.type}")
        else:
            spec.update(self._uploaded_data(workspace, name, version, body.type))
        return self._put(AssetKind.DATA, workspace, name, version, spec, body)

    def _uploaded_data(self, workspace: str, name: str, version: str, type_: str) -> dict[str, Any]:
        root = self.files_key(workspace, AssetKind.DATA, name, version)
        files = self._uploaded(workspace, AssetKind.DATA, name, version)
        if not files:
            raise InvalidArgument(
                f"data {name}:{version} has no path and no uploaded files: upload them with "
                f"PUT .../data/{name}/versions/{version}/files/<path>, or give an http(s) path"
            )
        if type_ == "uri_file" and len(files) != 1:
            raise InvalidArgument(
                f"a uri_file data asset holds one file; {len(files)} were uploaded to "
                f"{name}:{version} (use uri_folder)"
            )
        if type_ == "table" and not all(f.endswith((".csv", ".parquet")) for f in files):
            raise InvalidArgument("a table data asset holds CSV or Parquet files only")
        path = join_key(root, files[0]) if type_ == "uri_file" else root
        return {"path": STORE_PREFIX + path, "files": len(files)}

    def put_data_at(
        self,
        workspace: str,
        name: str,
        version: str,
        key: str,
        body: wire.DataAssetCreate,
    ) -> tuple[wire.DataAsset, bool]:
        """Register the folder ``key`` of the artifact store (a job's output) as data."""
        files = [e for e in self.artifacts.list(key, recursive=True) if not e.is_dir]
        spec = {"type": body.type, "path": STORE_PREFIX + key, "files": len(files)}
        return self._put(AssetKind.DATA, workspace, name, version, spec, body)

    def _check_location(self, type_: str, where: str) -> None:
        """The file or folder at ``where`` exists and fits ``type_`` (when it can be seen)."""
        kind: str | None = None
        if where.startswith(STORE_PREFIX):
            info = self.artifacts.info(where[len(STORE_PREFIX) :])
            kind = None if info is None else ("folder" if info.is_dir else "file")
            if kind is None:
                raise InvalidArgument(f"nothing is stored at {where[len(STORE_PREFIX) :]!r}")
        elif where.startswith("file://"):
            path = datastores.local_path(where, "")
            if not path.exists():
                raise InvalidArgument(f"{where} does not exist")
            kind = "folder" if path.is_dir() else "file"
        if kind == "folder" and type_ == "uri_file":
            raise InvalidArgument(f"{where} is a folder: declare the data as uri_folder")
        if kind == "file" and type_ == "uri_folder":
            raise InvalidArgument(f"{where} is a file: declare the data as uri_file")

    def data_location(self, workspace: str, data: wire.DataAsset) -> str:
        """Where a version's data is now: ``store:<key>`` or a URL (``datastore://`` resolved)."""
        if datastores.is_datastore_uri(data.path):
            return self.datastore_location(workspace, data.path)
        return data.path

    def data_files(self, workspace: str, name: str, version: str | None) -> list[wire.DataFile]:
        """The files of a data version (stored or in a datastore), relative to it."""
        where = self.data_location(workspace, self.get_data(workspace, name, version))
        if where.startswith(STORE_PREFIX):
            key = where[len(STORE_PREFIX) :]
            info = self.artifacts.info(key)
            if info is None:
                return []
            if not info.is_dir:
                return [wire.DataFile(path=key.rsplit("/", 1)[-1], size=info.size or 0)]
            entries = self.artifacts.list(key, recursive=True)
            return [wire.DataFile(path=e.path, size=e.size or 0) for e in entries if not e.is_dir]
        if where.startswith(("http://", "https://")):
            raise InvalidArgument(f"data {name} is at {where}: read it from there")
        fs, root = _fs(where)
        if not fs.isdir(root):
            return [wire.DataFile(path=root.rsplit("/", 1)[-1], size=int(fs.size(root) or 0))]
        found = fs.find(root, detail=True)
        base = root.rstrip("/") + "/"
        return [
            wire.DataFile(path=p[len(base) :], size=int(d.get("size") or 0))
            for p, d in sorted(found.items())
            if p.startswith(base)
        ]

    def open_data_file(
        self, workspace: str, name: str, version: str | None, path: str
    ) -> tuple[IO[bytes], int | None]:
        """One file of a data version, for reading, and its size."""
        known = {f.path: f.size for f in self.data_files(workspace, name, version)}
        if path not in known:
            raise NotFound(f"data {name}:{version or 'latest'} has no file {path!r}")
        where = self.data_location(workspace, self.get_data(workspace, name, version))
        single = len(known) == 1 and not self._is_folder(where)
        if where.startswith(STORE_PREFIX):
            key = where[len(STORE_PREFIX) :]
            return self.artifacts.open_read(key if single else join_key(key, path)), known[path]
        fs, root = _fs(where)
        target = root if single else root.rstrip("/") + "/" + path
        return fs.open(target, "rb"), known[path]

    def _is_folder(self, where: str) -> bool:
        if where.startswith(STORE_PREFIX):
            info = self.artifacts.info(where[len(STORE_PREFIX) :])
            return bool(info and info.is_dir)
        fs, root = _fs(where)
        return bool(fs.isdir(root))

    def get_data(self, workspace: str, name: str, version: str | None) -> wire.DataAsset:
        """A version (newest when None)."""
        return data_out(self._get(AssetKind.DATA, workspace, name, version))

    def list_data(self, workspace: str) -> list[wire.DataAsset]:
        """Every data asset version."""
        return [data_out(a) for a in self.store.list_assets(AssetKind.DATA, workspace, None)]

    # ---------------------------------------------------------------- code
    def put_code(
        self, workspace: str, name: str, version: str, body: wire.CodeAssetCreate
    ) -> tuple[wire.CodeAsset, bool]:
        """Register the files uploaded to a code version (content-hashed)."""
        if self._exists(AssetKind.CODE, workspace, name, version):
            spec = self._get(AssetKind.CODE, workspace, name, version).spec
        else:
            spec = self._code_spec(workspace, name, version)
        return self._put(AssetKind.CODE, workspace, name, version, spec, body)

    def _code_spec(self, workspace: str, name: str, version: str) -> dict[str, Any]:
        root = self.files_key(workspace, AssetKind.CODE, name, version)
        files = self._uploaded(workspace, AssetKind.CODE, name, version)
        if not files:
            raise InvalidArgument(
                f"code {name}:{version} has no files: upload them first with "
                f"PUT .../code/{name}/versions/{version}/files/<path>"
            )
        return {"hash": self.tree_hash(root, files), "files": len(files), "path": root}

    def tree_hash(self, root: str, files: list[str]) -> str:
        """SHA-256 over ``name NUL sha256(content) NUL`` of each file, in name order."""
        digest = hashlib.sha256()
        for rel in sorted(files):
            h = hashlib.sha256()
            for chunk in self.artifacts.iter_read(join_key(root, rel)):
                h.update(chunk)
            digest.update(f"{safe_key(rel)}\0{h.hexdigest()}\0".encode())
        return digest.hexdigest()

    def get_code(self, workspace: str, name: str, version: str | None) -> wire.CodeAsset:
        """A version (newest when None)."""
        return code_out(self._get(AssetKind.CODE, workspace, name, version))

    def list_code(self, workspace: str) -> list[wire.CodeAsset]:
        """Every code version."""
        return [code_out(a) for a in self.store.list_assets(AssetKind.CODE, workspace, None)]

    # ---------------------------------------------------------------- computes
    def put_compute(self, workspace: str, name: str, body: wire.ComputeCreate) -> wire.Compute:
        """Create or replace a compute; ``ray`` needs the cluster's dashboard address."""
        check_asset_name("compute", name)
        if body.type == "ray":
            if not body.address or not body.address.startswith(("http://", "https://")):
                raise InvalidArgument(
                    "a ray compute needs address: the Ray dashboard URL, e.g. "
                    "http://127.0.0.1:8265 (what `ray start --head` prints)"
                )
        elif body.address:
            raise InvalidArgument("a local compute takes no address")
        slots = body.slots or ((os.cpu_count() or 1) if body.type == "local" else 4)
        c = Compute(workspace, name, body.type, slots, body.address, body.description, now_ms())
        return wire.Compute.model_validate(self.store.put_compute(c))

    def get_compute(self, workspace: str, name: str) -> Compute:
        """The compute; ``local`` exists unless replaced, with one slot per core."""
        if name == DEFAULT_COMPUTE and not any(
            c.name == name for c in self.store.list_computes(workspace)
        ):
            return _builtin_local(workspace)
        return self.store.get_compute(workspace, name)

    def list_computes(self, workspace: str) -> list[wire.Compute]:
        """Every compute of the workspace, ``local`` included."""
        stored = self.store.list_computes(workspace)
        if not any(c.name == DEFAULT_COMPUTE for c in stored):
            stored = [_builtin_local(workspace), *stored]
        return [wire.Compute.model_validate(c) for c in stored]

    # ---------------------------------------------------------------- datastores
    def put_datastore(
        self, workspace: str, name: str, body: wire.DatastoreCreate
    ) -> tuple[wire.Datastore, bool]:
        """Register a datastore (True) or replace its URL, description and tags (False)."""
        check_asset_name("datastore", name)
        if name == DEFAULT_DATASTORE:
            raise InvalidArgument(
                f"{name!r} is the built-in datastore (the artifact store); choose another name"
            )
        url = datastores.check_url(body.url)
        now = now_ms()
        found, created = self.store.put_datastore(
            Datastore(workspace, name, url, body.description, body.tags, now, now)
        )
        return datastore_out(found), created

    def get_datastore(self, workspace: str, name: str) -> wire.Datastore:
        """A datastore; ``default`` is the artifact store."""
        if name == DEFAULT_DATASTORE:
            return _default_datastore(workspace)
        return datastore_out(self.store.get_datastore(workspace, name))

    def list_datastores(self, workspace: str) -> list[wire.Datastore]:
        """``default``, then every registered datastore by name."""
        stored = [datastore_out(d) for d in self.store.list_datastores(workspace)]
        return [_default_datastore(workspace), *stored]

    def datastore_location(self, workspace: str, uri: str) -> str:
        """``datastore://<name>/<path>`` as ``store:<key>`` (``default``) or a URL.

        ``default`` is rooted at ``assets/<workspace>/`` of the artifact store, so a workspace
        reaches only its own files there.

        Raises:
            InvalidArgument: a malformed URI, or a path out of the datastore's root.
            NotFound: no such datastore.
        """
        name, rel = datastores.parse_uri(uri)
        if name == DEFAULT_DATASTORE:
            return STORE_PREFIX + join_key(f"assets/{workspace}", rel, allow_empty=True)
        ds = self.store.get_datastore(workspace, name)
        if ds.url.startswith("file://"):
            datastores.local_path(ds.url, rel)  # no symlink out of the folder
        return datastores.location(ds.url, rel)

    # ---------------------------------------------------------------- shared
    def _get(self, kind: AssetKind, workspace: str, name: str, version: str | None) -> AssetVersion:
        return self.store.get_asset(kind, workspace, name, version)

    def _put(
        self,
        kind: AssetKind,
        workspace: str,
        name: str,
        version: str,
        spec: dict[str, Any],
        body: Any,
    ) -> tuple[Any, bool]:
        check_asset_name(kind.value, name)
        check_version(kind.value, version)
        asset, created = self.store.put_asset(
            kind, workspace, name, version, spec, body.description, body.tags, now_ms()
        )
        out = {AssetKind.ENVIRONMENT: environment_out, AssetKind.DATA: data_out}.get(kind, code_out)
        return out(asset), created


def _fs(url: str) -> tuple[Any, str]:
    import fsspec

    return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]


def _default_datastore(workspace: str) -> wire.Datastore:
    return wire.Datastore(
        name=DEFAULT_DATASTORE,
        type="artifact_store",
        url=f"store:assets/{workspace}",
        description="The server's artifact store (this workspace's uploaded assets).",
        builtin=True,
    )


def datastore_out(d: Datastore) -> wire.Datastore:
    """The wire form of a registered datastore."""
    return wire.Datastore(
        name=d.name,
        type=d.url.split("://", 1)[0],
        url=d.url,
        description=d.description,
        tags=d.tags,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def _builtin_local(workspace: str) -> Compute:
    return Compute(
        workspace,
        DEFAULT_COMPUTE,
        "local",
        os.cpu_count() or 1,
        None,
        "Processes on the server's machine, one slot per core.",
        builtin=True,
    )


def _common(a: AssetVersion) -> dict[str, Any]:
    return {
        "name": a.name,
        "version": a.version,
        "description": a.description,
        "tags": a.tags,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def environment_out(a: AssetVersion) -> wire.Environment:
    """The wire form of an environment version."""
    return wire.Environment(**_common(a), **a.spec)


def data_out(a: AssetVersion) -> wire.DataAsset:
    """The wire form of a data asset version."""
    return wire.DataAsset(**_common(a), **a.spec)


def code_out(a: AssetVersion) -> wire.CodeAsset:
    """The wire form of a code asset version."""
    return wire.CodeAsset(**_common(a), **a.spec)
