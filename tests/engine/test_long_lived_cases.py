"""A case that loops for years (an evaluation every two weeks) keeps working, through the database."""

from __future__ import annotations

import json
from pathlib import Path

from api.extensions import db
from engine import catalog, roles
from engine.models import CaseStatus

LOOP = (Path(__file__).parents[2] / "bench" / "loop.bpmn").read_bytes()
ROUNDS = 2000


def test_two_thousand_evaluation_rounds_neither_stall_nor_complete_and_stay_small(world):
    roles.set_role_mapping(db.session, roles.RoleMappingInput("Gemeente", organisation="Gemeente Zoetermeer"))
    catalog.deploy_process(db.session, xml=LOOP, filename="loop.bpmn", forms={})
    db.session.commit()
    case_id = world.start("bench_evaluatie", actor=world.coordinator)
    sizes = {}

    for round_number in range(1, ROUNDS + 1):
        [item] = world.open_items(case_id)  # exactly one evaluation open, every round
        world.complete(item, world.coordinator, opgelost=False)
        if round_number in (10, ROUNDS):
            sizes[round_number] = len(json.dumps(world.case(case_id).state))

    case = world.case(case_id)
    assert case.status is CaseStatus.ACTIVE and case.closed_at is None
    assert [i.title for i in world.open_items(case_id)] == ["Casus evalueren"]
    assert sizes[ROUNDS] <= 1.5 * sizes[10], sizes

    world.complete(world.open_items(case_id)[0], world.coordinator, opgelost=True)
    assert world.case(case_id).status is CaseStatus.COMPLETED
