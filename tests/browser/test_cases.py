"""The coordinator finds a case in the case list and sees where it stands in its diagram."""

from __future__ import annotations

import re

import pytest

from tests.browser.world import log_in_browser

pytestmark = pytest.mark.browser


def test_coordinator_sees_the_case_diagram_with_the_active_task_marked(live_server, page, web_world):
    case = web_world.start_case(titel="Dorpsstraat 1")
    web_world.start_case(titel="Dorpsstraat 2")
    log_in_browser(page, live_server, "sanne")

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Casussen").click()
    page.get_by_label("Fase").select_option("onderzoek")
    page.get_by_role("button", name="Filteren").click()
    page.get_by_role("link", name=case.reference).click()

    page.locator("#case-diagram[data-ready='true']").wait_for()
    active = page.locator(".djs-element.kr-active[data-element-id='Task_onderzoek']")
    assert active.count() == 1
    assert page.locator(".djs-element.kr-completed[data-element-id='Start_melding']").count() == 1
    assert page.locator(".kr-active-badge").inner_text() == "nu"
    assert "Nu actief: Melding onderzoeken." in page.locator("#diagram-status").inner_text()
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays (licence)
    timeline = page.get_by_role("region", name="Tijdlijn")
    assert re.search(r"Casus WO-\d{4}-\d{5} gestart", timeline.inner_text())
    assert "Melding onderzoeken" in page.get_by_role("region", name="Openstaand werk").inner_text()


def test_case_diagram_zooms_with_buttons_for_keyboard_users(live_server, page, web_world):
    case = web_world.start_case()
    log_in_browser(page, live_server, "eva")
    page.goto(f"{live_server}/casussen/{case.id}")
    page.locator("#case-diagram[data-ready='true']").wait_for()
    viewport = page.locator("#case-diagram .viewport").first
    before = viewport.get_attribute("transform")

    page.get_by_role("button", name="Inzoomen").focus()
    page.keyboard.press("Enter")

    assert viewport.get_attribute("transform") != before
