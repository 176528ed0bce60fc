"""The append-only case history: who did what, on behalf of which organisation, when, with which data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
