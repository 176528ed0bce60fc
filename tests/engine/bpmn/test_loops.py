"""Loops over multi-instance tasks, standard loops and call activities, 25 rounds, saved between steps.

Each round runs the multi-instance task anew; its instance items (and its output collection) must
not leak into the next round. Every step goes through dump_state/load_state and JSON (scenario.Case).
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import time_machine

from engine.bpmn import runtime
from engine.bpmn.parser import parse_diagram
from tests.engine.bpmn.scenario import Case

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROUNDS = 25
ACTIE = "Actie uitvoeren"
PLANNEN = "Ronde plannen"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


# --- diagrams, written inline -----------------------------------------------------------------------

def definitions(*processes: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_loops" '
            'targetNamespace="http://bpmn.io/schema/bpmn">' + "".join(processes) + "</bpmn:definitions>").encode()


def process(process_id: str, *elements: str, executable: bool = True) -> str:
    return (f'<bpmn:process id="{process_id}" name="{process_id}" isExecutable="{str(executable).lower()}">'
            + "".join(elements) + "</bpmn:process>")


def flows(*chain: str, **conditions: str) -> str:
    """Sequence flows along `chain`; `conditions` maps a target id to the condition of the flow into it."""
    out = []
    for source, target in itertools.pairwise(chain):
        condition = conditions.get(target)
        body = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
                if condition else "")
        out.append(f'<bpmn:sequenceFlow id="Flow_{source}_{target}" sourceRef="{source}" targetRef="{target}">'
                   f'{body}</bpmn:sequenceFlow>')
    return "".join(out)


def multi_instance(*, sequential: bool, output: str | None, cardinality: bool = False) -> str:
    """The action task: one instance per entry of `acties` (item `actie`), optionally collecting output."""
    inner = ['<bpmn:loopCardinality>len(acties)</bpmn:loopCardinality>' if cardinality
             else '<bpmn:loopDataInputRef>acties</bpmn:loopDataInputRef>']
    if output == "resultaten":
        inner.append('<bpmn:loopDataOutputRef>resultaten</bpmn:loopDataOutputRef>')
    elif output == "in place":
        inner.append('<bpmn:loopDataOutputRef>acties</bpmn:loopDataOutputRef>')
    inner.append('<bpmn:inputDataItem id="actie" name="actie" />')
    if output == "resultaten":
        inner.append('<bpmn:outputDataItem id="resultaat" name="resultaat" />')
    elif output == "in place":
        inner.append('<bpmn:outputDataItem id="actie" name="actie" />')
    properties = "".join(f'<bpmn:property id="{name}" name="{name}" />' for name in ("acties", "resultaten"))
    return (f'<bpmn:userTask id="Task_actie" name="{ACTIE}">{properties}'
            f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">'
            + "".join(inner) + '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>')


def gateway_loop(*, sequential: bool, output: str | None, cardinality: bool = False) -> bytes:
    """Plan a round (acties, opnieuw), run the action task, go round again while `opnieuw`."""
    return definitions(process(
        "mi_loop",
        '<bpmn:startEvent id="Begin" />',
        '<bpmn:exclusiveGateway id="Gateway_ronde" />',
        f'<bpmn:userTask id="Task_plannen" name="{PLANNEN}" />',
        multi_instance(sequential=sequential, output=output, cardinality=cardinality),
        '<bpmn:exclusiveGateway id="Gateway_opnieuw" default="Flow_Gateway_opnieuw_Einde" />',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Gateway_ronde", "Task_plannen", "Task_actie", "Gateway_opnieuw", "Einde"),
        flows("Gateway_opnieuw", "Gateway_ronde", Gateway_ronde="opnieuw"),
    ))


def standard_loop_subprocess() -> bytes:
    """A subprocess with standardLoopCharacteristics around planning and the action task."""
    return definitions(process(
        "standard_loop_mi",
        '<bpmn:startEvent id="Begin" />',
        '<bpmn:subProcess id="Sub_ronde" name="Ronde">'
        '<bpmn:standardLoopCharacteristics>'
        '<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">opnieuw</bpmn:loopCondition>'
        '</bpmn:standardLoopCharacteristics>'
        '<bpmn:startEvent id="Sub_start" />'
        f'<bpmn:userTask id="Task_plannen" name="{PLANNEN}" />'
        + multi_instance(sequential=False, output="resultaten")
        + '<bpmn:endEvent id="Sub_einde" />'
        + flows("Sub_start", "Task_plannen", "Task_actie", "Sub_einde")
        + '</bpmn:subProcess>',
        '<bpmn:userTask id="Task_afsluiten" name="Afsluiten" />',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Sub_ronde", "Task_afsluiten", "Einde"),
    ))


def standard_loop_task() -> bytes:
    """A user task with standardLoopCharacteristics: repeated while `opnieuw`."""
    return definitions(process(
        "standard_loop_task",
        '<bpmn:startEvent id="Begin" />',
        '<bpmn:userTask id="Task_bewaken" name="Bewaken"><bpmn:standardLoopCharacteristics>'
        '<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">opnieuw</bpmn:loopCondition>'
        '</bpmn:standardLoopCharacteristics></bpmn:userTask>',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Task_bewaken", "Einde"),
    ))


# The woonoverlast shape: a gateway loop around a call activity whose process runs the regie task
# and the action task side by side; the evaluation after it plans the next round.
REGIE = process(
    "regie_ronde",
    '<bpmn:startEvent id="Regie_start" />',
    '<bpmn:parallelGateway id="Regie_splitsen" />',
    '<bpmn:userTask id="Task_regie" name="Regie voeren" />',
    multi_instance(sequential=False, output=None),
    '<bpmn:parallelGateway id="Regie_samenvoegen" />',
    '<bpmn:endEvent id="Regie_einde" />',
    flows("Regie_start", "Regie_splitsen", "Task_regie", "Regie_samenvoegen", "Regie_einde"),
    flows("Regie_splitsen", "Task_actie", "Regie_samenvoegen"),
)


def call_in_gateway_loop() -> dict[str, bytes]:
    main = definitions(process(
        "casus",
        '<bpmn:startEvent id="Begin" />',
        '<bpmn:exclusiveGateway id="Gateway_ronde" />',
        '<bpmn:callActivity id="Call_regie" name="Regie" calledElement="regie_ronde" />',
        f'<bpmn:userTask id="Task_plannen" name="{PLANNEN}" />',
        '<bpmn:exclusiveGateway id="Gateway_opnieuw" default="Flow_Gateway_opnieuw_Einde" />',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Gateway_ronde", "Call_regie", "Task_plannen", "Gateway_opnieuw", "Einde"),
        flows("Gateway_opnieuw", "Gateway_ronde", Gateway_ronde="opnieuw"),
    ))
    return {"casus.bpmn": main, "regie_ronde.bpmn": definitions(REGIE)}


def call_in_standard_loop() -> dict[str, bytes]:
    main = definitions(process(
        "casus",
        '<bpmn:startEvent id="Begin" />',
        '<bpmn:callActivity id="Call_ronde" name="Ronde" calledElement="ronde">'
        '<bpmn:standardLoopCharacteristics>'
        '<bpmn:loopCondition xsi:type="bpmn:tFormalExpression">opnieuw</bpmn:loopCondition>'
        '</bpmn:standardLoopCharacteristics></bpmn:callActivity>',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Call_ronde", "Einde"),
    ))
    ronde = definitions(process(
        "ronde",
        '<bpmn:startEvent id="Ronde_start" />',
        f'<bpmn:userTask id="Task_plannen" name="{PLANNEN}" />',
        multi_instance(sequential=True, output="resultaten"),
        '<bpmn:endEvent id="Ronde_einde" />',
        flows("Ronde_start", "Task_plannen", "Task_actie", "Ronde_einde"),
    ))
    return {"casus.bpmn": main, "ronde.bpmn": ronde}


# --- driving a round ----------------------------------------------------------------------------------

def task_data(case: Case, task_id: str) -> dict[str, Any]:
    return case.step(lambda wf: copy.deepcopy(wf.get_task_from_id(UUID(task_id)).data))


def complete(case: Case, task_id: str, data: dict[str, Any]) -> None:
    case.step(lambda wf: runtime.complete_human_task(wf, task_id, data))


def plan(round_number: int) -> list[dict[str, Any]]:
    """0 to 3 actions; a round without actions runs the multi-instance task with no instances."""
    return [{"ronde": round_number, "nr": nr} for nr in range(round_number % 4)]


# What an instance submits its result as: the output item, or a plain variable without output collection.
RESULT_KEY = {None: "laatste_resultaat", "resultaten": "resultaat", "in place": "actie"}


def run_actions(case: Case, acties: list[dict[str, Any]], *, sequential: bool, output: str | None,
                cardinality: bool = False) -> list[dict[str, Any]]:
    """Complete every instance of the action task; check each sees its own item. Returns the results."""
    expected = list(range(len(acties))) if cardinality else acties
    results, seen = [], []
    while True:
        ready = [t for t in case.ready(T0) if t.title == ACTIE]
        if not ready:
            break
        if sequential:
            assert len(ready) == 1
        else:
            assert len(ready) == len(expected) - len(seen) and not seen
        for task in ready:
            item = task_data(case, task.task_id)["actie"]
            seen.append(item)
            result = {"ronde": acties[0]["ronde"], "nr": len(results), "gedaan": True}
            results.append(result)
            complete(case, task.task_id, {RESULT_KEY[output]: result})
    assert seen == expected
    return results


def plan_round(case: Case, round_number: int, *, last: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Complete the planning task; returns the planned actions and the data the planning task saw."""
    [planning] = [t for t in case.ready(T0) if t.title == PLANNEN]
    seen = task_data(case, planning.task_id)
    acties = plan(round_number)
    complete(case, planning.task_id, {"acties": acties, "opnieuw": not last})
    return acties, seen


