"""Who may see a case (need-to-know): only case roles grant case data. The coordinator sees every
case, a caseworker the cases their organisation takes part in. Administering accounts (admin) or
diagrams (process owner) is no reason to read a case: those roles see none, whatever else they pass."""

from __future__ import annotations

from sqlalchemy import Select, exists, false
from sqlalchemy.orm import Session

from engine.accounts import Actor
from engine.models import Case, CaseParticipant, Role

# Checked on the roles themselves: Actor.has lets an admin pass every role check, not this one.
CASE_ROLES = frozenset({Role.CASEWORKER, Role.COORDINATOR})


def handles_cases(actor: Actor) -> bool:
    """Does the actor hold a role that works on cases at all?"""
    return bool(CASE_ROLES & actor.roles)


def sees_all_cases(actor: Actor) -> bool:
    return Role.COORDINATOR in actor.roles


def is_participant(session: Session, actor: Actor, case_id: int) -> bool:
    return session.get(CaseParticipant, (case_id, actor.organisation_id)) is not None


def can_see_case(session: Session, actor: Actor, case: Case) -> bool:
    if not handles_cases(actor):
        return False
    return sees_all_cases(actor) or is_participant(session, actor, case.id)


def visible_cases(actor: Actor, query: Select[tuple[Case]]) -> Select[tuple[Case]]:
    """Restrict a case query to what the actor may see."""
    if not handles_cases(actor):
        return query.where(false())
    if sees_all_cases(actor):
        return query
    return query.where(
        exists().where(CaseParticipant.case_id == Case.id, CaseParticipant.organisation_id == actor.organisation_id)
    )
