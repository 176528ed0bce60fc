"""The casusoverleg agenda: a case that waits for the meeting is put on the agenda of the next one.

The contract with the diagrams is one BPMN message, `casusoverleg_besproken`. A case whose workflow
waits for it (an intermediate catch event, a boundary event or an event-based gateway) belongs on
an agenda; recording the meeting's outcome sends it (engine.meetings). execution.sync calls
sync_agenda after every unit of work, so diagrams need no script or service task for agendas and
a process owner can add a meeting step anywhere just by waiting for that message. A waiting case
has no open task to take a stage from, so placing it also sets its stage (casusoverleg/evaluatie).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import history, stages
from engine.calendar import AMSTERDAM
from engine.models import AgendaItem, AgendaItemKind, Case, CaseRoleAssignment, Meeting, MeetingStatus
from engine.roles import MELDER

MEETING_MESSAGE = "casusoverleg_besproken"
STAGES = {AgendaItemKind.REFERRAL: "casusoverleg", AgendaItemKind.EVALUATION: "evaluatie"}
# The agenda of a meeting closes two days before it, so partners can prepare the cases.
AGENDA_CLOSES_BEFORE = timedelta(days=2)

# Case data the agenda reads: the question for the meeting, the neighbourhood, and (once the
# meeting has decided something) the date of the next evaluation.
QUESTION_KEY = "vraag"
NEIGHBOURHOOD_KEY = "wijk"
DECISION_KEY = "besluit"
EVALUATION_KEY = "volgende_evaluatie"


def meeting_wait(workflow: Any) -> Any | None:
    """The waiting task that catches the meeting message, or None when the case is not waiting for it."""
    for task in workflow.event_manager.tasks.values():
        if task.state != TaskState.WAITING:
            continue
        definition = task.task_spec.event_definition
        definitions = getattr(definition, "event_definitions", None) or [definition]
        if any(isinstance(d, MessageEventDefinition) and d.name == MEETING_MESSAGE for d in definitions):
            return task
    return None


def open_item(session: Session, case_id: int) -> AgendaItem | None:
    """The case's agenda item that the meeting has not discussed yet (there is at most one)."""
    return session.scalar(
        select(AgendaItem).where(AgendaItem.case_id == case_id, AgendaItem.discussed_at.is_(None)).limit(1)
    )


def earliest_meeting_time(now: datetime, not_before: date | None) -> datetime:
    earliest = now + AGENDA_CLOSES_BEFORE
    if not_before is not None:
        earliest = max(earliest, datetime.combine(not_before, time(), AMSTERDAM).astimezone(UTC))
    return earliest


def next_meeting(session: Session, *, earliest: datetime) -> Meeting | None:
    return session.scalar(
        select(Meeting).where(Meeting.status == MeetingStatus.PLANNED, Meeting.scheduled_at >= earliest)
        .order_by(Meeting.scheduled_at).limit(1)
    )


def sync_agenda(session: Session, case: Case, workflow: Any, *, now: datetime) -> AgendaItem | None:
    """Put the case on the next meeting's agenda if it waits for the meeting and is not on one yet."""
    waiting = meeting_wait(workflow)
    if waiting is None or open_item(session, case.id) is not None:
        return None
    data = waiting.data
    # A case the meeting has decided on before comes back for evaluation, not later than planned.
    kind = AgendaItemKind.EVALUATION if DECISION_KEY in data else AgendaItemKind.REFERRAL
    not_before = as_date(data.get(EVALUATION_KEY)) if kind is AgendaItemKind.EVALUATION else None
    meeting = next_meeting(session, earliest=earliest_meeting_time(now, not_before))
    default_question = "Evaluatie van het plan van aanpak" if kind is AgendaItemKind.EVALUATION else "Bespreking"
    item = AgendaItem(
        meeting_id=meeting.id if meeting else None, case_id=case.id, kind=kind,
        referring_organisation_id=referring_organisation(session, case),
        question=_text(data.get(QUESTION_KEY), 4000) or default_question,
        neighbourhood=_text(data.get(NEIGHBOURHOOD_KEY), 100), not_before=not_before, added_at=now,
    )
    session.add(item)
    history.record(session, case, "agenda_item_added", placed_summary(meeting), at=now,
                   data={"meeting_id": meeting.id if meeting else None, "kind": kind.value})
    stages.change_stage(session, case, STAGES[kind], now=now)
    return item


def placed_summary(meeting: Meeting | None) -> str:
    if meeting is None:
        return "Geagendeerd; het eerstvolgende casusoverleg wordt nog gepland."
    return f"Geagendeerd voor het casusoverleg van {local_time(meeting.scheduled_at)}."


def local_time(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")


def referring_organisation(session: Session, case: Case) -> int:
    melder = session.get(CaseRoleAssignment, (case.id, MELDER))
    return melder.organisation_id if melder is not None else case.opened_by_organisation_id


def as_date(value: Any) -> date | None:
    """A date from case data (ISO text as forms and the meeting outcome store it), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:limit] or None
