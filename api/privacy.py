"""Covenant, access log, subject access and retention: the privacy side of the API."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import marshmallow as ma
from flask import Flask, current_app, render_template, request
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import current_actor
from api.extensions import db
from api.guards import require_role
from engine import audit, covenant, retention, subject_access
from engine.clock import utcnow
from engine.models import Notification, Organisation, OrganisationKind, Role

log = logging.getLogger(__name__)

blp = Blueprint("privacy", __name__, url_prefix="", description="Covenant, access log, subject access, retention")


class GrantSchema(ma.Schema):
    category = ma.fields.String(required=True)
    read = ma.fields.Boolean(required=True)
    write = ma.fields.Boolean(required=True)
    ground = ma.fields.String(required=True)


class CovenantSchema(ma.Schema):
    version = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    categories = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    grants = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.Nested(GrantSchema)),
                            required=True)
    loaded_at = ma.fields.AwareDateTime(required=True)
    loaded_by = ma.fields.String(allow_none=True)


class CovenantVersionSchema(ma.Schema):
    version = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    loaded_at = ma.fields.AwareDateTime(required=True)
    loaded_by = ma.fields.String(allow_none=True)


class AccessLogEntrySchema(ma.Schema):
    seq = ma.fields.Integer(required=True, allow_none=True,
                            metadata={"description": "Place in the chain; null until the sweeper sealed it"})
    at = ma.fields.AwareDateTime(required=True)
    user = ma.fields.String(allow_none=True)
    organisation_id = ma.fields.Integer(allow_none=True)
    case_id = ma.fields.Integer(allow_none=True)
    subject = ma.fields.String(allow_none=True)
    action = ma.fields.String(required=True)
    purpose = ma.fields.String(required=True)
    categories = ma.fields.List(ma.fields.String(), required=True)
    fields = ma.fields.List(ma.fields.String(), required=True)
    covenant_version = ma.fields.String(allow_none=True)
    hash = ma.fields.String(required=True, allow_none=True)


class AccessLogArgsSchema(ma.Schema):
    case_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    limit = ma.fields.Integer(load_default=200, validate=ma.validate.Range(min=1, max=1000))


class ExportArgsSchema(ma.Schema):
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "html"]))


class ProposalSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    case_id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    result = ma.fields.String(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    due_since = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class DecisionSchema(ma.Schema):
    approve = ma.fields.Boolean(required=True)
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


class LegalHoldSchema(ma.Schema):
    reason = ma.fields.String(required=True, allow_none=True, validate=ma.validate.Length(max=2000),
                              metadata={"description": "Why the case must be kept; null lifts the hold"})


class LegalHoldStateSchema(ma.Schema):
    case_id = ma.fields.Integer(required=True)
    legal_hold_reason = ma.fields.String(allow_none=True)


def access_log_key(app: Flask) -> bytes:
    return str(app.config["ACCESS_LOG_KEY"]).encode()


def seal_access_log(app: Flask, *, batch: int = 1000) -> int:
    """For the sweeper tick: chain what was logged since the last tick, then checkpoint the head
    outside the database (the file every ACCESS_LOG_CHECKPOINT_MINUTES, the mail once a day)."""
    key, sealed = access_log_key(app), 0
    with app.app_context(), Session(db.engine, expire_on_commit=False) as session:
        try:
            while True:  # one short transaction per batch: the head lock is never held for long
                count = audit.seal(session, key, batch=batch)
                session.commit()
                sealed += count
                if count < batch:
                    break
            _checkpoint(app, session, key)
        except Exception:
            # A tick must not stop the sweeper; what stays unsealed is sealed by the next one.
            session.rollback()
            log.exception("sealing the access log failed")
    return sealed


def _checkpoint(app: Flask, session: Session, key: bytes) -> None:
    now = utcnow()
    path = Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"])
    last = audit.last_checkpoint_at(path)
    head = audit.head(session)
    if last is None or now - last >= timedelta(minutes=app.config["ACCESS_LOG_CHECKPOINT_MINUTES"]):
        audit.write_checkpoint(path, key, head, now=now)
    address = app.config.get("ACCESS_LOG_CHECKPOINT_MAIL")
    if not address:
        return
    dedupe = f"access-log-head:{now:%Y-%m-%d}"
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe)) is not None:
        return
    # The outbox needs an organisation: the coordinating municipality's, or the first one.
    sender = session.scalar(select(Organisation.id).order_by(Organisation.kind != OrganisationKind.GEMEENTE,
                                                             Organisation.id).limit(1))
    if sender is None:
        return
    line = audit.checkpoint_line(key, head, now)
    session.add(Notification(
        dedupe_key=dedupe, organisation_id=sender, kind="access_log_checkpoint", to_address=address,
        subject=f"Ketenregie toegangslog {now:%Y-%m-%d}: {head.seq} regels",
        body=("Controlepunt van het toegangslog. Bewaar dit bericht buiten Ketenregie. De laatste regel, in een "
              "bestand gezet, vergelijkt `flask --app api verify-access-log --checkpoints BESTAND` met de "
              f"database.\n\naantal: {head.seq}\nkop: {head.hash}\n\n{line}\n"),
        created_at=now, send_after=now,
    ))
    session.commit()


def _covenant_payload() -> dict[str, Any]:
    row = covenant.current_version(db.session)
    current = covenant.current_covenant(db.session)
    from engine.models import User

    loaded_by = db.session.get(User, row.loaded_by_id) if row.loaded_by_id else None
    return {
        "version": current.version, "purpose": current.purpose, "categories": dict(current.categories),
        "grants": {kind: [{"category": c, "read": g.read, "write": g.write, "ground": g.ground}
                          for c, g in grants.items()] for kind, grants in current.grants.items()},
        "loaded_at": row.loaded_at, "loaded_by": loaded_by.username if loaded_by else None,
    }


@blp.route("/covenant", methods=["GET"])
@blp.response(200, CovenantSchema)
@blp.alt_response(404, description="No covenant loaded yet")
def read_covenant() -> dict[str, Any]:
    """The covenant in force: categories and, per organisation kind, what it may read and write, and why."""
    return _covenant_payload()


@blp.route("/covenant", methods=["PUT"])
@blp.response(200, CovenantSchema)
@blp.alt_response(403, description="Only administrators change the covenant")
@blp.alt_response(415, description="Send YAML")
@blp.alt_response(422, description="The covenant is invalid; nothing changed")
@blp.doc(requestBody={"required": True, "content": {"application/yaml": {"schema": {"type": "string"}}}})
def replace_covenant() -> dict[str, Any]:
    """Load a new covenant version (YAML). Who loaded it and when is recorded."""
    actor = current_actor()
    require_role(actor, Role.ADMIN)
    if request.mimetype not in ("application/yaml", "application/x-yaml", "text/yaml", "text/plain"):
        abort(415, message="Send the covenant as application/yaml.")
    text = request.get_data(as_text=True)
    if len(text) > 200_000:
        abort(413, message="A covenant may be at most 200 kB.")
    covenant.load_covenant(db.session, text=text, source="api", actor=actor)
    db.session.commit()
    return _covenant_payload()


@blp.route("/covenant/versions", methods=["GET"])
@blp.response(200, CovenantVersionSchema(many=True))
def covenant_versions() -> list[dict[str, Any]]:
    """Every version of the covenant that was loaded: who, when, from where."""
    from engine.models import User

    rows = db.session.scalars(db.select(covenant.CovenantVersion).order_by(covenant.CovenantVersion.id)).all()
    names = {u.id: u.username for u in db.session.scalars(db.select(User))}
    return [{"version": r.version, "sha256": r.sha256, "source": r.source, "loaded_at": r.loaded_at,
             "loaded_by": names.get(r.loaded_by_id or 0)} for r in rows]


@blp.route("/access-log", methods=["GET"])
@blp.arguments(AccessLogArgsSchema, location="query")
@blp.response(200, AccessLogEntrySchema(many=True))
@blp.alt_response(403, description="Coordinator only")
def read_access_log(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The access log, newest first. Reading it is itself logged."""
    actor = current_actor()
    require_role(actor, Role.COORDINATOR)
    case_ids = [args["case_id"]] if args.get("case_id") else None
    rows = [audit.describe(e) for e in audit.entries_for(db.session, case_ids=case_ids, limit=args["limit"])]
    audit.append(db.session, actor, [audit.Access("read_access_log", "toezicht op gegevensdeling",
                                                  args.get("case_id"))],
                 covenant_version=covenant.current_version(db.session).version)
    db.session.commit()
    return rows