# --- (a) a gateway loop over a multi-instance task -------------------------------------------------------

@pytest.mark.parametrize(("sequential", "output", "cardinality"), [
    (False, None, False), (True, None, False),
    (False, "resultaten", False), (True, "resultaten", False),
    (False, "in place", False), (True, "in place", False),
    (False, "resultaten", True),
], ids=["parallel", "sequential", "parallel-output", "sequential-output", "parallel-in-place",
        "sequential-in-place", "parallel-cardinality"])
def test_gateway_loop_runs_the_multi_instance_task_anew_every_round(sequential, output, cardinality):
    diagram = gateway_loop(sequential=sequential, output=output, cardinality=cardinality)
    case = Case("mi_loop.bpmn", sources={"mi_loop.bpmn": diagram})
    previous: list[dict[str, Any]] | None = None

    for round_number in range(ROUNDS):
        acties, seen = plan_round(case, round_number, last=round_number == ROUNDS - 1)
        # Instance items never leak out of the task that owns them.
        assert "actie" not in seen and "resultaat" not in seen
        if output == "resultaten" and previous is not None:
            assert seen["resultaten"] == previous  # the last round's output only, not accumulated
        results = run_actions(case, acties, sequential=sequential, output=output, cardinality=cardinality)
        previous = results

    assert case.status() == "completed"
    data = case.data()
    assert "actie" not in data and "resultaat" not in data
    if output == "resultaten":
        assert data["resultaten"] == previous
    if output == "in place":
        assert data["acties"] == previous


