"""Deploying diagrams through the API: refusals name the element and line; nothing half-deployed."""

from __future__ import annotations

import pytest

from tests.api.flows import DIAGRAM, XML, complete, only_item, start


@pytest.fixture
def headers(world):
    return {**world["pieter"], **XML}


def deploy(client, headers, xml: bytes, filename: str = "x.bpmn"):
    return client.post(f"/api/v1/process-models?filename={filename}", data=xml, headers=headers)


def problems(response) -> list[dict]:
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert response.get_json()["type"].endswith(":invalid-diagram")
    return response.get_json()["problems"]


def test_unmapped_lane_is_refused_naming_the_element_and_line(client, headers):
    xml = DIAGRAM.replace(b'name="Gemeente">', b'name="Bakkerij">')

    found = problems(deploy(client, headers, xml))

    elements = {p["element"] for p in found}
    assert {"Task_advies", "Task_escaleren"} <= elements or "Task_escaleren" in elements
    assert all(p["line"] for p in found)
    assert any("Bakkerij" in p["message"] for p in found)


def test_unknown_form_key_is_refused(client, headers):
    xml = DIAGRAM.replace(b'camunda:formKey="brief"', b'camunda:formKey="bestaat-niet"')
    found = problems(deploy(client, headers, xml))

    assert [p["element"] for p in found] == ["Task_brief"]
    assert "bestaat-niet" in found[0]["message"]


def test_every_problem_is_reported_not_just_the_first(client, headers):
    xml = (
        DIAGRAM.replace(b'camunda:formKey="brief"', b'camunda:formKey="weg"')
        .replace(b'tFormalExpression">P14D', b'tFormalExpression">P14X')
        .replace(b'ernst == "ernstig"', b"__import__('os').system('true')")
    )

    found = problems(deploy(client, headers, xml))

    assert {p["element"] for p in found} >= {"Task_brief", "Timer_brief", "Flow_ernstig"}


def test_external_entity_is_refused(client, headers):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')

    found = problems(deploy(client, headers, xxe))

    assert found[0]["code"] == "doctype"
    assert "root:" not in str(found)


def test_not_xml_and_not_bpmn_are_refused(client, headers):
    assert problems(deploy(client, headers, b"this is not xml"))[0]["code"] == "xml"
    assert problems(deploy(client, headers, b"<html><body/></html>"))


def test_no_executable_process_is_refused(client, headers):
    found = problems(deploy(client, headers, DIAGRAM.replace(b'isExecutable="true"', b'isExecutable="false"')))

    assert any(p["code"] == "not_executable" for p in found)


def test_oversized_diagram_is_413(client, headers):
    big = DIAGRAM.replace(b"</bpmn:definitions>", b"<!--" + b"x" * 2_100_000 + b"--></bpmn:definitions>")

    response = deploy(client, headers, big)

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"


def test_json_body_is_415(client, world):
    response = client.post("/api/v1/process-models", json={"xml": "<x/>"}, headers=world["pieter"])

    assert response.status_code == 415


def test_refused_diagram_stores_nothing(client, headers, world):
    deploy(client, headers, DIAGRAM.replace(b'camunda:formKey="brief"', b'camunda:formKey="weg"'))

    listed = client.get("/api/v1/process-models", headers=world["eva"]).get_json()
    assert [p["newest_version"] for p in listed] == [1]


def test_unknown_version_is_404(client, world):
    assert client.get("/api/v1/process-models/overlast_test/versions/9", headers=world["eva"]).status_code == 404
    assert client.get("/api/v1/process-models/nope/versions/1", headers=world["eva"]).status_code == 404


def test_sandbox_violation_at_run_time_puts_the_case_in_error_not_the_server(client, headers, world):
    # A condition that only fails on the data it meets: deploy-time checks cannot see it.
    xml = DIAGRAM.replace(b'ernst == "ernstig"', b'ernst.upper().__class__ == str').replace(
        b'id="overlast_test"', b'id="overlast_kwaad"')
    found = problems(deploy(client, headers, xml, "kwaad.bpmn"))
    assert [p["element"] for p in found] == ["Flow_ernstig"]  # refused at deploy time where detectable

    runtime_bad = DIAGRAM.replace(b'ernst == "ernstig"', b'ernst + 1 == 2').replace(
        b'id="overlast_test"', b'id="overlast_fout"')
    assert deploy(client, headers, runtime_bad, "fout.bpmn").status_code == 201
    case = client.post("/api/v1/cases", headers=world["eva"], json={"process": "overlast_fout", "data": {}}).get_json()
    item = only_item(client, world["eva"])

    response = complete(client, world["eva"], item["id"], bevindingen="x", ernst="licht")

    assert response.status_code == 422
    assert response.get_json()["type"].endswith(":script-error")
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=world["sanne"]).get_json()
    assert detail["status"] == "error"
    assert detail["error"]["element"] == "Gateway_ernstig"  # where the condition was evaluated
    assert [w["id"] for w in detail["open_work_items"]] == [item["id"]]  # the input is kept, task still open
    assert client.get("/api/v1/me", headers=world["eva"]).status_code == 200  # the server is fine


def test_unroutable_task_puts_case_in_error_until_the_role_is_mapped(client, world):
    start(client, world["eva"])
    item = only_item(client, world["eva"])
    # The lawyers' mapping disappears before the case reaches their task.
    client.put("/api/v1/roles", headers=world["beheer"], json={"mappings": [
        {"role": "Woningcorporatie", "case_role": "melder"},
        {"role": "Gemeente", "organisation": "Gemeente Zoetermeer"},
    ]})

    done = complete(client, world["eva"], item["id"], bevindingen="x", ernst="ernstig")

    # The corporation's work is done and saved; it is the next task that nobody can receive.
    assert done.status_code == 200 and done.get_json()["work_item"]["status"] == "completed"
    case_id = item["case_id"]
    detail = client.get(f"/api/v1/cases/{case_id}", headers=world["sanne"]).get_json()
    assert detail["status"] == "error" and "juristen" in detail["error"]["message"]
    assert client.get("/api/v1/cases?status=error", headers=world["sanne"]).get_json()[0]["id"] == case_id
    assert client.post(f"/api/v1/cases/{case_id}/retry", headers=world["eva"]).status_code == 403

    client.put("/api/v1/roles", headers=world["beheer"], json={"mappings": [
        {"role": "Woningcorporatie", "case_role": "melder"},
        {"role": "Gemeente", "organisation": "Gemeente Zoetermeer"},
        {"role": "juristen", "organisation": "Gemeente Zoetermeer"},
    ]})
    retried = client.post(f"/api/v1/cases/{case_id}/retry", headers=world["sanne"])

    assert retried.status_code == 200 and retried.get_json()["status"] == "active"
    assert [w["title"] for w in retried.get_json()["open_work_items"]] == ["Juridisch advies geven"]
    assert only_item(client, world["sanne"])["role"] == "juristen"


def test_plain_bpmn_task_becomes_a_work_item(client, headers, world):
    xml = (
        DIAGRAM.replace(b'<bpmn:userTask id="Task_onderzoek"', b'<bpmn:task id="Task_onderzoek"')
        .replace(b"</bpmn:userTask>\n    <bpmn:exclusiveGateway", b"</bpmn:task>\n    <bpmn:exclusiveGateway")
        .replace(b'id="overlast_test"', b'id="overlast_taak"')
    )
    assert deploy(client, headers, xml, "taak.bpmn").status_code == 201

    client.post("/api/v1/cases", headers=world["eva"], json={"process": "overlast_taak", "data": {}})

    assert only_item(client, world["eva"])["title"] == "Melding onderzoeken"
