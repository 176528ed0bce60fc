"""The authorisation matrix: every organisation kind x role x participation x data category, through
each endpoint that returns case data. What the covenant does not grant is never sent."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from api.extensions import db
from engine import execution, history
from engine.clock import utcnow
from engine.models import Case
from tests.api.flows import start

COVENANT = yaml.safe_load((Path(__file__).parents[2] / "processes" / "convenant.yaml").read_text())
KINDS = ["gemeente", "corporatie", "politie", "ggd", "ggz", "zorg"]
CATEGORIES = list(COVENANT["categorieen"])
FIELD_OF = {category: f"veld_{category}" for category in CATEGORIES}


def may_read(kind: str, category: str) -> bool:
    return bool(COVENANT["toegang"].get(kind, {}).get(category, {}).get("lezen"))


@pytest.fixture
def matrix(client, world, make_user, auth_headers):
    """A case reported by the corporation, holding one field of every category; one organisation
    of every kind, each with a caseworker (and the municipality's coordinator)."""
    for kind in KINDS:
        name = {"gemeente": "Gemeente Zoetermeer", "corporatie": "De Goede Woning",
                "politie": "Politie Zoetermeer"}.get(kind, f"Partner {kind}")
        make_user(f"{kind}_medewerker", organisation=name, kind=kind)
    case = start(client, world["eva"], titel="Dorpsstraat 1", bewoner="J. Jansen", melder_naam="Buurvrouw")
    record = db.session.get(Case, case["id"])
    history.record(db.session, record, "task_completed", "Gegevens van alle soorten", at=utcnow(),
                   data={FIELD_OF[c]: f"waarde {c}" for c in CATEGORIES},
                   ).categories = {FIELD_OF[c]: c for c in CATEGORIES}
    db.session.commit()
    return {"case_id": case["id"], "headers": {kind: auth_headers(f"{kind}_medewerker") for kind in KINDS},
            "coordinator": world["sanne"]}


def admit(case_id: int, kind: str) -> None:
    from engine.models import Organisation

    organisation = db.session.scalar(db.select(Organisation).where(Organisation.kind == kind))
    execution.add_participant(db.session, case_id, organisation.id, reason="toegelaten door coördinator",
                              now=utcnow())
    db.session.commit()


def visible_fields(detail: dict) -> set[str]:
    return {key for event in detail["history"] for key in (event["data"] or {})}


def shielded_fields(detail: dict) -> set[str]:
    return {key for event in detail["history"] for key in event["shielded"]}


@pytest.mark.parametrize("kind", KINDS)
def test_participant_sees_exactly_the_categories_its_kind_may_read(client, matrix, kind):
    admit(matrix["case_id"], kind)

    detail = client.get(f"/api/v1/cases/{matrix['case_id']}", headers=matrix["headers"][kind]).get_json()

    for category, field in FIELD_OF.items():
        if may_read(kind, category):
            assert field in visible_fields(detail), (kind, category)
        else:
            assert field not in visible_fields(detail) and field in shielded_fields(detail), (kind, category)
            assert f"waarde {category}" not in str(detail)
    reporter_visible = may_read(kind, "melder")
    assert ("Buurvrouw" in str(detail)) is reporter_visible
    assert (detail["title"] == "Dorpsstraat 1") is may_read(kind, "basisgegevens")


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "corporatie"])
def test_non_participating_organisation_sees_nothing(client, matrix, kind):
    # For the municipality: a caseworker who is not the coordinator does not see every case either.
    headers = matrix["headers"][kind]

    detail = client.get(f"/api/v1/cases/{matrix['case_id']}", headers=headers)
    listed = client.get("/api/v1/cases", headers=headers).get_json()

    assert detail.status_code == 404
    assert "waarde" not in detail.get_data(as_text=True) and "Dorpsstraat" not in detail.get_data(as_text=True)
    assert listed == []


def test_a_non_participating_corporation_sees_nothing(client, matrix, make_user, auth_headers):
    make_user("mark", organisation="Vidomes", kind="corporatie")
    headers = auth_headers("mark")

    assert client.get(f"/api/v1/cases/{matrix['case_id']}", headers=headers).status_code == 404
    assert client.get("/api/v1/cases", headers=headers).get_json() == []
    assert client.get("/api/v1/work-items", headers=headers).get_json() == []


