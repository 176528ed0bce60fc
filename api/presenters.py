"""Turn engine objects into the plain dicts the API schemas describe."""

from __future__ import annotations

from typing import Any

from engine.cases import CaseDetail
from engine.clock import utcnow
from engine.disclosure import CaseDisclosure
from engine.escalation import age_flag
from engine.models import Case, CaseEvent, Organisation, Timer, User, WorkItem
from engine.work_items import form_of


def organisation_ref(organisation: Organisation) -> dict[str, Any]:
    return {"id": organisation.id, "name": organisation.name, "kind": organisation.kind.value}


def work_item(item: WorkItem, *, with_form: bool = False) -> dict[str, Any]:
    out = {
        "id": item.id,
        "case_id": item.case_id,
        "case_reference": item.case.reference,
        "element_id": item.element_id,
        "title": item.title,
        "lane": item.lane,
        "role": item.role,
        "organisation": organisation_ref(item.organisation),
        "form_key": item.form_key,
        "status": item.status.value,
        "claimed_by": item.claimed_by.username if item.claimed_by else None,
        "claimed_at": item.claimed_at,
        "created_at": item.created_at,
        "due_at": item.due_at,
        "follow_up_at": item.follow_up_at,
        "completed_at": item.completed_at,
        "overdue": item.due_at is not None and item.completed_at is None and item.due_at < utcnow(),
    }
    if with_form:
        out["form"] = form_of(item)
    return out


def case_summary(case: Case, title: str) -> dict[str, Any]:
    """`title` as the reader may see it (see engine.disclosure.title_of)."""
    version = case.process_version
    return {
        "id": case.id,
        "reference": case.reference,
        "title": title,
        "process": {"key": version.process_key, "version": version.version, "name": version.name},
        "status": case.status.value,
        "stage": case.stage,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "last_activity_at": case.last_activity_at,
        "next_timer_at": case.next_timer_at,
        "age_flag": age_flag(case, utcnow()),
        "error": {"message": case.error_message, "element": case.error_element} if case.error_message else None,
    }


def timer(row: Timer) -> dict[str, Any]:
    return {"element_id": row.element_id, "title": row.title, "due_at": row.due_at}


def event(
    row: CaseEvent, users: dict[int, User], organisations: dict[int, Organisation],
    data: dict[str, Any] | None, shielded: list[str],
) -> dict[str, Any]:
    actor = None
    if row.actor_user_id or row.actor_organisation_id:
        user = users.get(row.actor_user_id or 0)
        organisation = organisations.get(row.actor_organisation_id or 0)
        actor = {"user": user.username if user else None, "organisation": organisation.name if organisation else None}
    return {
        "at": row.at, "kind": row.kind, "summary": row.summary, "actor": actor, "element_id": row.element_id,
        "work_item_id": row.work_item_id, "data": data, "shielded": shielded,
    }


def case_detail(
    detail: CaseDetail, seen: CaseDisclosure, users: dict[int, User], organisations: dict[int, Organisation],
    *, end_event_name: str | None = None,
) -> dict[str, Any]:
    case = detail.case
    out = case_summary(case, seen.title)
    out.update(
        result=case.result,
        end_event={"id": case.end_event, "name": end_event_name or case.end_event} if case.end_event else None,
        data=seen.variables,
        shielded=seen.shielded_variables,
        current_activities=[{"id": i, "name": n} for i, n in detail.current_activities],
        open_work_items=[work_item(i) for i in detail.open_work_items],
        pending_timers=[timer(t) for t in detail.pending_timers],
        history=[event(e.event, users, organisations, e.data, e.shielded) for e in seen.events],
        earlier_history=detail.earlier_history,
        participants=[
            {"organisation": organisation_ref(o), "since": p.since, "reason": p.reason} for p, o in detail.participants
        ],
        case_roles=[{"case_role": a.case_role, "organisation": organisation_ref(o)} for a, o in detail.case_roles],
    )
    return out
