"""The coordinator records a meeting outcome and sees the case move on the dashboard.

The real woonoverlast diagrams and forms with the demo partners (tests/processes/flow.py), in real
time: a case is reported, investigated and referred, so it waits on the next meeting's agenda.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.extensions import db
from api.meetings import plan_meetings
from engine import catalog, demo
from engine.forms import load_forms
from engine.models import Case
from tests.browser.conftest import ARTIFACTS
from tests.processes.flow import ROOT, Woonoverlast

pytestmark = pytest.mark.browser


@pytest.fixture
def referred(app, client, live_server):
    """The demo world with a referred case on the agenda of the next meeting: the world and the case id."""
    app.config["TOKEN_LIFETIME_HOURS"] = 24
    demo.seed_demo(db.session)
    catalog.deploy_directory(db.session, ROOT / "processes", forms=load_forms(ROOT / "forms"))
    db.session.commit()
    plan_meetings(app)
    flow = Woonoverlast(client, app, clock=None)
    case_id = flow.report_and_investigate(kwetsbaar="ja", wijk="Palenstein")
    flow.refer(case_id)
    db.session.expire_all()
    return flow, case_id


def log_in(page, live_server):
    page.goto(live_server + "/login")
    page.get_by_label("Gebruikersnaam").fill("coordinator")
    page.get_by_label("Wachtwoord").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(live_server + "/")


def test_coordinator_records_an_outcome_and_sees_the_case_move_on(live_server, page, referred):
    flow, case_id = referred
    reference = db.session.get(Case, case_id).reference
    today = flow.today()
    log_in(page, live_server)

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Casusoverleg").click()
    upcoming = page.get_by_role("region", name="Komende overleggen")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "test_meetings-list.png"), full_page=True)
    upcoming.get_by_role("row").filter(has_text="1 casus").get_by_role("link").click()

    item = page.get_by_role("region", name=reference)
    facts = item.locator("dl").first.inner_text()
    assert "Palenstein" in facts and "De Goede Woning" in facts and "Wie kan contact leggen" in facts
    assert "Dorpsstraat" not in page.locator("main").inner_text()  # only the agenda's minimal data
    form = item.get_by_role("form", name=f"Uitkomst vastleggen voor {reference}")
    form.get_by_label("Casusregisseur", exact=True).select_option(label="GGD Haaglanden")
    form.get_by_label("Volgende evaluatie").fill((today + timedelta(days=28)).isoformat())
    form.get_by_label("Actie 1: omschrijving").fill("Huisbezoek met de wijkagent")
    form.get_by_label("Actie 1: organisatie").select_option(label="Politie Zoetermeer")
    form.get_by_label("Actie 1: deadline").fill((today + timedelta(days=10)).isoformat())
    page.screenshot(path=str(ARTIFACTS / "test_meetings-outcome-form.png"), full_page=True)
    form.get_by_role("button", name="Uitkomst vastleggen").click()

    assert f"De uitkomst voor {reference} is vastgelegd." in page.get_by_role("status").inner_text()
    recorded = page.get_by_role("region", name=reference).inner_text()
    assert "uitkomst vastgelegd" in recorded and "Huisbezoek met de wijkagent" in recorded

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Dashboard").click()
    stages = page.get_by_role("region", name="Open casussen per fase")
    assert stages.get_by_role("row").filter(has_text="regie en interventie").inner_text().split()[-1] == "1"
    assert "casusoverleg" not in stages.inner_text()
    page.screenshot(path=str(ARTIFACTS / "test_meetings-dashboard.png"), full_page=True)

    page.goto(f"{live_server}/casussen/{case_id}")
    roles = page.get_by_role("region", name="Rollen en deelnemers").inner_text()
    assert re.search(r"casusregisseur\s+GGD Haaglanden", roles), roles
