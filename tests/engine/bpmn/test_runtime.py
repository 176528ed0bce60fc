"""Running cases: human tasks, due dates, timers, messages, loops and subprocesses, saved between steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
import time_machine

from engine.bpmn import runtime
from engine.errors import ConflictError, NotFoundError, ScriptError
from tests.engine.bpmn.scenario import Case

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


# --- the Camunda Modeler diagram -------------------------------------------------------------------

def test_camunda_diagram_runs_to_the_end():
    with at(T0):
        case = Case("camunda_melding.bpmn", data={"melder": "buurman"})
        [registreren] = case.ready(T0)
        assert (registreren.title, registreren.lane, registreren.form_key) == (
            "Melding registreren", "Gemeente", "melding-registreren")
        assert registreren.candidate_groups == ("gemeente", "casusregisseur")
        assert registreren.properties == {"stage": "intake", "privacy": "need-to-know"}
        assert registreren.process_id == "melding"

        case.complete("Melding registreren", T0, {"ernst": "hoog", "bezoek_uiterlijk": "2026-03-10"})
        assert case.titles(T0) == ["Huisbezoek afleggen"]
        case.complete("Huisbezoek afleggen", T0, {"bevinding": "geluidsoverlast"})
        assert case.titles(T0) == ["Dossier bijwerken"]
        assert case.timers() == []
        case.complete("Dossier bijwerken", T0)

        assert case.status() == "completed"
        assert case.data()["bevinding"] == "geluidsoverlast"
        assert case.data()["melder"] == "buurman"


def test_default_flow_is_taken_when_no_condition_holds():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        case.complete("Melding registreren", T0, {"ernst": "laag"})

        assert case.titles(T0) == ["Dossier bijwerken"]


def test_plain_p14d_boundary_timer_interrupts_after_fourteen_days():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        case.complete("Melding registreren", T0, {"ernst": "hoog", "bezoek_uiterlijk": "2026-03-10"})
        [timer] = case.timers()
        assert (timer.spec_name, timer.title) == ("Timer_termijn", "Termijn verstreken")
        assert timer.due_at == T0 + timedelta(days=14)
    with at(T0 + timedelta(days=13)):
        assert case.fire_timers() is False
    with at(T0 + timedelta(days=14, minutes=1)):
        assert case.fire_timers() is True
        assert case.titles(T0) == ["Escaleren naar casusoverleg"]
        assert case.status() == "active"


def test_due_dates_from_duration_and_expression_are_computed_once():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        [registreren] = case.ready(T0)
        assert registreren.due_date == T0 + timedelta(days=3)
        assert registreren.follow_up_date == T0 + timedelta(days=1)
        # Asking again later gives the stored value, not one computed from the new `now`.
        [again] = case.ready(T0 + timedelta(days=2))
        assert again.due_date == registreren.due_date

        case.complete("Melding registreren", T0, {"ernst": "hoog", "bezoek_uiterlijk": "2026-03-10"})
        [huisbezoek] = case.ready(T0)

    assert huisbezoek.due_date == datetime(2026, 3, 11, tzinfo=UTC)
    assert huisbezoek.follow_up_date is None


def test_failing_due_date_expression_raises_script_error_naming_the_task():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        case.complete("Melding registreren", T0, {"ernst": "hoog"})

        with pytest.raises(ScriptError) as caught:
            case.ready(T0)

    assert caught.value.problems[0].element == "Task_huisbezoek"


def test_completing_a_task_twice_is_a_conflict():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        [registreren] = case.ready(T0)
        workflow = case.load()
        runtime.complete_human_task(workflow, registreren.task_id, {"ernst": "laag"})

        with pytest.raises(ConflictError):
            runtime.complete_human_task(workflow, registreren.task_id, {})


def test_completing_an_unknown_or_compacted_task_is_not_found():
    with at(T0):
        case = Case("camunda_melding.bpmn")
        [registreren] = case.ready(T0)
        case.complete("Melding registreren", T0, {"ernst": "laag"})

        # Once saved, finished tasks may have been compacted away: the database layer answers
        # repeated completions from its own work items before it gets here.
        for task_id in (registreren.task_id, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
            with pytest.raises(NotFoundError):
                case.step(lambda wf, task_id=task_id: runtime.complete_human_task(wf, task_id, {}))


# --- timers ------------------------------------------------------------------------------------------

def test_iso_and_quoted_timers_report_aware_utc_due_times():
    start = datetime(2026, 4, 30, 12, 0, tzinfo=UTC)
    with at(start):
        case = Case("timers.bpmn")
        due = {timer.spec_name: timer.due_at for timer in case.timers()}

    assert due == {
        "Timer_plain": start + timedelta(hours=1),
        "Timer_quoted": start + timedelta(hours=2),
        "Timer_date": datetime(2026, 5, 1, 7, 0, tzinfo=UTC),
    }
    assert all(moment.utcoffset() == timedelta(0) for moment in due.values())
    with at(start + timedelta(hours=1, minutes=30)):
        assert case.fire_timers() is True
        assert [t.spec_name for t in case.timers()] == ["Timer_quoted", "Timer_date"]
        assert case.titles(start) == []
    with at(datetime(2026, 5, 1, 8, 0, tzinfo=UTC)):
        assert case.fire_timers() is True
        assert case.timers() == []
        assert case.titles(start) == ["Na de termijnen"]


def test_non_interrupting_timer_adds_reminder_and_keeps_first_task():
    with at(T0):
        case = Case("reminders.bpmn")
        assert [t.due_at for t in case.timers()] == [T0 + timedelta(days=7)]
    with at(T0 + timedelta(days=8)):
        assert case.fire_timers() is True
        assert case.titles(T0) == ["Herinnering opvolgen", "Melding behandelen"]
        assert case.timers() == []
        case.complete("Melding behandelen", T0)
        assert case.titles(T0) == ["Herinnering opvolgen"]
        assert case.status() == "active"
        case.complete("Herinnering opvolgen", T0)
        assert case.status() == "completed"


def test_non_interrupting_timer_is_dropped_when_task_completes_first():
    with at(T0):
        case = Case("reminders.bpmn")
        case.complete("Melding behandelen", T0)

        assert case.timers() == []
        assert case.status() == "completed"


def test_cycle_timer_fires_each_cycle_and_reports_next_due_time():
    with at(T0):
        case = Case("cycle_reminders.bpmn")
        assert [t.due_at for t in case.timers()] == [T0 + timedelta(minutes=10)]
    with at(T0 + timedelta(minutes=11)):
        assert case.fire_timers() is True
        assert case.titles(T0) == ["Herinnering opvolgen", "Melding behandelen"]
        assert [t.due_at for t in case.timers()] == [T0 + timedelta(minutes=20)]
    with at(T0 + timedelta(minutes=21)):
        assert case.fire_timers() is True
        assert case.titles(T0) == ["Herinnering opvolgen", "Herinnering opvolgen", "Melding behandelen"]
        assert case.timers() == []


# --- messages -----------------------------------------------------------------------------------------

def test_send_message_resumes_intermediate_catch_with_payload():
    with at(T0):
        case = Case("message_catch.bpmn")
        assert case.step(runtime.active_elements) == [("Catch_rapport", "Rapport ontvangen")]
        case.send("rapport_ontvangen", {"rapport": {"conclusie": "overlast bevestigd"}})
        [beoordelen] = case.ready(T0)
        data = case.step(lambda wf: wf.get_task_from_id(UUID(beoordelen.task_id)).data)

    assert beoordelen.title == "Rapport beoordelen"
    assert data["rapport"] == {"conclusie": "overlast bevestigd"}


def test_message_nobody_waits_for_is_refused():
    with at(T0):
        case = Case("message_catch.bpmn")

        with pytest.raises(ConflictError):
            case.send("iets_anders", {})
        case.send("rapport_ontvangen", {})
        with pytest.raises(ConflictError):
            case.send("rapport_ontvangen", {})


def test_event_based_gateway_loops_on_timer_until_message_arrives():
    with at(T0):
        case = Case("event_gateway_loop.bpmn")
        assert [t.due_at for t in case.timers()] == [T0 + timedelta(days=5)]
    for round_number in range(1, 4):
        moment = T0 + timedelta(days=6 * round_number)
        with at(moment):
            assert case.fire_timers() is True
            case.complete("Rappel sturen", T0)
            assert [t.due_at for t in case.timers()] == [moment + timedelta(days=5)]
    first_size = case.size()
    with at(T0 + timedelta(days=20)):
        case.send("reactie", {"antwoord": "akkoord"})
        assert case.titles(T0) == ["Reactie verwerken"]
        assert case.timers() == []
        case.complete("Reactie verwerken", T0)
        assert case.status() == "completed"
        assert case.data()["antwoord"] == "akkoord"
    assert first_size < 6000


# --- loops and subprocesses ------------------------------------------------------------------------

def test_standard_loop_subprocess_repeats_until_condition_and_stays_small():
    sizes = []
    with at(T0):
        case = Case("standard_loop_subprocess.bpmn")
        for _ in range(30):
            [evalueren] = case.ready(T0)
            assert (evalueren.title, evalueren.process_id) == ("Casus evalueren", "Sub_evaluatie")
            assert evalueren.due_date == T0 + timedelta(days=14)
            case.complete("Casus evalueren", T0, {"afgerond": False})
            sizes.append(case.size())
        assert len(case.saved["workflow"]["subprocesses"]) == 1
        case.complete("Casus evalueren", T0, {"afgerond": True})
        assert case.titles(T0) == ["Casus afsluiten"]
        case.complete("Casus afsluiten", T0)
        assert case.status() == "completed"
    # Only the list of merged iteration ids grows (one uuid per round).
    assert sizes[-1] - sizes[2] < 27 * 50


def test_call_activity_runs_task_of_called_process_and_returns_data():
    with at(T0):
        case = Case("call_main.bpmn", "call_huisbezoek.bpmn")
        [bezoek] = case.ready(T0)
        assert (bezoek.title, bezoek.process_id, bezoek.form_key) == (
            "Huisbezoek afleggen", "huisbezoek", "huisbezoek")
        case.complete("Huisbezoek afleggen", T0, {"bevinding": "rommel in tuin"})
        assert case.titles(T0) == ["Casus afsluiten"]
        # The finished subprocess is history now; compaction dropped it with its call activity.
        assert case.saved["workflow"]["subprocesses"] == {}
        case.complete("Casus afsluiten", T0)

        assert case.status() == "completed"
        assert case.data()["bevinding"] == "rommel in tuin"


def test_gateway_loop_inside_subprocess_with_boundary_timer_stays_small_and_interrupts():
    sizes = []
    with at(T0):
        case = Case("subprocess_loop_boundary.bpmn")
        for _ in range(60):
            case.complete("Gesprek voeren", T0, {"opnieuw": True})
            sizes.append(case.size())
        [timer] = case.timers()
        assert timer.due_at == T0 + timedelta(days=30)
    assert sizes[-1] <= 1.2 * sizes[4]
    with at(T0 + timedelta(days=31)):
        assert case.fire_timers() is True
        assert case.titles(T0) == ["Termijn evalueren"]
        assert case.saved["workflow"]["subprocesses"] == {}
        case.complete("Termijn evalueren", T0)
        assert case.status() == "completed"


def test_subprocess_finishing_before_its_boundary_timer_cancels_the_timer():
    with at(T0):
        case = Case("subprocess_loop_boundary.bpmn")
        case.complete("Gesprek voeren", T0, {"opnieuw": True})
        case.complete("Gesprek voeren", T0, {"opnieuw": False})

        assert case.titles(T0) == ["Begeleiding afsluiten"]
        assert case.timers() == []
