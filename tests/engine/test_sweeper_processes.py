"""Many sweeper processes on PostgreSQL: every due timer fires exactly once, even when one
sweeper is killed with SIGKILL in the middle of its sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from api import create_app
from api.extensions import db
from engine import accounts, cases, catalog, covenant, roles
from engine.accounts import Actor
from engine.clock import utcnow
from engine.models import CaseEvent, Timer, TimerStatus, WorkItem

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = (ROOT / "tests" / "fixtures" / "timers" / "wacht.bpmn").read_bytes()
CASES = 1000

ROOT_DIR = Path(__file__).resolve().parents[2]


def make_due_timers(url: str, count: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    with app.app_context():
        session = db.session
        covenant.load_covenant_file(session, ROOT_DIR / "processes" / "convenant.yaml")
        accounts.create_organisation(session, name="Gemeente", kind="gemeente")
        user = accounts.create_user(session, username="sanne", password="x" * 12, organisation_name="Gemeente",
                                    roles=["caseworker"])
        roles.set_role_mapping(session, roles.RoleMappingInput("Gemeente", organisation="Gemeente"))
        catalog.deploy_process(session, xml=DIAGRAM, filename="wacht.bpmn", forms={})
        session.commit()
        actor = Actor.of(user)
        # Started a day ago with a one-hour wait: every timer is due in real time, which is the
        # only time separate sweeper processes know.
        with time_machine.travel(utcnow() - timedelta(days=1), tick=False):
            for _ in range(count):
                cases.start_case(session, process_key="wacht", data={"wachttijd": "PT1H"}, actor=actor)
            session.commit()
        db.engine.dispose()


def sweeper(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "DEPLOY_PROCESSES_ON_START": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "api", "timers", "--once", "--verbose"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )


def test_three_sweepers_and_a_sigkill_fire_every_timer_exactly_once(postgres_url):
    make_due_timers(postgres_url, CASES)
    processes = [sweeper(postgres_url) for _ in range(3)]

    victim = processes[0]
    for _ in range(50):  # let it fire some, then kill it mid-sweep (it is always inside a transaction)
        assert victim.stdout is not None and victim.stdout.readline().startswith("fired ")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    for process in processes[1:]:
        assert process.wait(timeout=300) == 0
    # A claim held by the killed process is released when PostgreSQL drops its connection; a
    # sweeper that finished before that skipped it (SKIP LOCKED). The next sweep fires it.
    mop_up = sweeper(postgres_url)
    assert mop_up.wait(timeout=300) == 0

    app = create_app({"SQLALCHEMY_DATABASE_URI": postgres_url, "TESTING": True, "DEPLOY_PROCESSES_ON_START": False})
    with app.app_context():
        session = db.session
        statuses = dict(session.execute(select(Timer.status, func.count()).group_by(Timer.status)).all())
        assert statuses == {TimerStatus.FIRED: CASES}
        per_case = session.execute(
            select(CaseEvent.case_id, func.count()).where(CaseEvent.kind == "timer_fired").group_by(CaseEvent.case_id)
        ).all()
        assert len(per_case) == CASES and {n for _, n in per_case} == {1}
        items = session.execute(select(WorkItem.case_id, func.count()).group_by(WorkItem.case_id)).all()
        assert len(items) == CASES and {n for _, n in items} == {1}
        db.engine.dispose()
