"""The coherence rules on their own: required fields, the field dictionary, and which tasks a role gets."""

from __future__ import annotations

import json
from pathlib import Path

from engine import coherence, covenant
from engine.routing import CaseRole, FixedOrganisation

ROOT = Path(__file__).parents[2]
POLICY = covenant.parse_covenant((ROOT / "processes" / "convenant.yaml").read_text(encoding="utf-8"))
FORMS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "forms").glob("*.form")}


def _task(element, *, lane=None, groups=(), form=None, **properties):
    return coherence.TaskRef(element, element, lane, tuple(groups), form, properties, 7)


def test_required_fields_are_those_marked_required_with_their_category():
    assert coherence.required_fields(FORMS["actie"]) == {"uitgevoerd_op": "procesgegevens"}
    assert coherence.required_fields(FORMS["regie"]) == {
        "voortgang": "woongedrag", "overlast_aanhoudend": "woongedrag", "vraag": "woongedrag"}


def test_every_shipped_form_agrees_with_the_field_dictionary():
    conflicts = [c for name, form in FORMS.items()
                 for c in coherence.dictionary_conflicts(POLICY, _task(name, form=name), form)]

    assert conflicts == []


def test_a_field_filed_under_another_category_than_the_dictionary_is_a_conflict():
    form = {"components": [{"type": "textfield", "key": "signalen", "properties": {"categorie": "woongedrag"}}]}

    [conflict] = coherence.dictionary_conflicts(POLICY, _task("Task_x", form="x"), form)

    assert (conflict.element, conflict.line, conflict.code) == ("Task_x", 7, "category_mismatch")
    assert "'signalen'" in conflict.message and "'woongedrag'" in conflict.message and "'zorg'" in conflict.message


def test_tasks_go_to_a_role_as_routing_sends_them():
    targets = {"casusregisseur": CaseRole("casusregisseur"), "gemeente": FixedOrganisation(1),
               "coordinator": FixedOrganisation(1)}
    regie = _task("Task_regie", lane="Casusregisseur", form="regie")
    actie = _task("Task_actie", lane="Ketenpartner", form="actie", organisatie="actie.organisatie_id")
    toets = _task("Task_toets", lane="Casusregisseur", groups=("Coordinator",), form="toets")

    assert coherence.tasks_for([regie, actie, toets], targets, "casusregisseur") == [regie]
    assert coherence.tasks_for([regie, actie, toets], targets, coherence.ACTION) == [actie]
