"""Every error under /api/v1 is problem+json (RFC 9457) with a stable type."""

from __future__ import annotations


def test_malformed_json_is_400_problem(client):
    response = client.post(
        "/api/v1/auth/tokens", data="{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(":bad-request")
    assert body["status"] == 400
    assert "JSON" in body["detail"]


def test_unknown_route_is_404_problem(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.get_json()["instance"] == "/api/v1/no-such-thing"


def test_wrong_method_is_405_problem_with_allow(client):
    response = client.put("/api/v1/auth/tokens", json={})

    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert "POST" in response.headers["Allow"]


def test_missing_fields_are_422_with_field_details(client):
    response = client.post("/api/v1/auth/tokens", json={"username": ""})

    assert response.status_code == 422
    body = response.get_json()
    assert body["type"].endswith(":validation")
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"json.username", "json.password"}


def test_wrong_field_types_are_422(client):
    response = client.post("/api/v1/auth/tokens", json={"username": 42, "password": ["x"]})

    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"json.username", "json.password"}


def test_json_array_body_is_422_not_500(client):
    response = client.post("/api/v1/auth/tokens", json=["eva", "pw"])

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_pages_get_html_errors_not_problem_json(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


def test_nul_characters_are_refused_before_they_reach_the_database(client):
    for response in (
        client.post("/api/v1/auth/tokens", json={"username": "eva\u0000", "password": "x"}),
        client.get("/api/v1/process-models/a%00b/versions/1"),
        client.get("/api/v1/cases?stage=a%00b"),
    ):
        assert response.status_code == 422, response.get_data(as_text=True)
        assert response.content_type == "application/problem+json"
        assert "NUL" in response.get_json()["detail"]


def test_a_huge_body_is_413_before_it_is_read(client):
    response = client.post("/api/v1/auth/tokens", data=b"x" * (6 * 1024 * 1024),
                           headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
