"""Deployment updates: what changes the model a deployment serves, and what does not."""

from __future__ import annotations

from tests.serving.conftest import WS, Stack
from tests.serving.models import scale_model
from trainyard.core.serving import AuthMode

ROW = [[1.0, 2.0, 3.0]]


def test_changing_replicas_keeps_the_version_an_alias_named(stack: Stack) -> None:
    """An alias that moved since the deployment was made does not move it when only its
    replica count changes: the docs promise no model change behind the user's back."""
    stack.register("m", scale_model(2.0))
    stack.register("m", scale_model(3.0))
    stack.registry.set_alias(WS, "m", "champion", 1)
    stack.service.create_endpoint(WS, "ep", AuthMode.NONE)
    stack.service.create_deployment(WS, "ep", "blue", "m@champion")
    stack.registry.set_alias(WS, "m", "champion", 2)
    updated = stack.service.update_deployment(WS, "ep", "blue", replicas=2)
    assert (updated.model_version, updated.replicas, updated.model_ref) == (1, 2, "m@champion")
    assert stack.score({"inputs": ROW})["predictions"] == [[2.0, 4.0, 6.0]]
    assert [e.model_version for e in stack.service.deployment_history(WS, "ep", "blue").items] == [
        1
    ]
    moved = stack.service.update_deployment(WS, "ep", "blue", model="m@champion")
    assert moved.model_version == 2  # naming the model again follows the alias
    assert stack.score({"inputs": ROW})["predictions"] == [[3.0, 6.0, 9.0]]
