"""The full text of the errors a case ran into, for the people who fix diagrams.

A case's error message is shown to every partner and holds no data values; the exception text
can (`int(x)` failing repeats x). It is kept here, with the data categories the case held, and
shown only to a reader whose organisation the covenant lets read every one of those categories.
"""

# Why all categories and not redaction: an exception's text is free-form (a repr of a dict, a
# value inside a message), so which part of it came from which field cannot be told reliably.
# Showing it only to a reader who may read everything the case held is the safe reading of the
# covenant; anyone else sees the element, the exception type and which categories withheld it.

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import audit
from engine.accounts import Actor
from engine.covenant import current_covenant
from engine.errors import NotFoundError, PermissionDeniedError
from engine.models import Case, CaseDiagnostic, CaseEvent, Role

MAX_DETAIL_CHARS = 4000


def record(session: Session, case: Case, *, element: str | None, exception: str, detail: str,
           now: datetime) -> CaseDiagnostic:
    """Keep the full text of an error next to the case (in the caller's transaction)."""
    categories: set[str | None] = set()
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.data.is_not(None))):
        known = event.categories or {}
        categories |= {known.get(key) for key in event.data or {}}
    row = CaseDiagnostic(case_id=case.id, at=now, element_id=element, exception=exception[:100],
                         detail=detail[:MAX_DETAIL_CHARS],
                         categories=sorted(c for c in categories if c) + ([None] if None in categories else []))
    session.add(row)
    return row


def forget(session: Session, case_id: int) -> None:
    """Remove a case's diagnostics (they may hold personal data), e.g. when the case is destroyed."""
    session.execute(delete(CaseDiagnostic).where(CaseDiagnostic.case_id == case_id))


@dataclass(frozen=True)
class Diagnostic:
    at: datetime
    element: str | None
    exception: str
    detail: str | None  # None: withheld from this reader
    withheld_categories: list[str]


def may_diagnose(actor: Actor) -> bool:
    return actor.has(Role.PROCESS_OWNER) or actor.has(Role.COORDINATOR)


def read(session: Session, actor: Actor, case_id: int) -> tuple[list[Diagnostic], audit.Access]:
    """A case's diagnostics as this reader may see them, newest first, with the access to log
    (the caller logs it before the result leaves the server)."""
    if not may_diagnose(actor):
        raise PermissionDeniedError("Only a process owner or the coordinator reads a case's diagnostics.")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("There is no such case.")
    covenant = current_covenant(session)
    kind = actor.organisation_kind
    rows = session.scalars(select(CaseDiagnostic).where(CaseDiagnostic.case_id == case_id)
                           .order_by(CaseDiagnostic.at.desc(), CaseDiagnostic.id.desc()))
    result, disclosed = [], set()
    for row in rows:
        denied = [c if c is not None else "(zonder categorie)" for c in row.categories
                  if not covenant.may_read(kind, c)]
        if not denied:
            disclosed |= set(row.categories)
        result.append(Diagnostic(row.at, row.element_id, row.exception, None if denied else row.detail, denied))
    access = audit.Access("read", "diagnose procesfout", case.id, case.subject if disclosed else None,
                          tuple(sorted(disclosed)), ("foutdetail",) if disclosed else ())
    return result, access
