"""The inbox page (werkvoorraad): filters with counts, claim and release through htmx and plain forms."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from engine.clock import utcnow
from tests.browser import world
from tests.browser.world import log_in

HTMX = {"HX-Request": "true"}

web_world = world.web_world  # the page-test world fixture, shared with tests/browser

def test_inbox_needs_a_login(client):
    response = client.get("/werkvoorraad")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_inbox_lists_the_organisations_open_items_with_counts(client, web_world):
    web_world.start_case(titel="Dorpsstraat 1")
    web_world.start_case(titel="Dorpsstraat 2")
    log_in(client, "eva")

    page = client.get("/werkvoorraad").get_data(as_text=True)

    assert page.count('<tr id="item-') == 2
    assert "Dorpsstraat 1" in page
    assert 'aria-label="2 taken"' in page


def test_claim_by_htmx_rerenders_the_table_with_the_claimer(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    response = client.post(f"/werkvoorraad/{item.id}/oppakken", data={"toon": "mijn"}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="inbox"')
    assert "is nu van jou" in body
    assert "Vrijgeven" in body and "Melding onderzoeken" in body


def test_claim_without_javascript_redirects_back_to_the_filter(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    response = client.post(f"/werkvoorraad/{item.id}/oppakken", data={"toon": "vrij"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/werkvoorraad?toon=vrij")


def test_claim_taken_by_a_colleague_shows_a_message_in_the_table(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "mark")
    client.post(f"/werkvoorraad/{item.id}/oppakken", headers=HTMX)
    client.post("/logout")
    log_in(client, "eva")

    response = client.post(f"/werkvoorraad/{item.id}/oppakken", headers=HTMX)

    assert response.status_code == 200
    assert "Iemand anders heeft deze taak al opgepakt." in response.get_data(as_text=True)


def test_claiming_another_organisations_item_is_404_as_if_missing(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "kees")

    assert client.post(f"/werkvoorraad/{item.id}/oppakken").status_code == 404
    htmx = client.post(f"/werkvoorraad/{item.id}/oppakken", headers=HTMX)
    assert htmx.status_code == 404
    missing = client.post("/werkvoorraad/999999/oppakken", headers=HTMX)
    assert htmx.get_data(as_text=True) == missing.get_data(as_text=True)


def test_unknown_item_is_404_and_unknown_filter_shows_all(client, web_world):
    web_world.start_case()
    log_in(client, "eva")

    assert client.post("/werkvoorraad/999999/oppakken").status_code == 404
    assert "Melding onderzoeken" in client.get("/werkvoorraad?toon=<script>").get_data(as_text=True)


def test_process_owner_without_caseworker_role_gets_403_page(client, web_world):
    log_in(client, "pieter")

    response = client.get("/werkvoorraad")

    assert response.status_code == 403
    assert "Geen toegang" in response.get_data(as_text=True)


def test_home_loads_the_inbox_for_caseworkers(client, web_world):
    log_in(client, "eva")

    page = client.get("/").get_data(as_text=True)

    assert "Welkom" in page and 'hx-get="/werkvoorraad/tabel"' in page


def test_filters_change_the_address_only_on_the_inbox_page(client, web_world):
    log_in(client, "eva")

    on_home = client.get("/werkvoorraad/tabel", headers={**HTMX, "HX-Current-URL": "http://localhost/"})
    on_inbox = client.get("/werkvoorraad/tabel", headers={**HTMX, "HX-Current-URL": "http://localhost/werkvoorraad"})

    assert "hx-push-url" not in on_home.get_data(as_text=True)
    assert "hx-push-url" in on_inbox.get_data(as_text=True)


def test_overdue_items_are_flagged_in_words_and_counted(client, web_world):
    with time_machine.travel(utcnow() - timedelta(days=10), tick=False):
        web_world.start_case(titel="Te laat")
    web_world.start_case(titel="Op tijd")
    log_in(client, "eva")

    page = client.get("/werkvoorraad?toon=te-laat").get_data(as_text=True)

    assert page.count('<tr id="item-') == 1 and "Te laat" in page
    assert '<span class="badge badge-late">Te laat</span>' in page and 'class="overdue"' in page
    assert 'aria-current="true" class="current">Te laat' in page
