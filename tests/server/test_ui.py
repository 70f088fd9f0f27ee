"""The web studio over HTTP, without a browser: pages, errors, the data routes, sign-in.

Browser tests (clicks, charts, downloads, the live log) are in ``tests/ui/``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from markupsafe import escape

from tests.server.helpers import assert_error, create_experiment, create_run, unique
from tests.support import RunningServer, start_server

# ------------------------------------------------------------------------------ helpers


class _Tables(HTMLParser):
    """The text of each cell of each ``<table>``, by row; and every link's ``href``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id") or a.get("aria-label") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        elif tag == "script" and a.get("src"):
            self.scripts.append(str(a["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def page(root: httpx.Client, path: str, status: int = 200, /, **params: Any) -> str:
    resp = root.get(path, params=params or None)
    assert resp.status_code == status, resp.text[:2000]
    assert resp.headers["content-type"].startswith("text/html")
    return resp.text


def runs_table(html: str) -> tuple[list[str], list[list[str]]]:
    """Header cells and body rows of the runs table (second header row is the columns)."""
    rows = parse(html).tables["runs"]
    header = rows[1]
    return header, [r for r in rows[2:] if r]


@pytest.fixture(scope="module")
def ridge(server: RunningServer) -> dict[str, Any]:
    """An experiment of 6 finished runs with alpha, rmse, a loss curve and a model file each."""
    with httpx.Client(base_url=server.api, timeout=60) as api:
        exp = create_experiment(api, unique("ridge"), tags={"team": "ui"})
        runs = []
        for i, alpha in enumerate(["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"]):
            run = create_run(api, exp["experiment_id"], name=f"ridge-{alpha}", tags={"i": str(i)})
            rmse = 60 - abs(3.5 - i) * 2  # best (lowest) at i = 0 and 6: distinct values
            metrics = [{"key": "rmse", "value": rmse + i / 100, "step": 0}]
            metrics += [{"key": "loss", "value": 1 / (s + 1), "step": s} for s in range(50)]
            body = {"metrics": metrics, "params": {"alpha": alpha, "solver": "svd"}}
            assert api.post(f"/runs/{run['run_id']}/log-batch", json=body).status_code == 200
            model = f"model-{alpha}".encode() * 10
            resp = api.put(f"/runs/{run['run_id']}/artifacts/outputs/model.pkl", content=model)
            assert resp.status_code == 201
            assert api.patch(f"/runs/{run['run_id']}", json={"status": "FINISHED"}).is_success
            runs.append({**run, "alpha": alpha, "rmse": rmse + i / 100, "model": model})
    return {"experiment": exp, "runs": runs}


# ------------------------------------------------------------------------------ experiments


def test_root_and_trailing_slash_lead_to_the_studio(root: httpx.Client) -> None:
    resp = root.get("/")
    assert resp.status_code == 307 and resp.headers["location"] == "/ui"


def test_experiments_page_links_each_with_run_count_and_search(
    root: httpx.Client, ridge: dict[str, Any]
) -> None:
    exp = ridge["experiment"]
    html = page(root, "/ui", q=exp["name"][:12])
    parsed = parse(html)
    rows = parsed.tables["Experiments"]
    assert rows[0] == ["Name", "Runs", "Last activity", "Created", "ID"]
    mine = next(r for r in rows[1:] if r and r[0] == exp["name"])
    assert mine[1] == "6" and mine[4] == exp["experiment_id"]
    assert f"/ui/experiments/{exp['experiment_id']}" in parsed.links
    assert "No experiment name contains" in page(root, "/ui", q="no-such-" + unique())


# ------------------------------------------------------------------------------ runs table


def test_runs_page_is_a_table_of_status_duration_params_and_metrics(
    root: httpx.Client, ridge: dict[str, Any]
) -> None:
    html = page(root, f"/ui/experiments/{ridge['experiment']['experiment_id']}")
    header, rows = runs_table(html)
    assert header == ["", "Run", "Status", "Started", "Duration", "alpha", "solver", "loss", "rmse"]
    assert len(rows) == 6
    by_name = {r[1]: r for r in rows}
    assert by_name["ridge-0.3"][2] == "FINISHED"
    assert by_name["ridge-0.3"][5:7] == ["0.3", "svd"]
    assert by_name["ridge-0.3"][7] == "0.02"  # latest loss: 1 / 50
    assert re.fullmatch(r"\d+ ms|\d+\.\d s", by_name["ridge-0.3"][4])


def test_sorting_is_server_side_order_by(root: httpx.Client, ridge: dict[str, Any]) -> None:
    path = f"/ui/experiments/{ridge['experiment']['experiment_id']}"
    expected = sorted(ridge["runs"], key=lambda r: r["rmse"])
    for clause, want in (("metrics.rmse ASC", expected), ("metrics.rmse DESC", expected[::-1])):
        html = page(root, path, order_by=clause)
        _, rows = runs_table(html)
        assert [r[1] for r in rows] == [r["name"] for r in want]
        direction = "ascending" if clause.endswith("ASC") else "descending"
        assert f'data-column="metrics.rmse" aria-sort="{direction}"' in html
    # the header links flip the direction of the sorted column
    html = page(root, path, order_by="metrics.rmse ASC")
    assert "order_by=metrics.rmse+DESC" in html


def test_filter_uses_the_api_grammar(root: httpx.Client, ridge: dict[str, Any]) -> None:
    path = f"/ui/experiments/{ridge['experiment']['experiment_id']}"
    html = page(root, path, filter="params.alpha IN ('0.1', '0.2') and metrics.rmse > 0")
    _, rows = runs_table(html)
    assert sorted(r[1] for r in rows) == ["ridge-0.1", "ridge-0.2"]
    assert "No run matches the filter." in page(root, path, filter="metrics.rmse < 0")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("metrics.rmse <", "ends early"),
        ("metrics.rmse < 'x'", "compared with a number"),
        ("bogus.key = 'x'", "unknown entity"),
    ],
)
def test_a_bad_filter_shows_the_api_message(
    root: httpx.Client, api: httpx.Client, ridge: dict[str, Any], bad: str, message: str
) -> None:
    eid = ridge["experiment"]["experiment_id"]
    resp = api.post("/runs/search", json={"experiment_ids": [eid], "filter": bad})
    api_message = assert_error(resp, 400, "INVALID_ARGUMENT", contains=message)["message"]
    html = page(root, f"/ui/experiments/{eid}", 400, filter=bad)
    shown = re.search(r'<p role="alert" class="alert" id="filter-error">(.*?)</p>', html, re.S)
    assert shown is not None and unescape(shown.group(1)) == api_message
    assert f'value="{escape(bad)}"' in html  # the filter stays in its box, to fix it


def test_paging_with_page_tokens(root: httpx.Client, ridge: dict[str, Any]) -> None:
    path = f"/ui/experiments/{ridge['experiment']['experiment_id']}"
    seen: list[str] = []
    html = page(root, path, order_by="attributes.run_name ASC", max_results=4)
    for _ in range(3):
        _, rows = runs_table(html)
        seen += [r[1] for r in rows]
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        if nxt is None:
            break
        html = page(root, nxt.group(1).replace("&amp;", "&"))
    assert seen == [f"ridge-0.{i}" for i in range(1, 7)]
    assert "Runs 5\N{EN DASH}6" in html
    prev = re.search(r'href="([^"]+)" rel="prev"', html)
    assert prev is not None
    _, rows = runs_table(page(root, prev.group(1).replace("&amp;", "&")))
    assert [r[1] for r in rows] == [f"ridge-0.{i}" for i in range(1, 5)]


def test_the_column_chooser_keeps_only_the_chosen_columns(
    root: httpx.Client, ridge: dict[str, Any]
) -> None:
    path = f"/ui/experiments/{ridge['experiment']['experiment_id']}"
    html = page(root, path, cols="1", col=["metrics.rmse", "attributes.status"])
    header, rows = runs_table(html)
    assert header == ["", "Run", "Status", "rmse"]
    assert all(len(r) == 4 for r in rows)
    # every column stays choosable, and sorting keeps the choice
    assert 'name="col" value="params.alpha"' in html
    assert "cols=1&amp;col=metrics.rmse&amp;col=attributes.status" in html


def test_rows_carry_checkboxes_for_compare(root: httpx.Client, ridge: dict[str, Any]) -> None:
    html = page(root, f"/ui/experiments/{ridge['experiment']['experiment_id']}")
    for run in ridge["runs"]:
        assert f'name="runs" value="{run["run_id"]}" form="compare-form"' in html
    assert 'id="compare-form" method="get" action="/ui/compare"' in html


# ------------------------------------------------------------------------------ run and files


def test_run_page_shows_details_params_tags_metrics_and_files(
    root: httpx.Client, ridge: dict[str, Any]
) -> None:
    run = ridge["runs"][2]
    html = page(root, f"/ui/runs/{run['run_id']}")
    parsed = parse(html)
    assert run["run_id"] in html and ridge["experiment"]["name"] in html
    assert ["alpha", "0.3"] in parsed.tables["Parameters"]
    assert ["i", "2"] in parsed.tables["Tags"]
    metrics = parsed.tables["Latest metric values"]
    assert [r[0] for r in metrics[1:]] == ["loss", "rmse"]
    assert 'data-key="loss"' in html and 'data-key="rmse"' in html
    assert f"/ui/api/workspaces/default/runs/{run['run_id']}/metric-series?key=loss" in html
    assert f"/api/v1/workspaces/default/runs/{run['run_id']}/metric-history?key=loss" in html
    assert 'data-path="outputs"' in html  # the files tree, folders load on demand
    assert 'id="log-panel"' not in html  # finished and no log file: no log panel


def test_unknown_things_are_html_404_pages(root: httpx.Client) -> None:
    for path, fragment in (
        ("/ui/runs/0123456789abcdef0123456789abcdef", "does not exist"),
        ("/ui/experiments/987654321", "does not exist"),
        ("/ui/w/no-such-workspace", "no-such-workspace"),
    ):
        html = page(root, path, 404)
        assert fragment in html and "Not found" in html


def test_a_bad_query_value_is_an_html_400(root: httpx.Client, ridge: dict[str, Any]) -> None:
    eid = ridge["experiment"]["experiment_id"]
    assert "max_results" in page(root, f"/ui/experiments/{eid}", 400, max_results="many")
    assert "choose runs" in page(root, "/ui/compare", 400)


def test_file_page_previews_text_csv_and_images_and_caps_size(
    root: httpx.Client, api: httpx.Client, run: dict[str, Any]
) -> None:
    rid = run["run_id"]
    png = bytes.fromhex("89504e470d0a1a0a") + b"\x00" * 64
    files = {
        "notes/readme.txt": "héllo <b>world</b>\n".encode(),
        "data/table.csv": b"a,b\n1,2\n3,4\n",
        "plots/curve.png": png,
        "model.bin": bytes(range(256)) * 4,
        "big.log": b"x" * (600 * 1024),
    }
    for path, data in files.items():
        assert api.put(f"/runs/{rid}/artifacts/{path}", content=data).status_code == 201
    download = f"/api/v1/workspaces/default/runs/{rid}/artifacts"

    html = page(root, f"/ui/runs/{rid}/files/notes/readme.txt")
    assert "héllo &lt;b&gt;world&lt;/b&gt;" in html  # escaped, never rendered
    assert f'href="{download}/notes/readme.txt" download' in html

    rows = parse(page(root, f"/ui/runs/{rid}/files/data/table.csv")).tables["data/table.csv"]
    assert rows == [["a", "b"], ["1", "2"], ["3", "4"]]

    html = page(root, f"/ui/runs/{rid}/files/plots/curve.png")
    assert f'<img src="{download}/plots/curve.png"' in html

    assert "no preview for" in page(root, f"/ui/runs/{rid}/files/model.bin")

    html = page(root, f"/ui/runs/{rid}/files/big.log")
    assert "Only the beginning is shown" in html
    assert len(html) < 600 * 1024

    resp = root.get(f"/ui/runs/{rid}/files/notes")
    assert resp.status_code == 303 and resp.headers["location"].endswith("?path=notes#files")
    html = page(root, f"/ui/runs/{rid}", path="notes")
    assert "readme.txt" in html and "big.log" not in html
    assert "no file" in page(root, f"/ui/runs/{rid}/files/nope.txt", 404)


# ------------------------------------------------------------------------------ data routes


def _log_many(api: httpx.Client, run_id: str, key: str, values: list[float]) -> None:
    for start in range(0, len(values), 10_000):
        chunk = values[start : start + 10_000]
        body = {
            "metrics": [
                {"key": key, "value": v, "step": start + i, "timestamp": 1_700_000_000_000 + i}
                for i, v in enumerate(chunk)
            ]
        }
        resp = api.post(f"/runs/{run_id}/log-batch", json=body)
        assert resp.status_code == 200, resp.text


def test_metric_series_downsamples_100k_points_keeping_extremes(
    root: httpx.Client, api: httpx.Client, run: dict[str, Any]
) -> None:
    values = [math.sin(i / 500) for i in range(100_000)]
    values[31_337], values[77_777] = 42.0, -42.0
    _log_many(api, run["run_id"], "wave", values)
    resp = root.get(
        f"/ui/api/workspaces/default/runs/{run['run_id']}/metric-series",
        params={"key": "wave", "points": 1000},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 100_000
    assert 900 <= len(body["x"]) == len(body["y"]) == len(body["t"]) <= 1000
    assert body["x"] == sorted(body["x"]) and body["x"][0] == 0 and body["x"][-1] == 99_999
    assert max(body["y"]) == 42.0 and min(body["y"]) == -42.0
    assert 31_337 in body["x"] and 77_777 in body["x"]
    assert float(resp.headers["server-timing"].split("dur=")[1]) < 5000

    # the full history stays downloadable, as CSV
    resp = root.get(
        f"/ui/api/workspaces/default/runs/{run['run_id']}/metric-history.csv",
        params={"key": "wave"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(resp.text)))
    assert rows[0] == ["step", "timestamp", "value"] and len(rows) == 100_001
    assert float(rows[31_338][2]) == 42.0


def test_metric_series_keeps_nan_as_a_gap(
    root: httpx.Client, api: httpx.Client, run: dict[str, Any]
) -> None:
    body = {"metrics": [{"key": "m", "value": v, "step": i} for i, v in enumerate([1, "NaN", 3])]}
    assert api.post(f"/runs/{run['run_id']}/log-batch", json=body).status_code == 200
    resp = root.get(
        f"/ui/api/workspaces/default/runs/{run['run_id']}/metric-series", params={"key": "m"}
    )
    assert resp.json()["y"] == [1.0, None, 3.0]


def test_data_routes_answer_errors_as_api_json(root: httpx.Client, run: dict[str, Any]) -> None:
    base = "/ui/api/workspaces/default"
    assert_error(
        root.get(f"{base}/runs/0123456789abcdef0123456789abcdef/metric-series?key=x"),
        404,
        "NOT_FOUND",
    )
    assert_error(
        root.get(f"{base}/runs/{run['run_id']}/metric-series?key=x&points=2"),
        400,
        "INVALID_ARGUMENT",
        field="query.points",
    )
    assert_error(root.get(f"{base}/metric-series?key=x"), 400, "INVALID_ARGUMENT")
    assert_error(root.get(f"{base}/runs/{run['run_id']}/log?offset=-1"), 400, "INVALID_ARGUMENT")


def test_compare_series_has_one_series_per_run_that_logged_the_key(
    root: httpx.Client, ridge: dict[str, Any], run: dict[str, Any]
) -> None:
    ids = [r["run_id"] for r in ridge["runs"][:3]] + [run["run_id"]]
    resp = root.get(
        "/ui/api/workspaces/default/metric-series", params={"key": "loss", "runs": ",".join(ids)}
    )
    assert resp.status_code == 200, resp.text
    series = resp.json()["series"]
    assert [s["run_id"] for s in series] == ids[:3]  # the fresh run logged no loss
    assert [s["name"] for s in series] == ["ridge-0.1", "ridge-0.2", "ridge-0.3"]
    assert all(len(s["y"]) == 50 for s in series)


def test_log_endpoint_reads_from_an_offset_and_follows_the_file(
    root: httpx.Client, api: httpx.Client, run: dict[str, Any]
) -> None:
    url = f"/ui/api/workspaces/default/runs/{run['run_id']}/log"
    body = root.get(url).json()
    assert body["path"] is None and body["status"] == "RUNNING" and not body["terminal"]

    first = "épochs 1\n".encode()
    assert api.put(f"/runs/{run['run_id']}/artifacts/logs/stdout.log", content=first).is_success
    body = root.get(url, params={"offset": 0}).json()
    assert (body["path"], body["text"], body["offset"]) == ("logs/stdout.log", "épochs 1\n", 10)

    grown = first + b"epoch 2\n"
    assert api.put(f"/runs/{run['run_id']}/artifacts/logs/stdout.log", content=grown).is_success
    body = root.get(url, params={"offset": 10}).json()
    assert body["text"] == "epoch 2\n" and body["offset"] == body["size"] == len(grown)

    # an offset in the middle of a character never splits it
    assert root.get(url, params={"offset": 1}).json()["text"].startswith("\ufffd")
    # a replaced, shorter file starts again
    assert api.put(f"/runs/{run['run_id']}/artifacts/logs/stdout.log", content=b"new\n").is_success
    body = root.get(url, params={"offset": 18}).json()
    assert body["reset"] and body["text"] == "new\n"

    assert api.patch(f"/runs/{run['run_id']}", json={"status": "FAILED"}).is_success
    body = root.get(url, params={"offset": 4}).json()
    assert body["terminal"] and body["status"] == "FAILED" and body["text"] == ""
    html = page(root, f"/ui/runs/{run['run_id']}")
    assert 'id="log-panel"' in html and 'data-terminal="true"' in html


def test_compare_page(root: httpx.Client, ridge: dict[str, Any]) -> None:
    runs = ridge["runs"][:3]
    ids = ",".join(r["run_id"] for r in runs)
    html = page(root, "/ui/compare", runs=ids)
    parsed = parse(html)
    assert parsed.tables["param-diff"] == [
        ["Parameter", "ridge-0.1", "ridge-0.2", "ridge-0.3"],
        ["alpha", "0.1", "0.2", "0.3"],
    ]  # solver is the same everywhere: not listed
    assert [r[0] for r in parsed.tables["compare-runs"][1:]] == [r["name"] for r in runs]
    assert html.count('class="chart" id="chart-') == 2  # loss and rmse
    assert 'id="parcoords"' in html and 'id="compare-data"' in html
    # repeated ?runs= works too, and unknown runs are a 404
    assert "ridge-0.2" in page(root, "/ui/compare", runs=[r["run_id"] for r in runs])
    page(root, "/ui/compare", 404, runs="0123456789abcdef0123456789abcdef")


# ------------------------------------------------------------------------------ frame, assets


def test_pages_load_only_this_servers_scripts(root: httpx.Client, ridge: dict[str, Any]) -> None:
    run = ridge["runs"][0]
    ids = ",".join(r["run_id"] for r in ridge["runs"][:2])
    for path in ("/ui", f"/ui/runs/{run['run_id']}", f"/ui/compare?runs={ids}"):
        resp = root.get(path)
        assert resp.status_code == 200
        for src in parse(resp.text).scripts:
            assert src.startswith("/ui/"), src
            assert root.get(src).status_code == 200, src
        assert "https://" not in resp.text and "http://" not in resp.text
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["server-timing"].startswith("app;dur=")
    resp = root.get("/ui/vendor/plotly.min.js")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/javascript")
    assert re.match(r"\d+\.\d+\.\d+$", resp.headers["x-plotly-version"])
    assert len(resp.content) > 1_000_000
    assert root.get("/ui/static/app.css").status_code == 200


def test_ui_routes_stay_out_of_the_openapi_document(root: httpx.Client) -> None:
    paths = root.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/ui")]


def test_other_workspaces_have_their_pages_under_w(
    root: httpx.Client, server: RunningServer
) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    with httpx.Client(base_url=f"{server.url}/api/v1/workspaces/{ws}", timeout=60) as api:
        exp = create_experiment(api, "in-" + ws)
        run = create_run(api, exp["experiment_id"], name="only-here")
    html = page(root, f"/ui/w/{ws}")
    assert f"/ui/w/{ws}/experiments/{exp['experiment_id']}" in parse(html).links
    assert f'<option value="/ui/w/{ws}" selected>' in html  # the workspace switcher
    html = page(root, f"/ui/w/{ws}/experiments/{exp['experiment_id']}")
    assert f"/ui/w/{ws}/runs/{run['run_id']}" in parse(html).links
    assert "only-here" in page(root, f"/ui/w/{ws}/runs/{run['run_id']}")
    page(root, f"/ui/runs/{run['run_id']}", 404)  # not in the default workspace


# ------------------------------------------------------------------------------ sign-in


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A loopback server with ``TRAINYARD_AUTH=required``."""
    srv = start_server(tmp_path_factory.mktemp("ui-auth"), {"TRAINYARD_AUTH": "required"})
    try:
        yield srv
    finally:
        srv.stop()


def test_with_auth_on_pages_need_a_sign_in_that_sets_an_httponly_cookie(
    auth_server: RunningServer,
) -> None:
    secret = (auth_server.home / "admin.token").read_text().strip()
    with httpx.Client(base_url=auth_server.url, timeout=60) as browser:
        resp = browser.get("/ui/experiments/0?filter=x")
        assert resp.status_code == 303
        assert resp.headers["location"] == "/ui/login?next=%2Fui%2Fexperiments%2F0%3Ffilter%3Dx"
        html = page(browser, "/ui/login", next="/ui/experiments/0")
        assert 'type="password"' in html and 'value="/ui/experiments/0"' in html

        resp = browser.post("/ui/login", data={"token": "ty_wrong", "next": "/ui"})
        assert resp.status_code == 401 and "unknown or revoked" in resp.text
        assert "trainyard_token" not in resp.headers.get("set-cookie", "")

        resp = browser.post("/ui/login", data={"token": secret, "next": "https://evil.example/"})
        assert resp.status_code == 303 and resp.headers["location"] == "/ui"  # no open redirect
        cookie = resp.headers["set-cookie"]
        assert cookie.startswith(f"trainyard_token={secret};")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie

        assert "Experiments" in page(browser, "/ui")  # the client keeps the cookie
        assert "Sign out" in page(browser, "/ui")
        # the REST reads the pages' scripts make work with the cookie alone...
        assert browser.get("/api/v1/workspaces/default/experiments").status_code == 200
        # ...but writes still need the Authorization header
        assert_error(
            browser.post("/api/v1/workspaces/default/experiments", json={"name": unique()}),
            401,
            "UNAUTHENTICATED",
        )
        resp = browser.post("/ui/logout")
        assert resp.status_code == 303 and resp.headers["location"] == "/ui/login"
        assert 'trainyard_token=""' in resp.headers["set-cookie"]
        browser.cookies.clear()
        assert browser.get("/ui").status_code == 303
        assert browser.get("/api/v1/workspaces/default/experiments").status_code == 401
    # a revoked token in the cookie sends the browser back to the form
    with httpx.Client(base_url=auth_server.url, timeout=60) as browser:
        browser.cookies.set("trainyard_token", "ty_revoked_or_made_up")
        assert browser.get("/ui").status_code == 303


def test_without_auth_the_login_form_is_skipped(root: httpx.Client) -> None:
    resp = root.get("/ui/login", params={"next": "/ui/compare"})
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/compare"


# ------------------------------------------------------------------------------ pure helpers


def test_complete_utf8_never_cuts_a_character() -> None:
    from trainyard.server.routers._ui_views import complete_utf8

    text = "aé€😀".encode()  # 1-, 2-, 3- and 4-byte characters
    for cut in range(len(text) + 1):
        head = text[:cut]
        keep = complete_utf8(head)
        assert keep <= cut and cut - keep < 4
        head[:keep].decode("utf-8")  # never raises
        assert text[:keep].decode() == text.decode()[: len(head[:keep].decode())]
    assert complete_utf8(b"plain") == 5 and complete_utf8(b"") == 0


def test_read_range_reads_across_chunks() -> None:
    from trainyard.server.routers._ui_views import read_head, read_range

    chunks = [b"abc", b"defg", b"h", b"ijkl"]
    assert read_range(iter(chunks), 0, 100) == b"abcdefghijkl"
    assert read_range(iter(chunks), 2, 4) == b"cdef"
    assert read_range(iter(chunks), 7, 100) == b"hijkl"
    assert read_range(iter(chunks), 12, 100) == b""
    assert read_head(iter(chunks), 5) == (b"abcde", True)
    assert read_head(iter(chunks), 12) == (b"abcdefghijkl", False)


def test_formatting_for_people() -> None:
    from trainyard.server.routers._ui_common import fmt_duration, fmt_number, fmt_size

    assert [fmt_duration(v) for v in (None, 850, 12_340, 245_000, 7_380_000, 270_000_000)] == [
        "",
        "850 ms",
        "12.3 s",
        "4m 05s",
        "2h 03m",
        "3d 03h",
    ]
    assert [fmt_number(v) for v in (None, math.nan, 0.1 + 0.2, 1234567.0)] == [
        "",
        "NaN",
        "0.3",
        "1.23457e+06",
    ]
    assert [fmt_size(v) for v in (512, 3500, 12 * 1024**2)] == ["512 B", "3.4 KB", "12.0 MB"]


def test_order_clauses_quote_odd_keys() -> None:
    from trainyard.core.filters import parse_order_by
    from trainyard.server.routers._ui_views import Column, current_sort

    for key in ("rmse", "train/loss", "val acc", "a.b", "top-1:acc"):
        clause = Column("metric", key, key).order_clause(ascending=False)
        (parsed,) = parse_order_by([clause])
        assert (parsed.entity, parsed.key, parsed.ascending) == ("metric", key, False)
        assert current_sort(clause) == (f"metrics.{key}", False)
    assert current_sort("nonsense !!") is None and current_sort("") is None
