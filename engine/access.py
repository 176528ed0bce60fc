"""Who may see a case: the coordinator (and admin) all of them, other organisations only
the cases they take part in (need-to-know)."""

from __future__ import annotations

from sqlalchemy import Select, exists
from sqlalchemy.orm import Session

from engine.accounts import Actor
from engine.models import Case, CaseParticipant, Role


def sees_all_cases(actor: Actor) -> bool:
    return actor.has(Role.COORDINATOR)


def is_participant(session: Session, actor: Actor, case_id: int) -> bool:
    return session.get(CaseParticipant, (case_id, actor.organisation_id)) is not None


def can_see_case(session: Session, actor: Actor, case: Case) -> bool:
    return sees_all_cases(actor) or is_participant(session, actor, case.id)


def visible_cases(actor: Actor, query: Select[tuple[Case]]) -> Select[tuple[Case]]:
    """Restrict a case query to what the actor may see."""
    if sees_all_cases(actor):
        return query
    return query.where(
        exists().where(CaseParticipant.case_id == Case.id, CaseParticipant.organisation_id == actor.organisation_id)
    )

