"""Need-to-know by role: administering accounts (admin) or diagrams (process owner) grants no case
data, in the API or the pages, even in an organisation that takes part in the case."""

from __future__ import annotations

import pytest

from tests.api.flows import complete, only_item, start
from tests.conftest import PASSWORD


@pytest.fixture
def shared_case(client, world):
    """A case the Gemeente Zoetermeer takes part in (its lawyers advise): pieter and beheer work there."""
    case = start(client, world["eva"], adres="Dorpsstraat 1", bewoner="J. Jansen")
    item = only_item(client, world["eva"])
    assert complete(client, world["eva"], item["id"], bevindingen="Stank", ernst="ernstig").status_code == 200
    return case["id"]


@pytest.mark.parametrize("who", ["pieter", "beheer"])
def test_admin_and_process_owner_read_no_case_through_the_api(client, world, shared_case, who):
    headers = world[who]

    assert client.get("/api/v1/cases", headers=headers).get_json() == []
    assert client.get(f"/api/v1/cases/{shared_case}", headers=headers).status_code == 404
    assert client.get("/api/v1/work-items", headers=headers).get_json() == []
    assert client.get("/api/v1/subjects/export?subject=J.%20Jansen", headers=headers).status_code == 403
    assert client.get("/api/v1/access-log", headers=headers).status_code == 403
    assert client.get("/api/v1/retention/proposals", headers=headers).status_code == 403


@pytest.mark.parametrize("who", ["pieter", "beheer"])
def test_admin_and_process_owner_open_no_case_page(client, world, shared_case, who):
    assert client.post("/login", data={"username": who, "password": PASSWORD}).status_code == 302

    assert client.get(f"/casussen/{shared_case}").status_code == 403
    assert client.get("/casussen").status_code == 403
    assert client.get("/dashboard").status_code == 403


def test_the_caseworkers_of_that_organisation_do_read_it(client, world, shared_case):
    assert client.get(f"/api/v1/cases/{shared_case}", headers=world["sanne"]).status_code == 200


def test_process_owner_sees_aggregates_and_diagrams(client, world, shared_case):
    report = client.get("/api/v1/reports/lead-times", headers=world["pieter"])
    assert report.status_code == 200 and report.get_json()["open_cases"] == 1
    assert client.get("/api/v1/process-models", headers=world["pieter"]).status_code == 200


def test_admin_manages_roles_but_deploys_no_diagram(client, world):
    from tests.api.flows import DIAGRAM, XML

    deployed = client.post("/api/v1/process-models?filename=x.bpmn", data=DIAGRAM, headers={**world["beheer"], **XML})
    assert deployed.status_code == 403
