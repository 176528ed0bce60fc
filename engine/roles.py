"""Role mappings: which organisation receives the tasks of each lane or candidate group."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError, Problem
from engine.models import Organisation, RoleMapping, RoleTargetKind
from engine.routing import CaseRole, FixedOrganisation, RoleTarget, role_key

# Case roles the engine fills in itself: the reporting organisation, and the case director
# chosen in the case meeting. Other case roles (e.g. zorgpartner) are assigned per case.
MELDER = "melder"
CASUSREGISSEUR = "casusregisseur"
_CASE_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")


@dataclass(frozen=True)
class RoleMappingInput:
    role: str
    organisation: str | None = None  # organisation name, for a fixed mapping
    case_role: str | None = None


def role_targets(session: Session) -> dict[str, RoleTarget]:
    """All mappings keyed by normalised role name, as routing wants them."""
    targets: dict[str, RoleTarget] = {}
    for row in session.scalars(select(RoleMapping)):
        if row.target is RoleTargetKind.ORGANISATION and row.organisation_id is not None:
            targets[role_key(row.role)] = FixedOrganisation(row.organisation_id)
        elif row.case_role:
            targets[role_key(row.role)] = CaseRole(row.case_role)
    return targets


def list_role_mappings(session: Session) -> list[RoleMapping]:
    return list(session.scalars(select(RoleMapping).order_by(RoleMapping.role)))


def replace_role_mappings(session: Session, mappings: Iterable[RoleMappingInput]) -> list[RoleMapping]:
    """Replace every mapping at once (PUT semantics). Validates all before writing any."""
    organisations = {o.name: o.id for o in session.scalars(select(Organisation))}
    rows: dict[str, RoleMapping] = {}
    problems = []
    now = utcnow()
    for i, item in enumerate(mappings):
        where = f"mappings.{i}"
        role = " ".join((item.role or "").split())
        if not role:
            problems.append(Problem("A role needs a name.", element=f"{where}.role"))
            continue
        if role_key(role) in {role_key(r) for r in rows}:
            problems.append(Problem(f"Role {role!r} is mapped twice.", element=f"{where}.role"))
            continue
        if (item.organisation is None) == (item.case_role is None):
            problems.append(Problem("Give either an organisation or a case role.", element=where))
            continue
        if item.organisation is not None:
            if item.organisation not in organisations:
                problems.append(Problem(f"There is no organisation named {item.organisation!r}.",
                                        element=f"{where}.organisation"))
                continue
            rows[role] = RoleMapping(role=role, target=RoleTargetKind.ORGANISATION,
                                     organisation_id=organisations[item.organisation], updated_at=now)
        else:
            case_role = (item.case_role or "").strip().lower()
            if not _CASE_ROLE.match(case_role):
                problems.append(Problem("A case role is a lower-case word such as 'melder' or 'casusregisseur'.",
                                        element=f"{where}.case_role"))
                continue
            rows[role] = RoleMapping(role=role, target=RoleTargetKind.CASE_ROLE, case_role=case_role, updated_at=now)
    if problems:
        raise InvalidInputError("The role mappings are not valid; nothing was changed.", problems=problems)
    session.execute(delete(RoleMapping))
    session.add_all(rows.values())
    session.flush()
    return sorted(rows.values(), key=lambda r: r.role)


def set_role_mapping(session: Session, item: RoleMappingInput) -> RoleMapping:
    """Add or change one mapping, keeping the others."""
    current = [
        RoleMappingInput(r.role, organisation=_organisation_name(session, r.organisation_id), case_role=r.case_role)
        for r in list_role_mappings(session)
        if role_key(r.role) != role_key(item.role)
    ]
    rows = replace_role_mappings(session, [*current, item])
    return next(r for r in rows if role_key(r.role) == role_key(item.role))


def _organisation_name(session: Session, organisation_id: int | None) -> str | None:
    if organisation_id is None:
        return None
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation else None


def describe(row: RoleMapping, organisation_names: Mapping[int, str]) -> dict[str, str | None]:
    return {
        "role": row.role,
        "organisation": organisation_names.get(row.organisation_id) if row.organisation_id else None,
        "case_role": row.case_role,
    }
