"""Durable timers: the `timers` table is the source of truth; a sweep fires what is due.

A sweep claims one due timer at a time inside its own transaction — `FOR UPDATE SKIP LOCKED`
on PostgreSQL, so any number of sweepers share the work without waiting on each other; a
compare-and-set on the status column on SQLite — and fires it through the normal unit of
work before committing. A crash before the commit rolls the claim back, so the timer fires
at a later sweep: never lost, never fired twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine import execution, history
from engine.bpmn import runtime
from engine.clock import utcnow
from engine.models import CaseStatus, Timer, TimerStatus

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    fired: int = 0
    failed: int = 0
    interrupted: bool = False
    lateness_seconds: list[float] = field(default_factory=list)


def claim_due_timer(session: Session, now: datetime, *, skip: frozenset[int] = frozenset()) -> Timer | None:
    """Claim the most overdue pending timer for this transaction, or return None.

    `skip` holds timers that failed earlier in this sweep, so one broken case cannot keep a
    sweeper busy; they are tried again at the next sweep.
    """
    due = (
        select(Timer)
        .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
        .order_by(Timer.due_at, Timer.id)
        .limit(1)
    )
    if skip:
        due = due.where(Timer.id.not_in(skip))
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(due.with_for_update(skip_locked=True))
    # SQLite has no row locks (SQLAlchemy silently drops FOR UPDATE there): claim by
    # compare-and-set, and look for another row if a concurrent sweeper won this one.
    for _ in range(10):
        timer = session.scalar(due)
        if timer is None:
            return None
        claimed = session.execute(
            update(Timer).where(Timer.id == timer.id, Timer.status == TimerStatus.PENDING)
            .values(status=TimerStatus.FIRED, fired_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            session.expire(timer)
            return timer
    return None


def fire_timer(session: Session, timer: Timer, now: datetime) -> execution.Outcome | None:
    """Fire one claimed timer through the unit of work of its case."""
    case = execution.lock_case(session, timer.case_id)
    timer.status, timer.fired_at = TimerStatus.FIRED, now
    if case.status in (CaseStatus.COMPLETED, CaseStatus.TERMINATED, CaseStatus.SUSPENDED):
        return None
    workflow = execution.load_workflow(case)
    if timer.task_id not in {t.task_id for t in runtime.pending_timers(workflow)}:
        # The case moved on while this timer waited for its lock (its task was completed, say).
        timer.status = TimerStatus.CANCELLED
        return None
    history.record(session, case, "timer_fired", f"Termijn verstreken: {timer.title}.", at=now,
                   element_id=timer.element_id, data={"due_at": timer.due_at.isoformat()})
    session.flush()
    return execution.run_step(session, case, runtime.fire_due_timers, actor=None, now=now, workflow=workflow)


def sweep(
    session_factory: Callable[[], Session],
    *,
    now: Callable[[], datetime] = utcnow,
    limit: int = 100_000,
    on_fired: Callable[[int], None] | None = None,
) -> SweepReport:
    """Fire every timer that is due, each in its own transaction. Safe to run in many processes.

    `on_fired(timer_id)` is called after each committed fire (progress output for operators).
    """
    report = SweepReport()
    failed: set[int] = set()
    for _ in range(limit):
        with session_factory() as session:
            moment = now()
            try:
                timer = claim_due_timer(session, moment, skip=frozenset(failed))
            except OperationalError:
                # The database is busy (SQLite's single writer) or gone: stop this sweep; the next
                # tick claims again. Nothing was claimed, so nothing is lost.
                session.rollback()
                report.interrupted = True
                log.warning("timer sweep interrupted while claiming", exc_info=True)
                break
            if timer is None:
                session.rollback()
                break
            timer_id, lateness = timer.id, (moment - timer.due_at).total_seconds()
            try:
                outcome = fire_timer(session, timer, moment)
                session.commit()
            except Exception:
                session.rollback()
                failed.add(timer_id)
                report.failed += 1
                log.exception("timer %s could not fire; it stays pending", timer_id)
                continue
            report.fired += 1
            report.lateness_seconds.append(lateness)
            if on_fired is not None:
                on_fired(timer_id)
            if outcome is not None and outcome.error:
                log.warning("timer %s put its case in error: %s", timer_id, outcome.error)
    return report
