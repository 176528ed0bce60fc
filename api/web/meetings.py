"""Casusoverleg: the coming and recent meetings, one meeting's agenda, and recording an outcome.

The agenda shows only what the meeting needs to prepare (reference, neighbourhood, question,
referring organisation), like the API. Recording goes through the API's own OutcomeSchema and then
engine.meetings.record_outcome, so the page and the API accept and refuse exactly the same input;
problems are shown in Dutch at the form of the case they belong to.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from api.extensions import db
from api.meetings import OutcomeSchema
from api.web.disclosure import note_read
from api.web.errors import page_blueprint
from api.web.guards import ROW_ID, page_actor, requires
from api.web.messages import dutch, for_error
from engine import meetings
from engine.calendar import AMSTERDAM
from engine.clock import utcnow
from engine.errors import ConflictError, InvalidInputError, NotFoundError
from engine.models import AgendaItem, Meeting, MeetingStatus, Organisation, Role

bp = page_blueprint("web_meetings", "/casusoverleg")

ACTION_ROWS = 3
RECENT = 10
DECISION_LABELS = {
    "regie": "Regie en interventie",
    "laatstekanscontract": "Laatstekanscontract",
    "rechter": "Naar de rechter",
    "afsluiten": "Afsluiten",
}
# Dutch for the engine's outcome problems (engine.meetings._check_outcome); others via messages.dutch.
_OUTCOME_MESSAGES = {
    "The case has no casusregisseur yet; choose one.": "De casus heeft nog geen casusregisseur; kies er een.",
    "Give the date of the next evaluation.": "Geef de datum van de volgende evaluatie.",
    "The next evaluation falls after today and within a year.":
        "De volgende evaluatie valt na vandaag en binnen een jaar.",
    "There is no such organisation.": "Deze organisatie bestaat niet.",
    "Describe the action.": "Omschrijf de actie.",
    "The due date falls from today and within a year.": "De deadline valt vanaf vandaag en binnen een jaar.",
    f"Actions are agreed only with the decision '{meetings.REGIE}'.":
        "Acties worden alleen afgesproken bij het besluit regie en interventie.",
    f"At most {meetings.MAX_ACTIONS} actions.": f"Hoogstens {meetings.MAX_ACTIONS} acties.",
    "The outcome for this case is already recorded.": "De uitkomst voor deze casus is al vastgelegd.",
    "The case is not waiting for the case meeting.": "De casus wacht niet (meer) op het casusoverleg.",
    "The case is not on the agenda of this meeting.": "De casus staat niet op de agenda van dit overleg.",
}


def _dutch(message: str) -> str:
    return _OUTCOME_MESSAGES.get(message) or dutch(message)


@bp.get("")
@requires(Role.COORDINATOR)
def meeting_list() -> Any:
    now = utcnow()
    upcoming = meetings.list_meetings(db.session, status=MeetingStatus.PLANNED.value)
    return render_template("web/meetings.html", upcoming=upcoming, recent=_recent_meetings(), now=now)


@bp.get(f"/<{ROW_ID}:meeting_id>")
@requires(Role.COORDINATOR)
def meeting_page(meeting_id: int) -> Any:
    return _agenda_page(meeting_id)


@bp.post(f"/<{ROW_ID}:meeting_id>/casussen/<{ROW_ID}:case_id>/uitkomst")
@requires(Role.COORDINATOR)
def record_outcome(meeting_id: int, case_id: int) -> Any:
    _, entries = meetings.read_agenda(db.session, page_actor(), meeting_id)  # NotFoundError -> 404 page
    entry = next((e for e in entries if e.item.case_id == case_id), None)
    if entry is None:
        raise NotFoundError("There is no such case, or you may not see it.")
    values = request.form.to_dict()
    raw, rows = _outcome_body(values)
    try:
        body = OutcomeSchema().load(raw)
    except ma.ValidationError as invalid:
        return _agenda_page(meeting_id, failed=case_id, values=values,
                            errors=_form_rows(_flatten(invalid.messages), rows), status=422)
    outcome = meetings.OutcomeInput(
        decision=body["decision"], casusregisseur_organisation_id=body["casusregisseur_organisation_id"],
        actions=[meetings.ActionInput(a["organisation_id"], a["description"], a["due_date"]) for a in body["actions"]],
        next_evaluation=body["next_evaluation"], notes=body["notes"],
    )
    try:
        _, result = meetings.record_outcome(db.session, meeting_id=meeting_id, case_id=case_id, actor=page_actor(),
                                            outcome=outcome)
    except InvalidInputError as invalid:
        db.session.rollback()
        errors: dict[str, list[str]] = {}
        for problem in invalid.problems:
            errors.setdefault(problem.element or "", []).append(_dutch(problem.message))
        return _agenda_page(meeting_id, failed=case_id, values=values, errors=_form_rows(errors, rows),
                            status=422)
    except ConflictError as conflict:
        db.session.rollback()
        return _agenda_page(meeting_id, failed=case_id, values=values,
                            errors={"": [_OUTCOME_MESSAGES.get(conflict.message) or for_error(conflict)]}, status=409)
    db.session.commit()
    if result.error is not None:
        flash(f"Het besluit over {entry.case_reference} staat in de geschiedenis, maar de casus liep vast in het "
              "proces. Los de fout op bij de casus en leg de uitkomst daarna opnieuw vast.", "error")
    else:
        flash(f"De uitkomst voor {entry.case_reference} is vastgelegd.", "info")
    return redirect(url_for("web_meetings.meeting_page", meeting_id=meeting_id) + f"#casus-{case_id}")


def _agenda_page(meeting_id: int, *, failed: int | None = None, values: dict[str, str] | None = None,
                 errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    meeting, entries = meetings.read_agenda(db.session, page_actor(), meeting_id)  # NotFoundError -> 404 page
    for access in meetings.agenda_reads(meeting, entries, with_outcome=True):
        note_read(access)  # logged before the page is sent
    organisations = list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
    names = {o.id: o.name for o in organisations}
    return render_template(
        "web/meeting.html", meeting=meeting, entries=entries, organisations=organisations, names=names,
        decisions=DECISION_LABELS, action_rows=ACTION_ROWS, failed=failed, values=values or {},
        errors=errors or {}, today=utcnow().astimezone(AMSTERDAM).date(),
    ), status


def _recent_meetings() -> list[tuple[Meeting, int]]:
    query = (
        select(Meeting, func.count(AgendaItem.id)).outerjoin(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(Meeting.status != MeetingStatus.PLANNED).group_by(Meeting.id)
        .order_by(Meeting.scheduled_at.desc(), Meeting.id.desc()).limit(RECENT)
    )
    return [(meeting, count) for meeting, count in db.session.execute(query)]


def _outcome_body(values: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The form as the API's JSON body (empty fields left out, empty action rows ignored), and the
    form row of each action in it."""
    body: dict[str, Any] = {"decision": values.get("decision") or meetings.REGIE,
                            "casusregisseur_organisation_id": values.get("casusregisseur_organisation_id") or None,
                            "next_evaluation": values.get("next_evaluation") or None,
                            "notes": values.get("notes", "").strip(), "actions": []}
    rows: list[tuple[int, dict[str, str]]] = []
    for i in range(ACTION_ROWS):
        row = {key: values.get(f"actions-{i}-{key}", "").strip() for key in ("description", "organisation_id",
                                                                            "due_date")}
        if any(row.values()):
            rows.append((i, {key: value for key, value in row.items() if value}))
    body["actions"] = [row for _, row in rows]
    return body, [i for i, _ in rows]


def _form_rows(errors: dict[str, list[str]], rows: list[int]) -> dict[str, list[str]]:
    """Errors about the n-th action moved to the form row it came from (`actions.2.due_date`)."""
    moved: dict[str, list[str]] = {}
    for key, texts in errors.items():
        parts = key.split(".")
        if len(parts) > 2 and parts[0] == "actions" and parts[1].isdigit() and int(parts[1]) < len(rows):
            key = ".".join(["actions", str(rows[int(parts[1])]), *parts[2:]])
        moved.setdefault(key, []).extend(texts)
    return moved


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {"actions.0.description": [Dutch text]}."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    texts = messages if isinstance(messages, list) else [messages]
    return {prefix: [_dutch(str(text)) for text in texts]}
