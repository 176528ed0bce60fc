"""The Flask application: a thin layer of REST endpoints and pages over the engine."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.middleware.proxy_fix import ProxyFix

from api import (
    auth,
    cases,
    cli,
    diagnostics,
    headers,
    limits,
    meetings,
    pages,
    privacy,
    problems,
    process_models,
    reports,
    roles,
    web,
    work_items,
)
from api.config import from_environment
from api.extensions import csrf, db, login_manager, migrate, openapi
from engine.bpmn import budget
from engine.db import configure_sqlite
from engine.errors import EngineError

API_PREFIX = "/api/v1"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: environment configuration, overridden by `config` (tests)."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    app.config.update(
        API_TITLE="Ketenregie API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/static/vendor/swagger-ui/",
        API_SPEC_OPTIONS={
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "info": {"description": "Cases, work items and process models of the aanpak woonoverlast."},
        },
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        WTF_CSRF_TIME_LIMIT=None,
    )
    if config:
        app.config.update(config)
    if app.config["TRUSTED_PROXIES"]:
        # Only behind this many proxies is X-Forwarded-For the client's address; otherwise it is
        # ignored, as a client could send it to dodge the per-address login limit.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    limits.init_app(app)

    budget.configure(seconds=app.config["SCRIPT_TIME_BUDGET"], operations=app.config["SCRIPT_OPERATION_BUDGET"])
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    # Batch mode lets the same migrations alter tables on SQLite, which lacks most ALTER TABLE forms.
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"),
        render_as_batch=True, compare_type=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    openapi.init_app(app)

    api_blueprints = [auth.blp, auth.me_blp, process_models.blp, roles.blp, cases.blp, work_items.blp, privacy.blp,
                      meetings.blp, reports.blp, diagnostics.blp]
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)  # The API authenticates with bearer tokens, never cookies.
        openapi.register_blueprint(blueprint, url_prefix=API_PREFIX + blueprint.url_prefix)
    app.before_request(problems.refuse_nul_characters)
    auth.init_app(app)
    app.before_request(limits.parse_json_body)  # after authentication: strangers get 401, not 400
    headers.init_app(app)
    pages.init_app(app)
    web.init_app(app)
    cli.init_app(app)

    app.register_error_handler(EngineError, problems.handle_engine_error)
    app.register_error_handler(StaleDataError, problems.handle_stale_data)
    app.register_error_handler(OperationalError, problems.handle_operational_error)
    app.register_error_handler(Exception, problems.handle_unexpected_error)
    return app
