"""The strict Content-Security-Policy in a real browser: inline script is refused, and the
violation watcher every browser test relies on (conftest `page`) does see it."""

from __future__ import annotations

import contextlib


def test_inline_script_is_refused_and_reported(live_server, page, csp_violations):
    page.goto(f"{live_server}/login")

    with contextlib.suppress(Exception):  # Playwright raises when the browser refuses the tag
        page.add_script_tag(content="window.__ran = true;")
    page.wait_for_function("window.__cspViolationSeen === true")  # the event arrives asynchronously

    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # seen and expected: the fixture asserts the rest of the test had none
