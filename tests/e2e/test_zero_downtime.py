"""A deployment is replaced under concurrent load without one failed request.

Four client threads (each with one keep-alive connection on 127.0.0.1) score continuously
while the main thread creates a new deployment, moves the traffic 0 -> 10 -> 100 percent to
it, and deletes the old one. Every answer must be a 200 whose prediction matches the deployment
that says it answered (blue doubles, green triples), and requests made entirely between two
changes must go where the traffic said.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

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

    stop = threading.Event()
    answered: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    phases: list[str] = ["blue only"]

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=srv.url, headers=headers, timeout=10) as http:
            while not stop.is_set():
                begun = len(phases)
                try:
                    resp = http.post("/endpoints/live/score", json=ROW)
                    doc = resp.json()
                    ok = (
                        resp.status_code == 200
                        and doc["predictions"] == EXPECTED[doc["deployment"]]
                    )
                    problem = None if ok else f"{resp.status_code} {resp.text[:200]}"
                except Exception as exc:  # a dropped connection is a failure too
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    phase = phases[-1] if len(phases) == begun else "during a change"
                    if problem is None:
                        answered[f"{phase}: {doc['deployment']}"] += 1
                    else:
                        failures.append(f"{phases[-1]}: {problem}")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        phases.append("creating green")
        created = api.post("/endpoints/live/deployments", json={"name": "green", "model": "m:2"})
        assert created.status_code == 201, created.text
        phases.append("green at 0%")
        time.sleep(0.4)
        for share in (10, 100):
            phases.append(f"moving to {share}%")
            resp = api.put(
                "/endpoints/live/traffic", json={"traffic": {"blue": 100 - share, "green": share}}
            )
            assert resp.status_code == 200, resp.text
            phases.append(f"green at {share}%")
            time.sleep(0.6)
        phases.append("deleting blue")
        assert api.delete("/endpoints/live/deployments/blue").status_code == 204
        phases.append("blue deleted")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert not failures, failures[:10]
    assert answered["blue only: blue"] > 0 and answered["green at 0%: green"] == 0
    assert answered["green at 10%: green"] > 0 and answered["green at 10%: blue"] > 0
    assert answered["blue deleted: blue"] == 0 and answered["blue deleted: green"] > 0
    assert "deployment default/live/blue (m:1) drained and closed" in srv.log()
