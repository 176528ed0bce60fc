"""A small simulated year on each backend: the real diagrams, forms and demo partners through the
API, a moving clock and the real sweeper (tests/simulation/year.py). Each test reads one
assertion of the simulation; the year itself runs once per backend."""

from __future__ import annotations

import os

import pytest

from tests.simulation import year

CASES, SEED = int(os.environ.get("SIM_CASES", 16)), 20260302
DAYS = int(os.environ.get("SIM_DAYS", 365))
_RUNS: dict[str, year.Summary] = {}


@pytest.fixture
def simulated(request: pytest.FixtureRequest, backend: str) -> year.Summary:
    if backend not in _RUNS:
        _RUNS[backend] = year.run(request.getfixturevalue("flow"), CASES, SEED, days=DAYS)
        print(_RUNS[backend].format())
    return _RUNS[backend]


def test_the_year_covers_every_partner_kind_and_goes_as_the_model_says(simulated):
    assert simulated.regisseur_kinds == set(year.KINDS)  # each kind chosen as casusregisseur
    assert simulated.action_kinds == set(year.KINDS)  # and given actions
    assert simulated.repeated_regie_with_actions > 0 and simulated.stall_escalations > 0
    assert simulated.model_mismatches == []
    assert simulated.unexpected == []


def test_the_year_reaches_every_end(simulated):
    assert set(simulated.ends) >= {
        "eigen_waarschuwing: overlast_beeindigd", "regie: overlast_beeindigd", "regie_herhaald: overlast_beeindigd",
        "laatstekanscontract: laatstekanscontract_nageleefd", "contract_geschonden: ontbinding_huurovereenkomst",
        "rechter: ontbinding_huurovereenkomst", "verhuisd: verhuisd"}, (simulated.ends, simulated.unfinished)


def test_the_lead_time_report_equals_the_ground_truth(simulated):
    assert simulated.lead_times  # the simulation has its own figures to compare with
    assert simulated.lead_time_mismatches == []


def test_no_case_is_in_error_without_an_escalation(simulated):
    assert simulated.errors_not_escalated == []


def test_no_case_stalls_silently(simulated):
    assert simulated.silent_stalls == []


def test_no_partner_is_appointed_who_cannot_complete_its_tasks(simulated):
    assert simulated.blocked_appointments == []
