"""Taak: one work item with its form (form-js viewer) beside the case summary, and its completion.

The browser posts the form data as JSON; the engine validates it again (the browser is never
trusted) and its per-field problems go back as [{field, message}] for the form to show.
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, render_template, request, url_for

from api.extensions import db
from api.limits import check_case_data
from api.web.cases import case_summary
from api.web.errors import error_response, page_blueprint
from api.web.guards import ROW_ID, page_actor, requires
from engine import work_items
from engine.clock import utcnow
from engine.models import Role, WorkItemStatus

bp = page_blueprint("web_tasks", "/taken")

MAX_SUBMISSION_BYTES = 1_000_000


@bp.get(f"/<{ROW_ID}:item_id>")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def task(item_id: int) -> Any:
    actor = page_actor()
    item = work_items.get_work_item(db.session, actor, item_id)  # 403 other organisation, 404 missing
    claimed_by_other = item.claimed_by_id not in (None, actor.user_id)
    return render_template(
        "web/task.html", item=item, form=work_items.form_of(item), summary=case_summary(actor, item.case_id),
        is_open=item.status is WorkItemStatus.OPEN, claimed_by_other=claimed_by_other,
        overdue=item.due_at is not None and item.due_at < utcnow(),
    )


@bp.post(f"/<{ROW_ID}:item_id>/afronden")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def complete(item_id: int) -> Any:
    """JSON in ({"data": {...}}), JSON out: where to go next, or the message and field errors."""
    if (request.content_length or 0) > MAX_SUBMISSION_BYTES:
        return error_response(413, "Wat je stuurt is te groot.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return error_response(400, "De formuliergegevens zijn niet goed ontvangen. Vernieuw de pagina.")
    check_case_data(body["data"])  # the API's limits on form data, here too (422 per field)
    actor = page_actor()
    outcome = work_items.complete(db.session, actor, item_id, body["data"])  # errors -> api/web/errors.py
    db.session.commit()
    if outcome.error is not None:
        # The engine kept the input and put the case in error for the coordinator; the task stays open.
        return jsonify(message="Je invoer is bewaard, maar de casus liep vast in het proces. De regisseur is "
                               "op de hoogte en lost het op; de taak blijft openstaan."), 422
    item = work_items.get_work_item(db.session, actor, item_id)
    flash(f"Taak ‘{item.title}’ is afgerond ({item.case.reference}).", "info")
    return jsonify(message="Afgerond.", redirect=url_for("web_inbox.inbox"))
