"""Work items: the organisation's inbox, claim/unclaim, and completing a task with its form data."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from api import presenters
from api.auth import current_actor
from api.extensions import db
from api.limits import CaseData
from api.problems import problem_response
from api.schemas import NEXT_CURSOR_HEADERS, CursorPageArgsSchema, WorkItemDetailSchema, WorkItemSchema
from engine import access, work_items

blp = Blueprint("work_items", __name__, url_prefix="/work-items", description="Inbox (werkvoorraad)")


class InboxArgsSchema(CursorPageArgsSchema):
    unclaimed = ma.fields.Boolean(load_default=False)
    mine = ma.fields.Boolean(load_default=False)
    overdue = ma.fields.Boolean(load_default=False)


class CompleteSchema(ma.Schema):
    data = CaseData(load_default=dict, description="The form's fields, by key")


class CaseStateSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    stage = ma.fields.String(allow_none=True)


class CompletedSchema(ma.Schema):
    """Small on purpose: its size does not grow with the case's history (GET the case for the rest)."""

    work_item = ma.fields.Nested(WorkItemSchema, required=True)
    case = ma.fields.Nested(CaseStateSchema, required=True)
    next_items = ma.fields.List(ma.fields.Nested(WorkItemSchema), required=True,
                                metadata={"description": "Open items of this case in your organisation's inbox"})


@blp.route("", methods=["GET"])
@blp.arguments(InboxArgsSchema, location="query")
@blp.response(200, WorkItemSchema(many=True), headers=NEXT_CURSOR_HEADERS)
def inbox(args: dict[str, Any]) -> Any:
    """Open work items of the caller's organisation, soonest due first (undated last). Page with
    `after` (the X-Next-Cursor header of the previous page)."""
    actor = current_actor()
    if not access.handles_cases(actor):
        return [], {}  # admins and process owners have no case work (need-to-know)
    items = work_items.list_inbox(db.session, actor, **args)
    headers = {"X-Next-Cursor": work_items.inbox_cursor(items[-1])} if len(items) == args["limit"] else {}
    return [presenters.work_item(i) for i in items], headers


@blp.route("/<int:item_id>", methods=["GET"])
@blp.response(200, WorkItemDetailSchema)
@blp.alt_response(403, description="The item belongs to another organisation")
@blp.alt_response(404, description="No such work item")
def read_work_item(item_id: int) -> dict[str, Any]:
    """One work item with the form definition to render."""
    return presenters.work_item(work_items.get_work_item(db.session, current_actor(), item_id), with_form=True)


@blp.route("/<int:item_id>/claim", methods=["POST"])
@blp.response(200, WorkItemSchema)
@blp.alt_response(403, description="The item belongs to another organisation")
@blp.alt_response(404, description="No such work item")
@blp.alt_response(409, description="Claimed by someone else, or no longer open")
def claim(item_id: int) -> dict[str, Any]:
    """Take a work item on (others in your organisation then see it is yours)."""
    item = work_items.claim(db.session, current_actor(), item_id)
    db.session.commit()
    return presenters.work_item(item)


@blp.route("/<int:item_id>/unclaim", methods=["POST"])
@blp.response(200, WorkItemSchema)
@blp.alt_response(403, description="Not yours to release")
@blp.alt_response(404, description="No such work item")
@blp.alt_response(409, description="No longer open")
def unclaim(item_id: int) -> dict[str, Any]:
    """Release a claimed work item."""
    item = work_items.unclaim(db.session, current_actor(), item_id)
    db.session.commit()
    return presenters.work_item(item)


@blp.route("/<int:item_id>/complete", methods=["POST"])
@blp.arguments(CompleteSchema)
@blp.response(200, CompletedSchema)
@blp.alt_response(403, description="The item belongs to another organisation")
@blp.alt_response(404, description="No such work item")
@blp.alt_response(409, description="Already completed (perhaps concurrently), or claimed by someone else")
@blp.alt_response(422, description="The data does not match the form (errors per field), or the diagram failed")
def complete(body: dict[str, Any], item_id: int) -> Any:
    """Complete a work item: the data is validated against its form, recorded, and the case runs on."""
    actor = current_actor()
    outcome = work_items.complete(db.session, actor, item_id, body["data"])
    if outcome.error is not None and not outcome.applied:
        db.session.commit()
        return problem_response(
            422, "script-error",
            f"The case stopped at {outcome.error_element or 'an element'}: {outcome.error}. "
            "Your input was kept; the coordinator has been told.",
        )
    item = work_items.get_work_item(db.session, actor, item_id)
    case = outcome.case
    # The response is process data only (status, stage, the caller's next tasks), built before the
    # one commit of the completion: no second transaction, no case data to log as read.
    payload = {
        "work_item": presenters.work_item(item),
        "case": {"id": case.id, "reference": case.reference, "status": case.status.value, "stage": case.stage},
        "next_items": [presenters.work_item(i) for i in work_items.open_items_of_case(db.session, actor, case.id)],
    }
    db.session.commit()
    return payload
