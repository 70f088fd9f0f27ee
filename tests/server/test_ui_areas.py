"""The studio's jobs, models and endpoints pages over HTTP: sign-in, readers, workspaces, helpers.

What the pages show is clicked through in Chromium in ``tests/ui/test_*_pages.py``; here: the
same authorisation as the other pages, a reader never sees an endpoint's keys, other workspaces
under ``/ui/w/...``, the log-tail data route, and the pure helpers.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server.helpers import assert_error, unique
from tests.server.test_endpoints import endpoint, register
from tests.serving.models import iris_classifier
from tests.support import RunningServer, start_server
from trainyard.core.jobs import JobStatus
from trainyard.core.serving import AuthMode
from trainyard.jobs.service import LogChunk
from trainyard.server.routers.ui_endpoints import curl_example, traffic_text
from trainyard.server.routers.ui_jobs import tail_text
from trainyard.server.routers.ui_models import parity_summary

PAGES = ("/ui/jobs", "/ui/models", "/ui/endpoints")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A loopback server with ``TRAINYARD_AUTH=required``."""
    srv = start_server(tmp_path_factory.mktemp("ui-areas-auth"), {"TRAINYARD_AUTH": "required"})
    try:
        yield srv
    finally:
        srv.stop()


def test_a_reader_sees_the_pages_but_never_an_endpoints_keys(auth_server: RunningServer) -> None:
    owner = {"Authorization": f"Bearer {(auth_server.home / 'admin.token').read_text().strip()}"}
    with httpx.Client(base_url=auth_server.api, headers=owner, timeout=60) as api:
        model = register(api, iris_classifier())
        name = endpoint(api, auth="key", blue=f"{model}:1")
        keys = api.get(f"/endpoints/{name}/keys").json()
        made = httpx.post(
            f"{auth_server.url}/api/v1/tokens",
            json={"name": "reader", "roles": {"default": "reader"}},
            headers=owner,
        )
        reader = made.json()["secret"]
    with httpx.Client(base_url=auth_server.url, timeout=60) as browser:
        for path in (*PAGES, f"/ui/endpoints/{name}", f"/ui/models/{model}"):
            resp = browser.get(path)
            assert resp.status_code == 303 and resp.headers["location"].startswith("/ui/login")
        browser.cookies.set("trainyard_token", reader)
        for path in (*PAGES, f"/ui/endpoints/{name}", f"/ui/models/{model}"):
            resp = browser.get(path)
            assert resp.status_code == 200, resp.text[:500]
            assert keys["primary"] not in resp.text and keys["secondary"] not in resp.text
        assert f"/endpoints/{name}/score" in browser.get(f"/ui/endpoints/{name}").text
        # the keys themselves stay for contributors
        assert browser.get(f"/api/v1/workspaces/default/endpoints/{name}/keys").status_code == 403
        assert_error(
            browser.get("/ui/api/workspaces/default/jobs/no-such-job/log-tail"), 404, "NOT_FOUND"
        )


def test_other_workspaces_have_these_pages_under_w(root: httpx.Client) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    for path in PAGES:
        resp = root.get(f"/ui/w/{ws}{path.removeprefix('/ui')}")
        assert resp.status_code == 200
        assert f'href="/ui/w/{ws}/jobs"' in resp.text  # the navigation stays in the workspace
    assert root.get(f"/ui/w/{ws}/models/nope").status_code == 404


def test_tail_text_keeps_the_last_lines_and_drops_a_cut_one() -> None:
    data = "".join(f"line {i}\n" for i in range(10)).encode()
    whole = LogChunk(data, 0, len(data), True, JobStatus.COMPLETED)
    assert tail_text(whole, 3) == "line 7\nline 8\nline 9\n"
    cut = LogChunk(b"ne 8\nline 9\n", 60, 72, True, JobStatus.COMPLETED)
    assert tail_text(cut) == "line 9\n"
    assert tail_text(LogChunk(b"", 0, 0, False, JobStatus.RUNNING)) == ""


def test_parity_traffic_and_curl_helpers() -> None:
    passed = {"passed": True, "rows": 500, "max_abs_diff": 1.2e-7}
    assert parity_summary(passed, False) == "passed on 500 rows (max abs diff 1.2e-07)"
    failed = {"passed": False, "rows": 10, "max_abs_diff": 0.5, "label_mismatches": 2}
    assert (
        parity_summary(failed, True)
        == "failed on 10 rows (max abs diff 0.5), 2 mismatches · forced"
    )
    assert parity_summary(None, False) == ""
    assert traffic_text({"green": 10, "blue": 90}) == "blue 90% · green 10%"
    assert traffic_text({}) == ""
    curl = curl_example("http://h:1/endpoints/e/score", AuthMode.KEY, [0.0, 0.0])
    assert "Bearer <your-endpoint-key>" in curl and """'{"inputs": [[0.0, 0.0]]}'""" in curl
    assert "Authorization" not in curl_example("http://h/score", AuthMode.NONE, [0.0])
