"""A live server and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium these tests skip with a reason — unless REQUIRE_BROWSER=1 (CI),
where they fail. `playwright install` cannot download browsers here, so we never use it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.browser.world import web_world  # noqa: F401 - a fixture, offered to every browser test

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    app.config["WTF_CSRF_ENABLED"] = True  # The browser goes through the real forms, tokens and all.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser_instance() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        reason = f"Chromium not found at {CHROMIUM}"
        if REQUIRE_BROWSER:
            pytest.fail(reason + " (REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


# Reports every Content-Security-Policy violation of every document the page loads.
_WATCH_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolationSeen = true;
  window.__reportCspViolation(
    `${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def csp_violations(browser_instance: Any) -> list[str]:
    """CSP violations seen by the `page` fixture: securitypolicyviolation events and console reports."""
    return []


@pytest.fixture
def page(browser_instance: Any, request: pytest.FixtureRequest, csp_violations: list[str]) -> Iterator[Any]:
    context = browser_instance.new_context(viewport={"width": 1280, "height": 800}, locale="nl-NL")
    context.expose_binding("__reportCspViolation", lambda _source, text: csp_violations.append(text))
    context.add_init_script(_WATCH_CSP)
    page = context.new_page()
    page.on("console", lambda message: csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    # Every page of every browser test runs under the strict policy: nothing may be refused.
    assert csp_violations == [], csp_violations
