"""Retention: cases past their result's retention period are proposed for destruction; the
coordinator approves; personal data is then removed and the destruction itself is logged.
A case under a legal hold (e.g. a running court case) is never proposed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, String, and_, or_, select, true, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import audit, diagnostics, history
from engine.accounts import Actor
from engine.clock import utcnow
from engine.covenant import Covenant, current_covenant, current_version
from engine.db import Base, string_enum
from engine.errors import ConflictError, NotFoundError, PermissionDeniedError
from engine.models import Case, CaseEvent, CaseStatus, Notification, Role, WorkItem

DESTROYED_TITLE = "[vernietigd]"
_PART = re.compile(r"(\d+)([YMWD])")


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class DestructionProposal(Base):
    __tablename__ = "destruction_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    proposed_at: Mapped[datetime]
    due_since: Mapped[datetime]
    status: Mapped[ProposalStatus] = mapped_column(string_enum(ProposalStatus, "proposal_status"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))


def retention_period(covenant: Covenant, result: str | None) -> timedelta:
    text = covenant.retention.get(result or "", covenant.retention["standaard"])
    days = 0
    for amount, unit in _PART.findall(text):
        days += int(amount) * {"Y": 365, "M": 30, "W": 7, "D": 1}[unit]
    return timedelta(days=days)


def propose_destructions(session: Session, now: datetime) -> int:
    """Propose every closed case past its retention period (once), skipping legal holds.

    One query over the newly eligible cases only: a range on the indexed `closed_at` per result's
    retention period. It selects ids and dates, never a case's saved state, so the cost follows
    what becomes due, not the size of the archive."""
    covenant = current_covenant(session)
    periods = {result: retention_period(covenant, result) for result in covenant.retention if result != "standaard"}
    standard = retention_period(covenant, None)
    past_retention = [and_(Case.result == result, Case.closed_at <= now - period) for result, period in periods.items()]
    others = or_(Case.result.is_(None), Case.result.not_in(list(periods))) if periods else true()
    past_retention.append(and_(others, Case.closed_at <= now - standard))
    rows = session.execute(
        select(Case.id, Case.closed_at, Case.result)
        .where(Case.closed_at <= now - min([standard, *periods.values()]), Case.destroyed_at.is_(None),
               Case.legal_hold_reason.is_(None), or_(*past_retention))
        .where(~select(DestructionProposal.id).where(DestructionProposal.case_id == Case.id).exists())
    ).all()
    for case_id, closed_at, result in rows:
        assert closed_at is not None  # selected by a range on it
        session.add(DestructionProposal(case_id=case_id, proposed_at=now, status=ProposalStatus.PROPOSED,
                                        due_since=closed_at + retention_period(covenant, result)))
    return len(rows)


def _coordinator(actor: Actor) -> None:
    if not actor.has(Role.COORDINATOR):
        raise PermissionDeniedError("Only the coordinator decides on destruction and legal holds.")


def list_proposals(session: Session, actor: Actor) -> list[DestructionProposal]:
    _coordinator(actor)
    return list(session.scalars(select(DestructionProposal).order_by(DestructionProposal.id)))


def decide(session: Session, actor: Actor, proposal_id: int, *, approve: bool, reason: str | None = None) -> Case:
    _coordinator(actor)
    proposal = session.get(DestructionProposal, proposal_id)
    if proposal is None:
        raise NotFoundError("There is no such proposal.")
    if proposal.status is not ProposalStatus.PROPOSED:
        raise ConflictError("This proposal was decided already.")
    case = session.get(Case, proposal.case_id)
    assert case is not None
    if approve and case.legal_hold_reason:
        raise ConflictError("The case is under a legal hold and cannot be destroyed.")
    now = utcnow()
    proposal.status = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
    proposal.decided_at, proposal.decided_by_id, proposal.reason = now, actor.user_id, reason
    if approve:
        destroy(session, actor, case, now)
    return case


def destroy(session: Session, actor: Actor, case: Case, now: datetime) -> None:
    """Remove the personal data of a case: submitted data, saved state, title, subject, mail bodies.

    What remains is what the law asks to keep: that the case existed, its timeline without
    content, and the access log (which never held case content)."""
    categories = sorted({c for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
                         for c in (e.categories or {}).values() if c})
    session.execute(update(CaseEvent).where(CaseEvent.case_id == case.id).values(data=None, categories=None))
    session.execute(update(Notification).where(Notification.case_id == case.id).values(body="[vernietigd]"))
    session.execute(update(WorkItem).where(WorkItem.case_id == case.id).values(claimed_by_id=None))
    diagnostics.forget(session, case.id)  # error texts can repeat case data
    subject = case.subject
    case.title, case.subject, case.state, case.destroyed_at = DESTROYED_TITLE, None, {}, now
    if case.status is not CaseStatus.COMPLETED:
        case.status = CaseStatus.TERMINATED
    history.record(session, case, "case_destroyed", "Persoonsgegevens vernietigd na afloop van de bewaartermijn.",
                   at=now, actor=actor)
    audit.append(session, actor, [audit.Access("destroy", "bewaartermijn verstreken", case.id, subject,
                                               tuple(categories))],
                 covenant_version=current_version(session).version, now=now)


def set_legal_hold(session: Session, actor: Actor, case_id: int, reason: str | None) -> Case:
    _coordinator(actor)
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError("There is no such case.")
    case.legal_hold_reason = (reason or "").strip() or None
    now = utcnow()
    if case.legal_hold_reason:
        session.execute(update(DestructionProposal).where(DestructionProposal.case_id == case_id,
                                                          DestructionProposal.status == ProposalStatus.PROPOSED)
                        .values(status=ProposalStatus.REJECTED, decided_at=now, decided_by_id=actor.user_id,
                                reason="juridische bewaarplicht"))
    history.record(session, case, "legal_hold", "Juridische bewaarplicht " + ("ingesteld" if case.legal_hold_reason
                   else "opgeheven") + ".", at=now, actor=actor, data={"reden": case.legal_hold_reason})
    return case
