"""WSGI entry point for production: `gunicorn 'api.wsgi:app'`.

Deploys the diagrams in processes/ at start-up (idempotent). Several workers starting at once
may race to deploy the same new version; the loser's insert fails on the unique constraint
and it simply uses the version the winner stored.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from api import create_app
from api.cli import deploy_bundled_processes
from api.extensions import db
from engine.errors import EngineError

app = create_app()

if app.config["DEPLOY_PROCESSES_ON_START"]:
    with app.app_context():
        try:
            deploy_bundled_processes()
        except IntegrityError:
            db.session.rollback()
        except EngineError as error:
            db.session.rollback()
            logging.getLogger(__name__).error("processes/ not deployed: %s %s", error.message, error.problems)
