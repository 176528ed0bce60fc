"""Sweeper tick cost against the size of the archive: one tick with 100 closed cases and with
10,000 (target: at most 1.2x). Medians over repeated ticks. Runs alone or from `python -m bench`:
    python -m bench.retention [--quick] [--no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine

ROOT = Path(__file__).resolve().parent.parent
WACHT = (ROOT / "tests" / "fixtures" / "timers" / "wacht.bpmn").read_bytes()
SIZES = (100, 10_000)
# The archive as it looks after some years, per 20 closed cases: 1 past its period and proposed
# (awaiting the coordinator), 6 destroyed after approval, 13 inside their retention period.


def prepare(url: str, count: int) -> None:
    """A migrated database with `count` closed cases: one run through the engine, the rest copies of
    its rows (saved state, work items, history, timers, stage periods) as the engine writes them."""
    from flask_migrate import upgrade

    from api import create_app
    from api.extensions import db
    from bench import world
    from engine import cases, timers, work_items
    from engine.clock import utcnow
    from engine.models import WorkItem, WorkItemStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    with app.app_context():
        upgrade()
        session = db.session
        actor = world.seed(session, diagram=WACHT, filename="wacht.bpmn")
        with time_machine.travel(utcnow() - timedelta(days=400), tick=False) as clock:
            case_id = cases.start_case(session, process_key="wacht", data={"wachttijd": "PT1H"}, actor=actor).case.id
            session.commit()
            clock.shift(timedelta(hours=2))
            timers.sweep(lambda: sa.orm.Session(db.engine))
            session.expire_all()
            item_id = session.scalar(sa.select(WorkItem.id).where(WorkItem.case_id == case_id,
                                                                   WorkItem.status == WorkItemStatus.OPEN))
            work_items.complete(session, actor, item_id, {"resultaat": "overlast_beeindigd"})
            session.commit()
        _clone(session, case_id, count - 1)
        session.commit()
        db.engine.dispose()


def _clone(session: Any, case_id: int, copies: int) -> None:
    from engine.clock import utcnow
    from engine.models import Case, CaseEvent, CaseParticipant, CaseRoleAssignment, CaseStagePeriod, Timer, WorkItem
    from engine.retention import DestructionProposal, ProposalStatus

    def rows_of(model: Any) -> list[dict[str, Any]]:
        table = model.__table__
        found = session.execute(sa.select(table).where(table.c.case_id == case_id)).mappings().all()
        return [{k: v for k, v in row.items() if k != "id"} for row in found]

    case_row = dict(session.execute(sa.select(Case.__table__).where(Case.id == case_id)).mappings().one())
    children = {model: rows_of(model) for model in (WorkItem, Timer, CaseEvent, CaseParticipant, CaseRoleAssignment,
                                                     CaseStagePeriod)}
    first = session.scalar(sa.select(sa.func.max(Case.id))) + 1
    now = utcnow()
    batch: dict[Any, list[dict[str, Any]]] = {model: [] for model in (Case, *children, DestructionProposal)}

    def flush() -> None:
        for model, rows in batch.items():
            if rows:
                session.execute(sa.insert(model), rows)
                rows.clear()

    for n in range(copies):
        new_id = first + n
        kind = n % 20
        closed = now - timedelta(days=(3 * 365 if kind == 0 else 4 * 365 if kind <= 6 else 0) + n % 365)
        row = {**case_row, "id": new_id, "reference": f"WO-BENCH-{new_id:06d}", "closed_at": closed,
               "opened_at": closed - timedelta(days=30), "last_activity_at": closed}
        if 1 <= kind <= 6:
            row.update(title="[vernietigd]", subject=None, state={}, destroyed_at=closed + timedelta(days=740))
        batch[Case].append(row)
        for model, rows in children.items():
            batch[model].extend({**child, "case_id": new_id} for child in rows)
        if kind <= 6:
            batch[DestructionProposal].append({
                "case_id": new_id, "proposed_at": closed + timedelta(days=731),
                "due_since": closed + timedelta(days=730),
                "status": ProposalStatus.PROPOSED if kind == 0 else ProposalStatus.APPROVED,
            })
        if len(batch[Case]) >= 500:
            flush()
    flush()


def tick_costs(urls: list[str], repeat: int) -> list[float]:
    """Median seconds of one sweeper tick (timers, escalation, retention, outbox) per database.

    Ticks alternate between the databases, so load from other processes on a shared machine
    falls on each alike; the ratio is what counts."""
    from api import create_app
    from api.extensions import db
    from engine import notifications, watch

    smtp = notifications.SmtpSettings(host=None)
    engines = []
    for url in urls:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
        with app.app_context():
            engines.append(db.engine)
    for engine in engines:  # the first tick proposes what is due; after it, the steady state
        watch.tick(lambda engine=engine: sa.orm.Session(engine), smtp)
    samples: list[list[float]] = [[] for _ in engines]
    for _ in range(repeat):
        for engine, own in zip(engines, samples, strict=True):
            start = time.perf_counter()
            watch.tick(lambda engine=engine: sa.orm.Session(engine), smtp)
            own.append(time.perf_counter() - start)
    for engine in engines:
        engine.dispose()
    return [statistics.median(own) for own in samples]


def run(url_factories: dict[str, Callable[[], tuple[str, Callable[[], None]]]], repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    print(f"\n| database | tick, {SIZES[0]} closed cases | tick, {SIZES[1]} closed cases | ratio (target <= 1.2) |")
    print("|---|---|---|---|")
    for name, factory in url_factories.items():
        made = [factory() for _ in SIZES]
        try:
            for (url, _), size in zip(made, SIZES, strict=True):
                prepare(url, size)
            small, large = tick_costs([url for url, _ in made], repeat)
        finally:
            for _, drop in made:
                drop()
        out[name] = {"small_ms": small * 1000, "large_ms": large * 1000, "ratio": large / small}
        print(f"| {name} | {small * 1000:.1f} ms | {large * 1000:.1f} ms | {large / small:.2f}x |")
    return out


def factories(postgres: bool) -> dict[str, Callable[[], tuple[str, Callable[[], None]]]]:
    from bench.__main__ import postgres_url

    def sqlite_url() -> tuple[str, Callable[[], None]]:
        directory = tempfile.mkdtemp()
        return f"sqlite:///{directory}/retention.sqlite3", lambda: None

    found: dict[str, Callable[[], tuple[str, Callable[[], None]]]] = {"SQLite": sqlite_url}
    probe = postgres_url() if postgres else None
    if probe is not None:
        probe[1]()
        found["PostgreSQL"] = postgres_url  # type: ignore[dict-item]
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    run(factories(not args.no_postgres), 9 if args.quick else 41)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
