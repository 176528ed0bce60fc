"""Werkvoorraad: the open work items of the person's organisation, with filters and claim/release.

The table is one fragment: the full page includes it, the home page loads it with htmx, and the
claim and release buttons (htmx POSTs, plain form POSTs without JavaScript) answer with it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from api.extensions import db
from api.web.errors import page_blueprint
from api.web.guards import ROW_ID, page_actor, requires
from api.web.messages import for_error
from engine import dashboard, work_items
from engine.accounts import Actor
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.models import Role, WorkItem

bp = page_blueprint("web_inbox", "/werkvoorraad")

# URL word -> list_inbox keyword; "alle" lists every open item.
FILTERS = {"alle": None, "mijn": "mine", "vrij": "unclaimed", "te-laat": "overdue"}
FILTER_LABELS = {"alle": "Alle taken", "mijn": "Door mij opgepakt", "vrij": "Niet opgepakt", "te-laat": "Te laat"}
PAGE_SIZE = 200


def _chosen_filter() -> str:
    chosen = request.values.get("toon", "alle")
    return chosen if chosen in FILTERS else "alle"


def inbox_context(chosen: str, *, message: str | None = None, error: str | None = None) -> dict[str, Any]:
    """What the inbox fragment shows: filter links with counts, and the table of items."""
    actor = page_actor()
    keyword = FILTERS[chosen]
    items = work_items.list_inbox(db.session, actor, limit=PAGE_SIZE, **({keyword: True} if keyword else {}))
    now = utcnow()
    counts = dashboard.inbox_counts(db.session, actor, now=now)
    by_filter = {"alle": counts.all, "mijn": counts.mine, "vrij": counts.unclaimed, "te-laat": counts.overdue}
    return {"items": items, "chosen": chosen, "counts": by_filter, "labels": FILTER_LABELS, "now": now,
            "actor": actor, "message": message, "error": error, "page_size": PAGE_SIZE, "push_url": _on_inbox_page()}


def _on_inbox_page() -> bool:
    # Filters put their URL in the address bar on the inbox page, not on the home page that embeds it.
    if not request.headers.get("HX-Request"):
        return True
    return urlsplit(request.headers.get("HX-Current-URL", "")).path == url_for("web_inbox.inbox")


@bp.get("")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def inbox() -> Any:
    return render_template("web/inbox.html", **inbox_context(_chosen_filter()))


@bp.get("/tabel")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def inbox_fragment() -> Any:
    return render_template("web/_inbox.html", **inbox_context(_chosen_filter()))


@bp.post(f"/<{ROW_ID}:item_id>/oppakken")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def claim(item_id: int) -> Any:
    return _change(item_id, work_items.claim, "Taak ‘{}’ is nu van jou.")


@bp.post(f"/<{ROW_ID}:item_id>/vrijgeven")
@requires(Role.CASEWORKER, Role.COORDINATOR)
def unclaim(item_id: int) -> Any:
    return _change(item_id, work_items.unclaim, "Taak ‘{}’ is vrijgegeven.")


def _change(item_id: int, action: Callable[[Session, Actor, int], WorkItem], done: str) -> Any:
    chosen = _chosen_filter()
    message = error = None
    try:
        item = action(db.session, page_actor(), item_id)
        db.session.commit()
        message = done.format(item.title)
    except ConflictError as refused:
        # Someone was quicker: show it in the refreshed table, so the person stays where they were.
        # Another organisation's item (403) or a missing one (404) go to the error handlers.
        db.session.rollback()
        error = for_error(refused)
    if request.headers.get("HX-Request"):
        return render_template("web/_inbox.html", **inbox_context(chosen, message=message, error=error))
    flash(error or message or "", "error" if error else "info")
    return redirect(url_for("web_inbox.inbox", toon=chosen))
