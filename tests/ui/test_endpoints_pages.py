"""The online endpoint pages in Chromium: list, deployments and traffic, never the keys."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import screenshot


def test_endpoints_list_to_an_endpoint_to_its_model(
    page: Any, split_endpoint: dict[str, Any], studio: Any
) -> None:
    name, model = split_endpoint["name"], split_endpoint["model"]
    page.goto("/ui")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Endpoints").click()
    page.wait_for_url("**/ui/endpoints")
    row = page.locator("table[aria-label=Endpoints] tbody tr", has_text=name)
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == [
        name,
        "key",
        f"blue ({model}:1), green ({model}:2)",
        "blue 90% · green 10%",
    ]
    for key in split_endpoint["keys"]:
        assert key not in page.content()
    screenshot(page, "endpoints")

    row.get_by_role("link", name=name).click()
    page.wait_for_url(f"**/ui/endpoints/{name}")
    html = page.content()
    for key in split_endpoint["keys"]:
        assert key not in html
    assert page.locator("h1").inner_text() == name
    assert page.locator("#traffic").inner_text() == "blue 90% · green 10%"
    assert page.locator("#mirror").inner_text() == "—"
    url = f"{studio.url}/endpoints/{name}/score"
    assert page.locator("#scoring-url").inner_text() == url
    curl = page.locator("#curl-example").inner_text()
    assert curl.startswith(f"curl -s {url}")
    assert "Authorization: Bearer <your-endpoint-key>" in curl
    assert "[0.0, 0.0, 0.0, 0.0]" in curl  # as wide as the model's input
    blue = page.locator('tr[data-deployment="blue"] > *').all_inner_texts()
    assert blue[:5] == ["blue", f"{model}:1", "90%", "0%", "1"]
    assert blue[5].startswith("500 rows") and blue[6:8] == ["off", "no"]
    green = page.locator('tr[data-deployment="green"] > *').all_inner_texts()
    assert green[1] == f"{model}:2 from {model}@champion"
    assert green[2:5] == ["10%", "0%", "2"]
    assert green[6:8] == ["16 rows / 800 µs", "yes"]
    screenshot(page, "endpoint")

    page.locator('tr[data-deployment="green"]').get_by_role("link").click()
    page.wait_for_url(f"**/ui/models/{model}")
    assert page.locator("h1").inner_text() == model


def test_unknown_endpoint_is_a_404_page(page: Any) -> None:
    response = page.goto("/ui/endpoints/no-such-endpoint")
    assert response.status == 404
    assert "no-such-endpoint" in page.get_by_role("alert").inner_text()
