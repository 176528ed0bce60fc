"""Beheer: administrators list and create organisations and users; others get 403."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from engine.models import Role, User
from tests.browser import world
from tests.browser.world import log_in

NEW_USER = {"user-username": "lotte", "user-full_name": "Lotte de Boer", "user-email": "",
            "user-organisation": "Politie Zoetermeer", "user-roles": ["caseworker", "coordinator"],
            "user-password": "een lang wachtwoord", "user-password_again": "een lang wachtwoord"}

web_world = world.web_world  # the page-test world fixture, shared with tests/browser

def test_admin_page_lists_organisations_and_users(client, web_world):
    log_in(client, "beheer")

    page = client.get("/beheer").get_data(as_text=True)

    assert "De Goede Woning" in page and "Politie Zoetermeer" in page and "kees" in page
    assert '<label for="org-name">Naam</label>' in page


def test_admin_creates_an_organisation_then_a_user_with_roles(client, web_world):
    log_in(client, "beheer")

    created = client.post("/beheer/organisaties", data={"org-name": "GGD Haaglanden", "org-kind": "ggd",
                                                          "org-email": "vangnet@ggd.example"})
    user = client.post("/beheer/gebruikers", data={**NEW_USER, "user-organisation": "GGD Haaglanden"})

    assert created.status_code == 302 and user.status_code == 302
    row = db.session.scalar(select(User).where(User.username == "lotte"))
    assert row.organisation.name == "GGD Haaglanden" and row.roles == {Role.CASEWORKER, Role.COORDINATOR}
    assert "Gebruiker ‘lotte’ is aangemaakt" in client.get("/beheer").get_data(as_text=True)


def test_duplicate_organisation_and_bad_user_input_are_422_at_the_fields(client, web_world):
    log_in(client, "beheer")

    duplicate = client.post("/beheer/organisaties", data={"org-name": "De Goede Woning", "org-kind": "corporatie"})
    taken = client.post("/beheer/gebruikers", data={**NEW_USER, "user-username": "eva"})
    short = client.post("/beheer/gebruikers", data={**NEW_USER, "user-password": "kort",
                                                     "user-password_again": "kort", "user-roles": []})
    bad_kind = client.post("/beheer/organisaties", data={"org-name": "X", "org-kind": "bank"})

    assert duplicate.status_code == 422
    assert "Er bestaat al een organisatie ‘De Goede Woning’." in duplicate.get_data(as_text=True)
    assert taken.status_code == 422 and "Er bestaat al een gebruiker ‘eva’." in taken.get_data(as_text=True)
    assert short.status_code == 422
    assert "minstens 10 tekens" in short.get_data(as_text=True) and "Kies minstens één rol." in short.get_data(
        as_text=True)
    assert bad_kind.status_code == 422


def test_only_admins_reach_the_admin_pages(client, web_world):
    log_in(client, "sanne")

    assert client.get("/beheer").status_code == 403
    assert client.post("/beheer/organisaties", data={"org-name": "X", "org-kind": "ggd"}).status_code == 403
