"""Covenant coherence for the woonoverlast world: the case meeting and the coordinator cannot appoint a
partner that could not do the work, a covenant that would break running work is refused, and the police
never receive the vulnerability signals."""

from __future__ import annotations

import json

from api.extensions import db
from engine import covenant
from engine.covenant import CovenantVersion
from tests.conftest import COVENANT
from tests.processes.flow import ROOT

GGZ_WOONGEDRAG = 'woongedrag: {lezen: true, schrijven: true, grond: "AVG art. 6 lid 1 sub e; convenant art. 6 (casus'
GGZ_PROCES = ('  ggz:\n    procesgegevens: {lezen: true, schrijven: true,')


def _strict_ggz() -> str:
    """The shipped covenant, but GGZ may write neither woongedrag nor procesgegevens."""
    assert GGZ_WOONGEDRAG in COVENANT and GGZ_PROCES in COVENANT
    return COVENANT.replace(GGZ_WOONGEDRAG, GGZ_WOONGEDRAG.replace("schrijven: true", "schrijven: false")) \
        .replace(GGZ_PROCES, GGZ_PROCES.replace("schrijven: true", "schrijven: false")) \
        .replace('versie: "2026.2"', 'versie: "2026.2-streng"')


def _load(text: str) -> None:
    covenant.load_covenant(db.session, text=text, source="test")
    db.session.commit()


def test_the_meeting_refuses_a_casusregisseur_and_an_action_partner_that_could_not_complete(flow, referred):
    _load(_strict_ggz())
    ggz, gemeente = flow.organisation_id("GGZ Delfland"), flow.organisation_id("Gemeente Zoetermeer")
    meeting = flow.attend(referred)

    response = flow.record(meeting["id"], referred, casusregisseur_organisation_id=ggz,
                           next_evaluation=flow.in_days(28), actions=[
                               {"organisation_id": gemeente, "description": "Huisbezoek", "due_date": flow.in_days(7)},
                               {"organisation_id": ggz, "description": "Contact leggen", "due_date": flow.in_days(7)},
                           ])

    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert {e["field"] for e in errors} == {"casusregisseur_organisation_id", "actions.1.organisation_id"}
    regie = [e["message"] for e in errors if e["field"] == "casusregisseur_organisation_id"]
    assert any("GGZ Delfland" in m and "'voortgang'" in m and "'woongedrag'" in m for m in regie)
    [action] = [e["message"] for e in errors if e["field"] == "actions.1.organisation_id"]
    assert "GGZ Delfland" in action and "'uitgevoerd_op'" in action and "'procesgegevens'" in action
    assert flow.case(referred)["open_work_items"] == []  # nothing was recorded or started
    assert flow.meeting_of(referred)["id"] == meeting["id"]


def test_changing_the_casusregisseur_refuses_an_organisation_that_could_not_direct(flow, referred):
    gemeente, ggz = flow.organisation_id("Gemeente Zoetermeer"), flow.organisation_id("GGZ Delfland")
    flow.discuss(flow.attend(referred), referred, casusregisseur_organisation_id=gemeente,
                 next_evaluation=flow.in_days(28))
    _load(_strict_ggz())

    response = flow.client.put(f"/api/v1/cases/{referred}/casusregisseur", headers=flow.headers("coordinator"),
                               json={"organisation_id": ggz, "reason": "GGZ neemt het over"})

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors and all(e["field"] == "organisation_id" for e in errors)
    assert any("GGZ Delfland" in e["message"] and "'woongedrag'" in e["message"] for e in errors)
    roles = {r["case_role"]: r["organisation"]["name"] for r in flow.case(referred)["case_roles"]}
    assert roles["casusregisseur"] == "Gemeente Zoetermeer"


def test_with_the_shipped_covenant_ggz_directs_a_case_and_reports_its_action_as_care(flow, referred):
    ggz = flow.organisation_id("GGZ Delfland")
    flow.discuss(flow.attend(referred), referred, casusregisseur_organisation_id=ggz, next_evaluation=flow.in_days(28),
                 actions=[{"organisation_id": ggz, "description": "Contact leggen", "due_date": flow.in_days(7)}])

    flow.do("ggz", referred, "Afgesproken actie uitvoeren", uitgevoerd_op=flow.today().isoformat(),
            actie_resultaat="", actie_zorg="In behandeling genomen.")
    flow.do("ggz", referred, "Regie voeren en evaluatie voorbereiden", voortgang="Huurder in zorg.",
            overlast_aanhoudend="nee", vraag="Kan de casus worden gesloten?")

    police = flow.client.get(f"/api/v1/cases/{referred}", headers=flow.headers("politie")).get_json()
    [report] = [e for e in police["history"] if e["kind"] == "task_completed" and "actie_zorg" in
                (e["data"] or {}) | dict.fromkeys(e["shielded"])]
    assert "actie_zorg" in report["shielded"] and "In behandeling genomen." not in str(police)


