"""The coordinator's dashboard: figures per stage and organisation, the heatmap data, and access."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine

from engine.clock import utcnow
from tests.browser import world
from tests.browser.world import log_in

web_world = world.web_world  # the page-test world fixture, shared with tests/browser
def test_dashboard_counts_cases_per_stage_and_waiting_per_element(client, web_world):
    web_world.start_case()
    web_world.start_case()
    log_in(client, "sanne")

    page = client.get("/dashboard").get_data(as_text=True)

    data = json.loads(page.split('id="heatmap-data">')[1].split("</script>")[0])
    assert data["counts"] == {"Task_onderzoek": 2}
    assert "<bpmn:process" in data["xml"]
    assert "De Goede Woning" in page and "onderzoek" in page


def test_cases_open_longer_than_six_months_are_listed(client, web_world):
    with time_machine.travel(utcnow() - timedelta(days=200), tick=False):
        old = web_world.start_case(titel="Oude zaak")
    log_in(client, "sanne")

    page = client.get("/dashboard").get_data(as_text=True)

    section = page.split('id="long-heading"')[1]
    assert old.reference in section and "Oude zaak" in section


def test_unknown_process_choice_falls_back_to_the_first(client, web_world):
    log_in(client, "sanne")

    assert client.get("/dashboard?proces=%3Cbestaat-niet%3E").status_code == 200


def test_only_the_coordinator_sees_the_dashboard(client, web_world):
    log_in(client, "eva")

    assert client.get("/dashboard").status_code == 403
