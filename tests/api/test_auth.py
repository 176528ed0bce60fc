"""Bearer tokens, /me, and the answers to bad credentials."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from engine import accounts
from engine.clock import utcnow


def test_token_grants_access_to_me(client, make_user, auth_headers):
    make_user("eva", organisation="De Goede Woning")

    response = client.get("/api/v1/me", headers=auth_headers("eva"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "eva"
    assert body["organisation"]["name"] == "De Goede Woning"
    assert body["organisation"]["kind"] == "corporatie"
    assert body["roles"] == ["caseworker"]


def test_wrong_password_and_unknown_user_get_the_same_401(client, make_user):
    make_user("eva")

    wrong = client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "not the password"})
    unknown = client.post("/api/v1/auth/tokens", json={"username": "nobody", "password": "not the password"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content_type == unknown.content_type == "application/problem+json"
    strip = lambda body: {k: v for k, v in body.items() if k != "instance"}  # noqa: E731
    assert strip(wrong.get_json()) == strip(unknown.get_json())
    assert "token" not in wrong.get_json()


def test_me_without_token_is_401_problem(client):
    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_garbage_and_non_bearer_tokens_are_refused(client, make_user):
    make_user("eva")
    for header in ("Bearer nonsense", "Basic ZXZhOnB3", "Bearer", "bearer  "):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_expired_token_is_refused(app, client, make_user, token_for):
    make_user("eva")
    token = token_for("eva")

    with time_machine.travel(utcnow() + timedelta(hours=13), tick=False):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_revoked_token_is_refused(client, make_user, token_for):
    make_user("eva")
    headers = {"Authorization": f"Bearer {token_for('eva')}"}

    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_inactive_user_cannot_log_in_or_use_old_token(app, client, make_user, token_for):
    from api.extensions import db

    user = make_user("eva")
    token = token_for("eva")
    user.active = False
    db.session.commit()

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    response = client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "correct horse battery"})
    assert response.status_code == 401


def test_repeated_failed_logins_are_rate_limited_even_with_the_right_password(client, make_user):
    make_user("eva")
    for _ in range(accounts.MAX_FAILURES_PER_USERNAME):
        assert client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "wrong!"}).status_code == 401

    response = client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "correct horse battery"})

    assert response.status_code == 429
    assert response.get_json()["type"].endswith(":rate-limited")
    assert int(response.headers["Retry-After"]) > 0


def test_rate_limit_lifts_after_the_window(client, make_user):
    make_user("eva")
    for _ in range(accounts.MAX_FAILURES_PER_USERNAME):
        client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "wrong!"})

    with time_machine.travel(utcnow() + accounts.FAILURE_WINDOW + timedelta(seconds=5), tick=False):
        response = client.post("/api/v1/auth/tokens", json={"username": "eva", "password": "correct horse battery"})

    assert response.status_code == 201


def test_token_is_stored_only_as_a_hash(app, client, make_user, token_for):
    import sqlalchemy as sa

    from api.extensions import db

    make_user("eva")
    token = token_for("eva")

    stored = db.session.scalars(sa.text("select token_hash from api_tokens")).all()
    assert stored and token not in stored
    assert all(len(h) == 64 for h in stored)


def test_password_is_hashed_with_argon2(app, make_user):
    user = make_user("eva")

    assert user.password_hash.startswith("$argon2")
    assert "correct horse battery" not in user.password_hash
