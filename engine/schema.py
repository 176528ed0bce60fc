"""Importing this module registers every table on the shared metadata (for Alembic and the app).

Most tables live in engine/models.py; a few live beside the code that owns them.
"""

from __future__ import annotations

from engine import audit, covenant, models, retention  # noqa: F401 - imported for their tables
from engine.db import Base

metadata = Base.metadata
