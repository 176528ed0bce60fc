"""Escalation: errors escalate at once, stalled cases once per stall (a case waiting on a schedule
is not stalled), evaluations after 4 weeks; overdue work is mailed once; old cases are flagged."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from engine import cases, catalog, escalation, execution, notifications, roles, watch, work_items
from engine.accounts import Actor
from engine.clock import utcnow
from engine.models import CaseEvent, CaseStatus, Notification, User, WorkItem, WorkItemKind

FIXTURES = Path(__file__).parent.parent / "fixtures" / "escalation"


def escalations(case_id, element=None):
    db.session.expire_all()
    query = select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.kind == WorkItemKind.ESCALATION)
    if element is not None:
        query = query.where(WorkItem.element_id == element)
    return list(db.session.scalars(query.order_by(WorkItem.id)))


def mails(kind):
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def deploy_fixture(name):
    xml = (FIXTURES / f"{name}.bpmn").read_bytes()
    catalog.deploy_process(db.session, xml=xml, filename=f"{name}.bpmn", forms={})
    db.session.commit()


# -- stalled cases --------------------------------------------------------------------------------

def test_case_without_activity_or_schedule_for_30_days_escalates_once_per_stall(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="PT1H")
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        assert world.tick().timers.fired == 1  # now an open task without a due date: nothing scheduled
    with time_machine.travel(utcnow() + timedelta(days=29), tick=False):
        assert world.tick().stalled_escalated == 0

    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        first = world.tick()
        again = world.tick()

    assert first.stalled_escalated == 1 and again.stalled_escalated == 0
    assert [(e.organisation_id, e.title, e.role) for e in escalations(case_id)] == [
        (world.gemeente_id, f"Casus {world.case(case_id).reference} staat al 30 dagen stil", "Coordinator")
    ]
    [mail] = mails("stalled")
    assert mail.to_address == "regie@gemeente.example" and mail.case_id == case_id


def test_a_new_stall_after_activity_escalates_again(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="PT1H")
    with time_machine.travel(utcnow() + timedelta(days=31), tick=False):
        world.tick()  # fires the timer: activity
    with time_machine.travel(utcnow() + timedelta(days=62), tick=False):
        assert world.tick().stalled_escalated == 1
        escalation_item = escalations(case_id)[0]
        world.complete(escalation_item, world.coordinator, besluit="Partners benaderd")  # counts as activity
        assert world.case(case_id).last_activity_at >= utcnow() - timedelta(seconds=1)
    with time_machine.travel(utcnow() + timedelta(days=81), tick=False):
        assert world.tick().stalled_escalated == 0  # 19 days after the last activity
    with time_machine.travel(utcnow() + timedelta(days=93), tick=False):
        assert world.tick().stalled_escalated == 1


def test_case_waiting_on_a_long_timer_is_not_stalled_until_the_timer_is_overdue(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="P400D")
    for days in (31, 120, 399):
        with time_machine.travel(utcnow() + timedelta(days=days), tick=False):
            assert world.tick().stalled_escalated == 0

    # The timer's moment passes and nothing happens (say the sweeper could not fire it):
    # escalated once the grace period is over.
    due = world.case(case_id).next_timer_at
    assert escalation.escalate_stalled_cases(db.session, due + timedelta(days=6)) == 0
    assert escalation.escalate_stalled_cases(db.session, due + timedelta(days=8)) == 1
    db.session.commit()
    [item] = escalations(case_id, escalation.STALLED_ELEMENT)
    assert "geplande stap van" in item.title and "verstreken zonder voortgang" in item.title
    assert escalation.escalate_stalled_cases(db.session, due + timedelta(days=9)) == 0


def test_grace_period_is_configurable(world):
    world.deploy("wacht")
    case_id = world.start("wacht", wachttijd="P60D")
    due = world.case(case_id).next_timer_at
    grace = timedelta(days=2)
    assert escalation.escalate_stalled_cases(db.session, due + timedelta(days=1), grace=grace) == 0
    assert escalation.escalate_stalled_cases(db.session, due + timedelta(days=3), grace=grace) == 1


def test_stall_rule_takes_the_later_of_quiet_period_and_schedule():
    start = utcnow()
    assert escalation.stalled_since(start, 30, None) == start + timedelta(days=30)
    assert escalation.stalled_since(start, 30, start + timedelta(days=2)) == start + timedelta(days=30)
    assert escalation.stalled_since(start, 30, start + timedelta(days=180)) == start + timedelta(days=187)


# -- cases in error -------------------------------------------------------------------------------

def test_case_entering_error_escalates_at_once_without_the_data_values(world):
    deploy_fixture("rekenfout")
    case_id = world.start("rekenfout", world.coordinator)
    [task] = world.open_items(case_id)
    outcome = cases_complete(world, task, toelichting="Jansen-geheim")

    assert outcome.error is not None and world.case(case_id).status is CaseStatus.ERROR
    [item] = escalations(case_id)
    reference = world.case(case_id).reference
    assert (item.element_id, item.organisation_id, item.role, item.status.value) == (
        escalation.ERROR_ELEMENT, world.gemeente_id, "Coordinator", "open")
    assert item.title == f"Casus {reference} staat in fout: stap 'Script_reken' liep vast (ValueError)"
    [mail] = mails("case_error")
    assert mail.to_address == "regie@gemeente.example" and mail.work_item_id == item.id
    written = [item.title, mail.subject, mail.body] + [e.summary for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "case_error_escalated"))]
    assert len(written) == 4 and not [text for text in written if "Jansen" in text]


def test_a_failing_retry_adds_nothing_and_a_good_one_leaves_the_escalation(world):
    deploy_fixture("rekenfout")
    case_id = world.start("rekenfout", world.coordinator)
    task = world.open_items(case_id)[0]
    assert cases_complete(world, task, toelichting="abc").error is not None
    assert cases_complete(world, task, toelichting="nog steeds fout").error is not None  # same episode
    assert len(escalations(case_id)) == 1 and len(mails("case_error")) == 1

    assert cases_complete(world, task, toelichting="41").error is None
    assert world.case(case_id).status is CaseStatus.ACTIVE
    [item] = escalations(case_id)
    assert item.status.value == "open"  # the coordinator closes it, having seen what happened


def test_routing_error_escalates_and_retry_after_mapping_the_role_succeeds(world):
    # The lane goes to a case role nobody holds in the case: the first task cannot be routed.
    roles.set_role_mapping(db.session, roles.RoleMappingInput("Toezicht", case_role="toezichthouder"))
    deploy_fixture("toezicht")
    outcome = cases.start_case(db.session, process_key="toezicht", data={}, actor=world.coordinator)
    db.session.commit()
    case_id = outcome.case.id
    assert world.case(case_id).status is CaseStatus.ERROR
    [item] = escalations(case_id)
    assert item.title.endswith("stap 'Task_invoer' liep vast (RoutingError)")

    again = cases.retry_case(db.session, case_id=case_id, actor=world.coordinator)
    db.session.commit()
    assert again.error is not None and len(escalations(case_id)) == 1

    roles.set_role_mapping(db.session, roles.RoleMappingInput("Toezicht", organisation="Gemeente Zoetermeer"))
    assert cases.retry_case(db.session, case_id=case_id, actor=world.coordinator).error is None
    db.session.commit()
    assert world.case(case_id).status is CaseStatus.ACTIVE and len(escalations(case_id)) == 1


def test_a_new_error_episode_after_the_escalation_was_handled_escalates_again(world):
    deploy_fixture("rekenfout")
    case_id = world.start("rekenfout", world.coordinator)
    task = world.open_items(case_id)[0]
    cases_complete(world, task, toelichting="x")
    world.complete(escalations(case_id)[0], world.coordinator, besluit="Invoer gecorrigeerd")
    cases_complete(world, task, toelichting="1")
    assert world.case(case_id).status is CaseStatus.ACTIVE
    # Recovered; the next failure is a new episode.
    db.session.expire_all()
    case = world.case(case_id)
    execution.mark_error(db.session, case, "Stap mislukt.", element="Task_klaar", actor=None, now=utcnow())
    db.session.commit()
    assert [e.status.value for e in escalations(case_id)] == ["completed", "open"]


def cases_complete(world, item, **data):
    outcome = work_items.complete(db.session, world.coordinator, item.id, data)
    db.session.commit()
    return outcome


# -- the woonoverlast process: schedules that explain a wait, and the evaluation rule ------------

def tick():
    """The sweeper's tick (timers, escalation, retention, outbox) in its own sessions."""
    db.session.remove()
    return watch.tick(lambda: Session(db.engine), notifications.SmtpSettings(host=None))


