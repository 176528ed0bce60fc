"""Casussen: the case list with filters, one case with its diagram, timeline, deadlines and roles.

`case_summary` is the one place that decides which submitted data a page shows about a case
(the task page uses it too): only what the covenant lets the reader's organisation see, and the
read is noted for the access log (api/web/disclosure.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from api.extensions import db
from api.web.disclosure import note_read
from api.web.errors import page_blueprint
from api.web.guards import ROW_ID, page_actor, requires
from engine import cases, dashboard, execution, history
from engine.accounts import Actor
from engine.cases import CaseDetail
from engine.disclosure import disclose_case
from engine.forms import fields
from engine.history import events_of
from engine.models import Case, CaseEvent, CaseStatus, Organisation, Role, User
from engine.roles import CASUSREGISSEUR

bp = page_blueprint("web_cases", "/casussen")

# History kinds that carry data somebody submitted (the rest carry bookkeeping).
SUBMISSION_KINDS = ("case_started", "task_completed", "escalation_handled")
# History kinds that mean an element of the diagram was passed.
PASSED_KINDS = ("task_completed", "timer_fired")
PAGE_SIZE = 200


@dataclass(frozen=True)
class Submission:
    at: datetime
    summary: str
    organisation: str | None
    person: str | None
    values: list[tuple[str, str]]
    shielded: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CaseSummary:
    case: Case
    casusregisseur: str | None
    submissions: list[Submission] = field(default_factory=list)
    title: str = ""


def case_summary(actor: Actor, case_id: int, *, events: list[CaseEvent] | None = None) -> CaseSummary:
    """Reference, title, stage and the data submitted so far, as the actor may see it.

    `events` is the case's history when the caller has read it already (the case page has).
    """
    case = cases.get_case(db.session, actor, case_id)  # NotFoundError when not visible
    labels = _field_labels(case)
    history = events if events is not None else events_of(db.session, case.id)
    seen = disclose_case(db.session, actor, case, [e for e in history if e.kind in SUBMISSION_KINDS and e.data])
    note_read(seen.access(case, "casusbehandeling"))
    submissions = [
        Submission(item.event.at, item.event.summary, _organisation_name(item.event.actor_organisation_id),
                   _person_name(item.event.actor_user_id),
                   [(labels.get(key, key), shown(value)) for key, value in (item.data or {}).items()],
                   [labels.get(key, key) for key in item.shielded])
        for item in seen.events
    ]
    return CaseSummary(case, _casusregisseur(case.id), submissions, seen.title)


def shown(value: Any) -> str:
    """A submitted value as text: Ja/Nee for booleans, lists joined, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Ja" if value else "Nee"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value) or "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _field_labels(case: Case) -> dict[str, str]:
    labels: dict[str, str] = {}
    for definition in (case.process_version.forms or {}).values():
        for component in fields(definition):
            if isinstance(component.get("key"), str) and component.get("label"):
                labels.setdefault(component["key"], str(component["label"]))
    return labels


def _organisation_name(organisation_id: int | None) -> str | None:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    return organisation.name if organisation else None


def _person_name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return (user.full_name or user.username) if user else None


def _casusregisseur(case_id: int) -> str | None:
    roles = execution.case_role_map(db.session, case_id)
    return _organisation_name(roles.get(CASUSREGISSEUR))


@bp.get("")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def case_list() -> Any:
    actor = page_actor()
    status = request.args.get("status", "")
    status = status if status in {s.value for s in CaseStatus} else ""
    stages = dashboard.case_stages(db.session, actor)
    stage = request.args.get("fase", "")
    stage = stage if stage in stages else ""
    rows = cases.list_cases(db.session, actor, status=status or None, stage=stage or None, limit=PAGE_SIZE)
    return render_template("web/case_list.html", cases=rows, status=status, stage=stage, stages=stages,
                           statuses=list(CaseStatus), sees_all=actor.has(Role.COORDINATOR), page_size=PAGE_SIZE)


@bp.get(f"/<{ROW_ID}:case_id>")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def case_page(case_id: int) -> Any:
    actor = page_actor()
    detail = cases.case_detail(db.session, actor, case_id)  # NotFoundError -> 404 page
    # The page shows the newest page of the history; the melding itself stays in the summary.
    events = detail.history
    first = history.first_event(db.session, case_id) if detail.earlier_history else None
    if first is not None:
        events = [first, *events]
    return render_template(
        "web/case.html", detail=detail, case=detail.case, summary=case_summary(actor, case_id, events=events),
        diagram={"xml": detail.case.process_version.bpmn_xml, **diagram_marks(detail)},
        names={"person": _person_name, "organisation": _organisation_name},
    )


@bp.post(f"/<{ROW_ID}:case_id>/opnieuw")
@requires(Role.COORDINATOR)
def retry(case_id: int) -> Any:
    outcome = cases.retry_case(db.session, case_id=case_id, actor=page_actor())
    db.session.commit()
    if outcome.error:
        flash("De casus loopt nog steeds vast; zie de melding hieronder.", "error")
    else:
        flash("De casus loopt weer.", "info")
    return redirect(url_for("web_cases.case_page", case_id=case_id))


def diagram_marks(detail: CaseDetail) -> dict[str, list[str]]:
    """Element ids to colour in the viewer: passed, active (work for people), waiting (timers), in error."""
    waiting = {timer.element_id for timer in detail.pending_timers}
    active = {element for element, _ in detail.current_activities} - waiting
    passed = {e.element_id for e in detail.history if e.kind in PASSED_KINDS and e.element_id}
    if detail.earlier_history:
        passed |= history.elements_passed(db.session, detail.case.id, PASSED_KINDS)
    # The saved state knows gateways and events too, but is compacted: the history fills the gaps.
    passed |= set(detail.completed_elements)
    error = [detail.case.error_element] if detail.case.error_element else []
    return {"completed": sorted(passed - active - waiting), "active": sorted(active), "waiting": sorted(waiting),
            "error": error}
