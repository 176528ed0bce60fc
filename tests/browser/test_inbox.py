"""The inbox in Chromium: overdue work flagged in words, filters and claiming by keyboard (htmx)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from engine.clock import utcnow
from tests.browser.world import log_in_browser

pytestmark = pytest.mark.browser


def test_caseworker_filters_and_claims_by_keyboard(live_server, page, web_world):
    with time_machine.travel(utcnow() - timedelta(days=10), tick=False):
        web_world.start_case(titel="Dorpsstraat 1")
    web_world.start_case(titel="Dorpsstraat 2")
    log_in_browser(page, live_server, "eva")
    page.goto(live_server + "/werkvoorraad")

    late = page.get_by_role("row", name=re.compile("Dorpsstraat 1"))
    assert "Te laat" in late.inner_text()
    filter_link = page.get_by_role("link", name=re.compile("^Te laat"))
    filter_link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + "/werkvoorraad?toon=te-laat")
    assert page.locator("#inbox tbody tr").count() == 1

    claim = page.get_by_role("button", name=re.compile("^Oppakken: Melding onderzoeken"))
    claim.focus()
    page.keyboard.press("Enter")

    page.get_by_role("status").filter(has_text="is nu van jou").wait_for()
    # The button kept its id, so keyboard focus stays on it (now "Vrijgeven") after htmx swapped the table.
    assert page.evaluate("document.activeElement.textContent").startswith("Vrijgeven")
    mine = page.get_by_role("link", name=re.compile("^Door mij opgepakt"))
    assert mine.inner_text().endswith("1")
