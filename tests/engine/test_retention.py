"""Retention proposals: one query over the newly eligible cases, per result's period, never a
case's saved state; once per case; never under a legal hold."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import event, select

from api.extensions import db
from engine import retention
from engine.clock import utcnow
from engine.models import Case, CaseStatus
from engine.retention import DestructionProposal


def closed_case(world, result):
    """A case run to its end through the engine, closing with `result`."""
    case_id = world.start("wacht", wachttijd="PT1H")
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        world.sweep()
        [task] = world.open_items(case_id)
        world.complete(task, world.coordinator, **({"resultaat": result} if result else {}))
    case = world.case(case_id)
    assert case.status is CaseStatus.COMPLETED and case.result == result
    return case_id


def proposed_ids():
    db.session.expire_all()
    return sorted(db.session.scalars(select(DestructionProposal.case_id)))


def test_each_result_is_proposed_after_its_own_period_once(world):
    world.deploy("wacht")
    moved = closed_case(world, "verhuisd")  # P1Y
    solved = closed_case(world, "overlast_beeindigd")  # P2Y
    plain = closed_case(world, None)  # standaard, P5Y
    closed_at = world.case(moved).closed_at

    assert retention.propose_destructions(db.session, closed_at + timedelta(days=364)) == 0
    assert retention.propose_destructions(db.session, closed_at + timedelta(days=366)) == 1
    assert proposed_ids() == [moved]
    assert retention.propose_destructions(db.session, closed_at + timedelta(days=366)) == 0  # once
    assert retention.propose_destructions(db.session, closed_at + timedelta(days=731)) == 1
    assert retention.propose_destructions(db.session, closed_at + timedelta(days=5 * 365 + 1)) == 1
    assert proposed_ids() == sorted([moved, solved, plain])
    proposal = db.session.scalar(select(DestructionProposal).where(DestructionProposal.case_id == moved))
    assert proposal.due_since == closed_at + timedelta(days=365)


def test_legal_hold_and_destroyed_cases_are_not_proposed(world):
    world.deploy("wacht")
    held = closed_case(world, "verhuisd")
    gone = closed_case(world, "verhuisd")
    db.session.get(Case, held).legal_hold_reason = "Lopende procedure"
    db.session.get(Case, gone).destroyed_at = utcnow()
    db.session.commit()

    assert retention.propose_destructions(db.session, utcnow() + timedelta(days=400)) == 0
    assert proposed_ids() == []


def test_proposing_is_one_query_that_never_reads_saved_state(world):
    world.deploy("wacht")
    for _ in range(3):
        closed_case(world, "verhuisd")
    db.session.expire_all()
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert retention.propose_destructions(db.session, utcnow() + timedelta(days=400)) == 3
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    on_cases = [s for s in statements if s.lstrip().startswith("select") and "from cases" in s]
    assert len(on_cases) == 1
    assert "cases.state" not in on_cases[0] and "cases.closed_at <=" in on_cases[0]
