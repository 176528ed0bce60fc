"""The casusoverleg: the biweekly schedule, agendas, and recording what the meeting decided.

Recording an outcome is one transaction: the casusregisseur role, the action organisations as
participants, the agenda item, and the case resumed by the meeting message (see engine.agenda).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import agenda, audit, cases, coherence, execution, history
from engine.accounts import Actor
from engine.bpmn import runtime
from engine.calendar import AMSTERDAM, END_OF_WORKING_DAY
from engine.clock import utcnow
from engine.covenant import current_covenant
from engine.errors import ConflictError, InvalidInputError, NotFoundError, Problem
from engine.models import AgendaItem, Case, CaseRoleAssignment, CaseStatus, Meeting, MeetingStatus, Organisation, Role
from engine.roles import CASUSREGISSEUR, role_targets

REGIE = "regie"
DECISIONS = (REGIE, "laatstekanscontract", "rechter", "afsluiten")
INTERVAL = timedelta(days=14)
MEETINGS_AHEAD = 3
# Outcomes may still be recorded this long after a meeting; then what it did not discuss moves on.
MINUTES_GRACE = timedelta(days=2)
HORIZON = timedelta(days=366)
MAX_ACTIONS = 20


@dataclass(frozen=True)
class MeetingSchedule:
    """When regular meetings are: every other `weekday` (ISO, 1 = Monday) at `at`, Amsterdam time."""

    weekday: int
    at: time

    @classmethod
    def parse(cls, weekday: int | str, at: str) -> MeetingSchedule:
        """From configuration text such as (2, "14:00"); raises ValueError when it makes no sense."""
        day = int(weekday)
        if not 1 <= day <= 7:
            raise ValueError(f"A meeting weekday is 1 (Monday) to 7 (Sunday), not {weekday!r}.")
        return cls(day, time.fromisoformat(str(at).strip()).replace(second=0, microsecond=0, tzinfo=None))

    def slot_on(self, day: date) -> datetime:
        return datetime.combine(day, self.at, AMSTERDAM).astimezone(UTC)

    def first_slot_after(self, moment: datetime) -> datetime:
        day = moment.astimezone(AMSTERDAM).date()
        day += timedelta(days=(self.weekday - day.isoweekday()) % 7)
        slot = self.slot_on(day)
        return slot if slot > moment else self.slot_on(day + timedelta(days=7))

    def matches(self, moment: datetime) -> bool:
        local = moment.astimezone(AMSTERDAM)
        return local.isoweekday() == self.weekday and local.time() == self.at



@dataclass(frozen=True)
class ActionInput:
    organisation_id: int
    description: str
    due_date: date


@dataclass(frozen=True)
class OutcomeInput:
    decision: str = REGIE
    casusregisseur_organisation_id: int | None = None
    actions: Sequence[ActionInput] = ()
    next_evaluation: date | None = None
    notes: str = ""


@dataclass(frozen=True)
class AgendaEntry:
    item: AgendaItem
    case_reference: str
    referring_organisation: Organisation


# ---------------------------------------------------------------------------------------------
# The schedule
# ---------------------------------------------------------------------------------------------

def ensure_schedule(
    session: Session, schedule: MeetingSchedule, *, now: datetime, ahead: int = MEETINGS_AHEAD
) -> list[Meeting]:
    """Keep `ahead` regular meetings planned, mark past ones held and move waiting agenda items on.

    Idempotent and safe in several sweepers at once; returns the meetings it created.
    """
    created = _plan_regular_meetings(session, schedule, now=now, ahead=ahead)
    session.execute(
        update(Meeting).where(Meeting.status == MeetingStatus.PLANNED, Meeting.scheduled_at < now - MINUTES_GRACE)
        .values(status=MeetingStatus.HELD, held_at=Meeting.scheduled_at)
    )
    move_waiting_items(session, now=now)
    return created


def _plan_regular_meetings(session: Session, schedule: MeetingSchedule, *, now: datetime, ahead: int) -> list[Meeting]:
    regular = select(Meeting).where(Meeting.regular.is_(True))
    upcoming = session.scalar(
        select(func.count()).select_from(regular.where(Meeting.scheduled_at > now).subquery())
    ) or 0
    if upcoming >= ahead:
        return []
    last = session.scalar(regular.with_only_columns(Meeting.scheduled_at).order_by(Meeting.scheduled_at.desc()))
    # Continue the fortnightly rhythm of the last regular meeting; start afresh when there is none
    # or when the configured weekday or time changed since.
    if last is not None and schedule.matches(last):
        day = last.astimezone(AMSTERDAM).date() + INTERVAL
    else:
        day = schedule.first_slot_after(max(now, last or now)).astimezone(AMSTERDAM).date()
    while schedule.slot_on(day) <= now:
        day += INTERVAL
    created = []
    for _ in range(ahead - upcoming):
        meeting, new = _regular_meeting_at(session, schedule.slot_on(day), now=now)
        if new:
            created.append(meeting)
        day += INTERVAL
    return created


def _regular_meeting_at(session: Session, slot: datetime, *, now: datetime) -> tuple[Meeting, bool]:
    existing = session.scalar(select(Meeting).where(Meeting.scheduled_at == slot))
    if existing is not None:
        existing.regular = True  # an extra meeting that fell on the schedule joins it
        return existing, False
    try:
        with session.begin_nested():
            meeting = Meeting(scheduled_at=slot, status=MeetingStatus.PLANNED, regular=True, created_at=now)
            session.add(meeting)
        return meeting, True
    except IntegrityError:
        # Another sweeper planned it at the same moment.
        return session.scalars(select(Meeting).where(Meeting.scheduled_at == slot)).one(), False


def move_waiting_items(session: Session, *, now: datetime) -> int:
    """Put agenda items without a meeting, or left undiscussed by a past one, on the next meeting."""
    stale = session.scalars(
        select(AgendaItem.id).outerjoin(Meeting, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.discussed_at.is_(None),
               or_(AgendaItem.meeting_id.is_(None), Meeting.scheduled_at < now - MINUTES_GRACE))
        .order_by(AgendaItem.id)
    ).all()
    moved = 0
    for item_id in stale:
        # Lock the case like any unit of work, so an outcome being recorded right now wins.
        item = session.get(AgendaItem, item_id)
        if item is None:
            continue
        case = execution.lock_case(session, item.case_id)
        session.refresh(item)
        if item.discussed_at is not None:
            continue
        target = agenda.next_meeting(session, earliest=agenda.earliest_meeting_time(now, item.not_before))
        if target is None or target.id == item.meeting_id:
            continue
        previous = session.get(Meeting, item.meeting_id) if item.meeting_id else None
        item.meeting_id = target.id
        where = f"Niet besproken in het casusoverleg van {agenda.local_time(previous.scheduled_at)}; " \
            if previous else ""
        history.record(session, case, "agenda_item_moved", where + agenda.placed_summary(target), at=now,
                       data={"from_meeting_id": previous.id if previous else None, "meeting_id": target.id})
        moved += 1
    return moved


def create_meeting(session: Session, *, scheduled_at: datetime, now: datetime | None = None) -> Meeting:
    """An extra meeting beside the regular schedule (the coordinator's choice)."""
    now = now or utcnow()
    if not now < scheduled_at <= now + 2 * HORIZON:
        raise InvalidInputError("A meeting is planned in the future, at most two years ahead.",
                                problems=[Problem("Choose a moment in the next two years.", "scheduled_at")])
    if session.scalar(select(Meeting.id).where(Meeting.scheduled_at == scheduled_at)) is not None:
        raise ConflictError("There is already a meeting at that moment.")
    meeting = Meeting(scheduled_at=scheduled_at, status=MeetingStatus.PLANNED, regular=False, created_at=now)
    session.add(meeting)
    session.flush()
    return meeting


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def list_meetings(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[tuple[Meeting, int]]:
    """Meetings in time order, each with the number of cases on its agenda."""
    query = (
        select(Meeting, func.count(AgendaItem.id)).outerjoin(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .group_by(Meeting.id).order_by(Meeting.scheduled_at, Meeting.id)
    )
    if status:
        query = query.where(Meeting.status == MeetingStatus(status))
    return [(meeting, count) for meeting, count in session.execute(query.limit(limit).offset(offset))]


def read_agenda(session: Session, actor: Actor, meeting_id: int) -> tuple[Meeting, list[AgendaEntry]]:
    """A meeting's agenda for someone who sits in the casusoverleg: a caseworker or coordinator of
    an organisation kind the covenant names as member. Anyone else is told there is no such
    meeting. The caller logs `agenda_reads` before showing it."""
    kind_attends = current_covenant(session).attends_meeting(actor.organisation_kind)
    if not kind_attends or not actor.roles & {Role.CASEWORKER, Role.COORDINATOR}:
        raise NotFoundError("There is no such meeting.")
    return get_agenda(session, meeting_id)


def agenda_reads(meeting: Meeting, entries: Sequence[AgendaEntry], *, with_outcome: bool) -> list[audit.Access]:
    """The access-log entries for showing an agenda: one per case on it (or one for the empty agenda)."""
    purpose = f"casusoverleg {meeting.scheduled_at:%Y-%m-%d}: agenda"
    fields = ("kenmerk", "vraag", "wijk", "aanmelder") + (("uitkomst",) if with_outcome else ())
    return [audit.Access("read", purpose, e.item.case_id, e.case_reference, ("basisgegevens", "procesgegevens"),
                         fields) for e in entries] or [audit.Access("read", purpose)]


def get_agenda(session: Session, meeting_id: int) -> tuple[Meeting, list[AgendaEntry]]:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError("There is no such meeting.")
    rows = session.execute(
        select(AgendaItem, Case.reference, Organisation).join(Case, AgendaItem.case_id == Case.id)
        .join(Organisation, AgendaItem.referring_organisation_id == Organisation.id)
        .where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.added_at, AgendaItem.id)
    )
    return meeting, [AgendaEntry(item, reference, organisation) for item, reference, organisation in rows]


# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------

def record_outcome(
    session: Session, *, meeting_id: int, case_id: int, actor: Actor, outcome: OutcomeInput
) -> tuple[AgendaItem, execution.Outcome]:
    """Record what the meeting decided about a case on its agenda and resume the case with it."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError("There is no such meeting.")
    case = execution.lock_case(session, case_id)
    item = session.scalar(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id,
                                                   AgendaItem.case_id == case_id))
    if item is None:
        raise ConflictError("The case is not on the agenda of this meeting.")
    if item.discussed_at is not None:
        raise ConflictError("The outcome for this case is already recorded.")
    if agenda.meeting_wait(execution.load_workflow(case)) is None:
        raise ConflictError("The case is not waiting for the case meeting.")
    now = utcnow()
    names = _check_outcome(session, case, outcome, today=now.astimezone(AMSTERDAM).date())
    regisseur = _appoint_casusregisseur(session, case, outcome.casusregisseur_organisation_id, actor=actor,
                                        meeting=meeting)
    for action in outcome.actions:
        execution.add_participant(session, case.id, action.organisation_id, reason="actie casusoverleg", now=now)
    payload = _payload(outcome, names, regisseur)
    item.discussed_at, item.decision, item.notes = now, outcome.decision, outcome.notes or None
    item.casusregisseur_organisation_id = regisseur.id if regisseur else None
    item.actions, item.next_evaluation, item.recorded_by_id = payload["acties"], outcome.next_evaluation, actor.user_id
    if meeting.status is MeetingStatus.PLANNED:
        meeting.status, meeting.held_at = MeetingStatus.HELD, now
    history.record(session, case, "meeting_outcome", f"Besproken in het casusoverleg: besluit {outcome.decision}.",
                   at=now, actor=actor, data=payload)
    session.flush()
    result = execution.run_step(
        session, case, lambda wf: runtime.send_message(wf, agenda.MEETING_MESSAGE, payload), actor=actor, now=now
    )
    if result.error is not None and not result.applied:
        # The diagram failed before it moved on: the case still waits, so the item stays open for
        # a second try once the coordinator fixed the cause. The history keeps what was decided.
        item.discussed_at = item.decision = item.actions = item.next_evaluation = None
        item.casusregisseur_organisation_id = item.recorded_by_id = None
    return item, result


def _appoint_casusregisseur(
    session: Session, case: Case, organisation_id: int | None, *, actor: Actor, meeting: Meeting
) -> Organisation | None:
    """The case's casusregisseur after the meeting: the one it chose now, else the one it had."""
    current = session.get(CaseRoleAssignment, (case.id, CASUSREGISSEUR))
    if organisation_id is not None and (current is None or current.organisation_id != organisation_id):
        cases.assign_case_role(session, case_id=case.id, case_role=CASUSREGISSEUR, organisation_id=organisation_id,
                               actor=actor, reason=f"casusoverleg van {agenda.local_time(meeting.scheduled_at)}")
        return session.get(Organisation, organisation_id)
    return session.get(Organisation, current.organisation_id) if current else None


def _payload(outcome: OutcomeInput, names: dict[int, str], regisseur: Organisation | None) -> dict[str, Any]:
    # What the diagram receives with the message, in the Dutch terms of its forms and conditions.
    return {
        "besluit": outcome.decision,
        "casusregisseur": regisseur.name if regisseur else None,
        "casusregisseur_id": regisseur.id if regisseur else None,
        "acties": [
            {"organisatie_id": a.organisation_id, "organisatie": names[a.organisation_id],
             "omschrijving": a.description.strip(),
             "deadline": datetime.combine(a.due_date, END_OF_WORKING_DAY, AMSTERDAM).isoformat()}
            for a in outcome.actions
        ],
        "volgende_evaluatie": outcome.next_evaluation.isoformat() if outcome.next_evaluation else None,
        "afspraken": outcome.notes,
    }


def _check_outcome(session: Session, case: Case, outcome: OutcomeInput, *, today: date) -> dict[int, str]:
    """Organisation names by id for the outcome, or InvalidInputError with every problem found."""
    regisseur = outcome.casusregisseur_organisation_id
    wanted = {a.organisation_id for a in outcome.actions} | ({regisseur} if regisseur is not None else set())
    names: dict[int, str] = {}
    if wanted:
        query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
        names = {organisation_id: name for organisation_id, name in session.execute(query)}
    problems = []
    if outcome.decision not in DECISIONS:
        problems.append(Problem(f"Choose one of: {', '.join(DECISIONS)}.", "decision"))
    if regisseur is not None and regisseur not in names:
        problems.append(Problem("There is no such organisation.", "casusregisseur_organisation_id"))
    latest = today + HORIZON
    if outcome.decision == REGIE:
        if regisseur is None and session.get(CaseRoleAssignment, (case.id, CASUSREGISSEUR)) is None:
            problems.append(Problem("The case has no casusregisseur yet; choose one.",
                                    "casusregisseur_organisation_id"))
        if outcome.next_evaluation is None:
            problems.append(Problem("Give the date of the next evaluation.", "next_evaluation"))
        elif not today < outcome.next_evaluation <= latest:
            problems.append(Problem("The next evaluation falls after today and within a year.", "next_evaluation"))
    elif outcome.actions:
        problems.append(Problem(f"Actions are agreed only with the decision '{REGIE}'.", "actions"))
    if len(outcome.actions) > MAX_ACTIONS:
        problems.append(Problem(f"At most {MAX_ACTIONS} actions.", "actions"))
    for i, action in enumerate(outcome.actions):
        if action.organisation_id not in names:
            problems.append(Problem("There is no such organisation.", f"actions.{i}.organisation_id"))
        if not action.description.strip():
            problems.append(Problem("Describe the action.", f"actions.{i}.description"))
        if not today <= action.due_date <= latest:
            problems.append(Problem("The due date falls from today and within a year.", f"actions.{i}.due_date"))
    problems += _capability_problems(session, case, outcome, names)
    if problems:
        raise InvalidInputError("The outcome is not valid; nothing was recorded.", problems=problems)
    return names


def _capability_problems(session: Session, case: Case, outcome: OutcomeInput, names: dict[int, str]) -> list[Problem]:
    """An organisation the meeting names must be able to complete what it would receive (the covenant
    decides which categories its kind may write; the case's diagrams and forms what is required)."""
    covenant, targets = current_covenant(session), role_targets(session)
    problems = []
    regisseur = outcome.casusregisseur_organisation_id
    if regisseur in names:
        problems += coherence.check_case_role(session, covenant, case.process_version,
                                              _organisation(session, regisseur), CASUSREGISSEUR, targets,
                                              field="casusregisseur_organisation_id")
    for i, action in enumerate(outcome.actions):
        if action.organisation_id in names:
            partner = _organisation(session, action.organisation_id)
            problems += coherence.check_case_role(session, covenant, case.process_version, partner,
                                                  coherence.ACTION, targets, field=f"actions.{i}.organisation_id")
    return problems


def _organisation(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None  # checked by the caller
    return organisation


def change_casusregisseur(
    session: Session, *, case_id: int, organisation_id: int, actor: Actor, reason: str
) -> execution.Outcome:
    """The coordinator hands a case to another casusregisseur; its open items move along."""
    case = execution.lock_case(session, case_id)
    if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED):
        raise ConflictError("The case is closed.")
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise InvalidInputError("There is no such organisation.",
                                problems=[Problem("There is no such organisation.", "organisation_id")])
    coherence.refuse(coherence.check_case_role(session, current_covenant(session), case.process_version, organisation,
                                               CASUSREGISSEUR, role_targets(session), field="organisation_id"),
                     f"{organisation.name} cannot be casusregisseur")
    current = session.get(CaseRoleAssignment, (case_id, CASUSREGISSEUR))
    if current is not None and current.organisation_id == organisation_id:
        return execution.Outcome(case)
    return cases.assign_case_role(session, case_id=case_id, case_role=CASUSREGISSEUR,
                                  organisation_id=organisation_id, actor=actor,
                                  reason=reason.strip() or "gewijzigd door de coördinator")
