"""Online endpoints seen from the SDK: ``ws.endpoints`` and ``ws.endpoints.deployments``.

Example::

    ws.endpoints.create("churn")                                   # key auth
    ws.endpoints.deployments.create("churn", "blue", model="churn@champion")
    ws.endpoints.invoke("churn", {"inputs": [[0.3, 12, 1.0]]})     # {"predictions": [...], ...}
    ws.endpoints.deployments.create("churn", "green", model="churn:4")
    ws.endpoints.traffic("churn", {"blue": 90, "green": 10})
    ws.endpoints.traffic("churn", {"green": 100})
    ws.endpoints.deployments.delete("churn", "blue")
    ws.endpoints.deployments.update("churn", "green", batching={"max_rows": 32, "max_wait_us": 500})
    ws.endpoints.deployments.rollback("churn", "green")            # back to the previous version
    ws.endpoints.deployments.history("churn", "green")             # newest first
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import orjson
from pydantic import BaseModel, ValidationError

from trainyard.client._scope import Scope, body, iter_pages
from trainyard.core.serving import AuthMode, KeyName, check_serving_name
from trainyard.errors import InvalidArgument, PermissionDenied
from trainyard.schemas import serving as s

_DUMP = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def payload(data: Any) -> Any:
    """A scoring request body for ``data``: a dict or list as it is (rows, records, columns),
    a pandas DataFrame as columns, an array as rows."""
    if isinstance(data, dict | list):
        return data
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):  # pandas
        rows = data.to_numpy(dtype=object).tolist()
        return {"dataframe_split": {"columns": [str(c) for c in data.columns], "data": rows}}
    if hasattr(data, "tolist"):  # numpy
        rows = data.tolist()
        return {"inputs": rows if rows and isinstance(rows[0], list) else [rows]}
    raise TypeError(
        f"cannot send {type(data).__name__}: pass a dict, a list, a DataFrame or an array"
    )


def _body(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, Any]:
    """:func:`body` for wire models with a field called ``model``."""
    try:
        return model.model_validate(fields).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidArgument(f"invalid {model.__name__}: {problems}") from exc


def _limits(
    max_rows: int | None, max_body_bytes: int | None, timeout_ms: int | None
) -> dict[str, int]:
    given = {"max_rows": max_rows, "max_body_bytes": max_body_bytes, "timeout_ms": timeout_ms}
    return {k: v for k, v in given.items() if v is not None}


BatchingArg = Mapping[str, int] | s.Batching
"""A batching setting: ``{"max_rows": 32, "max_wait_us": 500}`` (keys left out: defaults)."""


def _batching(given: BatchingArg, current: s.Batching | None = None) -> s.Batching:
    """``given`` over ``current`` (or the defaults), checked."""
    fields = given.model_dump() if isinstance(given, s.Batching) else dict(given)
    base = current.model_dump() if current is not None else {}
    try:
        return s.Batching.model_validate({**base, **fields})
    except ValidationError as exc:
        problems = "; ".join(
            f"batching.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidArgument(f"invalid batching: {problems}") from exc


class Deployments:
    """The deployments of endpoints: ``ws.endpoints.deployments``."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def create(
        self,
        endpoint: str,
        name: str,
        model: str,
        *,
        replicas: int = 1,
        max_rows: int | None = None,
        max_body_bytes: int | None = None,
        timeout_ms: int | None = None,
        log_requests: bool = False,
        batching: BatchingArg | None = None,
    ) -> s.Deployment:
        """Deploy ``model`` (``NAME:VERSION``, ``NAME@ALIAS``, ``NAME`` or a model id) under
        ``endpoint``; the call returns once its sessions are loaded and warm. The endpoint's
        first deployment takes 100% of the traffic, later ones 0% (see :meth:`Endpoints.traffic`).
        ``batching`` (``{"max_rows": 32, "max_wait_us": 500}``) runs small concurrent requests
        together (off when None).
        """
        limits = s.Limits(**_limits(max_rows, max_body_bytes, timeout_ms))
        data = _body(
            s.DeploymentCreate,
            {
                "name": check_serving_name("deployment", name),
                "model": model,
                "replicas": replicas,
                "limits": limits,
                "log_requests": log_requests,
                "batching": None if batching is None else _batching(batching),
            },
        )
        found = self._scope.request("POST", "endpoints", endpoint, "deployments", json=data)
        return s.Deployment.model_validate(found)

    def get(self, endpoint: str, name: str) -> s.Deployment:
        """One deployment."""
        found = self._scope.request("GET", "endpoints", endpoint, "deployments", name)
        return s.Deployment.model_validate(found)

    def update(
        self,
        endpoint: str,
        name: str,
        *,
        model: str | None = None,
        replicas: int | None = None,
        max_rows: int | None = None,
        max_body_bytes: int | None = None,
        timeout_ms: int | None = None,
        log_requests: bool | None = None,
        batching: BatchingArg | Literal[False] | None = None,
    ) -> s.Deployment:
        """Change a deployment; a new ``model`` is resolved again, loaded and warmed before it
        takes over, and the old one finishes its requests. Limits not given keep their value;
        ``batching`` given as a mapping changes the keys it holds (switching batching on if it
        was off), ``batching=False`` switches it off."""
        fields: dict[str, Any] = {
            "model": model,
            "replicas": replicas,
            "log_requests": log_requests,
        }
        limits = _limits(max_rows, max_body_bytes, timeout_ms)
        changes_batching = isinstance(batching, Mapping | s.Batching)
        current = self.get(endpoint, name) if limits or changes_batching else None
        if limits and current is not None:
            fields["limits"] = s.Limits(**{**current.limits.model_dump(), **limits})
        if isinstance(batching, Mapping | s.Batching) and current is not None:
            fields["batching"] = _batching(batching, current.batching)
        data = _body(s.DeploymentUpdate, {k: v for k, v in fields.items() if v is not None})
        if batching is False:
            data["batching"] = None  # null: off
        found = self._scope.request("PATCH", "endpoints", endpoint, "deployments", name, json=data)
        return s.Deployment.model_validate(found)

    def rollback(self, endpoint: str, name: str, to_version: int | None = None) -> s.Deployment:
        """Serve again the model version the deployment served before the current one (or
        the most recent one numbered ``to_version``); it is loaded and warmed before it takes
        over, as in :meth:`update`. ``Conflict`` when there is no earlier version, ``NotFound``
        when that version was deleted from the registry.

        Example::

            ws.endpoints.deployments.rollback("churn", "blue")  # the deployment, as it is now
        """
        data = body(s.DeploymentRollback, to_version=to_version)
        found = self._scope.request(
            "POST", "endpoints", endpoint, "deployments", name, "rollback", json=data
        )
        return s.Deployment.model_validate(found)

    def history(self, endpoint: str, name: str) -> list[s.DeploymentEvent]:
        """The model versions the deployment served, newest first (the first is the current
        one), each with its reason: ``created``, ``updated`` or ``rolled back``."""

        def page(token: str | None) -> tuple[list[s.DeploymentEvent], str | None]:
            params: dict[str, Any] = {
                "max_results": 1000,
                **({"page_token": token} if token else {}),
            }
            path = ("endpoints", endpoint, "deployments", name, "history")
            found = s.DeploymentHistory.model_validate(
                self._scope.request("GET", *path, params=params)
            )
            return found.history, found.next_page_token

        return list(iter_pages(page))

    def delete(self, endpoint: str, name: str) -> None:
        """Delete a deployment that takes no live traffic (``Conflict`` otherwise)."""
        self._scope.request("DELETE", "endpoints", endpoint, "deployments", name)


