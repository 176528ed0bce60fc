"""Durable timers: fire exactly once, survive downtime and crashes, serialise with users."""

from __future__ import annotations

import threading
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from api.extensions import db
from engine import execution, timers
from engine.clock import utcnow
from engine.models import CaseEvent, Timer, TimerStatus


def fired_events(case_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "timer_fired")
    )


def test_waiting_timer_has_a_row_with_its_due_time_in_utc(world):
    world.deploy("wacht")
    before = utcnow()
    case_id = world.start("wacht", wachttijd="PT2H")

    row = db.session.scalar(select(Timer).where(Timer.case_id == case_id))

    assert row.status is TimerStatus.PENDING
    assert row.due_at.utcoffset() == timedelta(0)
    assert before + timedelta(hours=2) <= row.due_at <= utcnow() + timedelta(hours=2)
    assert world.case(case_id).next_timer_at == row.due_at


def test_timer_fires_exactly_once_however_often_the_sweep_runs(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="PT1H")

    with time_machine.travel(utcnow() + timedelta(minutes=59), tick=False):
        assert world.sweep().fired == 0
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False):
        assert world.sweep().fired == 1
        assert world.sweep().fired == 0
        assert world.sweep().fired == 0

    assert fired_events(case_id) == 1
    assert world.titles(case_id) == ["Verder na het wachten"]
    assert world.case(case_id).next_timer_at is None


def test_timers_missed_while_the_system_was_down_fire_at_the_next_sweep(world):
    world.deploy("wacht")
    ids = [world.start("wacht", wachttijd=f"PT{hours}H") for hours in (1, 5, 30)]

    # Down for a week: nothing swept. The first sweep after fires all three, each once.
    with time_machine.travel(utcnow() + timedelta(days=7), tick=False):
        report = world.sweep()

    assert report.fired == 3
    assert all(lateness > 0 for lateness in report.lateness_seconds)
    assert [fired_events(i) for i in ids] == [1, 1, 1]
    assert all(world.titles(i) == ["Verder na het wachten"] for i in ids)


def test_a_crash_during_the_sweep_loses_no_timer(world, monkeypatch):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="PT1H")
    real_run_step = execution.run_step

    def crash(*args, **kwargs):
        raise RuntimeError("power failure halfway through firing")

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        monkeypatch.setattr(execution, "run_step", crash)
        crashed = world.sweep()
        db.session.expire_all()
        assert crashed.fired == 0 and crashed.failed == 1
        assert db.session.scalar(select(Timer.status).where(Timer.case_id == case_id)) is TimerStatus.PENDING
        assert world.titles(case_id) == []

        monkeypatch.setattr(execution, "run_step", real_run_step)
        recovered = world.sweep()

    assert recovered.fired == 1
    assert fired_events(case_id) == 1
    assert world.titles(case_id) == ["Verder na het wachten"]


def test_non_interrupting_reminder_adds_a_coordinator_item_while_the_task_stays_open(world):
    world.deploy("herinnering")
    case_id = world.start("herinnering")
    letter = world.open_items(case_id)[0]
    assert letter.due_at is not None  # werkdagen(5): five Dutch working days

    with time_machine.travel(utcnow() + timedelta(days=8), tick=False):
        assert world.sweep().fired == 1

    items = world.open_items(case_id)
    assert [(i.title, i.organisation_id) for i in items] == [
        ("Waarschuwingsbrief sturen", world.corporation_id),
        ("Corporatie herinneren", world.gemeente_id),
    ]
    with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
        assert world.sweep().fired == 1
    titles = world.titles(case_id)
    assert "Waarschuwingsbrief sturen" not in titles  # interrupted after 14 days
    assert "Stilstand bespreken" in titles


def test_completing_the_task_cancels_its_boundary_timers(world):
    world.deploy("herinnering")
    case_id = world.start("herinnering")
    world.complete(world.open_items(case_id)[0], world.corporation)

    statuses = db.session.scalars(select(Timer.status).where(Timer.case_id == case_id)).all()
    assert sorted(statuses) == [TimerStatus.CANCELLED, TimerStatus.CANCELLED]
    with time_machine.travel(utcnow() + timedelta(days=30), tick=False):
        assert world.sweep().fired == 0
    assert world.case(case_id).status.value == "completed"


def test_timer_and_user_on_the_same_case_at_once_both_apply(app, world, backend):
    """PostgreSQL serialises the two on the case row lock: both succeed. SQLite has one writer at
    a time: the loser gets a conflict and changed nothing, so the next request or sweep applies it."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    from engine import work_items
    from engine.errors import ConflictError

    world.deploy("parallel")
    case_id = world.start("parallel", actor=world.coordinator)
    task_a = world.open_items(case_id)[0]
    db.session.remove()
    barrier = threading.Barrier(2)
    conflicts: list[BaseException] = []
    sweeps: list[timers.SweepReport] = []

    def complete() -> None:
        with app.app_context():
            barrier.wait()
            try:
                work_items.complete(db.session, world.coordinator, task_a.id, {})
                db.session.commit()
            except (OperationalError, StaleDataError, ConflictError) as error:
                db.session.rollback()
                conflicts.append(error)

    def sweep() -> None:
        with app.app_context():
            barrier.wait()
            sweeps.append(timers.sweep(lambda: Session(db.engine)))

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        threads = [threading.Thread(target=complete), threading.Thread(target=sweep)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        if backend == "postgresql":
            assert conflicts == [] and sweeps[0].fired == 1 and sweeps[0].failed == 0
        if conflicts:  # SQLite only: the user's retry
            world.complete(world.open_items(case_id)[0], world.coordinator)
        world.sweep()  # the next tick, which fires what lost the race, if anything

    assert fired_events(case_id) == 1
    assert world.titles(case_id) == ["Taak B"]  # A completed by the user, B created by the timer


def test_a_busy_database_while_claiming_stops_the_sweep_without_losing_the_timer(world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="PT1H")

    def busy(*args, **kwargs):
        raise OperationalError("UPDATE timers", {}, Exception("database is locked"))

    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        monkeypatch.setattr(timers, "claim_due_timers", busy)
        interrupted = world.sweep()
        monkeypatch.undo()
        recovered = world.sweep()

    assert interrupted.interrupted and interrupted.fired == 0
    assert recovered.fired == 1 and fired_events(case_id) == 1
