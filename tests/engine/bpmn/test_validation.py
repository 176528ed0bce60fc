"""Deploy-time validation: every kind of problem, with element id and line, all reported at once."""

from __future__ import annotations

import pytest

from engine.bpmn.validation import validate_diagram
from engine.errors import DiagramError, Problem
from tests.engine.bpmn.scenario import diagram

BASE = diagram("validation_base.bpmn")
ROLES = {"Gemeente", "casusregisseur"}
FORMS = {"intake", "brief"}


def line_of(marker: bytes, xml: bytes = BASE) -> int:
    return xml[: xml.index(marker)].count(b"\n") + 1


def problems_of(xml: bytes, *, roles=ROLES, forms=FORMS, **kwargs) -> list[Problem]:
    with pytest.raises(DiagramError) as caught:
        validate_diagram(xml, filename="intake.bpmn", role_is_known=roles.__contains__,
                         form_exists=forms.__contains__, **kwargs)
    return caught.value.problems


def only_problem(xml: bytes, **kwargs) -> Problem:
    problems = problems_of(xml, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_diagram_returns_parsed_diagram():
    parsed = validate_diagram(BASE, filename="intake.bpmn", role_is_known=ROLES.__contains__,
                              form_exists=FORMS.__contains__)

    assert parsed.process_id == "intake"
    assert [t.spec_name for t in parsed.human_tasks] == ["Task_intake", "Task_brief", "Task_escaleren"]


def test_too_large_file_is_refused():
    assert only_problem(BASE, max_bytes=1000).code == "too_large"


def test_malformed_xml_reports_line():
    problem = only_problem(BASE.replace(b"</bpmn:process>", b"</bpmn:proces>"))

    assert problem.code == "xml"
    assert problem.line == line_of(b"</bpmn:process>")


def test_external_entity_is_refused():
    problem = only_problem(diagram("xxe.bpmn"))

    assert problem.code == "doctype"
    assert problem.line == 2


def test_billion_laughs_is_refused():
    problem = only_problem(diagram("billion_laughs.bpmn"))

    assert problem.code == "doctype"
    assert problem.line == 2


def test_schema_violation_reports_element_and_line():
    end = b'<bpmn:endEvent id="EndEvent_1"'
    problem = only_problem(BASE.replace(end, end + b' foo="x"'))

    assert problem.code == "xsd"
    assert problem.element == "EndEvent_1"
    assert problem.line == line_of(b'<bpmn:endEvent id="EndEvent_1"')
    assert "'foo'" in problem.message


def test_diagram_without_executable_process_is_refused():
    problem = only_problem(BASE.replace(b'isExecutable="true"', b'isExecutable="false"'))

    assert problem.code == "not_executable"


def test_spiffworkflow_parse_error_reports_element_and_line():
    problem = only_problem(BASE.replace(b' default="Flow_nee"', b""))

    assert problem.code == "parse"
    assert problem.element == "Flow_nee"
    assert problem.line == line_of(b'id="Flow_nee"')
    assert problem.message.startswith("Flow 'nee' has no condition")


def test_call_activity_to_undeployed_process_is_refused():
    problem = only_problem(diagram("call_main.bpmn"), roles={"casusregisseur"})

    assert problem.element == "Call_huisbezoek"
    assert problem.line == line_of(b'id="Call_huisbezoek"', diagram("call_main.bpmn"))


def test_call_activity_resolves_against_deployed_files():
    parsed = validate_diagram(diagram("call_main.bpmn"), filename="call_main.bpmn",
                              role_is_known={"casusregisseur", "woningcorporatie"}.__contains__,
                              form_exists={"huisbezoek"}.__contains__,
                              extra_bpmn={"call_huisbezoek.bpmn": diagram("call_huisbezoek.bpmn")})

    assert set(parsed.subprocess_specs) == {"huisbezoek"}


def test_task_without_lane_or_group_is_unroutable():
    problem = only_problem(BASE.replace(b"<bpmn:flowNodeRef>Task_brief</bpmn:flowNodeRef>", b""))

    assert problem.code == "unroutable"
    assert problem.element == "Task_brief"
    assert problem.line == line_of(b'id="Task_brief"')
    assert problem.message == ("User task 'Brief versturen' has no lane and no candidate group, "
                               "so nobody would receive it.")


def test_unknown_candidate_group_is_reported():
    problem = only_problem(BASE, roles={"Gemeente"})

    assert problem.code == "unknown_role"
    assert problem.element == "Task_intake"
    assert problem.line == line_of(b'id="Task_intake"')
    assert "'casusregisseur'" in problem.message


def test_unknown_lane_is_reported_for_every_task_routed_by_it():
    problems = problems_of(BASE, roles={"casusregisseur"})

    assert [(p.code, p.element) for p in problems] == [("unknown_role", "Task_brief"),
                                                      ("unknown_role", "Task_escaleren")]
    assert problems[0].line == line_of(b'id="Task_brief"')


def test_missing_form_is_reported():
    problem = only_problem(BASE, forms={"intake"})

    assert problem.code == "unknown_form"
    assert problem.element == "Task_brief"
    assert problem.line == line_of(b'id="Task_brief"')
    assert "'brief'" in problem.message


@pytest.mark.parametrize("timer", [b"P14X", b"P14D +", b"'P' + 14", b"'2026-05-01T09:00:00'", b"'soon'"])
def test_bad_timer_is_reported_at_deploy_time(timer):
    problem = only_problem(BASE.replace(b">P14D<", b">" + timer + b"<"))

    assert problem.code == "timer"
    assert problem.element == "Timer_termijn"
    assert problem.line == line_of(b">P14D<")


@pytest.mark.parametrize("timer", [b"P14D", b"'P14D'", b"'P%dD' % (7 * 2)", b"termijn", b"'P%dD' % dagen"])
def test_good_or_data_dependent_timer_passes(timer):
    validate_diagram(BASE.replace(b">P14D<", b">" + timer + b"<"), filename="intake.bpmn",
                     role_is_known=ROLES.__contains__, form_exists=FORMS.__contains__)


def test_escape_in_condition_is_reported():
    problem = only_problem(BASE.replace(b'ernst == "hoog"', b"().__class__"))

    assert problem.code == "condition"
    assert problem.element == "Flow_ja"
    assert problem.line == line_of(b'ernst == "hoog"')


def test_camunda_expression_in_condition_gets_a_hint():
    problem = only_problem(BASE.replace(b'ernst == "hoog"', b"${ernst == 'hoog'}"))

    assert problem.element == "Flow_ja"
    assert "Camunda's ${...} expressions are not supported" in problem.message


def test_import_in_script_is_reported():
    problem = only_problem(BASE.replace(b'status = "nieuw"', b"import os"))

    assert problem.code == "script"
    assert problem.element == "Script_status"
    assert problem.line == line_of(b'status = "nieuw"')
    assert "imports are not allowed" in problem.message


def test_non_python_script_is_reported():
    problem = only_problem(BASE.replace(b'scriptFormat="python"', b'scriptFormat="groovy"'))

    assert problem.code == "script"
    assert problem.element == "Script_status"


@pytest.mark.parametrize("due", [b"${now()}", b"P3X", b"now(", b"open('x')", b"2026-05-01T09:00:00"])
def test_bad_due_date_is_reported(due):
    problem = only_problem(BASE.replace(b'camunda:dueDate="P3D"', b'camunda:dueDate="' + due + b'"'))

    assert problem.code == "due_date"
    assert problem.element == "Task_intake"
    assert problem.line == line_of(b'id="Task_intake"')


@pytest.mark.parametrize("due", [
    b"P3D", b"2026-05-01", b"2026-05-01T09:00:00+02:00", b"deadline + timedelta(days=2)",
])
def test_good_due_date_passes(due):
    validate_diagram(BASE.replace(b'camunda:dueDate="P3D"', b'camunda:dueDate="' + due + b'"'),
                     filename="intake.bpmn", role_is_known=ROLES.__contains__, form_exists=FORMS.__contains__)


def test_reserved_id_is_reported():
    problem = only_problem(BASE.replace(b'"StartEvent_1"', b'"Start"').replace(b">StartEvent_1<", b">Start<"))

    assert problem.code == "reserved_id"
    assert problem.element == "Start"


def test_every_problem_is_reported_at_once():
    broken = (BASE.replace(b">P14D<", b">P14X<")
              .replace(b'status = "nieuw"', b"import os")
              .replace(b'ernst == "hoog"', b"__import__('os')")
              .replace(b'camunda:dueDate="P3D"', b'camunda:dueDate="${now()}"')
              .replace(b"<bpmn:flowNodeRef>Task_brief</bpmn:flowNodeRef>", b""))

    problems = problems_of(broken, roles={"Gemeente"}, forms=set())

    assert sorted((p.code, p.element) for p in problems) == [
        ("condition", "Flow_ja"),
        ("due_date", "Task_intake"),
        ("script", "Script_status"),
        ("timer", "Timer_termijn"),
        ("unknown_form", "Task_brief"),
        ("unknown_form", "Task_intake"),
        ("unknown_role", "Task_intake"),
        ("unroutable", "Task_brief"),
    ]
    assert all(p.line is not None for p in problems)


def test_escape_in_spiffworkflow_pre_script_is_reported():
    task = b'<bpmn:userTask id="Task_brief" name="Brief versturen" camunda:formKey="brief" />'
    with_script = (b'<bpmn:userTask id="Task_brief" name="Brief versturen" camunda:formKey="brief">'
                   b'<bpmn:extensionElements><spiffworkflow:preScript '
                   b'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core">import os'
                   b'</spiffworkflow:preScript></bpmn:extensionElements></bpmn:userTask>')

    problem = only_problem(BASE.replace(task, with_script))

    assert problem.code == "script"
    assert problem.element == "Task_brief"
    assert problem.line == line_of(task)
    assert "pre-script" in problem.message
