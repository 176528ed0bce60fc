"""Write checks, the access log's hash chain, retention and subject access, end to end."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
import time_machine
from sqlalchemy.orm import Session

from api.extensions import db
from engine import watch
from engine.clock import utcnow
from engine.notifications import SmtpSettings
from tests.api.flows import DIAGRAM, XML, complete, only_item, start


def test_start_data_without_a_covenant_category_is_refused(client, world):
    response = client.post("/api/v1/cases", headers=world["eva"],
                           json={"process": "overlast_test", "data": {"schoenmaat": 43}})

    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["data.schoenmaat"]


def test_an_organisation_cannot_record_a_category_it_may_not_write(client, world):
    # The corporation may not record criminal data (AVG art. 10) at all. (Health data it may pass on
    # as a signal of vulnerability, write-only: see processes/convenant.yaml.)
    response = client.post("/api/v1/cases", headers=world["eva"], json={
        "process": "overlast_test", "data": {"titel": "x", "politie_registratie": "BVH 2026-123"}})

    assert response.status_code == 403
    assert response.get_json()["problems"][0]["element"] == "data.politie_registratie"
    assert client.get("/api/v1/cases", headers=world["sanne"]).get_json() == []


def test_a_form_field_without_a_category_is_a_deployment_error(app, client, world, tmp_path):
    forms = Path(app.config["FORMS_DIR"])
    form = json.loads((forms / "brief.form").read_text())
    del form["components"][0]["properties"]
    (tmp_path / "brief.form").write_text(json.dumps(form))
    for name in ("onderzoek.form", "advies.form"):
        (tmp_path / name).write_text((forms / name).read_text())
    app.config["FORMS_DIR"] = str(tmp_path)
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Anders"')

    response = client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML})

    assert response.status_code == 422
    [problem] = response.get_json()["problems"]
    assert problem["element"] == "Task_brief" and "verzonden_op" in problem["message"]


def test_tampering_with_one_access_log_row_is_detected(app, client, world):
    start(client, world["eva"], titel="Dorpsstraat 1")
    client.get("/api/v1/cases", headers=world["sanne"])
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["verify-access-log"])
    assert intact.exit_code == 0 and "intact" in intact.output

    with db.engine.begin() as connection:
        connection.execute(sa.text("update access_log set purpose = 'iets anders' where seq = 1"))
    tampered = runner.invoke(args=["verify-access-log"])

    assert tampered.exit_code == 1
    assert "entry 1 was changed" in tampered.output


def test_deleting_the_newest_access_log_row_is_detected(app, client, world):
    start(client, world["eva"], titel="Dorpsstraat 1")
    client.get("/api/v1/cases", headers=world["sanne"])
    assert app.test_cli_runner().invoke(args=["verify-access-log"]).exit_code == 0  # seals the entries
    with db.engine.begin() as connection:
        connection.execute(sa.text("delete from access_log where seq = (select max(seq) from access_log)"))

    result = app.test_cli_runner().invoke(args=["verify-access-log"])

    assert result.exit_code == 1 and "but the head says" in result.output


def tick() -> watch.TickReport:
    db.session.remove()
    return watch.tick(lambda: Session(db.engine), SmtpSettings(host=None))


def closed_case(client, world, result: str, **data) -> int:
    case = start(client, world["eva"], titel="Dorpsstraat 9", bewoner="J. Jansen", melder_naam="Buurvrouw", **data)
    item = only_item(client, world["eva"])
    complete(client, world["eva"], item["id"], bevindingen="Opgelost na gesprek", ernst="ernstig")
    advice = only_item(client, world["sanne"])
    done = complete(client, world["sanne"], advice["id"], advies=f"resultaat {result}")
    assert done.get_json()["case"]["status"] == "completed"
    from engine.models import Case

    db.session.get(Case, case["id"]).result = result  # the test diagram has no closing form
    db.session.commit()
    return case["id"]


def test_retention_proposes_after_the_period_and_destruction_removes_personal_data(app, client, world, auth_headers):
    case_id = closed_case(client, world, "verhuisd")  # one year for 'verhuisd'
    with time_machine.travel(utcnow() + timedelta(days=300), tick=False):
        assert tick().destruction_proposed == 0
    with time_machine.travel(utcnow() + timedelta(days=370), tick=False):
        assert tick().destruction_proposed == 1
        assert tick().destruction_proposed == 0  # proposed once
        headers = auth_headers("sanne")  # a year later: yesterday's token has expired
        [proposal] = client.get("/api/v1/retention/proposals", headers=headers).get_json()
        assert proposal["case_id"] == case_id and proposal["status"] == "proposed"

        decided = client.post(f"/api/v1/retention/proposals/{proposal['id']}", headers=headers,
                              json={"approve": True})

        assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
        detail = client.get(f"/api/v1/cases/{case_id}", headers=headers).get_json()
        log = client.get(f"/api/v1/access-log?case_id={case_id}", headers=headers).get_json()
        again = client.post(f"/api/v1/retention/proposals/{proposal['id']}", headers=headers, json={"approve": True})

    assert detail["title"] == "[vernietigd]"
    assert all(event["data"] is None for event in detail["history"])
    assert "Jansen" not in json.dumps(detail) and "Buurvrouw" not in json.dumps(detail)
    assert any(e["action"] == "destroy" for e in log)
    assert app.test_cli_runner().invoke(args=["verify-access-log"]).exit_code == 0
    assert again.status_code == 409


def test_a_case_under_legal_hold_is_never_proposed(client, world):
    case_id = closed_case(client, world, "ontbinding_huurovereenkomst")
    hold = client.put(f"/api/v1/cases/{case_id}/legal-hold", headers=world["sanne"],
                      json={"reason": "Procedure bij de kantonrechter loopt"})
    assert hold.status_code == 200
    assert client.put(f"/api/v1/cases/{case_id}/legal-hold", headers=world["eva"], json={"reason": "x"}).status_code \
        == 403

    with time_machine.travel(utcnow() + timedelta(days=365 * 10), tick=False):
        assert tick().destruction_proposed == 0


def test_subject_access_export_lists_data_sources_and_recipients_with_the_reporter_redacted(client, world):
    case_id = closed_case(client, world, "overlast_beeindigd")
    client.get(f"/api/v1/cases/{case_id}", headers=world["eva"])  # the corporation reads it

    response = client.get("/api/v1/subjects/export?subject=j.  jansen", headers=world["sanne"])

    assert response.status_code == 200
    export = response.get_json()
    [case] = export["cases"]
    started = case["data"][0]
    assert started["data"]["bewoner"] == "J. Jansen" and started["source"]["organisation"] == "De Goede Woning"
    assert started["data"]["melder_naam"] == "[afgeschermd: identiteit melder]"
    assert "Buurvrouw" not in json.dumps(export)
    recipients = {r["organisation"]: r["categories"] for r in case["received_by"]}
    assert "basisgegevens" in recipients["De Goede Woning"]
    html = client.get("/api/v1/subjects/export?subject=J. Jansen&format=html", headers=world["sanne"])
    assert html.status_code == 200 and html.content_type.startswith("text/html")
    assert "Overzicht van uw gegevens" in html.get_data(as_text=True) and "Buurvrouw" not in html.get_data(as_text=True)
    log = client.get(f"/api/v1/access-log?case_id={case_id}", headers=world["sanne"]).get_json()
    assert sum(1 for e in log if e["action"] == "export") == 2  # both exports were logged
