"""Cases: starting one, reading it, listing them, and assigning case roles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, load_only

from engine import access, audit, case_data, catalog, coherence, execution, history, paging
from engine.accounts import Actor
from engine.bpmn import budget, runtime, state
from engine.clock import utcnow
from engine.covenant import categorise_start_data, check_write, current_covenant
from engine.errors import InvalidInputError, NotFoundError, PermissionDeniedError, Problem
from engine.models import (
    Case,
    CaseEvent,
    CaseParticipant,
    CaseRoleAssignment,
    CaseStatus,
    Organisation,
    ProcessVersion,
    ReferenceCounter,
    Role,
    Timer,
    TimerStatus,
    WorkItem,
    WorkItemStatus,
)
from engine.roles import MELDER, role_targets
from engine.routing import CaseRole, role_key

REFERENCE_PREFIX = "WO"
MAX_START_DATA_KEYS = 200


def start_case(session: Session, *, process_key: str, data: Mapping[str, Any], actor: Actor) -> execution.Outcome:
    """Start a case on the newest version of a process; the actor's organisation is its melder."""
    if not actor.has(Role.CASEWORKER) and not actor.has(Role.COORDINATOR):
        raise PermissionDeniedError("Only caseworkers and coordinators start cases.")
    _check_start_data(data)
    covenant = current_covenant(session)
    categories = categorise_start_data(covenant, data)
    check_write(covenant, actor.organisation_kind, categories)
    version = catalog.newest_version(session, process_key)
    # The reporting organisation receives the melder's tasks: refuse a start it could never carry on.
    coherence.refuse(coherence.check_case_role(session, covenant, version, _organisation(session, actor),
                                               MELDER, role_targets(session), field="process"),
                     "You cannot report this case")
    now = utcnow()
    case = Case(
        reference=next_reference(session, now),
        process_version=version,
        status=CaseStatus.ACTIVE,
        title=str(data.get("titel") or data.get("adres") or version.name)[:300],
        subject=str(data["bewoner"]).strip()[:200] if data.get("bewoner") else None,
        opened_at=now,
        last_activity_at=now,
        opened_by_organisation_id=actor.organisation_id,
        state={},
        serializer_version=state.SERIALIZER_VERSION,
    )
    session.add(case)
    session.flush()
    session.add(CaseRoleAssignment(case_id=case.id, case_role=MELDER, organisation_id=actor.organisation_id,
                                   assigned_at=now))
    execution.add_participant(session, case.id, actor.organisation_id, reason=MELDER, now=now)
    event = history.record(session, case, "case_started", f"Casus {case.reference} gestart ({version.name} "
                           f"v{version.version}).", at=now, actor=actor, data=dict(data))
    event.categories = categories
    audit.append(session, actor, [audit.Access("write", "melding registreren", case.id, case.reference,
                                               tuple(categories.values()), tuple(categories))],
                 covenant_version=covenant.version, now=now)
    session.flush()
    spec, subprocess_specs = catalog.spec_for(version)
    with budget.step():  # the scripts at the start and the first due dates share one budget
        try:
            workflow = state.new_workflow(spec, subprocess_specs, script_engine=execution.script_engine(),
                                          data=dict(data))
        except Exception as error:  # a diagram failing at its start becomes a case in error, not a crash
            return execution.fail(session, case, error, actor=actor, now=now)
        # new_workflow ran the engine up to the first waiting point: what remains is to save and sync.
        return execution.run_step(session, case, lambda _: None, actor=actor, now=now, workflow=workflow)


def _organisation(session: Session, actor: Actor) -> Organisation:
    organisation = session.get(Organisation, actor.organisation_id)
    if organisation is None:
        raise NotFoundError("Your organisation does not exist.")
    return organisation


