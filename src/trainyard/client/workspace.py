"""The SDK's entry point: connect to a server and a workspace, then reach experiments and runs.

Example::

    import trainyard

    with trainyard.connect("http://127.0.0.1:8765") as ws:
        exp = ws.experiment("churn")          # get or create
        with exp.start_run() as run:
            run.log("rmse", 0.42)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import orjson

from trainyard import schemas
from trainyard.client._scope import Scope, body, iter_pages
from trainyard.client._transport import DEFAULT_URI, RetryPolicy, Transport
from trainyard.client.assets import CodeAssets, Computes, DataAssets, Datastores, Environments
from trainyard.client.batcher import BatcherOptions
from trainyard.client.endpoints import Endpoints
from trainyard.client.experiment import Experiment
from trainyard.client.jobs import Jobs
from trainyard.client.models import Models
from trainyard.client.run import Run
from trainyard.client.tokens import Tokens
from trainyard.core.limits import check_workspace_name
from trainyard.errors import AlreadyExists, InvalidArgument, NotFound, TrainyardError

logger = logging.getLogger("trainyard")

DEFAULT_WORKSPACE = "default"


class Workspace:
    """A connection to one workspace of a Trainyard server.

    Args:
        uri: the server (default: ``$TRAINYARD_URI``, else ``http://127.0.0.1:8765``).
        workspace: the workspace (default: ``$TRAINYARD_WORKSPACE``, else ``default``).
        token: a bearer token (default: ``$TRAINYARD_TOKEN``, else none).
        transport: an ``httpx`` transport to use instead of the network (tests).
        timeout: the HTTP timeout in seconds.
        retry: how ordinary requests are retried.
        batcher: queue bound, batch size and retry policy of the metric batchers.

    No request is made until one is needed. Close it (or use ``with``) to free connections.
    """

    def __init__(
        self,
        uri: str | None = None,
        workspace: str | None = None,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        batcher: BatcherOptions | None = None,
    ) -> None:
        uri = uri or os.environ.get("TRAINYARD_URI") or DEFAULT_URI
        name = workspace or os.environ.get("TRAINYARD_WORKSPACE") or DEFAULT_WORKSPACE
        token = token or os.environ.get("TRAINYARD_TOKEN") or None
        http = Transport(uri, token, timeout=timeout, transport=transport, retry=retry)
        self._scope = Scope(http, check_workspace_name(name), batcher or BatcherOptions())

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] = "config.json", **kwargs: Any) -> Workspace:
        """Connect with the settings of a JSON file ``{"uri", "workspace", "token"}``.

        Args:
            path: the file; keys it lacks fall back to the environment, then the defaults.
            **kwargs: passed to :class:`Workspace` (``transport``, ``timeout``, ...).

        Raises:
            InvalidArgument: the file is missing, unreadable or not a JSON object.
        """
        file = Path(path)
        try:
            config = orjson.loads(file.read_bytes())
        except FileNotFoundError:
            raise InvalidArgument(
                f"config file {str(file.absolute())!r} not found: create it with "
                '{"uri": "http://127.0.0.1:8765", "workspace": "default"} '
                "or call trainyard.connect(uri=...)"
            ) from None
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InvalidArgument(f"cannot read config file {str(file)!r}: {exc}") from exc
        if not isinstance(config, dict):
            raise InvalidArgument(f"config file {str(file)!r} must hold a JSON object")
        return cls(config.get("uri"), config.get("workspace"), config.get("token"), **kwargs)

    @property
    def name(self) -> str:
        """The workspace's name."""
        return self._scope.workspace

    @property
    def uri(self) -> str:
        """The server's address."""
        return self._scope.transport.uri

    def __repr__(self) -> str:
        return f"Workspace(uri={self.uri!r}, workspace={self.name!r})"

    def experiment(self, name: str, tags: dict[str, str] | None = None) -> Experiment:
        """The experiment called ``name``, created (with ``tags``) if it does not exist yet."""
        try:
            return self.get_experiment(name)
        except NotFound:
            pass
        payload = body(schemas.ExperimentCreate, name=name, tags=tags or {})
        try:
            data = self._scope.request("POST", "experiments", json=payload)
        except AlreadyExists:  # created by someone else meanwhile
            return self.get_experiment(name)
        return Experiment(self._scope, schemas.Experiment.model_validate(data))

    def get_experiment(self, name: str) -> Experiment:
        """The experiment called ``name``.

        Raises:
            trainyard.errors.NotFound: there is none.
        """
        data = self._scope.request("GET", "experiments", "by-name", params={"name": name})
        return Experiment(self._scope, schemas.Experiment.model_validate(data))

    def experiments(
        self,
        name_contains: str | None = None,
        include_deleted: bool = False,
        max_results_per_page: int = 100,
    ) -> Iterator[Experiment]:
        """Every experiment of the workspace, page after page."""

        def page(token: str | None) -> tuple[list[Experiment], str | None]:
            params: dict[str, Any] = {"max_results": max_results_per_page}
            if name_contains:
                params["name_contains"] = name_contains
            if include_deleted:
                params["include_deleted"] = "true"
            if token:
                params["page_token"] = token
            found = schemas.ExperimentList.model_validate(
                self._scope.request("GET", "experiments", params=params)
            )
            return [Experiment(self._scope, e) for e in found.experiments], found.next_page_token

        return iter_pages(page)

    @property
    def jobs(self) -> Jobs:
        """Command jobs: ``ws.jobs.create(command=..., code="./src", ...)``, ``get``, ``list``."""
        return Jobs(self._scope, self.code, self.data)

    @property
    def environments(self) -> Environments:
        """Environment versions (a Python version and pip requirements)."""
        return Environments(self._scope)

    @property
    def data(self) -> DataAssets:
        """Data asset versions (files, folders, tables)."""
        return DataAssets(self._scope)

    @property
    def code(self) -> CodeAssets:
        """Code snapshots (content-hashed folders)."""
        return CodeAssets(self._scope)

    @property
    def computes(self) -> Computes:
        """Where jobs run (``local``, Ray clusters)."""
        return Computes(self._scope)

    @property
    def datastores(self) -> Datastores:
        """Datastores: ``default`` (the artifact store) and registered fsspec URLs."""
        return Datastores(self._scope)

    @property
    def models(self) -> Models:
        """The model registry: ``register``, ``get("name@alias")``, ``set_alias``, ``list``."""
        return Models(self._scope)

    @property
    def endpoints(self) -> Endpoints:
        """Online endpoints: ``create``, ``deployments.create``, ``traffic``, ``invoke``."""
        return Endpoints(self._scope)

    @property
    def tokens(self) -> Tokens:
        """Token administration (needs an owner token for every workspace)."""
        return Tokens(self._scope.transport)

    def get_run(self, run_id: str) -> Run:
        """The run with id ``run_id``.

        Raises:
            trainyard.errors.NotFound: there is none in this workspace.
        """
        return self._attach(run_id, owns_status=True)

    def _attach(self, run_id: str, owns_status: bool) -> Run:
        data = self._scope.request("GET", "runs", run_id)
        return Run(self._scope, schemas.Run.model_validate(data), owns_status=owns_status)

    def close(self) -> None:
        """Send the metrics still queued by this workspace's runs, then close the connections.

        Metric values that cannot be stored are logged (they were raised, or are, by the run).
        """
        for batcher in list(self._scope.batchers):
            try:
                batcher.close()
            except TrainyardError as exc:
                logger.error("trainyard: %s", exc)
        self._scope.transport.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def connect(
    uri: str | None = None,
    workspace: str | None = None,
    token: str | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    **kwargs: Any,
) -> Workspace:
    """Connect to a Trainyard server and one of its workspaces.

    Args:
        uri: the server (default: ``$TRAINYARD_URI``, else ``http://127.0.0.1:8765``).
        workspace: the workspace (default: ``$TRAINYARD_WORKSPACE``, else ``default``).
        token: a bearer token (default: ``$TRAINYARD_TOKEN``, else none).
        transport: an ``httpx`` transport to use instead of the network (tests).
        **kwargs: ``timeout``, ``retry`` and ``batcher``, as for :class:`Workspace`.

    Returns:
        The workspace; no request is made yet.

    Example::

        ws = trainyard.connect("http://127.0.0.1:8765", workspace="default")
    """
    return Workspace(uri, workspace, token, transport=transport, **kwargs)
