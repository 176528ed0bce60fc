"""Saved state: specs stored once, small instance state, compaction and the progress guard."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import time_machine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.bpmn import runtime, state
from engine.bpmn.sandbox import make_script_engine
from engine.errors import EngineError, ScriptError
from tests.engine.bpmn.scenario import Case, parse

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


def test_instance_state_is_plain_json_without_the_spec():
    case = Case("gateway_loop.bpmn", data={"gemeld_op": datetime(2026, 3, 1, tzinfo=UTC), "tags": {"a"}})

    saved = case.saved

    assert saved["format"] == state.SERIALIZER_VERSION
    assert "spec" not in saved["workflow"] and "subprocess_specs" not in saved["workflow"]
    assert json.loads(json.dumps(saved)) == saved
    [review] = case.ready(T0)
    data = case.step(lambda wf: wf.get_task_from_id(__import__("uuid").UUID(review.task_id)).data)
    assert data["gemeld_op"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert data["tags"] == ["a"]


def test_spec_loads_once_and_serves_many_cases():
    stored = json.loads(json.dumps(state.dump_spec(parse("gateway_loop.bpmn"))))
    spec, subprocess_specs = state.load_spec(stored)
    engine = make_script_engine()

    first = state.new_workflow(spec, subprocess_specs, script_engine=engine)
    second = state.new_workflow(spec, subprocess_specs, script_engine=engine)
    saved = json.loads(json.dumps(state.dump_state(first)))
    again = state.load_state(saved, spec, subprocess_specs, script_engine=engine)

    assert again.spec is spec is second.spec
    assert saved == json.loads(json.dumps(state.dump_state(again)))


def test_load_state_leaves_its_input_untouched():
    case = Case("call_main.bpmn", "call_huisbezoek.bpmn")
    before = json.dumps(case.saved, sort_keys=True)

    case.load()
    case.load()

    assert json.dumps(case.saved, sort_keys=True) == before


def test_state_of_another_format_is_refused():
    case = Case("gateway_loop.bpmn")

    with pytest.raises(EngineError, match="format"):
        state.load_state({**case.saved, "format": "spiff-3.1.0-1"}, case.spec, case.subprocess_specs,
                         script_engine=case.engine)


def test_compaction_keeps_task_data_of_every_round():
    case = Case("gateway_loop.bpmn", data={"casus": "WO-2026-00042"})
    for round_number in range(5):
        case.complete("Situatie beoordelen", T0, {"opnieuw": True, f"ronde_{round_number}": "gedaan"})

    [review] = case.ready(T0)
    data = case.step(lambda wf: wf.get_task_from_id(__import__("uuid").UUID(review.task_id)).data)

    assert data["casus"] == "WO-2026-00042"
    assert {f"ronde_{n}" for n in range(5)} <= set(data)


def _review_once(workflow: BpmnWorkflow, data: dict) -> str:
    [review] = runtime.ready_human_tasks(workflow, now=T0)
    assert review.title == "Situatie beoordelen"
    runtime.complete_human_task(workflow, review.task_id, data)
    return runtime.workflow_status(workflow)


def test_gateway_loop_of_2000_rounds_neither_stalls_nor_grows(record_property):
    case = Case("gateway_loop.bpmn")
    sizes, seconds = {}, {}
    for round_number in range(1, 2001):
        started = time.perf_counter()
        status = case.step(lambda wf, n=round_number: _review_once(wf, {"opnieuw": True, "ronde": n}))
        seconds[round_number] = time.perf_counter() - started
        sizes[round_number] = case.size()
        assert status == "active"

    assert case.titles(T0) == ["Situatie beoordelen"]
    assert sizes[2000] <= 1.5 * sizes[10]
    record_property("state_bytes_round_10_vs_2000", f"{sizes[10]} vs {sizes[2000]}")
    record_property("ms_round_10_vs_2000", f"{seconds[10] * 1000:.2f} vs {seconds[2000] * 1000:.2f}")
    case.complete("Situatie beoordelen", T0, {"opnieuw": False})
    assert case.status() == "completed"


def test_without_compaction_the_same_loop_grows_with_every_round():
    case = Case("gateway_loop.bpmn")
    workflow = case.load()
    sizes = []
    for _ in range(20):
        [review] = runtime.ready_human_tasks(workflow, now=T0)
        runtime.complete_human_task(workflow, review.task_id, {"opnieuw": True})
        sizes.append(len(json.dumps(state.dump_state(workflow, compact_history=False))))

    assert sizes[-1] > 3 * sizes[0]


def test_parallel_join_waits_for_both_branches_in_every_round():
    case = Case("parallel_loop.bpmn")
    sizes = []
    for _ in range(4):
        assert case.titles(T0) == ["Corporatie onderzoekt", "Gemeente onderzoekt"]
        case.complete("Gemeente onderzoekt", T0, {"gemeente": "klaar"})
        assert case.titles(T0) == ["Corporatie onderzoekt"]
        case.complete("Corporatie onderzoekt", T0, {"corporatie": "klaar"})
        assert case.titles(T0) == ["Casusoverleg"]
        case.complete("Casusoverleg", T0, {"opnieuw": True})
        sizes.append(case.size())

    assert sizes[-1] <= 1.2 * sizes[0]
    case.complete("Corporatie onderzoekt", T0)
    assert case.titles(T0) == ["Gemeente onderzoekt"]
    case.complete("Gemeente onderzoekt", T0)
    case.complete("Casusoverleg", T0, {"opnieuw": False})
    assert case.status() == "completed"


def test_compaction_leaves_a_waiting_boundary_timer_intact():
    case = Case("camunda_melding.bpmn")
    case.complete("Melding registreren", T0, {"ernst": "hoog", "bezoek_uiterlijk": "2026-03-10"})

    tasks = case.saved["workflow"]["tasks"]
    specs = {t["task_spec"] for t in tasks.values()}

    assert "Task_huisbezoek.BoundaryEventSplit" in specs
    assert "Task_registreren" not in specs
    assert len(case.timers()) == 1


def test_check_progress_refuses_a_completed_claim_while_work_is_open():
    workflow = Case("gateway_loop.bpmn").load()
    workflow.completed = True

    with pytest.raises(ScriptError, match="work is still open"):
        runtime.workflow_status(workflow)


def test_automatic_loop_past_spiffworkflows_depth_limit_fails_instead_of_completing():
    parsed = parse("automatic_loop.bpmn")

    with pytest.raises(ScriptError) as caught:
        state.new_workflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine(),
                           data={"teller": 0, "rondes": 350})

    assert caught.value.problems[0].code == "stalled"


def test_automatic_loop_within_limits_runs_through():
    case = Case("automatic_loop.bpmn", data={"teller": 0, "rondes": 100})

    assert case.titles(T0) == ["Controleren"]
    assert len(case.saved["workflow"]["tasks"]) < 20
