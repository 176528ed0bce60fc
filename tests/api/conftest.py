"""Fixtures for API tests: a world of organisations, users, role mappings and the test diagram."""

from __future__ import annotations

import pytest

from tests.api.flows import DIAGRAM, XML


@pytest.fixture
def world(client, make_user, auth_headers):
    """Gemeente, a corporation and the police, with routing and the test diagram deployed."""
    make_user("sanne", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("coordinator", "caseworker"))
    make_user("pieter", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("process_owner",))
    make_user("beheer", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("admin",))
    make_user("eva", organisation="De Goede Woning", kind="corporatie")
    make_user("kees", organisation="Politie Zoetermeer", kind="politie")
    response = client.put("/api/v1/roles", headers=auth_headers("beheer"), json={"mappings": [
        {"role": "Woningcorporatie", "case_role": "melder"},
        {"role": "Gemeente", "organisation": "Gemeente Zoetermeer"},
        {"role": "juristen", "organisation": "Gemeente Zoetermeer"},
    ]})
    assert response.status_code == 200, response.get_json()
    deployed = client.post("/api/v1/process-models?filename=overlast_test.bpmn", data=DIAGRAM,
                           headers={**auth_headers("pieter"), **XML})
    assert deployed.status_code == 201, deployed.get_json()
    return {name: auth_headers(name) for name in ("sanne", "pieter", "beheer", "eva", "kees")}


@pytest.fixture
def referred(flow):
    """A case referred by the corporation, tested, and on the agenda of the next meeting."""
    case_id = flow.report_and_investigate(kwetsbaar="ja", wijk="Palenstein")
    flow.refer(case_id)
    return case_id
