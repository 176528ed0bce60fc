"""The access log: one insert per access, sealed into a keyed chain beside the sweeper, checkpointed
outside the database; every kind of tampering is found, and no lock is held across a workflow step."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.orm import Session

from api.extensions import db
from api.privacy import seal_access_log
from engine import audit, work_items
from engine.accounts import Actor
from engine.clock import utcnow
from engine.models import Notification, User
from tests.api.flows import only_item, start

KEY = b"test-access-log-key"


def logged_cases(client, world, n: int = 3) -> None:
    """n cases started by the corporation and listed by the coordinator: 2n+ entries."""
    for i in range(n):
        start(client, world["eva"], titel=f"Dorpsstraat {i}")
    client.get("/api/v1/cases", headers=world["sanne"])


def verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["verify-access-log", *args])


def sql(statement: str, **params) -> list:
    with db.engine.begin() as connection:
        result = connection.execute(sa.text(statement), params)
        return list(result) if result.returns_rows else []


def rechain(key: bytes, *, from_seq: int = 1) -> None:
    """What an attacker with database access does after editing a row: recompute every link and
    the head, here with a key of their own (they do not have ours)."""
    with Session(db.engine) as session:
        rows = session.scalars(sa.select(audit.AccessLogEntry).where(audit.AccessLogEntry.seq.is_not(None))
                               .order_by(audit.AccessLogEntry.seq)).all()
        prev = audit.GENESIS
        for entry in rows:
            if entry.seq >= from_seq:
                entry.prev_hash = prev
                entry.hash = audit.keyed_digest(key, entry)
            prev = entry.hash
        session.execute(sa.update(audit.AccessLogHead).values(last_seq=rows[-1].seq, last_hash=prev))
        session.commit()


def test_an_access_is_one_unsealed_row_until_the_sweeper_seals_it(app, client, world):
    logged_cases(client, world, 2)
    waiting = sql("select count(*) from access_log where seq is null")[0][0]
    assert waiting >= 4 and sql("select count(*) from access_log where seq is not null")[0][0] == 0

    assert seal_access_log(app) == waiting

    rows = sql("select seq, prev_hash, hash from access_log order by seq")
    assert [r.seq for r in rows] == list(range(1, waiting + 1))
    assert all(r.prev_hash == (rows[i - 1].hash if i else audit.GENESIS) for i, r in enumerate(rows))
    assert sql("select last_seq, last_hash from access_log_head")[0] == (waiting, rows[-1].hash)
    result = verify(app, "--no-seal")
    assert result.exit_code == 0 and f"{waiting} entries verified" in result.output


def test_a_changed_row_is_detected(app, client, world):
    logged_cases(client, world)
    assert verify(app).exit_code == 0
    sql("update access_log set username = 'iemand anders' where seq = 2")

    result = verify(app)

    assert result.exit_code == 1 and "entry 2 was changed" in result.output


def test_a_removed_row_is_detected(app, client, world):
    logged_cases(client, world)
    assert verify(app).exit_code == 0
    sql("delete from access_log where seq = 3")

    result = verify(app)

    assert result.exit_code == 1
    assert "entry 3 is missing" in result.output and "entry 4 does not follow" in result.output


def test_an_inserted_row_is_detected(app, client, world):
    logged_cases(client, world)
    assert verify(app).exit_code == 0
    last = sql("select max(seq) from access_log")[0][0]
    # A forged read slipped into the middle: later rows are renumbered to make room.
    sql("update access_log set seq = seq + 1000 where seq > 2")
    sql("update access_log set seq = seq - 999 where seq > 1000")
    sql("insert into access_log (seq, at, username, action, purpose, categories, fields, prev_hash, hash) "
        "select 3, at, 'sanne', 'read', 'verzonnen', categories, fields, hash, :h from access_log where seq = 2",
        h="f" * 64)
    sql("update access_log_head set last_seq = :n", n=last + 1)

    result = verify(app)

    assert result.exit_code == 1
    assert "entry 3 was changed" in result.output and "entry 4 does not follow" in result.output


def test_a_chain_recomputed_without_the_key_is_detected(app, client, world):
    logged_cases(client, world)
    assert verify(app).exit_code == 0
    sql("update access_log set purpose = 'iets onschuldigs' where seq = 2")
    rechain(b"a key the attacker made up")

    result = verify(app)

    assert result.exit_code == 1
    assert "entry 1 was changed" in result.output and "chained without the key" in result.output


def test_a_cut_tail_is_detected_through_the_checkpoint_file(app, client, world):
    logged_cases(client, world)
    seal_access_log(app)  # the first seal also writes the first checkpoint
    lines = Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"]).read_text().splitlines()
    last = sql("select max(seq) from access_log")[0][0]
    assert json.loads(lines[-1])["seq"] == last
    # Cut the last two entries and rewind the head: the database alone looks consistent.
    sql("delete from access_log where seq > :n", n=last - 2)
    new_last = sql("select hash from access_log where seq = :n", n=last - 2)[0][0]
    sql("update access_log_head set last_seq = :n, last_hash = :h", n=last - 2, h=new_last)
    assert verify(app, "--no-seal").exit_code == 1
    Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"]).write_text("")
    assert verify(app, "--no-seal").exit_code == 0  # without a checkpoint nothing shows it

    Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"]).write_text("\n".join(lines) + "\n")
    result = verify(app, "--no-seal")

    assert result.exit_code == 1 and "its tail was cut" in result.output


def test_a_cut_tail_that_grew_again_differs_from_the_checkpoint(app, client, world):
    logged_cases(client, world)
    seal_access_log(app)
    last = sql("select max(seq) from access_log")[0][0]
    sql("delete from access_log where seq = :n", n=last)
    previous = sql("select hash from access_log where seq = :n", n=last - 1)[0][0]
    sql("update access_log_head set last_seq = :n, last_hash = :h", n=last - 1, h=previous)
    client.get("/api/v1/cases", headers=world["sanne"])  # new entries take the freed numbers

    result = verify(app)

    assert result.exit_code == 1 and f"entry {last} differs from the checkpoint" in result.output


def test_a_checkpoint_line_not_written_with_the_key_is_reported(app, client, world):
    logged_cases(client, world, 1)
    seal_access_log(app)
    path = Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"])
    forged = json.loads(path.read_text().splitlines()[-1])
    forged["seq"] = 1
    path.write_text(json.dumps(forged) + "\n")

    result = verify(app, "--no-seal")

    assert result.exit_code == 1 and "checkpoint line 1 was not written with this key" in result.output


def test_the_checkpoint_file_gets_a_line_per_interval_and_the_mail_one_a_day(app, client, world):
    app.config["ACCESS_LOG_CHECKPOINT_MAIL"] = "toezicht@zoetermeer.nl"
    path = Path(app.config["ACCESS_LOG_CHECKPOINT_FILE"])
    logged_cases(client, world, 1)
    morning = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(morning, tick=False):
        seal_access_log(app)
        seal_access_log(app)  # within the interval: no second line
    assert len(path.read_text().splitlines()) == 1
    with time_machine.travel(morning + timedelta(minutes=16), tick=False):
        seal_access_log(app)
    assert len(path.read_text().splitlines()) == 2

    [mail] = db.session.scalars(sa.select(Notification).where(Notification.kind == "access_log_checkpoint")).all()
    head = audit.head(db.session)
    assert mail.to_address == "toezicht@zoetermeer.nl" and head.hash in mail.body and str(head.seq) in mail.subject
    line = json.loads(mail.body.strip().splitlines()[-1])
    body = {"seq": line["seq"], "hash": line["hash"], "at": line["at"]}
    expected = hmac.new(KEY, json.dumps(body, sort_keys=True, separators=(",", ":")).encode(), hashlib.sha256)
    assert line["mac"] == expected.hexdigest()


def test_unsealed_rows_are_accepted_only_within_the_sealing_window(app, client, world):
    logged_cases(client, world, 1)
    assert verify(app, "--no-seal").exit_code == 0  # fresh: waiting for the sweeper

    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        late = verify(app, "--no-seal")
        sealed_now = verify(app)

    assert late.exit_code == 1 and "was never sealed into the chain" in late.output
    assert sealed_now.exit_code == 0


def test_entries_from_before_the_key_are_checked_with_the_old_digest(app, client, world):
    logged_cases(client, world, 1)
    with Session(db.engine) as session:  # what the migration leaves: an unkeyed chain, counted in the head
        prev = audit.GENESIS
        rows = session.scalars(sa.select(audit.AccessLogEntry).order_by(audit.AccessLogEntry.id)).all()
        for seq, entry in enumerate(rows, 1):
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = prev = audit._legacy_digest(entry)
        session.add(audit.AccessLogHead(id=1, last_seq=len(rows), last_hash=prev, legacy_seq=len(rows)))
        session.commit()
    client.get("/api/v1/cases", headers=world["sanne"])
    assert verify(app).exit_code == 0
    sql("update access_log set purpose = 'anders' where seq = 1")

    result = verify(app)

    assert result.exit_code == 1 and "entry 1 was changed" in result.output


def test_a_read_does_not_wait_for_a_completion_whose_step_has_run(app, client, world, backend):
    """The completion's transaction stays open after its step ran (as a long script would keep it);
    meanwhile another connection reads the case, which logs the read, and the sealer runs. With
    lock_timeout set, any wait on a lock held by the completion would fail instead of hanging."""
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time by design; the row locks are PostgreSQL's")
    case = start(client, world["eva"], titel="Dorpsstraat 1")
    item = only_item(client, world["eva"])
    eva = db.session.scalar(sa.select(User).where(User.username == "eva"))
    actor = Actor.of(eva)
    db.session.remove()
    writer_engine = sa.create_engine(db.engine.url.render_as_string(hide_password=False))

    @sa.event.listens_for(db.engine, "checkout")
    def _impatient(dbapi_connection, _record, _proxy):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
            cursor.execute("SET statement_timeout = '5s'")

    db.engine.dispose()  # every later connection of the app is impatient
    try:
        with Session(writer_engine) as writing:
            outcome = work_items.complete(writing, actor, item["id"],
                                          {"bevindingen": "Gesprek gevoerd", "ernst": "ernstig"})
            writing.flush()
            assert outcome.error is None  # the step ran; its transaction is still open

            read = client.get(f"/api/v1/cases/{case['id']}", headers=world["sanne"])
            sealed = seal_access_log(app)

            assert read.status_code == 200, read.get_json()
            assert sealed >= 1  # the read's entry (and those before it) were chained meanwhile
            writing.commit()
        assert verify(app).exit_code == 0
        assert sql("select count(*) from access_log where action = 'write' and purpose like 'taak:%'")[0][0] == 1
    finally:
        sa.event.remove(db.engine, "checkout", _impatient)
        db.engine.dispose()
        writer_engine.dispose()


def test_an_installation_without_an_access_log_key_refuses_to_start(monkeypatch, tmp_path):
    from api.config import from_environment

    monkeypatch.delenv("ACCESS_LOG_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("SECRET_KEY", "an installation")
    with pytest.raises(RuntimeError, match="ACCESS_LOG_KEY"):
        from_environment(str(tmp_path))

    monkeypatch.delenv("SECRET_KEY")
    development = from_environment(str(tmp_path))["ACCESS_LOG_KEY"]
    assert len(development) == 64 and (tmp_path / "access_log_key").read_text().strip() == development
    assert from_environment(str(tmp_path))["ACCESS_LOG_KEY"] == development  # made once, then kept
