"""Scale benchmarks: lists, case detail and reports at 30k cases / 100k open work items, and
completions per second over HTTP (gunicorn) with 1, 2, 4 and 8 clients. PostgreSQL only.

How the data is built: a seed set of cases is started and driven through the engine's own paths
(`cases.start_case`, `work_items.complete`); every other case is a copy of one seed case's rows
(case row with its saved state, participants, case roles, history events, stage periods), with
its own id, reference and opening time. Each copy gets open work items copied from the seed's
open item: same element, title, role and form, a fresh task id, spread over four organisations
(24% to the measured one), due dates spread over -30..+60 days (10% none), 2% claimed. The list,
detail and report queries read exactly these columns; the copies' extra items have no READY task
in the saved state, so they are for reading, not completing (completions use fresh cases).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DIAGRAM = (Path(__file__).parent / "loop.bpmn").read_bytes()
PROCESS = "bench_evaluatie"
SEEDS = 20
TARGETS_MS = {"inbox": 20, "case list": 30, "case detail": None, "dashboard": 150, "lead times": 150}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def build(url: str, *, cases: int, items: int) -> dict[str, Any]:
    """Migrate, seed through the engine, bulk-copy to `cases` cases and `items` open work items."""
    from flask_migrate import upgrade

    from api import create_app
    from api.extensions import db
    from bench import world
    from engine import accounts, work_items
    from engine import cases as engine_cases
    from engine.models import (
        Case,
        CaseEvent,
        CaseParticipant,
        CaseRoleAssignment,
        CaseStagePeriod,
        CaseStatus,
        WorkItem,
        WorkItemStatus,
    )

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        session = db.session
        actor = world.seed(session, diagram=DIAGRAM, filename="loop.bpmn")
        others = [accounts.create_organisation(session, name=f"Partner {n}", kind="corporatie").id for n in range(3)]
        session.commit()
        seeds = []
        for n in range(SEEDS):
            case_id = engine_cases.start_case(session, process_key=PROCESS, data={"titel": f"Seed {n}"},
                                              actor=actor).case.id
            session.commit()
            for _ in range(n % 4):  # some history: rounds of the evaluation loop
                item = session.scalar(sa.select(WorkItem.id).where(WorkItem.case_id == case_id,
                                                                   WorkItem.status == WorkItemStatus.OPEN))
                work_items.complete(session, actor, item, {"opgelost": False})
                session.commit()
            seeds.append(case_id)
        session.expunge_all()

        def rows_of(model: Any, case_id: int) -> list[dict[str, Any]]:
            table = model.__table__
            return [dict(r._mapping) for r in session.execute(sa.select(table).where(table.c.case_id == case_id))]

        seed_rows = {}
        for case_id in seeds:
            case_row = dict(session.execute(sa.select(Case.__table__).where(Case.id == case_id)).one()._mapping)
            seed_rows[case_id] = {
                "case": case_row,
                "events": rows_of(CaseEvent, case_id), "participants": rows_of(CaseParticipant, case_id),
                "roles": rows_of(CaseRoleAssignment, case_id), "periods": rows_of(CaseStagePeriod, case_id),
                "item": rows_of(WorkItem, case_id)[-1],
            }
        rng = random.Random(2026)  # noqa: S311 (reproducible spread, not secrets)
        now = seed_rows[seeds[0]]["case"]["opened_at"]
        first = session.scalar(sa.select(sa.func.max(Case.id))) + 1
        copies = cases - SEEDS
        per_case = items / copies
        buffers: dict[Any, list[dict[str, Any]]] = {m: [] for m in (Case, CaseEvent, CaseParticipant,
                                                                     CaseRoleAssignment, CaseStagePeriod, WorkItem)}

        def flush(force: bool = False) -> None:
            if not force and all(len(rows) < 5000 for rows in buffers.values()):
                return
            for model, rows in buffers.items():  # cases first: the others refer to them
                if rows:
                    session.execute(sa.insert(model.__table__), rows)
                    rows.clear()

        made_items = 0
        for n in range(copies):
            seed = seed_rows[seeds[n % SEEDS]]
            new_id = first + n
            shift = -timedelta(days=rng.uniform(0, 730), seconds=rng.uniform(0, 86400))
            closed = rng.random() < 0.2
            case_row = {k: v for k, v in seed["case"].items()}
            case_row.update(id=new_id, reference=f"WO-SCALE-{new_id:06d}", opened_at=case_row["opened_at"] + shift,
                            last_activity_at=case_row["last_activity_at"] + shift)
            if closed:
                case_row.update(status=CaseStatus.COMPLETED, closed_at=case_row["opened_at"] + timedelta(days=90))
            buffers[Case].append(case_row)
            for key, model in (("events", CaseEvent), ("participants", CaseParticipant), ("roles", CaseRoleAssignment),
                               ("periods", CaseStagePeriod)):
                for row in seed[key]:
                    copy = {k: v for k, v in row.items() if k != "id"}
                    copy["case_id"] = new_id
                    for column in ("at", "since", "assigned_at", "entered_at", "left_at"):
                        if copy.get(column) is not None:
                            copy[column] = copy[column] + shift
                    buffers[model].append(copy)
            want = int((n + 1) * per_case) - made_items
            for _ in range(0 if closed else want):
                item = {k: v for k, v in seed["item"].items() if k != "id"}
                roll = rng.random()
                item.update(
                    case_id=new_id, task_id=str(uuid.uuid4()),
                    organisation_id=actor.organisation_id if roll < 0.24 else others[int(roll * 10) % 3],
                    created_at=now + shift, status=WorkItemStatus.OPEN,
                    due_at=None if rng.random() < 0.1 else now + timedelta(days=rng.uniform(-30, 60)),
                    claimed_by_id=actor.user_id if rng.random() < 0.02 else None,
                )
                buffers[WorkItem].append(item)
                made_items += 1
            flush()
        flush(force=True)
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # The copies carry explicit case ids: move the sequence past them for later starts.
            session.execute(sa.text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                    "(SELECT max(id) FROM cases))"))
            session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        counts = {
            "cases": session.scalar(sa.select(sa.func.count()).select_from(Case)),
            "open_items": session.scalar(sa.select(sa.func.count()).select_from(WorkItem)
                                         .where(WorkItem.status == WorkItemStatus.OPEN)),
            "open_items_measured_org": session.scalar(
                sa.select(sa.func.count()).select_from(WorkItem)
                .where(WorkItem.status == WorkItemStatus.OPEN, WorkItem.organisation_id == actor.organisation_id)),
            "events": session.scalar(sa.select(sa.func.count()).select_from(CaseEvent)),
            "build_seconds": time.perf_counter() - started,
        }
        db.session.remove()
        db.engine.dispose()
    return counts


def measure_reads(url: str, repeat: int) -> dict[str, tuple[float, float]]:
    """p50/p95 in ms of each read, through the Flask test client (auth, access log and JSON included)."""
    from api import create_app
    from api.extensions import db
    from engine import dashboard
    from engine.accounts import Actor
    from engine.clock import utcnow
    from engine.lead_times import lead_time_report
    from engine.models import Case, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"username": "bench", "password": "bench-password"}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    with app.app_context():
        case_ids = list(db.session.scalars(sa.select(Case.id).order_by(sa.func.random()).limit(repeat)))
        actor = Actor.of(db.session.scalar(sa.select(User).where(User.username == "bench")))
        db.session.remove()
    second_page = client.get("/api/v1/work-items?limit=50", headers=headers).headers["X-Next-Cursor"]
    reads: dict[str, Callable[[int], Any]] = {
        "inbox": lambda _: client.get("/api/v1/work-items?limit=50", headers=headers),
        "inbox page 2": lambda _: client.get(f"/api/v1/work-items?limit=50&after={second_page}", headers=headers),
        "inbox unclaimed": lambda _: client.get("/api/v1/work-items?limit=50&unclaimed=true", headers=headers),
        "inbox mine": lambda _: client.get("/api/v1/work-items?limit=50&mine=true", headers=headers),
        "inbox overdue": lambda _: client.get("/api/v1/work-items?limit=50&overdue=true", headers=headers),
        "case list": lambda _: client.get("/api/v1/cases?limit=50", headers=headers),
        "case list active": lambda _: client.get("/api/v1/cases?limit=50&status=active", headers=headers),
        "case detail": lambda n: client.get(f"/api/v1/cases/{case_ids[n % len(case_ids)]}", headers=headers),
        "lead times": lambda _: client.get("/api/v1/reports/lead-times", headers=headers),
    }

    def dashboard_read(_: int) -> None:  # what the /dashboard page computes (it needs a browser login)
        with app.app_context():
            now = utcnow()
            dashboard.overview(db.session, actor, now=now)
            lead_time_report(db.session, now=now)
            dashboard.waiting_per_element(db.session, actor, PROCESS)
            db.session.remove()

    reads["dashboard"] = dashboard_read
    out = {}
    for name, read in reads.items():
        read(0)  # warm up
        samples = []
        for n in range(repeat):
            start = time.perf_counter()
            response = read(n)
            samples.append(time.perf_counter() - start)
            if response is not None:
                assert response.status_code == 200, (name, response.status_code, response.get_data()[:300])
        out[name] = percentiles(samples)
    with app.app_context():
        db.engine.dispose()
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_completions(
    url: str, clients: tuple[int, ...], seconds: float, workers: int = 4
) -> dict[int, dict[str, float]]:
    """Completions per second over HTTP against gunicorn: each client drives its own case through
    the evaluation loop (complete, then the next item from the response), for `seconds`."""
    port = _free_port()
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    log = (Path(__file__).parent / "results" / "gunicorn.log").open("w")
    env = {**os.environ, "DATABASE_URL": url, "DEPLOY_PROCESSES_ON_START": "0", "SECRET_KEY": "bench-secret",
           # A configured SECRET_KEY marks a production install, which refuses to start without its own
           # access-log key.
           "ACCESS_LOG_KEY": "bench-access-log-key", "TIMER_SWEEP_SECONDS": "3600"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "api.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, token = _call(conn, "POST", "/api/v1/auth/tokens", {"username": "bench", "password": "bench-password"},
                              {})
        if status != 201:
            raise RuntimeError(f"no token over HTTP: {status} {token}")
        headers = {"Authorization": f"Bearer {token['token']}"}
        out = {}
        for n in clients:
            done, errors = [0] * n, [0] * n
            stop = time.perf_counter() + seconds

            threads = [threading.Thread(target=_client, args=(port, headers, stop, done, errors, i))
                       for i in range(n)]
            began = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - began
            out[n] = {"per_second": sum(done) / elapsed, "completions": sum(done), "errors": sum(errors)}
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def _call(conn: http.client.HTTPConnection, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json", **headers})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def _client(port: int, headers: dict[str, str], stop: float, done: list[int], errors: list[int], index: int) -> None:
    """One load-generating client: its own case, completed round after round until `stop`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    status, case = _call(conn, "POST", "/api/v1/cases", {"process": PROCESS, "data": {}}, headers)
    if status != 201:
        raise RuntimeError(f"could not start a case over HTTP: {status} {case}")
    item = case["open_work_items"][0]["id"]
    while time.perf_counter() < stop:
        status, body = _call(conn, "POST", f"/api/v1/work-items/{item}/complete", {"data": {"opgelost": False}},
                             headers)
        if status != 200:
            errors[index] += 1
            _, case = _call(conn, "GET", f"/api/v1/cases/{case['id']}", None, headers)
            item = case["open_work_items"][0]["id"]
            continue
        done[index] += 1
        item = body["next_items"][0]["id"]


