"""The engine steps the database layer calls: run, complete human tasks, fire timers, deliver messages.

Also reads what the database projects from a workflow: ready human tasks, pending timers, activities.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.parser import describe_human_task, is_iso_datetime, is_iso_duration
from engine.bpmn.state import ACTIVE, all_tasks, check_progress, run_until_quiet
from engine.errors import ConflictError, InvalidInputError, NotFoundError, Problem, ScriptError

# Where a task's computed due/follow-up dates are kept, so a reload gives the same values.
DATES_KEY = "ketenregie_dates"


@dataclass(frozen=True)
class ReadyHumanTask:
    task_id: str
    spec_name: str
    title: str
    lane: str | None
    form_key: str | None
    candidate_groups: tuple[str, ...]
    due_date: datetime | None
    follow_up_date: datetime | None
    properties: Mapping[str, str]
    process_id: str


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    spec_name: str
    title: str
    due_at: datetime  # timezone-aware UTC


def _title(task: Task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

def run_engine(workflow: BpmnWorkflow) -> None:
    """do_engine_steps, refresh timers and repeat until quiet; raises if the engine lost track."""
    run_until_quiet(workflow)
    check_progress(workflow)


def _find_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TaskNotFoundException) as exc:
        raise NotFoundError(f"Task {task_id} does not exist in this case.") from exc


def complete_human_task(workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
    """Merge submitted data into the task, complete it and run the engine until quiet."""
    task = _find_task(workflow, task_id)
    if not task.task_spec.manual:
        raise InvalidInputError(f"'{_title(task)}' is not a task for people.")
    if task.state != TaskState.READY:
        raise ConflictError(f"'{_title(task)}' is not open (it is {TaskState.get_name(task.state)}).")
    submitted = copy.deepcopy(dict(data))
    variable = getattr(task.task_spec, "variable", None)
    if variable:
        task.data[variable] = submitted
    else:
        task.data.update(submitted)
    task.run()
    run_engine(workflow)


def _state_signature(workflow: BpmnWorkflow) -> frozenset[tuple[UUID, int]]:
    return frozenset((t.id, t.state) for t in all_tasks(workflow))


def fire_due_timers(workflow: BpmnWorkflow) -> bool:
    """Let timers whose time has come fire; True if that changed anything."""
    before = _state_signature(workflow)
    workflow.refresh_timers()
    run_engine(workflow)
    return _state_signature(workflow) != before


def send_message(workflow: BpmnWorkflow, name: str, payload: Mapping[str, Any],
                 correlation: Mapping[str, Any] | None = None) -> None:
    """Deliver BPMN message `name`; its payload lands in the data of the task that catches it."""
    event = BpmnEvent(MessageEventDefinition(name), payload=copy.deepcopy(dict(payload)),
                      correlations=dict(correlation or {}))
    catching = [t for t in workflow.event_manager.tasks.values()
                if t.state == TaskState.WAITING and t.task_spec.catches(t, event)]
    try:
        workflow.send_event(event)
    except WorkflowException as exc:
        raise ConflictError(f"The case is not waiting for message '{name}'.") from exc
    for task in catching:
        # Without a spiffworkflow:messageVariable SpiffWorkflow drops the payload; Camunda Modeler
        # diagrams have none, so put it into the data of the task that caught the message.
        if task.state == TaskState.READY and _message_variable(task, event) is None:
            task.data.update(copy.deepcopy(event.payload))
    run_engine(workflow)


def _message_variable(task: Task, event: BpmnEvent) -> str | None:
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):
        matches = [d for d in definition.event_definitions if d.catches(task, event)]
        definition = matches[0] if matches else definition
    return getattr(definition, "message_var", None)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def workflow_status(workflow: BpmnWorkflow) -> Literal["active", "completed"]:
    check_progress(workflow)
    return "completed" if workflow.is_completed() else "active"


def active_elements(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """(BPMN element id, name) of everything READY, WAITING or STARTED: the current activities."""
    seen: dict[str, str] = {}
    for task in all_tasks(workflow):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id is not None and task.has_state(ACTIVE) and bpmn_id not in seen:
            seen[bpmn_id] = _title(task)
    return list(seen.items())


def completed_elements(workflow: BpmnWorkflow) -> list[str]:
    """BPMN element ids of completed tasks still in the (compacted) engine state, for a viewer."""
    done = (t for t in all_tasks(workflow) if t.state == TaskState.COMPLETED)
    ids = (getattr(t.task_spec, "bpmn_id", None) for t in done)
    return list(dict.fromkeys(i for i in ids if i is not None))


def ready_human_tasks(workflow: BpmnWorkflow, *, now: datetime) -> list[ReadyHumanTask]:
    """READY user/manual tasks, subprocesses included, with due and follow-up dates.

    Dates are computed the first time a task is seen (relative to `now`, the moment of the unit of
    work in which it became READY) and kept in its internal_data, so reloading gives the same value.
    """
    result = []
    for task in all_tasks(workflow):
        if task.state != TaskState.READY or not task.task_spec.manual:
            continue
        spec = describe_human_task(task.task_spec, task.workflow.spec.name)
        dates = task.internal_data.get(DATES_KEY)
        if dates is None:
            dates = {
                "due_date": _as_iso(_evaluate_date(task, spec.due_date, now, "due date")),
                "follow_up_date": _as_iso(_evaluate_date(task, spec.follow_up_date, now, "follow-up date")),
            }
            task.internal_data[DATES_KEY] = dates
        result.append(ReadyHumanTask(
            task_id=str(task.id), spec_name=spec.spec_name, title=spec.title, lane=spec.lane,
            form_key=spec.form_key, candidate_groups=spec.candidate_groups,
            due_date=_from_iso(dates["due_date"]), follow_up_date=_from_iso(dates["follow_up_date"]),
            properties=spec.properties, process_id=spec.process_id,
        ))
    return result


def _as_iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _evaluate_date(task: Task, text: str | None, now: datetime, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        # Plain ISO first: '2026-05-01' is also a Python expression (it equals 2020).
        if is_iso_duration(text) or is_iso_datetime(text):
            return date_value(text, now)
        value = task.workflow.script_engine.environment.evaluate(text, task.data)
        return date_value(value, now)
    except Exception as exc:
        element = task.task_spec.bpmn_id
        message = f"The {what} of '{_title(task)}' could not be computed from '{text}': {exc}"
        raise ScriptError(message, problems=[Problem(message, element=element, code="due_date")]) from exc


def date_value(value: Any, now: datetime) -> datetime | None:
    """A due date from what an expression produced: ISO text, datetime, date, timedelta or None.

    Durations count from `now`; a date means midnight UTC; a naive datetime is read as UTC.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        return now.astimezone(UTC) + value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, str):
        text = value.strip()
        if is_iso_duration(text):
            parsed = TimerEventDefinition.parse_iso_duration(text)
            return now.astimezone(UTC) + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return date_value(datetime.fromisoformat(text), now)
    raise ValueError(f"expected a date, a datetime, a duration or ISO 8601 text, got {type(value).__name__}")


