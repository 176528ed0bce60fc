"""The task page and its JSON completion endpoint: form, summary, and every refusal as a clear answer."""

from __future__ import annotations

import pytest

from api import create_app
from api.extensions import db
from tests.browser import world
from tests.browser.world import FIXTURES, log_in

JSON = {"Accept": "application/json"}
VALID = {"bevindingen": "Stank", "ernst": "licht", "bezocht_op": None, "aantal_meldingen": 2}

web_world = world.web_world  # the page-test world fixture, shared with tests/browser

def complete(client, item_id, data=VALID, headers=JSON):
    return client.post(f"/taken/{item_id}/afronden", json={"data": data}, headers=headers)


def test_task_page_shows_the_form_and_the_case_summary(client, web_world):
    case = web_world.start_case(titel="Dorpsstraat 1", adres="Dorpsstraat 1")
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    page = client.get(f"/taken/{item.id}").get_data(as_text=True)

    assert 'id="task-form-schema"' in page and '"key": "bevindingen"' in page
    assert f"Casus {case.reference}" in page and "Dorpsstraat 1" in page and "onderzoek" in page


def test_completing_returns_where_to_go_and_runs_the_case(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    response = complete(client, item.id)

    assert response.status_code == 200
    assert response.get_json()["redirect"] == "/werkvoorraad"
    assert [i.title for i in web_world.open_items("eva")] == ["Waarschuwingsbrief sturen"]


def test_invalid_data_is_422_with_dutch_messages_per_field_key(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    response = complete(client, item.id, {"ernst": "heel erg", "aantal_meldingen": -3, "onbekend": 1})

    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert errors == {
        "bevindingen": "Dit veld is verplicht.",
        "ernst": "Kies een van de mogelijkheden.",
        "aantal_meldingen": "Moet tussen 0 en 1000 liggen.",
        "onbekend": "Dit veld hoort niet bij het formulier.",
    }
    db.session.expire_all()
    assert [i.id for i in web_world.open_items("eva")] == [item.id]


def test_second_completion_is_409_with_a_dutch_message(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")
    assert complete(client, item.id).status_code == 200

    again = complete(client, item.id)

    assert again.status_code == 409
    assert again.get_json()["message"] == "Deze taak is al afgerond."


def test_other_organisations_and_unknown_item_both_404(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "kees")

    assert client.get(f"/taken/{item.id}").status_code == 404  # as if missing: ids cannot be probed
    refused = complete(client, item.id)
    assert refused.status_code == 404
    assert refused.get_json()["message"] == complete(client, 999999).get_json()["message"]
    assert complete(client, 999999).status_code == 404
    assert client.get("/taken/999999").status_code == 404


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"data": [1]}', b'{"nodata": {}}'])
def test_malformed_bodies_are_400_not_500(client, web_world, body):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    log_in(client, "eva")

    headers = {**JSON, "Content-Type": "application/json"}
    response = client.post(f"/taken/{item.id}/afronden", data=body, headers=headers)

    assert response.status_code == 400
    assert "niet goed ontvangen" in response.get_json()["message"]


def test_completing_needs_a_login(client, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]

    response = complete(client, item.id)

    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def csrf_app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "DEPLOY_PROCESSES_ON_START": False, "FORMS_DIR": str(FIXTURES / "forms")})
    with app.app_context():
        yield app


def test_completion_without_csrf_token_is_refused(csrf_app, web_world):
    web_world.start_case()
    item = web_world.open_items("eva")[0]
    client = csrf_app.test_client()
    # Log in with a token taken from the login page, as a browser would.
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"username": "eva", "password": "correct horse battery", "csrf_token": token})

    refused = complete(client, item.id)
    accepted = complete(client, item.id, headers={**JSON, "X-CSRFToken": token})

    assert refused.status_code == 400
    assert "verlopen" in refused.get_json()["message"]
    assert accepted.status_code == 200
