"""A deployment is updated, then rolled back, under concurrent load without one failed request.

Four client threads (each with one keep-alive connection on 127.0.0.1) score continuously while
the main thread updates the deployment from version 1 (doubles) to version 2 (triples) and rolls
it back. Every answer must be a 200 whose prediction matches the model version that says it
answered, and requests made entirely after a change returned must be answered by its version.
Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.scoring_load import ScoringLoad
from tests.server.helpers import unique
from tests.server.test_models import upload
from tests.serving.models import scale_model
from tests.support import RunningServer

CLIENTS = 4
ROW = {"inputs": [[1.0, 2.0, 3.0]]}
EXPECTED = {1: [[2.0, 4.0, 6.0]], 2: [[3.0, 6.0, 9.0]]}


def test_rollback_under_load_fails_no_request(server: RunningServer) -> None:
    api = httpx.Client(base_url=server.api, timeout=60)
    model, ep = unique("m"), unique("live")
    api.post("/models", json={"name": model})
    for version, scale in ((1, 2.0), (2, 3.0)):
        assert upload(api, model, version, scale_model(scale)).status_code == 201
    api.post("/endpoints", json={"name": ep})
    key = api.get(f"/endpoints/{ep}/keys").json()["primary"]
    blue = {"name": "blue", "model": f"{model}:1"}
    assert api.post(f"/endpoints/{ep}/deployments", json=blue).is_success

    def check(doc: dict[str, Any]) -> tuple[str, bool]:
        version = doc["model_version"]
        return f"v{version}", doc["predictions"] == EXPECTED[version]

    with ScoringLoad(server.url, ep, key, ROW, check, first="v1", clients=CLIENTS) as load:
        time.sleep(0.5)
        load.phase("updating")
        resp = api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}:2"})
        assert resp.status_code == 200, resp.text
        load.phase("v2")
        time.sleep(0.6)
        load.phase("rolling back")
        resp = api.post(f"/endpoints/{ep}/deployments/blue/rollback")
        assert resp.status_code == 200 and resp.json()["model_version"] == 1, resp.text
        load.phase("rolled back")
        time.sleep(0.6)
    api.close()
    answered = load.answered
    assert not load.failures, load.failures[:10]
    assert answered["v1: v1"] > 0 and answered["v1: v2"] == 0
    assert answered["v2: v2"] > 0 and answered["v2: v1"] == 0
    assert answered["rolled back: v1"] > 0 and answered["rolled back: v2"] == 0
