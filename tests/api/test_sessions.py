"""Page sessions end server-side: logout and deactivation revoke a copied cookie; idle and absolute
timeouts; logging in again returns to the page the person was on (same-site paths only)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from flask import g

from api.extensions import db
from engine import accounts
from engine.clock import utcnow
from engine.models import User
from tests.api.flows import start
from tests.conftest import PASSWORD


def log_in(client, username="eva", next_path=None):
    url = "/login" + (f"?next={quote(next_path, safe='')}" if next_path else "")
    return client.post(url, data={"username": username, "password": PASSWORD})


def forget_loaded_user():
    # The test's app context is shared by the test client's requests, so Flask-Login's per-context
    # cache of the loaded user would outlive a request; a real request starts without it.
    g.pop("_login_user", None)


def visit(client, path):
    forget_loaded_user()
    return client.get(path)


def session_cookie(client):
    return client.get_cookie("session").value


def test_a_cookie_copied_before_logout_no_longer_opens_a_case(app, client, world):
    case = start(client, world["eva"])
    assert log_in(client).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", session_cookie(client))
    assert visit(thief, f"/casussen/{case['id']}").status_code == 200

    client.post("/logout")

    after = visit(thief, f"/casussen/{case['id']}")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_deactivating_a_user_ends_their_open_sessions(app, client, world):
    case = start(client, world["eva"])
    log_in(client)
    assert visit(client, f"/casussen/{case['id']}").status_code == 200

    eva = db.session.query(User).filter_by(username="eva").one()
    accounts.deactivate_user(db.session, user_id=eva.id)
    db.session.commit()

    assert visit(client, f"/casussen/{case['id']}").status_code == 302
    assert client.get("/api/v1/me", headers=world["eva"]).status_code == 401


def test_idle_session_ends_after_the_idle_timeout(app, client, world):
    case = start(client, world["eva"])
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    with time_machine.travel(utcnow(), tick=False) as clock:
        log_in(client)
        clock.shift(idle - timedelta(minutes=1))
        assert visit(client, f"/casussen/{case['id']}").status_code == 200  # activity resets the idle clock
        clock.shift(idle - timedelta(minutes=1))
        assert visit(client, f"/casussen/{case['id']}").status_code == 200
        clock.shift(idle + timedelta(seconds=1))
        expired = visit(client, f"/casussen/{case['id']}")

    assert expired.status_code == 302
    assert expired.headers["Location"] == f"/login?next=/casussen/{case['id']}"


def test_active_session_ends_at_the_absolute_timeout(app, client, world):
    case = start(client, world["eva"])
    step = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5)
    absolute = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    with time_machine.travel(utcnow(), tick=False) as clock:
        log_in(client)
        elapsed = timedelta()
        while elapsed + step < absolute:
            clock.shift(step)
            elapsed += step
            assert visit(client, f"/casussen/{case['id']}").status_code == 200
        clock.shift(step)
        assert visit(client, f"/casussen/{case['id']}").status_code == 302


def test_timeouts_are_configurable(app, client, world):
    app.config["SESSION_IDLE_MINUTES"] = 5
    case = start(client, world["eva"])
    with time_machine.travel(utcnow(), tick=False) as clock:
        log_in(client)
        clock.shift(timedelta(minutes=6))
        assert visit(client, f"/casussen/{case['id']}").status_code == 302


def test_logging_in_again_returns_to_the_page(app, client, world):
    case = start(client, world["eva"])
    page = f"/casussen/{case['id']}?tab=tijdlijn"
    redirect = visit(client, page)
    assert redirect.status_code == 302

    response = client.post(redirect.headers["Location"], data={"username": "eva", "password": PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == page


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "casussen",
    "/\t/evil.example", "\\\\evil.example",
])
def test_login_never_redirects_off_site(client, world, target):
    response = log_in(client, next_path=target)

    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_administrator_blocks_a_user_on_the_beheer_page(app, client, world):
    case = start(client, world["eva"])
    log_in(client)
    eva = db.session.query(User).filter_by(username="eva").one()
    admin = app.test_client()
    assert log_in(admin, "beheer").status_code == 302
    forget_loaded_user()

    blocked = admin.post(f"/beheer/gebruikers/{eva.id}/blokkeren")

    assert blocked.status_code == 302
    assert visit(client, f"/casussen/{case['id']}").status_code == 302
    assert log_in(client).status_code == 401
