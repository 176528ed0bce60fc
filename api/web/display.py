"""How the pages show things: dates in Europe/Amsterdam, Dutch labels for statuses, roles and kinds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, request
from flask_login import current_user

from engine.models import CaseStatus, OrganisationKind, Role

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

STATUS_LABELS = {
    CaseStatus.ACTIVE: "Lopend",
    CaseStatus.SUSPENDED: "Gepauzeerd",
    CaseStatus.COMPLETED: "Afgesloten",
    CaseStatus.TERMINATED: "Beëindigd",
    CaseStatus.ERROR: "Vastgelopen",
}
ROLE_LABELS = {
    Role.CASEWORKER: "behandelaar",
    Role.COORDINATOR: "regisseur",
    Role.PROCESS_OWNER: "proceseigenaar",
    Role.ADMIN: "beheerder",
}
KIND_LABELS = {
    OrganisationKind.GEMEENTE: "Gemeente",
    OrganisationKind.CORPORATIE: "Woningcorporatie",
    OrganisationKind.POLITIE: "Politie",
    OrganisationKind.GGD: "GGD",
    OrganisationKind.GGZ: "GGZ",
    OrganisationKind.ZORG: "Zorgorganisatie",
}
_MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")


def local(value: datetime) -> datetime:
    """The moment as a clock in the Netherlands shows it (summer and winter time included)."""
    return value.astimezone(AMSTERDAM)


def moment(value: datetime | None) -> str:
    """`14 mrt 2026 09:30`, in Europe/Amsterdam; a dash when there is no value."""
    if value is None:
        return "—"
    shown = local(value)
    return f"{shown.day} {_MONTHS[shown.month - 1]} {shown.year} {shown:%H:%M}"


def day(value: datetime | None) -> str:
    """`14 mrt 2026`, the calendar day in Europe/Amsterdam."""
    if value is None:
        return "—"
    shown = local(value)
    return f"{shown.day} {_MONTHS[shown.month - 1]} {shown.year}"


def iso(value: datetime | None) -> str:
    """Machine-readable value for <time datetime="...">."""
    return local(value).isoformat(timespec="minutes") if value is not None else ""


def label(value: Any) -> str:
    """The Dutch word for a case status, user role or organisation kind."""
    for table in (STATUS_LABELS, ROLE_LABELS, KIND_LABELS):
        if value in table:
            return table[value]  # type: ignore[index]
    return str(value) if value is not None else "—"


def has_role(role: str) -> bool:
    """For navigation: does the logged-in person have this role (no role implies another)?"""
    if not current_user.is_authenticated:
        return False
    return Role(role) in current_user.roles


def is_current(*blueprints: str) -> bool:
    return request.blueprint in blueprints


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(moment=moment, day=day, iso=iso, label=label)
    app.jinja_env.globals.update(has_role=has_role, is_current=is_current)
