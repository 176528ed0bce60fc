"""The timer sweeper: one APScheduler interval job per process, calling engine.timers.sweep.

APScheduler only supplies the tick. It keeps no jobs of its own (in-memory store, one job,
max_instances=1, coalesce): the `timers` table is the truth, so downtime is harmless and
any number of sweeper processes may run side by side.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.orm import Session

from api.extensions import db
from engine import timers

log = logging.getLogger(__name__)


def sweep_once(app: Flask) -> timers.SweepReport:
    with app.app_context():
        engine = db.engine
        report = timers.sweep(lambda: Session(engine, expire_on_commit=False))
    if report.fired or report.failed:
        log.info("timer sweep: %d fired, %d failed", report.fired, report.failed)
    return report


def _schedule(scheduler: Any, app: Flask) -> Any:
    scheduler.add_job(
        sweep_once, "interval", args=[app], seconds=app.config["TIMER_SWEEP_SECONDS"], id="timer-sweep",
        max_instances=1, coalesce=True, misfire_grace_time=None, next_run_time=None,
    )
    return scheduler


def start_background_sweeper(app: Flask) -> BackgroundScheduler:
    """For `flask serve`: sweep in a thread of the web process."""
    scheduler = _schedule(BackgroundScheduler(timezone="UTC", daemon=True), app)
    scheduler.start()
    scheduler.modify_job("timer-sweep", next_run_time=_now())
    return scheduler


def run_sweeper(app: Flask) -> None:
    """For `flask timers`: a process that only sweeps, until stopped."""
    scheduler = _schedule(BlockingScheduler(timezone="UTC"), app)
    scheduler.add_job(sweep_once, args=[app], id="first-sweep")  # at once, then every interval
    scheduler.start()


def _now() -> Any:
    from engine.clock import utcnow

    return utcnow()
