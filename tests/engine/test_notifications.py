"""The outbox against a real SMTP server (aiosmtpd on loopback): delivered, retried after an outage, never lost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from api.extensions import db
from engine import notifications
from engine.clock import utcnow
from engine.models import Notification


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def queue_one(world, key: str = "test:1") -> None:
    notifications.enqueue(db.session, dedupe_key=key, organisation_id=world.corporation_id, kind="overdue",
                          subject="[Ketenregie] Termijn verstreken", body="De taak staat nog open.")
    db.session.commit()


def test_queued_mail_is_delivered_to_the_organisation(world, smtp_server):
    inbox, port = smtp_server
    queue_one(world)

    report = world.tick(notifications.SmtpSettings(host="127.0.0.1", port=port, sender="ketenregie@test.example"))

    assert (report.mails_sent, report.mails_failed) == (1, 0)
    [message] = inbox.messages
    assert message["To"] == "sociaalbeheer@dgw.example"
    assert message["Subject"] == "[Ketenregie] Termijn verstreken"
    assert "staat nog open" in message.get_payload()
    assert db.session.scalar(select(Notification.sent_at)) is not None


def test_mail_server_outage_delays_but_never_loses_a_message(world, smtp_server):
    inbox, port = smtp_server
    queue_one(world)
    down = notifications.SmtpSettings(host="127.0.0.1", port=free_port())  # nothing listens there

    assert world.tick(down).mails_failed == 1
    db.session.expire_all()
    row = db.session.scalar(select(Notification))
    assert row.sent_at is None and row.attempts == 1 and "Connection" in (row.last_error or "")
    assert world.tick(notifications.SmtpSettings(host="127.0.0.1", port=port)).mails_sent == 0  # backing off

    with time_machine.travel(utcnow() + timedelta(minutes=5), tick=False):
        assert world.tick(notifications.SmtpSettings(host="127.0.0.1", port=port)).mails_sent == 1
    assert len(inbox.messages) == 1


def test_the_same_cause_queues_one_mail(world):
    queue_one(world, "overdue:42")
    queue_one(world, "overdue:42")

    assert len(db.session.scalars(select(Notification)).all()) == 1
