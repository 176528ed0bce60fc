"""The coordinator reads the dashboard: figures, lead times and the heatmap on the diagram."""

from __future__ import annotations

import pytest

from tests.browser.world import log_in_browser

pytestmark = pytest.mark.browser


def test_coordinator_sees_where_cases_wait_on_the_dashboard(live_server, page, web_world):
    for number in range(3):
        web_world.start_case(titel=f"Dorpsstraat {number}")
    log_in_browser(page, live_server, "sanne")

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Dashboard").click()

    page.locator("#heatmap[data-ready='true']").wait_for()
    assert "3\nopen casussen" in page.get_by_role("list", name="Kerncijfers").inner_text()
    waiting = page.locator(".djs-element.kr-heat-4[data-element-id='Task_onderzoek']")
    assert waiting.count() == 1
    assert page.locator(".kr-heat-4-badge").inner_text() == "3 wachtend"
    assert "De Goede Woning" in page.get_by_role("region", name="Openstaand werk per organisatie").inner_text()
    assert "onderzoek" in page.get_by_role("region", name="Open casussen per fase").inner_text()
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays (licence)
