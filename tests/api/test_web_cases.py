"""The case list and case page: filters, need-to-know visibility, and the coordinator's retry."""

from __future__ import annotations

import json

from tests.browser import world
from tests.browser.world import log_in

web_world = world.web_world  # the page-test world fixture, shared with tests/browser
def test_case_list_filters_by_status_and_stage(client, web_world):
    first = web_world.start_case(titel="Dorpsstraat 1")
    second = web_world.start_case(titel="Dorpsstraat 2")
    log_in(client, "sanne")

    everything = client.get("/casussen").get_data(as_text=True)
    in_research = client.get("/casussen?status=active&fase=onderzoek").get_data(as_text=True)
    closed = client.get("/casussen?status=completed").get_data(as_text=True)

    assert first.reference in everything and second.reference in everything
    assert first.reference in in_research and '<option selected>onderzoek</option>' in in_research
    assert first.reference not in closed and "Geen casussen met deze filters" in closed


def test_unknown_filter_values_are_ignored_not_500(client, web_world):
    case = web_world.start_case()
    log_in(client, "sanne")

    response = client.get("/casussen?status=bogus&fase=%3Cscript%3E")

    assert response.status_code == 200
    assert case.reference in response.get_data(as_text=True)


def test_participant_sees_only_its_own_cases(client, web_world):
    case = web_world.start_case()
    log_in(client, "kees")

    assert case.reference not in client.get("/casussen").get_data(as_text=True)
    hidden = client.get(f"/casussen/{case.id}")
    assert hidden.status_code == 404
    assert "Niet gevonden" in hidden.get_data(as_text=True)


def test_case_page_carries_the_diagram_and_its_marks(client, web_world):
    case = web_world.start_case(titel="Dorpsstraat 1")
    log_in(client, "eva")

    page = client.get(f"/casussen/{case.id}").get_data(as_text=True)

    data = json.loads(page.split('id="case-diagram-data">')[1].split("</script>")[0])
    assert "<bpmn:process" in data["xml"]
    assert data["active"] == ["Task_onderzoek"] and "Start_melding" in data["completed"]
    assert data["waiting"] == [] and data["error"] == []


def test_waiting_timer_is_marked_as_waiting(client, web_world):
    case = web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")
    client.post(f"/taken/{item.id}/afronden", json={"data": {"bevindingen": "x", "ernst": "licht"}})

    page = client.get(f"/casussen/{case.id}").get_data(as_text=True)

    data = json.loads(page.split('id="case-diagram-data">')[1].split("</script>")[0])
    assert data["waiting"] == ["Timer_brief"] and data["active"] == ["Task_brief"]
    assert "Task_onderzoek" in data["completed"]
    assert "14 dagen verstreken" in page


def test_only_the_coordinator_retries_a_case(client, web_world):
    case = web_world.start_case()
    log_in(client, "eva")

    assert client.post(f"/casussen/{case.id}/opnieuw").status_code == 403
    client.post("/logout")
    log_in(client, "sanne")
    retried = client.post(f"/casussen/{case.id}/opnieuw")
    assert retried.status_code == 302 and retried.headers["Location"] == f"/casussen/{case.id}"


def test_case_pages_need_a_login_and_a_case_role(client, web_world):
    assert client.get("/casussen").status_code == 302
    log_in(client, "pieter")
    assert client.get("/casussen").status_code == 403


def test_ids_beyond_the_database_range_are_404_not_500(client, web_world):
    log_in(client, "sanne")

    for url in ("/taken/99999999999999999999", "/casussen/99999999999999999999"):
        assert client.get(url).status_code == 404
    assert client.post("/werkvoorraad/99999999999999999999/oppakken").status_code == 404