def test_multi_instance_with_an_outer_variable_of_the_item_name_shadows_it():
    """A variable named like the input item (e.g. left by an earlier engine version) is hidden from
    the instances and comes back unchanged afterwards."""
    diagram = gateway_loop(sequential=True, output="resultaten")
    case = Case("mi_loop.bpmn", sources={"mi_loop.bpmn": diagram}, data={"actie": "buiten"})

    for round_number in (1, 2, 3):
        acties, seen = plan_round(case, round_number, last=round_number == 3)
        assert seen["actie"] == "buiten"
        run_actions(case, acties, sequential=True, output="resultaten")

    assert case.data()["actie"] == "buiten"


# --- (b) standard loops -----------------------------------------------------------------------------------

def test_standard_loop_subprocess_runs_the_multi_instance_task_anew_every_iteration():
    case = Case("standard_loop_mi.bpmn", sources={"standard_loop_mi.bpmn": standard_loop_subprocess()})
    previous = None

    for round_number in range(ROUNDS):
        acties, seen = plan_round(case, round_number, last=round_number == ROUNDS - 1)
        assert "actie" not in seen and "resultaat" not in seen
        if previous is not None:
            assert seen["resultaten"] == previous
        previous = run_actions(case, acties, sequential=False, output="resultaten")

    assert [t.title for t in case.ready(T0)] == ["Afsluiten"]
    case.complete("Afsluiten", T0)
    assert case.status() == "completed"
    assert case.data()["resultaten"] == previous


