"""Experiments over HTTP: create, read, rename, tag, delete/restore, list and page."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from tests.server.helpers import (
    all_experiments,
    assert_error,
    create_experiment,
    create_run,
    unique,
)
from tests.support import RunningServer


def _token(doc: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def _public(e: dict[str, Any]) -> dict[str, Any]:
    """An experiment without the listing-only fields."""
    return {k: v for k, v in e.items() if k not in ("run_count", "last_activity")}


def test_create_answers_201_with_the_stored_experiment(api: httpx.Client) -> None:
    name = unique("create")
    before = int(time.time() * 1000)
    resp = api.post("/experiments", json={"name": name, "tags": {"team": "ml", "note": ""}})
    after = int(time.time() * 1000)

    assert resp.status_code == 201, resp.text
    e = resp.json()
    assert e["name"] == name
    assert e["workspace"] == "default"
    assert e["tags"] == {"team": "ml", "note": ""}
    assert e["lifecycle_stage"] == "active"
    assert isinstance(e["experiment_id"], str) and e["experiment_id"]
    assert isinstance(e["artifact_location"], str) and e["artifact_location"]
    assert before - 1000 <= e["created_at"] <= after + 1000
    assert e["updated_at"] == e["created_at"]

    got = api.get(f"/experiments/{e['experiment_id']}")
    assert got.status_code == 200
    assert _public(got.json()) == _public(e)
    by_name = api.get("/experiments/by-name", params={"name": name})
    assert by_name.status_code == 200
    assert _public(by_name.json()) == _public(e)


def test_a_250_character_name_is_accepted(api: httpx.Client) -> None:
    name = unique("long") + "x" * (250 - len(unique("long")))
    assert len(name) == 250
    e = create_experiment(api, name)
    assert (
        api.get("/experiments/by-name", params={"name": name}).json()["experiment_id"]
        == (e["experiment_id"])
    )


def test_a_taken_name_is_409_and_the_original_is_kept(api: httpx.Client) -> None:
    name = unique("dup")
    first = create_experiment(api, name, tags={"v": "1"})

    resp = api.post("/experiments", json={"name": name, "tags": {"v": "2"}})

    assert_error(resp, 409, "ALREADY_EXISTS", contains=name)
    listed = api.get("/experiments", params={"name_contains": name}).json()["experiments"]
    assert [e["experiment_id"] for e in listed] == [first["experiment_id"]]
    assert listed[0]["tags"] == {"v": "1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"tags": {"a": "b"}}, "name"),
        ({"name": "ok", "bogus": 1}, "bogus"),
        ({"name": "x" * 251}, "name"),
        ({"name": ""}, "name"),
        ({"name": 12}, "name"),
        ({"name": None}, "name"),
        ({"name": "ok", "tags": "not-a-dict"}, "tags"),
        ({"name": "ok", "tags": {"a": 1}}, "tags.a"),
    ],
)
def test_a_malformed_create_is_400_naming_the_field(
    api: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = all_experiments(api)

    resp = api.post("/experiments", json=body)

    assert_error(resp, 400, "INVALID_ARGUMENT", field=field)
    assert all_experiments(api) == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "   "}, "name"),
        ({"name": "loc", "artifact_location": "../../etc"}, ".."),
        ({"name": "loc", "artifact_location": "/etc"}, "relative"),
        ({"name": "tags", "tags": {"../x": "v"}}, "../x"),
        ({"name": "tags", "tags": {"k": "v" * 5001}}, "5000"),
    ],
)
def test_an_invalid_create_is_400_and_stores_nothing(
    api: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    before = all_experiments(api)

    resp = api.post("/experiments", json=body)

    assert_error(resp, 400, "INVALID_ARGUMENT", contains=fragment)
    assert all_experiments(api) == before


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    before = all_experiments(api)
    resp = api.post(
        "/experiments", content=b"{name: nope", headers={"content-type": "application/json"}
    )
    assert_error(resp, 400, "INVALID_ARGUMENT")
    assert all_experiments(api) == before


@pytest.mark.parametrize("experiment_id", ["999999", "abc", "-1"])
def test_an_unknown_id_is_404(api: httpx.Client, experiment_id: str) -> None:
    for resp in (
        api.get(f"/experiments/{experiment_id}"),
        api.patch(f"/experiments/{experiment_id}", json={"name": unique("x")}),
        api.delete(f"/experiments/{experiment_id}"),
        api.post(f"/experiments/{experiment_id}/restore"),
    ):
        assert_error(resp, 404, "NOT_FOUND", contains=experiment_id)


def test_by_name_of_an_unknown_name_is_404_and_without_a_name_400(api: httpx.Client) -> None:
    name = unique("missing")
    assert_error(
        api.get("/experiments/by-name", params={"name": name}), 404, "NOT_FOUND", contains=name
    )
    assert_error(api.get("/experiments/by-name"), 400, "INVALID_ARGUMENT", field="query.name")


def test_rename_and_set_tags(api: httpx.Client) -> None:
    old = unique("old")
    e = create_experiment(api, old, tags={"keep": "1", "change": "a"})
    eid = e["experiment_id"]
    new = unique("new")

    resp = api.patch(f"/experiments/{eid}", json={"name": new})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == new
    assert resp.json()["tags"] == {"keep": "1", "change": "a"}
    assert resp.json()["updated_at"] >= e["created_at"]
    assert_error(api.get("/experiments/by-name", params={"name": old}), 404, "NOT_FOUND")
    assert api.get("/experiments/by-name", params={"name": new}).json()["experiment_id"] == eid

    resp = api.patch(f"/experiments/{eid}", json={"tags": {"change": "b", "added": "c"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == new
    assert resp.json()["tags"] == {"keep": "1", "change": "b", "added": "c"}
    assert api.get(f"/experiments/{eid}").json()["tags"] == {
        "keep": "1",
        "change": "b",
        "added": "c",
    }

    # the old name is free again
    create_experiment(api, old)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"name": "x" * 251}, 400, "INVALID_ARGUMENT", "name"),
        ({"bogus": True}, 400, "INVALID_ARGUMENT", "bogus"),
        ({"tags": {"k": 5}}, 400, "INVALID_ARGUMENT", "tags.k"),
        ({"name": "  "}, 400, "INVALID_ARGUMENT", None),
        ({"tags": {"": "v"}}, 400, "INVALID_ARGUMENT", None),
    ],
)
def test_a_bad_update_changes_nothing(
    api: httpx.Client, body: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    e = create_experiment(api, tags={"a": "1"})
    resp = api.patch(f"/experiments/{e['experiment_id']}", json=body)
    assert_error(resp, status, code, field=field)
    assert _public(api.get(f"/experiments/{e['experiment_id']}").json()) == _public(e)


def test_renaming_onto_a_taken_name_is_409_and_changes_nothing(api: httpx.Client) -> None:
    a = create_experiment(api)
    b = create_experiment(api)
    resp = api.patch(
        f"/experiments/{b['experiment_id']}", json={"name": a["name"], "tags": {"x": "y"}}
    )
    assert_error(resp, 409, "ALREADY_EXISTS", contains=a["name"])
    assert _public(api.get(f"/experiments/{b['experiment_id']}").json()) == _public(b)
    assert _public(api.get(f"/experiments/{a['experiment_id']}").json()) == _public(a)


def test_delete_hides_and_restore_shows_again(api: httpx.Client) -> None:
    marker = unique("lifecycle")
    keep = create_experiment(api, f"{marker}-keep")
    gone = create_experiment(api, f"{marker}-gone")

    resp = api.delete(f"/experiments/{gone['experiment_id']}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["lifecycle_stage"] == "deleted"
    assert resp.json()["name"] == gone["name"]

    got = api.get(f"/experiments/{gone['experiment_id']}")
    assert got.status_code == 200 and got.json()["lifecycle_stage"] == "deleted"

    def names(**params: Any) -> list[str]:
        r = api.get("/experiments", params={"name_contains": marker, **params})
        assert r.status_code == 200, r.text
        return [e["name"] for e in r.json()["experiments"]]

    assert names() == [keep["name"]]
    assert names(include_deleted="false") == [keep["name"]]
    assert names(include_deleted="true") == [gone["name"], keep["name"]]
    # the name stays taken while deleted
    assert_error(api.post("/experiments", json={"name": gone["name"]}), 409, "ALREADY_EXISTS")

    resp = api.post(f"/experiments/{gone['experiment_id']}/restore")
    assert resp.status_code == 200, resp.text
    assert resp.json()["lifecycle_stage"] == "active"
    assert names() == [gone["name"], keep["name"]]


def test_the_default_experiment_cannot_be_deleted(api: httpx.Client) -> None:
    default = api.get("/experiments/0")
    assert default.status_code == 200 and default.json()["name"] == "Default"
    assert_error(api.delete("/experiments/0"), 400, "INVALID_ARGUMENT")
    assert api.get("/experiments/0").json()["lifecycle_stage"] == "active"


def test_name_contains_is_a_case_insensitive_literal_substring(api: httpx.Client) -> None:
    marker = unique("nc")
    upper = create_experiment(api, f"{marker}-Alpha_1")
    lower = create_experiment(api, f"{marker}-alpha_2")
    create_experiment(api, f"{marker}-alphaX3")  # '_' must not act as a wildcard
    create_experiment(api, f"{marker}-beta")

    resp = api.get("/experiments", params={"name_contains": f"{marker}-ALPHA_"})
    assert resp.status_code == 200, resp.text
    assert [e["name"] for e in resp.json()["experiments"]] == [upper["name"], lower["name"]]
    resp = api.get("/experiments", params={"name_contains": f"{marker}%"})
    assert resp.json()["experiments"] == []


def test_listing_counts_runs_and_last_activity(api: httpx.Client) -> None:
    e = create_experiment(api)
    eid = e["experiment_id"]

    def listed() -> dict[str, Any]:
        r = api.get("/experiments", params={"name_contains": e["name"]})
        assert r.status_code == 200, r.text
        (only,) = r.json()["experiments"]
        return only  # type: ignore[no-any-return]

    assert (listed()["run_count"], listed()["last_activity"]) == (0, None)
    create_run(api, eid, start_time=1_000)
    second = create_run(api, eid, start_time=2_000)
    assert (listed()["run_count"], listed()["last_activity"]) == (2, 2_000)
    api.patch(f"/runs/{second['run_id']}", json={"status": "FINISHED", "end_time": 5_000})
    assert (listed()["run_count"], listed()["last_activity"]) == (2, 5_000)
    assert api.delete(f"/runs/{second['run_id']}").status_code == 200
    assert (listed()["run_count"], listed()["last_activity"]) == (1, 1_000)


def test_paging_returns_every_experiment_exactly_once(api: httpx.Client) -> None:
    marker = unique("page")
    names = sorted(create_experiment(api, f"{marker}-{i:02d}")["name"] for i in range(7))

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"name_contains": marker, "max_results": 3}
        if token is not None:
            params["page_token"] = token
        resp = api.get("/experiments", params=params)
        assert resp.status_code == 200, resp.text
        pages.append([e["name"] for e in resp.json()["experiments"]])
        token = resp.json()["next_page_token"]
        if token is None:
            break
        assert len(pages) < 10, "paging does not end"

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [n for p in pages for n in p] == names


def test_an_exact_last_page_ends_with_a_null_token(api: httpx.Client) -> None:
    marker = unique("exact")
    for i in range(4):
        create_experiment(api, f"{marker}-{i}")
    first = api.get("/experiments", params={"name_contains": marker, "max_results": 2}).json()
    assert first["next_page_token"] is not None
    second = api.get(
        "/experiments",
        params={"name_contains": marker, "max_results": 2, "page_token": first["next_page_token"]},
    ).json()
    assert len(second["experiments"]) == 2
    assert second["next_page_token"] is None


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "!!!",
        _token({"offset": -1}),
        _token({"offset": "ten"}),
        _token({"start": 3}),
        _token([1, 2]),
        _token(5),
    ],
)
def test_a_page_token_the_server_did_not_issue_is_400(api: httpx.Client, token: str) -> None:
    resp = api.get("/experiments", params={"page_token": token})
    assert_error(resp, 400, "INVALID_ARGUMENT", contains="page_token")


def test_a_forged_page_token_with_a_huge_offset_is_400(server: RunningServer) -> None:
    token = _token({"offset": 10**20})
    resp = httpx.get(f"{server.api}/experiments", params={"page_token": token})
    assert_error(resp, 400, "INVALID_ARGUMENT", contains="page_token")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_results": 0}, "query.max_results"),
        ({"max_results": 50_001}, "query.max_results"),
        ({"max_results": "many"}, "query.max_results"),
        ({"include_deleted": "perhaps"}, "query.include_deleted"),
    ],
)
def test_bad_list_parameters_are_400(api: httpx.Client, params: dict[str, Any], field: str) -> None:
    assert_error(api.get("/experiments", params=params), 400, "INVALID_ARGUMENT", field=field)


def test_an_unknown_workspace_is_404(server: RunningServer, root: httpx.Client) -> None:
    ws = unique("nows")
    base = f"/api/v1/workspaces/{ws}/experiments"

    assert_error(root.get(base), 404, "NOT_FOUND", contains=ws)
    assert_error(root.post(base, json={"name": "x"}), 404, "NOT_FOUND", contains=ws)
    assert_error(root.get(f"{base}/0"), 404, "NOT_FOUND")
    assert_error(root.get(f"{base}/by-name", params={"name": "Default"}), 404, "NOT_FOUND")
    listed = root.get("/api/v1/workspaces").json()["workspaces"]
    assert ws not in [w["name"] for w in listed]


def test_experiments_belong_to_their_workspace(root: httpx.Client) -> None:
    ws = unique("ws")
    assert root.put(f"/api/v1/workspaces/{ws}").status_code == 200
    name = unique("scoped")
    resp = root.post(f"/api/v1/workspaces/{ws}/experiments", json={"name": name})
    assert resp.status_code == 201, resp.text
    e = resp.json()
    assert e["workspace"] == ws

    assert_error(
        root.get(f"/api/v1/workspaces/default/experiments/{e['experiment_id']}"), 404, "NOT_FOUND"
    )
    assert_error(
        root.get("/api/v1/workspaces/default/experiments/by-name", params={"name": name}),
        404,
        "NOT_FOUND",
    )
    # the same name is free in another workspace
    other = root.post("/api/v1/workspaces/default/experiments", json={"name": name})
    assert other.status_code == 201, other.text
    assert other.json()["experiment_id"] != e["experiment_id"]
