"""A small world for the web pages: organisations, people, role mappings and the test diagram deployed.

Shared by the browser tests and the page tests in tests/api/test_web_*.py (imported as a fixture).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.extensions import db
from engine import accounts, cases, catalog, roles
from engine.forms import load_forms
from engine.models import Case, User, WorkItem, WorkItemStatus
from tests.browser.diagrams import DRAWN_DIAGRAM

FIXTURES = Path(__file__).parent.parent / "fixtures"
PASSWORD = "correct horse battery"


@dataclass
class World:
    users: dict[str, User]

    def actor(self, username: str) -> accounts.Actor:
        return accounts.Actor.of(db.session.get(User, self.users[username].id))

    def start_case(self, username: str = "eva", **data: Any) -> Case:
        outcome = cases.start_case(db.session, process_key="overlast_test", data=data, actor=self.actor(username))
        db.session.commit()
        return outcome.case

    def open_items(self, username: str) -> list[WorkItem]:
        organisation = self.users[username].organisation_id
        return list(db.session.scalars(
            select(WorkItem).where(WorkItem.organisation_id == organisation, WorkItem.status == WorkItemStatus.OPEN)
            .order_by(WorkItem.id)
        ))


@pytest.fixture
def web_world(app: Any, make_user: Any) -> World:
    """Gemeente (coordinator, process owner, admin), a corporation and the police; the test diagram
    (with a drawing) deployed as version 1."""
    users = {
        "sanne": make_user("sanne", organisation="Gemeente Zoetermeer", kind="gemeente",
                           roles=("coordinator", "caseworker")),
        "pieter": make_user("pieter", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("process_owner",)),
        "beheer": make_user("beheer", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("admin",)),
        "eva": make_user("eva", organisation="De Goede Woning", kind="corporatie"),
        "mark": make_user("mark", organisation="De Goede Woning", kind="corporatie"),
        "kees": make_user("kees", organisation="Politie Zoetermeer", kind="politie"),
    }
    roles.replace_role_mappings(db.session, [
        roles.RoleMappingInput("Woningcorporatie", case_role=roles.MELDER),
        roles.RoleMappingInput("Gemeente", organisation="Gemeente Zoetermeer"),
        roles.RoleMappingInput("juristen", organisation="Gemeente Zoetermeer"),
    ])
    catalog.deploy_process(db.session, xml=DRAWN_DIAGRAM, filename="overlast_test.bpmn",
                           forms=load_forms(FIXTURES / "forms"))
    db.session.commit()
    return World(users)


def log_in(client: Any, username: str) -> None:
    """Log a Flask test client in through the login form (CSRF is off in the test app)."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def log_in_browser(page: Any, live_server: str, username: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(live_server + "/")
