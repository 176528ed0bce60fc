"""The case meeting endpoints: agendas, outcomes, the casusregisseur, the lead-time report, and
what each answers to bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.extensions import db
from engine.models import CaseEvent


def fields(response):
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    return {e["field"] for e in response.get_json()["errors"]}


def test_meetings_are_planned_fortnightly_on_tuesday_afternoon(flow):
    planned = flow.meetings()

    assert [m["scheduled_at"] for m in planned] == [
        "2026-03-03T13:00:00+00:00", "2026-03-17T13:00:00+00:00",
        "2026-03-31T12:00:00+00:00",  # 14:00 in Amsterdam, summer time by then
    ]
    assert all(m["status"] == "planned" and m["regular"] and m["agenda_size"] == 0 for m in planned)


def test_partners_see_the_agenda_but_only_the_coordinator_sees_outcomes(flow, referred):
    meeting = flow.meeting_of(referred)
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.attend(referred)
    flow.discuss(meeting, referred, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14))

    for_police = flow.agenda_of(meeting["id"], "politie")
    for_coordinator = flow.agenda_of(meeting["id"])

    [seen] = for_police["items"]
    assert seen["outcome"] is None and seen["discussed_at"] is not None
    assert seen["neighbourhood"] == "Palenstein" and seen["referring_organisation"]["name"] == "De Goede Woning"
    assert for_coordinator["items"][0]["outcome"]["casusregisseur"]["name"] == "GGD Haaglanden"
    assert for_coordinator["status"] == "held"


def test_recording_twice_is_409_and_changes_nothing(flow, referred):
    meeting = flow.attend(referred)
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(meeting, referred, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14))

    again = flow.record(meeting["id"], referred, decision="afsluiten")

    assert again.status_code == 409 and again.get_json()["type"].endswith(":conflict")
    assert flow.open_titles(referred) == ["Regie voeren en evaluatie voorbereiden"]


def test_outcome_for_unknown_meeting_or_case_is_404(flow, referred):
    meeting = flow.meeting_of(referred)

    assert flow.record(999_999, referred, decision="afsluiten").status_code == 404
    assert flow.record(meeting["id"], 999_999, decision="afsluiten").status_code == 404
    assert flow.client.get("/api/v1/meetings/999999", headers=flow.headers("coordinator")).status_code == 404
    assert flow.record(2**40, referred, decision="afsluiten").status_code == 404


def test_outcome_for_a_case_not_on_that_agenda_is_409(flow, referred):
    other = next(m for m in flow.meetings() if m["id"] != flow.meeting_of(referred)["id"])

    response = flow.record(other["id"], referred, decision="afsluiten")

    assert response.status_code == 409
    assert "not on the agenda" in response.get_json()["detail"]


def test_only_the_coordinator_records_outcomes_plans_meetings_and_changes_the_casusregisseur(flow, referred):
    meeting = flow.meeting_of(referred)
    gemeente = flow.headers("gemeente")  # a caseworker of the municipality, not the coordinator

    outcome = flow.client.post(f"/api/v1/meetings/{meeting['id']}/items/{referred}/outcome", headers=gemeente,
                               json={"decision": "afsluiten"})
    planned = flow.client.post("/api/v1/meetings", headers=gemeente,
                               json={"scheduled_at": (flow.now() + timedelta(days=3)).isoformat()})
    changed = flow.client.put(f"/api/v1/cases/{referred}/casusregisseur", headers=gemeente,
                              json={"organisation_id": flow.organisation_id("GGD Haaglanden")})
    report = flow.client.get("/api/v1/reports/lead-times", headers=gemeente)

    assert [r.status_code for r in (outcome, planned, changed, report)] == [403, 403, 403, 403]
    assert flow.meeting_of(referred)["items"][0]["discussed_at"] is None


def test_invalid_outcome_is_422_per_field_and_records_nothing(flow, referred):
    meeting = flow.attend(referred)
    ggd = flow.organisation_id("GGD Haaglanden")

    missing = flow.record(meeting["id"], referred, actions=[
        {"organisation_id": 999_999, "description": " ", "due_date": flow.in_days(-1)},
    ])
    malformed = flow.record(meeting["id"], referred, decision="misschien", next_evaluation="morgen",
                            actions=[{"organisation_id": ggd}])
    actions_without_regie = flow.record(meeting["id"], referred, decision="afsluiten", actions=[
        {"organisation_id": ggd, "description": "Huisbezoek", "due_date": flow.in_days(7)}])

    assert fields(missing) == {"casusregisseur_organisation_id", "next_evaluation", "actions.0.organisation_id",
                               "actions.0.description", "actions.0.due_date"}
    assert fields(malformed) == {"json.decision", "json.next_evaluation", "json.actions.0.description",
                                 "json.actions.0.due_date"}
    assert fields(actions_without_regie) == {"actions"}
    assert flow.meeting_of(referred)["items"][0]["discussed_at"] is None
    assert flow.case(referred)["case_roles"][0]["case_role"] == "melder"


def test_extra_meeting_must_be_in_the_future_and_not_double(flow):
    headers = flow.headers("coordinator")
    moment = (flow.now() + timedelta(days=5)).isoformat()

    created = flow.client.post("/api/v1/meetings", headers=headers, json={"scheduled_at": moment})
    double = flow.client.post("/api/v1/meetings", headers=headers, json={"scheduled_at": moment})
    past = flow.client.post("/api/v1/meetings", headers=headers,
                            json={"scheduled_at": (flow.now() - timedelta(hours=1)).isoformat()})
    naive = flow.client.post("/api/v1/meetings", headers=headers, json={"scheduled_at": "2026-06-01T10:00:00"})

    assert created.status_code == 201 and created.get_json()["regular"] is False
    assert double.status_code == 409
    assert fields(past) == {"scheduled_at"}
    assert fields(naive) == {"json.scheduled_at"}


def test_coordinator_changes_the_casusregisseur_and_open_tasks_move_along(flow, referred):
    ggd, zorg = flow.organisation_id("GGD Haaglanden"), flow.organisation_id("Participe Zorg en Welzijn")
    flow.discuss(flow.attend(referred), referred, casusregisseur_organisation_id=ggd,
                 next_evaluation=flow.in_days(14),
                 actions=[{"organisation_id": ggd, "description": "Huisbezoek", "due_date": flow.in_days(7)}])

    response = flow.client.put(f"/api/v1/cases/{referred}/casusregisseur", headers=flow.headers("coordinator"),
                               json={"organisation_id": zorg, "reason": "Zorgvraag staat voorop."})

    assert response.status_code == 200, response.get_json()
    case = response.get_json()
    assert {r["case_role"]: r["organisation"]["name"] for r in case["case_roles"]}["casusregisseur"] \
        == "Participe Zorg en Welzijn"
    assert flow.items("ggd", referred, "Regie voeren en evaluatie voorbereiden") == []
    assert flow.item("zorg", referred, "Regie voeren en evaluatie voorbereiden")
    assert flow.item("ggd", referred, "Afgesproken actie uitvoeren")  # the GGD's own action stays with the GGD
    # The history as recorded (the API may shield data fields from some readers).
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == referred).order_by(CaseEvent.id)).all()
    change = [e for e in events if e.kind == "case_role_assigned"][-1]
    assert change.data["reason"] == "Zorgvraag staat voorop."
    assert change.actor_organisation_id == flow.organisation_id("Gemeente Zoetermeer")
    assert any(e.kind == "work_item_moved" for e in events)


def test_changing_the_casusregisseur_answers_404_422_and_409(flow, referred):
    headers = flow.headers("coordinator")
    ggd = flow.organisation_id("GGD Haaglanden")

    unknown_case = flow.client.put("/api/v1/cases/999999/casusregisseur", headers=headers,
                                   json={"organisation_id": ggd})
    unknown_organisation = flow.client.put(f"/api/v1/cases/{referred}/casusregisseur", headers=headers,
                                           json={"organisation_id": 999_999})
    flow.discuss(flow.attend(referred), referred, decision="afsluiten")
    flow.do("gemeente", referred, "Casus afsluiten", resultaat="verhuisd")
    closed = flow.client.put(f"/api/v1/cases/{referred}/casusregisseur", headers=headers,
                             json={"organisation_id": ggd})

    assert unknown_case.status_code == 404
    assert fields(unknown_organisation) == {"organisation_id"}
    assert closed.status_code == 409


def test_lead_time_report_gives_median_and_80th_percentile_per_stage(flow):
    for wait in (2, 4, 6, 8, 10):  # days each case takes to be investigated
        case_id = flow.start(titel=f"Melding {wait}")
        flow.do("goedewoning", case_id, "Melding registreren", adres="Dorpsstraat 1", wijk="Dorp",
                soort_overlast="geluid", omschrijving="Geluid.", eerste_melding_op=flow.today().isoformat(),
                kwetsbaar="nee")
        flow.later(days=wait)
        flow.do("goedewoning", case_id, "Overlast onderzoeken", bevindingen="Bevestigd.", contact_huurder="ja",
                ernst="licht")
        flow.later(days=-wait)

    response = flow.client.get("/api/v1/reports/lead-times", headers=flow.headers("coordinator"))

    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    stages = {s["stage"]: s for s in report["stages"]}
    assert [s["stage"] for s in report["stages"]] == ["intake", "onderzoek", "eigen waarschuwing"]
    assert (stages["onderzoek"]["finished_periods"], stages["onderzoek"]["median_days"],
            stages["onderzoek"]["p80_days"]) == (5, 6.0, 8.4)
    assert stages["eigen waarschuwing"]["open_cases"] == 5
    assert (report["open_cases"], report["open_older_than_6_months"], report["open_older_than_9_months"]) == (5, 0, 0)

    flow.later(days=200)
    later = flow.client.get("/api/v1/reports/lead-times", headers=flow.headers("coordinator")).get_json()
    assert (later["open_older_than_6_months"], later["open_older_than_9_months"]) == (5, 0)
    since = flow.client.get(f"/api/v1/reports/lead-times?since={flow.in_days(1)}",
                            headers=flow.headers("coordinator")).get_json()
    assert all(s["finished_periods"] == 0 for s in since["stages"])
