"""The tables of the case engine, as typed SQLAlchemy 2 mappings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, string_enum


class OrganisationKind(StrEnum):
    GEMEENTE = "gemeente"
    CORPORATIE = "corporatie"
    POLITIE = "politie"
    GGD = "ggd"
    GGZ = "ggz"
    ZORG = "zorg"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    PROCESS_OWNER = "process_owner"
    ADMIN = "admin"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(string_enum(OrganisationKind, "organisation_kind"))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Bumped on logout and deactivation: a session cookie made under an older epoch no longer logs in.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.role_rows)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(string_enum(Role, "user_role"), primary_key=True)


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored, never the token itself."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Login attempts per key (a username or a client address) in the current window, counted
    atomically: the row is updated (and so locked) before a password is checked."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int]
    window_start: Mapped[datetime]


class ProcessVersion(Base):
    """One deployed version of a process: its BPMN source, parsed spec and forms, stored once."""

    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("process_key", "version", name="uq_process_versions_key_version"),
        UniqueConstraint("process_key", "sha256", name="uq_process_versions_key_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200))  # uq_process_versions_key_version leads with it
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict] = mapped_column(JSON)
    forms: Mapped[dict] = mapped_column(JSON)
    human_tasks: Mapped[list] = mapped_column(JSON)
    serializer_version: Mapped[str] = mapped_column(String(64))
    stall_after_days: Mapped[int] = mapped_column(default=30)
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RoleTargetKind(StrEnum):
    ORGANISATION = "organisation"  # always the same organisation
    CASE_ROLE = "case_role"  # whichever organisation holds this role in the case


class RoleMapping(Base):
    """Which organisation receives the tasks of a lane or candidate group (a "role")."""

    __tablename__ = "role_mappings"

    role: Mapped[str] = mapped_column(String(200), primary_key=True)
    target: Mapped[RoleTargetKind] = mapped_column(string_enum(RoleTargetKind, "role_target_kind"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    case_role: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


RETENTION_CANDIDATE = text("destroyed_at IS NULL AND legal_hold_reason IS NULL")


class CaseStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    ERROR = "error"


class Case(Base):
    __tablename__ = "cases"
    # Retention: every sweep reads a range of closed_at among the cases neither destroyed nor on
    # hold. Partial, so the destroyed archive (which only grows) is not in it; covering, so the
    # rows (whose saved state comes first on disk) are never read.
    # The case list sorts newest first, optionally filtered by status or stage: one index per
    # filter, each ending in the sort order, so a page is an index range scan without a sort.
    __table_args__ = (
        Index("ix_cases_retention", "closed_at", "result", sqlite_where=RETENTION_CANDIDATE,
              postgresql_where=RETENTION_CANDIDATE),
        Index("ix_cases_opened", "opened_at", "id"),
        Index("ix_cases_status_opened", "status", "opened_at", "id"),
        Index("ix_cases_stage_opened", "stage", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(string_enum(CaseStatus, "case_status"))
    stage: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="")
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime]
    opened_by_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    state: Mapped[dict] = mapped_column(JSON)
    serializer_version: Mapped[str] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element: Mapped[str | None] = mapped_column(String(200))
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    stall_escalated_at: Mapped[datetime | None]
    # The person the case is about (as the melder named them), for subject-access requests.
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    result: Mapped[str | None] = mapped_column(String(100))
    # The BPMN id of the end event a completed case reached (its own process, not a called one).
    end_event: Mapped[str | None] = mapped_column(String(200))
    legal_hold_reason: Mapped[str | None] = mapped_column(Text)
    destroyed_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined", innerjoin=True)

    # Optimistic locking backs up the row lock: a write based on a stale read fails.
    __mapper_args__ = {"version_id_col": lock_version}


class CaseRoleAssignment(Base):
    """The organisation holding a case role in one case (melder, casusregisseur, ...)."""

    __tablename__ = "case_role_assignments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    case_role: Mapped[str] = mapped_column(String(100), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    assigned_at: Mapped[datetime]


class CaseParticipant(Base):
    """An organisation taking part in a case (need-to-know), and since when."""

    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True, index=True)
    since: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(100))


class WorkItemStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class WorkItemKind(StrEnum):
    TASK = "task"  # a READY human task of the workflow
    ESCALATION = "escalation"  # raised by the engine itself (a stalled case), not by the diagram


class WorkItem(Base):
    """The projection of one READY human task (or an engine escalation). Inboxes read only this table."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id", name="uq_work_items_case_task"),
        # The sweep's overdue check reads open items past due across all organisations.
        Index("ix_work_items_status_due", "status", "due_at"),
        # The inbox sorts by (due_at, created_at, id); each filter has an index ending in that order
        # (see engine.work_items.list_inbox): all and overdue, unclaimed, and mine.
        Index("ix_work_items_inbox", "organisation_id", "status", "due_at", "created_at", "id"),
        Index("ix_work_items_unclaimed", "organisation_id", "status", "due_at", "created_at", "id",
              postgresql_where=text("claimed_by_id IS NULL"), sqlite_where=text("claimed_by_id IS NULL")),
        Index("ix_work_items_mine", "claimed_by_id", "status", "due_at", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))  # uq_work_items_case_task
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    form_key: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[WorkItemKind] = mapped_column(string_enum(WorkItemKind, "work_item_kind"), default=WorkItemKind.TASK)
    status: Mapped[WorkItemStatus] = mapped_column(string_enum(WorkItemStatus, "work_item_status"))
    overdue_notified_at: Mapped[datetime | None]
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    follow_up_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(lazy="joined", innerjoin=True)
    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id], lazy="joined")


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"


