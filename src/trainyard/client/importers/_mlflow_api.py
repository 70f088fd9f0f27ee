"""Reading a running MLflow tracking server over its REST API, with httpx (not the mlflow package).

Everything is read page after page: experiments and runs through their search endpoints, metric
histories through ``metrics/get-history`` (25,000 points a page), artifact folders through
``artifacts/list``. Files are streamed from ``/get-artifact``, which serves both proxied
(``mlflow-artifacts:/``) and server-side artifact roots on ``mlflow server`` 2.x and 3.x; the
artifact proxy ``/api/2.0/mlflow-artifacts/artifacts/...`` is the fallback when that route is
missing (a gateway that forwards the API only).

Errors become :mod:`trainyard.errors` classes: an unreachable server is ``Unavailable``, MLflow's
``RESOURCE_DOES_NOT_EXIST`` is ``NotFound``, an answer that is not MLflow's is ``InvalidArgument``
(the ``--from`` address is wrong). Reads are retried on connection errors and 429/5xx answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

import httpx
import orjson

from trainyard.client._transport import RetryPolicy
from trainyard.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    TrainyardError,
    Unauthenticated,
    Unavailable,
)

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
PAGE = 1000
HISTORY_PAGE = 25_000
CHUNK_SIZE = 1 << 20
READ_RETRY = RetryPolicy(
    attempts=5, total=60.0, statuses=frozenset({429, 500, 502, 503, 504}), max_delay=8.0
)
_ERRORS: dict[str, type[TrainyardError]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "INVALID_PARAMETER_VALUE": InvalidArgument,
    "PERMISSION_DENIED": PermissionDenied,
    "UNAUTHENTICATED": Unauthenticated,
}


class MlflowSource:
    """A read-only client of one MLflow tracking server.

    Args:
        uri: the server, e.g. ``http://127.0.0.1:5000``.
        token: a bearer token (what ``MLFLOW_TRACKING_TOKEN`` holds).
        username: with ``password``, HTTP basic auth (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``).
        password: see ``username``.
        timeout: the HTTP timeout in seconds.
        transport: an ``httpx`` transport to use instead of the network.
        retry: how reads are retried.
    """

    def __init__(
        self,
        uri: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = READ_RETRY,
    ) -> None:
        uri = uri.strip().rstrip("/")
        if not uri.startswith(("http://", "https://")):
            raise InvalidArgument(
                f"MLflow server address {uri!r} must start with http:// or https://"
            )
        self.uri = uri
        self.retry = retry
        headers = {"Accept": "application/json", "User-Agent": "trainyard-import"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = httpx.BasicAuth(username, password or "") if username else None
        self._http = httpx.Client(
            base_url=uri, headers=headers, auth=auth, timeout=timeout, transport=transport
        )

    # --- plumbing ------------------------------------------------------------------------

    def _send(self, request: httpx.Request, retry: RetryPolicy | None = None) -> httpx.Response:
        """Send with retries; the answer is open (streamed) and not an error."""
        retry = retry or self.retry
        deadline = time.monotonic() + retry.total
        tries = 0
        while True:
            tries += 1
            pause = retry.delay(tries)
            exhausted = (
                retry.attempts is not None and tries >= retry.attempts
            ) or time.monotonic() + pause > deadline
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if exhausted:
                    raise Unavailable(
                        f"cannot reach the MLflow server at {self.uri} ({exc.__class__.__name__}"
                        f": {exc}); check the --from address and that the server is running"
                    ) from exc
            else:
                if exhausted or response.status_code not in retry.statuses:
                    if response.is_error:
                        response.read()
                        response.close()
                        raise self._error(response)
                    return response
                response.close()
            time.sleep(pause)

    def _error(self, response: httpx.Response) -> TrainyardError:
        where = f"{response.request.method} {response.request.url.path}"
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and "error_code" in data:
            cls = _ERRORS.get(str(data["error_code"]), TrainyardError)
            return cls(f"MLflow server {self.uri}: {data.get('message', '')} ({where})")
        if response.status_code in (401, 403):
            cls = Unauthenticated if response.status_code == 401 else PermissionDenied
            return cls(
                f"MLflow server {self.uri} refused {where} (HTTP {response.status_code}): set "
                "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
            )
        if response.status_code == 404:
            return InvalidArgument(
                f"{self.uri} does not answer MLflow's REST API ({where}: HTTP 404); "
                "is it an MLflow tracking server?"
            )
        return TrainyardError(
            f"MLflow server {self.uri}: HTTP {response.status_code} on {where}: "
            f"{response.text.strip()[:300]}"
        )

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: RetryPolicy | None = None,
    ) -> dict[str, Any]:
        """One request to ``/api/2.0/mlflow/<endpoint>`` (or to ``endpoint`` itself when it starts
        with ``/``); the decoded JSON answer."""
        url = endpoint if endpoint.startswith("/") else f"{API}/{endpoint}"
        request = self._http.build_request(method, url, params=params, json=json)
        response = self._send(request, retry)
        try:
            response.read()
        except httpx.TransportError as exc:
            raise Unavailable(f"MLflow server {self.uri}: {endpoint} broke off: {exc}") from exc
        finally:
            response.close()
        try:
            data = orjson.loads(response.content or b"{}")
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            raise InvalidArgument(
                f"{self.uri} answered {endpoint} with something other than MLflow's JSON: "
                f"{response.text[:200]!r}; is it an MLflow tracking server?"
            )
        return data

    def _pages(
        self, method: str, endpoint: str, field: str, args: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """The items of ``field`` on every page (``args`` as JSON body for POST, else query)."""
        token: str | None = None
        while True:
            page = {**args, **({"page_token": token} if token else {})}
            if method == "POST":
                data = self.call(method, endpoint, json=page)
            else:
                data = self.call(method, endpoint, params=page)
            yield from data.get(field) or []
            token = data.get("next_page_token")
            if not token:
                return

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # --- reads ---------------------------------------------------------------------------

    def check(self) -> None:
        """Fail fast (no retries) when the address is not a reachable MLflow server."""
        self.call(
            "POST", "experiments/search", json={"max_results": 1}, retry=RetryPolicy(attempts=1)
        )

    def experiment_by_name(self, name: str) -> dict[str, Any]:
        """One experiment; ``NotFound`` when the server has none by that name."""
        try:
            found = self.call("GET", "experiments/get-by-name", params={"experiment_name": name})
        except NotFound:
            raise NotFound(
                f"the MLflow server {self.uri} has no experiment named {name!r}"
            ) from None
        return dict(found["experiment"])

    def experiments(self) -> Iterator[dict[str, Any]]:
        """Every experiment, deleted ones included (``lifecycle_stage`` tells them apart)."""
        args = {"max_results": PAGE, "view_type": "ALL"}
        return self._pages("POST", "experiments/search", "experiments", args)

    def runs(self, experiment_id: str, include_deleted: bool) -> Iterator[dict[str, Any]]:
        """Every run of an experiment, with params, tags and the latest value of each metric."""
        view = "ALL" if include_deleted else "ACTIVE_ONLY"
        args = {"experiment_ids": [experiment_id], "max_results": PAGE, "run_view_type": view}
        return self._pages("POST", "runs/search", "runs", args)

    def metric_history(self, run_id: str, key: str) -> Iterator[dict[str, Any]]:
        """Every point of one metric's history."""
        args = {"run_id": run_id, "metric_key": key, "max_results": HISTORY_PAGE}
        return self._pages("GET", "metrics/get-history", "metrics", args)

    def registered_models(self) -> Iterator[dict[str, Any]]:
        """Every registered model (prompts, which MLflow 3 stores as models, included)."""
        return self._pages(
            "GET", "registered-models/search", "registered_models", {"max_results": PAGE}
        )

    def model_versions(self, name: str) -> Iterator[dict[str, Any]]:
        """Every version of one registered model."""
        quoted = name.replace("\\", "\\\\").replace("'", "\\'")
        args = {"filter": f"name='{quoted}'", "max_results": PAGE}
        return self._pages("GET", "model-versions/search", "model_versions", args)

    def files(self, run_id: str) -> Iterator[tuple[str, int | None]]:
        """Every artifact file of a run as ``(path relative to the run's root, size)``."""
        folders = [""]
        while folders:
            listing = {"run_id": run_id, "path": folders.pop()}
            for entry in self._pages("GET", "artifacts/list", "files", listing):
                if entry.get("is_dir"):
                    folders.append(entry["path"])
                else:
                    yield entry["path"], entry.get("file_size")

    def proxy_files(self, root: str) -> Iterator[tuple[str, int | None]]:
        """Every file below ``root`` on the artifact proxy, as ``(path relative to root, size)``."""
        folders = [""]
        while folders:
            folder = folders.pop()
            listing = {"path": f"{root}/{folder}".strip("/")}
            for entry in self._pages("GET", PROXY, "files", listing):
                rel = f"{folder}/{entry['path']}".strip("/")
                if entry.get("is_dir"):
                    folders.append(rel)
                else:
                    yield rel, entry.get("file_size")

    def download(self, run: Mapping[str, Any] | str, path: str) -> Iterator[bytes]:
        """The bytes of one artifact file, in chunks of 1 MiB: of a run (a ``runs/search``
        entry), or, when ``run`` is a proxy root (see :meth:`proxy_files`), of that folder."""
        if isinstance(run, str):
            response = self._send(self._http.build_request("GET", f"{PROXY}/{run}/{path}"))
        else:
            response = self._open_run_file(run["info"], path)
        try:
            yield from response.iter_bytes(CHUNK_SIZE)
        except httpx.TransportError as exc:
            raise Unavailable(
                f"MLflow server {self.uri}: the download of {path!r} broke off: {exc}"
            ) from exc
        finally:
            response.close()

    def _open_run_file(self, info: Mapping[str, Any], path: str) -> httpx.Response:
        params = {"run_id": info["run_id"], "path": path}
        try:
            return self._send(self._http.build_request("GET", "/get-artifact", params=params))
        except InvalidArgument:  # no /get-artifact route: try the artifact proxy
            proxied = str(info.get("artifact_uri", ""))
            if not proxied.startswith("mlflow-artifacts:"):
                raise
            url = f"{PROXY}/{proxy_root(proxied)}/{path}"
            return self._send(self._http.build_request("GET", url))


def proxy_root(uri: str) -> str:
    """The proxy path of an ``mlflow-artifacts:`` URI (``mlflow-artifacts:/1/<run>/artifacts``
    or ``mlflow-artifacts://host:port/1/...`` both give ``1/<run>/artifacts``)."""
    return urlparse(uri).path.strip("/")
