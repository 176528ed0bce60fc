"""Process models: deploy a BPMN diagram as a new version, list processes, read a version's XML."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Blueprint, abort

from api.auth import current_actor
from api.extensions import db
from api.guards import require_role
from engine import catalog
from engine.forms import load_forms
from engine.models import ProcessVersion, Role, User

blp = Blueprint("process_models", __name__, url_prefix="/process-models", description="Deployed BPMN processes")

MAX_DIAGRAM_BYTES = 2_000_000
XML_TYPES = ("application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream")


class VersionSchema(ma.Schema):
    key = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True)
    deployed_at = ma.fields.AwareDateTime(required=True)
    deployed_by = ma.fields.String(allow_none=True)
    user_tasks = ma.fields.List(ma.fields.Dict(), required=True)
    forms = ma.fields.List(ma.fields.String(), required=True)


class ProcessSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    newest_version = ma.fields.Integer(required=True)
    versions = ma.fields.List(ma.fields.Nested(VersionSchema), required=True)


class DeployArgsSchema(ma.Schema):
    filename = ma.fields.String(load_default="diagram.bpmn", validate=ma.validate.Length(min=1, max=200))


def forms_on_disk() -> dict[str, dict[str, Any]]:
    return load_forms(current_app.config["FORMS_DIR"])


def _version(row: ProcessVersion, usernames: dict[int, str]) -> dict[str, Any]:
    return {
        "key": row.process_key, "version": row.version, "name": row.name, "filename": row.filename,
        "sha256": row.sha256, "deployed_at": row.deployed_at,
        "deployed_by": usernames.get(row.deployed_by_id) if row.deployed_by_id else None,
        "user_tasks": row.human_tasks, "forms": sorted(row.forms),
    }


def _usernames(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u.username for u in db.session.scalars(db.select(User).where(User.id.in_(wanted)))}


@blp.route("", methods=["POST"])
@blp.arguments(DeployArgsSchema, location="query")
@blp.response(201, VersionSchema, description="A new version was deployed")
@blp.alt_response(200, schema=VersionSchema, description="The same content was already deployed: that version")
@blp.alt_response(403, description="Only process owners deploy")
@blp.alt_response(413, description="Diagram too large")
@blp.alt_response(415, description="Not an XML body")
@blp.alt_response(422, description="The diagram is invalid: `problems` lists each with element id and line")
@blp.doc(requestBody={"required": True, "content": {t: {"schema": {"type": "string"}} for t in XML_TYPES[:3]}})
def deploy(args: dict[str, Any]) -> Any:
    """Deploy a BPMN diagram (the request body) as the next version of its process."""
    actor = current_actor()
    require_role(actor, Role.PROCESS_OWNER)
    if request.mimetype not in XML_TYPES:
        abort(415, message="Send the BPMN diagram as application/xml.")
    if (request.content_length or 0) > MAX_DIAGRAM_BYTES:
        abort(413, message=f"A diagram may be at most {MAX_DIAGRAM_BYTES} bytes.")
    xml = request.get_data(cache=False)
    if len(xml) > MAX_DIAGRAM_BYTES:
        abort(413, message=f"A diagram may be at most {MAX_DIAGRAM_BYTES} bytes.")
    version, created = catalog.deploy_process(
        db.session, xml=xml, filename=args["filename"], forms=forms_on_disk(), actor=actor
    )
    db.session.commit()
    return _version(version, _usernames({version.deployed_by_id})), 201 if created else 200


@blp.route("", methods=["GET"])
@blp.response(200, ProcessSchema(many=True))
def list_processes() -> list[dict[str, Any]]:
    """Every process with its versions (newest last)."""
    rows = catalog.list_versions(db.session)
    usernames = _usernames({r.deployed_by_id for r in rows})
    processes: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = processes.setdefault(row.process_key, {"key": row.process_key, "versions": []})
        entry["versions"].append(_version(row, usernames))
        entry["name"], entry["newest_version"] = row.name, row.version
    return list(processes.values())


@blp.route("/<string:key>/versions/<int:number>", methods=["GET"])
@blp.response(200, description="The BPMN XML of that version", content_type="application/xml")
@blp.alt_response(404, description="No such process or version")
def read_version(key: str, number: int) -> Any:
    """The BPMN source of one version, as deployed."""
    version = catalog.get_version(db.session, key, number)
    return current_app.response_class(version.bpmn_xml, mimetype="application/xml")
