"""Datastores: named roots (fsspec URLs) that data assets point into with ``datastore://``.

A data asset's ``path`` may read ``datastore://<datastore>/<path>``: ``<path>`` is relative to
the datastore's root and may not leave it (no ``..`` segment, no absolute path; for a local
``file://`` datastore, no symlink out of the root either). ``default`` is built in: the server's
artifact store, where uploaded assets and run artifacts live. A registered datastore is an
fsspec URL: ``file:///srv/data`` (a folder on the server's machine, which must exist) or any
protocol fsspec knows (``s3://bucket/prefix``, ...), recorded as given and reachable only when
fsspec's implementation for it is installed on the server.

A job takes such a URI as an input's ``path`` directly, or through a data asset; either way
it resolves the URI at submission (``resolved.inputs.<name>.path`` is then ``store:<key>`` or
the full URL, ``uri`` the ``datastore://`` path), so it reads what the datastore pointed at when
it was submitted.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path

from trainyard.core.jobs import DEFAULT_DATASTORE, check_asset_name
from trainyard.errors import InvalidArgument

SCHEME = "datastore://"
STORE_PREFIX = "store:"


def is_datastore_uri(path: str) -> bool:
    """True for ``datastore://...``."""
    return path.startswith(SCHEME)


def safe_relative(path: str, what: str = "path") -> str:
    """``path`` as clean POSIX segments under a root; ``InvalidArgument`` if it would escape."""
    if "\0" in path or "\\" in path:
        raise InvalidArgument(f"{what} {path!r} may not hold NUL or backslash characters")
    if path.startswith("/"):
        raise InvalidArgument(f"{what} {path!r} must be relative to the datastore's root")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"{what} {path!r} may not leave the datastore's root ('..')")
    return "/".join(parts)


def parse_uri(uri: str) -> tuple[str, str]:
    """``(datastore, relative path)`` of ``datastore://<datastore>/<path>``."""
    if not is_datastore_uri(uri):
        raise InvalidArgument(f"{uri!r} is not a datastore URI (datastore://<name>/<path>)")
    rest = uri[len(SCHEME) :]
    name, _, rel = rest.partition("/")
    if not name:
        raise InvalidArgument(f"{uri!r} names no datastore: write datastore://<name>/<path>")
    check_asset_name("datastore", name)
    return name, safe_relative(urllib.parse.unquote(rel), f"the path of {uri!r}")


def check_url(url: str) -> str:
    """A datastore URL, normalised: ``file:///<absolute folder>`` or a known fsspec protocol."""
    protocol, sep, rest = url.partition("://")
    if not sep or not protocol:
        raise InvalidArgument(
            f"datastore url {url!r} must be an fsspec URL such as file:///srv/data or "
            "s3://bucket/prefix"
        )
    if protocol == "file":
        folder = urllib.parse.unquote(rest)
        if not folder.startswith("/"):
            raise InvalidArgument(
                f"datastore url {url!r}: a file URL holds an absolute path (file:///srv/data)"
            )
        if not os.path.isdir(folder):
            raise InvalidArgument(
                f"datastore url {url!r}: {folder!r} is not a folder on the server's machine"
            )
        return "file://" + os.path.normpath(folder)
    from fsspec.registry import known_implementations, registry

    if protocol not in known_implementations and protocol not in registry:
        raise InvalidArgument(f"datastore url {url!r}: fsspec knows no protocol {protocol!r}")
    return url.rstrip("/")


def location(url: str | None, rel: str) -> str:
    """Where ``rel`` of a datastore is: ``store:<rel>`` for ``default`` (url None), else a URL."""
    if url is None:
        return STORE_PREFIX + rel
    return f"{url}/{rel}" if rel else url


def local_path(url: str, rel: str) -> Path:
    """The file or folder ``rel`` under a ``file://`` datastore, symlinks followed, kept inside.

    Raises:
        InvalidArgument: it resolves outside the datastore's folder.
    """
    root = Path(url[len("file://") :]).resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise InvalidArgument(f"{rel!r} leads out of the datastore's folder (a symlink?)")
    return target


class LeavesFolder(PermissionError):
    """A symlink inside a folder being fetched leads out of it."""


def _check_symlinks(root: Path) -> None:
    """Raise :class:`LeavesFolder` if a symlink anywhere under ``root`` leads out of it."""
    for folder, dirs, files in os.walk(root):  # symlinked folders are listed, not entered
        for name in dirs + files:
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if target != root and root not in target.parents:
                    shown = path.relative_to(root)
                    raise LeavesFolder(f"{shown} is a symlink out of the folder; not copied")


def fetch(url: str, dest_folder: Path) -> Path:
    """Copy the file or folder at ``url`` (file:// or fsspec) into ``dest_folder``.

    A ``file://`` folder is copied with its symlinks followed, but only those that stay inside
    it: one leading elsewhere (``/etc``, a sibling of the datastore) raises
    :class:`LeavesFolder`, so a datastore cannot hand a job files from outside.

    Returns the path to pass the job: the copied file, or ``dest_folder`` for a folder.
    """
    dest_folder.mkdir(parents=True, exist_ok=True)
    if url.startswith("file://"):
        src = Path(urllib.parse.unquote(url[len("file://") :]))
        if src.is_dir():
            root = src.resolve()
            _check_symlinks(root)
            shutil.copytree(root, dest_folder, dirs_exist_ok=True, symlinks=False)
            return dest_folder
        if not src.is_file():
            raise FileNotFoundError(f"{url} does not exist")
        dest = dest_folder / src.name
        shutil.copyfile(src, dest)
        return dest
    import fsspec

    fs, path = fsspec.core.url_to_fs(url)
    if fs.isdir(path):
        fs.get(path.rstrip("/") + "/", str(dest_folder) + "/", recursive=True)
        return dest_folder
    dest = dest_folder / (path.rstrip("/").rsplit("/", 1)[-1] or "data")
    fs.get(path, str(dest))
    return dest


__all__ = [
    "DEFAULT_DATASTORE",
    "SCHEME",
    "LeavesFolder",
    "check_url",
    "fetch",
    "is_datastore_uri",
    "local_path",
    "location",
    "parse_uri",
    "safe_relative",
]
