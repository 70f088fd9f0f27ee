"""Path safety: a key from a request never leaves its root."""

from __future__ import annotations

from trainyard.errors import InvalidArgument


def safe_key(path: str, *, allow_empty: bool = False) -> str:
    """Normalise a relative POSIX key, refusing ``..``, absolute paths and odd characters.

    Raises:
        InvalidArgument: the path is absolute, climbs out with ``..``, or holds a backslash or NUL.
    """
    if "\x00" in path or "\\" in path:
        raise InvalidArgument(f"artifact path {path!r} may not contain backslashes or NUL bytes")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise InvalidArgument(f"artifact path {path!r} must be relative, not absolute")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidArgument(f"artifact path {path!r} may not contain '..'")
    if not parts and not allow_empty:
        raise InvalidArgument("artifact path must not be empty")
    return "/".join(parts)


def join_key(root: str, path: str, *, allow_empty: bool = False) -> str:
    """``root/path`` with ``path`` checked by ``safe_key``."""
    rel = safe_key(path, allow_empty=allow_empty)
    return f"{root.rstrip('/')}/{rel}" if rel else root.rstrip("/")
