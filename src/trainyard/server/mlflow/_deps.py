"""Named dependencies of the MLflow routes: the workspace (``X-MLFLOW-WORKSPACE``), the caller's
right to it, the request message and the logged-model service.

The ``mlflow`` client sends ``MLFLOW_TRACKING_TOKEN`` as ``Authorization: Bearer <token>``, so
the native ``Caller`` dependency authenticates it unchanged; the workspace comes from the header
``mlflow.set_workspace()`` (or ``MLFLOW_WORKSPACE``) makes the client send, else ``default``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from trainyard.server.auth import authorize
from trainyard.server.deps import Caller
from trainyard.server.mlflow._wire import Message, read_message
from trainyard.tracking import LoggedModelService

DEFAULT_WORKSPACE = "default"


def _workspace(
    x_mlflow_workspace: Annotated[str | None, Header(alias="X-MLFLOW-WORKSPACE")] = None,
) -> str:
    return (x_mlflow_workspace or "").strip() or DEFAULT_WORKSPACE


def _reader(caller: Caller, workspace: Annotated[str, Depends(_workspace)]) -> str:
    authorize(caller, workspace, "reader")
    return workspace


def _writer(caller: Caller, workspace: Annotated[str, Depends(_workspace)]) -> str:
    authorize(caller, workspace, "contributor")
    return workspace


def _logged_models(request: Request) -> LoggedModelService:
    return request.app.state.logged_models  # type: ignore[no-any-return]


ReadWorkspace = Annotated[str, Depends(_reader)]
WriteWorkspace = Annotated[str, Depends(_writer)]
Msg = Annotated[Message, Depends(read_message)]
LoggedModels = Annotated[LoggedModelService, Depends(_logged_models)]
