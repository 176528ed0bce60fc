"""`make bench`: the engine's hot paths beside raw SpiffWorkflow doing the same engine step, in one run.

Figures are medians over repeated runs; ratios against the raw baseline measured in the same run
matter more than absolute times on a shared, noisy machine. Usage:
    python -m bench            # engine benchmarks on SQLite (and PostgreSQL when reachable)
    python -m bench --quick    # fewer repetitions, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).parent
DIAGRAM = (HERE / "loop.bpmn").read_bytes()
PROCESS = "bench_evaluatie"
# Each round executes the user task and the gateway. Raw SpiffWorkflow silently stalls at round 500
# (task-tree depth 1000), so both sides stop at 490 rounds: ~980 executed tasks.
OLD_ROUNDS = 490



def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# Raw SpiffWorkflow, in memory: the baseline
# ---------------------------------------------------------------------------------------------

def raw_baseline(repeat: int) -> dict[str, float]:
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_str(DIAGRAM)
    spec, subs = parser.get_spec(PROCESS), parser.get_subprocess_specs(PROCESS)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def start() -> Any:
        workflow = BpmnWorkflow(spec, subs)
        workflow.do_engine_steps()
        return workflow

    def step(blob: str) -> str:
        workflow = serializer.deserialize_json(blob)
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data["opgelost"] = False
        task.run()
        workflow.do_engine_steps()
        return str(serializer.serialize_json(workflow))

    young = serializer.serialize_json(start())
    old = young
    for _ in range(OLD_ROUNDS):
        old = step(old)
    executed = sum(1 for t in serializer.deserialize_json(old).get_tasks() if t.state == TaskState.COMPLETED)
    return {
        "start_ms": median_ms([timed(start) for _ in range(repeat)]),
        "complete_young_ms": median_ms([timed(lambda: step(young)) for _ in range(repeat)]),
        "complete_old_ms": median_ms([timed(lambda: step(old)) for _ in range(repeat)]),
        "old_executed_tasks": executed,
        "young_state_bytes": len(young),
        "old_state_bytes": len(old),
    }


# ---------------------------------------------------------------------------------------------
# Ketenregie: the same steps as units of work with a database, committed
# ---------------------------------------------------------------------------------------------

class StatementCounter:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.count += 1


def engine_benchmarks(database_url: str, repeat: int) -> dict[str, float]:
    from flask_migrate import upgrade

    from api import create_app
    from api.extensions import db
    from bench import world
    from engine import cases, work_items
    from engine.models import Case, WorkItem, WorkItemStatus

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "DEPLOY_PROCESSES_ON_START": False,
                      "TESTING": True})
    with app.app_context():
        upgrade()
        session = db.session
        actor = world.seed(session, diagram=DIAGRAM, filename="loop.bpmn")
        counter = StatementCounter(db.engine)

        def start() -> int:
            outcome = cases.start_case(session, process_key=PROCESS, data={}, actor=actor)
            session.commit()
            return outcome.case.id

        def open_item(case_id: int) -> int:
            return session.scalar(sa.select(WorkItem.id).where(WorkItem.case_id == case_id,
                                                                WorkItem.status == WorkItemStatus.OPEN))

        def complete(case_id: int) -> None:
            work_items.complete(session, actor, open_item(case_id), {"opgelost": False})
            session.commit()
            session.expunge_all()  # as a new request would: nothing cached between units of work

        for case_id in [start() for _ in range(3)]:  # warm up SQLAlchemy's statement cache
            complete(case_id)
        start_samples = [timed(start) for _ in range(repeat)]
        young_cases = [start() for _ in range(repeat)]
        before = counter.count
        young_samples = [timed(lambda c=c: complete(c)) for c in young_cases]
        statements_per_completion = (counter.count - before) / len(young_cases)

        old_case = start()
        for _ in range(OLD_ROUNDS):
            complete(old_case)
        old_samples = [timed(lambda: complete(old_case)) for _ in range(repeat)]
        old_state_bytes = len(json.dumps(session.get(Case, old_case).state))
        young_state_bytes = len(json.dumps(session.get(Case, young_cases[0]).state))

        while len(work_items.list_inbox(session, actor, limit=500)) < 50:
            start()

        def inbox() -> None:
            from api import presenters

            items = work_items.list_inbox(session, actor, limit=50)
            [presenters.work_item(i) for i in items]
            session.expunge_all()

        with app.test_request_context():
            inbox_samples = [timed(inbox) for _ in range(repeat)]
        db.session.remove()
        db.engine.dispose()
    return {
        "start_ms": median_ms(start_samples),
        "complete_young_ms": median_ms(young_samples),
        "complete_old_ms": median_ms(old_samples),
        "inbox_50_ms": median_ms(inbox_samples),
        "statements_per_completion": statements_per_completion,
        "young_state_bytes": young_state_bytes,
        "old_state_bytes": old_state_bytes,
    }


def postgres_url() -> tuple[str, Callable[[], None]] | None:
    import os
    import uuid

    admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"ketenregie_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception:
        return None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def report(raw: dict[str, float], ours: dict[str, dict[str, float]]) -> str:
    lines = [
        f"raw SpiffWorkflow {''}(in memory, JSON round trip per step): "
        f"start {raw['start_ms']:.2f} ms, complete young {raw['complete_young_ms']:.2f} ms, "
        f"complete at {raw['old_executed_tasks']} executed tasks {raw['complete_old_ms']:.2f} ms "
        f"(x{raw['complete_old_ms'] / raw['complete_young_ms']:.1f}); state {raw['young_state_bytes']} -> "
        f"{raw['old_state_bytes']} bytes",
        "",
        "| database | start case | complete (young) | complete (~1000 tasks) | old/young | inbox of 50 "
        "| statements/completion | state young -> old (bytes) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in ours.items():
        lines.append(
            f"| {name} | {row['start_ms']:.1f} ms ({row['start_ms'] / raw['start_ms']:.0f}x raw) "
            f"| {row['complete_young_ms']:.1f} ms ({row['complete_young_ms'] / raw['complete_young_ms']:.0f}x raw) "
            f"| {row['complete_old_ms']:.1f} ms ({row['complete_old_ms'] / raw['complete_old_ms']:.1f}x raw) "
            f"| **{row['complete_old_ms'] / row['complete_young_ms']:.2f}x** "
            f"| {row['inbox_50_ms']:.1f} ms | {row['statements_per_completion']:.0f} "
            f"| {row['young_state_bytes']} -> {row['old_state_bytes']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--scale", type=float, default=None,
                        help="fraction of the 30k cases / 100k open items of the scale section (default 1; 0.1 "
                             "with --quick; 0 skips it)")
    parser.add_argument("--no-timers", action="store_true", help="skip the timer section")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 30
    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)

    raw = raw_baseline(repeat)
    ours: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ours["SQLite"] = engine_benchmarks(f"sqlite:///{tmp}/bench.sqlite3", repeat)
    pg = None if args.no_postgres else postgres_url()
    if pg is not None:
        url, drop = pg
        try:
            ours["PostgreSQL"] = engine_benchmarks(url, repeat)
        finally:
            drop()
    print(report(raw, ours))
    print(f"complete in-process vs target: SQLite {ours['SQLite']['complete_young_ms']:.1f} ms "
          f"(target ≤ raw + 5 = {raw['complete_young_ms'] + 5:.1f} ms)"
          + (f", PostgreSQL {ours['PostgreSQL']['complete_young_ms']:.1f} ms (target ≤ raw + 8 = "
             f"{raw['complete_young_ms'] + 8:.1f} ms)" if "PostgreSQL" in ours else ""))
    scale_results = None
    if scale > 0 and not args.no_postgres:
        scale_results = scale_benchmarks(scale, repeat)
    timer_results = None if args.no_timers else timer_benchmarks(count=1000 if args.quick else 10_000,
                                                                 postgres=not args.no_postgres)
    from bench import retention as retention_bench  # imports this module: load it late

    tick_results = retention_bench.run(retention_bench.factories(not args.no_postgres), 9 if args.quick else 41)
    load = os.getloadavg()
    print(f"\nload average (1/5/15 min) at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(
        json.dumps({"raw": raw, "ketenregie": ours, "scale": scale_results, "timers": timer_results,
                    "tick_vs_archive": tick_results, "load_average": load}, indent=2, default=str)
    )
    return 0


def scale_benchmarks(scale: float, repeat: int) -> dict[str, Any] | None:
    from bench import scale as scale_bench

    pg = postgres_url()
    if pg is None:
        print("\nscale section skipped: PostgreSQL not reachable")
        return None
    url, drop = pg
    try:
        return scale_bench.run(url, cases=max(100, int(30_000 * scale)), items=max(300, int(100_000 * scale)),
                               repeat=max(repeat, 20), seconds=5.0 if scale < 1 else 15.0)
    finally:
        drop()


def timer_benchmarks(*, count: int, postgres: bool) -> dict[str, Any]:
    from bench import timers as timer_bench

    def sqlite_url() -> tuple[str, Callable[[], None]]:
        directory = tempfile.mkdtemp()
        return f"sqlite:///{directory}/timers.sqlite3", lambda: None

    factories: dict[str, Callable[[], tuple[str, Callable[[], None]]]] = {"SQLite": sqlite_url}
    probe = postgres_url() if postgres else None
    if probe is not None:
        probe[1]()  # reachable: drop the probe database, then give each run a fresh one
        factories["PostgreSQL"] = postgres_url  # type: ignore[dict-item]
    out: dict[str, Any] = {}
    print(f"\n| database | {count} due timers, 1 sweeper | 3 sweepers | lateness (interval 2 s): median / p95 / max |")
    print("|---|---|---|---|")
    for name, factory in factories.items():
        one = timer_bench.fire_all(factory, count, 1)
        three = timer_bench.fire_all(factory, count, 3)
        late = timer_bench.lateness(factory, 300, interval=2.0, spread=10.0)
        out[name] = {"one": one, "three": three, "lateness": late}
        print(f"| {name} | {one['seconds']:.1f} s ({one['per_second']:.0f}/s; {one['fired']} fired) "
              f"| {three['seconds']:.1f} s ({three['per_second']:.0f}/s; {three['fired']} fired, "
              f"{three['events']} events) | {late['median_s']:.2f} / {late['p95_s']:.2f} / {late['max_s']:.2f} s |")
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
