"""What every sweeper tick does besides firing timers: watch for stalled cases and overdue work,
then send the outbox. Each part commits on its own, so one failing part does not block another."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine import escalation, notifications, timers
from engine.clock import utcnow

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    timers: timers.SweepReport
    stalled_escalated: int = 0
    overdue_notified: int = 0
    mails_sent: int = 0
    mails_failed: int = 0


def tick(
    session_factory: Callable[[], Session],
    smtp: notifications.SmtpSettings,
    *,
    on_fired: Callable[[int], None] | None = None,
) -> TickReport:
    report = TickReport(timers=timers.sweep(session_factory, on_fired=on_fired))
    with session_factory() as session:
        now = utcnow()
        report.stalled_escalated = escalation.escalate_stalled_cases(session, now)
        report.overdue_notified = escalation.notify_overdue_work(session, now)
        session.commit()
    report.mails_sent, report.mails_failed = notifications.send_pending(session_factory, smtp)
    return report
