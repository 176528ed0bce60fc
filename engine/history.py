"""The append-only case history: who did what, on behalf of which organisation, when, with which data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import paging
from engine.accounts import Actor
from engine.models import Case, CaseEvent


def record(
    session: Session,
    case: Case,
    kind: str,
    summary: str,
    *,
    at: datetime,
    actor: Actor | None = None,
    element_id: str | None = None,
    work_item_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=at,
        kind=kind,
        summary=summary[:500],
        actor_user_id=actor.user_id if actor else None,
        actor_organisation_id=actor.organisation_id if actor else None,
        element_id=element_id,
        work_item_id=work_item_id,
        # A deep copy via dict(): the stored record never shares objects with the workflow's data.
        data=_copy(data) if data is not None else None,
    )
    session.add(event)
    return event


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


def events_of(session: Session, case_id: int) -> list[CaseEvent]:
    """The whole history, oldest first (reports and exports; pages use `page` or `newest_page`)."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


PAGE_SIZE = 50


def page(session: Session, case_id: int, *, after: str | None = None, limit: int = PAGE_SIZE) -> list[CaseEvent]:
    """Events oldest first, starting after the event `after` (a `cursor`) points to."""
    limit = max(1, min(limit, paging.MAX_LIMIT))
    query = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if after:
        (last_id,) = paging.decode(after, (int,))
        query = query.where(CaseEvent.id > last_id)
    return list(session.scalars(query.order_by(CaseEvent.case_id, CaseEvent.id).limit(limit)))


def cursor(event: CaseEvent) -> str:
    return paging.encode(event.id)


@dataclass(frozen=True)
class NewestPage:
    events: list[CaseEvent]  # oldest first
    earlier: bool  # whether older events exist (read them with `page`)


def newest_page(session: Session, case_id: int, *, limit: int = PAGE_SIZE) -> NewestPage:
    """The newest `limit` events, so a case page costs the same however long its history is."""
    rows = list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.case_id.desc(), CaseEvent.id.desc()).limit(limit + 1)
    ))
    return NewestPage(rows[:limit][::-1], len(rows) > limit)


def first_event(session: Session, case_id: int) -> CaseEvent | None:
    """The case's first event: its start, with the data the melder submitted."""
    return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                           .order_by(CaseEvent.case_id, CaseEvent.id).limit(1)).first()


def elements_passed(session: Session, case_id: int, kinds: tuple[str, ...]) -> set[str]:
    """Diagram elements with an event of one of `kinds`, over the whole history."""
    return set(session.scalars(
        select(CaseEvent.element_id).where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(kinds),
                                           CaseEvent.element_id.is_not(None)).distinct()
    ))
