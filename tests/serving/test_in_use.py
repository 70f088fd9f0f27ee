"""The delete guard against a deployment being created at the same moment: a version is never
both deleted and recorded as served."""

from __future__ import annotations

import threading
import time

import pytest

from tests.serving.conftest import WS, Stack
from tests.serving.models import scale_model
from trainyard.core.serving import AuthMode
from trainyard.errors import Conflict, NotFound, TrainyardError
from trainyard.serving.in_use import ServedVersionsGuard


def test_a_deletion_racing_a_new_deployment_of_its_version_wins_alone(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.register("m", scale_model(2.0))
    stack.registry.add_delete_guard(ServedVersionsGuard(stack.service.store))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    guarded, deploying = threading.Event(), threading.Event()
    delete_rows = stack.registry.store.delete_version

    def slow_delete(workspace: str, name: str, version: int) -> None:
        guarded.set()  # the guard found no deployment of m:1
        deploying.wait(5)
        time.sleep(0.3)  # the deployment is created meanwhile: it loads m:1, then records it
        delete_rows(workspace, name, version)

    monkeypatch.setattr(stack.registry.store, "delete_version", slow_delete)
    outcome: list[object] = []

    def deploy() -> None:
        guarded.wait(5)
        deploying.set()
        try:
            outcome.append(stack.service.create_deployment(WS, "ep", "blue", "m:1"))
        except TrainyardError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=deploy)
    thread.start()
    stack.registry.delete_version(WS, "m", 1)
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFound), outcome
    assert stack.service.store.get_endpoint(WS, "ep").deployments == {}
    assert stack.host.table.route(WS, "ep").targets == {}


def test_a_served_version_is_refused_and_kept(stack: Stack) -> None:
    stack.register("m", scale_model(2.0))
    stack.registry.add_delete_guard(ServedVersionsGuard(stack.service.store))
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m:1")
    with pytest.raises(Conflict, match="m:1 is served by deployment 'blue' of endpoint 'ep'"):
        stack.registry.delete_version(WS, "m", 1)
    assert stack.registry.get_version(WS, "m", 1).version == 1
    assert stack.score({"inputs": [[1.0, 2.0, 3.0]]})["predictions"] == [[2.0, 4.0, 6.0]]