def _check_start_data(data: Any) -> None:
    if not isinstance(data, Mapping):
        raise InvalidInputError("Case data must be an object.", problems=[Problem("Expected an object.", "data")])
    if len(data) > MAX_START_DATA_KEYS:
        raise InvalidInputError("Too many fields.", problems=[Problem("At most 200 fields.", "data")])
    bad = [k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")]
    if bad:
        raise InvalidInputError(
            "Field names must be identifiers (letters, digits, underscores; not starting with _).",
            problems=[Problem("Not a valid field name.", f"data.{k}") for k in bad],
        )


def next_reference(session: Session, now: datetime) -> str:
    """WO-<year>-<5 digits>, counted per year. The counter row is updated in the caller's
    transaction, so concurrent starts serialise on it and never share a number."""
    year = now.year
    for _ in range(3):
        bumped = session.execute(
            update(ReferenceCounter).where(ReferenceCounter.year == year).values(last=ReferenceCounter.last + 1)
        )
        if bumped.rowcount == 1:  # type: ignore[attr-defined]
            number = session.scalar(select(ReferenceCounter.last).where(ReferenceCounter.year == year))
            return f"{REFERENCE_PREFIX}-{year}-{number:05d}"
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(year=year, last=1))
            return f"{REFERENCE_PREFIX}-{year}-00001"
        except IntegrityError:
            continue  # another transaction created this year's counter first; bump it instead
    raise RuntimeError("could not allocate a case reference")


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not access.can_see_case(session, actor, case):
        raise NotFoundError("There is no such case, or you may not see it.")
    return case


def list_cases(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    process: str | None = None,
    stage: str | None = None,
    limit: int = 100,
    offset: int = 0,
    after: str | None = None,
) -> list[Case]:
    """Visible cases, newest first. Pages by keyset: `after` is `case_cursor` of the previous page's
    last case; each filter has an index ending in (opened_at, id), so no page sorts."""
    limit = max(1, min(limit, paging.MAX_LIMIT))
    query = access.visible_cases(actor, select(Case)).options(*_LIST_OPTIONS)
    if status:
        query = query.where(Case.status == CaseStatus(status))
    if process:
        query = query.where(Case.process_version_id.in_(
            select(ProcessVersion.id).where(ProcessVersion.process_key == process).scalar_subquery()))
    if stage:
        query = query.where(Case.stage == stage)
    if after:
        opened, last_id = paging.decode(after, (datetime, int))
        query = query.where(tuple_(Case.opened_at, Case.id) < tuple_(literal(opened, _OPENED_TYPE), literal(last_id)))
    query = query.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    return list(session.scalars(query.offset(offset) if offset else query))


def case_cursor(case: Case) -> str:
    return paging.encode(case.opened_at, case.id)


_OPENED_TYPE = Case.__table__.c.opened_at.type
# What a case list row shows; not the saved state, nor the process version's XML, spec and forms.
_LIST_OPTIONS = (
    load_only(Case.id, Case.reference, Case.title, Case.status, Case.stage, Case.opened_at, Case.closed_at,
              Case.last_activity_at, Case.next_timer_at, Case.error_message, Case.error_element,
              Case.process_version_id, Case.lock_version),
    joinedload(Case.process_version).load_only(ProcessVersion.id, ProcessVersion.process_key,
                                               ProcessVersion.version, ProcessVersion.name),
)


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    current_activities: list[tuple[str, str]]
    open_work_items: list[WorkItem]
    pending_timers: list[Timer]
    history: list[CaseEvent]  # the newest page, oldest first
    participants: Sequence[tuple[CaseParticipant, Organisation]]
    case_roles: Sequence[tuple[CaseRoleAssignment, Organisation]]
    completed_elements: list[str]
    variables: dict[str, Any] = field(default_factory=dict)  # all of them: filter with engine.disclosure
    earlier_history: bool = False  # older events exist beyond `history`


