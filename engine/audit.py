"""The access log (NEN 7513 style): who, for which organisation, read or wrote which case data, why,
under which covenant version. Append-only; a keyed hash chain, sealed beside the sweeper, makes it
tamper-evident, and checkpoints of the head kept outside the database expose a cut tail.

Design. Writers never wait for each other or for a lock held across a workflow step:
- `append` is one INSERT in the caller's transaction (flushed with its other writes). The row gets
  an `id` from the database; `seq`, `prev_hash` and `hash` stay empty ("unsealed").
- `seal` (the sweeper, every tick) takes the one-row head with FOR UPDATE, numbers the committed
  unsealed rows in `id` order and chains them: hash = HMAC-SHA256(key, content + seq + prev_hash).
  Only sealers take that lock, for a few milliseconds, never while a step runs. A row committed
  late (its transaction ran long) simply gets a later `seq`; the chain order is the sealing order.
- The key (ACCESS_LOG_KEY) is passed in by the caller and never stored in the database, so whoever
  can write the database cannot recompute the chain.
- `write_checkpoint` appends "seq, head hash, time, HMAC" to a file outside the database (and the
  sweeper may mail it daily): `verify_chain` then notices a tail that was cut and a head rewound.
- `verify_chain` accepts unsealed rows only while they are younger than the sealing window; an
  older unsealed row means the sealer is not running or someone slipped a row in.
Alternative considered: chaining at commit (before_commit takes the head lock). It keeps the log
sealed at every commit, but every writer then waits for the others' commits on the head row (the
PostgreSQL bottleneck at 4-8 writers); the sealer trades that for a window of seconds (README).

Entries written before the chain was keyed (`legacy_seq` in the head) keep their unkeyed SHA-256
chain and are checked as such.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select, update
from sqlalchemy.exc import IntegrityError
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
    # Entries 1..legacy_seq were chained before the key existed (plain SHA-256).
    legacy_seq: Mapped[int] = mapped_column(default=0)


class AccessLogEntry(Base):
    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the chain, set by the sealer; empty until then.
    seq: Mapped[int | None] = mapped_column(unique=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(150))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # No foreign key to cases: the log outlives a destroyed case (kept at least 5 years).
    case_id: Mapped[int | None]
    subject: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list] = mapped_column(JSON)
    fields: Mapped[list] = mapped_column(JSON)
    covenant_version: Mapped[str | None] = mapped_column(String(50))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class Access:
    """One read or write of case data, as it is to be logged."""

    action: str  # read, write, export, destroy, read_access_log, ...
    purpose: str
    case_id: int | None = None
    subject: str | None = None
    categories: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


def _content(entry: AccessLogEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "at": entry.at.isoformat(), "user_id": entry.user_id, "username": entry.username,
        "organisation_id": entry.organisation_id, "case_id": entry.case_id, "subject": entry.subject,
        "action": entry.action, "purpose": entry.purpose, "categories": sorted(entry.categories),
        "fields": sorted(entry.fields), "covenant_version": entry.covenant_version, "prev_hash": entry.prev_hash,
    }


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def keyed_digest(key: bytes, entry: AccessLogEntry) -> str:
    """The entry's link in the chain: its content, position, row id and predecessor, under the key."""
    return hmac.new(key, _canonical({**_content(entry), "id": entry.id}), hashlib.sha256).hexdigest()


def _legacy_digest(entry: AccessLogEntry) -> str:
    return hashlib.sha256(_canonical(_content(entry))).hexdigest()


def append(session: Session, actor: Actor | None, accesses: Iterable[Access], *, covenant_version: str | None,
           now: datetime | None = None) -> list[AccessLogEntry]:
    """Add entries to the caller's transaction: one INSERT when it flushes, no lock on anything
    shared. Commit before disclosing data; the sealer chains the entries after the commit."""
    moment = now or utcnow()
    entries = [
        AccessLogEntry(
            at=moment, user_id=actor.user_id if actor else None, username=actor.username if actor else None,
            organisation_id=actor.organisation_id if actor else None, case_id=access.case_id,
            subject=access.subject, action=access.action, purpose=access.purpose,
            categories=sorted(set(access.categories)), fields=sorted(set(access.fields)),
            covenant_version=covenant_version,
        )
        for access in accesses
    ]
    session.add_all(entries)
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


# ---------------------------------------------------------------------------------------------
# Sealing and checkpoints (the sweeper)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def _locked_head(session: Session) -> AccessLogHead:
    query = select(AccessLogHead).where(AccessLogHead.id == 1).with_for_update()
    head = session.scalar(query)
    if head is None:  # a new database: the first sealer creates the head, a racing one waits on it
        try:
            with session.begin_nested():
                session.add(AccessLogHead(id=1, last_seq=0, last_hash=GENESIS, legacy_seq=0))
        except IntegrityError:
            pass
        head = session.scalar(query.execution_options(populate_existing=True))
        assert head is not None
    return head


def seal(session: Session, key: bytes, *, batch: int = 1000) -> int:
    """Chain up to `batch` committed, unsealed entries in id order; return how many. The head lock
    is held only until the caller commits (at once): no workflow step runs under it."""
    head = _locked_head(session)
    rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.seq.is_(None))
                           .order_by(AccessLogEntry.id).limit(batch)).all()
    if not rows:
        return 0
    seq, prev = head.last_seq, head.last_hash
    for entry in rows:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = keyed_digest(key, entry)
    session.execute(update(AccessLogHead).where(AccessLogHead.id == 1).values(last_seq=seq, last_hash=prev))
    session.flush()
    return len(rows)


