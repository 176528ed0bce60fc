"""The sandbox: escapes are refused when deploying and when running; ordinary code keeps working."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bpmn import state
from engine.bpmn.sandbox import check_source, explain, free_names, make_script_engine
from engine.errors import SandboxViolationError
from tests.engine.bpmn.scenario import parse

ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os')",
    "open('/etc/passwd')",
    "getattr(x, '__class__')",
    "'{0.__class__}'.format(1)",
    "'{x}'.format_map({'x': 1})",
    "eval('1')",
    "type(x).mro()",
    "(i for i in []).gi_frame.f_back.f_globals",
    "[c for c in ().__class__.__mro__]",
    "f'{x.__class__}'",
    "lambda _x: 1",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_check_source_refuses_escape_expressions(source):
    assert check_source(source, mode="eval") != []


@pytest.mark.parametrize("source", [
    "import os",
    "from os import system",
    "class A: pass",
    "def f():\n    global x\n",
    "with open('/etc/passwd') as f:\n    pass",
    "x = ().__class__",
])
def test_check_source_refuses_escape_statements(source):
    assert check_source(source, mode="exec") != []


def test_check_source_reports_syntax_error_with_line():
    problems = check_source("x = 1\ny = (", mode="exec")

    assert problems == ["line 2: it is not valid Python ('(' was never closed)"]


@pytest.mark.parametrize("source", [
    "ernst == 'hoog' and len(meldingen) > 2",
    "datetime.fromisoformat(datum) + timedelta(days=14)",
    "sorted(d['naam'].lower() for d in deelnemers)",
    "{k: v for k, v in scores.items() if v > max(drempels)}",
    "datetime.now(timezone.utc).isoformat()",
    "[_ for _ in range(3)]",
    "type == 'overlast'",
])
def test_check_source_allows_ordinary_expressions(source):
    assert check_source(source, mode="eval") == []


@pytest.mark.parametrize("source", ESCAPES[:7])
def test_runtime_evaluate_refuses_escapes(source):
    environment = make_script_engine().environment

    with pytest.raises(SandboxViolationError):
        environment.evaluate(source, {"x": 1})


@pytest.mark.parametrize("script", [
    "import os",
    "x = ().__class__.__base__.__subclasses__()",
    "y = open('/etc/passwd')",
])
def test_runtime_execute_refuses_escapes(script):
    environment = make_script_engine().environment

    with pytest.raises(SandboxViolationError):
        environment.execute(script, {"x": 1})


def test_runtime_has_only_whitelisted_builtins():
    environment = make_script_engine().environment

    # Not a call, so the static check lets the name through; at run time there is no such builtin.
    with pytest.raises(NameError):
        environment.evaluate("[open][0]", {})
    assert environment.evaluate("sum(range(4)) + len('abc')", {}) == 9


def test_task_data_cannot_supply_builtins():
    environment = make_script_engine().environment

    with pytest.raises(NameError):
        environment.evaluate("[input][0]", {"__builtins__": {"input": input}})


def test_script_keeps_data_and_drops_injected_helpers():
    environment = make_script_engine({"werkdagen": lambda n: timedelta(days=n + n // 5 * 2)}).environment
    data = {"date": "2026-05-01", "start": datetime(2026, 5, 1, tzinfo=UTC)}

    environment.execute("deadline = start + werkdagen(5)\nhelper = lambda: 1", data)

    assert data == {"date": "2026-05-01", "start": datetime(2026, 5, 1, tzinfo=UTC),
                    "deadline": datetime(2026, 5, 8, tzinfo=UTC)}


def test_registered_function_names_must_be_public():
    with pytest.raises(ValueError, match="plain public name"):
        make_script_engine({"_secret": print})


def test_free_names_tells_data_reading_expressions_apart():
    assert free_names("'P%dD' % dagen") == {"dagen"}
    assert free_names("str(timedelta(days=2))") == set()
    assert free_names("[x for x in range(3)]") == set()


def test_escape_in_script_task_fails_the_case_with_element_and_message():
    parsed = parse("script_escape.bpmn")

    with pytest.raises(SpiffWorkflowException) as caught:
        state.new_workflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())

    element, message = explain(caught.value)
    assert element == "Script_escape"
    assert "'Ontsnappen'" in message
    assert "'.__class__' starts with '_'" in message


def test_explain_names_the_failing_task_for_ordinary_errors():
    parsed = parse("automatic_loop.bpmn")

    with pytest.raises(SpiffWorkflowException) as caught:
        state.new_workflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())

    element, message = explain(caught.value)
    assert element == "Script_count"
    assert "teller" in message


def test_indented_script_from_xml_runs():
    environment = make_script_engine().environment
    data: dict = {"x": 1}

    environment.execute("\n        y = x + 1\n        z = y * 2\n    ", data)

    assert data == {"x": 1, "y": 2, "z": 4}
