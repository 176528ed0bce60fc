"""Demo organisations and users for `make run`. Idempotent: running it again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import accounts, roles
from engine.models import Organisation, OrganisationKind, Role, User
from engine.routing import role_key

# Demo passwords are for the demo only; `make run` prints them.
DEMO_PASSWORD = "demo-wachtwoord"  # noqa: S105 - a published demo password, by design

ORGANISATIONS = [
    ("Gemeente Zoetermeer", OrganisationKind.GEMEENTE, "wijkregie@zoetermeer.example"),
    ("De Goede Woning", OrganisationKind.CORPORATIE, "sociaalbeheer@degoedewoning.example"),
    ("Vidomes", OrganisationKind.CORPORATIE, "sociaalbeheer@vidomes.example"),
    ("Politie Zoetermeer", OrganisationKind.POLITIE, "wijkagent@politie.example"),
    ("GGD Haaglanden", OrganisationKind.GGD, "vangnet@ggdhaaglanden.example"),
    ("GGZ Delfland", OrganisationKind.GGZ, "aanmelding@ggzdelfland.example"),
    ("Participe Zorg en Welzijn", OrganisationKind.ZORG, "buurtbemiddeling@participe.example"),
]

USERS = [
    ("coordinator", "Gemeente Zoetermeer", [Role.COORDINATOR, Role.CASEWORKER], "Sanne de Vries"),
    ("procesbeheer", "Gemeente Zoetermeer", [Role.PROCESS_OWNER], "Pieter Jansen"),
    ("gemeente", "Gemeente Zoetermeer", [Role.CASEWORKER], "Fatima El Amrani"),
    ("goedewoning", "De Goede Woning", [Role.CASEWORKER], "Eva Bakker"),
    ("vidomes", "Vidomes", [Role.CASEWORKER], "Mark Visser"),
    ("politie", "Politie Zoetermeer", [Role.CASEWORKER], "Wijkagent Kees Smit"),
    ("ggd", "GGD Haaglanden", [Role.CASEWORKER], "Anouk Mulder"),
    ("ggz", "GGZ Delfland", [Role.CASEWORKER], "Dr. Ruben Meijer"),
    ("zorg", "Participe Zorg en Welzijn", [Role.CASEWORKER], "Lotte de Boer"),
    ("beheerder", "Gemeente Zoetermeer", [Role.ADMIN], "Applicatiebeheer"),
]


# Lanes and candidate groups of the woonoverlast diagrams, and where their tasks go.
ROLE_MAPPINGS = [
    roles.RoleMappingInput("Woningcorporatie", case_role=roles.MELDER),
    roles.RoleMappingInput("Gemeente", organisation="Gemeente Zoetermeer"),
    roles.RoleMappingInput("Coordinator", organisation="Gemeente Zoetermeer"),
    roles.RoleMappingInput("Casusregisseur", case_role=roles.CASUSREGISSEUR),
    roles.RoleMappingInput("Zorgpartner", case_role="zorgpartner"),
    roles.RoleMappingInput("Politie", organisation="Politie Zoetermeer"),
    roles.RoleMappingInput("GGD", organisation="GGD Haaglanden"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    organisation: str
    roles: str


def seed_demo(session: Session) -> list[DemoLogin]:
    """Create what is missing of the demo organisations and users; return the demo logins."""
    for name, kind, email in ORGANISATIONS:
        if session.scalar(select(Organisation.id).where(Organisation.name == name)) is None:
            accounts.create_organisation(session, name=name, kind=kind, email=email)
    for username, organisation, user_roles, full_name in USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            accounts.create_user(
                session, username=username, password=DEMO_PASSWORD, organisation_name=organisation,
                roles=list(user_roles), full_name=full_name, email=f"{username}@demo.example",
            )
    known = {role_key(m.role) for m in roles.list_role_mappings(session)}
    for mapping in ROLE_MAPPINGS:
        if role_key(mapping.role) not in known:
            roles.set_role_mapping(session, mapping)
    return [DemoLogin(u, DEMO_PASSWORD, o, ", ".join(r)) for u, o, r, _ in USERS]
