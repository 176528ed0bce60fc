"""Organisations, users, passwords, API tokens and the throttling of failed logins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
)
from engine.models import ApiToken, LoginThrottle, Organisation, OrganisationKind, Role, User, UserRole

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password,
# so response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 30


@dataclass(frozen=True)
class Actor:
    """Who acts, on behalf of which organisation. Passed into every engine use case."""

    user_id: int
    username: str
    organisation_id: int
    organisation_kind: OrganisationKind
    roles: frozenset[Role]

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, user.username, user.organisation_id, user.organisation.kind, user.roles)

    def has(self, role: Role) -> bool:
        # No role implies another: an administrator manages accounts and role mappings, and reads
        # no case, deploys no diagram and approves nothing unless also given that role (need-to-know).
        return role in self.roles


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_organisation(
    session: Session, *, name: str, kind: OrganisationKind | str, email: str | None = None
) -> Organisation:
    name = name.strip()
    if not name:
        raise InvalidInputError("The organisation needs a name.")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in OrganisationKind)
        raise InvalidInputError(f"Unknown organisation kind {kind!r}; choose one of {allowed}.") from None
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(f"An organisation named {name!r} already exists.")
    organisation = Organisation(name=name, kind=kind, email=email, created_at=utcnow())
    session.add(organisation)
    session.flush()
    return organisation


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    organisation_name: str,
    roles: list[Role | str],
    full_name: str = "",
    email: str | None = None,
) -> User:
    username = username.strip()
    if not username:
        raise InvalidInputError("The user needs a username.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    organisation = session.scalar(select(Organisation).where(Organisation.name == organisation_name))
    if organisation is None:
        raise NotFoundError(f"There is no organisation named {organisation_name!r}.")
    try:
        parsed_roles = {Role(r) for r in roles}
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"Unknown role in {roles!r}; choose from {allowed}.") from None
    if not parsed_roles:
        raise InvalidInputError("The user needs at least one role.")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=hash_password(password),
        organisation=organisation,
        created_at=utcnow(),
        role_rows=[UserRole(role=r) for r in sorted(parsed_roles)],
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str, address: str | None) -> User:
    """Return the active user with these credentials, or raise.

    Unknown user and wrong password raise the same AuthenticationError. Attempts are counted
    per username and per client address in the database, so the limit holds across all web
    workers. Each attempt is counted *before* its password is checked, in a row the update
    locks until the transaction ends: parallel guesses queue on that row, and exactly the
    allowed number is checked. The caller commits after a failure (keeping the count) and
    rolls back after RateLimitedError (a refused attempt does not count).
    """
    now = utcnow()
    keys = [f"user:{username.strip().lower()}"[:200]] + ([f"addr:{address}"[:200]] if address else [])
    _count_attempt(session, keys, now)
    user = session.scalar(select(User).where(User.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AuthenticationError("Unknown user or wrong password.")
    assert user is not None
    # A success clears the username's count and gives back the address's reserved attempt,
    # so many people logging in behind one address do not lock each other out.
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0]))
    if len(keys) > 1:
        session.execute(update(LoginThrottle).where(LoginThrottle.key == keys[1])
                        .values(attempts=LoginThrottle.attempts - 1))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _count_attempt(session: Session, keys: list[str], now: datetime) -> None:
    since = now - FAILURE_WINDOW
    # Writing first matters on SQLite as well: it takes the write lock before anything is read.
    session.execute(delete(LoginThrottle).where(LoginThrottle.window_start < since))
    # Always the username before the address: two attempts never wait on each other in a cycle.
    for key in keys:
        limit = MAX_FAILURES_PER_USERNAME if key.startswith("user:") else MAX_FAILURES_PER_ADDRESS
        attempts, window_start = _increment(session, key, now, since)
        if attempts > limit:
            retry = int((window_start + FAILURE_WINDOW - now).total_seconds()) + 1
            raise RateLimitedError("Too many failed logins; try again later.", retry_after=max(retry, 1))


def _increment(session: Session, key: str, now: datetime, since: datetime) -> tuple[int, datetime]:
    expired = LoginThrottle.window_start < since
    bump = (
        update(LoginThrottle).where(LoginThrottle.key == key)
        .values(attempts=case((expired, 1), else_=LoginThrottle.attempts + 1),
                window_start=case((expired, now), else_=LoginThrottle.window_start))
        .execution_options(synchronize_session=False)
    )
    if session.execute(bump).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(LoginThrottle(key=key, attempts=1, window_start=now))
            return 1, now
        except IntegrityError:
            session.execute(bump)  # a parallel attempt created the row first; count on it
    attempts, window_start = session.execute(
        select(LoginThrottle.attempts, LoginThrottle.window_start).where(LoginThrottle.key == key)
    ).one()
    return attempts, window_start


def end_sessions(session: Session, user: User) -> None:
    """Invalidate every page session of this user (logout, deactivation): cookies carry the epoch."""
    user.session_epoch = User.session_epoch + 1
    session.flush()
    session.refresh(user, ["session_epoch"])


def deactivate_user(session: Session, *, user_id: int) -> User:
    """Block a user: no new logins, no tokens, and every open page session ends at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("There is no such user.")
    user.active = False
    end_sessions(session, user)
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()
    return user


def issue_token(session: Session, user: User, *, lifetime: timedelta) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(token_hash=_digest(token), user=user, created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, row


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
