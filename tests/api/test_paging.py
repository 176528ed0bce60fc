"""Keyset pages over HTTP: inbox, case list and history follow X-Next-Cursor; the case detail and
the /complete response stay the same size however long the history grows."""

from __future__ import annotations

import json

from api.extensions import db
from engine import history
from tests.api.flows import complete, only_item, start


def _walk(client, url, headers, limit):
    seen, query = [], f"limit={limit}"
    for _ in range(100):
        response = client.get(f"{url}?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        seen += response.get_json()
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return seen
        assert len(response.get_json()) == limit
        query = f"limit={limit}&after={cursor}"
    raise AssertionError("the pages never ended")


def test_inbox_and_case_list_page_by_cursor(client, world):
    started = [start(client, world["eva"], adres=f"Dorpsstraat {n}")["id"] for n in range(5)]
    inbox = client.get("/api/v1/work-items?limit=200", headers=world["eva"]).get_json()
    assert len(inbox) == 5
    assert [i["id"] for i in _walk(client, "/api/v1/work-items", world["eva"], 2)] == [i["id"] for i in inbox]
    assert [c["id"] for c in _walk(client, "/api/v1/cases", world["sanne"], 2)] == started[::-1]
    assert [c["id"] for c in _walk(client, "/api/v1/cases", world["eva"], 3)] == started[::-1]


def test_limits_above_200_and_forged_cursors_are_refused(client, world):
    case = start(client, world["eva"])
    for url in ("/api/v1/work-items", "/api/v1/cases", f"/api/v1/cases/{case['id']}/history"):
        assert client.get(f"{url}?limit=201", headers=world["sanne"]).status_code == 422
        refused = client.get(f"{url}?after=bm9wZQ", headers=world["sanne"])
        assert refused.status_code == 422, refused.get_json()
        assert refused.headers["Content-Type"].startswith("application/problem+json")


def test_history_pages_and_the_case_detail_carries_the_newest_page(client, world):
    case = start(client, world["eva"], adres="Dorpsstraat 1")
    item = only_item(client, world["eva"])
    for _ in range(30):  # each claim and release is a history event: a long history
        assert client.post(f"/api/v1/work-items/{item['id']}/claim", headers=world["eva"]).status_code == 200
        assert client.post(f"/api/v1/work-items/{item['id']}/unclaim", headers=world["eva"]).status_code == 200
    events = _walk(client, f"/api/v1/cases/{case['id']}/history", world["eva"], 7)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "case_started" and kinds.count("work_item_claimed") == 30 == kinds.count("work_item_unclaimed")
    assert events[0]["data"]["adres"] == "Dorpsstraat 1"

    detail = client.get(f"/api/v1/cases/{case['id']}", headers=world["eva"]).get_json()
    assert detail["earlier_history"] is True
    assert detail["history"] == events[-history.PAGE_SIZE:]

    young = start(client, world["eva"], adres="Dorpsstraat 2")
    young_detail = client.get(f"/api/v1/cases/{young['id']}", headers=world["eva"]).get_json()
    assert young_detail["earlier_history"] is False and len(young_detail["history"]) < history.PAGE_SIZE


def test_complete_answers_the_item_the_case_state_and_the_callers_next_items(client, world):
    case = start(client, world["eva"], adres="Dorpsstraat 1")
    item = only_item(client, world["eva"])
    for _ in range(30):
        client.post(f"/api/v1/work-items/{item['id']}/claim", headers=world["eva"])
        client.post(f"/api/v1/work-items/{item['id']}/unclaim", headers=world["eva"])
    done = complete(client, world["eva"], item["id"], bevindingen="Stank", ernst="licht")
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert set(body) == {"work_item", "case", "next_items"}
    assert body["work_item"]["id"] == item["id"] and body["work_item"]["status"] == "completed"
    assert body["case"]["id"] == case["id"] and body["case"]["status"] == "active"
    assert [i["title"] for i in body["next_items"]] == ["Waarschuwingsbrief sturen"]
    assert len(json.dumps(body)) < 4000  # no history, no diagram: independent of the case's age
    db.session.expire_all()
