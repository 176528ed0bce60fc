"""Who is asking: the logged-in person as an engine Actor, and the role check every page makes."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask_login import current_user

from api.extensions import login_manager
from api.guards import require_role
from engine.accounts import Actor
from engine.models import Role

F = TypeVar("F", bound=Callable[..., Any])

# URL converter for database ids: they are 32-bit integers, so a larger number is not found (404)
# instead of reaching the database, where PostgreSQL would refuse it as out of range.
ROW_ID = "int(max=2147483647)"


def page_actor() -> Actor:
    """The Actor of the logged-in person (Flask-Login has already loaded the user for this request)."""
    return Actor.of(current_user.user)


def requires(*roles: Role) -> Callable[[F], F]:
    """Log in first (redirect to /login), then one of `roles` (403 page); no roles: any logged-in person."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles:
                require_role(page_actor(), *roles)  # raises PermissionDeniedError -> the 403 page
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
