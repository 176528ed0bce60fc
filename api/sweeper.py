"""The timer sweeper: one APScheduler interval job per process, calling engine.timers.sweep.

APScheduler only supplies the tick. It keeps no jobs of its own (in-memory store, one job,
max_instances=1, coalesce): the `timers` table is the truth, so downtime is harmless and
any number of sweeper processes may run side by side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.orm import Session

from api.extensions import db
from api.meetings import plan_meetings
from api.privacy import seal_access_log
from engine import notifications, watch
from engine.clock import utcnow

log = logging.getLogger(__name__)


def smtp_settings(app: Flask) -> notifications.SmtpSettings:
    config = app.config
    return notifications.SmtpSettings(
        host=config["SMTP_HOST"], port=config["SMTP_PORT"], username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"], starttls=config["SMTP_STARTTLS"], sender=config["MAIL_FROM"],
    )


def sweep_once(app: Flask, on_fired: Callable[[int], None] | None = None) -> watch.TickReport:
    with app.app_context():
        engine = db.engine
        report = watch.tick(lambda: Session(engine, expire_on_commit=False), smtp_settings(app), on_fired=on_fired,
                            stall_grace=timedelta(days=app.config.get("STALL_GRACE_DAYS", 7)))
    plan_meetings(app)  # the next case meetings, and agenda items that wait for one
    seal_access_log(app)  # chain what was logged since the last tick, checkpoint the head
    if report.timers.fired or report.timers.failed or report.stalled_escalated or report.mails_failed:
        log.info("sweep: %d timers fired (%d failed), %d stalled cases escalated, %d mails sent (%d failed)",
                 report.timers.fired, report.timers.failed, report.stalled_escalated, report.mails_sent,
                 report.mails_failed)
    return report


def schedule(scheduler: Any, app: Flask) -> Any:
    # First sweep at once, then every interval. (Careful: next_run_time=None would add the job
    # paused.) One instance at a time; a tick missed while busy is simply skipped: the next
    # sweep finds everything that is due anyway.
    scheduler.add_job(
        sweep_once, "interval", args=[app], seconds=app.config["TIMER_SWEEP_SECONDS"], id="timer-sweep",
        max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=utcnow(),
    )
    return scheduler


def start_background_sweeper(app: Flask) -> BackgroundScheduler:
    """For `flask serve`: sweep in a thread of the web process."""
    scheduler = schedule(BackgroundScheduler(timezone="UTC", daemon=True), app)
    scheduler.start()
    return scheduler


def run_sweeper(app: Flask) -> None:
    """For `flask timers`: a process that only sweeps, until stopped."""
    schedule(BlockingScheduler(timezone="UTC"), app).start()
