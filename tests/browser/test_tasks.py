"""A caseworker finds a task in the inbox, claims it and completes its form (form-js) in Chromium."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.world import log_in_browser

pytestmark = pytest.mark.browser


def choose(page, label: str, option: str) -> None:
    """Pick an option of a form-js select: a list that opens when its input gets focus, not a <select>.

    (By keyboard the highlighted option depends on where the mouse pointer happens to rest, so the
    test clicks the option.)
    """
    page.get_by_label(label).focus()
    page.locator(".fjs-dropdownlist-item", has_text=option).click()
    page.locator(".fjs-select-display", has_text=option).wait_for()


def test_caseworker_completes_a_task_after_a_server_side_validation_error(live_server, page, web_world):
    web_world.start_case(titel="Dorpsstraat 1")
    log_in_browser(page, live_server, "eva")

    # The home page shows the inbox; claim the task there (htmx re-renders the table).
    row = page.get_by_role("row", name=re.compile("Melding onderzoeken"))
    row.get_by_role("button", name=re.compile("Oppakken")).click()
    page.get_by_role("status").filter(has_text="is nu van jou").wait_for()
    assert "eva" in page.get_by_role("row", name=re.compile("Melding onderzoeken")).inner_text()

    page.get_by_role("link", name="Melding onderzoeken").click()
    page.locator("#task-form[data-ready='true']").wait_for()
    assert page.get_by_role("heading", name=re.compile("Casus WO-")).is_visible()
    page.get_by_label("Bevindingen").fill("Stank en geschreeuw in het trappenhuis")
    choose(page, "Ernst van de overlast", "Licht")
    page.get_by_label("Aantal meldingen").fill("3")

    # A stale or tampered client: the server receives a count the form does not allow, and refuses it.
    def tamper(route):
        body = json.loads(route.request.post_data)
        body["data"]["aantal_meldingen"] = -3
        route.continue_(post_data=json.dumps(body))

    page.route("**/taken/*/afronden", tamper, times=1)
    page.get_by_role("button", name="Afronden").click()

    field_error = page.locator(".fjs-form-field-error", has_text="Moet tussen 0 en 1000 liggen.")
    field_error.wait_for()
    count_input = page.get_by_label("Aantal meldingen")
    assert field_error.get_attribute("id") in count_input.get_attribute("aria-describedby")
    summary = page.get_by_role("alert").filter(has_text="controleer de gemarkeerde velden")
    assert "Aantal meldingen: Moet tussen 0 en 1000 liggen." in summary.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "task-server-validation-error.png"), full_page=True)

    page.get_by_role("button", name="Afronden").click()

    page.wait_for_url(live_server + "/werkvoorraad")
    assert "Taak ‘Melding onderzoeken’ is afgerond" in page.get_by_role("status").first.inner_text()
    # Light nuisance: the corporation now sends a warning letter.
    page.get_by_role("link", name="Waarschuwingsbrief sturen").wait_for()


def test_required_fields_are_checked_in_the_browser_in_dutch(live_server, page, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in_browser(page, live_server, "eva")

    page.goto(f"{live_server}/taken/{item.id}")
    page.locator("#task-form[data-ready='true']").wait_for()
    page.get_by_role("button", name="Afronden").click()

    page.locator(".fjs-form-field-error", has_text="Dit veld is verplicht.").first.wait_for()
    assert page.get_by_role("alert").filter(has_text="nog niet compleet").is_visible()


def test_task_of_another_organisation_shows_the_not_found_page(live_server, page, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in_browser(page, live_server, "kees")

    response = page.goto(f"{live_server}/taken/{item.id}")

    assert response.status == 404  # as for a missing task: ids cannot be probed
    assert page.get_by_role("heading", name="Niet gevonden").is_visible()
