"""The e-mail outbox: notifications are queued in the transaction that causes them and sent later.

A mail server outage delays messages, never loses them: a failed send stays in the outbox and
is retried with growing back-off. A dedupe key makes queueing idempotent (one mail per cause).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.models import Notification, Organisation

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "ketenregie@localhost"
    timeout: float = 10.0


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    organisation_id: int,
    kind: str,
    subject: str,
    body: str,
    case_id: int | None = None,
    work_item_id: int | None = None,
    now: datetime | None = None,
) -> Notification | None:
    """Queue one mail to an organisation's address, once per dedupe key. Returns None if already queued."""
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return None
    organisation = session.get(Organisation, organisation_id)
    moment = now or utcnow()
    notification = Notification(
        dedupe_key=dedupe_key, organisation_id=organisation_id, case_id=case_id, work_item_id=work_item_id,
        kind=kind, to_address=organisation.email if organisation else None, subject=subject[:300], body=body,
        created_at=moment, send_after=moment,
    )
    session.add(notification)
    return notification


def send_pending(
    session_factory: Callable[[], Session], settings: SmtpSettings, *, limit: int = 200
) -> tuple[int, int]:
    """Send what is due in the outbox; return (sent, failed). Each message commits on its own."""
    if not settings.host:
        return 0, 0
    sent = failed = 0
    with session_factory() as session:
        now = utcnow()
        ids = session.scalars(
            select(Notification.id)
            .where(Notification.sent_at.is_(None), Notification.send_after <= now, Notification.to_address.is_not(None))
            .order_by(Notification.id).limit(limit)
        ).all()
    for notification_id in ids:
        with session_factory() as session:
            query = select(Notification).where(Notification.id == notification_id, Notification.sent_at.is_(None))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)  # another sender has it
            notification = session.scalar(query)
            if notification is None:
                continue
            try:
                _send(settings, notification)
            except (OSError, smtplib.SMTPException) as error:
                notification.attempts += 1
                notification.last_error = f"{error.__class__.__name__}: {error}"[:2000]
                delay = min(timedelta(minutes=2 ** min(notification.attempts, 10)), MAX_BACKOFF)
                notification.send_after = utcnow() + delay
                failed += 1
                log.warning("mail %s not sent (attempt %s): %s", notification.id, notification.attempts, error)
            else:
                notification.sent_at = utcnow()
                sent += 1
            session.commit()
    return sent, failed


def _send(settings: SmtpSettings, notification: Notification) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = notification.to_address
    message["Subject"] = notification.subject
    message["Message-ID"] = f"<{notification.dedupe_key.replace(':', '.')}@ketenregie>"
    message.set_content(notification.body)
    assert settings.host is not None
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)
