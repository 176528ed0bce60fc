"""Who sees a casusoverleg agenda: caseworkers and coordinators of the organisation kinds the covenant
names as members; anyone else gets 404. Every agenda read is in the access log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.extensions import db
from engine import audit, covenant, demo
from engine.errors import InvalidInputError
from engine.models import Case
from tests.conftest import COVENANT


def agenda_reads(username: str) -> list[audit.AccessLogEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(audit.AccessLogEntry).where(
        audit.AccessLogEntry.username == username, audit.AccessLogEntry.purpose.like("casusoverleg%"))
        .order_by(audit.AccessLogEntry.id)))


def load_members(members: str) -> None:
    text = COVENANT.replace('versie: "2026.1"', 'versie: "2026.2"').replace(
        "leden: [gemeente, corporatie, politie, ggd, ggz, zorg]", f"leden: [{members}]")
    covenant.load_covenant(db.session, text=text, source="test")
    db.session.commit()


def test_the_covenant_names_the_members_of_the_casusoverleg():
    parsed = covenant.parse_covenant(COVENANT)
    assert parsed.meeting_members == {"gemeente", "corporatie", "politie", "ggd", "ggz", "zorg"}
    assert parsed.attends_meeting("politie")

    with pytest.raises(InvalidInputError) as refused:
        covenant.parse_covenant(COVENANT.replace("leden: [gemeente,", "leden: [buurtpreventie, gemeente,"))
    assert [p.element for p in refused.value.problems] == ["casusoverleg.leden"]
    assert covenant.parse_covenant(COVENANT.replace("casusoverleg:\n", "elders:\n")).meeting_members == set()


def test_a_member_sees_the_agenda_and_the_read_is_logged_per_case(flow, referred):
    meeting = flow.meeting_of(referred)
    reference = db.session.get(Case, referred).reference

    agenda = flow.agenda_of(meeting["id"], "politie")

    assert [i["case_reference"] for i in agenda["items"]] == [reference]
    [entry] = agenda_reads("politie")
    assert entry.case_id == referred and entry.subject == reference and entry.action == "read"
    assert "vraag" in entry.fields and "uitkomst" not in entry.fields
    flow.agenda_of(meeting["id"])  # the coordinator also sees outcomes, and that is logged too
    assert "uitkomst" in agenda_reads("coordinator")[-1].fields


def test_an_organisation_kind_outside_the_casusoverleg_gets_404_and_nothing_is_logged(flow, referred):
    meeting = flow.meeting_of(referred)
    load_members("gemeente, corporatie, ggd, ggz, zorg")

    response = flow.client.get(f"/api/v1/meetings/{meeting['id']}", headers=flow.headers("politie"))

    assert response.status_code == 404 and response.get_json()["detail"] == "There is no such meeting."
    assert agenda_reads("politie") == []
    assert flow.agenda_of(meeting["id"], "ggd")["items"]  # the members still do


@pytest.mark.parametrize("username", ["beheerder", "procesbeheer"])
def test_administering_is_no_seat_in_the_casusoverleg(flow, referred, username):
    meeting = flow.meeting_of(referred)

    response = flow.client.get(f"/api/v1/meetings/{meeting['id']}", headers=flow.headers(username))

    assert response.status_code == 404
    assert agenda_reads(username) == []


def test_the_agenda_page_is_logged_and_hidden_from_a_coordinator_outside_the_casusoverleg(client, flow, referred):
    meeting = flow.meeting_of(referred)
    response = client.post("/login", data={"username": "coordinator", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    before = len(agenda_reads("coordinator"))  # finding the meeting read its agenda through the API

    assert client.get(f"/casusoverleg/{meeting['id']}").status_code == 200
    entry = agenda_reads("coordinator")[-1]
    assert len(agenda_reads("coordinator")) == before + 1
    assert entry.case_id == referred and "uitkomst" in entry.fields

    load_members("corporatie, politie")
    assert client.get(f"/casusoverleg/{meeting['id']}").status_code == 404
    assert len(agenda_reads("coordinator")) == before + 1
