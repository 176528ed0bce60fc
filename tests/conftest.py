"""Test fixtures: every database test runs on SQLite and on PostgreSQL, schema built by the migrations.

PostgreSQL: TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) is used
as an admin connection to create a throwaway database per test run. Without a server the
PostgreSQL variants skip with a reason — unless REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from api.extensions import db
from engine import accounts, catalog, covenant
from engine.models import OrganisationKind, Role, User

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
PASSWORD = "correct horse battery"
FIXTURES = Path(__file__).parent / "fixtures"
COVENANT = (Path(__file__).parent.parent / "processes" / "convenant.yaml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    # Production-strength argon2 costs ~50 ms a hash; tests hash hundreds of passwords.
    from argon2 import PasswordHasher

    original = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts._hasher = original


def _postgres_available() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error.__class__.__name__}"
    return None


def _migrate(url: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "DEPLOY_PROCESSES_ON_START": False})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        _migrate(url)
        yield url
        return
    yield from _postgres_database()


def _postgres_database() -> Iterator[str]:
    reason = _postgres_available()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"ketenregie_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _migrate(url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own, for tests that need real processes and
    row locks (there is no SQLite variant of these)."""
    yield from _postgres_database()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def app(database_url: str, tmp_path: Any) -> Iterator[Flask]:
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "ACCESS_LOG_KEY": "test-access-log-key",
        "ACCESS_LOG_CHECKPOINT_FILE": str(tmp_path / "access_log_checkpoints.jsonl"),
        "WTF_CSRF_ENABLED": False,
        "DEPLOY_PROCESSES_ON_START": False,
        "FORMS_DIR": str(FIXTURES / "forms"),
        "PROCESSES_DIR": str(FIXTURES / "processes"),
    })
    with app.app_context():
        covenant.load_covenant(db.session, text=COVENANT, source="processes/convenant.yaml")
        db.session.commit()
        yield app
        catalog.clear_spec_cache()  # database ids are reused after the tables are emptied
        db.session.rollback()
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Create (or reuse) an organisation and a user in it; returns the User."""

    def make(username: str = "eva", *, organisation: str = "De Goede Woning",
             kind: OrganisationKind | str = OrganisationKind.CORPORATIE,
             roles: tuple[Role | str, ...] = (Role.CASEWORKER,)) -> User:
        from sqlalchemy import select

        from engine.models import Organisation

        if db.session.scalar(select(Organisation).where(Organisation.name == organisation)) is None:
            accounts.create_organisation(db.session, name=organisation, kind=kind)
        user = accounts.create_user(
            db.session, username=username, password=PASSWORD, organisation_name=organisation, roles=list(roles),
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def token_for(client: FlaskClient) -> Any:
    def token(username: str, password: str = PASSWORD) -> str:
        response = client.post("/api/v1/auth/tokens", json={"username": username, "password": password})
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["token"])

    return token


@pytest.fixture
def auth_headers(token_for: Any) -> Any:
    def headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(username)}"}

    return headers


@pytest.fixture
def flow(app: Flask, client: FlaskClient) -> Iterator[Any]:
    """The woonoverlast world (tests/processes/flow.py): real diagrams, forms and demo partners."""
    from tests.processes.flow import woonoverlast

    with woonoverlast(app, client) as world:
        yield world
