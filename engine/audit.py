"""The access log (NEN 7513 style): who, for which organisation, read or wrote which case data, why,
under which covenant version. Append-only and tamper-evident through a hash chain.

Each entry's hash covers its content and the previous entry's hash. Entries are numbered by a
one-row head table that every writer updates first: that serialises writers on PostgreSQL (row
lock) and SQLite (write lock) alike, so the chain never forks, and the head's last hash exposes a
truncated tail. `verify_chain` recomputes everything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.accounts import Actor
from engine.clock import utcnow
from engine.db import Base

GENESIS = "0" * 64


class AccessLogHead(Base):
    __tablename__ = "access_log_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))


class AccessLogEntry(Base):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_case", "case_id", "seq"),)

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(150))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # No foreign key to cases: the log outlives a destroyed case (kept at least 5 years).
    case_id: Mapped[int | None] = mapped_column(index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list] = mapped_column(JSON)
    fields: Mapped[list] = mapped_column(JSON)
    covenant_version: Mapped[str | None] = mapped_column(String(50))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Access:
    """One read or write of case data, as it is to be logged."""

    action: str  # read, write, export, destroy, read_access_log, ...
    purpose: str
    case_id: int | None = None
    subject: str | None = None
    categories: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def _digest(entry: AccessLogEntry) -> str:
    content = {
        "seq": entry.seq, "at": entry.at.isoformat(), "user_id": entry.user_id, "username": entry.username,
        "organisation_id": entry.organisation_id, "case_id": entry.case_id, "subject": entry.subject,
        "action": entry.action, "purpose": entry.purpose, "categories": sorted(entry.categories),
        "fields": sorted(entry.fields), "covenant_version": entry.covenant_version, "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def append(session: Session, actor: Actor | None, accesses: Iterable[Access], *, covenant_version: str | None,
           now: datetime | None = None) -> list[AccessLogEntry]:
    """Append entries to the chain in the caller's transaction (commit it before disclosing data)."""
    accesses = list(accesses)
    if not accesses:
        return []
    moment = now or utcnow()
    # Taking the head first serialises every writer before anyone reads the last hash.
    bumped = session.execute(update(AccessLogHead).where(AccessLogHead.id == 1)
                             .values(last_seq=AccessLogHead.last_seq + len(accesses)))
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AccessLogHead(id=1, last_seq=len(accesses), last_hash=GENESIS))
        session.flush()
        first_seq, prev = 1, GENESIS
    else:
        head = session.execute(select(AccessLogHead.last_seq, AccessLogHead.last_hash)
                               .where(AccessLogHead.id == 1)).one()
        first_seq, prev = head.last_seq - len(accesses) + 1, head.last_hash
    entries = []
    for offset, access in enumerate(accesses):
        entry = AccessLogEntry(
            seq=first_seq + offset, at=moment, user_id=actor.user_id if actor else None,
            username=actor.username if actor else None, organisation_id=actor.organisation_id if actor else None,
            case_id=access.case_id, subject=access.subject, action=access.action, purpose=access.purpose,
            categories=sorted(set(access.categories)), fields=sorted(set(access.fields)),
            covenant_version=covenant_version, prev_hash=prev, hash="",
        )
        entry.hash = prev = _digest(entry)
        entries.append(entry)
    session.add_all(entries)
    session.execute(update(AccessLogHead).where(AccessLogHead.id == 1).values(last_hash=prev))
    session.flush()
    return entries


def record_in_own_transaction(
    session_factory: Callable[[], Session], actor: Actor | None, accesses: Iterable[Access], *,
    covenant_version: str | None,
) -> None:
    """Log and commit on a separate connection, so a read-only request's snapshot never has to
    turn into a write (which SQLite refuses once another writer committed). Raises if it fails:
    the caller must then not disclose the data."""
    with session_factory() as session:
        append(session, actor, accesses, covenant_version=covenant_version)
        session.commit()


@dataclass
class Verification:
    entries: int
    broken_at: list[int]
    detail: list[str]

    @property
    def ok(self) -> bool:
        return not self.broken_at


def verify_chain(session: Session, *, batch: int = 5000) -> Verification:
    """Recompute every hash; report the first entries where content, order or the tail was changed."""
    result = Verification(0, [], [])
    prev, expected_seq = GENESIS, 1
    last_seq = 0
    while True:
        rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.seq > last_seq)
                               .order_by(AccessLogEntry.seq).limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            result.entries += 1
            if entry.seq != expected_seq:
                result.broken_at.append(entry.seq)
                result.detail.append(f"entry {expected_seq} is missing (next is {entry.seq})")
            if entry.prev_hash != prev:
                result.broken_at.append(entry.seq)
                result.detail.append(f"entry {entry.seq} does not follow its predecessor")
            if _digest(entry) != entry.hash:
                result.broken_at.append(entry.seq)
                result.detail.append(f"entry {entry.seq} was changed after it was written")
            prev, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
        session.expunge_all()
    head = session.get(AccessLogHead, 1)
    if head is not None and (head.last_seq != last_seq or head.last_hash != prev):
        result.broken_at.append(last_seq + 1)
        result.detail.append(f"the log ends at entry {last_seq} but {head.last_seq} were written")
    return result


def entries_for(session: Session, *, case_ids: Iterable[int] | None = None, limit: int = 1000,
                offset: int = 0) -> list[AccessLogEntry]:
    query = select(AccessLogEntry).order_by(AccessLogEntry.seq.desc())
    if case_ids is not None:
        query = query.where(AccessLogEntry.case_id.in_(list(case_ids)))
    return list(session.scalars(query.limit(limit).offset(offset)))


def describe(entry: AccessLogEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "at": entry.at, "user": entry.username, "organisation_id": entry.organisation_id,
        "case_id": entry.case_id, "subject": entry.subject, "action": entry.action, "purpose": entry.purpose,
        "categories": entry.categories, "fields": entry.fields, "covenant_version": entry.covenant_version,
        "hash": entry.hash,
    }
