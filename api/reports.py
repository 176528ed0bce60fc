"""Reports for the coordinator: lead times per stage and cases open for too long."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import current_actor
from api.extensions import db
from api.guards import require_role
from engine.calendar import AMSTERDAM
from engine.clock import utcnow
from engine.lead_times import lead_time_report
from engine.models import Role

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports (rapportages)")


class LeadTimeArgsSchema(ma.Schema):
    since = ma.fields.Date(validate=ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 1, 1)),
                           metadata={"description": "Only stage periods that ended on or after this day"})


class StageLeadTimeSchema(ma.Schema):
    stage = ma.fields.String(required=True)
    finished_periods = ma.fields.Integer(required=True)
    median_days = ma.fields.Float(allow_none=True)
    p80_days = ma.fields.Float(allow_none=True, metadata={"description": "80th percentile"})
    open_cases = ma.fields.Integer(required=True, metadata={"description": "Open cases in this stage now"})


class LeadTimeReportSchema(ma.Schema):
    generated_at = ma.fields.AwareDateTime(required=True)
    stages = ma.fields.List(ma.fields.Nested(StageLeadTimeSchema), required=True)
    open_cases = ma.fields.Integer(required=True)
    open_older_than_6_months = ma.fields.Integer(required=True)
    open_older_than_9_months = ma.fields.Integer(required=True)


@blp.route("/lead-times", methods=["GET"])
@blp.arguments(LeadTimeArgsSchema, location="query")
@blp.response(200, LeadTimeReportSchema)
@blp.alt_response(403, description="Only the coordinator and process owners read reports")
def lead_times(args: dict[str, Any]) -> Any:
    """Per stage the median and 80th percentile time spent in it (days), and open cases older than 6 and 9 months."""
    # Counts and durations only, no case: process owners need them to improve their diagrams.
    require_role(current_actor(), Role.COORDINATOR, Role.PROCESS_OWNER)
    since = args.get("since")
    start = datetime.combine(since, time(), AMSTERDAM).astimezone(UTC) if since else None
    return lead_time_report(db.session, now=utcnow(), since=start)
