"""Model references: how a registered model version is named anywhere one is expected.

::

    churn            the latest READY version of the model ``churn`` (``churn@latest`` too)
    churn:3          version 3
    churn@champion   the version the alias ``champion`` points at
    mv-<32 hex>      the version with that opaque ``model_id``

Pure: no I/O. The SDK, the CLI and the server parse references with :func:`parse_model_ref`, so a
reference means the same thing whichever door it comes in by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trainyard.errors import InvalidArgument

MODEL_ID_PREFIX = "mv-"
MAX_MODEL_NAME_LENGTH = 200
MAX_ALIAS_LENGTH = 64

_MODEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_MODEL_ID_RE = re.compile(r"^mv-[0-9a-f]{32}$")
RESERVED_ALIASES = frozenset({"latest"})


def is_model_id(text: str) -> bool:
    """True for an opaque version id, ``mv-`` and 32 lowercase hex characters."""
    return bool(_MODEL_ID_RE.match(text))


def check_model_name(name: object) -> str:
    """A registered model's name: letters, digits, ``_``, ``.``, ``-``; 200 characters at most.

    Raises:
        InvalidArgument: the name is empty, too long, holds another character, or has the shape
            of a model id (``mv-`` + 32 hex), which would make references ambiguous.
    """
    if not isinstance(name, str) or not name:
        raise InvalidArgument("a model name must be a non-empty string")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidArgument(
            f"model name {name[:40]!r}... is {len(name)} characters; the limit is "
            f"{MAX_MODEL_NAME_LENGTH}"
        )
    if not _MODEL_NAME_RE.match(name):
        raise InvalidArgument(
            f"model name {name!r} must start with a letter or digit and use only letters, "
            "digits, '_', '.' and '-'"
        )
    if is_model_id(name):
        raise InvalidArgument(f"model name {name!r} looks like a model id; choose another name")
    return name


def check_alias(alias: object) -> str:
    """An alias: starts with a letter or ``_``, then letters, digits, ``_``, ``-``; 64 at most.

    Raises:
        InvalidArgument: a malformed alias, or ``latest`` (it always means the newest version).
    """
    if not isinstance(alias, str) or not alias:
        raise InvalidArgument("an alias must be a non-empty string")
    if len(alias) > MAX_ALIAS_LENGTH or not _ALIAS_RE.match(alias):
        raise InvalidArgument(
            f"alias {alias!r} must start with a letter or '_' and use only letters, digits, "
            f"'_' and '-' ({MAX_ALIAS_LENGTH} characters at most)"
        )
    if alias.lower() in RESERVED_ALIASES:
        raise InvalidArgument(
            f"alias {alias!r} is reserved: NAME alone (or NAME@latest) means the latest version"
        )
    return alias


def check_version(version: object) -> int:
    """A version number: an integer from 1 (a decimal string is accepted)."""
    if isinstance(version, bool):
        raise InvalidArgument("a model version must be a positive integer, got a bool")
    if isinstance(version, str) and version.isascii() and version.isdigit():
        version = int(version)
    if not isinstance(version, int) or not 1 <= version <= 2**31 - 1:
        raise InvalidArgument(f"a model version must be a positive integer, got {version!r}")
    return version


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed reference: a name with a version, an alias or neither, or a model id alone."""

    name: str | None = None
    version: int | None = None
    alias: str | None = None
    model_id: str | None = None

    @property
    def is_latest(self) -> bool:
        """True for a bare name (the latest READY version)."""
        return self.name is not None and self.version is None and self.alias is None

    def __str__(self) -> str:
        if self.model_id is not None:
            return self.model_id
        if self.version is not None:
            return f"{self.name}:{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return str(self.name)


def parse_model_ref(text: object) -> ModelRef:
    """Parse ``NAME``, ``NAME:VERSION``, ``NAME@ALIAS`` or a model id.

    Example::

        >>> parse_model_ref("churn@champion")
        ModelRef(name='churn', version=None, alias='champion', model_id=None)

    Raises:
        InvalidArgument: the text is none of these, with what was expected.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("a model reference must be a non-empty string like 'name:3'")
    text = text.strip()
    if is_model_id(text):
        return ModelRef(model_id=text)
    if "@" in text and ":" in text:
        raise InvalidArgument(
            f"model reference {text!r} has both ':' and '@': use NAME:VERSION or NAME@ALIAS"
        )
    if "@" in text:
        name, _, alias = text.partition("@")
        if alias.lower() == "latest":  # NAME@latest is the bare name's meaning, spelt out
            return ModelRef(name=check_model_name(name))
        return ModelRef(name=check_model_name(name), alias=check_alias(alias))
    if ":" in text:
        name, _, version = text.partition(":")
        if not (version.isascii() and version.isdigit()):
            raise InvalidArgument(
                f"model reference {text!r}: the version after ':' must be a number, "
                f"got {version!r} (use NAME@{version} for an alias)"
            )
        return ModelRef(name=check_model_name(name), version=check_version(version))
    return ModelRef(name=check_model_name(text))