def to_last_chance_contract(flow, looptijd):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    flow.discuss(flow.attend(case_id), case_id, decision="laatstekanscontract")
    flow.do("goedewoning", case_id, "Laatstekanscontract afsluiten", getekend_op=flow.today().isoformat(),
            voorwaarden="Geen overlast.", looptijd=looptijd)
    return case_id


def test_monitored_last_chance_contract_is_waiting_not_stalled(flow):
    case_id = to_last_chance_contract(flow, "P12M")
    for days in (40, 100, 200):
        flow.later(days=days)
        assert tick().stalled_escalated == 0
    assert escalations(case_id) == []

    # The monitoring period ends without the timer firing: a week later the case is late.
    db.session.expire_all()
    due_at = datetime.fromisoformat(flow.case(case_id)["pending_timers"][0]["due_at"])
    assert escalation.escalate_stalled_cases(db.session, due_at + timedelta(days=8)) == 1
    db.session.commit()
    [item] = escalations(case_id)
    assert "verstreken zonder voortgang" in item.title


def test_case_waiting_for_the_court_is_not_stalled_before_its_follow_up_date(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    flow.discuss(flow.attend(case_id), case_id, decision="rechter")
    flow.do("goedewoning", case_id, "Dagvaarding uitbrengen", ingediend_op=flow.today().isoformat(),
            rechtbank="Rechtbank Den Haag, kanton")
    flow.later(days=90)
    assert tick().stalled_escalated == 0
    flow.later(days=110)  # past six months and a week: no ruling recorded
    assert tick().stalled_escalated == 1
    assert [i.element_id for i in escalations(case_id)] == [escalation.STALLED_ELEMENT]


def to_evaluation(flow, *, in_days):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(flow.attend(case_id), case_id, casusregisseur_organisation_id=ggd,
                 next_evaluation=flow.in_days(in_days))
    flow.do("ggd", case_id, "Regie voeren en evaluatie voorbereiden", voortgang="Loopt.",
            overlast_aanhoudend="nee", vraag="Kan de casus dicht?")
    assert flow.case(case_id)["stage"] == "evaluatie"
    return case_id


def test_evaluation_not_held_within_four_weeks_of_its_date_escalates_once_per_four_weeks(flow):
    case_id = to_evaluation(flow, in_days=14)
    flow.later(days=14 + 26)  # the evaluation date plus 26 days: meetings passed it by
    assert tick().evaluations_escalated == 0
    flow.later(days=3)
    first, again = tick(), tick()
    assert (first.evaluations_escalated, again.evaluations_escalated) == (1, 0)
    [item] = escalations(case_id, escalation.EVALUATION_ELEMENT)
    assert item.title.startswith("Evaluatie van ") and "niet binnen 4 weken gehouden" in item.title
    assert item.organisation.name == "Gemeente Zoetermeer" and item.role == "Coordinator"
    assert [m.case_id for m in mails("evaluation_overdue")] == [case_id]
    item_id = item.id

    flow.later(days=2)
    work_items.complete(db.session, flow_coordinator(flow), item_id, {"besluit": "Extra overleg gepland"})
    db.session.commit()
    flow.later(days=27)
    assert tick().evaluations_escalated == 0
    flow.later(days=2)
    assert tick().evaluations_escalated == 1  # four weeks after handling, as the referral's timer does

    flow.discuss(flow.attend(case_id), case_id, decision="afsluiten")
    flow.later(days=60)
    assert tick().evaluations_escalated == 0


def test_evaluation_held_in_time_does_not_escalate(flow):
    case_id = to_evaluation(flow, in_days=14)
    flow.discuss(flow.attend(case_id), case_id, decision="afsluiten")
    flow.later(days=60)
    assert tick().evaluations_escalated == 0 and escalations(case_id, escalation.EVALUATION_ELEMENT) == []


def flow_coordinator(flow):
    return Actor.of(db.session.scalar(select(User).where(User.username == "coordinator")))


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
