"""Cases: start one, list the visible ones, read one with its work, timers and history."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api import presenters
from api.auth import current_actor
from api.extensions import db
from api.limits import CaseData
from api.schemas import NEXT_CURSOR_HEADERS, CaseDetailSchema, CaseSummarySchema, CursorPageArgsSchema, EventSchema
from engine import audit, cases, catalog, disclosure, history
from engine.covenant import current_covenant, current_version
from engine.models import CaseStatus, Organisation, User

blp = Blueprint("cases", __name__, url_prefix="/cases", description="Cases (casussen)")


class StartCaseSchema(ma.Schema):
    process = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    data = CaseData(load_default=dict, description="Initial case data")


class CaseFilterSchema(CursorPageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf([s.value for s in CaseStatus]))
    process = ma.fields.String(validate=ma.validate.Length(max=200))
    stage = ma.fields.String(validate=ma.validate.Length(max=200))


def case_detail_payload(case_id: int, *, purpose: str = "casusbehandeling",
                        log_in: Session | None = None) -> dict[str, Any]:
    """The case as the caller may see it. The read is logged before anything is returned: in
    `log_in`'s transaction when given (the caller commits it with its write), else on its own."""
    actor = current_actor()
    detail = cases.case_detail(db.session, actor, case_id)
    seen = disclosure.disclose_case(db.session, actor, detail.case, detail.history, detail.variables)
    payload = presenters.case_detail(detail, seen, *_actors_of(detail.history),
                                     end_event_name=catalog.element_name(detail.case.process_version,
                                                                         detail.case.end_event))
    if log_in is not None:
        audit.append(log_in, actor, [seen.access(detail.case, purpose)],
                     covenant_version=current_version(db.session).version)
    else:
        log_reads([seen.access(detail.case, purpose)])
    return payload


def _actors_of(events: list[Any]) -> tuple[dict[int, User], dict[int, Organisation]]:
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    organisations = {o.id: o for o in db.session.scalars(db.select(Organisation))}
    return users, organisations


def log_reads(accesses: list[audit.Access]) -> None:
    """Write the access log on its own connection and commit, before the data leaves the server."""
    version = current_version(db.session).version
    audit.record_in_own_transaction(lambda: Session(db.engine), current_actor(), accesses, covenant_version=version)


@blp.route("", methods=["POST"])
@blp.arguments(StartCaseSchema)
@blp.response(201, CaseDetailSchema)
@blp.alt_response(403, description="Only caseworkers and coordinators start cases")
@blp.alt_response(404, description="No such process")
@blp.alt_response(422, description="Invalid data")
def start_case(body: dict[str, Any]) -> dict[str, Any]:
    """Start a case on the newest version of a process. The caller's organisation reports it (melder)."""
    outcome = cases.start_case(db.session, process_key=body["process"], data=body["data"], actor=current_actor())
    db.session.commit()
    return case_detail_payload(outcome.case.id)


@blp.route("", methods=["GET"])
@blp.arguments(CaseFilterSchema, location="query")
@blp.response(200, CaseSummarySchema(many=True), headers=NEXT_CURSOR_HEADERS)
def list_cases(args: dict[str, Any]) -> Any:
    """Cases the caller may see, newest first: all for the coordinator, otherwise those the organisation
    takes part in. Page with `after` (the X-Next-Cursor header of the previous page)."""
    actor = current_actor()
    rows = cases.list_cases(db.session, actor, **args)
    covenant = current_covenant(db.session)
    out = [presenters.case_summary(c, disclosure.title_of(covenant, actor, c)) for c in rows]
    log_reads([audit.Access("read", "casusoverzicht", c.id, c.reference,
                            (disclosure.TITLE_CATEGORY,), ("titel",)) for c in rows
               if covenant.may_read(actor.organisation_kind, disclosure.TITLE_CATEGORY)])
    return out, ({"X-Next-Cursor": cases.case_cursor(rows[-1])} if len(rows) == args["limit"] else {})


@blp.route("/<int:case_id>", methods=["GET"])
@blp.response(200, CaseDetailSchema)
@blp.alt_response(404, description="No such case, or not visible to you")
def read_case(case_id: int) -> dict[str, Any]:
    """Status, current activities, open work items, pending timers, participants and history."""
    return case_detail_payload(case_id)


class HistoryArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=history.PAGE_SIZE, validate=ma.validate.Range(min=1, max=200))
    after = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                             metadata={"description": "The X-Next-Cursor of the previous page"})


@blp.route("/<int:case_id>/history", methods=["GET"])
@blp.arguments(HistoryArgsSchema, location="query")
@blp.response(200, EventSchema(many=True), headers=NEXT_CURSOR_HEADERS)
@blp.alt_response(404, description="No such case, or not visible to you")
def read_history(args: dict[str, Any], case_id: int) -> Any:
    """The case's history, oldest first, a page at a time (the case itself carries the newest page)."""
    actor = current_actor()
    case = cases.get_case(db.session, actor, case_id)
    events = history.page(db.session, case.id, after=args.get("after"), limit=args["limit"])
    seen = disclosure.disclose_case(db.session, actor, case, events)
    users, organisations = _actors_of(events)
    out = [presenters.event(e.event, users, organisations, e.data, e.shielded) for e in seen.events]
    log_reads([seen.access(case, "casusbehandeling")])
    return out, ({"X-Next-Cursor": history.cursor(events[-1])} if len(events) == args["limit"] else {})


class AdmitSchema(ma.Schema):
    organisation_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=2**31 - 1))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=500),
                              metadata={"description": "Why this partner needs to know (recorded)"})


@blp.route("/<int:case_id>/participants", methods=["POST"])
@blp.arguments(AdmitSchema)
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="Only the coordinator admits partners")
@blp.alt_response(404, description="No such case or organisation")
def admit_participant(body: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Let another partner take part in the case (need-to-know); recorded with the reason."""
    cases.admit_participant(db.session, case_id=case_id, organisation_id=body["organisation_id"],
                            actor=current_actor(), reason=body["reason"])
    db.session.commit()
    return case_detail_payload(case_id)


@blp.route("/<int:case_id>/retry", methods=["POST"])
@blp.response(200, CaseDetailSchema)
@blp.alt_response(403, description="Only the coordinator retries cases")
@blp.alt_response(404, description="No such case")
def retry_case(case_id: int) -> dict[str, Any]:
    """Run a case in error again after its cause was fixed (e.g. a role mapped)."""
    cases.retry_case(db.session, case_id=case_id, actor=current_actor())
    db.session.commit()
    return case_detail_payload(case_id)
