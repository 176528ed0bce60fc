"""Procesbeheer and Formulieren pages: versions, downloads, deploying from the modeler, checking forms."""

from __future__ import annotations

import json

import pytest

from tests.browser import world
from tests.browser.diagrams import DRAWN_DIAGRAM
from tests.browser.world import log_in

XML = {"Content-Type": "application/xml", "Accept": "application/json"}

web_world = world.web_world  # the page-test world fixture, shared with tests/browser

def deploy(client, xml: bytes, filename: str = "overlast_test.bpmn", headers=XML):
    return client.post(f"/procesbeheer/deploy?bestandsnaam={filename}", data=xml, headers=headers)


def test_process_list_shows_versions_with_downloads(client, web_world):
    log_in(client, "pieter")

    page = client.get("/procesbeheer").get_data(as_text=True)
    download = client.get("/procesbeheer/overlast_test/versies/1.bpmn")

    assert "Overlast (testproces)" in page and "/procesbeheer/overlast_test/versies/1.bpmn" in page
    assert download.status_code == 200 and download.data == DRAWN_DIAGRAM
    assert download.headers["Content-Disposition"] == 'attachment; filename="overlast_test-v1.bpmn"'


def test_modeler_opens_the_newest_version(client, web_world):
    log_in(client, "pieter")

    page = client.get("/procesbeheer/overlast_test/bewerken").get_data(as_text=True)

    data = json.loads(page.split('id="modeler-data">')[1].split("</script>")[0])
    assert data["xml"] == DRAWN_DIAGRAM.decode() and data["filename"] == "overlast_test.bpmn"
    assert client.get("/procesbeheer/nope/bewerken").status_code == 404


def test_deploy_creates_the_next_version_and_the_same_content_keeps_it(client, web_world):
    log_in(client, "pieter")
    changed = DRAWN_DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Melding grondig onderzoeken"')

    first = deploy(client, changed)
    again = deploy(client, changed)

    assert first.status_code == 201 and first.get_json()["version"] == 2
    assert "Versie 2" in first.get_json()["message"]
    assert again.status_code == 200 and again.get_json()["created"] is False


def test_broken_diagram_is_422_with_problems_per_element(client, web_world):
    log_in(client, "pieter")
    broken = DRAWN_DIAGRAM.replace(b'camunda:formKey="onderzoek"', b'camunda:formKey="bestaat_niet"')

    response = deploy(client, broken)

    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == "Het diagram kan niet in gebruik worden genomen."
    problem = body["problems"][0]
    assert problem["element"] == "Task_onderzoek" and problem["heading"] == "Onbekend formulier"
    assert problem["line"] and "bestaat_niet" in problem["message"]


@pytest.mark.parametrize(("body", "filename", "headers", "status"), [
    (b"<not xml", "overlast_test.bpmn", XML, 422),
    (b"<x/>", "../etc/passwd.bpmn", XML, 422),
    (b"<x/>", "overlast_test.txt", XML, 422),
    (b"<x/>", "overlast_test.bpmn", {"Content-Type": "text/plain", "Accept": "application/json"}, 415),
    (b"<" * 2_000_001, "overlast_test.bpmn", XML, 413),
])
def test_deploy_refuses_bad_input_without_500(client, web_world, body, filename, headers, status):
    log_in(client, "pieter")

    response = deploy(client, body, filename, headers)

    assert response.status_code == status
    assert response.get_json()["message"]


def test_only_process_owners_manage_processes(client, web_world):
    log_in(client, "eva")

    assert client.get("/procesbeheer").status_code == 403
    assert deploy(client, DRAWN_DIAGRAM).status_code == 403
    assert client.get("/procesbeheer/formulieren").status_code == 403


def test_forms_are_listed_and_opened_by_listed_name_only(client, web_world):
    log_in(client, "pieter")

    listing = client.get("/procesbeheer/formulieren").get_data(as_text=True)
    editor = client.get("/procesbeheer/formulieren/onderzoek.form").get_data(as_text=True)

    assert "onderzoek.form" in listing and "Geldig" in listing
    assert 'id="form-definition"' in editor and '"bevindingen"' in editor
    assert client.get("/procesbeheer/formulieren/..%2Fprocesses%2Foverlast_test.bpmn").status_code == 404
    assert client.get("/procesbeheer/formulieren/bestaat_niet.form").status_code == 404


def test_form_check_reports_duplicate_keys(client, web_world):
    log_in(client, "pieter")
    duplicate = {"components": [{"type": "textfield", "key": "a", "label": "A"},
                                {"type": "textfield", "key": "a", "label": "B"}]}

    good = client.post("/procesbeheer/formulieren/controleren", json={"components": []}, headers=XML | {
        "Content-Type": "application/json"})
    bad = client.post("/procesbeheer/formulieren/controleren", json=duplicate)
    garbage = client.post("/procesbeheer/formulieren/controleren", data=b"{", content_type="application/json")

    assert good.status_code == 200
    assert bad.status_code == 422 and bad.get_json()["problems"][0]["element"] == "a"
    assert garbage.status_code == 400


def test_a_new_process_starts_from_a_template(client, web_world):
    log_in(client, "pieter")

    page = client.get("/procesbeheer/nieuw").get_data(as_text=True)

    assert "nieuw_proces.bpmn" in page and "Nieuw proces" in page