def test_a_covenant_that_would_break_running_work_is_refused_with_what_it_would_break(flow):
    case_id = flow.start(titel="Overlast Dorpsstraat 12")  # "Melding registreren" waits for the corporation
    before = db.session.query(CovenantVersion).count()
    corporation_melding = '    melding: {lezen: true, schrijven: true, grond: "AVG art. 6 lid 1 sub f; BW art. 7:213'
    stricter = COVENANT.replace(
        corporation_melding, corporation_melding.replace("schrijven: true", "schrijven: false")
    ).replace("  signalen: zorg\n", "  signalen: woongedrag\n").replace('versie: "2026.2"', 'versie: "2026.3"')
    assert stricter.count("schrijven: false") > COVENANT.count("schrijven: false")

    response = flow.client.put("/api/v1/covenant", headers={**flow.headers("beheerder"),
                                                             "Content-Type": "application/yaml"}, data=stricter)

    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    item = flow.item("goedewoning", case_id, "Melding registreren")
    broken_item = next(e["message"] for e in errors if e["field"] == f"work_items.{item['id']}")
    assert "De Goede Woning" in broken_item and "'soort_overlast'" in broken_item and "'melding'" in broken_item
    assert any(e["field"] == "woonoverlast.Task_intake" and "'signalen'" in e["message"] for e in errors)
    assert db.session.query(CovenantVersion).count() == before
    assert flow.client.get("/api/v1/covenant", headers=flow.headers("beheerder")).get_json()["version"] == "2026.2"


def _signals_case(flow) -> int:
    """A vulnerable tenant reported by the corporation, referred, with the police's information given."""
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)
    return case_id


def test_a_police_token_never_receives_the_vulnerability_signals_through_the_api(flow):
    case_id = _signals_case(flow)

    coordinator = flow.client.get(f"/api/v1/cases/{case_id}", headers=flow.headers("coordinator"))
    police = flow.client.get(f"/api/v1/cases/{case_id}", headers=flow.headers("politie"))

    assert "Verward gedrag" in coordinator.get_data(as_text=True)  # it is there, for those who may read it
    assert police.status_code == 200
    body = police.get_data(as_text=True)
    assert "Verward gedrag" not in body
    [melding] = [e for e in police.get_json()["history"] if e["kind"] == "task_completed"
                 and "kwetsbaar" in e["shielded"]]
    assert {"kwetsbaar", "signalen"} <= set(melding["shielded"])
    assert "kwetsbaar" not in melding["data"] and "signalen" not in melding["data"]
    assert {"kwetsbaar", "signalen"} <= set(police.get_json()["shielded"])  # the case variables, named only
    assert "kwetsbaar" not in police.get_json()["data"]


def test_a_police_login_never_sees_the_vulnerability_signals_on_the_pages(flow):
    case_id = _signals_case(flow)
    response = flow.client.post("/login", data={"username": "politie", "password": "demo-wachtwoord"})
    assert response.status_code == 302

    case_page = flow.client.get(f"/casussen/{case_id}")

    assert case_page.status_code == 200
    assert "Verward gedrag" not in case_page.get_data(as_text=True)
    assert "Zijn er signalen dat de huurder kwetsbaar is?" in case_page.get_data(as_text=True)  # named as shielded


def test_check_covenant_is_clean_on_the_shipped_covenant_diagrams_and_forms(app, flow):
    app.config["FORMS_DIR"] = str(ROOT / "forms")

    result = app.test_cli_runner().invoke(args=["check-covenant"])

    assert result.exit_code == 0, result.output
    assert "is coherent" in result.output


def test_check_covenant_reports_every_conflict_and_exits_1(app, flow, tmp_path):
    strict = tmp_path / "convenant.yaml"
    strict.write_text(_strict_ggz(), encoding="utf-8")
    melding = json.loads((ROOT / "forms" / "melding.form").read_text(encoding="utf-8"))
    for component in melding["components"]:
        if component.get("key") == "signalen":
            component["properties"]["categorie"] = "woongedrag"
    (tmp_path / "melding.form").write_text(json.dumps(melding), encoding="utf-8")
    app.config["FORMS_DIR"] = str(tmp_path)

    result = app.test_cli_runner().invoke(args=["check-covenant", str(strict)])

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    ggz = [line for line in lines if "GGZ Delfland" in line]
    assert any("as casusregisseur" in line and "'woongedrag'" in line for line in ggz)
    assert any("as actie" in line and "'uitgevoerd_op'" in line for line in ggz)
    assert any("forms.melding" in line and "'signalen'" in line and "'zorg'" in line for line in lines)
    assert not any("Gemeente Zoetermeer" in line for line in lines)  # only what conflicts


def test_an_organisation_that_could_not_carry_on_as_melder_cannot_start_a_case(flow):
    # The municipality would receive the corporation's tasks as melder, and may not record the
    # vulnerability signals (zorg) that "Melding registreren" asks.
    response = flow.client.post("/api/v1/cases", headers=flow.headers("gemeente"),
                                json={"process": "woonoverlast", "data": {"titel": "Overlast Dorpsstraat 12"}})

    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors and all(e["field"] == "process" for e in errors)
    assert [e["message"] for e in errors if "Gemeente Zoetermeer" in e["message"] and "as melder" in e["message"]
            and "'kwetsbaar'" in e["message"] and "'zorg'" in e["message"]]
    assert flow.client.get("/api/v1/cases", headers=flow.headers("coordinator")).get_json() == []
