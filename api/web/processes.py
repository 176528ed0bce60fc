"""Procesbeheer: processes and their versions, the BPMN modeler, deploying a new version, XML downloads.

Deploying goes through engine.catalog.deploy_process with the forms on disk, exactly as the API
does; its problems (element id, line, message) go back as JSON for the modeler to show on the diagram.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from flask import current_app, jsonify, render_template, request, url_for

from api.extensions import db
from api.process_models import MAX_DIAGRAM_BYTES, XML_TYPES, forms_on_disk
from api.web.errors import error_response, page_blueprint
from api.web.guards import ROW_ID, page_actor, requires
from engine import catalog
from engine.models import ProcessVersion, Role, User

bp = page_blueprint("web_processes", "/procesbeheer")

_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,195}\.bpmn$")

# A starting point for a new process: one pool with a start event, in the Camunda namespace.
NEW_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_nieuw"
  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="nieuw_proces" name="Nieuw proces" isExecutable="true">
    <bpmn:startEvent id="Start" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="nieuw_proces">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start"><dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@bp.get("")
@requires(Role.PROCESS_OWNER)
def process_list() -> Any:
    rows = catalog.list_versions(db.session)
    processes = [(key, list(versions)) for key, versions in groupby(rows, key=lambda v: v.process_key)]
    return render_template("web/process_list.html", processes=processes, names=_deployers(rows))


@bp.get("/<string:key>/bewerken")
@requires(Role.PROCESS_OWNER)
def edit(key: str) -> Any:
    version = catalog.newest_version(db.session, key)  # NotFoundError -> 404 page
    return _modeler(xml=version.bpmn_xml, filename=version.filename, version=version)


@bp.get("/nieuw")
@requires(Role.PROCESS_OWNER)
def new() -> Any:
    return _modeler(xml=NEW_DIAGRAM, filename="nieuw_proces.bpmn", version=None)


def _modeler(*, xml: str, filename: str, version: ProcessVersion | None) -> Any:
    data = {"xml": xml, "filename": filename, "deployUrl": url_for("web_processes.deploy"),
            "listUrl": url_for("web_processes.process_list"),
            "camunda": url_for("static", filename="vendor/camunda-bpmn-moddle/camunda.json")}
    return render_template("web/modeler.html", data=data, version=version, filename=filename)


@bp.get(f"/<string:key>/versies/<{ROW_ID}:number>.bpmn")
@requires(Role.PROCESS_OWNER)
def download(key: str, number: int) -> Any:
    version = catalog.get_version(db.session, key, number)
    response = current_app.response_class(version.bpmn_xml, mimetype="application/xml")
    stem = version.filename.removesuffix(".bpmn")
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-v{version.version}.bpmn"'
    return response


@bp.post("/deploy")
@requires(Role.PROCESS_OWNER)
def deploy() -> Any:
    """XML in (the modeler's saveXML), JSON out: the version, or the problems per element."""
    filename = request.args.get("bestandsnaam", "")
    if not _FILENAME.match(filename):
        return error_response(422, "Geef een bestandsnaam als overlast.bpmn (letters, cijfers, - _ .).")
    if request.mimetype not in XML_TYPES:
        return error_response(415, "Stuur het diagram als XML.")
    if (request.content_length or 0) > MAX_DIAGRAM_BYTES:
        return error_response(413, f"Een diagram mag hoogstens {MAX_DIAGRAM_BYTES:,} bytes zijn.")
    xml = request.get_data(cache=False)
    if len(xml) > MAX_DIAGRAM_BYTES:
        return error_response(413, f"Een diagram mag hoogstens {MAX_DIAGRAM_BYTES:,} bytes zijn.")
    # DiagramError (and FormError for a broken form on disk) -> 422 with problems, in api/web/errors.py.
    version, created = catalog.deploy_process(
        db.session, xml=xml, filename=filename, forms=forms_on_disk(), actor=page_actor()
    )
    db.session.commit()
    if created:
        message = f"Versie {version.version} van ‘{version.name}’ is in gebruik genomen. Nieuwe casussen starten " \
                  "op deze versie; lopende casussen blijven op hun eigen versie."
    else:
        message = f"Dit diagram is precies gelijk aan versie {version.version}; er is geen nieuwe versie gemaakt."
    return jsonify(message=message, key=version.process_key, version=version.version, created=created,
                   filename=version.filename,
                   download=url_for("web_processes.download", key=version.process_key, number=version.version),
                   edit=url_for("web_processes.edit", key=version.process_key)), 201 if created else 200


def _deployers(rows: list[ProcessVersion]) -> dict[int, str]:
    ids = {row.deployed_by_id for row in rows if row.deployed_by_id}
    users = (db.session.get(User, user_id) for user_id in ids)
    return {user.id: user.full_name or user.username for user in users if user is not None}
