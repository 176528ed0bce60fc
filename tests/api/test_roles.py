"""Role mappings through the API and the CLI."""

from __future__ import annotations


def test_roles_replace_all_and_validate_everything_first(client, world):
    before = client.get("/api/v1/roles", headers=world["eva"]).get_json()["mappings"]

    bad = client.put("/api/v1/roles", headers=world["beheer"], json={"mappings": [
        {"role": "Gemeente", "organisation": "Gemeente Zoetermeer"},
        {"role": "Politie", "organisation": "Bestaat Niet"},
        {"role": "Beide", "organisation": "Gemeente Zoetermeer", "case_role": "melder"},
        {"role": "gemeente", "case_role": "melder"},
        {"role": "Regie", "case_role": "Niet Goed!"},
    ]})

    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {
        "mappings.1.organisation", "mappings.2", "mappings.3.role", "mappings.4.case_role"}
    assert client.get("/api/v1/roles", headers=world["eva"]).get_json()["mappings"] == before


def test_only_admins_change_roles(client, world):
    response = client.put("/api/v1/roles", headers=world["sanne"], json={"mappings": []})

    assert response.status_code == 403


def test_map_role_cli_adds_one_mapping(app, client, world):
    result = app.test_cli_runner().invoke(args=["map-role", "Politie", "--organisation", "Politie Zoetermeer"])

    assert result.exit_code == 0, result.output
    mappings = {m["role"]: m for m in client.get("/api/v1/roles", headers=world["eva"]).get_json()["mappings"]}
    assert mappings["Politie"]["organisation"] == "Politie Zoetermeer"
    assert mappings["Woningcorporatie"]["case_role"] == "melder"  # the others stay
    bad = app.test_cli_runner().invoke(args=["map-role", "X", "--organisation", "Nergens"])
    assert bad.exit_code != 0 and "no organisation" in bad.output
