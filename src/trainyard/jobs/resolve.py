"""Check a job document and resolve its references, before anything is created or run.

Every problem names the field it is in: a placeholder without its input (``InvalidArgument``),
a reference to an asset or compute that does not exist (``NotFound``), a data asset of another
type than the input asks for, a local path the server cannot read.

A data input's ``path`` is a data asset (``name:version``, ``name@latest``), an http(s) URL, or
a ``datastore://<datastore>/<path>`` read directly, with no asset registered: it is checked
exactly as a data asset's path is (``AssetService.checked_datastore_location``) and resolved as
a datastore-backed asset is (``uri`` the ``datastore://`` path, ``path`` where it is read
from). Any other path (``s3://...``, ``file://...``, ``/srv/...``) is refused: the server reads
only where a registered datastore lets it.
"""

from __future__ import annotations

import re
from typing import Any

from trainyard.core.jobs import (
    BUILTIN_ENVIRONMENT,
    check_asset_name,
    check_version,
    parse_ref,
    placeholders,
)
from trainyard.errors import Conflict, InvalidArgument, NotFound
from trainyard.jobs.assets import AssetService
from trainyard.jobs.datastores import is_datastore_uri
from trainyard.schemas.jobs import JobCreate, JobInput

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_ENV_PREFIXES = ("TRAINYARD_", "MLFLOW_")


def _ref(field: str, value: str, what: str) -> tuple[str, str | None]:
    parsed = parse_ref(value)
    if parsed is None:
        raise InvalidArgument(
            f"job field {field!r}: {value!r} is not a {what} reference; write name:version "
            "or name@latest"
        )
    return parsed


def _found(field: str, exc: NotFound) -> NotFound:
    return NotFound(f"job field {field!r}: {exc.message}")


def check_placeholders(spec: JobCreate) -> None:
    """Every ``${{inputs.x}}`` / ``${{outputs.y}}`` of the command is declared."""
    for kind, name in placeholders(spec.command):
        if kind == "inputs" and name not in spec.inputs:
            declared = ", ".join(sorted(spec.inputs)) or "none"
            raise InvalidArgument(
                f"the command uses ${{{{inputs.{name}}}}} but the job has no input {name!r} "
                f"(inputs: {declared})"
            )
        if kind == "outputs" and name not in spec.outputs:
            declared = ", ".join(sorted(spec.outputs)) or "none"
            raise InvalidArgument(
                f"the command uses ${{{{outputs.{name}}}}} but the job has no output {name!r} "
                f"(outputs: {declared})"
            )
        if kind not in ("inputs", "outputs"):
            raise InvalidArgument(
                f"the command uses ${{{{{kind}.{name}}}}}; only ${{{{inputs.NAME}}}} and "
                "${{outputs.NAME}} can be used"
            )


def _input(assets: AssetService, workspace: str, key: str, value: JobInput) -> dict[str, Any]:
    field = f"inputs.{key}.path"
    if value.path.startswith(("http://", "https://")):
        if value.type == "uri_folder":
            raise InvalidArgument(
                f"job field {field!r}: a URL names one file; declare the input as uri_file"
            )
        return {"type": value.type, "path": value.path, "mode": value.mode}
    if is_datastore_uri(value.path):
        return _datastore_input(assets, workspace, field, value)
    parsed = _data_ref(field, value.path)
    try:
        data = assets.get_data(workspace, parsed[0], parsed[1])
    except NotFound as exc:
        raise _found(field, exc) from None
    if data.type != value.type:
        raise InvalidArgument(
            f"job field {field!r}: data {data.name}:{data.version} is a {data.type} but the "
            f"input is declared as {value.type}"
        )
    resolved = {
        "type": data.type,
        "path": data.path,
        "mode": value.mode,
        "asset": f"{data.name}:{data.version}",
    }
    if is_datastore_uri(data.path):
        try:
            resolved["path"] = assets.data_location(workspace, data)
        except NotFound as exc:
            raise _found(field, exc) from None
        except InvalidArgument as exc:
            raise InvalidArgument(f"job field {field!r}: {exc.message}") from None
        resolved["uri"] = data.path
    return resolved


def _datastore_input(
    assets: AssetService, workspace: str, field: str, value: JobInput
) -> dict[str, Any]:
    """A ``datastore://`` path given directly, checked as a data asset's path is."""
    try:
        where = assets.checked_datastore_location(workspace, value.path, value.type)
    except NotFound as exc:
        raise _found(field, exc) from None
    except InvalidArgument as exc:
        raise InvalidArgument(f"job field {field!r}: {exc.message}") from None
    return {"type": value.type, "path": where, "mode": value.mode, "uri": value.path}


