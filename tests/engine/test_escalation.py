"""Stalled cases escalate to the coordinator once per stall; overdue work is mailed once; old cases are flagged."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from api.extensions import db
from engine import escalation
from engine.clock import utcnow
from engine.models import Notification, WorkItemKind


def test_case_without_activity_for_30_days_escalates_once_per_stall(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="P400D")  # nothing happens for a long time
    with time_machine.travel(utcnow() + timedelta(days=29), tick=False):
        assert world.tick().stalled_escalated == 0

    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        first = world.tick()
        again = world.tick()

    assert first.stalled_escalated == 1 and again.stalled_escalated == 0
    escalations = [i for i in world.open_items(case_id) if i.kind is WorkItemKind.ESCALATION]
    assert [(e.organisation_id, e.title) for e in escalations] == [
        (world.gemeente_id, f"Casus {world.case(case_id).reference} staat al 30 dagen stil")
    ]
    mail = db.session.scalar(select(Notification).where(Notification.kind == "stalled"))
    assert mail.to_address == "regie@gemeente.example" and mail.case_id == case_id


def test_a_new_stall_after_activity_escalates_again(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="P400D")  # a long wait: the case just sits
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        world.tick()
        escalation_item = next(i for i in world.open_items(case_id) if i.kind is WorkItemKind.ESCALATION)
        world.complete(escalation_item, world.coordinator, besluit="Partners benaderd")  # counts as activity
        assert world.case(case_id).last_activity_at >= utcnow() - timedelta(seconds=1)
    with time_machine.travel(utcnow() + timedelta(days=50), tick=False):
        assert world.tick().stalled_escalated == 0  # 19 days after the last activity
    with time_machine.travel(utcnow() + timedelta(days=62), tick=False):
        assert world.tick().stalled_escalated == 1


def test_overdue_work_is_mailed_to_its_organisation_once(world):
    world.deploy("herinnering")
    case_id = world.start("herinnering")
    letter = world.open_items(case_id)[0]

    with time_machine.travel(letter.due_at + timedelta(minutes=1), tick=False):
        first = world.tick()
        second = world.tick()

    assert first.overdue_notified == 1 and second.overdue_notified == 0
    mail = db.session.scalar(select(Notification).where(Notification.kind == "overdue"))
    assert mail.to_address == "sociaalbeheer@dgw.example"
    assert "Waarschuwingsbrief sturen" in mail.subject and mail.sent_at is None  # no SMTP configured


def test_cases_past_six_and_nine_months_are_flagged(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="P400D")
    case = world.case(case_id)

    assert escalation.age_flag(case, utcnow() + timedelta(days=100)) is None
    assert escalation.age_flag(case, utcnow() + timedelta(days=190)) == "6m"
    assert escalation.age_flag(case, utcnow() + timedelta(days=280)) == "9m"