class Endpoints:
    """The online endpoints of a workspace: ``ws.endpoints``."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    @property
    def deployments(self) -> Deployments:
        """Create, update and delete deployments."""
        return Deployments(self._scope)

    def create(
        self, name: str, *, auth: AuthMode | str = AuthMode.KEY, description: str = ""
    ) -> s.Endpoint:
        """A new endpoint (``AlreadyExists`` if the name is taken); ``auth`` ``key`` (the
        default: requests carry ``Authorization: Bearer <key>``) or ``none``."""
        data = body(
            s.EndpointCreate,
            name=check_serving_name("endpoint", name),
            auth=AuthMode(auth),
            description=description,
        )
        return s.Endpoint.model_validate(self._scope.request("POST", "endpoints", json=data))

    def get(self, name: str) -> s.Endpoint:
        """The endpoint with its deployments and traffic."""
        return s.Endpoint.model_validate(self._scope.request("GET", "endpoints", name))

    def list(self) -> list[s.Endpoint]:
        """Every endpoint of the workspace, by name."""

        def page(token: str | None) -> tuple[list[s.Endpoint], str | None]:
            params: dict[str, Any] = {
                "max_results": 1000,
                **({"page_token": token} if token else {}),
            }
            found = s.EndpointList.model_validate(
                self._scope.request("GET", "endpoints", params=params)
            )
            return found.endpoints, found.next_page_token

        return list(iter_pages(page))

    def update(
        self, name: str, *, auth: AuthMode | str | None = None, description: str | None = None
    ) -> s.Endpoint:
        """Change the auth mode and/or the description."""
        fields = {"auth": None if auth is None else AuthMode(auth), "description": description}
        data = body(s.EndpointUpdate, **{k: v for k, v in fields.items() if v is not None})
        return s.Endpoint.model_validate(self._scope.request("PATCH", "endpoints", name, json=data))

    def delete(self, name: str) -> None:
        """Delete the endpoint and its deployments."""
        self._scope.request("DELETE", "endpoints", name)

    def keys(self, name: str) -> s.EndpointKeys:
        """The primary and secondary scoring keys."""
        return s.EndpointKeys.model_validate(self._scope.request("GET", "endpoints", name, "keys"))

    def regenerate_key(self, name: str, which: KeyName | str = KeyName.PRIMARY) -> s.EndpointKeys:
        """Replace the ``primary`` or ``secondary`` key (the other keeps working)."""
        data = body(s.KeyRegenerate, key=KeyName(which))
        found = self._scope.request("POST", "endpoints", name, "keys", "regenerate", json=data)
        return s.EndpointKeys.model_validate(found)

    def traffic(
        self,
        name: str,
        shares: Mapping[str, int],
        *,
        mirror: Mapping[str, int] | None = None,
    ) -> s.Endpoint:
        """Set the traffic shares at once (whole percents summing to 100; deployments left out
        get 0) and, when given, the mirror (``{"green": 10}``; ``{}`` stops mirroring)."""
        data = body(
            s.TrafficSet,
            traffic=dict(shares),
            mirror=None if mirror is None else dict(mirror),
        )
        found = self._scope.request("PUT", "endpoints", name, "traffic", json=data)
        return s.Endpoint.model_validate(found)

    def invoke(
        self,
        name: str,
        data: Any,
        *,
        deployment: str | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """Score ``data`` (rows, records, columns, a DataFrame or an array) on the endpoint.

        Args:
            name: the endpoint.
            data: the request (see :func:`payload`).
            deployment: send it to this deployment, whatever the traffic says.
            key: the endpoint key (default: fetched with :meth:`keys`, which needs the
                contributor role; scoring clients should hold the key instead).

        Returns:
            The answer: ``predictions``, ``probabilities`` (classifiers), ``deployment``,
            ``model`` and ``model_version``.
        """
        if key is None:
            try:
                key = self.keys(name).primary
            except PermissionDenied:
                key = None
        headers = {
            "Content-Type": "application/json",
            "X-Trainyard-Workspace": self._scope.workspace,
        }
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if deployment:
            headers["X-Trainyard-Deployment"] = deployment
        transport = self._scope.transport
        url = f"{transport.uri}/endpoints/{quote(name, safe='')}/score"
        answer = transport.request(
            "POST", url, content=orjson.dumps(payload(data), option=_DUMP), headers=headers
        )
        return answer  # type: ignore[no-any-return]