@blp.route("/subjects/export", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, description="Everything held about the person (JSON, or HTML for the person)")
@blp.alt_response(403, description="Coordinator only")
def export_subject(args: dict[str, Any]) -> Any:
    """Subject-access export (AVG art. 15): data, sources, recipients; reporters redacted."""
    export = subject_access.export_subject(db.session, current_actor(), args["subject"])
    db.session.commit()
    if args["format"] == "html":
        return current_app.response_class(render_template("subject_export.html", export=export),
                                          mimetype="text/html")
    return current_app.json.response(export)


def _proposal(p: retention.DestructionProposal) -> dict[str, Any]:
    from engine.models import Case

    case = db.session.get(Case, p.case_id)
    assert case is not None
    return {"id": p.id, "case_id": p.case_id, "reference": case.reference, "result": case.result,
            "closed_at": case.closed_at, "due_since": p.due_since, "status": p.status.value,
            "decided_at": p.decided_at}


@blp.route("/retention/proposals", methods=["GET"])
@blp.response(200, ProposalSchema(many=True))
@blp.alt_response(403, description="Coordinator only")
def list_proposals() -> list[dict[str, Any]]:
    """Cases proposed for destruction after their retention period."""
    return [_proposal(p) for p in retention.list_proposals(db.session, current_actor())]


@blp.route("/retention/proposals/<int:proposal_id>", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, ProposalSchema)
@blp.alt_response(403, description="Coordinator only")
@blp.alt_response(404, description="No such proposal")
@blp.alt_response(409, description="Decided already, or the case is under a legal hold")
def decide_proposal(body: dict[str, Any], proposal_id: int) -> dict[str, Any]:
    """Approve (destroy the personal data) or reject a proposal."""
    retention.decide(db.session, current_actor(), proposal_id, approve=body["approve"], reason=body["reason"])
    db.session.commit()
    return _proposal(db.session.get(retention.DestructionProposal, proposal_id))  # type: ignore[arg-type]


@blp.route("/cases/<int:case_id>/legal-hold", methods=["PUT"])
@blp.arguments(LegalHoldSchema)
@blp.response(200, LegalHoldStateSchema)
@blp.alt_response(403, description="Coordinator only")
@blp.alt_response(404, description="No such case")
def set_legal_hold(body: dict[str, Any], case_id: int) -> dict[str, Any]:
    """Put a case under a legal hold (never proposed for destruction), or lift it."""
    case = retention.set_legal_hold(db.session, current_actor(), case_id, body["reason"])
    db.session.commit()
    return {"case_id": case.id, "legal_hold_reason": case.legal_hold_reason}
