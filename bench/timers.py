"""Timer benchmarks: fire N due timers with one and with three sweeper processes; lateness of fires
relative to the sweep interval. Run by `make bench` after the engine benchmarks."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine

ROOT = Path(__file__).resolve().parent.parent
WACHT = (ROOT / "tests" / "fixtures" / "timers" / "wacht.bpmn").read_bytes()



def prepare(url: str, count: int, *, due_in: list[float] | None = None) -> None:
    """A fresh database with `count` cases waiting on a timer. One case is run through the engine;
    the others are copies of its rows (same saved state), which is what a real start would write.
    `due_in` gives each copy's due time in seconds from now (default: all due an hour ago)."""
    from flask_migrate import upgrade

    from api import create_app
    from api.extensions import db
    from bench import world
    from engine import cases
    from engine.clock import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    with app.app_context():
        upgrade()
        session = db.session
        actor = world.seed(session, diagram=WACHT, filename="wacht.bpmn")
        with time_machine.travel(utcnow() - timedelta(hours=2), tick=False):
            case_id = cases.start_case(session, process_key="wacht", data={"wachttijd": "PT1H"}, actor=actor).case.id
            session.commit()
        _clone(session, case_id, count - 1, due_in)
        session.commit()
        db.engine.dispose()


def _clone(session: Any, case_id: int, copies: int, due_in: list[float] | None) -> None:
    from engine.clock import utcnow
    from engine.models import Case, CaseParticipant, CaseRoleAssignment, Timer

    case = session.get(Case, case_id)
    timer = session.scalar(sa.select(Timer).where(Timer.case_id == case_id))
    participant = session.scalar(sa.select(CaseParticipant).where(CaseParticipant.case_id == case_id))
    role = session.scalar(sa.select(CaseRoleAssignment).where(CaseRoleAssignment.case_id == case_id))
    columns = [c.key for c in Case.__table__.columns if c.key not in ("id", "reference")]
    base = {c: getattr(case, c) for c in columns}
    first = session.scalar(sa.select(sa.func.max(Case.id))) + 1
    now = utcnow()
    case_rows, timer_rows, participant_rows, role_rows = [], [], [], []
    for n in range(copies):
        new_id = first + n
        due = now + timedelta(seconds=due_in[n]) if due_in else timer.due_at
        case_rows.append({**base, "id": new_id, "reference": f"WO-BENCH-{new_id:06d}", "next_timer_at": due})
        timer_rows.append({"case_id": new_id, "task_id": timer.task_id, "element_id": timer.element_id,
                           "title": timer.title, "due_at": due, "status": timer.status})
        participant_rows.append({"case_id": new_id, "organisation_id": participant.organisation_id,
                                 "since": participant.since, "reason": participant.reason})
        role_rows.append({"case_id": new_id, "case_role": role.case_role, "organisation_id": role.organisation_id,
                          "assigned_at": role.assigned_at})
    for model, rows in ((Case, case_rows), (Timer, timer_rows), (CaseParticipant, participant_rows),
                        (CaseRoleAssignment, role_rows)):
        for start in range(0, len(rows), 2000):
            session.execute(sa.insert(model), rows[start:start + 2000])


def sweepers(url: str, n: int, *, once: bool = True, interval: float = 2.0) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "DATABASE_URL": url, "DEPLOY_PROCESSES_ON_START": "0", "TIMER_SWEEP_SECONDS": str(interval)}
    command = [sys.executable, "-m", "flask", "--app", "api", "timers"] + (["--once"] if once else [])
    return [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def fired_stats(url: str) -> tuple[int, int, list[float]]:
    from engine.models import Timer

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        fired = conn.execute(sa.text("select count(*) from timers where status = 'fired'")).scalar_one()
        events = conn.execute(sa.text("select count(*) from case_events where kind = 'timer_fired'")).scalar_one()
        table = Timer.__table__
        rows = conn.execute(sa.select(table.c.due_at, table.c.fired_at).where(table.c.status == "fired")).all()
    engine.dispose()
    return fired, events, [(f - d).total_seconds() for d, f in rows]


def fire_all(url_factory: Any, count: int, processes: int) -> dict[str, float]:
    url, drop = url_factory()
    try:
        prepare(url, count)
        start = time.perf_counter()
        for process in sweepers(url, processes):
            process.wait()
        elapsed = time.perf_counter() - start
        fired, events, _ = fired_stats(url)
    finally:
        drop()
    return {"seconds": elapsed, "fired": fired, "events": events, "per_second": fired / elapsed}


def lateness(url_factory: Any, count: int, interval: float, spread: float) -> dict[str, float]:
    """Timers falling due over `spread` seconds, one continuous sweeper ticking every `interval`."""
    url, drop = url_factory()
    try:
        due_in = [5 + spread * i / count for i in range(count - 1)]
        prepare(url, count, due_in=due_in)
        [process] = sweepers(url, 1, once=False, interval=interval)
        try:
            deadline = time.monotonic() + 5 + spread + 4 * interval + 30
            while time.monotonic() < deadline:
                fired, _, _ = fired_stats(url)
                if fired >= count:
                    break
                time.sleep(0.5)  # a benchmark watching a real process, not a test waiting for a timer
        finally:
            process.terminate()
            process.wait()
        fired, _, late = fired_stats(url)
    finally:
        drop()
    late = sorted(late[1:]) if len(late) > 1 else late  # the engine-made case was due long before
    return {"fired": fired, "median_s": statistics.median(late), "p95_s": late[int(0.95 * (len(late) - 1))],
            "max_s": late[-1], "interval_s": interval}
