"""Work items: an organisation's inbox, claiming, and completing a task with validated form data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, tuple_
from sqlalchemy.orm import Session, defaultload, joinedload, lazyload

from engine import access, audit, execution, history, paging
from engine.accounts import Actor
from engine.bpmn import runtime
from engine.clock import utcnow
from engine.covenant import categories_of_form, categorise_start_data, check_write, current_covenant
from engine.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError, Problem
from engine.forms import normalise_form_key, validate_submission
from engine.models import Case, Role, User, WorkItem, WorkItemKind, WorkItemStatus


def list_inbox(
    session: Session,
    actor: Actor,
    *,
    unclaimed: bool = False,
    mine: bool = False,
    overdue: bool = False,
    limit: int = 100,
    offset: int = 0,
    after: str | None = None,
) -> list[WorkItem]:
    """Open work items of the actor's organisation, soonest due first (items without a due date last).

    Pages by keyset: `after` is the cursor of the last item of the previous page (`inbox_cursor`).
    Dated and undated items are read by separate queries, each walking an index in its order
    (ix_work_items_inbox, _unclaimed or _mine): one ORDER BY with NULLS LAST would need a sort.
    `offset` still works, with a sort, for callers written before cursors.
    """
    limit = max(1, min(limit, paging.MAX_LIMIT))
    query = select(WorkItem).where(
        WorkItem.organisation_id == actor.organisation_id, WorkItem.status == WorkItemStatus.OPEN
    ).options(*_LIST_OPTIONS)
    if unclaimed:
        query = query.where(WorkItem.claimed_by_id.is_(None))
    if mine:
        query = query.where(WorkItem.claimed_by_id == actor.user_id)
    if overdue:
        query = query.where(WorkItem.due_at < utcnow())
    order = (WorkItem.due_at, WorkItem.created_at, WorkItem.id)
    if offset:
        query = query.order_by(WorkItem.due_at.is_(None), *order)
        return list(session.scalars(query.limit(limit).offset(offset)))
    due, created, last_id = paging.decode(after, (datetime, datetime, int)) if after else (None, None, None)
    rows: list[WorkItem] = []
    if after is None or due is not None:
        dated = query.where(WorkItem.due_at.is_not(None))
        if after is not None:
            dated = dated.where(tuple_(*order) > tuple_(_at(due), _at(created), literal(last_id)))
        rows = list(session.scalars(dated.order_by(*order).limit(limit)))
    if len(rows) < limit and not overdue:
        undated = query.where(WorkItem.due_at.is_(None))
        if after is not None and due is None:
            undated = undated.where(tuple_(WorkItem.created_at, WorkItem.id) > tuple_(_at(created), literal(last_id)))
        # Ordering by the (all NULL) due_at too keeps the index order recognisable to PostgreSQL.
        rows += session.scalars(undated.order_by(*order).limit(limit - len(rows)))
    return rows


def inbox_cursor(item: WorkItem) -> str:
    return paging.encode(item.due_at, item.created_at, item.id)


def _at(value: datetime | None) -> Any:
    return literal(value, WorkItem.__table__.c.due_at.type)


# What an inbox row shows: the item, its case's reference and title, who holds it. Not the
# case's saved state, nor its process version's XML and spec.
_LIST_OPTIONS = (
    joinedload(WorkItem.case).load_only(Case.id, Case.reference, Case.title, Case.lock_version),
    defaultload(WorkItem.case).lazyload(Case.process_version),
    joinedload(WorkItem.claimed_by).lazyload(User.role_rows),
)


def open_items_of_case(session: Session, actor: Actor, case_id: int) -> list[WorkItem]:
    """The open items of one case in the actor's organisation's inbox: what they may do next."""
    return list(session.scalars(
        select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.OPEN,
                               WorkItem.organisation_id == actor.organisation_id)
        .options(*_LIST_OPTIONS).order_by(WorkItem.id)
    ))


def get_work_item(session: Session, actor: Actor, item_id: int) -> WorkItem:
    return _visible(session.get(WorkItem, item_id), actor)


def _visible(item: WorkItem | None, actor: Actor) -> WorkItem:
    # Another organisation's item answers exactly like a missing one, so ids cannot be probed;
    # roles without case work (admin, process owner) have no work items.
    if item is None or item.organisation_id != actor.organisation_id or not access.handles_cases(actor):
        raise NotFoundError("There is no such work item.")
    return item


def form_of(item: WorkItem) -> dict[str, Any] | None:
    if not item.form_key:
        return None
    return item.case.process_version.forms.get(normalise_form_key(item.form_key))  # type: ignore[no-any-return]


def claim(session: Session, actor: Actor, item_id: int) -> WorkItem:
    item = _locked_item(session, actor, item_id)
    if item.claimed_by_id not in (None, actor.user_id):
        raise ConflictError("Someone else has claimed this work item.")
    if item.claimed_by_id is None:
        now = utcnow()
        item.claimed_by_id, item.claimed_at = actor.user_id, now
        history.record(session, item.case, "work_item_claimed", f"Taak '{item.title}' opgepakt.", at=now,
                       actor=actor, work_item_id=item.id)
    return item


def unclaim(session: Session, actor: Actor, item_id: int) -> WorkItem:
    item = _locked_item(session, actor, item_id)
    if item.claimed_by_id not in (None, actor.user_id) and not actor.has(Role.COORDINATOR):
        raise PermissionDeniedError("Only the person who claimed it, or a coordinator, can release it.")
    if item.claimed_by_id is not None:
        now = utcnow()
        item.claimed_by_id, item.claimed_at = None, None
        history.record(session, item.case, "work_item_unclaimed", f"Taak '{item.title}' vrijgegeven.", at=now,
                       actor=actor, work_item_id=item.id)
    return item


def complete(session: Session, actor: Actor, item_id: int, data: Any) -> execution.Outcome:
    """Validate `data` against the item's form, record it as submitted, and run the task.

    The case row is locked first and the item read after, so of two concurrent completions
    exactly one runs; the other sees a completed item and gets a ConflictError.
    """
    case, item = _lock_case_then_read(session, actor, item_id)
    if item.status is not WorkItemStatus.OPEN:
        raise ConflictError("This work item is already completed." if item.status is WorkItemStatus.COMPLETED
                            else "This work item is no longer open.")
    if item.claimed_by_id not in (None, actor.user_id):
        raise ConflictError("Someone else has claimed this work item.")
    form = form_of(item)
    submitted = validate_submission(form, data) if form is not None else _plain_object(data)
    covenant = current_covenant(session)
    categories = categories_of_form(form) if form is not None else categorise_start_data(covenant, submitted)
    categories = {k: categories.get(k) for k in submitted}
    check_write(covenant, actor.organisation_kind, categories, values=submitted)
    now = utcnow()
    if item.kind is WorkItemKind.ESCALATION:
        return _close_escalation(session, actor, case, item, submitted, now)
    event = history.record(session, case, "task_completed", f"Taak '{item.title}' afgerond.", at=now,
                           actor=actor, element_id=item.element_id, work_item_id=item.id, data=submitted)
    event.categories = categories
    item.status, item.completed_at, item.completed_by_id = WorkItemStatus.COMPLETED, now, actor.user_id
    item.claimed_by_id = item.claimed_by_id or actor.user_id
    session.flush()
    outcome = execution.run_step(
        session, case, lambda wf: runtime.complete_human_task(wf, item.task_id, submitted), actor=actor, now=now
    )
    if outcome.error is not None and not outcome.applied:
        # The case stays at its last good state, so the task is open again; what was submitted
        # stays in the history (append-only) for when the coordinator has fixed the cause.
        item.status, item.completed_at, item.completed_by_id = WorkItemStatus.OPEN, None, None
        history.record(session, case, "task_completion_failed", f"Taak '{item.title}' kon niet worden afgerond: "
                       f"{outcome.error}", at=now, actor=actor, element_id=item.element_id, work_item_id=item.id)
    # Logged after the step, so nothing shared is locked while it runs; the entry is one INSERT
    # that flushes with the caller's commit (and with the read its response logs, if any).
    audit.append(session, actor, [audit.Access("write", f"taak: {item.title}"[:200], case.id, case.reference,
                                               tuple(c for c in categories.values() if c), tuple(categories))],
                 covenant_version=covenant.version, now=now)
    return outcome


def _close_escalation(
    session: Session, actor: Actor, case: Case, item: WorkItem, data: dict[str, Any], now: datetime
) -> execution.Outcome:
    # An engine escalation has no task in the workflow: completing it records what the
    # coordinator decided, and counts as activity on the case.
    item.status, item.completed_at, item.completed_by_id = WorkItemStatus.COMPLETED, now, actor.user_id
    case.last_activity_at = now
    history.record(session, case, "escalation_handled", f"Escalatie '{item.title}' afgehandeld.", at=now,
                   actor=actor, work_item_id=item.id, data=data)
    return execution.Outcome(case)


def _plain_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInputError("The data must be an object.", problems=[Problem("Expected an object.", "data")])
    return data


def _locked_item(session: Session, actor: Actor, item_id: int) -> WorkItem:
    _, item = _lock_case_then_read(session, actor, item_id)
    if item.status is not WorkItemStatus.OPEN:
        raise ConflictError("This work item is no longer open.")
    return item


def _lock_case_then_read(session: Session, actor: Actor, item_id: int) -> tuple[Case, WorkItem]:
    """Lock the item's case (found through the item in the same statement), then read the item:
    two statements, each row read once, and the item as it is under the lock."""
    of_item = select(WorkItem.case_id).where(WorkItem.id == item_id).scalar_subquery()
    case = session.scalar(select(Case).where(Case.id == of_item).with_for_update(of=Case)
                          .execution_options(populate_existing=True))
    if case is None:
        raise NotFoundError("There is no such work item.")
    # populate_existing: the version in the identity map may predate the lock. The case is
    # loaded already; the organisation and the claimant are not needed here.
    item = session.scalar(
        select(WorkItem).where(WorkItem.id == item_id)
        .options(lazyload(WorkItem.case), lazyload(WorkItem.organisation), lazyload(WorkItem.claimed_by))
        .execution_options(populate_existing=True)
    )
    return case, _visible(item, actor)
