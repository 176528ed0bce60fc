"""Lead times: how long cases spend in each stage, and how many open cases are older than the
6 to 9 months a joint approach should take (the headline figure of the covenant)."""

from __future__ import annotations

import statistics
from calendar import monthrange
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import Case, CaseStagePeriod, CaseStatus

OPEN_STATUSES = (CaseStatus.ACTIVE, CaseStatus.SUSPENDED, CaseStatus.ERROR)
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class StageLeadTime:
    stage: str
    finished_periods: int  # how many times a case left this stage (the durations below)
    median_days: float | None
    p80_days: float | None
    open_cases: int  # open cases in this stage right now


@dataclass(frozen=True)
class LeadTimeReport:
    generated_at: datetime
    stages: list[StageLeadTime]
    open_cases: int
    open_older_than_6_months: int
    open_older_than_9_months: int


def lead_time_report(session: Session, *, now: datetime, since: datetime | None = None) -> LeadTimeReport:
    """Per stage the median and 80th percentile of the finished periods (left after `since`, if
    given), in days; stages in the order cases usually reach them."""
    finished = (
        select(CaseStagePeriod.stage, CaseStagePeriod.entered_at, CaseStagePeriod.left_at, Case.opened_at)
        .join(Case, Case.id == CaseStagePeriod.case_id)
        .where(CaseStagePeriod.left_at.is_not(None))
    )
    if since is not None:
        finished = finished.where(CaseStagePeriod.left_at >= since)
    durations: dict[str, list[float]] = defaultdict(list)
    offsets: dict[str, list[float]] = defaultdict(list)
    for stage, entered_at, left_at, opened_at in session.execute(finished):
        if left_at is None:
            continue  # (the query leaves these out already)
        durations[stage].append((left_at - entered_at).total_seconds() / DAY_SECONDS)
        offsets[stage].append((entered_at - opened_at).total_seconds())
    current = session.execute(
        select(CaseStagePeriod.stage, CaseStagePeriod.entered_at, Case.opened_at)
        .join(Case, Case.id == CaseStagePeriod.case_id)
        .where(CaseStagePeriod.left_at.is_(None), Case.status.in_(OPEN_STATUSES))
    ).all()
    open_by_stage: dict[str, int] = defaultdict(int)
    for stage, entered_at, opened_at in current:
        open_by_stage[stage] += 1
        offsets[stage].append((entered_at - opened_at).total_seconds())
    stages = sorted(offsets, key=lambda s: (statistics.median(offsets[s]), s))
    return LeadTimeReport(
        generated_at=now,
        stages=[_stage(s, durations.get(s, []), open_by_stage.get(s, 0)) for s in stages],
        open_cases=_open_cases(session),
        open_older_than_6_months=_open_cases(session, opened_before=months_before(now, 6)),
        open_older_than_9_months=_open_cases(session, opened_before=months_before(now, 9)),
    )


def _stage(stage: str, days: list[float], open_cases: int) -> StageLeadTime:
    return StageLeadTime(stage, len(days), _round(percentile(days, 50)), _round(percentile(days, 80)), open_cases)


def percentile(values: Iterable[float], percent: float) -> float | None:
    """Linear interpolation between the nearest ranks, as PostgreSQL's percentile_cont does."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * percent / 100
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _open_cases(session: Session, *, opened_before: datetime | None = None) -> int:
    query = select(func.count(Case.id)).where(Case.status.in_(OPEN_STATUSES))
    if opened_before is not None:
        query = query.where(Case.opened_at < opened_before)
    return session.scalar(query) or 0


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))
