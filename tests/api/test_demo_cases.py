"""`flask seed-demo` with the real processes: demo cases in several stages, created once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from api.extensions import db
from engine.models import Case, Meeting, MeetingStatus

ROOT = Path(__file__).parents[2]


def test_seed_demo_walks_cases_into_several_stages_once(app):
    app.config.update(PROCESSES_DIR=str(ROOT / "processes"), FORMS_DIR=str(ROOT / "forms"))
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])

    assert first.exit_code == 0 and "7 demo cases created" in first.output, first.output
    assert second.exit_code == 0 and "existing cases left as they are" in second.output, second.output
    db.session.expire_all()
    stages = sorted((c.status.value, c.stage) for c in db.session.scalars(select(Case)))
    assert stages == [
        ("active", "casusoverleg"), ("active", "casusoverleg"), ("active", "eigen waarschuwing"),
        ("active", "intake"), ("active", "onderzoek"), ("active", "regie en interventie"),
        ("completed", "afsluiten"),
    ]
    meetings = db.session.scalars(select(Meeting).order_by(Meeting.scheduled_at)).all()
    assert [m.status for m in meetings] == [MeetingStatus.HELD] + [MeetingStatus.PLANNED] * 3


def test_seed_demo_without_the_woonoverlast_processes_still_loads_the_partners(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])  # the test fixtures' processes/ only

    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Case)).all() == []
