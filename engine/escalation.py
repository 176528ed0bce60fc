"""Escalation of stalled cases and overdue work: the engine's own watch over every case.

- A case with no activity for its process's stall period (default 30 days) gets one escalation
  work item for the coordinator's organisation (role `Coordinator`), once per stall.
- An overdue work item notifies its organisation once; an escalation notifies the coordinator.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import execution, history, notifications
from engine.lead_times import months_before
from engine.models import Case, CaseStatus, ProcessVersion, WorkItem, WorkItemKind, WorkItemStatus
from engine.roles import role_targets
from engine.routing import FixedOrganisation, role_key

COORDINATOR_ROLE = "Coordinator"


def coordinator_organisation(session: Session) -> int | None:
    target = role_targets(session).get(role_key(COORDINATOR_ROLE))
    return target.organisation_id if isinstance(target, FixedOrganisation) else None


def escalate_stalled_cases(session: Session, now: datetime, *, limit: int = 500) -> int:
    """Create one escalation item per stalled case (not yet escalated for this stall). Returns how many."""
    organisation_id = coordinator_organisation(session)
    if organisation_id is None:
        return 0  # Nobody to escalate to; the dashboard still shows stalled cases.
    candidates = session.scalars(
        select(Case).join(ProcessVersion)
        .where(Case.status == CaseStatus.ACTIVE)
        # Escalation happens 30+ days after the last activity, so equal instants mean activity since.
        .where(or_(Case.stall_escalated_at.is_(None), Case.stall_escalated_at <= Case.last_activity_at))
        .order_by(Case.last_activity_at).limit(limit)
    ).all()
    escalated = 0
    for case in candidates:
        if case.last_activity_at > now - timedelta(days=case.process_version.stall_after_days):
            continue
        case = execution.lock_case(session, case.id)
        days = case.process_version.stall_after_days
        item = WorkItem(
            case_id=case.id, task_id=f"escalation:{uuid.uuid4().hex[:25]}", element_id="escalation:stalled",
            title=f"Casus {case.reference} staat al {days} dagen stil", lane=None, role=COORDINATOR_ROLE,
            organisation_id=organisation_id, form_key=None, kind=WorkItemKind.ESCALATION,
            status=WorkItemStatus.OPEN, created_at=now, due_at=now + timedelta(days=5),
        )
        session.add(item)
        session.flush()
        # The escalation itself is not activity: last_activity_at stays, so the stall stays visible.
        case.stall_escalated_at = now
        execution.add_participant(session, case.id, organisation_id, reason="coordinator", now=now)
        history.record(session, case, "case_stalled", f"Geen activiteit sinds {days} dagen: geëscaleerd naar de "
                       "coördinator.", at=now, work_item_id=item.id)
        notifications.enqueue(
            session, dedupe_key=f"stalled:{case.id}:{now.date().isoformat()}", organisation_id=organisation_id,
            kind="stalled", case_id=case.id, work_item_id=item.id, now=now,
            subject=f"[Ketenregie] Casus {case.reference} staat stil",
            body=f"Casus {case.reference} ({case.title}) heeft al {days} dagen geen activiteit gehad.\n"
                 "Er staat een escalatietaak in de werkvoorraad van de coördinator.",
        )
        escalated += 1
    return escalated


def notify_overdue_work(session: Session, now: datetime, *, limit: int = 1000) -> int:
    """Queue one mail per overdue open work item to its organisation. Returns how many were queued."""
    items = session.scalars(
        select(WorkItem).where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.due_at < now,
                               WorkItem.overdue_notified_at.is_(None)).limit(limit)
    ).all()
    for item in items:
        item.overdue_notified_at = now
        notifications.enqueue(
            session, dedupe_key=f"overdue:{item.id}", organisation_id=item.organisation_id, kind="overdue",
            case_id=item.case_id, work_item_id=item.id, now=now,
            subject=f"[Ketenregie] Termijn verstreken: {item.title} ({item.case.reference})",
            body=f"De taak '{item.title}' in casus {item.case.reference} had af moeten zijn op "
                 f"{item.due_at:%d-%m-%Y %H:%M} UTC en staat nog open in jullie werkvoorraad.",
        )
    return len(items)


def age_flag(case: Case, now: datetime) -> str | None:
    """'9m' or '6m' for open cases past the programme's target of 6 to 9 months, else None."""
    if case.closed_at is not None:
        return None
    # Calendar months, as in the lead-time report: one definition of the programme's target.
    if case.opened_at <= months_before(now, 9):
        return "9m"
    return "6m" if case.opened_at <= months_before(now, 6) else None
