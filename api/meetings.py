"""The casusoverleg: meetings and their agendas, recording outcomes, and changing a casusregisseur."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api.auth import current_actor
from api.cases import case_detail_payload, log_reads
from api.extensions import db
from api.guards import require_role
from api.presenters import organisation_ref
from api.problems import problem_response
from api.schemas import CaseDetailSchema, OrganisationRefSchema, PageArgsSchema
from engine import meetings
from engine.accounts import Actor
from engine.clock import utcnow
from engine.errors import NotFoundError
from engine.models import AgendaItem, Meeting, MeetingStatus, Organisation, Role

log = logging.getLogger(__name__)

# One blueprint for /meetings and /cases/{id}/casusregisseur: both are the meeting's business.
blp = Blueprint("meetings", __name__, url_prefix="", description="Case meetings (casusoverleg)")

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
DATES = ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 1, 1))


def schedule() -> meetings.MeetingSchedule:
    return meetings.MeetingSchedule.parse(current_app.config["MEETING_WEEKDAY"], current_app.config["MEETING_TIME"])


def plan_meetings(app: Flask) -> None:
    """For the sweeper tick: keep the next meetings planned and waiting agenda items placed."""
    with app.app_context(), Session(db.engine, expire_on_commit=False) as session:
        try:
            meetings.ensure_schedule(session, schedule(), now=utcnow())
            session.commit()
        except Exception:
            # A tick must not stop the sweeper: timers and mail go on, and the next tick tries again.
            session.rollback()
            log.exception("planning the case meetings failed")


class MeetingArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in MeetingStatus]))


class MeetingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    scheduled_at = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True)
    regular = ma.fields.Boolean(required=True, metadata={"description": "Part of the biweekly schedule"})
    held_at = ma.fields.AwareDateTime(allow_none=True)
    agenda_size = ma.fields.Integer(required=True)


class NewMeetingSchema(ma.Schema):
    scheduled_at = ma.fields.AwareDateTime(required=True, metadata={"description": "An extra meeting, in the future"})


class ActionSchema(ma.Schema):
    organisation_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    organisation = ma.fields.String(dump_only=True)
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    due_date = ma.fields.Date(required=True, validate=DATES)


class OutcomeSchema(ma.Schema):
    decision = ma.fields.String(load_default=meetings.REGIE, validate=ma.validate.OneOf(meetings.DECISIONS))
    casusregisseur_organisation_id = ma.fields.Integer(
        allow_none=True, load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Required when the case has no casusregisseur yet and the decision is regie"})
    actions = ma.fields.List(ma.fields.Nested(ActionSchema), load_default=list,
                             validate=ma.validate.Length(max=meetings.MAX_ACTIONS))
    next_evaluation = ma.fields.Date(allow_none=True, load_default=None, validate=DATES)
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))


class RecordedOutcomeSchema(ma.Schema):
    decision = ma.fields.String(required=True)
    casusregisseur = ma.fields.Nested(OrganisationRefSchema, allow_none=True)
    actions = ma.fields.List(ma.fields.Nested(ActionSchema), required=True)
    next_evaluation = ma.fields.Date(allow_none=True)
    notes = ma.fields.String(allow_none=True)


class AgendaItemSchema(ma.Schema):
    """Only what the meeting needs to prepare: no names, addresses or case data."""

    case_id = ma.fields.Integer(required=True)
    case_reference = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "referral or evaluation"})
    neighbourhood = ma.fields.String(allow_none=True)
    question = ma.fields.String(required=True)
    referring_organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
    added_at = ma.fields.AwareDateTime(required=True)
    discussed_at = ma.fields.AwareDateTime(allow_none=True)
    outcome = ma.fields.Nested(RecordedOutcomeSchema, allow_none=True,
                               metadata={"description": "Shown to the coordinator only"})


class AgendaSchema(MeetingSchema):
    items = ma.fields.List(ma.fields.Nested(AgendaItemSchema), required=True)


class CasusregisseurSchema(ma.Schema):
    organisation_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))


def _meeting(meeting: Meeting, agenda_size: int) -> dict[str, Any]:
    return {"id": meeting.id, "scheduled_at": meeting.scheduled_at, "status": meeting.status.value,
            "regular": meeting.regular, "held_at": meeting.held_at, "agenda_size": agenda_size}


def _outcome(item: AgendaItem) -> dict[str, Any] | None:
    if item.discussed_at is None or item.decision is None:
        return None
    regisseur = db.session.get(Organisation, item.casusregisseur_organisation_id) \
        if item.casusregisseur_organisation_id else None
    return {
        "decision": item.decision,
        "casusregisseur": organisation_ref(regisseur) if regisseur else None,
        "actions": [{"organisation_id": a["organisatie_id"], "organisation": a["organisatie"],
                     "description": a["omschrijving"], "due_date": date.fromisoformat(a["deadline"][:10])}
                    for a in item.actions or []],
        "next_evaluation": item.next_evaluation,
        "notes": item.notes,
    }


def _item(entry: meetings.AgendaEntry, *, with_outcome: bool) -> dict[str, Any]:
    item = entry.item
    return {
        "case_id": item.case_id, "case_reference": entry.case_reference, "kind": item.kind.value,
        "neighbourhood": item.neighbourhood, "question": item.question,
        "referring_organisation": organisation_ref(entry.referring_organisation), "added_at": item.added_at,
        "discussed_at": item.discussed_at, "outcome": _outcome(item) if with_outcome else None,
    }


def _agenda(meeting_id: int, actor: Actor) -> dict[str, Any]:
    meeting, entries = meetings.read_agenda(db.session, actor, _id(meeting_id, "meeting"))
    coordinator = Role.COORDINATOR in actor.roles
    payload = {**_meeting(meeting, len(entries)), "items": [_item(e, with_outcome=coordinator) for e in entries]}
    log_reads(meetings.agenda_reads(meeting, entries, with_outcome=coordinator))
    return payload


def _id(value: int, what: str) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFoundError(f"There is no such {what}.")
    return value


@blp.route("/meetings", methods=["GET"])
@blp.arguments(MeetingArgsSchema, location="query")
@blp.response(200, MeetingSchema(many=True))
def list_meetings(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Case meetings in time order, with the number of cases on each agenda (`?status=planned`: the coming ones)."""
    return [_meeting(m, n) for m, n in meetings.list_meetings(db.session, **args)]