def test_police_never_receive_health_data(client, matrix):
    admit(matrix["case_id"], "politie")

    detail = client.get(f"/api/v1/cases/{matrix['case_id']}", headers=matrix["headers"]["politie"]).get_json()

    assert "veld_zorg" not in visible_fields(detail) and "waarde zorg" not in str(detail)
    assert "veld_zorg" in shielded_fields(detail)
    assert "veld_justitie" in visible_fields(detail)  # their own ground: Wpg


def test_coordinator_sees_every_case_but_only_what_the_municipality_may_read(client, matrix):
    detail = client.get(f"/api/v1/cases/{matrix['case_id']}", headers=matrix["coordinator"]).get_json()

    for category, field in FIELD_OF.items():
        assert (field in visible_fields(detail)) is may_read("gemeente", category)


@pytest.mark.parametrize(("kind", "endpoint"), list(itertools.product(
    ["corporatie", "politie", "ggd", "ggz", "zorg"], ["/api/v1/access-log", "/api/v1/subjects/export?subject=J.+Jansen",
                                                       "/api/v1/retention/proposals"])))
def test_privacy_endpoints_are_for_the_coordinator_only(client, matrix, kind, endpoint):
    response = client.get(endpoint, headers=matrix["headers"][kind])

    assert response.status_code == 403
    assert "Jansen" not in response.get_data(as_text=True)


def test_every_read_is_in_the_access_log_with_what_was_disclosed(client, matrix):
    admit(matrix["case_id"], "politie")
    client.get(f"/api/v1/cases/{matrix['case_id']}", headers=matrix["headers"]["politie"])

    log = client.get(f"/api/v1/access-log?case_id={matrix['case_id']}", headers=matrix["coordinator"]).get_json()

    police_reads = [e for e in log if e["action"] == "read" and e["user"] == "politie_medewerker"]
    assert len(police_reads) == 1
    assert "zorg" not in police_reads[0]["categories"] and "justitie" in police_reads[0]["categories"]
    assert "veld_zorg" not in police_reads[0]["fields"]
    assert police_reads[0]["covenant_version"] == COVENANT["versie"]
    assert any(e["action"] == "write" and e["user"] == "eva" for e in log)
    again = client.get(f"/api/v1/access-log?case_id={matrix['case_id']}", headers=matrix["coordinator"]).get_json()
    assert again[0]["action"] == "read_access_log"  # reading the log is itself logged


def test_coordinator_admits_a_partner_who_then_sees_the_case(client, matrix):
    from engine.models import Organisation

    ggd = db.session.scalar(db.select(Organisation).where(Organisation.kind == "ggd"))
    url = f"/api/v1/cases/{matrix['case_id']}"
    assert client.get(url, headers=matrix["headers"]["ggd"]).status_code == 404
    refused = client.post(f"{url}/participants", headers=matrix["headers"]["corporatie"],
                          json={"organisation_id": ggd.id, "reason": "huisbezoek samen met Vangnet"})
    assert refused.status_code == 403

    admitted = client.post(f"{url}/participants", headers=matrix["coordinator"],
                           json={"organisation_id": ggd.id, "reason": "huisbezoek samen met Vangnet"})

    assert admitted.status_code == 200
    assert client.get(url, headers=matrix["headers"]["ggd"]).status_code == 200
    assert any(e["kind"] == "participant_admitted" for e in admitted.get_json()["history"])


def log_in(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": "correct horse battery"})
    assert response.status_code == 302


@pytest.mark.parametrize("kind", ["politie", "ggd", "corporatie"])
def test_pages_show_only_what_the_covenant_allows_and_log_it(client, matrix, kind):
    admit(matrix["case_id"], kind)
    log_in(client, f"{kind}_medewerker")

    html = client.get(f"/casussen/{matrix['case_id']}").get_data(as_text=True)

    for category in CATEGORIES:
        assert (f"waarde {category}" in html) is may_read(kind, category), (kind, category)
    assert ("Dorpsstraat 1" in html) is may_read(kind, "basisgegevens")
    assert "Afgeschermd volgens het convenant" in html
    log = client.get(f"/api/v1/access-log?case_id={matrix['case_id']}", headers=matrix["coordinator"]).get_json()
    page_reads = [e for e in log if e["user"] == f"{kind}_medewerker" and e["action"] == "read"]
    assert page_reads and all("zorg" not in e["categories"] or may_read(kind, "zorg") for e in page_reads)
