"""Helpers for driving cases through the API in tests."""

from __future__ import annotations

from pathlib import Path

DIAGRAM = (Path(__file__).parent.parent / "fixtures" / "processes" / "overlast_test.bpmn").read_bytes()
XML = {"Content-Type": "application/xml"}


def start(client, headers, **data):
    response = client.post("/api/v1/cases", headers=headers, json={"process": "overlast_test", "data": data})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def only_item(client, headers):
    items = client.get("/api/v1/work-items", headers=headers).get_json()
    assert len(items) == 1, items
    return items[0]


def complete(client, headers, item_id, **data):
    return client.post(f"/api/v1/work-items/{item_id}/complete", headers=headers, json={"data": data})
