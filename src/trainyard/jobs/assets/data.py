"""Data assets: versions registered from a URL, a datastore path, uploads or a job's output.

A version's ``path`` is an http(s) URL, a ``datastore://<datastore>/<path>`` URI (checked
against what is there when it can be seen) or ``store:<key>`` for files in the artifact store.
Here a version's files are also listed and opened for reading, wherever they are (the artifact
store, or any fsspec URL a datastore points to).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from trainyard.core.jobs import AssetKind
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.jobs import datastores
from trainyard.jobs.assets._base import STORE_PREFIX
from trainyard.jobs.assets.convert import data_out
from trainyard.jobs.assets.places import DatastoresMixin
from trainyard.schemas import assets as wire
from trainyard.store.artifacts.paths import join_key


def _fs(url: str) -> tuple[Any, str]:
    import fsspec

    return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]


def _inside(where: str) -> Callable[[str], bool]:
    """For a ``file://`` folder, whether a path relative to it stays inside once symlinks are
    followed (a link out of it is neither listed nor served); anything goes elsewhere."""
    if not where.startswith("file://"):
        return lambda rel: True

    def check(rel: str) -> bool:
        try:
            datastores.local_path(where, rel)
        except InvalidArgument:
            return False
        return True

    return check


class DataMixin(DatastoresMixin):
    """Register, read and list data versions; list and open their files."""

    def put_data(
        self, workspace: str, name: str, version: str, body: wire.DataAssetCreate
    ) -> tuple[wire.DataAsset, bool]:
        """Create or update a data asset version (a URL, or the files uploaded to it)."""
        spec: dict[str, Any] = {"type": body.type}
        if body.path is not None and datastores.is_datastore_uri(body.path):
            self.checked_datastore_location(workspace, body.path, body.type)
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

    def checked_datastore_location(self, workspace: str, uri: str, type_: str) -> str:
        """Where ``datastore://<datastore>/<path>`` is, checked against what is there.

        The one check for a ``datastore://`` path, whether it is registered as a data asset or
        given directly as a job's input: the path stays inside the datastore's root (no ``..``,
        no absolute path, no symlink out of a ``file://`` folder) and, when the datastore can
        be seen (``default``, ``file://``), the file or folder exists and fits ``type_``.

        Returns:
            ``store:<key>`` (``default``) or the URL under the datastore's root.

        Raises:
            InvalidArgument: a malformed URI, a path out of the root, nothing there, a folder
                declared ``uri_file`` or a file declared ``uri_folder``.
            NotFound: no such datastore.
        """
        where = self.datastore_location(workspace, uri)
        self._check_location(type_, where)
        return where

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
        inside = _inside(where)
        return [
            wire.DataFile(path=p[len(base) :], size=int(d.get("size") or 0))
            for p, d in sorted(found.items())
            if p.startswith(base) and inside(p[len(base) :])
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
        if not single and not _inside(where)(path):  # a symlink swapped in since the listing
            raise NotFound(f"data {name}:{version or 'latest'} has no file {path!r}")
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
