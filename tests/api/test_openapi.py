"""The OpenAPI document, checked end to end by schemathesis: no 5xx, no response off-schema."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
)

from tests.api.flows import start

EXAMPLES = int(os.environ.get("OPENAPI_EXAMPLES", "15"))


def test_openapi_document_is_served_and_lists_the_api(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/tokens" in spec["paths"]
    assert "/api/v1/me" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_is_browsable_offline(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


# Their bodies are checked against what the server holds, which no OpenAPI document can spell out:
# start data against the covenant's fields, form data against the task's form, a diagram or a
# covenant against their own rules, role names against the deployed diagrams. A 422 there says
# "valid JSON, wrong content"; everywhere else a schema-valid request must not get a 400 or 422.
CONTENT_CHECKED = {
    "POST /api/v1/cases", "POST /api/v1/work-items/{item_id}/complete", "POST /api/v1/process-models",
    "PUT /api/v1/covenant", "PUT /api/v1/roles", "POST /api/v1/meetings/{meeting_id}/items/{case_id}/outcome",
}


def valid_data_accepted(ctx, response, case):
    if response.status_code == 422 and case.operation.label in CONTENT_CHECKED:
        return None
    return positive_data_acceptance(ctx, response, case)


ROLES = {
    "coordinator": dict(organisation="Gemeente Zoetermeer", kind="gemeente", roles=("coordinator", "caseworker")),
    "caseworker": dict(organisation="De Goede Woning", kind="corporatie", roles=("caseworker",)),
}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_api_conforms_to_its_openapi_document(app, client, world, make_user, token_for, role):
    # Driven through plain Hypothesis (schemathesis' pytest plugin does not run on pytest 9), over a
    # world with a deployed diagram and a running case, as a coordinator and as a caseworker:
    # no server error, no response off its schema, and every request the schema calls valid is
    # accepted (2xx, or an honest 401/403/404/409/429), never refused as malformed (400/422).
    start(client, world["eva"], adres="Dorpsstraat 1")
    make_user(f"st_{role}", **ROLES[role])
    headers = {"Authorization": f"Bearer {token_for(f'st_{role}')}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance, valid_data_accepted]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=checks)

        check()
