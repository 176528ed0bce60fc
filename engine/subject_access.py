"""Subject access (AVG art. 15): everything held about one person, where it came from, and which
organisations received it — with reporters' identities redacted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts import Actor
from engine.clock import utcnow
from engine.covenant import current_covenant, current_version
from engine.errors import InvalidInputError, PermissionDeniedError
from engine.models import Case, CaseEvent, Organisation, Role, User

REDACTED = "[afgeschermd: identiteit melder]"
REPORTER_CATEGORY = "melder"


def export_subject(session: Session, actor: Actor, subject: str) -> dict[str, Any]:
    """The export for one person, by the name the cases record (`bewoner`). Coordinator only.

    The export itself is logged in the caller's transaction."""
    if not actor.has(Role.COORDINATOR):
        raise PermissionDeniedError("Only the coordinator answers subject-access requests.")
    wanted = " ".join(subject.split())
    if len(wanted) < 2:
        raise InvalidInputError("Give the person's name as the cases record it.")
    covenant = current_covenant(session)
    cases = session.scalars(
        select(Case).where(func.lower(Case.subject) == wanted.lower()).order_by(Case.opened_at)
    ).all()
    organisations = {o.id: o.name for o in session.scalars(select(Organisation))}
    users = {u.id: u.full_name or u.username for u in session.scalars(select(User))}
    out_cases = []
    for case in cases:
        items = []
        for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)):
            if not event.data:
                continue
            categories = event.categories or {}
            values = {k: (REDACTED if categories.get(k) == REPORTER_CATEGORY else v) for k, v in event.data.items()}
            items.append({
                "at": event.at, "what": event.summary, "data": values,
                "categories": {k: categories.get(k) for k in event.data},
                "source": {"organisation": organisations.get(event.actor_organisation_id or 0),
                           "person": users.get(event.actor_user_id or 0)},
            })
        received = _recipients(session, case.id, organisations)
        out_cases.append({
            "reference": case.reference, "opened_at": case.opened_at, "closed_at": case.closed_at,
            "status": case.status.value, "result": case.result, "data": items, "received_by": received,
        })
    session.flush()
    audit.append(session, actor, [audit.Access("export", "inzageverzoek AVG art. 15", c.id, wanted,
                                               tuple(covenant.categories), ()) for c in cases]
                 or [audit.Access("export", "inzageverzoek AVG art. 15", None, wanted)],
                 covenant_version=current_version(session).version)
    return {
        "subject": wanted, "generated_at": utcnow(), "controller": "Gemeente (regisseur aanpak woonoverlast)",
        "purpose": covenant.purpose, "covenant_version": covenant.version, "cases": out_cases,
        "categories": dict(covenant.categories),
    }


def _recipients(session: Session, case_id: int, organisations: dict[int, str]) -> list[dict[str, Any]]:
    """Which organisations read which categories of this case, from the access log."""
    seen: dict[int, dict[str, Any]] = {}
    for entry in session.scalars(select(audit.AccessLogEntry).where(audit.AccessLogEntry.case_id == case_id,
                                                                     audit.AccessLogEntry.action == "read")):
        if entry.organisation_id is None:
            continue
        row = seen.setdefault(entry.organisation_id, {
            "organisation": organisations.get(entry.organisation_id), "categories": set(), "first": entry.at,
            "last": entry.at})
        row["categories"] |= set(entry.categories)
        row["first"], row["last"] = min(row["first"], entry.at), max(row["last"], entry.at)
    return [{**r, "categories": sorted(r["categories"])} for r in seen.values()]
