"""Parsing: Camunda attributes, human tasks, ISO timers, which process starts, reserved ids."""

from __future__ import annotations

import pytest

from engine.bpmn.parser import is_human_task, parse_diagram, timer_expression
from engine.bpmn.state import dump_spec, load_spec
from engine.errors import DiagramError
from tests.engine.bpmn.scenario import diagram, parse, through_json


def test_parse_copies_camunda_attributes_into_extensions():
    parsed = parse("camunda_melding.bpmn")

    extensions = parsed.spec.task_specs["Task_registreren"].extensions

    assert extensions["formKey"] == "melding-registreren"
    assert extensions["candidateGroups"] == ["gemeente", "casusregisseur"]
    assert extensions["assignee"] == "intake"
    assert extensions["dueDate"] == "P3D"
    assert extensions["followUpDate"] == "P1D"
    assert extensions["properties"] == {"stage": "intake", "privacy": "need-to-know"}


def test_camunda_extensions_survive_spec_serialization():
    spec, _ = load_spec(through_json(dump_spec(parse("camunda_melding.bpmn"))))

    extensions = spec.task_specs["Task_registreren"].extensions

    assert extensions["candidateGroups"] == ["gemeente", "casusregisseur"]
    assert extensions["properties"]["stage"] == "intake"


def test_human_tasks_list_lane_form_groups_and_source_line():
    parsed = parse("camunda_melding.bpmn")

    registreren = next(t for t in parsed.human_tasks if t.spec_name == "Task_registreren")

    assert registreren.title == "Melding registreren"
    assert registreren.lane == "Gemeente"
    assert registreren.form_key == "melding-registreren"
    assert registreren.candidate_groups == ("gemeente", "casusregisseur")
    assert registreren.due_date == "P3D"
    assert registreren.process_id == "melding"
    assert registreren.line == 24
    assert parsed.lanes == {"Gemeente", "Woningcorporatie"}
    assert parsed.name == "Melding woonoverlast"


def test_plain_bpmn_task_is_a_manual_human_task():
    parsed = parse("camunda_melding.bpmn")

    dossier = parsed.spec.task_specs["Task_dossier"]

    assert dossier.manual is True
    assert is_human_task(dossier)
    assert "Task_dossier" in [t.spec_name for t in parsed.human_tasks]


def test_plain_iso_timer_is_quoted_and_expression_left_alone():
    parsed = parse("timers.bpmn")

    assert parsed.spec.task_specs["Timer_plain"].event_definition.expression == "'PT1H'"
    assert parsed.spec.task_specs["Timer_quoted"].event_definition.expression == '"PT2H"'
    assert parsed.spec.task_specs["Timer_date"].event_definition.expression == "'2026-05-01T09:00:00+02:00'"


@pytest.mark.parametrize(("text", "expected"), [
    ("P14D", "'P14D'"),
    (" PT1H30M ", "'PT1H30M'"),
    ("R3/PT10M", "'R3/PT10M'"),
    ("R/2026-05-01T09:00:00+02:00/P1D", "'R/2026-05-01T09:00:00+02:00/P1D'"),
    ("2026-05-01T09:00:00+02:00", "'2026-05-01T09:00:00+02:00'"),
    ("'P14D'", "'P14D'"),
    ("termijn", "termijn"),
    ("P14X", "P14X"),
    ("'P%dD' % dagen", "'P%dD' % dagen"),
])
def test_timer_expression_quotes_only_iso_literals(text, expected):
    assert timer_expression(text) == expected
    assert timer_expression(timer_expression(text)) == expected


def test_call_activity_process_comes_from_extra_files():
    parsed = parse("call_main.bpmn", "call_huisbezoek.bpmn")

    assert parsed.process_id == "call_main"
    assert set(parsed.subprocess_specs) == {"huisbezoek"}
    bezoek = next(t for t in parsed.human_tasks if t.spec_name == "HB_task")
    assert bezoek.process_id == "huisbezoek"
    assert bezoek.form_key == "huisbezoek"


def test_process_to_start_is_the_one_no_call_activity_calls():
    both = diagram("call_huisbezoek.bpmn").replace(
        b"</bpmn:definitions>",
        diagram("call_main.bpmn").split(b'targetNamespace="http://bpmn.io/schema/bpmn">')[1],
    ).replace(b"</bpmn:definitions>\n</bpmn:definitions>", b"</bpmn:definitions>")

    parsed = parse_diagram(both)

    assert parsed.process_id == "call_main"


def test_reserved_element_id_is_refused_instead_of_silently_emptying_the_process():
    xml = diagram("gateway_loop.bpmn").replace(b'"StartEvent_1"', b'"Start"')

    with pytest.raises(DiagramError) as caught:
        parse_diagram(xml)

    problem = caught.value.problems[0]
    assert problem.element == "Start"
    assert problem.code == "reserved_id"
    assert problem.line == 4


def test_parse_refuses_doctype():
    with pytest.raises(DiagramError) as caught:
        parse_diagram(diagram("xxe.bpmn"))

    assert caught.value.problems[0].code == "doctype"
