"""The covenant on the pages: titles and submitted data only as the reader's organisation may see
them, and every such read written to the access log before the page is sent.

Page code calls `note_read`; titles go through the `visible_title` template global; one
after_request hook logs everything the page disclosed, on its own connection. If logging fails
the page is replaced by an error: nothing leaves unlogged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g
from flask_login import current_user
from sqlalchemy.orm import Session

from api.extensions import db
from engine import audit
from engine.accounts import Actor
from engine.covenant import SHIELDED, current_covenant, current_version
from engine.disclosure import TITLE_CATEGORY, title_of
from engine.models import Case

log = logging.getLogger(__name__)


def note_read(access: audit.Access) -> None:
    g.setdefault("disclosed", []).append(access)


def visible_title(case: Case) -> str:
    actor = Actor.of(current_user.user)
    title = title_of(current_covenant(db.session), actor, case)
    if title != SHIELDED:
        note_read(audit.Access("read", "overzicht", case.id, case.reference, (TITLE_CATEGORY,), ("titel",)))
    return title


def _log_disclosures(response: Response) -> Response:
    accesses: list[audit.Access] = g.pop("disclosed", [])
    if not accesses or not current_user.is_authenticated:
        return response
    merged: dict[tuple[Any, str], audit.Access] = {}
    for access in accesses:  # one entry per case and purpose, however often a page showed it
        key = (access.case_id, access.purpose)
        seen = merged.get(key)
        merged[key] = access if seen is None else audit.Access(
            access.action, access.purpose, access.case_id, access.subject,
            tuple(sorted(set(seen.categories) | set(access.categories))),
            tuple(sorted(set(seen.fields) | set(access.fields))))
    try:
        audit.record_in_own_transaction(lambda: Session(db.engine), Actor.of(current_user.user), merged.values(),
                                        covenant_version=current_version(db.session).version)
    except Exception:
        log.exception("access log not written; page withheld")
        return Response("De pagina kon niet veilig worden getoond (toegangslog niet beschikbaar). Probeer het "
                        "later opnieuw.", status=503, mimetype="text/plain")
    return response


def init_app(app: Flask) -> None:
    app.add_template_global(visible_title)
    app.after_request(_log_disclosures)
