"""A person logs in through the real login page in Chromium."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_caseworker_logs_in_and_sees_home_page(live_server, page, make_user):
    make_user("eva", organisation="De Goede Woning")

    page.goto(live_server + "/")
    assert page.url.startswith(live_server + "/login")
    page.get_by_label("Gebruikersnaam").fill("eva")
    page.get_by_label("Wachtwoord").fill("correct horse battery")
    page.get_by_role("button", name="Inloggen").click()

    page.get_by_role("heading", name="Welkom, eva").wait_for()
    assert "De Goede Woning" in page.content()
    assert page.url == live_server + "/"


def test_wrong_password_shows_dutch_error_at_the_form(live_server, page, make_user):
    make_user("eva")

    page.goto(live_server + "/login")
    page.get_by_label("Gebruikersnaam").fill("eva")
    page.get_by_label("Wachtwoord").fill("fout wachtwoord")
    page.get_by_role("button", name="Inloggen").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Onbekende gebruiker of onjuist wachtwoord" in alert.inner_text()
