"""Input limits: ids beyond the database's range are not found (404, never a 500 on PostgreSQL),
JSON is parsed safely (400), and case data has a bounded shape (422 naming the field)."""

from __future__ import annotations

import json
import re

import pytest
from werkzeug.routing import IntegerConverter

from api import limits
from tests.api.flows import only_item, start
from tests.conftest import PASSWORD

PARAMETER = re.compile(r"<(?:[^:>]+:)?(\w+)>")
TOO_BIG = [str(2**31), str(2**63), "99999999999999999999999"]


def id_routes(app):
    """Every route with an integer id in its path, with each method it answers."""
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]
        if ints:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, ints, method


@pytest.mark.parametrize("value", [*TOO_BIG, "-1", "0"])
def test_any_out_of_range_id_is_404_on_every_endpoint(app, client, world, value):
    client.post("/login", data={"username": "sanne", "password": PASSWORD})
    routes = list(id_routes(app))
    assert len(routes) > 15
    for rule, ints, method in routes:
        path = PARAMETER.sub(lambda m, ints=ints: value if m.group(1) in ints else "x", rule.rule)
        response = client.open(path, method=method, json={}, headers=world["sanne"])
        assert response.status_code == 404, (method, path, response.status_code)


@pytest.mark.parametrize("body", [
    b'{"process": "\\ud800"}',
    b'{"process": "overlast_test", "data": {"\\udfff": 1}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 65 + b"1" + b"}" * 65,
    b'{"process": "x"',
    b'\xff\xfe{"process": 1}',
])
def test_unsafe_json_is_400(client, world, body):
    response = client.post("/api/v1/cases", data=body, headers={**world["eva"], "Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"


def test_json_at_the_depth_limit_is_read(client, world):
    body = '{"process": "overlast_test", "data": {}, "x": ' + "[" * (limits.MAX_JSON_DEPTH - 1) + "]" * (
        limits.MAX_JSON_DEPTH - 1) + "}"
    response = client.post("/api/v1/cases", data=body, headers={**world["eva"], "Content-Type": "application/json"})

    assert response.status_code == 422  # unknown field x: the body was read, and judged on its fields
    assert {e["field"] for e in response.get_json()["errors"]} == {"json.x"}


def nested(depth):
    value = "x"
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize(("data", "field"), [
    ({"adres": nested(limits.MAX_DATA_DEPTH + 1)}, "json.data.adres.a.a.a.a"),
    ({"adres": "x" * (limits.MAX_DATA_STRING + 1)}, "json.data.adres"),
    ({"adres": "x" * 4_000_000}, "json.data.adres"),
    ({f"veld{i}": 1 for i in range(limits.MAX_DATA_KEYS + 1)}, "json.data"),
    ({"lijst": list(range(limits.MAX_DATA_ITEMS + 1))}, "json.data.lijst"),
    ({"k" * (limits.MAX_DATA_KEY + 1): 1}, "json.data"),
])
def test_start_data_beyond_the_limits_is_422_naming_the_field(client, world, data, field):
    response = client.post("/api/v1/cases", json={"process": "overlast_test", "data": data}, headers=world["eva"])

    assert response.status_code == 422
    assert field in {e["field"] for e in response.get_json()["errors"]} or any(
        e["field"].startswith(field) for e in response.get_json()["errors"])
    assert client.get("/api/v1/cases", headers=world["eva"]).get_json() == []


def test_form_data_beyond_the_limits_is_422_naming_the_field(client, world):
    start(client, world["eva"])
    item = only_item(client, world["eva"])

    response = client.post(f"/api/v1/work-items/{item['id']}/complete", headers=world["eva"],
                           json={"data": {"bevindingen": "x" * (limits.MAX_DATA_STRING + 1), "ernst": "licht"}})

    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["json.data.bevindingen"]


def test_data_within_the_limits_is_accepted(client, world):
    data = {"adres": "x" * limits.MAX_DATA_STRING, "bewoner": "J. Jansen"}

    response = client.post("/api/v1/cases", json={"process": "overlast_test", "data": data}, headers=world["eva"])

    assert response.status_code == 201, json.dumps(response.get_json())[:500]


def test_the_task_page_applies_the_same_limits(client, world):
    start(client, world["eva"])
    item = only_item(client, world["eva"])
    client.post("/login", data={"username": "eva", "password": PASSWORD})

    response = client.post(f"/taken/{item['id']}/afronden", headers={"Accept": "application/json"},
                           json={"data": {"bevindingen": "x" * (limits.MAX_DATA_STRING + 1), "ernst": "licht"}})

    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["bevindingen"]
    assert only_item(client, world["eva"])["status"] == "open"
