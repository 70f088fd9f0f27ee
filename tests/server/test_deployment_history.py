"""A deployment's model history and its rollback, against a real server on SQLite and PostgreSQL,
with real ONNX Runtime sessions (each version of a model scales its input differently)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error
from tests.server.test_endpoints import endpoint, register, score
from tests.serving.models import scale_model
from tests.support import RunningServer

ROW = {"inputs": [[1.0, 1.0, 1.0]]}


def versions(api: httpx.Client, *scales: float) -> str:
    """A new model whose version i (from 1) scales by ``scales[i - 1]``; its name."""
    name = register(api, scale_model(scales[0]))
    for scale in scales[1:]:
        register(api, scale_model(scale), name)
    return name


def history(api: httpx.Client, ep: str, d: str = "blue") -> list[tuple[int, str, str]]:
    resp = api.get(f"/endpoints/{ep}/deployments/{d}/history")
    assert resp.status_code == 200, resp.text
    return [(e["model_version"], e["reason"], e["model_ref"]) for e in resp.json()["history"]]


def scaled_by(root: httpx.Client, ep: str) -> float:
    resp = score(root, ep, ROW)
    assert resp.status_code == 200, resp.text
    value: float = resp.json()["predictions"][0][0]
    return value


def rollback(api: httpx.Client, ep: str, d: str = "blue", **body: Any) -> httpx.Response:
    return api.post(f"/endpoints/{ep}/deployments/{d}/rollback", json=body or None)


def test_history_records_every_version_change_and_rollback_restores_the_previous(
    api: httpx.Client, root: httpx.Client
) -> None:
    model = versions(api, 2.0, 3.0)
    ep = endpoint(api, blue=f"{model}:1")
    assert scaled_by(root, ep) == 2.0
    upd = api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}@latest"})
    assert upd.status_code == 200 and upd.json()["model_version"] == 2
    assert scaled_by(root, ep) == 3.0
    api.patch(f"/endpoints/{ep}/deployments/blue", json={"replicas": 2})  # same version
    assert history(api, ep) == [(2, "updated", f"{model}@latest"), (1, "created", f"{model}:1")]

    back = rollback(api, ep)
    assert back.status_code == 200, back.text
    doc = back.json()
    assert (doc["model_version"], doc["model_ref"], doc["replicas"]) == (1, f"{model}:1", 2)
    answer = score(root, ep, ROW)
    assert answer.headers["x-trainyard-model-version"] == f"{model}:1"
    assert answer.json()["predictions"] == [[2.0, 2.0, 2.0]]  # the old model answers again
    assert api.get(f"/endpoints/{ep}").json()["traffic"] == {"blue": 100}
    assert history(api, ep)[0] == (1, "rolled back", f"{model}:1")

    again = rollback(api, ep)  # a rollback can itself be undone
    assert again.status_code == 200 and again.json()["model_version"] == 2
    assert scaled_by(root, ep) == 3.0
    full = api.get(f"/endpoints/{ep}/deployments/blue/history").json()
    assert [(e["model_version"], e["reason"]) for e in full["history"]] == [
        (2, "rolled back"),
        (1, "rolled back"),
        (2, "updated"),
        (1, "created"),
    ]
    assert full["next_page_token"] is None
    assert full["history"][0]["at"] >= full["history"][-1]["at"] > 0
    assert full["history"][0]["model_id"] == again.json()["model_id"]
    first = api.get(f"/endpoints/{ep}/deployments/blue/history", params={"max_results": 3}).json()
    assert len(first["history"]) == 3 and first["next_page_token"]
    rest = api.get(
        f"/endpoints/{ep}/deployments/blue/history",
        params={"max_results": 3, "page_token": first["next_page_token"]},
    ).json()
    assert rest["history"] == full["history"][3:] and rest["next_page_token"] is None


def test_rollback_to_a_given_version(api: httpx.Client, root: httpx.Client) -> None:
    model = versions(api, 2.0, 3.0, 4.0)
    ep = endpoint(api, blue=f"{model}:1")
    for v in (2, 3):
        api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}:{v}"})
    assert scaled_by(root, ep) == 4.0
    assert rollback(api, ep).json()["model_version"] == 2  # the default: the one before
    back = rollback(api, ep, to_version=1)
    assert back.status_code == 200 and back.json()["model_version"] == 1, back.text
    assert scaled_by(root, ep) == 2.0
    assert rollback(api, ep, to_version=3).json()["model_version"] == 3
    assert [v for v, _, _ in history(api, ep)] == [3, 1, 2, 3, 2, 1]


def test_rollback_errors_change_nothing(api: httpx.Client, root: httpx.Client) -> None:
    model = versions(api, 2.0, 3.0)
    ep = endpoint(api, blue=f"{model}:1")
    assert_error(rollback(api, ep), 409, "CONFLICT", contains="no earlier model version")
    api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}:2"})
    before = (history(api, ep), api.get(f"/endpoints/{ep}").json())
    assert_error(rollback(api, ep, to_version=2), 409, "CONFLICT", contains=f"{model}:2 already")
    assert_error(
        rollback(api, ep, to_version=7), 404, "NOT_FOUND", contains="never served model version 7"
    )
    assert_error(rollback(api, ep, to_version=0), 400, "INVALID_ARGUMENT")
    assert_error(rollback(api, ep, colour=1), 400, "INVALID_ARGUMENT")
    assert_error(rollback(api, ep, "nope"), 404, "NOT_FOUND", contains="nope")
    assert_error(rollback(api, "nope"), 404, "NOT_FOUND", contains="nope")
    for path in (f"/endpoints/{ep}/deployments/nope", "/endpoints/nope/deployments/blue"):
        assert_error(api.get(f"{path}/history"), 404, "NOT_FOUND", contains="nope")
    assert (history(api, ep), api.get(f"/endpoints/{ep}").json()) == before
    assert scaled_by(root, ep) == 3.0


def test_rollback_to_a_version_deleted_from_the_registry(
    api: httpx.Client, root: httpx.Client
) -> None:
    model = versions(api, 2.0, 3.0)
    ep = endpoint(api, blue=f"{model}:1")
    api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}:2"})
    assert api.delete(f"/models/{model}/versions/1").status_code == 204  # no longer served
    before = history(api, ep)
    assert_error(
        rollback(api, ep), 404, "NOT_FOUND", contains=(f"{model}:1", "deleted from the registry")
    )
    got = api.get(f"/endpoints/{ep}/deployments/blue").json()
    assert (got["model_version"], history(api, ep)) == (2, before)
    assert scaled_by(root, ep) == 3.0


def test_history_goes_with_its_deployment(api: httpx.Client) -> None:
    model = versions(api, 2.0, 3.0)
    ep = endpoint(api, blue=f"{model}:1", green=f"{model}:1")
    api.patch(f"/endpoints/{ep}/deployments/green", json={"model": f"{model}:2"})
    assert [v for v, _, _ in history(api, ep, "green")] == [2, 1]
    assert api.delete(f"/endpoints/{ep}/deployments/green").status_code == 204
    api.post(f"/endpoints/{ep}/deployments", json={"name": "green", "model": f"{model}:2"})
    assert history(api, ep, "green") == [(2, "created", f"{model}:2")]
    assert_error(rollback(api, ep, "green"), 409, "CONFLICT")


def test_sdk_rollback_and_history(api: httpx.Client, server: RunningServer) -> None:
    import trainyard
    from trainyard.errors import Conflict, NotFound

    model = versions(api, 2.0, 3.0)
    with trainyard.connect(server.url) as ws:
        ws.endpoints.create("sdk-" + model, auth="none")
        ep = "sdk-" + model
        deployments = ws.endpoints.deployments
        deployments.create(ep, "blue", model=f"{model}:1")
        with pytest.raises(Conflict, match="no earlier model version"):
            deployments.rollback(ep, "blue")
        deployments.update(ep, "blue", model=f"{model}:2")
        back = deployments.rollback(ep, "blue")
        assert (back.model_version, back.model_ref) == (1, f"{model}:1")
        assert ws.endpoints.invoke(ep, ROW)["predictions"] == [[2.0, 2.0, 2.0]]
        assert deployments.rollback(ep, "blue", to_version=2).model_version == 2
        found = deployments.history(ep, "blue")
        assert [(e.model_version, e.reason.value) for e in found] == [
            (2, "rolled back"),
            (1, "rolled back"),
            (2, "updated"),
            (1, "created"),
        ]
        with pytest.raises(NotFound):
            deployments.history(ep, "nope")