def case_detail(session: Session, actor: Actor, case_id: int) -> CaseDetail:
    case = get_case(session, actor, case_id)
    workflow = execution.load_workflow(case) if case.state else None
    activities = runtime.active_elements(workflow) if workflow is not None else []
    completed = runtime.completed_elements(workflow) if workflow is not None else []
    items = list(session.scalars(
        select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN)
        .order_by(WorkItem.id)
    ))
    timers = list(session.scalars(
        select(Timer).where(Timer.case_id == case.id, Timer.status == TimerStatus.PENDING).order_by(Timer.due_at)
    ))
    participants = list(session.execute(
        select(CaseParticipant, Organisation).join(Organisation).where(CaseParticipant.case_id == case.id)
        .order_by(CaseParticipant.since)
    ).all())
    roles = list(session.execute(
        select(CaseRoleAssignment, Organisation).join(Organisation).where(CaseRoleAssignment.case_id == case.id)
        .order_by(CaseRoleAssignment.case_role)
    ).all())
    # Only the newest page of the history: the detail costs the same however long the case runs.
    events = history.newest_page(session, case.id)
    return CaseDetail(case, activities, items, timers, events.events, participants, roles, completed,
                      case_data.variables_of(workflow) if workflow is not None else {}, events.earlier)


def assign_case_role(
    session: Session, *, case_id: int, case_role: str, organisation_id: int, actor: Actor | None, reason: str
) -> execution.Outcome:
    """Give a case role (e.g. casusregisseur) to an organisation. Open items routed through that
    role move to the new organisation; unroutable tasks waiting for it are routed now."""
    case = execution.lock_case(session, case_id)
    if session.get(Organisation, organisation_id) is None:
        raise NotFoundError("There is no such organisation.")
    now = utcnow()
    current = session.get(CaseRoleAssignment, (case_id, case_role))
    previous = current.organisation_id if current else None
    if current is None:
        session.add(CaseRoleAssignment(case_id=case_id, case_role=case_role, organisation_id=organisation_id,
                                       assigned_at=now))
    else:
        current.organisation_id, current.assigned_at = organisation_id, now
    execution.add_participant(session, case_id, organisation_id, reason=case_role, now=now)
    history.record(session, case, "case_role_assigned", f"Rol '{case_role}' toegewezen.", at=now, actor=actor,
                   data={"case_role": case_role, "from": previous, "to": organisation_id, "reason": reason})
    session.flush()
    if previous is not None and previous != organisation_id:
        _move_open_items(session, case, case_role, previous, organisation_id, actor=actor, now=now)
    workflow = execution.load_workflow(case)
    return execution.sync(session, case, workflow, actor=actor, now=now)


def _move_open_items(
    session: Session, case: Case, case_role: str, old: int, new: int, *, actor: Actor | None, now: datetime
) -> None:
    targets = role_targets(session)
    items = session.scalars(
        select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.status == WorkItemStatus.OPEN,
                               WorkItem.organisation_id == old)
    )
    for item in items:
        target = targets.get(role_key(item.role))
        if isinstance(target, CaseRole) and role_key(target.name) == role_key(case_role):
            item.organisation_id, item.claimed_by_id, item.claimed_at = new, None, None
            history.record(session, case, "work_item_moved", f"Taak '{item.title}' verplaatst naar de nieuwe "
                           f"{case_role}.", at=now, actor=actor, work_item_id=item.id,
                           data={"from": old, "to": new})


def admit_participant(session: Session, *, case_id: int, organisation_id: int, actor: Actor, reason: str) -> None:
    """The coordinator lets another partner take part in a case (need-to-know), with a reason."""
    if not access.sees_all_cases(actor):
        raise PermissionDeniedError("Only the coordinator admits partners to a case.")
    case = execution.lock_case(session, case_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError("There is no such organisation.")
    now = utcnow()
    if session.get(CaseParticipant, (case_id, organisation_id)) is None:
        execution.add_participant(session, case_id, organisation_id, reason="toegelaten", now=now)
        history.record(session, case, "participant_admitted", f"{organisation.name} neemt deel aan de casus.",
                       at=now, actor=actor, data={"organisatie": organisation.name, "reden": reason})


def retry_case(session: Session, *, case_id: int, actor: Actor) -> execution.Outcome:
    """After the cause of an error is fixed (a role mapped, say): run the engine and sync again."""
    if not access.sees_all_cases(actor):
        raise PermissionDeniedError("Only the coordinator can retry a case.")
    case = execution.lock_case(session, case_id)
    return execution.run_step(session, case, runtime.run_engine, actor=actor, now=utcnow())
