"""marshmallow schemas shared by the API blueprints (they validate input and document output)."""

from __future__ import annotations

import marshmallow as ma


class OrganisationRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)


class ProcessRefSchema(ma.Schema):
    key = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class WorkItemSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    case_id = ma.fields.Integer(required=True)
    case_reference = ma.fields.String(required=True)
    element_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    lane = ma.fields.String(allow_none=True)
    role = ma.fields.String(required=True)
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
    form_key = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    claimed_by = ma.fields.String(allow_none=True)
    claimed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    follow_up_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean(required=True)


class WorkItemDetailSchema(WorkItemSchema):
    form = ma.fields.Dict(allow_none=True, metadata={"description": "The form-js definition to render"})


class ActivitySchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class TimerSchema(ma.Schema):
    element_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    due_at = ma.fields.AwareDateTime(required=True)


class ActorRefSchema(ma.Schema):
    user = ma.fields.String(allow_none=True)
    organisation = ma.fields.String(allow_none=True)


class EventSchema(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    kind = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    actor = ma.fields.Nested(ActorRefSchema, allow_none=True)
    element_id = ma.fields.String(allow_none=True)
    work_item_id = ma.fields.Integer(allow_none=True)
    data = ma.fields.Dict(allow_none=True, metadata={"description": "Only the fields the covenant lets you read"})
    shielded = ma.fields.List(ma.fields.String(), required=True,
                              metadata={"description": "Fields left out: the covenant does not let you read them"})


class ParticipantSchema(ma.Schema):
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)
    since = ma.fields.AwareDateTime(required=True)
    reason = ma.fields.String(required=True)


class CaseRoleSchema(ma.Schema):
    case_role = ma.fields.String(required=True)
    organisation = ma.fields.Nested(OrganisationRefSchema, required=True)


class CaseErrorSchema(ma.Schema):
    message = ma.fields.String(required=True)
    element = ma.fields.String(allow_none=True)


class CaseSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    process = ma.fields.Nested(ProcessRefSchema, required=True)
    status = ma.fields.String(required=True)
    stage = ma.fields.String(allow_none=True)
    opened_at = ma.fields.AwareDateTime(required=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    last_activity_at = ma.fields.AwareDateTime(required=True)
    next_timer_at = ma.fields.AwareDateTime(allow_none=True)
    age_flag = ma.fields.String(allow_none=True, metadata={"description": "'6m' or '9m': open past the target"})
    error = ma.fields.Nested(CaseErrorSchema, allow_none=True)


class EndEventSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class CaseDetailSchema(CaseSummarySchema):
    result = ma.fields.String(allow_none=True, metadata={"description": "The result recorded when the case closed"})
    end_event = ma.fields.Nested(EndEventSchema, allow_none=True,
                                 metadata={"description": "The end event a completed case reached"})
    data = ma.fields.Dict(required=True, metadata={
        "description": "Case variables the covenant lets you read; those without a data category only for the "
                       "coordinator"})
    shielded = ma.fields.List(ma.fields.String(), required=True,
                              metadata={"description": "Case variables left out: you may not read them"})
    current_activities = ma.fields.List(ma.fields.Nested(ActivitySchema), required=True)
    open_work_items = ma.fields.List(ma.fields.Nested(WorkItemSchema), required=True)
    pending_timers = ma.fields.List(ma.fields.Nested(TimerSchema), required=True)
    history = ma.fields.List(ma.fields.Nested(EventSchema), required=True,
                             metadata={"description": "The newest events, oldest first"})
    earlier_history = ma.fields.Boolean(
        required=True, metadata={"description": "Older events exist: page through GET /cases/{id}/history"})
    participants = ma.fields.List(ma.fields.Nested(ParticipantSchema), required=True)
    case_roles = ma.fields.List(ma.fields.Nested(CaseRoleSchema), required=True)


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=1_000_000))


class CursorPageArgsSchema(PageArgsSchema):
    """Keyset pages: pass the X-Next-Cursor header of one page as `after` to get the next."""

    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=200))
    after = ma.fields.String(validate=ma.validate.Length(min=1, max=200),
                             metadata={"description": "The X-Next-Cursor of the previous page"})


NEXT_CURSOR_HEADERS = {
    "X-Next-Cursor": {"description": "Pass as `after` for the next page; absent on the last page",
                      "schema": {"type": "string"}},
}
