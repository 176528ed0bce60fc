"""The meeting schedule and the agenda: planning ahead, placing waiting cases, moving undiscussed
ones on, and an outcome being one unit of work."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from api.extensions import db
from engine import agenda, execution, meetings
from engine.accounts import Actor
from engine.models import AgendaItem, CaseEvent, CaseRoleAssignment, Meeting, MeetingStatus, User
from tests.processes.flow import T0

TUESDAY_AFTERNOON = meetings.MeetingSchedule(2, time(14, 0))


def planned(session):
    return [m.scheduled_at for m in session.scalars(
        select(Meeting).where(Meeting.status == MeetingStatus.PLANNED).order_by(Meeting.scheduled_at))]


@pytest.fixture
def clock(app):
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_schedule_plans_three_meetings_a_fortnight_apart_in_amsterdam_time(clock):
    created = meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=T0)

    assert [m.scheduled_at for m in created] == [
        datetime(2026, 3, 3, 13, tzinfo=UTC), datetime(2026, 3, 17, 13, tzinfo=UTC),
        datetime(2026, 3, 31, 12, tzinfo=UTC),  # summer time: still 14:00 in Amsterdam
    ]
    assert meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=T0) == []  # idempotent


def test_schedule_keeps_its_rhythm_and_marks_past_meetings_held(clock):
    meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=T0)

    later = T0 + timedelta(days=20)
    created = meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=later)

    assert [m.scheduled_at for m in created] == [datetime(2026, 4, 14, 12, tzinfo=UTC),
                                                 datetime(2026, 4, 28, 12, tzinfo=UTC)]
    assert len(planned(db.session)) == 3
    held = db.session.scalars(select(Meeting).where(Meeting.status == MeetingStatus.HELD)).all()
    assert [m.scheduled_at.date().isoformat() for m in held] == ["2026-03-03", "2026-03-17"]


def test_a_changed_weekday_starts_a_new_rhythm_after_the_last_meeting(clock):
    meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=T0)

    thursday_morning = meetings.MeetingSchedule.parse("4", "09:30")
    created = meetings.ensure_schedule(db.session, thursday_morning, now=T0 + timedelta(days=14), ahead=3)

    assert [m.scheduled_at for m in created] == [datetime(2026, 4, 2, 7, 30, tzinfo=UTC)]


def test_an_extra_meeting_on_the_schedule_joins_it(clock):
    extra = meetings.create_meeting(db.session, scheduled_at=datetime(2026, 3, 3, 13, tzinfo=UTC), now=T0)

    created = meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=T0)

    assert extra.regular is True and extra not in created and len(created) == 2


@pytest.mark.parametrize(("weekday", "at"), [("0", "14:00"), ("8", "14:00"), ("dinsdag", "14:00"), ("2", "14 uur")])
def test_nonsense_schedules_are_refused(weekday, at):
    with pytest.raises(ValueError):
        meetings.MeetingSchedule.parse(weekday, at)


def test_a_referral_waits_for_a_meeting_to_be_planned_and_is_placed_then(flow):
    db.session.execute(db.delete(Meeting))
    db.session.commit()
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)

    item = agenda.open_item(db.session, case_id)
    assert item is not None and item.meeting_id is None
    [added] = [e for e in flow.case(case_id)["history"] if e["kind"] == "agenda_item_added"]
    assert "nog gepland" in added["summary"]

    meetings.ensure_schedule(db.session, TUESDAY_AFTERNOON, now=flow.now())
    db.session.commit()
    db.session.expire_all()

    placed = db.session.get(Meeting, agenda.open_item(db.session, case_id).meeting_id)
    assert placed.scheduled_at == datetime(2026, 3, 17, 13, tzinfo=UTC)  # the agenda of 3 March had closed


def test_undiscussed_referral_moves_on_only_after_the_minutes_grace(flow):
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)
    first = flow.meeting_of(case_id)
    flow.attend(case_id)

    flow.later(days=1)  # the day after: outcomes may still be recorded
    assert flow.meeting_of(case_id)["id"] == first["id"]
    flow.later(days=2)
    assert flow.meeting_of(case_id)["id"] != first["id"]
    db.session.expire_all()
    moved = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                       CaseEvent.kind == "agenda_item_moved")).all()
    assert len(moved) == 1 and moved[0].data["from_meeting_id"] == first["id"]


def test_an_outcome_is_one_unit_of_work(flow):
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)
    meeting = flow.attend(case_id)
    coordinator = Actor.of(db.session.scalar(select(User).where(User.username == "coordinator")))
    ggd = flow.organisation_id("GGD Haaglanden")

    meetings.record_outcome(db.session, meeting_id=meeting["id"], case_id=case_id, actor=coordinator,
                            outcome=meetings.OutcomeInput(casusregisseur_organisation_id=ggd,
                                                          next_evaluation=flow.today() + timedelta(days=14)))
    db.session.rollback()  # the caller owns the transaction: nothing of it may remain

    assert db.session.get(CaseRoleAssignment, (case_id, "casusregisseur")) is None
    assert db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == case_id)).discussed_at is None
    assert agenda.meeting_wait(execution.load_workflow(execution.lock_case(db.session, case_id))) is not None
    assert db.session.get(Meeting, meeting["id"]).status is MeetingStatus.PLANNED
