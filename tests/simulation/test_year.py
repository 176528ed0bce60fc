"""A small simulated year on each backend: the real diagrams, forms and demo partners through the
API, a moving clock and the real sweeper (tests/simulation/year.py). Each test reads one
assertion of the simulation; the year itself runs once per backend."""

from __future__ import annotations

import os

import pytest

from tests.simulation import year

WATCH_TASK_BUG = (
    "NEW product bug found by this simulation, not owned by any branch yet: when the meeting's outcome is recorded "
    "after a referral's 4-week timer is due but before a sweep fired it, the event-based gateway lets both events "
    "through: 'Niet-besproken aanmelding oppakken' opens beside the regie round and the case goes straight back on "
    "the agenda as an evaluation (WO-2026-00007 with this seed; minimal case in test_watch_race.py), so its stage "
    "and the lead-time report drift from the diagram. Remove this marker once it is fixed.")
CASES, SEED = int(os.environ.get("SIM_CASES", 16)), 20260302
DAYS = int(os.environ.get("SIM_DAYS", 365))
_RUNS: dict[str, year.Summary] = {}


@pytest.fixture
def simulated(request: pytest.FixtureRequest, backend: str) -> year.Summary:
    if backend not in _RUNS:
        _RUNS[backend] = year.run(request.getfixturevalue("flow"), CASES, SEED, days=DAYS)
        print(_RUNS[backend].format())
    return _RUNS[backend]


@pytest.mark.xfail(strict=False, reason=WATCH_TASK_BUG)
def test_the_year_covers_every_partner_kind_and_goes_as_the_model_says(simulated):
    assert simulated.regisseur_kinds == set(year.KINDS)  # each kind chosen as casusregisseur
    assert simulated.action_kinds == set(year.KINDS)  # and given actions
    assert simulated.repeated_regie_with_actions > 0 and simulated.stall_escalations > 0
    assert simulated.model_mismatches == []
    assert simulated.unexpected == []


@pytest.mark.xfail(strict=False, reason="Known bugs, fixed on branches covenant and miloops: cases with GGZ appointed "
                   "cannot finish (403), and cases whose second regie round has actions go to error, so in a small "
                   "year not every end is reached. Remove this marker once both are merged.")
def test_the_year_reaches_every_end(simulated):
    assert set(simulated.ends) >= {
        "eigen_waarschuwing: overlast_beeindigd", "regie: overlast_beeindigd", "regie_herhaald: overlast_beeindigd",
        "laatstekanscontract: laatstekanscontract_nageleefd", "contract_geschonden: ontbinding_huurovereenkomst",
        "rechter: ontbinding_huurovereenkomst", "verhuisd: verhuisd"}, (simulated.ends, simulated.unfinished)


@pytest.mark.xfail(strict=False, reason=WATCH_TASK_BUG)
def test_the_lead_time_report_equals_the_ground_truth(simulated):
    assert simulated.lead_times  # the simulation has its own figures to compare with
    assert simulated.lead_time_mismatches == []


@pytest.mark.xfail(strict=False, reason="Known bugs, fixed on other branches: the second regie round with actions "
                   "puts the case in error (branch miloops) and an errored case is never escalated (branch "
                   "escalation). Remove this marker once both are merged.")
def test_no_case_is_in_error_without_an_escalation(simulated):
    assert simulated.errors_not_escalated == []


@pytest.mark.xfail(strict=False, reason="Known bug, fixed on branch escalation: a case in error is never escalated, "
                   "so it waits silently (here: cases put in error by the second regie round, branch miloops). "
                   "Remove this marker once both are merged.")
def test_no_case_stalls_silently(simulated):
    assert simulated.silent_stalls == []


@pytest.mark.xfail(strict=False, reason="Known bug, fixed on branch covenant: the meeting can appoint GGZ as "
                   "casusregisseur or action holder, but GGZ may not write `woongedrag`, the category of required "
                   "fields of the regie and actie forms (403). Remove this marker once it is merged.")
def test_no_partner_is_appointed_who_cannot_complete_its_tasks(simulated):
    assert simulated.blocked_appointments == []
