"""What an organisation may see of a case, per the covenant — the one place case data is filtered.

Every read of case data through the API (and the pages) goes through here, and the result says
which categories and fields were disclosed so that the access log can record exactly that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.accounts import Actor
from engine.covenant import SHIELDED, Covenant, Disclosure, categories_of_form, category_of, current_covenant, disclose
from engine.models import Case, CaseEvent, Role

TITLE_CATEGORY = "basisgegevens"


@dataclass
class DisclosedEvent:
    event: CaseEvent
    data: dict[str, Any] | None
    shielded: list[str]


@dataclass
class CaseDisclosure:
    """The case as this actor may see it, plus what was disclosed (for the access log)."""

    title: str
    subject: str | None
    events: list[DisclosedEvent]
    categories: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    variables: dict[str, Any] = field(default_factory=dict)
    shielded_variables: list[str] = field(default_factory=list)

    def access(self, case: Case, purpose: str) -> audit.Access:
        return audit.Access("read", purpose, case.id, case.reference, tuple(sorted(self.categories)),
                            tuple(sorted(self.fields)))


def title_of(covenant: Covenant, actor: Actor, case: Case) -> str:
    if covenant.may_read(actor.organisation_kind, TITLE_CATEGORY):
        return case.title
    return SHIELDED


def disclose_case(
    session: Session, actor: Actor, case: Case, events: list[CaseEvent], variables: Mapping[str, Any] | None = None,
) -> CaseDisclosure:
    """Filter a case's title, subject, history data and (when given) variables for the actor's organisation."""
    covenant = current_covenant(session)
    kind = actor.organisation_kind
    readable_title = covenant.may_read(kind, TITLE_CATEGORY)
    out = CaseDisclosure(case.title if readable_title else SHIELDED,
                         case.subject if readable_title else None, [])
    if readable_title:
        out.categories.add(TITLE_CATEGORY)
        out.fields.add("titel")
    for event in events:
        if event.data is None:
            out.events.append(DisclosedEvent(event, None, []))
            continue
        seen = disclose(covenant, kind, event.data, event.categories)
        out.categories |= seen.categories
        out.fields |= set(seen.values)
        out.events.append(DisclosedEvent(event, seen.values, sorted(seen.shielded)))
    if variables:
        seen = disclose_variables(covenant, actor, case, variables)
        out.categories |= seen.categories
        out.fields |= set(seen.values)
        out.variables, out.shielded_variables = seen.values, sorted(seen.shielded)
    return out


def disclose_variables(covenant: Covenant, actor: Actor, case: Case, variables: Mapping[str, Any]) -> Disclosure:
    """Case variables as the actor may see them. A variable's category comes from the covenant's field
    dictionary, else from the forms of the case's process version; one without a category (a script's
    result, the meeting's bookkeeping) is shown to the coordinator only."""
    form_categories: dict[str, str | None] = {}
    for definition in (case.process_version.forms or {}).values():
        for key, category in categories_of_form(definition).items():
            form_categories.setdefault(key, category)
    categorised = {k: v for k, v in variables.items() if category_of(covenant, k, form_categories.get(k))}
    out = disclose(covenant, actor.organisation_kind, categorised, form_categories)
    for key, value in variables.items():
        if key in categorised:
            continue
        if actor.has(Role.COORDINATOR):
            out.values[key] = value
        else:
            out.shielded.append(key)
    return out

