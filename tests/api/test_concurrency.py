"""Two people complete the same work item at the same moment, over real concurrent connections:
exactly one completion runs, the other gets 409, and the case moves on once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from api.extensions import db
from engine.models import CaseEvent, WorkItem, WorkItemStatus
from tests.api.flows import DIAGRAM, XML, only_item, start


def test_concurrent_completions_of_one_item_exactly_one_wins(app, client, make_user, auth_headers):
    make_user("pieter", organisation="Gemeente Zoetermeer", kind="gemeente", roles=("process_owner", "admin"))
    make_user("eva", organisation="De Goede Woning", kind="corporatie")
    make_user("mark", organisation="De Goede Woning", kind="corporatie")
    owner = auth_headers("pieter")
    client.put("/api/v1/roles", headers=owner, json={"mappings": [
        {"role": "Woningcorporatie", "case_role": "melder"},
        {"role": "Gemeente", "organisation": "Gemeente Zoetermeer"},
        {"role": "juristen", "organisation": "Gemeente Zoetermeer"},
    ]})
    assert client.post("/api/v1/process-models", data=DIAGRAM, headers={**owner, **XML}).status_code == 201
    headers = {"eva": auth_headers("eva"), "mark": auth_headers("mark")}
    case = start(client, headers["eva"])
    item = only_item(client, headers["eva"])
    db.session.remove()  # The threads use their own connections; this one holds nothing.

    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def complete_as(name: str) -> None:
        with app.test_client() as own_client:
            barrier.wait()
            response = own_client.post(f"/api/v1/work-items/{item['id']}/complete", headers=headers[name],
                                       json={"data": {"bevindingen": f"door {name}", "ernst": "licht"}})
            statuses[name] = response.status_code

    threads = [threading.Thread(target=complete_as, args=(name,)) for name in ("eva", "mark")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses.values()) == [200, 409], statuses
    completions = db.session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case["id"],
                                                          CaseEvent.kind == "task_completed")
    )
    assert completions == 1
    open_items = db.session.scalars(
        select(WorkItem.title).where(WorkItem.case_id == case["id"], WorkItem.status == WorkItemStatus.OPEN)
    ).all()
    assert open_items == ["Waarschuwingsbrief sturen"]  # the case moved on exactly once
