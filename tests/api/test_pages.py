"""The login page and the home page (server-rendered, Dutch)."""

from __future__ import annotations

import pytest

from api import create_app


def test_home_redirects_to_login_when_logged_out(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_with_demo_credentials_shows_home(client, make_user):
    make_user("eva", organisation="De Goede Woning")

    response = client.post("/login", data={"username": "eva", "password": "correct horse battery"})
    assert response.status_code == 302
    home = client.get("/")

    assert home.status_code == 200
    assert "Welkom" in home.get_data(as_text=True)
    assert "De Goede Woning" in home.get_data(as_text=True)


def test_login_with_wrong_password_stays_on_login_with_message(client, make_user):
    make_user("eva")

    response = client.post("/login", data={"username": "eva", "password": "fout"})

    assert response.status_code == 401
    assert "Onbekende gebruiker of onjuist wachtwoord" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_refuses_offsite_next(client, make_user):
    make_user("eva")

    credentials = {"username": "eva", "password": "correct horse battery"}
    response = client.post("/login?next=//evil.example/x", data=credentials)

    assert response.headers["Location"] == "/"


@pytest.fixture
def csrf_client(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "DEPLOY_PROCESSES_ON_START": False})
    with app.app_context():
        yield app.test_client()


def test_login_form_without_csrf_token_is_refused(csrf_client):
    response = csrf_client.post("/login", data={"username": "eva", "password": "whatever"})

    assert response.status_code == 400


def test_api_is_not_subject_to_csrf(csrf_client):
    # Bearer-token calls carry no cookie, so CSRF protection does not apply to them.
    response = csrf_client.post("/api/v1/auth/tokens", json={"username": "x", "password": "y"})

    assert response.status_code == 401
