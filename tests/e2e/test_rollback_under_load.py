"""A deployment is updated, then rolled back, under concurrent load without one failed request.

Four client threads (each with one keep-alive connection on 127.0.0.1) score continuously while
the main thread updates the deployment from version 1 (doubles) to version 2 (triples) and rolls
it back. Every answer must be a 200 whose prediction matches the model version that says it
answered, and requests made entirely after a change returned must be answered by its version.
Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

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

    stop = threading.Event()
    answered: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    phases: list[str] = ["v1"]

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            while not stop.is_set():
                begun = len(phases)
                try:
                    resp = http.post(f"/endpoints/{ep}/score", json=ROW)
                    doc = resp.json()
                    ok = (
                        resp.status_code == 200
                        and doc["predictions"] == EXPECTED[doc["model_version"]]
                    )
                    problem = None if ok else f"{resp.status_code} {resp.text[:200]}"
                except Exception as exc:  # a dropped connection is a failure too
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    phase = phases[-1] if len(phases) == begun else "during a change"
                    if problem is None:
                        answered[f"{phase}: v{doc['model_version']}"] += 1
                    else:
                        failures.append(f"{phases[-1]}: {problem}")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        phases.append("updating")
        resp = api.patch(f"/endpoints/{ep}/deployments/blue", json={"model": f"{model}:2"})
        assert resp.status_code == 200, resp.text
        phases.append("v2")
        time.sleep(0.6)
        phases.append("rolling back")
        resp = api.post(f"/endpoints/{ep}/deployments/blue/rollback")
        assert resp.status_code == 200 and resp.json()["model_version"] == 1, resp.text
        phases.append("rolled back")
        time.sleep(0.6)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        api.close()
    assert not failures, failures[:10]
    assert answered["v1: v1"] > 0 and answered["v1: v2"] == 0
    assert answered["v2: v2"] > 0 and answered["v2: v1"] == 0
    assert answered["rolled back: v1"] > 0 and answered["rolled back: v2"] == 0