def head(session: Session) -> Head:
    row = session.get(AccessLogHead, 1)
    return Head(row.last_seq, row.last_hash) if row else Head(0, GENESIS)


def checkpoint_line(key: bytes, head: Head, at: datetime) -> str:
    body = {"seq": head.seq, "hash": head.hash, "at": at.isoformat()}
    mac = hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()
    return json.dumps({**body, "mac": mac}, sort_keys=True)


def last_checkpoint_at(path: Path) -> datetime | None:
    """When the newest line of the checkpoint file was written (None: no file or no line)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().splitlines()
        return datetime.fromisoformat(json.loads(lines[-1])["at"]) if lines else None
    except (OSError, ValueError, KeyError):
        return None


def write_checkpoint(path: Path, key: bytes, head: Head, *, now: datetime | None = None) -> str:
    """Append the head to the checkpoint file (one write, O_APPEND: sweepers may race harmlessly)."""
    line = checkpoint_line(key, head, now or utcnow())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
    return line


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------

@dataclass
class Verification:
    entries: int
    broken_at: list[int]
    detail: list[str]
    unsealed: int = 0
    checkpoints: int = 0
    legacy: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken_at

    def broken(self, seq: int, text: str) -> None:
        self.broken_at.append(seq)
        self.detail.append(text)


def _parse_checkpoints(key: bytes, lines: Iterable[str], result: Verification) -> dict[int, tuple[str, str]]:
    wanted: dict[int, tuple[str, str]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            seq, digest, written, mac = int(raw["seq"]), str(raw["hash"]), str(raw["at"]), str(raw["mac"])
        except (ValueError, KeyError, TypeError):
            result.broken(0, f"checkpoint line {number} is unreadable")
            continue
        body = {"seq": seq, "hash": digest, "at": written}
        if not hmac.compare_digest(mac, hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()):
            result.broken(0, f"checkpoint line {number} was not written with this key")
            continue
        result.checkpoints += 1
        wanted[seq] = (digest, written)
    return wanted


def verify_chain(session: Session, key: bytes, *, checkpoints: Iterable[str] = (),
                 unsealed_grace: timedelta = timedelta(minutes=10), now: datetime | None = None,
                 batch: int = 5000) -> Verification:
    """Recompute every link with the key; compare the end with the head and the checkpoints.

    Reports a changed row (its link no longer matches), a removed or inserted row (numbering or
    predecessor breaks), a chain recomputed without the key (links do not match), a cut tail
    (a checkpoint names an entry that is gone or different) and rows left unsealed too long.
    """
    result = Verification(0, [], [])
    wanted = _parse_checkpoints(key, checkpoints, result)
    head_row = session.get(AccessLogHead, 1)
    legacy = head_row.legacy_seq if head_row else 0
    prev, expected_seq, last_seq = GENESIS, 1, 0
    while True:
        rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.seq > last_seq)
                               .order_by(AccessLogEntry.seq).limit(batch)).all()
        if not rows:
            break
        for entry in rows:
            seq = entry.seq
            assert seq is not None
            result.entries += 1
            if seq != expected_seq:
                result.broken(seq, f"entry {expected_seq} is missing (next is {seq})")
            if entry.prev_hash != prev:
                result.broken(seq, f"entry {seq} does not follow its predecessor")
            expected = _legacy_digest(entry) if seq <= legacy else keyed_digest(key, entry)
            if not hmac.compare_digest(expected, entry.hash or ""):
                result.broken(seq, f"entry {seq} was changed after it was written (or chained without the key)")
            if seq in wanted and wanted[seq][0] != entry.hash:
                result.broken(seq, f"entry {seq} differs from the checkpoint of {wanted[seq][1]}")
            prev, expected_seq, last_seq = entry.hash or "", seq + 1, seq
        session.expunge_all()
    result.legacy = min(legacy, last_seq)
    if head_row is not None and (head_row.last_seq != last_seq or head_row.last_hash != prev):
        result.broken(last_seq + 1, f"the log ends at entry {last_seq} but the head says {head_row.last_seq}")
    for seq, (_, written) in sorted(wanted.items()):
        if seq > last_seq:
            result.broken(last_seq + 1, f"the log ends at entry {last_seq} but the checkpoint of {written} "
                                        f"recorded {seq}: its tail was cut")
            break
    cutoff = (now or utcnow()) - unsealed_grace
    for entry_id, at in session.execute(select(AccessLogEntry.id, AccessLogEntry.at)
                                        .where(AccessLogEntry.seq.is_(None)).order_by(AccessLogEntry.id)):
        result.unsealed += 1
        if at < cutoff:
            result.broken(0, f"row {entry_id} of {at:%Y-%m-%d %H:%M} was never sealed into the chain")
    return result


def entries_for(session: Session, *, case_ids: Iterable[int] | None = None, limit: int = 1000,
                offset: int = 0) -> list[AccessLogEntry]:
    query = select(AccessLogEntry).order_by(AccessLogEntry.id.desc())
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
