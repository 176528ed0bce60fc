"""A failing script puts the case in error without repeating case data anywhere a partner or the
server log could see it; the full text is only in the covenant-filtered diagnostics."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from api.extensions import db
from engine.audit import AccessLogEntry
from engine.models import CaseDiagnostic
from tests.api.flows import XML
from tests.api.script_diagrams import script_diagram

SECRET = "verward gedrag 4711"


@pytest.fixture
def failing(client, world, make_user, auth_headers):
    """A case reported by the corporation (its melder lane needs melding data, which it may write) whose
    script does int(signalen_kwetsbaarheid), police admitted."""
    make_user("agent", organisation="Politie Zoetermeer", kind="politie", roles=("process_owner",))
    headers = {**world, "agent": auth_headers("agent")}
    xml = script_diagram("score", "score = int(signalen_kwetsbaarheid) * 2")
    deployed = client.post("/api/v1/process-models?filename=score.bpmn", data=xml, headers={**world["pieter"], **XML})
    assert deployed.status_code == 201, deployed.get_json()
    kees = db.session.scalar(select(db.metadata.tables["users"].c.organisation_id).where(
        db.metadata.tables["users"].c.username == "kees"))
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("engine")
    logger.disabled = logging.getLogger("engine.execution").disabled = False  # alembic's fileConfig disables them
    logger.addHandler(handler)
    try:
        started = client.post("/api/v1/cases", headers=headers["eva"],
                              json={"process": "score", "data": {"signalen_kwetsbaarheid": SECRET}})
    finally:
        logger.removeHandler(handler)
    assert started.status_code == 201, started.get_json()
    case_id = started.get_json()["id"]
    admitted = client.post(f"/api/v1/cases/{case_id}/participants", headers=world["sanne"],
                           json={"organisation_id": kees, "reason": "gezamenlijk huisbezoek"})
    assert admitted.status_code == 200, admitted.get_json()
    log = [(r.name, r.getMessage(), r.exc_info, r.exc_text) for r in records]
    return {"case_id": case_id, "headers": headers, "started": started.get_json(), "log": log}


def test_case_error_names_element_and_failure_kind_but_no_value(client, failing):
    case_id, headers = failing["case_id"], failing["headers"]
    police = client.get(f"/api/v1/cases/{case_id}", headers=headers["kees"])
    listed = client.get("/api/v1/cases", headers=headers["kees"])

    assert police.status_code == 200
    error = police.get_json()["error"]
    assert police.get_json()["status"] == "error"
    assert error["element"] == "Script_bereken"
    assert error["message"] == "Running 'Score berekenen' failed: ValueError (script line 1)."
    assert failing["started"]["error"] == error  # what the corporation saw when starting it
    for text in (police.get_data(as_text=True), listed.get_data(as_text=True)):
        assert "4711" not in text
    # Nor in the server log, with or without a traceback: element and exception type only.
    assert not any("4711" in message for _, message, _, _ in failing["log"])
    assert all(info is None and text is None for _, _, info, text in failing["log"])
    assert ("engine.execution", f"case {failing['started']['reference']} failed at element Script_bereken: "
            "ValueError", None, None) in failing["log"]


def test_case_page_shows_no_value_either(client, failing):
    response = client.post("/login", data={"username": "kees", "password": "correct horse battery"})
    assert response.status_code == 302

    html = client.get(f"/casussen/{failing['case_id']}").get_data(as_text=True)

    assert "Score berekenen" in html
    assert "4711" not in html


def test_process_owner_who_may_read_every_category_sees_the_full_text(client, failing):
    response = client.get(f"/api/v1/cases/{failing['case_id']}/diagnostics", headers=failing["headers"]["pieter"])

    assert response.status_code == 200
    [diagnostic] = response.get_json()
    assert diagnostic["element"] == "Script_bereken"
    assert diagnostic["exception"] == "ValueError"
    assert SECRET in diagnostic["detail"]
    assert diagnostic["withheld_categories"] == []
    logged = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.purpose == "diagnose procesfout")).all()
    assert [(e.username, e.case_id, e.categories) for e in logged] == [("pieter", failing["case_id"], ["zorg"])]


def test_process_owner_whose_organisation_may_not_read_a_category_gets_no_text(client, failing):
    response = client.get(f"/api/v1/cases/{failing['case_id']}/diagnostics", headers=failing["headers"]["agent"])

    assert response.status_code == 200
    [diagnostic] = response.get_json()
    assert diagnostic["exception"] == "ValueError"
    assert diagnostic["detail"] is None
    assert diagnostic["withheld_categories"] == ["zorg"]
    assert "4711" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who, status", [("eva", 403), ("kees", 403), ("sanne", 200)])
def test_only_process_owners_and_the_coordinator_read_diagnostics(client, failing, who, status):
    response = client.get(f"/api/v1/cases/{failing['case_id']}/diagnostics", headers=failing["headers"][who])

    assert response.status_code == status


def test_unknown_case_has_no_diagnostics(client, failing):
    assert client.get("/api/v1/cases/999999/diagnostics", headers=failing["headers"]["pieter"]).status_code == 404


def test_destroying_a_case_removes_its_diagnostics(failing):
    from engine import retention
    from engine.accounts import Actor
    from engine.clock import utcnow
    from engine.models import Case, User

    sanne = db.session.scalar(select(User).where(User.username == "sanne"))
    retention.destroy(db.session, Actor.of(sanne), db.session.get(Case, failing["case_id"]), utcnow())
    db.session.commit()

    assert db.session.scalars(select(CaseDiagnostic)).all() == []


@pytest.mark.parametrize("script, due_date, message", [
    ("x = 'a' * 10**10", None,
     "Code in 'Score berekenen' was stopped: it tried to build a value larger than allowed."),
    ("while True:\n    pass", None, "Code in 'Score berekenen' was stopped: it ran longer than its time budget."),
    ("x = 1", "'P%dD' % sum(range(10**11))",
     "Code in 'Task_nakijken' was stopped: it tried to build a value larger than allowed."),
])
def test_runaway_code_puts_the_case_in_error_with_a_value_free_message(client, world, script, due_date, message):
    xml = script_diagram("loper", script, due_date=due_date)
    assert client.post("/api/v1/process-models?filename=loper.bpmn", data=xml,
                       headers={**world["pieter"], **XML}).status_code == 201

    started = client.post("/api/v1/cases", headers=world["eva"], json={"process": "loper", "data": {}})

    assert started.status_code == 201
    body = started.get_json()
    assert body["status"] == "error"
    assert body["error"]["message"] == message
    [diagnostic] = client.get(f"/api/v1/cases/{body['id']}/diagnostics", headers=world["pieter"]).get_json()
    assert diagnostic["exception"] == "ScriptLimitError"