@blp.route("/meetings", methods=["POST"])
@blp.arguments(NewMeetingSchema)
@blp.response(201, MeetingSchema)
@blp.alt_response(403, description="Only the coordinator plans meetings")
@blp.alt_response(409, description="There is already a meeting at that moment")
@blp.alt_response(422, description="Not in the future, or too far ahead")
def create_meeting(body: dict[str, Any]) -> dict[str, Any]:
    """Plan an extra meeting beside the biweekly schedule."""
    require_role(current_actor(), Role.COORDINATOR)
    meeting = meetings.create_meeting(db.session, scheduled_at=body["scheduled_at"])
    db.session.commit()
    return _meeting(meeting, 0)


@blp.route("/meetings/<int:meeting_id>", methods=["GET"])
@blp.response(200, AgendaSchema)
@blp.alt_response(404, description="No such meeting, or you do not sit in the casusoverleg")
def read_meeting(meeting_id: int) -> dict[str, Any]:
    """A meeting with its agenda: per case only the reference, neighbourhood, question and who referred it.

    Only caseworkers and coordinators of the organisation kinds the covenant names as members of the
    casusoverleg see it; every read is in the access log."""
    return _agenda(meeting_id, current_actor())


@blp.route("/meetings/<int:meeting_id>/items/<int:case_id>/outcome", methods=["POST"])
@blp.arguments(OutcomeSchema)
@blp.response(200, AgendaItemSchema)
@blp.alt_response(403, description="Only the coordinator records outcomes")
@blp.alt_response(404, description="No such meeting or case")
@blp.alt_response(409, description="The case is not on this agenda, already discussed, or not waiting for the meeting")
@blp.alt_response(422, description="The outcome is invalid (errors per field), or the diagram failed")
def record_outcome(body: dict[str, Any], meeting_id: int, case_id: int) -> Any:
    """Record the meeting's decision: casusregisseur, actions per organisation, next evaluation. The case resumes."""
    actor = current_actor()
    require_role(actor, Role.COORDINATOR)
    outcome = meetings.OutcomeInput(
        decision=body["decision"], casusregisseur_organisation_id=body["casusregisseur_organisation_id"],
        actions=[meetings.ActionInput(a["organisation_id"], a["description"], a["due_date"]) for a in body["actions"]],
        next_evaluation=body["next_evaluation"], notes=body["notes"],
    )
    item, result = meetings.record_outcome(db.session, meeting_id=_id(meeting_id, "meeting"),
                                           case_id=_id(case_id, "case"), actor=actor, outcome=outcome)
    db.session.commit()
    if result.error is not None:
        return problem_response(422, "script-error", f"The case stopped at {result.error_element or 'an element'}: "
                                f"{result.error}. The outcome was kept in the history; the coordinator has been told.")
    _, entries = meetings.get_agenda(db.session, meeting_id)
    return _item(next(e for e in entries if e.item.id == item.id), with_outcome=True)


@blp.route("/cases/<int:case_id>/casusregisseur", methods=["PUT"])
@blp.arguments(CasusregisseurSchema)
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="Only the coordinator changes the casusregisseur")
@blp.alt_response(404, description="No such case")
@blp.alt_response(409, description="The case is closed")
@blp.alt_response(422, description="No such organisation")
def change_casusregisseur(body: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Hand a case to another casusregisseur; its open tasks move along and the history records why."""
    actor = current_actor()
    require_role(actor, Role.COORDINATOR)
    meetings.change_casusregisseur(db.session, case_id=_id(case_id, "case"), organisation_id=body["organisation_id"],
                                   actor=actor, reason=body["reason"])
    db.session.commit()
    return case_detail_payload(case_id)
