"""Runs a diagram the way production does: every step loads the saved state and saves it again.

Each step goes load_state -> action -> dump_state -> json.dumps/json.loads, like the database layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.bpmn import runtime, state
from engine.bpmn.parser import ParsedDiagram, parse_diagram
from engine.bpmn.sandbox import make_script_engine

DIAGRAMS = Path(__file__).parent / "diagrams"
T = TypeVar("T")


def diagram(name: str) -> bytes:
    return (DIAGRAMS / name).read_bytes()


def parse(name: str, *extra: str, sources: Mapping[str, bytes] | None = None) -> ParsedDiagram:
    """Parse files from DIAGRAMS, or from `sources` (file name -> XML) when given."""
    read = sources.__getitem__ if sources is not None else diagram
    return parse_diagram(read(name), filename=name, extra_bpmn={e: read(e) for e in extra})


def through_json(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value))


class Case:
    """One case of a diagram, stored as JSON between steps."""

    def __init__(self, name: str, *extra: str, data: Mapping[str, Any] | None = None,
                 functions: Mapping[str, Callable[..., Any]] | None = None,
                 sources: Mapping[str, bytes] | None = None) -> None:
        self.parsed = parse(name, *extra, sources=sources)
        self.spec, self.subprocess_specs = state.load_spec(through_json(state.dump_spec(self.parsed)))
        self.engine = make_script_engine(functions)
        workflow = state.new_workflow(self.spec, self.subprocess_specs, script_engine=self.engine, data=data)
        self.saved = through_json(state.dump_state(workflow))

    def load(self) -> BpmnWorkflow:
        return state.load_state(self.saved, self.spec, self.subprocess_specs, script_engine=self.engine)

    def step(self, action: Callable[[BpmnWorkflow], T]) -> T:
        workflow = self.load()
        result = action(workflow)
        self.saved = through_json(state.dump_state(workflow))
        return result

    def size(self) -> int:
        return len(json.dumps(self.saved))

    def ready(self, now: datetime) -> list[runtime.ReadyHumanTask]:
        return self.step(lambda wf: runtime.ready_human_tasks(wf, now=now))

    def titles(self, now: datetime) -> list[str]:
        return sorted(task.title for task in self.ready(now))

    def complete(self, title: str, now: datetime, data: Mapping[str, Any] | None = None) -> None:
        matches = [task for task in self.ready(now) if task.title == title]
        assert len(matches) == 1, f"expected one ready task {title!r}, found {self.titles(now)}"
        self.step(lambda wf: runtime.complete_human_task(wf, matches[0].task_id, data or {}))

    def fire_timers(self) -> bool:
        return self.step(runtime.fire_due_timers)

    def timers(self) -> list[runtime.PendingTimer]:
        return self.step(runtime.pending_timers)

    def send(self, name: str, payload: Mapping[str, Any]) -> None:
        self.step(lambda wf: runtime.send_message(wf, name, payload))

    def status(self) -> str:
        return self.step(runtime.workflow_status)

    def data(self) -> dict[str, Any]:
        return self.step(lambda wf: dict(wf.data))
