"""A case's error diagnostics: the full exception text, for process owners and the coordinator."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api.auth import current_actor
from api.extensions import db
from engine import audit, diagnostics
from engine.covenant import current_version

blp = Blueprint("diagnostics", __name__, url_prefix="/cases", description="Case error diagnostics")


class DiagnosticSchema(ma.Schema):
    at = ma.fields.DateTime(required=True)
    element = ma.fields.String(required=True, allow_none=True)
    exception = ma.fields.String(required=True, metadata={"description": "Exception type, e.g. ValueError"})
    detail = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "The full text (may hold case data); null when the covenant withholds it from you"})
    withheld_categories = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "Data categories of the case your organisation may not read, which withhold the detail"})


@blp.route("/<int:case_id>/diagnostics", methods=["GET"])
@blp.response(200, DiagnosticSchema(many=True))
@blp.alt_response(403, description="Only process owners and the coordinator")
@blp.alt_response(404, description="No such case")
def read_diagnostics(case_id: int) -> list[dict[str, Any]]:
    """Why a case went into error, in full. The read is logged before anything is returned."""
    actor = current_actor()
    found, access = diagnostics.read(db.session, actor, case_id)
    audit.record_in_own_transaction(lambda: Session(db.engine), actor, [access],
                                    covenant_version=current_version(db.session).version)
    return [{"at": d.at, "element": d.element, "exception": d.exception, "detail": d.detail,
             "withheld_categories": d.withheld_categories} for d in found]
