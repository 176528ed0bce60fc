"""Lists that scale: keyset pages walk the same order as one big query, and every list query is
served by an index in its sort order (EXPLAIN: no sort step), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from api.extensions import db
from engine import cases, history, paging, work_items
from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.models import Case, CaseEvent, WorkItem


def _items_with_mixed_due_dates(world: Any, count: int = 7) -> list[int]:
    world.deploy("herinnering")
    case_ids = [world.start("herinnering") for _ in range(count)]
    items = list(db.session.scalars(select(WorkItem).where(WorkItem.case_id.in_(case_ids)).order_by(WorkItem.id)))
    now = utcnow()
    # Two items share a due date (ties break on created_at, id); two have none (they come last).
    dues = [now + timedelta(days=3), now - timedelta(days=1), None, now + timedelta(days=3), now + timedelta(days=1),
            None, now - timedelta(days=2)]
    for item, due in zip(items, dues, strict=False):
        db.session.execute(update(WorkItem).where(WorkItem.id == item.id).values(due_at=due))
    db.session.execute(update(WorkItem).where(WorkItem.id.in_([i.id for i in items[0:3:2]]))
                       .values(claimed_by_id=world.corporation.user_id))
    db.session.commit()
    db.session.expire_all()
    return case_ids


def _walk(fetch: Callable[[str | None], list[Any]], cursor_of: Callable[[Any], str]) -> list[int]:
    seen: list[int] = []
    after = None
    for _ in range(50):
        page = fetch(after)
        seen += [row.id for row in page]
        if len(page) < 2:
            return seen
        after = cursor_of(page[-1])
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("filters", [{}, {"unclaimed": True}, {"mine": True}, {"overdue": True}])
def test_inbox_pages_by_cursor_in_due_order_undated_last(world, filters):
    _items_with_mixed_due_dates(world)
    actor = world.corporation
    everything = work_items.list_inbox(db.session, actor, limit=200, **filters)
    never = utcnow() + timedelta(days=36500)
    expected = sorted(everything, key=lambda i: (i.due_at is None, i.due_at or never, i.created_at, i.id))
    assert [i.id for i in everything] == [i.id for i in expected]
    assert len(everything) == {"unclaimed": 5, "mine": 2, "overdue": 2}.get(next(iter(filters), ""), 7)

    paged = _walk(lambda after: work_items.list_inbox(db.session, actor, limit=2, after=after, **filters),
                  work_items.inbox_cursor)
    assert paged == [i.id for i in everything]
    by_offset = [i.id for n in range(0, 8, 2) for i in work_items.list_inbox(db.session, actor, limit=2, offset=n,
                                                                                 **filters)]
    assert by_offset == paged


def test_case_list_pages_by_cursor_newest_first(world):
    case_ids = _items_with_mixed_due_dates(world, count=5)
    everything = cases.list_cases(db.session, world.coordinator, limit=200)
    assert [c.id for c in everything] == sorted(case_ids, reverse=True)
    paged = _walk(lambda after: cases.list_cases(db.session, world.coordinator, limit=2, after=after),
                  cases.case_cursor)
    assert paged == sorted(case_ids, reverse=True)
    assert [c.id for c in cases.list_cases(db.session, world.corporation, status="active", process="herinnering",
                                           limit=200)] == sorted(case_ids, reverse=True)


def test_history_pages_by_cursor_oldest_first(world):
    case_id = _items_with_mixed_due_dates(world, count=1)[0]
    all_ids = list(db.session.scalars(select(CaseEvent.id).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
    assert len(all_ids) >= 2
    assert [e.id for e in history.events_of(db.session, case_id)] == all_ids
    paged = _walk(lambda after: history.page(db.session, case_id, after=after, limit=2), history.cursor)
    assert paged == all_ids
    newest = history.newest_page(db.session, case_id, limit=1)
    assert [e.id for e in newest.events] == all_ids[-1:]
    assert newest.earlier == (len(all_ids) > 1)


def test_lists_leave_the_saved_state_and_the_diagram_unloaded(world):
    _items_with_mixed_due_dates(world, count=2)
    db.session.expunge_all()
    statements = []
    with _statements(statements):
        items = work_items.list_inbox(db.session, world.corporation)
        rows = cases.list_cases(db.session, world.coordinator)
    sql = " ".join(s for s, _ in statements).lower()
    for column in ("cases.state", "bpmn_xml", "process_versions.spec", "process_versions.forms"):
        assert column not in sql
    assert items and rows
    assert "state" not in db.inspect(rows[0]).dict
    assert "bpmn_xml" not in db.inspect(rows[0].process_version).dict


def test_a_forged_cursor_is_invalid_input(world):
    with pytest.raises(InvalidInputError):
        work_items.list_inbox(db.session, world.corporation, after="bm90IGEgY3Vyc29y")
    with pytest.raises(InvalidInputError):
        cases.list_cases(db.session, world.coordinator, after=paging.encode("x", 1))


# --- query plans -------------------------------------------------------------------------------

@contextmanager
def _statements(into: list[tuple[str, Any]]) -> Iterator[None]:
    def capture(conn, cursor, statement, parameters, context, executemany):
        into.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def _plans(run: Callable[[], Any], table: str) -> list[str]:
    """The plans of the statements `run` sends that read `table`. On PostgreSQL, sequential scans,
    bitmap scans and sorts are priced out: if a plan still has no Sort node, an index provides the
    order (so the plan does not depend on how many rows the test happens to have)."""
    statements: list[tuple[str, Any]] = []
    with _statements(statements):
        run()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_bitmapscan = off")
            cursor.execute("SET enable_sort = off")
        plans = []
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or f"FROM {table}" not in statement:
                continue
            cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters)
            plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
        return plans
    finally:
        raw.rollback()
        raw.close()


def _assert_ordered_by_index(plans: list[str], index: str) -> None:
    assert plans
    for plan in plans:
        assert index in plan, plan
        assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize(("filters", "index"), [
    ({}, "ix_work_items_inbox"),
    ({"overdue": True}, "ix_work_items_inbox"),
    ({"unclaimed": True}, "ix_work_items_unclaimed"),
    ({"mine": True}, "ix_work_items_mine"),
])
def test_every_inbox_page_walks_an_index_in_order(world, filters, index):
    _items_with_mixed_due_dates(world, count=3)
    actor = world.corporation
    first = work_items.list_inbox(db.session, actor, limit=1, **filters)
    after = work_items.inbox_cursor(first[0])
    _assert_ordered_by_index(_plans(lambda: work_items.list_inbox(db.session, actor, limit=50, **filters),
                                    "work_items"), index)
    _assert_ordered_by_index(_plans(lambda: work_items.list_inbox(db.session, actor, limit=50, after=after,
                                                                  **filters), "work_items"), index)
    if filters.get("overdue"):
        return  # overdue items all have a due date: past the dated ones there is nothing to read
    undated = work_items.inbox_cursor(WorkItem(id=1, due_at=None, created_at=utcnow()))
    _assert_ordered_by_index(_plans(lambda: work_items.list_inbox(db.session, actor, limit=50, after=undated,
                                                                  **filters), "work_items"), index)


@pytest.mark.parametrize(("filters", "index"), [
    ({}, "ix_cases_opened"),
    ({"status": "active"}, "ix_cases_status_opened"),
    ({"stage": "Melding"}, "ix_cases_stage_opened"),
])
def test_every_case_list_page_walks_an_index_in_order(world, filters, index):
    _items_with_mixed_due_dates(world, count=2)
    after = cases.case_cursor(db.session.scalars(select(Case)).first())
    for actor in (world.coordinator, world.corporation):
        _assert_ordered_by_index(_plans(lambda a=actor: cases.list_cases(db.session, a, **filters), "cases"), index)
        _assert_ordered_by_index(_plans(lambda a=actor: cases.list_cases(db.session, a, after=after, **filters),
                                        "cases"), index)


def test_a_history_page_walks_an_index_in_order(world):
    case_id = _items_with_mixed_due_dates(world, count=1)[0]
    _assert_ordered_by_index(_plans(lambda: history.newest_page(db.session, case_id), "case_events"),
                             "ix_case_events_case_id_id")
    _assert_ordered_by_index(_plans(lambda: history.page(db.session, case_id, after=paging.encode(1)),
                                    "case_events"), "ix_case_events_case_id_id")
