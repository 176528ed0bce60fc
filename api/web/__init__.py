"""The web application for people (Dutch pages): inbox, tasks, cases, casusoverleg, processes, dashboard, admin.

Pages authenticate with the session login (api/pages.py) and CSRF tokens, call engine use cases,
and answer with HTML (htmx fragments where useful) or small JSON for the scripts that submit data.
"""

from __future__ import annotations

from flask import Flask

from api.web import admin, cases, dashboard, disclosure, display, forms, inbox, meetings, processes, tasks

BLUEPRINTS = (inbox.bp, tasks.bp, cases.bp, meetings.bp, processes.bp, forms.bp, dashboard.bp, admin.bp)


def init_app(app: Flask) -> None:
    display.init_app(app)
    disclosure.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
