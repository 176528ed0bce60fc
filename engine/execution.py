"""The unit of work: lock a case, load its workflow, run one step, save, sync the projections.

Everything a step changes — the saved state, work items, timers, participants and history —
is written in the caller's transaction, so a crash leaves either all of it or none of it.
A failure inside the diagram (a script, a condition, an unroutable task) puts the case in the
error state for the coordinator instead of crashing the request.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import agenda, case_data, catalog, diagnostics, escalation, history, stages
from engine.accounts import Actor
from engine.bpmn import budget, runtime, sandbox, state
from engine.calendar import script_functions
from engine.errors import ConflictError, EngineError, NotFoundError, RoutingError
from engine.models import (
    Case,
    CaseParticipant,
    CaseRoleAssignment,
    CaseStatus,
    Organisation,
    Timer,
    TimerStatus,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from engine.roles import role_targets
from engine.routing import ORGANISATION_PROPERTIES, organisation_from_data, role_key, route_task

log = logging.getLogger(__name__)

STAGE_PROPERTIES = ("stage", "fase")


@dataclass(frozen=True)
class Outcome:
    """What a unit of work did to a case.

    `error` is set when the case went into the error state. `applied` says whether the step itself
    was saved: False when the diagram failed (the case stays at its last good state), True when
    the step went through but a next task could not be routed.
    """

    case: Case
    error: str | None = None
    error_element: str | None = None
    applied: bool = False


@cache
def script_engine() -> Any:
    # One sandboxed script engine per process: it holds no per-case state.
    return sandbox.make_script_engine(script_functions())


def lock_case(session: Session, case_id: int) -> Case:
    """Load a case with its row locked until the transaction ends (FOR UPDATE; a no-op on SQLite,
    where the optimistic lock_version check catches a concurrent write instead)."""
    case = session.scalar(
        select(Case).where(Case.id == case_id).with_for_update(of=Case).execution_options(populate_existing=True)
    )
    if case is None:
        raise NotFoundError("There is no such case.")
    return case


def load_workflow(case: Case) -> Any:
    if case.serializer_version != state.SERIALIZER_VERSION:
        raise ConflictError(
            f"Case {case.reference} was saved by engine format {case.serializer_version}; "
            f"this server runs {state.SERIALIZER_VERSION}. Migrate saved cases before upgrading."
        )
    spec, subprocess_specs = catalog.spec_for(case.process_version)
    return state.load_state(case.state, spec, subprocess_specs, script_engine=script_engine())


def run_step(
    session: Session,
    case: Case,
    step: Callable[[Any], Any],
    *,
    actor: Actor | None,
    now: datetime,
    workflow: Any | None = None,
) -> Outcome:
    """Run `step(workflow)` on a locked case, then save and sync. Diagram failures become case errors."""
    workflow = workflow if workflow is not None else load_workflow(case)
    # Everything the diagram's code runs in this step shares one time/operation/size budget.
    with budget.step() as limits:
        try:
            step(workflow)
            if limits.tripped is not None:  # the engine caught the limit error (e.g. an error boundary event)
                raise budget.ScriptLimitError(limits.tripped.kind)
        except EngineError as error:
            if not _limit_exceeded(error):
                raise  # The caller asked for something impossible (e.g. a task that is no longer ready).
            return fail(session, case, error, actor=actor, now=now)
        except Exception as error:
            return fail(session, case, error, actor=actor, now=now)
        try:
            # Due dates are diagram code too: compute them now (they are kept on the task), so one
            # that fails puts the case in error like a failing script, before anything is written.
            runtime.ready_human_tasks(workflow, now=now)
        except Exception as error:
            return fail(session, case, error, actor=actor, now=now)
        return sync(session, case, workflow, actor=actor, now=now)


def _limit_exceeded(error: BaseException) -> bool:
    return any(isinstance(e, budget.ScriptLimitError) for e in sandbox.exception_chain(error))


def fail(session: Session, case: Case, error: BaseException, *, actor: Actor | None, now: datetime) -> Outcome:
    """Put the case in error for an exception from the diagram: a value-free message for everyone,
    the full text only in the diagnostics (and never in the server log: it can hold case data)."""
    element, message = sandbox.explain(error)
    kind, detail = sandbox.diagnose(error)
    log.warning("case %s failed at element %s: %s", case.reference, element, kind)
    return mark_error(session, case, message, element=element, actor=actor, now=now, diagnosis=(kind, detail))


def mark_error(
    session: Session, case: Case, message: str, *, element: str | None, actor: Actor | None, now: datetime,
    diagnosis: tuple[str, str] | None = None,
) -> Outcome:
    """Put the case in the error state; its saved workflow stays at the last good state.

    `message` is shown to every partner in the case, so it must hold no case data; `diagnosis`
    (exception type, full text) is kept apart for the diagnostic view. Entering error escalates to
    the coordinator at once (a retry that fails again does not).
    """
    entering = case.status is not CaseStatus.ERROR
    case.status = CaseStatus.ERROR
    case.error_message = message
    case.error_element = element
    if diagnosis is not None:
        diagnostics.record(session, case, element=element, exception=diagnosis[0], detail=diagnosis[1], now=now)
    history.record(session, case, "case_error", f"De casus liep vast: {message}", at=now, actor=actor,
                   element_id=element)
    if entering:
        # Called from an except block: the exception being handled gives the error's kind.
        escalation.escalate_error(session, case, element=element, error=sys.exc_info()[1], now=now)
    return Outcome(case, error=message, error_element=element)


def sync(session: Session, case: Case, workflow: Any, *, actor: Actor | None, now: datetime) -> Outcome:
    """Save the workflow and bring work items, timers, stage and status in line with it."""
    routing_errors = _sync_work_items(session, case, workflow, actor=actor, now=now)
    _sync_timers(session, case, workflow)
    agenda.sync_agenda(session, case, workflow, now=now)
    case.state = state.dump_state(workflow)
    case.serializer_version = state.SERIALIZER_VERSION
    case.last_activity_at = now
    if routing_errors:
        element, message = routing_errors[0]
        failed = mark_error(session, case, message, element=element, actor=actor, now=now)
        return Outcome(case, failed.error, failed.error_element, applied=True)
    case.error_message = case.error_element = None
    if runtime.workflow_status(workflow) == "completed":
        if case.status is not CaseStatus.COMPLETED:
            case.status = CaseStatus.COMPLETED
            case.closed_at = now
            case.result = _result_of(workflow)
            case.end_event = case_data.end_event_of(workflow)
            stages.leave_stage(session, case, now=now)
            history.record(session, case, "case_completed", "De casus is afgesloten.", at=now, actor=actor)
    elif case.status is not CaseStatus.SUSPENDED:
        case.status = CaseStatus.ACTIVE
    return Outcome(case, applied=True)


def _result_of(workflow: Any) -> str | None:
    # The closing form records the case's result (`resultaat`); it decides the retention period.
    data = getattr(workflow, "data", None) or {}
    last = getattr(workflow, "last_task", None)
    value = (getattr(last, "data", None) or {}).get("resultaat") or data.get("resultaat")
    return str(value)[:100] if value else None


def _sync_work_items(
    session: Session, case: Case, workflow: Any, *, actor: Actor | None, now: datetime
) -> list[tuple[str, str]]:
    ready = runtime.ready_human_tasks(workflow, now=now)
    open_items = {
        item.task_id: item
        for item in session.scalars(
            select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN,
                                   WorkItem.kind == WorkItemKind.TASK)
        )
    }
    targets = role_targets(session) if any(t.task_id not in open_items for t in ready) else {}
    case_roles = case_role_map(session, case.id)
    errors: list[tuple[str, str]] = []
    for task in ready:
        if open_items.pop(task.task_id, None) is not None:
            continue
        try:
            route = route_task(lane=task.lane, candidate_groups=task.candidate_groups, mappings=targets,
                               case_roles=case_roles, organisation_id=_named_organisation(session, workflow, task))
        except RoutingError as error:
            errors.append((task.spec_name, f"Taak '{task.title}': {error.message}"))
            continue
        item = WorkItem(
            case_id=case.id, task_id=task.task_id, element_id=task.spec_name, title=task.title, lane=task.lane,
            role=route.role, organisation_id=route.organisation_id, form_key=task.form_key,
            status=WorkItemStatus.OPEN, created_at=now, due_at=task.due_date, follow_up_at=task.follow_up_date,
        )
        session.add(item)
        session.flush()
        add_participant(session, case.id, route.organisation_id, reason=f"taak:{route.role}", now=now)
        history.record(session, case, "task_ready", f"Taak '{task.title}' staat klaar ({route.role}).", at=now,
                       element_id=task.spec_name, work_item_id=item.id)
        stage = next((task.properties[p] for p in STAGE_PROPERTIES if task.properties.get(p)), None)
        if stage:
            stages.change_stage(session, case, stage, now=now)
    for gone in open_items.values():
        gone.status = WorkItemStatus.CANCELLED
        gone.completed_at = now
        history.record(session, case, "task_cancelled", f"Taak '{gone.title}' is vervallen.", at=now, actor=actor,
                       element_id=gone.element_id, work_item_id=gone.id)
    return errors


def _named_organisation(session: Session, workflow: Any, task: runtime.ReadyHumanTask) -> int | None:
    # A task whose organisation is decided at run time (an action the case meeting gave to one
    # partner) names the place in its data where the organisation is: organisatie="actie.organisatie_id".
    path = next((task.properties[p] for p in ORGANISATION_PROPERTIES if task.properties.get(p)), None)
    if path is None:
        return None
    organisation_id = organisation_from_data(path, workflow.get_task_from_id(UUID(task.task_id)).data)
    if session.get(Organisation, organisation_id) is None:
        raise RoutingError(f"The organisation named by {path!r} ({organisation_id}) does not exist.")
    return organisation_id


def _sync_timers(session: Session, case: Case, workflow: Any) -> None:
    pending = {t.task_id: t for t in runtime.pending_timers(workflow)}
    rows = {row.task_id: row for row in session.scalars(select(Timer).where(Timer.case_id == case.id))}
    for task_id, timer in pending.items():
        row = rows.get(task_id)
        if row is None:
            session.add(Timer(case_id=case.id, task_id=task_id, element_id=timer.spec_name, title=timer.title,
                              due_at=timer.due_at, status=TimerStatus.PENDING))
        elif row.status is not TimerStatus.PENDING or row.due_at != timer.due_at:
            row.status, row.due_at, row.fired_at = TimerStatus.PENDING, timer.due_at, None
    for task_id, row in rows.items():
        if task_id not in pending and row.status is TimerStatus.PENDING:
            row.status = TimerStatus.CANCELLED
    case.next_timer_at = min((t.due_at for t in pending.values()), default=None)


def case_role_map(session: Session, case_id: int) -> dict[str, int]:
    rows = session.scalars(select(CaseRoleAssignment).where(CaseRoleAssignment.case_id == case_id))
    return {role_key(r.case_role): r.organisation_id for r in rows}


def add_participant(session: Session, case_id: int, organisation_id: int, *, reason: str, now: datetime) -> None:
    if session.get(CaseParticipant, (case_id, organisation_id)) is None:
        session.add(CaseParticipant(case_id=case_id, organisation_id=organisation_id, since=now, reason=reason))
