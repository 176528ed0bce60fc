"""Routing is a pure function: (lane or candidate groups, mappings, case roles) -> organisation."""

from __future__ import annotations

import pytest

from engine.errors import RoutingError
from engine.routing import CaseRole, FixedOrganisation, organisation_from_data, route_task

MAPPINGS = {
    "woningcorporatie": CaseRole("melder"),
    "gemeente": FixedOrganisation(1),
    "casusregisseur": CaseRole("casusregisseur"),
    "juristen": FixedOrganisation(1),
    "politie": FixedOrganisation(4),
}


def test_lane_mapped_to_fixed_organisation():
    route = route_task(lane="Gemeente", candidate_groups=(), mappings=MAPPINGS, case_roles={})

    assert (route.role, route.organisation_id) == ("Gemeente", 1)


def test_lane_mapped_to_case_role_resolves_per_case():
    first = route_task(lane="Woningcorporatie", candidate_groups=(), mappings=MAPPINGS, case_roles={"melder": 2})
    second = route_task(lane="Woningcorporatie", candidate_groups=(), mappings=MAPPINGS, case_roles={"melder": 3})

    assert first.organisation_id == 2
    assert second.organisation_id == 3


def test_candidate_group_wins_over_lane():
    route = route_task(lane="Woningcorporatie", candidate_groups=["juristen"], mappings=MAPPINGS,
                       case_roles={"melder": 2})

    assert (route.role, route.organisation_id) == ("juristen", 1)


def test_first_resolvable_candidate_group_is_used():
    route = route_task(lane=None, candidate_groups=["casusregisseur", "politie"], mappings=MAPPINGS, case_roles={})

    assert (route.role, route.organisation_id) == ("politie", 4)


def test_role_names_match_regardless_of_case_and_spacing():
    route = route_task(lane="  GEMEENTE ", candidate_groups=(), mappings=MAPPINGS, case_roles={})

    assert route.organisation_id == 1


def test_casusregisseur_before_the_meeting_chose_one_is_a_routing_error():
    with pytest.raises(RoutingError, match="casusregisseur"):
        route_task(lane="Casusregisseur", candidate_groups=(), mappings=MAPPINGS, case_roles={"melder": 2})


def test_unmapped_lane_is_a_routing_error_naming_the_role():
    with pytest.raises(RoutingError, match="'Bakkerij' is not mapped"):
        route_task(lane="Bakkerij", candidate_groups=(), mappings=MAPPINGS, case_roles={})


def test_task_without_lane_or_group_is_a_routing_error():
    with pytest.raises(RoutingError, match="no lane and no candidate group"):
        route_task(lane=None, candidate_groups=[" "], mappings=MAPPINGS, case_roles={})


def test_organisation_named_by_the_tasks_data_wins_over_its_lane():
    route = route_task(lane="Ketenpartner", candidate_groups=(), mappings=MAPPINGS, case_roles={},
                       organisation_id=7)

    assert (route.role, route.organisation_id) == ("Ketenpartner", 7)


def test_organisation_is_found_along_a_dotted_path_in_task_data():
    data = {"actie": {"organisatie_id": 5, "omschrijving": "Huisbezoek"}}

    assert organisation_from_data("actie.organisatie_id", data) == 5
    assert organisation_from_data("id", {"id": "12"}) == 12


@pytest.mark.parametrize("data", [{}, {"actie": 5}, {"actie": {"organisatie_id": None}},
                                  {"actie": {"organisatie_id": True}}, {"actie": {"organisatie_id": "GGD"}},
                                  {"actie": {"organisatie_id": 2**40}}, {"actie": {"organisatie_id": -1}}])
def test_missing_or_malformed_organisation_in_task_data_cannot_be_routed(data):
    with pytest.raises(RoutingError):
        organisation_from_data("actie.organisatie_id", data)
