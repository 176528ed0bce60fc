"""The sweeper's scheduling: one live interval job per process, configured from TIMER_SWEEP_SECONDS."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from api.sweeper import schedule, sweep_once


def test_sweep_job_is_live_at_the_configured_interval(app):
    app.config["TIMER_SWEEP_SECONDS"] = 7
    scheduler = schedule(BackgroundScheduler(timezone="UTC"), app)

    [job] = scheduler.get_jobs()

    assert job.id == "timer-sweep"
    assert job.trigger.interval.total_seconds() == 7
    assert job.next_run_time is not None  # not paused: the first sweep runs at once
    assert job.max_instances == 1 and job.coalesce is True


def test_sweep_once_runs_a_whole_tick(app):
    report = sweep_once(app)

    assert report.timers.fired == 0 and report.stalled_escalated == 0 and report.mails_sent == 0
