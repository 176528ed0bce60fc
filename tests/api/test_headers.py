"""Security headers: a strict CSP without inline script, no framing or sniffing, no referrer,
no caching of anything but static files, HSTS behind HTTPS."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from api import create_app
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).parent.parent.parent / "api" / "templates"


def directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def assert_hardened(response):
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/api/v1/cases", "/api/v1/nope", "/casussen"])
def test_every_answer_with_case_data_is_hardened_and_never_cached(client, world, path):
    client.post("/login", data={"username": "sanne", "password": PASSWORD})

    response = client.get(path, headers=world["sanne"])

    assert_hardened(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests


def test_static_files_may_be_cached(client):
    response = client.get("/static/app.css")

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_behind_https(app):
    secure = create_app({**app.config, "SESSION_COOKIE_SECURE": True})

    response = secure.test_client().get("/login")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_api_docs_allow_only_their_own_inline_script_by_hash(client):
    response = client.get("/api/v1/docs")

    html = response.get_data()
    inline = re.findall(rb"<script>(.*?)</script>", html, re.DOTALL)
    expected = ["'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'" for s in inline]
    assert inline and directives(response)["script-src"] == ["'self'", *expected]


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script(template):
    html = template.read_text(encoding="utf-8")

    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html
