"""`make simulate N=300`: a bigger simulated year on a throwaway database, then its summary.

SQLite (a temporary file) by default; with DATABASE_URL a PostgreSQL server, on which a fresh
database is created for the run and dropped after. Exits 1 when an assertion of the simulation fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from api import create_app
from api.extensions import db
from engine import covenant
from tests.processes.flow import woonoverlast
from tests.simulation import year

ROOT = Path(__file__).parents[2]


@contextmanager
def throwaway_database(server_url: str | None) -> Iterator[str]:
    if not server_url:
        with tempfile.TemporaryDirectory() as directory:
            yield "sqlite:///" + str(Path(directory) / "simulation.sqlite3")
        return
    server_url = server_url.replace("postgres://", "postgresql+psycopg://", 1)
    name = f"ketenregie_sim_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sa.make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)
    with throwaway_database(os.environ.get("DATABASE_URL")) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "simulation",
                          "DEPLOY_PROCESSES_ON_START": False})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            covenant.load_covenant(db.session, text=(ROOT / "processes" / "convenant.yaml").read_text("utf-8"),
                                   source="processes/convenant.yaml")
            db.session.commit()
            started = time.monotonic()
            with woonoverlast(app, app.test_client()) as world:
                summary = year.run(world, args.cases, args.seed, days=args.days)
            db.session.remove()
            db.engine.dispose()
    print(summary.format())
    print(f"  ({sa.make_url(url).get_backend_name()}, {time.monotonic() - started:.0f} s)")
    return 1 if any(summary.failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