def test_standard_loop_user_task_repeats_while_its_condition_holds():
    case = Case("standard_loop_task.bpmn", sources={"standard_loop_task.bpmn": standard_loop_task()})

    for round_number in range(ROUNDS):
        [task] = case.ready(T0)
        assert task.title == "Bewaken"
        if round_number:
            assert task_data(case, task.task_id)["ronde"] == round_number - 1
        complete(case, task.task_id, {"ronde": round_number, "opnieuw": round_number < ROUNDS - 1})

    assert case.status() == "completed"
    assert case.data()["ronde"] == ROUNDS - 1


# --- (c) call activities inside loops ---------------------------------------------------------------------

def test_call_activity_with_a_multi_instance_task_inside_a_gateway_loop():
    sources = call_in_gateway_loop()
    case = Case("casus.bpmn", "regie_ronde.bpmn", sources=sources, data={"acties": plan(1), "opnieuw": True})
    acties = plan(1)

    for round_number in range(1, ROUNDS + 1):
        assert sorted(t.title for t in case.ready(T0)) == sorted([ACTIE] * len(acties) + ["Regie voeren"])
        # The regie branch finishes before the action branch in odd rounds, after it in even ones; its
        # changes survive the join either way (the action branch still holds the older copy).
        [regie] = [t for t in case.ready(T0) if t.title == "Regie voeren"]
        if round_number % 2:
            complete(case, regie.task_id, {"voortgang": f"ronde {round_number}"})
        run_actions(case, acties, sequential=False, output=None)
        if not round_number % 2:
            complete(case, regie.task_id, {"voortgang": f"ronde {round_number}"})
        acties, seen = plan_round(case, round_number + 1, last=round_number == ROUNDS)
        assert "actie" not in seen
        assert seen["voortgang"] == f"ronde {round_number}"

    assert case.status() == "completed"
    assert "actie" not in case.data()


def test_call_activity_with_a_standard_loop_runs_its_multi_instance_task_every_iteration():
    sources = call_in_standard_loop()
    case = Case("casus.bpmn", "ronde.bpmn", sources=sources)
    previous = None

    for round_number in range(ROUNDS):
        acties, seen = plan_round(case, round_number, last=round_number == ROUNDS - 1)
        assert "actie" not in seen and "resultaat" not in seen
        if previous is not None:
            assert seen["resultaten"] == previous
        previous = run_actions(case, acties, sequential=True, output="resultaten")

    assert case.status() == "completed"
    assert case.data()["resultaten"] == previous


def test_saved_specs_restore_the_instance_scoped_multi_instance_task():
    """Specs stored before this fix (same type names) load into the fixed task specs."""
    case = Case("mi_loop.bpmn", sources={"mi_loop.bpmn": gateway_loop(sequential=True, output=None)})
    parsed = parse_diagram(gateway_loop(sequential=True, output=None), filename="mi_loop.bpmn")

    assert type(case.spec.task_specs["Task_actie"]) is type(parsed.spec.task_specs["Task_actie"])
    assert type(case.spec.task_specs["Task_actie"]).__module__ == "engine.bpmn.multiinstance"


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
def test_instances_merge_back_only_what_they_changed(sequential):
    diagram = gateway_loop(sequential=sequential, output=None)
    case = Case("mi_loop.bpmn", sources={"mi_loop.bpmn": diagram}, data={"stand": "oud", "telling": {"a": 0}})

    for round_number in (1, 2):
        [planning] = [t for t in case.ready(T0) if t.title == PLANNEN]
        complete(case, planning.task_id, {"acties": [{"nr": 0}, {"nr": 1}], "opnieuw": round_number == 1})
        for nr in (0, 1):
            # In parallel both instances are open with copies of the same data; the second one
            # leaves `stand` alone and must not put the old value back.
            task = next(t for t in case.ready(T0) if t.title == ACTIE)
            submitted = {"stand": f"ronde {round_number}"} if nr == 0 else {"telling": {"a": round_number}}
            complete(case, task.task_id, submitted)

    assert case.status() == "completed"
    data = case.data()
    assert (data["stand"], data["telling"]) == ("ronde 2", {"a": 2})
    assert "actie" not in data