def run(url: str, *, cases: int, items: int, repeat: int, seconds: float) -> dict[str, Any]:
    counts = build(url, cases=cases, items=items)
    print(f"\nscale data: {counts['cases']} cases, {counts['open_items']} open work items "
          f"({counts['open_items_measured_org']} in the measured inbox), {counts['events']} history events; "
          f"built in {counts['build_seconds']:.0f} s")
    reads = measure_reads(url, repeat)
    print("\n| read (PostgreSQL, HTTP test client) | p50 | p95 | target p95 |")
    print("|---|---|---|---|")
    for name, (p50, p95) in reads.items():
        target = next((v for k, v in TARGETS_MS.items() if name.startswith(k)), None)
        print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {f'≤ {target} ms' if target else '—'} |")
    http = http_completions(url, (1, 2, 4, 8), seconds)
    print("\n| clients (gunicorn, 4 workers) | completions/s | errors | target |")
    print("|---|---|---|---|")
    for n, row in http.items():
        print(f"| {n} | {row['per_second']:.1f} | {row['errors']} | {'≥ 100/s' if n == 4 else '—'} |")
    return {"counts": counts, "reads_ms": {k: {"p50": a, "p95": b} for k, (a, b) in reads.items()},
            "http": http, "load_average": os.getloadavg()}
