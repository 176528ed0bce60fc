"""Durable timers: the `timers` table is the source of truth; a sweep fires what is due.

A sweep claims a batch of due timers per transaction — `FOR UPDATE SKIP LOCKED` on PostgreSQL,
so any number of sweepers share the work without waiting on each other; a compare-and-set on
the status column on SQLite — fires each through the normal unit of work in a savepoint, and
commits once. A crash before the commit rolls the claims back, so the timers fire at a later
sweep: never lost, never fired twice.
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


def claim_due_timers(
    session: Session, now: datetime, *, batch: int = 50, skip: frozenset[int] = frozenset()
) -> list[Timer]:
    """Up to `batch` of the most overdue pending timers, for this transaction.

    On PostgreSQL they are claimed here (`FOR UPDATE SKIP LOCKED`: other sweepers take other
    rows). SQLite has no row locks (SQLAlchemy silently drops FOR UPDATE there): these are
    candidates, each claimed by `claim` (a compare-and-set) in the savepoint that fires it.
    `skip` holds timers that failed earlier in this sweep, so one broken case cannot keep a
    sweeper busy; they are tried again at the next sweep.
    """
    due = (
        select(Timer)
        .where(Timer.status == TimerStatus.PENDING, Timer.due_at <= now)
        .order_by(Timer.due_at, Timer.id)
        .limit(batch)
    )
    if skip:
        due = due.where(Timer.id.not_in(skip))
    if _row_locks(session):
        due = due.with_for_update(skip_locked=True)
    # Fire in case order: two sweepers then take the case row locks in the same order (no deadlock).
    return sorted(session.scalars(due), key=lambda t: (t.case_id, t.due_at, t.id))


def claim(session: Session, timer: Timer, now: datetime) -> bool:
    """Whether this transaction holds `timer` and it is still pending (not fired earlier in the batch)."""
    if _row_locks(session):
        return timer.status is TimerStatus.PENDING
    claimed = session.execute(
        update(Timer).where(Timer.id == timer.id, Timer.status == TimerStatus.PENDING)
        .values(status=TimerStatus.FIRED, fired_at=now)
        .execution_options(synchronize_session=False)
    )
    session.expire(timer)
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _row_locks(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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
    batch: int = 50,
    on_fired: Callable[[int], None] | None = None,
) -> SweepReport:
    """Fire every timer that is due. Safe to run in many processes.

    Each transaction claims up to `batch` due timers, fires each in a savepoint (one that fails is
    rolled back alone and stays pending) and commits once. A crash before the commit rolls the
    whole batch back: nothing is lost, nothing fires twice. `on_fired(timer_id)` is called after
    each committed fire (progress output for operators).
    """
    report = SweepReport()
    failed: set[int] = set()
    while report.fired + report.failed < limit:
        with session_factory() as session:
            moment = now()
            try:
                claimed = claim_due_timers(session, moment, batch=min(batch, limit - report.fired - report.failed),
                                           skip=frozenset(failed))
            except OperationalError:
                # The database is busy (SQLite's single writer) or gone: stop this sweep; the next
                # tick claims again. Nothing was claimed, so nothing is lost.
                session.rollback()
                report.interrupted = True
                log.warning("timer sweep interrupted while claiming", exc_info=True)
                break
            if not claimed:
                session.rollback()
                break
            claimed_ids = [t.id for t in claimed]
            fired: list[tuple[int, float, execution.Outcome | None]] = []
            for timer in claimed:
                timer_id, lateness = timer.id, (moment - timer.due_at).total_seconds()
                try:
                    with session.begin_nested():
                        if not claim(session, timer, moment):
                            continue  # settled by an earlier fire of its case in this batch, or taken
                        outcome = fire_timer(session, timer, moment)
                except Exception:
                    failed.add(timer_id)
                    report.failed += 1
                    log.exception("timer %s could not fire; it stays pending", timer_id)
                    continue
                fired.append((timer_id, lateness, outcome))
            try:
                session.commit()
            except Exception:
                session.rollback()
                failed.update(claimed_ids)
                report.failed += len(fired)
                log.exception("a batch of %d timers could not be committed; they stay pending", len(fired))
                continue
        for timer_id, lateness, outcome in fired:
            report.fired += 1
            report.lateness_seconds.append(lateness)
            if on_fired is not None:
                on_fired(timer_id)
            if outcome is not None and outcome.error:
                log.warning("timer %s put its case in error: %s", timer_id, outcome.error)
    return report
