"""Covenant coherence through the API: deploy refuses forms and routes that contradict the covenant, and a
required checkbox must be checked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.flows import DIAGRAM, XML, complete, only_item, start


def _forms_with(app, tmp_path, name, *components):
    """Copy the fixture forms to tmp_path, add `components` to form `name`, and deploy from there."""
    forms = Path(app.config["FORMS_DIR"])
    for path in forms.glob("*.form"):
        definition = json.loads(path.read_text())
        if path.stem == name:
            definition["components"] += list(components)
        (tmp_path / path.name).write_text(json.dumps(definition))
    app.config["FORMS_DIR"] = str(tmp_path)


def _field(key, kind, category, *, required=False):
    return {"type": kind, "key": key, "label": key, "validate": {"required": required},
            "properties": {"categorie": category}}


def _line_of(element):
    return next(i for i, line in enumerate(DIAGRAM.decode().splitlines(), 1) if f'id="{element}"' in line)


def test_deploy_refuses_a_form_field_whose_category_contradicts_the_field_dictionary(app, client, world, tmp_path):
    _forms_with(app, tmp_path, "brief", _field("kwetsbaar", "textfield", "woongedrag"))
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Anders"')

    response = client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML})

    assert response.status_code == 422
    [problem] = response.get_json()["problems"]
    assert (problem["element"], problem["line"], problem["code"]) == \
        ("Task_brief", _line_of("Task_brief"), "category_mismatch")
    assert "'kwetsbaar'" in problem["message"]
    assert "'woongedrag'" in problem["message"] and "'zorg'" in problem["message"]


def test_deploy_refuses_a_task_for_a_fixed_organisation_that_may_not_write_a_required_field(
        app, client, world, tmp_path):
    # Task_advies goes to the candidate group 'juristen', mapped to the municipality, which may read
    # criminal data but not write it.
    _forms_with(app, tmp_path, "advies", _field("politie_registratie", "textfield", "justitie", required=True))
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Anders"')

    response = client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML})

    # The form serves two tasks, both routed to the municipality (a candidate group and a lane).
    assert response.status_code == 422
    problems = response.get_json()["problems"]
    assert [(p["element"], p["line"], p["code"]) for p in problems] == [
        ("Task_advies", _line_of("Task_advies"), "cannot_complete"),
        ("Task_escaleren", _line_of("Task_escaleren"), "cannot_complete"),
    ]
    for part in ("Gemeente Zoetermeer", "'politie_registratie'", "'justitie'"):
        assert all(part in p["message"] for p in problems)


def test_an_optional_field_a_fixed_organisation_may_not_write_does_not_block_deploy(app, client, world, tmp_path):
    _forms_with(app, tmp_path, "advies", _field("politie_registratie", "textfield", "justitie"))
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Anders"')

    response = client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML})

    assert response.status_code == 201, response.get_json()


def test_a_required_checkbox_left_unchecked_is_refused_at_the_field(app, client, world, tmp_path):
    _forms_with(app, tmp_path, "brief", _field("reminder_ack", "checkbox", "procesgegevens", required=True))
    changed = DIAGRAM.replace(b'name="Melding onderzoeken"', b'name="Anders"')
    assert client.post("/api/v1/process-models", data=changed, headers={**world["pieter"], **XML}).status_code == 201
    start(client, world["eva"], titel="Dorpsstraat 1")
    investigated = complete(client, world["eva"], only_item(client, world["eva"])["id"], bevindingen="x", ernst="licht")
    assert investigated.status_code == 200, investigated.get_json()
    letter = only_item(client, world["eva"])

    refused = complete(client, world["eva"], letter["id"], verzonden_op="2026-03-02", reminder_ack=False)
    accepted = complete(client, world["eva"], letter["id"], verzonden_op="2026-03-02", reminder_ack=True)

    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["data.reminder_ack"]
    assert accepted.status_code == 200, accepted.get_json()
