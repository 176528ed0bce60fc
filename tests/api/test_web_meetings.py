"""The casusoverleg pages: meetings, an agenda with only the minimal data, and recording an outcome
through the page form (validated like the API, errors in Dutch at the form)."""

from __future__ import annotations

from api.extensions import db
from engine import demo
from engine.models import AgendaItem, Case


def log_in(client, username="coordinator"):
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def outcome_url(meeting_id, case_id):
    return f"/casusoverleg/{meeting_id}/casussen/{case_id}/uitkomst"


def item_of(case_id):
    db.session.expire_all()
    return db.session.query(AgendaItem).filter_by(case_id=case_id).one()


def test_meeting_list_shows_the_coming_meetings_with_their_agenda_size(client, flow, referred):
    meeting = flow.meeting_of(referred)
    log_in(client)

    page = client.get("/casusoverleg").get_data(as_text=True)

    assert f'href="/casusoverleg/{meeting["id"]}"' in page
    assert "3 mrt 2026 14:00" in page  # Tuesday 13:00 UTC, shown in Amsterdam time
    assert "1 casus" in page
    assert 'aria-current="page">Casusoverleg' in page


def test_agenda_shows_only_the_minimal_data(client, flow, referred):
    meeting = flow.meeting_of(referred)
    reference = db.session.get(Case, referred).reference
    log_in(client)

    page = client.get(f"/casusoverleg/{meeting['id']}").get_data(as_text=True)

    assert reference in page and "Palenstein" in page and "De Goede Woning" in page
    assert "Wie kan contact leggen met de huurder?" in page
    assert "Dorpsstraat" not in page  # neither the title nor the address
    assert "Uitkomst vastleggen voor " + reference in page
    for label in ("Besluit", "Casusregisseur", "Volgende evaluatie", "Actie 1: omschrijving",
                  "Actie 1: organisatie", "Actie 1: deadline"):
        assert f">{label}</label>" in page, label


def test_only_the_coordinator_reaches_the_meeting_pages(client, flow, referred):
    meeting = flow.meeting_of(referred)
    log_in(client, "goedewoning")

    assert client.get("/casusoverleg").status_code == 403
    assert client.get(f"/casusoverleg/{meeting['id']}").status_code == 403
    response = client.post(outcome_url(meeting["id"], referred), data={"decision": "afsluiten"})
    assert response.status_code == 403 and "Geen toegang" in response.get_data(as_text=True)
    assert item_of(referred).discussed_at is None


def test_unknown_meeting_or_case_is_404(client, flow, referred):
    meeting = flow.meeting_of(referred)
    log_in(client)

    assert client.get("/casusoverleg/999999").status_code == 404
    assert client.get(f"/casusoverleg/{2**40}").status_code == 404
    assert client.post(outcome_url(999_999, referred), data={"decision": "afsluiten"}).status_code == 404
    missing = client.post(outcome_url(meeting["id"], 999_999), data={"decision": "afsluiten"})
    assert missing.status_code == 404 and "Niet gevonden" in missing.get_data(as_text=True)


def test_invalid_outcome_shows_dutch_errors_at_the_form_and_changes_nothing(client, flow, referred):
    meeting = flow.meeting_of(referred)
    log_in(client)

    response = client.post(outcome_url(meeting["id"], referred), data={
        "decision": "regie", "casusregisseur_organisation_id": "", "next_evaluation": "",
        "actions-1-description": "Huisbezoek", "actions-1-due_date": "geen datum",
    })

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="c{referred}-a1-organisation-error">Dit veld is verplicht.' in page
    assert f'id="c{referred}-a1-due-error">Vul een geldige datum in.' in page
    assert 'value="Huisbezoek"' in page  # what was typed stays
    assert item_of(referred).discussed_at is None

    response = client.post(outcome_url(meeting["id"], referred), data={
        "decision": "regie", "casusregisseur_organisation_id": "", "next_evaluation": flow.today().isoformat(),
    })

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "De casus heeft nog geen casusregisseur; kies er een." in page
    assert "De volgende evaluatie valt na vandaag en binnen een jaar." in page
    assert item_of(referred).discussed_at is None
    assert flow.case(referred)["stage"] == "casusoverleg"


def test_valid_outcome_is_recorded_and_redirects_to_the_agenda(client, flow, referred):
    meeting = flow.meeting_of(referred)
    ggd, police = flow.organisation_id("GGD Haaglanden"), flow.organisation_id("Politie Zoetermeer")
    log_in(client)

    response = client.post(outcome_url(meeting["id"], referred), data={
        "decision": "regie", "casusregisseur_organisation_id": str(ggd), "next_evaluation": flow.in_days(28),
        "actions-0-description": "", "actions-0-organisation_id": "", "actions-0-due_date": "",
        "actions-2-description": "Huisbezoek met de wijkagent", "actions-2-organisation_id": str(police),
        "actions-2-due_date": flow.in_days(10),
    })

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/casusoverleg/{meeting['id']}#casus-{referred}")
    item = item_of(referred)
    assert item.discussed_at is not None and item.casusregisseur_organisation_id == ggd
    assert [a["omschrijving"] for a in item.actions] == ["Huisbezoek met de wijkagent"]
    case = flow.case(referred)
    assert case["stage"] == "regie en interventie"
    page = client.get(f"/casusoverleg/{meeting['id']}").get_data(as_text=True)
    assert "is vastgelegd" in page and "uitkomst vastgelegd" in page
    assert "Huisbezoek met de wijkagent" in page and "GGD Haaglanden" in page

    again = client.post(outcome_url(meeting["id"], referred), data={"decision": "afsluiten"})
    assert again.status_code == 409
    assert "De uitkomst voor deze casus is al vastgelegd." in again.get_data(as_text=True)
    assert item_of(referred).decision == "regie"
