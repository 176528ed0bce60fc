"""The benchmark's world: a migrated database with one municipality, one user and one diagram."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[1]


def seed(session: Any, *, diagram: bytes, filename: str) -> Any:
    """Run inside an app context after `upgrade()`; returns the user's Actor."""
    from engine import accounts, catalog, covenant, roles
    from engine.accounts import Actor

    covenant.load_covenant_file(session, ROOT_DIR / "processes" / "convenant.yaml")
    accounts.create_organisation(session, name="Gemeente", kind="gemeente")
    user = accounts.create_user(session, username="bench", password="bench-password", organisation_name="Gemeente",
                                roles=["caseworker", "coordinator"])
    roles.set_role_mapping(session, roles.RoleMappingInput("Gemeente", organisation="Gemeente"))
    catalog.deploy_process(session, xml=diagram, filename=filename, forms={})
    session.commit()
    return Actor.of(user)
