"""Parallel and inclusive joins merge what each branch changed; an untouched stale copy never wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.engine.bpmn.scenario import Case
from tests.engine.bpmn.test_loops import definitions, flows, process

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(T0, tick=False):
        yield


def split_and_join(gateway: str) -> dict[str, bytes]:
    condition = {"Task_a": "True", "Task_b": "True"} if gateway == "inclusiveGateway" else {}
    diagram = definitions(process(
        "joins",
        '<bpmn:startEvent id="Begin" />',
        f'<bpmn:{gateway} id="Splitsen" />',
        '<bpmn:userTask id="Task_a" name="A" />',
        '<bpmn:userTask id="Task_b" name="B" />',
        f'<bpmn:{gateway} id="Samenvoegen" />',
        '<bpmn:userTask id="Task_daarna" name="Daarna" />',
        '<bpmn:endEvent id="Einde" />',
        flows("Begin", "Splitsen", "Task_a", "Samenvoegen", "Task_daarna", "Einde", **condition),
        flows("Splitsen", "Task_b", "Samenvoegen", **condition),
    ))
    return {"joins.bpmn": diagram}


START = {"vraag": "oud", "stand": {"a": 0, "b": 0}, "lijst": [1, 2], "onaangeroerd": "zo"}


@pytest.mark.parametrize("gateway", ["parallelGateway", "inclusiveGateway"])
@pytest.mark.parametrize("first", ["A", "B"])
def test_each_branch_keeps_its_changes_whichever_arrives_last(gateway, first):
    case = Case("joins.bpmn", sources=split_and_join(gateway), data=START)
    submissions = {
        "A": {"vraag": "nieuw", "stand": {"a": 1, "b": 0}, "lijst": [1]},
        "B": {"stand": {"a": 0, "b": 2}, "alleen_b": True},
    }
    second = "B" if first == "A" else "A"

    case.complete(first, T0, submissions[first])
    case.complete(second, T0, submissions[second])
    case.complete("Daarna", T0)

    assert case.data() == {"vraag": "nieuw", "stand": {"a": 1, "b": 2}, "lijst": [1], "onaangeroerd": "zo",
                           "alleen_b": True}


@pytest.mark.parametrize("first", ["A", "B"])
def test_when_both_branches_change_a_variable_the_last_to_arrive_wins(first):
    case = Case("joins.bpmn", sources=split_and_join("parallelGateway"), data=START)
    second = "B" if first == "A" else "A"

    case.complete(first, T0, {"vraag": first})
    case.complete(second, T0, {"vraag": second})
    case.complete("Daarna", T0)

    assert case.data()["vraag"] == second
