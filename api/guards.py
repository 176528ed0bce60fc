"""Role checks for API views."""

from __future__ import annotations

from engine.accounts import Actor
from engine.errors import PermissionDeniedError
from engine.models import Role


def require_role(actor: Actor, *roles: Role) -> None:
    """The actor needs one of `roles` (no role implies another; see Actor.has)."""
    if not any(actor.has(role) for role in roles):
        names = " or ".join(r.value for r in roles)
        raise PermissionDeniedError(f"This needs the role {names}.")
