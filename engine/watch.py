"""What every sweeper tick does besides firing timers: watch for stalled cases, overdue evaluations
and overdue work, propose destructions, then send the outbox. Each part commits on its own, so one
failing part does not block another."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engine import escalation, notifications, retention, timers
from engine.clock import utcnow
from engine.errors import NotFoundError

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    timers: timers.SweepReport
    stalled_escalated: int = 0
    evaluations_escalated: int = 0
    overdue_notified: int = 0
    mails_sent: int = 0
    mails_failed: int = 0
    destruction_proposed: int = 0


def _propose_destructions(session: Session, now: datetime) -> int:
    # Idempotent and cheap (closed cases without a proposal), so it may run every tick; in effect
    # it is the daily retention job. Without a covenant there are no retention periods yet.
    try:
        return retention.propose_destructions(session, now)
    except NotFoundError:
        return 0


def tick(
    session_factory: Callable[[], Session],
    smtp: notifications.SmtpSettings,
    *,
    on_fired: Callable[[int], None] | None = None,
    stall_grace: timedelta = escalation.SCHEDULE_GRACE,
) -> TickReport:
    report = TickReport(timers=timers.sweep(session_factory, on_fired=on_fired))
    with session_factory() as session:
        now = utcnow()
        report.stalled_escalated = escalation.escalate_stalled_cases(session, now, grace=stall_grace)
        report.evaluations_escalated = escalation.escalate_overdue_evaluations(session, now)
        report.overdue_notified = escalation.notify_overdue_work(session, now)
        report.destruction_proposed = _propose_destructions(session, now)
        session.commit()
    report.mails_sent, report.mails_failed = notifications.send_pending(session_factory, smtp)
    return report
