"""The lead-time report computed in the database gives exactly the figures of the Python
computation it replaced, on a seeded set of stage periods."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select, update

from api.extensions import db
from engine import lead_times
from engine.clock import utcnow
from engine.models import Case, CaseStagePeriod, CaseStatus


def _python_report(session, *, since=None):
    """The computation as it was: every period read, durations and percentiles in Python."""
    finished = (select(CaseStagePeriod.stage, CaseStagePeriod.entered_at, CaseStagePeriod.left_at, Case.opened_at)
                .join(Case, Case.id == CaseStagePeriod.case_id).where(CaseStagePeriod.left_at.is_not(None)))
    if since is not None:
        finished = finished.where(CaseStagePeriod.left_at >= since)
    durations, offsets = defaultdict(list), defaultdict(list)
    for stage, entered_at, left_at, opened_at in session.execute(finished):
        durations[stage].append((left_at - entered_at).total_seconds() / lead_times.DAY_SECONDS)
        offsets[stage].append((entered_at - opened_at).total_seconds())
    open_by_stage = defaultdict(int)
    for stage, entered_at, opened_at in session.execute(
        select(CaseStagePeriod.stage, CaseStagePeriod.entered_at, Case.opened_at)
        .join(Case, Case.id == CaseStagePeriod.case_id)
        .where(CaseStagePeriod.left_at.is_(None), Case.status.in_(lead_times.OPEN_STATUSES))
    ):
        open_by_stage[stage] += 1
        offsets[stage].append((entered_at - opened_at).total_seconds())
    order = sorted(offsets, key=lambda s: (statistics.median(offsets[s]), s))
    return [(s, len(durations.get(s, [])), _r(lead_times.percentile(durations.get(s, []), 50)),
             _r(lead_times.percentile(durations.get(s, []), 80)), open_by_stage.get(s, 0)) for s in order]


def _r(value):
    return round(value, 2) if value is not None else None


def test_lead_times_in_sql_equal_the_python_computation(world):
    world.deploy("wacht")
    case_ids = [world.start("wacht", wachttijd="PT1H") for _ in range(6)]
    rng = random.Random(12)
    now = utcnow()
    stages = ["intake", "onderzoek", "toets", "casusoverleg", "regie", "afsluiten"]
    for n, case_id in enumerate(case_ids):
        opened = now - timedelta(days=rng.uniform(20, 400), microseconds=rng.randrange(10**6))
        status = CaseStatus.COMPLETED if n == 0 else CaseStatus.ACTIVE
        db.session.execute(update(Case).where(Case.id == case_id).values(opened_at=opened, status=status))
        moment = opened
        for index in range(rng.randrange(20, 60)):
            entered = moment
            moment = entered + timedelta(seconds=rng.uniform(60, 40 * 86400), microseconds=rng.randrange(10**6))
            if index % 7 == 3:
                moment = entered + timedelta(days=2)  # equal durations: ties in the ranking
            db.session.add(CaseStagePeriod(case_id=case_id, stage=rng.choice(stages), entered_at=entered,
                                           left_at=moment))
        db.session.add(CaseStagePeriod(case_id=case_id, stage=rng.choice(stages[:5]), entered_at=moment,
                                       left_at=None))
    db.session.add(CaseStagePeriod(case_id=case_ids[1], stage="alleen open", entered_at=now, left_at=None))
    db.session.commit()

    for since in (None, now - timedelta(days=100)):
        report = lead_times.lead_time_report(db.session, now=now, since=since)
        computed = [(s.stage, s.finished_periods, s.median_days, s.p80_days, s.open_cases) for s in report.stages]
        assert computed == _python_report(db.session, since=since)
        assert any(s.finished_periods > 10 for s in report.stages)
        assert ("alleen open", 0, None, None, 1) in computed
