"""Routing: which organisation receives a human task. A pure function, no database.

A role is a lane name or a candidate group. An administrator maps each role either to a fixed
organisation, or to a case role (melder, casusregisseur, ...) that each case fills in itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import RoutingError


@dataclass(frozen=True)
class FixedOrganisation:
    organisation_id: int


@dataclass(frozen=True)
class CaseRole:
    name: str


RoleTarget = FixedOrganisation | CaseRole

# Task properties naming where in the task's data its organisation is, for tasks whose organisation
# is only known at run time (e.g. one instance per action agreed in the case meeting).
ORGANISATION_PROPERTIES = ("organisatie", "organisation")


@dataclass(frozen=True)
class Route:
    role: str
    organisation_id: int


def role_key(role: str) -> str:
    """Roles match whatever case and spacing the modeller typed: 'Woningcorporatie ' == 'woningcorporatie'."""
    return " ".join(role.split()).casefold()


def route_task(
    *,
    lane: str | None,
    candidate_groups: Sequence[str],
    mappings: Mapping[str, RoleTarget],
    case_roles: Mapping[str, int],
    organisation_id: int | None = None,
) -> Route:
    """Return the role and organisation for a task: its candidate groups if set, else its lane.

    Candidate groups are tried in order; the first that resolves wins. Raises RoutingError with
    a reason a coordinator understands when nothing resolves. An `organisation_id` the task's own
    data names (see organisation_from_data) wins over both; the role is then only a label.
    """
    roles = [g for g in candidate_groups if g.strip()] or ([lane] if lane and lane.strip() else [])
    if organisation_id is not None:
        return Route(roles[0] if roles else "organisatie", organisation_id)
    if not roles:
        raise RoutingError("The task has no lane and no candidate group.")
    reasons = []
    for role in roles:
        target = mappings.get(role_key(role))
        if target is None:
            reasons.append(f"role {role!r} is not mapped to an organisation")
        elif isinstance(target, FixedOrganisation):
            return Route(role, target.organisation_id)
        elif (organisation_id := case_roles.get(role_key(target.name))) is not None:
            return Route(role, organisation_id)
        else:
            reasons.append(f"role {role!r} goes to the case's {target.name!r}, which this case has not got yet")
    raise RoutingError("Cannot route the task: " + "; ".join(reasons) + ".")


def organisation_from_data(path: str, data: Mapping[str, Any]) -> int:
    """Follow a dotted path such as `actie.organisatie_id` into task data to an organisation id."""
    value: Any = data
    for part in path.strip().split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise RoutingError(f"The task's data has no {path!r} to name its organisation.")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdecimal() \
            or not 0 < int(value) < 2**31:
        raise RoutingError(f"The task's {path!r} is not an organisation id: {value!r}.")
    return int(value)


def is_known_role(role: str, mappings: Mapping[str, RoleTarget]) -> bool:
    return role_key(role) in mappings
