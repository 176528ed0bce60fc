"""An administrator creates an organisation and a user through the Beheer page, by keyboard."""

from __future__ import annotations

import pytest

from tests.browser.world import log_in_browser

pytestmark = pytest.mark.browser


def test_admin_creates_an_organisation_and_a_user(live_server, page, web_world):
    log_in_browser(page, live_server, "beheer")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Beheer", exact=True).click()

    organisation = page.get_by_role("region", name="Nieuwe organisatie")
    organisation.get_by_label("Naam").fill("GGD Haaglanden")
    organisation.get_by_label("Soort").select_option(label="GGD")
    organisation.get_by_label("Naam").focus()
    page.keyboard.press("Enter")  # submits the form, as a keyboard user would
    page.get_by_role("status").filter(has_text="Organisatie ‘GGD Haaglanden’ is aangemaakt.").wait_for()

    user = page.get_by_role("region", name="Nieuwe gebruiker")
    user.get_by_label("Gebruikersnaam").fill("anouk")
    user.get_by_label("Volledige naam").fill("Anouk Mulder")
    user.get_by_label("Organisatie").select_option("GGD Haaglanden")
    user.get_by_label("behandelaar").check()
    user.get_by_label("Wachtwoord", exact=True).fill("kort")
    user.get_by_label("Wachtwoord herhalen").fill("kort")
    user.get_by_role("button", name="Gebruiker aanmaken").click()

    error = page.get_by_text("Het wachtwoord moet minstens 10 tekens hebben.")
    error.wait_for()
    password = page.get_by_role("region", name="Nieuwe gebruiker").get_by_label("Wachtwoord", exact=True)
    assert password.get_attribute("aria-invalid") == "true"
    password.fill("een lang wachtwoord")
    page.get_by_role("region", name="Nieuwe gebruiker").get_by_label("Wachtwoord herhalen").fill("een lang wachtwoord")
    page.get_by_role("button", name="Gebruiker aanmaken").click()

    page.get_by_role("status").filter(has_text="Gebruiker ‘anouk’ is aangemaakt bij GGD Haaglanden.").wait_for()
    assert "Anouk Mulder" in page.get_by_role("region", name="Organisaties en gebruikers").inner_text()
