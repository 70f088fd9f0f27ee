"""A deployment is replaced under concurrent load without one failed request.

Four client threads (each with one keep-alive connection on 127.0.0.1) score continuously
while the main thread creates a new deployment, moves the traffic 0 -> 10 -> 100 percent to
it, and deletes the old one. Every answer must be a 200 whose prediction matches the deployment
that says it answered (blue doubles, green triples), and requests made entirely between two
changes must go where the traffic said.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.e2e.scoring_load import ScoringLoad
from tests.server.test_models import upload
from tests.serving.models import scale_model
from tests.support import RunningServer

CLIENTS = 4
ROW = {"inputs": [[1.0, 2.0, 3.0]]}
EXPECTED = {"blue": [[2.0, 4.0, 6.0]], "green": [[3.0, 6.0, 9.0]]}


def test_swap_under_load_fails_no_request(sqlite_server: RunningServer) -> None:
    srv = sqlite_server
    api = httpx.Client(base_url=srv.api, timeout=60)
    api.post("/models", json={"name": "m"})
    for version, scale in ((1, 2.0), (2, 3.0)):
        assert upload(api, "m", version, scale_model(scale)).status_code == 201
    api.post("/endpoints", json={"name": "live"})
    key = api.get("/endpoints/live/keys").json()["primary"]
    assert api.post("/endpoints/live/deployments", json={"name": "blue", "model": "m:1"}).is_success

    def check(doc: dict[str, Any]) -> tuple[str, bool]:
        return doc["deployment"], doc["predictions"] == EXPECTED[doc["deployment"]]

    with ScoringLoad(srv.url, "live", key, ROW, check, first="blue only", clients=CLIENTS) as load:
        time.sleep(0.5)
        load.phase("creating green")
        created = api.post("/endpoints/live/deployments", json={"name": "green", "model": "m:2"})
        assert created.status_code == 201, created.text
        load.phase("green at 0%")
        time.sleep(0.4)
        for share in (10, 100):
            load.phase(f"moving to {share}%")
            resp = api.put(
                "/endpoints/live/traffic", json={"traffic": {"blue": 100 - share, "green": share}}
            )
            assert resp.status_code == 200, resp.text
            load.phase(f"green at {share}%")
            time.sleep(0.6)
        load.phase("deleting blue")
        assert api.delete("/endpoints/live/deployments/blue").status_code == 204
        load.phase("blue deleted")
        time.sleep(0.5)
    answered = load.answered
    assert not load.failures, load.failures[:10]
    assert answered["blue only: blue"] > 0 and answered["green at 0%: green"] == 0
    assert answered["green at 10%: green"] > 0 and answered["green at 10%: blue"] > 0
    assert answered["blue deleted: blue"] == 0 and answered["blue deleted: green"] > 0
    assert "deployment default/live/blue (m:1) drained and closed" in srv.log()
