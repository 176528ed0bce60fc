"""Bootstrapping a real installation from the command line."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from engine.models import Organisation, User


def test_create_organisation_and_user_then_log_in(app, client):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["create-organisation", "Gemeente Delft", "--kind", "gemeente"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["create-user", "jan", "--organisation", "Gemeente Delft",
              "--role", "coordinator", "--role", "caseworker"],
        input="een lang wachtwoord\n",
    )
    assert result.exit_code == 0, result.output

    user = db.session.scalar(select(User).where(User.username == "jan"))
    assert user is not None and user.organisation.name == "Gemeente Delft"
    assert {r.value for r in user.roles} == {"coordinator", "caseworker"}
    response = client.post("/api/v1/auth/tokens", json={"username": "jan", "password": "een lang wachtwoord"})
    assert response.status_code == 201


def test_create_organisation_refuses_unknown_kind_and_duplicates(app):
    runner = app.test_cli_runner()

    assert runner.invoke(args=["create-organisation", "X", "--kind", "bakkerij"]).exit_code != 0
    assert runner.invoke(args=["create-organisation", "X", "--kind", "ggd"]).exit_code == 0
    duplicate = runner.invoke(args=["create-organisation", "X", "--kind", "ggd"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    assert db.session.scalars(select(Organisation).where(Organisation.name == "X")).all().__len__() == 1


def test_create_user_refuses_short_password_and_unknown_organisation(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-organisation", "GGD", "--kind", "ggd"])

    short = runner.invoke(args=["create-user", "a", "--organisation", "GGD", "--role", "caseworker"], input="kort\n")
    missing = runner.invoke(
        args=["create-user", "b", "--organisation", "Nergens", "--role", "caseworker"], input="lang genoeg wachtwoord\n"
    )

    assert short.exit_code != 0 and "at least" in short.output
    assert missing.exit_code != 0 and "no organisation" in missing.output
    assert db.session.scalars(select(User)).all() == []


def test_seed_demo_is_idempotent_and_covers_every_partner(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    kinds = sorted({o.kind.value for o in db.session.scalars(select(Organisation))})
    assert kinds == ["corporatie", "gemeente", "ggd", "ggz", "politie", "zorg"]
    assert len(db.session.scalars(select(Organisation)).all()) == 7
    roles = {r.value for u in db.session.scalars(select(User)) for r in u.roles}
    assert roles == {"caseworker", "coordinator", "process_owner", "admin"}
    assert "coordinator" in first.output and "demo-wachtwoord" in first.output