class Timer(Base):
    """A waiting timer event of a case. The database, not the scheduler, is the source of truth."""

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id", name="uq_timers_case_task"),
        Index("ix_timers_due", "status", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))  # uq_timers_case_task
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime]
    status: Mapped[TimerStatus] = mapped_column(string_enum(TimerStatus, "timer_status"))
    fired_at: Mapped[datetime | None]


class CaseEvent(Base):
    """Append-only history: who, on behalf of which organisation, did what, when, with which data."""

    __tablename__ = "case_events"
    # History pages walk one case's events by id (keyset); work_item_id serves lookups per item.
    __table_args__ = (Index("ix_case_events_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(50))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    element_id: Mapped[str | None] = mapped_column(String(200))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"), index=True)
    summary: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict | None] = mapped_column(JSON)
    # Field key -> covenant data category, fixed when the data was recorded.
    categories: Mapped[dict | None] = mapped_column(JSON)


class CaseDiagnostic(Base):
    """The full text of an error a case ran into, which may hold case data values. Kept apart from
    the case's value-free error message; read only through the diagnostic view, filtered by the
    covenant on `categories` (the data categories the case held when it failed)."""

    __tablename__ = "case_diagnostics"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    element_id: Mapped[str | None] = mapped_column(String(200))
    exception: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)
    # Data categories of the case at the time (null for a field without one); see engine/diagnostics.py.
    categories: Mapped[list] = mapped_column(JSON)


class Notification(Base):
    """The e-mail outbox. Written in the same transaction as what caused it, sent afterwards,
    retried with back-off, so a mail server outage delays a message but never loses it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_unsent", "sent_at", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    work_item_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id"))
    kind: Mapped[str] = mapped_column(String(50))
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    send_after: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ReferenceCounter(Base):
    """The last case number used per year, for readable references such as WO-2026-00042."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]



# ---------------------------------------------------------------------------------------------
# The case meeting (casusoverleg) and lead times
# ---------------------------------------------------------------------------------------------

class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"


class Meeting(Base):
    """One casusoverleg, the biweekly multi-agency meeting. `regular` meetings follow the schedule;
    the coordinator may add extra ones."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so sweepers planning the schedule at the same moment cannot create a meeting twice.
    scheduled_at: Mapped[datetime] = mapped_column(unique=True)
    status: Mapped[MeetingStatus] = mapped_column(
        string_enum(MeetingStatus, "meeting_status"), default=MeetingStatus.PLANNED, server_default="planned"
    )
    regular: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime]
    held_at: Mapped[datetime | None]


class AgendaItemKind(StrEnum):
    REFERRAL = "referral"  # a new referral: choose a casusregisseur and agree actions
    EVALUATION = "evaluation"  # a case coming back to see whether the plan works


class AgendaItem(Base):
    """A case on the agenda of a meeting, and what the meeting decided about it.

    `meeting_id` is empty while no suitable meeting is planned yet; the schedule fills it in.
    """

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id", name="uq_agenda_items_meeting_case"),
        Index("ix_agenda_items_case_discussed", "case_id", "discussed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))  # uq_agenda_items_meeting_case
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[AgendaItemKind] = mapped_column(string_enum(AgendaItemKind, "agenda_item_kind"))
    referring_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    question: Mapped[str] = mapped_column(Text)
    neighbourhood: Mapped[str | None] = mapped_column(String(100))
    not_before: Mapped[date | None]
    added_at: Mapped[datetime]
    discussed_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(50))
    casusregisseur_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    actions: Mapped[list | None] = mapped_column(JSON)
    next_evaluation: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseStagePeriod(Base):
    """When a case entered one stage and when it left it (empty while it is still there): lead times."""

    __tablename__ = "case_stage_periods"
    __table_args__ = (Index("ix_case_stage_periods_case_left", "case_id", "left_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime]
    left_at: Mapped[datetime | None]

__all__ = [
    "AgendaItem",
    "AgendaItemKind",
    "ApiToken",
    "Base",
    "Case",
    "CaseDiagnostic",
    "CaseEvent",
    "CaseParticipant",
    "CaseRoleAssignment",
    "CaseStagePeriod",
    "CaseStatus",
    "LoginThrottle",
    "Meeting",
    "MeetingStatus",
    "Notification",
    "Organisation",
    "OrganisationKind",
    "ProcessVersion",
    "ReferenceCounter",
    "Role",
    "RoleMapping",
    "RoleTargetKind",
    "Timer",
    "TimerStatus",
    "User",
    "UserRole",
    "WorkItem",
    "WorkItemKind",
    "WorkItemStatus",
]