def pending_timers(workflow: BpmnWorkflow) -> list[PendingTimer]:
    """Every WAITING timer (boundary, intermediate, cycle, event-based gateway, in subprocesses)."""
    result = []
    for task in list(workflow.event_manager.tasks.values()):
        if task.state != TaskState.WAITING:
            continue
        definition = task.task_spec.event_definition
        timers = [definition] if isinstance(definition, TimerEventDefinition) else [
            d for d in getattr(definition, "event_definitions", []) if isinstance(d, TimerEventDefinition)]
        due = _timer_due(timers[0], task.internal_data.get("event_value")) if timers else None
        if due is not None:
            result.append(PendingTimer(str(task.id), task.task_spec.name, _title(task), due))
    return sorted(result, key=lambda timer: timer.due_at)


def _timer_due(definition: TimerEventDefinition, value: Any) -> datetime | None:
    # SpiffWorkflow keeps the computed time in internal_data["event_value"]: an ISO text for
    # durations and dates, and {"cycles", "next", "duration"} for cycles.
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        value = value["next"]
    if isinstance(definition, TimeDateEventDefinition):
        parsed = TimerEventDefinition.parse_time_or_duration(value)
        return parsed.astimezone(UTC) if isinstance(parsed, datetime) else None
    return TimerEventDefinition.get_datetime(value).astimezone(UTC)
