"""Security headers on every response: a strict Content-Security-Policy, no framing, no sniffing,
no referrer, HSTS behind HTTPS, and no caching of anything but static files (pages and API
responses carry case data)."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app, request

# Scripts only from our own origin, never inline; styles may be inline because bpmn-js and
# form-js set style attributes and inject <style> elements at run time (styles cannot run code).
# The vendored CSS embeds its icon fonts and images as data: URLs.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def add_security_headers(response: Response) -> Response:
    csp = CSP
    if request.blueprint == "api-docs" and response.mimetype == "text/html":
        csp = _allow_own_inline_scripts(response)
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers["Strict-Transport-Security"] = HSTS
    if not (request.endpoint or "").endswith("static"):  # the app's and any blueprint's static files
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.pop("ETag", None)
        response.headers.pop("Last-Modified", None)
    return response


def _allow_own_inline_scripts(response: Response) -> str:
    # The Swagger UI page flask-smorest renders configures itself in an inline script. That exact
    # script (our own, fixed text) is allowed by its hash; nothing else inline runs.
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(response.get_data())
    ]
    return CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
