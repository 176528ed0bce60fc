"""Flask extensions, created unbound and attached to an app in create_app()."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from api.problems import ProblemApi
from engine import schema  # noqa: F401 - registers every table before Flask-SQLAlchemy sees them
from engine.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
openapi = ProblemApi()
login_manager = LoginManager()
csrf = CSRFProtect()
