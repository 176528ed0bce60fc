"""Lead times: how long cases spend in each stage, and how many open cases are older than the
6 to 9 months a joint approach should take (the headline figure of the covenant)."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, cast, func, literal, or_, select, union_all
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
    given), in days; stages in the order cases usually reach them (the median time from opening
    to entering them). Computed in the database: per stage a handful of numbers comes back,
    not every period."""
    finished = (
        select(CaseStagePeriod.stage.label("stage"), CaseStagePeriod.entered_at.label("entered_at"),
               CaseStagePeriod.left_at.label("left_at"), Case.opened_at.label("opened_at"))
        .join(Case, Case.id == CaseStagePeriod.case_id)
        .where(CaseStagePeriod.left_at.is_not(None))
    )
    if since is not None:
        finished = finished.where(CaseStagePeriod.left_at >= since)
    current = (
        select(CaseStagePeriod.stage.label("stage"), CaseStagePeriod.entered_at.label("entered_at"),
               Case.opened_at.label("opened_at"))
        .join(Case, Case.id == CaseStagePeriod.case_id)
        .where(CaseStagePeriod.left_at.is_(None), Case.status.in_(OPEN_STATUSES))
    )
    figures = _percentiles_postgres if session.get_bind().dialect.name == "postgresql" else _percentiles_exact
    f, c = finished.subquery(), current.subquery()
    days = figures(session, f.c.stage, _days(session, f.c.left_at, f.c.entered_at), source=f, percents=(50, 80))
    both = union_all(
        select(f.c.stage, _days(session, f.c.entered_at, f.c.opened_at).label("value")),
        select(c.c.stage, _days(session, c.c.entered_at, c.c.opened_at).label("value")),
    ).subquery()
    offsets = figures(session, both.c.stage, both.c.value, source=both, percents=(50,))
    open_by_stage: dict[str, int] = {
        stage: count for stage, count in session.execute(select(c.c.stage, func.count()).group_by(c.c.stage))
    }
    stages = sorted(offsets, key=lambda s: (offsets[s][1][0], s))
    return LeadTimeReport(
        generated_at=now,
        stages=[_stage_of(s, days.get(s), open_by_stage.get(s, 0)) for s in stages],
        open_cases=_open_cases(session),
        open_older_than_6_months=_open_cases(session, opened_before=months_before(now, 6)),
        open_older_than_9_months=_open_cases(session, opened_before=months_before(now, 9)),
    )


Figures = dict[str, tuple[int, list[float]]]  # stage -> (count, a percentile per requested percent)


def _days(session: Session, later: Any, earlier: Any) -> Any:
    """`later - earlier` in days, as `(later - earlier).total_seconds() / DAY_SECONDS` in Python:
    exact seconds (microseconds as an integer) made a double, then divided."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = cast(func.extract("epoch", later - earlier), Float)
    else:  # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds and microseconds, as integers
        seconds = (_micros(later) - _micros(earlier)) / literal(1_000_000.0)
    return seconds / literal(float(DAY_SECONDS))


def _micros(column: Any) -> Any:
    whole = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return whole * 1_000_000 + cast(func.substr(column, 21, 6), Integer)


def _percentiles_postgres(session: Session, stage: Any, seconds: Any, *, source: Any,
                          percents: tuple[int, ...]) -> Figures:
    ordered = [func.percentile_cont(p / 100).within_group(seconds) for p in percents]
    rows = session.execute(select(stage, func.count(), *ordered).select_from(source).group_by(stage))
    return {row[0]: (row[1], list(row[2:])) for row in rows}


def _percentiles_exact(session: Session, stage: Any, seconds: Any, *, source: Any,
                       percents: tuple[int, ...]) -> Figures:
    """The same interpolation as percentile_cont, for databases without it: the database ranks the
    values per stage and returns only the rows the percentiles interpolate between."""
    ranked = select(
        stage.label("stage"), seconds.label("value"),
        func.row_number().over(partition_by=stage, order_by=seconds).label("rn"),
        func.count().over(partition_by=stage).label("n"),
    ).select_from(source).subquery()
    wanted = []
    for p in percents:
        lower = (ranked.c.n - 1) * p // 100 + 1  # integer division: the rank below the position
        wanted += [ranked.c.rn == lower, ranked.c.rn == lower + 1]
    rows = session.execute(select(ranked.c.stage, ranked.c.n, ranked.c.rn, ranked.c.value).where(or_(*wanted)))
    by_stage: dict[str, tuple[int, dict[int, float]]] = {}
    for name, n, rn, value in rows:
        by_stage.setdefault(name, (n, {}))[1][rn - 1] = value
    out: Figures = {}
    for name, (n, values) in by_stage.items():
        out[name] = (n, [_interpolate(n, p, values) for p in percents])
    return out


def _interpolate(n: int, percent: float, at: dict[int, float]) -> float:
    position = (n - 1) * percent / 100
    lower = int(position)
    upper = min(lower + 1, n - 1)
    return at[lower] + (at[upper] - at[lower]) * (position - lower)


def _stage_of(stage: str, figures: tuple[int, list[float]] | None, open_cases: int) -> StageLeadTime:
    if figures is None:
        return StageLeadTime(stage, 0, None, None, open_cases)
    count, (median, p80) = figures
    return StageLeadTime(stage, count, _round(median), _round(p80), open_cases)


def percentile(values: Iterable[float], percent: float) -> float | None:
    """Linear interpolation between the nearest ranks, as PostgreSQL's percentile_cont does (in
    Python, for figures computed outside the database)."""
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
