"""Escalation: the engine's own watch over every case, so that no case waits silently.

The rule (README, section Escalation) in short: a case in error escalates at once; a case stalls
when it shows no activity for its process's stall period AND its next scheduled moment (a pending
timer, a meeting it is on the agenda of, its evaluation date, a task's due or follow-up date) lies
more than the grace period behind; an evaluation not held within 4 weeks of its date escalates.
Each escalation is one work item for the coordinator's organisation (role `Coordinator`) plus a mail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine import execution, history, notifications
from engine.calendar import AMSTERDAM
from engine.lead_times import months_before
from engine.models import (
    AgendaItem,
    AgendaItemKind,
    Case,
    CaseStatus,
    Meeting,
    MeetingStatus,
    ProcessVersion,
    WorkItem,
    WorkItemKind,
    WorkItemStatus,
)
from engine.roles import role_targets
from engine.routing import FixedOrganisation, role_key

COORDINATOR_ROLE = "Coordinator"
# How long a scheduled moment may pass without progress before the case counts as stalled.
SCHEDULE_GRACE = timedelta(days=7)
# The meeting rule of the covenant: a case waiting for the casusoverleg is discussed within 4 weeks.
# Referrals enforce it in the diagram (a P28D timer); evaluations here, for every diagram.
EVALUATION_DEADLINE = timedelta(days=28)
STALLED_ELEMENT = "escalation:stalled"
ERROR_ELEMENT = "escalation:error"
EVALUATION_ELEMENT = "escalation:evaluation"
_CHUNK = 500


def coordinator_organisation(session: Session) -> int | None:
    target = role_targets(session).get(role_key(COORDINATOR_ROLE))
    return target.organisation_id if isinstance(target, FixedOrganisation) else None


def _escalate(
    session: Session, case: Case, organisation_id: int, *, element_id: str, task_id: str, title: str,
    history_kind: str, summary: str, mail_kind: str, mail_subject: str, mail_body: str, now: datetime,
) -> WorkItem:
    """One escalation item for the coordinator, the coordinator as participant, history and a mail."""
    item = WorkItem(
        case_id=case.id, task_id=task_id, element_id=element_id, title=title[:300], lane=None,
        role=COORDINATOR_ROLE, organisation_id=organisation_id, form_key=None, kind=WorkItemKind.ESCALATION,
        status=WorkItemStatus.OPEN, created_at=now, due_at=now + timedelta(days=5),
    )
    session.add(item)
    session.flush()
    execution.add_participant(session, case.id, organisation_id, reason="coordinator", now=now)
    history.record(session, case, history_kind, summary, at=now, work_item_id=item.id)
    notifications.enqueue(
        session, dedupe_key=f"{mail_kind}:{case.id}:{item.id}", organisation_id=organisation_id, kind=mail_kind,
        case_id=case.id, work_item_id=item.id, now=now, subject=mail_subject, body=mail_body,
    )
    return item


# ---------------------------------------------------------------------------------------------
# A case in error: escalated in the unit of work that put it there
# ---------------------------------------------------------------------------------------------

def error_kind(error: BaseException | None) -> str:
    """The class name of the error that says what went wrong (SpiffWorkflow's wrappers skipped).

    Only the kind goes into escalations and mails: an error's text may quote case data. Without an
    exception the error is a task that could not be routed (execution.sync reports those as data)."""
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    root = next((e for e in chain if not type(e).__module__.startswith("SpiffWorkflow")), None)
    root = root or (chain[0] if chain else None)
    return type(root).__name__ if root is not None else "RoutingError"


def escalate_error(
    session: Session, case: Case, *, element: str | None, error: BaseException | None, now: datetime
) -> WorkItem | None:
    """One escalation per error episode. Call when a case enters error (not when a retry fails again).

    While an earlier error escalation of the case is still open, that one stands for this episode too."""
    organisation_id = coordinator_organisation(session)
    if organisation_id is None:
        return None  # Nobody to escalate to; the dashboard still counts cases in error.
    already = session.scalar(select(WorkItem.id).where(
        WorkItem.case_id == case.id, WorkItem.element_id == ERROR_ELEMENT, WorkItem.status == WorkItemStatus.OPEN,
    ).limit(1))
    if already is not None:
        return None
    kind = error_kind(error)
    where = f"'{element}'" if element else "het proces"
    return _escalate(
        session, case, organisation_id, element_id=ERROR_ELEMENT, task_id=f"escalation:{uuid.uuid4().hex[:25]}",
        title=f"Casus {case.reference} staat in fout: stap {where} liep vast ({kind})",
        history_kind="case_error_escalated", summary=f"Fout in stap {where} ({kind}): geëscaleerd naar de coördinator.",
        mail_kind="case_error", mail_subject=f"[Ketenregie] Casus {case.reference} staat in fout",
        mail_body=f"Casus {case.reference} liep vast in stap {where} ({kind}) en wacht op de coördinator.\n"
                  "Er staat een escalatietaak in de werkvoorraad van de coördinator; de foutmelding staat "
                  "bij de casus.",
        now=now,
    )


# ---------------------------------------------------------------------------------------------
# Stalled cases: no activity, and nothing scheduled that explains the wait
# ---------------------------------------------------------------------------------------------

def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _local_midnight(day: object) -> datetime:
    return datetime.combine(day, time(), AMSTERDAM).astimezone(UTC)  # type: ignore[arg-type]


def next_scheduled(session: Session, case_ids: Iterable[int], *, now: datetime) -> dict[int, datetime]:
    """Per case, the earliest moment its next step is scheduled for, if any.

    Scheduled are: a pending timer, the meeting whose agenda the case is on (or, while no meeting
    is planned, its evaluation date), and the due or follow-up date of an open task. The earliest
    one counts: once it passes without progress, the case is late whatever else is planned."""
    moments: dict[int, datetime] = {}

    def note(case_id: int, moment: datetime | None) -> None:
        if moment is not None and (case_id not in moments or moment < moments[case_id]):
            moments[case_id] = moment

    for chunk in _chunks(list(case_ids)):
        for case_id, timer_at in session.execute(select(Case.id, Case.next_timer_at).where(Case.id.in_(chunk))):
            note(case_id, timer_at)
        agenda_rows = session.execute(
            select(AgendaItem.case_id, Meeting.scheduled_at, Meeting.status, AgendaItem.not_before)
            .outerjoin(Meeting, Meeting.id == AgendaItem.meeting_id)
            .where(AgendaItem.case_id.in_(chunk), AgendaItem.discussed_at.is_(None))
        )
        for case_id, meeting_at, meeting_status, not_before in agenda_rows:
            if meeting_at is not None and meeting_status is MeetingStatus.PLANNED:
                note(case_id, meeting_at)
            elif not_before is not None:
                note(case_id, _local_midnight(not_before))
        task_rows = session.execute(
            select(WorkItem.case_id, WorkItem.due_at, WorkItem.follow_up_at)
            .where(WorkItem.case_id.in_(chunk), WorkItem.status == WorkItemStatus.OPEN,
                   WorkItem.kind == WorkItemKind.TASK)
        )
        for case_id, due_at, follow_up_at in task_rows:
            note(case_id, follow_up_at or due_at)
    return moments


def stalled_since(last_activity_at: datetime, stall_after_days: int, scheduled: datetime | None,
                  grace: timedelta = SCHEDULE_GRACE) -> datetime:
    """The moment a case with this activity and schedule counts as stalled."""
    quiet = last_activity_at + timedelta(days=stall_after_days)
    return max(quiet, scheduled + grace) if scheduled is not None else quiet


def escalate_stalled_cases(
    session: Session, now: datetime, *, limit: int = 500, grace: timedelta = SCHEDULE_GRACE
) -> int:
    """Create one escalation item per stalled case (not yet escalated for this stall). Returns how many."""
    organisation_id = coordinator_organisation(session)
    if organisation_id is None:
        return 0  # Nobody to escalate to; the dashboard still shows stalled cases.
    shortest = session.scalar(select(func.min(ProcessVersion.stall_after_days))) or 0
    # Columns only: the saved workflow state is never read to decide this. Cases waiting on a
    # schedule stay candidates for months, so there is no LIMIT here (it could starve the rest).
    candidates = session.execute(
        select(Case.id, Case.last_activity_at, ProcessVersion.stall_after_days).join(ProcessVersion)
        .where(Case.status == CaseStatus.ACTIVE, Case.last_activity_at <= now - timedelta(days=shortest))
        # Escalation happens 30+ days after the last activity, so equal instants mean activity since.
        .where(or_(Case.stall_escalated_at.is_(None), Case.stall_escalated_at <= Case.last_activity_at))
        .order_by(Case.last_activity_at)
    ).all()
    quiet = [row for row in candidates if row.last_activity_at + timedelta(days=row.stall_after_days) <= now]
    scheduled = next_scheduled(session, [row.id for row in quiet], now=now)
    escalated = 0
    for row in quiet:
        if escalated >= limit:
            break
        moment = scheduled.get(row.id)
        if stalled_since(row.last_activity_at, row.stall_after_days, moment, grace) > now:
            continue  # waiting legitimately: its next step is scheduled and not (long) overdue
        case = execution.lock_case(session, row.id)
        _escalate_stall(session, case, organisation_id, moment, grace, now)
        escalated += 1
    return escalated


def _escalate_stall(session: Session, case: Case, organisation_id: int, moment: datetime | None,
                    grace: timedelta, now: datetime) -> None:
    days = case.process_version.stall_after_days
    if moment is not None and moment + grace > case.last_activity_at + timedelta(days=days):
        when = moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y")
        title = f"Casus {case.reference}: geplande stap van {when} is verstreken zonder voortgang"
        summary = f"Geen voortgang na de geplande stap van {when}: geëscaleerd naar de coördinator."
    else:
        title = f"Casus {case.reference} staat al {days} dagen stil"
        summary = f"Geen activiteit sinds {days} dagen: geëscaleerd naar de coördinator."
    _escalate(
        session, case, organisation_id, element_id=STALLED_ELEMENT, task_id=f"escalation:{uuid.uuid4().hex[:25]}",
        title=title, history_kind="case_stalled", summary=summary, mail_kind="stalled",
        mail_subject=f"[Ketenregie] Casus {case.reference} staat stil",
        mail_body=f"{title} ({case.title}).\nEr staat een escalatietaak in de werkvoorraad van de coördinator.",
        now=now,
    )
    # The escalation itself is not activity: last_activity_at stays, so the stall stays visible.
    case.stall_escalated_at = now


# ---------------------------------------------------------------------------------------------
# Evaluations: the same 4-week rule as referrals
# ---------------------------------------------------------------------------------------------

def evaluation_due(added_at: datetime, evaluation_date: object | None) -> datetime:
    """When an evaluation must have been held: 4 weeks after the later of its date and its placing."""
    start = max(added_at, _local_midnight(evaluation_date)) if evaluation_date is not None else added_at
    return start + EVALUATION_DEADLINE


def escalate_overdue_evaluations(session: Session, now: datetime) -> int:
    """Escalate each evaluation not held within 4 weeks of its date; again 4 weeks after each handling,
    as the referral's timer does. Returns how many escalations were created."""
    organisation_id = coordinator_organisation(session)
    if organisation_id is None:
        return 0
    # Evaluations dated up to 4 weeks ahead are not due yet; the Python check below is exact.
    waiting = session.execute(
        select(AgendaItem.id, AgendaItem.case_id, AgendaItem.added_at, AgendaItem.not_before).join(Case)
        .where(AgendaItem.kind == AgendaItemKind.EVALUATION, AgendaItem.discussed_at.is_(None),
               Case.status == CaseStatus.ACTIVE, AgendaItem.added_at <= now - EVALUATION_DEADLINE)
    ).all()
    escalated = 0
    for agenda_id, case_id, added_at, evaluation_date in waiting:
        prefix = f"evaluatie:{agenda_id}:"
        earlier = session.execute(
            select(WorkItem.status, WorkItem.completed_at).where(
                WorkItem.case_id == case_id, WorkItem.task_id.like(prefix + "%"))
        ).all()
        if any(status is WorkItemStatus.OPEN for status, _ in earlier):
            continue
        handled = [at for _, at in earlier if at is not None]
        due = max(handled) + EVALUATION_DEADLINE if handled else evaluation_due(added_at, evaluation_date)
        if due > now:
            continue
        case = execution.lock_case(session, case_id)
        when = f" van {evaluation_date:%d-%m-%Y}" if evaluation_date is not None else ""
        _escalate(
            session, case, organisation_id, element_id=EVALUATION_ELEMENT, task_id=f"{prefix}{len(earlier) + 1}",
            title=f"Evaluatie{when} van casus {case.reference} niet binnen 4 weken gehouden",
            history_kind="evaluation_overdue",
            summary=f"Evaluatie{when} niet binnen 4 weken besproken: geëscaleerd naar de coördinator.",
            mail_kind="evaluation_overdue", mail_subject=f"[Ketenregie] Evaluatie casus {case.reference} te laat",
            mail_body=f"De evaluatie{when} van casus {case.reference} is niet binnen 4 weken in het casusoverleg "
                      "besproken.\nEr staat een escalatietaak in de werkvoorraad van de coördinator.",
            now=now,
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
