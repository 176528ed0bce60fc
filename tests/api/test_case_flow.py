"""End to end through the API: deploy a Camunda-style diagram, run a case to its end with each
task done by the right organisation, a boundary timer escalating a stalled task."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy.orm import Session

from api.extensions import db
from engine import timers
from engine.clock import utcnow
from tests.api.flows import DIAGRAM, XML, complete, only_item, start


def test_redeploying_the_same_diagram_keeps_its_version(client, world):
    again = client.post("/api/v1/process-models", data=DIAGRAM, headers={**world["pieter"], **XML})

    assert again.status_code == 200
    assert again.get_json()["version"] == 1
    listed = client.get("/api/v1/process-models", headers=world["eva"]).get_json()
    assert [(p["key"], p["newest_version"]) for p in listed] == [("overlast_test", 1)]
    xml = client.get("/api/v1/process-models/overlast_test/versions/1", headers=world["eva"])
    assert xml.status_code == 200 and xml.data == DIAGRAM


def test_serious_nuisance_goes_to_the_municipality_lawyers_and_ends(client, world):
    case = start(client, world["eva"], adres="Dorpsstraat 1")
    assert case["reference"] == f"WO-{utcnow().year}-00001"
    assert case["status"] == "active" and case["stage"] == "onderzoek"
    item = only_item(client, world["eva"])
    assert item["title"] == "Melding onderzoeken"
    assert item["organisation"]["name"] == "De Goede Woning"
    assert item["due_at"] is not None

    done = complete(client, world["eva"], item["id"], bevindingen="Stank en geschreeuw", ernst="ernstig")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["case"] == {"id": case["id"], "reference": case["reference"], "status": "active",
                                       "stage": done.get_json()["case"]["stage"]}
    assert done.get_json()["next_items"] == []  # the advice is for the municipality, not for eva
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=world["eva"]).get_json()
    assert [w["title"] for w in detail["open_work_items"]] == ["Juridisch advies geven"]

    advice = only_item(client, world["sanne"])
    assert advice["role"] == "juristen"
    final = complete(client, world["sanne"], advice["id"], advies="Gedragsaanwijzing voorbereiden")

    assert final.status_code == 200
    assert final.get_json()["case"]["status"] == "completed"
    body = client.get(f"/api/v1/cases/{case['id']}", headers=world["sanne"]).get_json()
    assert body["status"] == "completed" and body["closed_at"] is not None
    submitted = [e["data"] for e in body["history"] if e["kind"] == "task_completed"]
    assert submitted == [
        {"bevindingen": "Stank en geschreeuw", "ernst": "ernstig"},
        {"advies": "Gedragsaanwijzing voorbereiden"},
    ]
    actors = [e["actor"]["organisation"] for e in body["history"] if e["kind"] == "task_completed"]
    assert actors == ["De Goede Woning", "Gemeente Zoetermeer"]


def test_ignored_warning_letter_escalates_after_14_days(app, client, world):
    case = start(client, world["eva"], adres="Dorpsstraat 2")
    item = only_item(client, world["eva"])
    complete(client, world["eva"], item["id"], bevindingen="Vervuilde woning", ernst="licht")
    letter = only_item(client, world["eva"])
    assert letter["title"] == "Waarschuwingsbrief sturen"
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=world["sanne"]).get_json()
    assert [t["title"] for t in detail["pending_timers"]] == ["14 dagen verstreken"]

    with time_machine.travel(utcnow() + timedelta(days=13), tick=False):
        assert timers.sweep(lambda: Session(db.engine)).fired == 0
    with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
        report = timers.sweep(lambda: Session(db.engine))
        assert report.fired == 1
        again = timers.sweep(lambda: Session(db.engine))
        assert again.fired == 0  # fired exactly once

    db.session.expire_all()
    headers = {"Authorization": world["sanne"]["Authorization"]}
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=headers).get_json()
    assert [w["title"] for w in detail["open_work_items"]] == ["Escaleren naar casusoverleg"]
    assert detail["pending_timers"] == []
    assert client.get("/api/v1/work-items", headers=world["eva"]).get_json() == []
    kinds = [e["kind"] for e in detail["history"]]
    assert "timer_fired" in kinds and "task_cancelled" in kinds
    escalation = only_item(client, world["sanne"])
    assert complete(client, world["sanne"], escalation["id"], advies="Agenderen").get_json()["case"]["status"] \
        == "completed"


def test_another_organisations_item_answers_like_a_missing_one(client, world):
    start(client, world["eva"])
    item = only_item(client, world["eva"])

    other = client.get(f"/api/v1/work-items/{item['id']}", headers=world["kees"])
    missing = client.get("/api/v1/work-items/999999", headers=world["kees"])
    assert other.status_code == missing.status_code == 404
    assert other.get_json()["detail"] == missing.get_json()["detail"]
    response = complete(client, world["kees"], item["id"], bevindingen="x", ernst="licht")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert client.get("/api/v1/work-items", headers=world["kees"]).get_json() == []


def test_invalid_form_data_is_422_per_field_and_changes_nothing(client, world):
    case = start(client, world["eva"])
    item = only_item(client, world["eva"])

    response = complete(client, world["eva"], item["id"], ernst="heel erg", aantal_meldingen=-3, onbekend=1)

    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"data.bevindingen", "data.ernst", "data.aantal_meldingen", "data.onbekend"}
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=world["eva"]).get_json()
    assert [w["id"] for w in detail["open_work_items"]] == [item["id"]]
    assert not [e for e in detail["history"] if e["kind"] == "task_completed"]


def test_second_completion_of_the_same_item_is_409(client, world):
    start(client, world["eva"])
    item = only_item(client, world["eva"])
    assert complete(client, world["eva"], item["id"], bevindingen="x", ernst="ernstig").status_code == 200

    second = complete(client, world["eva"], item["id"], bevindingen="x", ernst="ernstig")

    assert second.status_code == 409
    assert second.get_json()["type"].endswith(":conflict")


def test_claimed_item_cannot_be_completed_by_a_colleague(client, world, make_user, auth_headers):
    make_user("mark", organisation="De Goede Woning")
    start(client, world["eva"])
    item = only_item(client, world["eva"])
    assert client.post(f"/api/v1/work-items/{item['id']}/claim", headers=world["eva"]).get_json()["claimed_by"] == "eva"

    colleague = auth_headers("mark")
    assert client.post(f"/api/v1/work-items/{item['id']}/claim", headers=colleague).status_code == 409
    assert complete(client, colleague, item["id"], bevindingen="x", ernst="licht").status_code == 409
    assert client.get("/api/v1/work-items?mine=true", headers=world["eva"]).get_json()[0]["id"] == item["id"]
    assert client.get("/api/v1/work-items?unclaimed=true", headers=colleague).get_json() == []
    assert client.post(f"/api/v1/work-items/{item['id']}/unclaim", headers=world["eva"]).status_code == 200
    assert complete(client, colleague, item["id"], bevindingen="x", ernst="licht").status_code == 200


def test_non_participating_organisation_does_not_see_the_case(client, world):
    case = start(client, world["eva"])

    assert client.get(f"/api/v1/cases/{case['id']}", headers=world["kees"]).status_code == 404
    assert client.get("/api/v1/cases", headers=world["kees"]).get_json() == []
    assert [c["id"] for c in client.get("/api/v1/cases", headers=world["sanne"]).get_json()] == [case["id"]]


def test_case_list_filters_by_status_process_and_stage(client, world):
    first = start(client, world["eva"])
    start(client, world["eva"])
    item = client.get("/api/v1/work-items", headers=world["eva"]).get_json()
    mine = next(i for i in item if i["case_id"] == first["id"])
    complete(client, world["eva"], mine["id"], bevindingen="x", ernst="licht")

    by_stage = client.get("/api/v1/cases?stage=eigen waarschuwing", headers=world["sanne"]).get_json()
    assert [c["id"] for c in by_stage] == [first["id"]]
    assert len(client.get("/api/v1/cases?process=overlast_test&status=active", headers=world["sanne"]).get_json()) == 2
    assert client.get("/api/v1/cases?status=completed", headers=world["sanne"]).get_json() == []
    assert client.get("/api/v1/cases?status=bogus", headers=world["sanne"]).status_code == 422


def test_starting_an_unknown_process_is_404(client, world):
    response = client.post("/api/v1/cases", headers=world["eva"], json={"process": "nope", "data": {}})

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_only_process_owners_deploy(client, world):
    response = client.post("/api/v1/process-models", data=DIAGRAM, headers={**world["eva"], **XML})

    assert response.status_code == 403


def test_new_version_for_new_cases_running_cases_stay_on_theirs(client, world):
    old_case = start(client, world["eva"])
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Melding grondig onderzoeken"')

    deployed = client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML})
    new_case = start(client, world["eva"])

    assert deployed.status_code == 201 and deployed.get_json()["version"] == 2
    assert old_case["process"]["version"] == 1 and new_case["process"]["version"] == 2
    titles = sorted(i["title"] for i in client.get("/api/v1/work-items", headers=world["eva"]).get_json())
    assert titles == ["Melding grondig onderzoeken", "Melding onderzoeken"]
