"""The model registry pages in Chromium: the list, a model's versions and lineage, 404."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import screenshot


def test_models_list_to_a_model_and_its_source_run(
    page: Any, registered_model: dict[str, Any]
) -> None:
    name = registered_model["name"]
    page.goto("/ui")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    page.wait_for_url("**/ui/models")
    row = page.locator("table[aria-label=Models] tbody tr", has_text=name)
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == [name, "2", "2", "champion: 2"]
    assert cells[4]  # updated
    screenshot(page, "models")

    row.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/ui/models/{name}")
    assert page.locator("h1").inner_text() == name
    assert page.locator("#model-description").inner_text() == "Iris <i>classifier</i>"
    assert page.locator("#model-description i").count() == 0
    assert "owner" in page.locator("table[aria-label=Tags]").inner_text()
    versions = page.locator("table[aria-label=Versions] tbody tr")
    assert versions.count() == 2
    newest, oldest = versions.nth(0), versions.nth(1)
    assert newest.get_attribute("data-version") == "2"
    cells = newest.locator("td").all_inner_texts()
    assert cells[1] == "READY" and cells[2] == "champion" and cells[6] == "C=2.0"
    assert cells[5].startswith("passed on 40 rows")  # the ONNX parity check
    assert newest.locator(".badge").get_attribute("class") == "badge status-ready"
    assert oldest.locator("td").nth(2).inner_text() == ""
    screenshot(page, "model")

    first_run = registered_model["runs"][0]
    oldest.get_by_role("link", name=first_run).click()  # lineage
    page.wait_for_url(f"**/ui/runs/{first_run}")
    assert page.locator("h1").inner_text() == "iris-c0.5"


def test_unknown_model_is_a_404_page(page: Any) -> None:
    response = page.goto("/ui/models/no-such-model")
    assert response.status == 404
    assert "no-such-model" in page.get_by_role("alert").inner_text()