def _data_ref(field: str, path: str) -> tuple[str, str | None]:
    """``(name, version)`` of a data asset reference; any other path is refused.

    The server reads data only where a datastore says it may: ``s3://...``, ``file://...`` or
    ``/srv/...`` would let any submitter read what the server's account can.
    """
    parsed = parse_ref(path)
    if parsed is not None and "/" not in path:
        return parsed
    scheme, sep, _ = path.partition("://")
    if sep and scheme:
        raise InvalidArgument(
            f"job field {field!r}: the server reads no {scheme}:// path directly; register a "
            f"datastore over its root (PUT .../datastores/<name> with url {scheme}://...) and "
            "write datastore://<datastore>/<path>, or register a data asset and write "
            "name:version"
        )
    raise InvalidArgument(
        f"job field {field!r}: {path!r} looks like a local path, which the server cannot "
        "read; submit with the CLI or SDK (they upload it), register a datastore over its "
        "folder and write datastore://<datastore>/<path>, register a data asset and write "
        "name:version, or give an http(s) URL"
    )


def _outputs(assets: AssetService, workspace: str, spec: JobCreate) -> dict[str, Any]:
    """Outputs to register as data when the job completes: each ``name:version`` is free."""
    found: dict[str, Any] = {}
    for key, out in spec.outputs.items():
        if out is None or (out.name is None and out.version is None):
            continue
        field = f"outputs.{key}"
        if out.name is None or out.version is None:
            raise InvalidArgument(
                f"job field {field!r}: to register the output as data give both name and version"
            )
        check_asset_name("data", out.name)
        check_version("data", out.version)
        try:
            assets.get_data(workspace, out.name, out.version)
        except NotFound:
            found[key] = {"name": out.name, "version": out.version}
            continue
        raise Conflict(
            f"job field {field!r}: data {out.name}:{out.version} exists already; versions "
            "cannot change: give a new version"
        )
    return found


def resolve(assets: AssetService, workspace: str, spec: JobCreate) -> dict[str, Any]:
    """The resolved assets of a job document, or the precise error that stops it.

    Raises:
        InvalidArgument: a malformed reference, an undeclared placeholder, a local path.
        NotFound: an asset version or compute that does not exist.
    """
    for kind, names in (("input", spec.inputs), ("output", spec.outputs)):
        for name in names:
            if not _IDENT_RE.match(name):
                raise InvalidArgument(
                    f"{kind} name {name!r} must be letters, digits, '_' and '-' (64 at most)"
                )
    for var in spec.environment_variables:
        if not _ENV_NAME_RE.match(var):
            raise InvalidArgument(f"environment_variables: {var!r} is not a variable name")
        if var.startswith(RESERVED_ENV_PREFIXES):
            raise InvalidArgument(
                f"environment_variables: {var!r} is set by Trainyard for every job "
                f"({', '.join(p + '*' for p in RESERVED_ENV_PREFIXES)} are reserved)"
            )
    check_placeholders(spec)
    resolved: dict[str, Any] = {}
    if spec.environment == BUILTIN_ENVIRONMENT:
        resolved["environment"] = assets.get_environment(workspace, BUILTIN_ENVIRONMENT, None)
    else:
        name, version = _ref("environment", spec.environment, "environment")
        try:
            resolved["environment"] = assets.get_environment(workspace, name, version)
        except NotFound as exc:
            raise _found("environment", exc) from None
    resolved["environment"] = resolved["environment"].model_dump(mode="json")
    if spec.code is not None:
        name, version = _ref("code", spec.code, "code asset")
        try:
            resolved["code"] = assets.get_code(workspace, name, version).model_dump(mode="json")
        except NotFound as exc:
            raise _found("code", exc) from None
    inputs: dict[str, Any] = {}
    for key, value in spec.inputs.items():
        if isinstance(value, JobInput):
            inputs[key] = _input(assets, workspace, key, value)
        else:
            inputs[key] = {"type": "literal", "value": _literal(value)}
    resolved["inputs"] = inputs
    registered = _outputs(assets, workspace, spec)
    if registered:
        resolved["outputs"] = registered
    try:
        compute = assets.get_compute(workspace, spec.compute)
    except NotFound as exc:
        raise _found("compute", exc) from None
    resolved["compute"] = {
        "name": compute.name,
        "type": compute.type,
        "slots": compute.slots,
        "address": compute.address,
    }
    return resolved


def _literal(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
