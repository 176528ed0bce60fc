"""Read-only figures for overviews: inbox counts, stages in use, the coordinator's dashboard, accounts.

Every function reads; none writes or commits. The dashboard is for whoever sees all cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, lazyload, load_only

from engine import access
from engine.accounts import Actor
from engine.errors import PermissionDeniedError
from engine.lead_times import OPEN_STATUSES, months_before
from engine.models import Case, CaseStatus, Organisation, ProcessVersion, User, WorkItem, WorkItemStatus

# The covenant's promise: steps within 6 to 9 months (DOMAIN.md). Cases open longer are listed.
LONG_OPEN_MONTHS = 6
MAX_LISTED_CASES = 50


@dataclass(frozen=True)
class InboxCounts:
    all: int
    mine: int
    unclaimed: int
    overdue: int


@dataclass(frozen=True)
class OrganisationWork:
    organisation: str
    open: int
    overdue: int


@dataclass(frozen=True)
class Overview:
    cases_in_error: int
    per_stage: list[tuple[str | None, int]]
    work_per_organisation: list[OrganisationWork]
    long_open: list[Case]  # open for longer than the covenant's 6 months, oldest first


def inbox_counts(session: Session, actor: Actor, *, now: datetime) -> InboxCounts:
    """How many open items the actor's organisation has: all, claimed by the actor, unclaimed, overdue."""
    row = session.execute(
        select(
            func.count(),
            func.count(case((WorkItem.claimed_by_id == actor.user_id, 1))),
            func.count(case((WorkItem.claimed_by_id.is_(None), 1))),
            func.count(case((WorkItem.due_at < now, 1))),
        ).where(WorkItem.organisation_id == actor.organisation_id, WorkItem.status == WorkItemStatus.OPEN)
    ).one()
    return InboxCounts(*row)


def case_stages(session: Session, actor: Actor) -> list[str]:
    """The stages the actor's visible cases are in, for a filter."""
    query: Select[tuple[Case]] = access.visible_cases(actor, select(Case))
    visible = query.subquery()
    stages = session.scalars(select(visible.c.stage).where(visible.c.stage.is_not(None)).distinct())
    return sorted(stages)


def overview(session: Session, actor: Actor, *, now: datetime) -> Overview:
    """Cases per stage, open and overdue work per organisation, and the cases open past 6 months.

    How many cases are past 6 and 9 months, and the lead times per stage, are in engine/lead_times.py.
    """
    _check(actor)
    is_open = Case.status.in_(OPEN_STATUSES)
    in_error = session.scalar(select(func.count()).where(Case.status == CaseStatus.ERROR)) or 0
    per_stage = [
        (stage, count) for stage, count in session.execute(
            select(Case.stage, func.count()).where(is_open).group_by(Case.stage).order_by(func.count().desc(),
                                                                                         Case.stage)
        )
    ]
    work = [
        OrganisationWork(name, total, overdue) for name, total, overdue in session.execute(
            select(Organisation.name, func.count(), func.count(case((WorkItem.due_at < now, 1))))
            .join(WorkItem, WorkItem.organisation_id == Organisation.id)
            .where(WorkItem.status == WorkItemStatus.OPEN)
            .group_by(Organisation.name)
            .order_by(func.count(case((WorkItem.due_at < now, 1))).desc(), Organisation.name)
        )
    ]
    long_open = list(session.scalars(
        select(Case).where(is_open, Case.opened_at < months_before(now, LONG_OPEN_MONTHS))
        .options(load_only(Case.id, Case.reference, Case.title, Case.stage, Case.status, Case.opened_at,
                           Case.lock_version), lazyload(Case.process_version))
        .order_by(Case.opened_at, Case.id).limit(MAX_LISTED_CASES)
    ))
    return Overview(in_error, per_stage, work, long_open)


def waiting_per_element(session: Session, actor: Actor, process_key: str) -> dict[str, int]:
    """Open work items per BPMN element id over all versions of a process: where cases wait."""
    _check(actor)
    rows = session.execute(
        select(WorkItem.element_id, func.count())
        .join(Case, Case.id == WorkItem.case_id)
        .join(ProcessVersion, ProcessVersion.id == Case.process_version_id)
        .where(ProcessVersion.process_key == process_key, WorkItem.status == WorkItemStatus.OPEN)
        .group_by(WorkItem.element_id)
    )
    return {element: count for element, count in rows}


def _check(actor: Actor) -> None:
    if not access.sees_all_cases(actor):
        raise PermissionDeniedError("Only the coordinator sees the dashboard.")


def organisations_with_users(session: Session) -> list[tuple[Organisation, list[User]]]:
    """Every organisation with its users, by name: the administrator's overview of accounts."""
    users = session.scalars(select(User).order_by(User.username))
    by_organisation: dict[int, list[User]] = {}
    for user in users:
        by_organisation.setdefault(user.organisation_id, []).append(user)
    organisations = session.scalars(select(Organisation).order_by(Organisation.name))
    return [(organisation, by_organisation.get(organisation.id, [])) for organisation in organisations]
