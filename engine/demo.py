"""Demo organisations, users and cases for `make run`. Idempotent: running it again changes nothing.

The demo cases are walked through the real process by the right users with the engine's own
functions, so they are in the states real cases reach; only the clock cannot be moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import accounts, agenda, cases, meetings, roles, work_items
from engine.accounts import Actor
from engine.calendar import AMSTERDAM
from engine.clock import utcnow
from engine.models import (
    Case,
    Meeting,
    MeetingStatus,
    Organisation,
    OrganisationKind,
    ProcessVersion,
    Role,
    User,
    WorkItem,
    WorkItemStatus,
)
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
    # Actions agreed in the case meeting: each goes to the organisation the meeting named (the
    # task's own data decides, see engine.routing); the case role is only the lane's fallback.
    roles.RoleMappingInput("Ketenpartner", case_role="ketenpartner"),
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


# ---------------------------------------------------------------------------------------------
# Demo cases, in several stages of the woonoverlast process
# ---------------------------------------------------------------------------------------------

PROCESS = "woonoverlast"


def seed_demo_cases(session: Session, *, schedule: meetings.MeetingSchedule) -> int:
    """Plan the coming case meetings; when the woonoverlast process is deployed and there are no
    cases yet, create demo cases at intake, investigation, own warning, on the agenda, with a
    casusregisseur and actions, and closed. Returns how many cases it created."""
    now = utcnow()
    meetings.ensure_schedule(session, schedule, now=now)
    deployed = select(func.count()).select_from(ProcessVersion).where(ProcessVersion.process_key == PROCESS)
    if not session.scalar(deployed) or session.scalar(select(func.count()).select_from(Case)):
        return 0
    walk = _Walk(session)
    walk.start("goedewoning", "Geluidsoverlast Dorpsstraat 12")
    walk.report("vidomes", "Stankoverlast Meerzichtlaan 40", "Meerzicht", "stank_vervuiling")
    warned = walk.investigate(walk.report("goedewoning", "Burenruzie Seghwaertsingel 8", "Seghwaert", "burenruzie"))
    walk.do("goedewoning", warned, "Waarschuwingsbrief versturen", brief_verzonden_op=now.date().isoformat(),
            afspraken="Geen geluid na 23.00 uur; buren met rust laten.")
    for title, neighbourhood in (("Vervuilde woning Palenstein 3", "Palenstein"),
                                 ("Verward gedrag Rokkeveen 77", "Rokkeveen")):
        walk.refer(walk.investigate(walk.report("vidomes", title, neighbourhood, "stank_vervuiling", vulnerable=True)))
    # Two cases the last meeting (a fortnight before the next one) discussed.
    discussed = [walk.refer(walk.investigate(walk.report(corporation, title, neighbourhood, kind, vulnerable=True)))
                 for corporation, title, neighbourhood, kind in (
                     ("goedewoning", "Zorgmijdend gezin Buytenwegh 15", "Buytenwegh", "agressie"),
                     ("vidomes", "Overlast Oosterheem 21", "Oosterheem", "drugs"))]
    last = walk.last_meeting(schedule)
    today = now.astimezone(AMSTERDAM).date()
    ggd, zorg, politie = (walk.organisation(n) for n in ("GGD Haaglanden", "Participe Zorg en Welzijn",
                                                         "Politie Zoetermeer"))
    walk.discuss(last, discussed[0], meetings.OutcomeInput(
        casusregisseur_organisation_id=ggd, next_evaluation=today + timedelta(days=28),
        notes="Zorgmijdend gezin: samen met de corporatie op huisbezoek; buurtbemiddeling voor de buren.",
        actions=[meetings.ActionInput(ggd, "Huisbezoek met de corporatie", today + timedelta(days=7)),
                 meetings.ActionInput(zorg, "Buurtbemiddeling starten", today + timedelta(days=14)),
                 meetings.ActionInput(politie, "Wijkagent houdt contact met de buren", today + timedelta(days=21))]))
    walk.discuss(last, discussed[1], meetings.OutcomeInput(decision="afsluiten",
                                                           notes="Overgedragen aan het Zorg- en Veiligheidshuis."))
    walk.do("gemeente", discussed[1], "Casus afsluiten", resultaat="overgedragen_zvh")
    return len(walk.cases)


class _Walk:
    """Drives demo cases through the process as the demo users."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cases: list[int] = []

    def actor(self, username: str) -> Actor:
        return Actor.of(self.session.scalars(select(User).where(User.username == username)).one())

    def organisation(self, name: str) -> int:
        return self.session.scalars(select(Organisation.id).where(Organisation.name == name)).one()

    def do(self, username: str, case_id: int, title: str, **data: Any) -> None:
        item = self.session.scalars(select(WorkItem).where(
            WorkItem.case_id == case_id, WorkItem.title == title, WorkItem.status == WorkItemStatus.OPEN)).one()
        outcome = work_items.complete(self.session, self.actor(username), item.id, data)
        if outcome.error is not None:
            raise RuntimeError(f"demo case stopped at {title}: {outcome.error}")

    def start(self, corporation: str, title: str) -> int:
        case_id = cases.start_case(self.session, process_key=PROCESS, data={"titel": title},
                                   actor=self.actor(corporation)).case.id
        self.cases.append(case_id)
        return case_id

    def report(self, corporation: str, title: str, neighbourhood: str, kind: str, *, vulnerable: bool = False) -> int:
        case_id = self.start(corporation, title)
        self.do(corporation, case_id, "Melding registreren", adres=title.split(" ", 1)[1], wijk=neighbourhood,
                soort_overlast=kind, omschrijving=f"{title}: meerdere buren klagen.", aantal_meldingen=3,
                eerste_melding_op=utcnow().date().isoformat(), kwetsbaar="ja" if vulnerable else "nee",
                signalen="Vermoeden van verwaarlozing en verward gedrag." if vulnerable else None)
        return case_id

    def investigate(self, case_id: int) -> int:
        corporation = self._melder(case_id)
        self.do(corporation, case_id, "Overlast onderzoeken", bevindingen="Overlast bevestigd door huisbezoek.",
                contact_huurder="ja", ernst="ernstig")
        return case_id

    def refer(self, case_id: int) -> int:
        corporation = self._melder(case_id)
        self.do(corporation, case_id, "Aanmelden bij de gemeente", wat_geprobeerd="Gesprekken en een huisbezoek.",
                vraag="Welke partner kan contact leggen en zorg regelen?", toestemming_huurder="niet_gevraagd")
        self.do("politie", case_id, "Politie-informatie aanleveren", bekend_bij_politie="ja", aantal_incidenten=2)
        self.do("coordinator", case_id, "Aanmelding toetsen", ontvankelijk="ja")
        return case_id

    def last_meeting(self, schedule: meetings.MeetingSchedule) -> Meeting:
        """The regular meeting a fortnight before the next one (the demo cannot wait for a meeting)."""
        upcoming = self.session.scalars(select(Meeting.scheduled_at).where(
            Meeting.regular.is_(True), Meeting.status == MeetingStatus.PLANNED).order_by(Meeting.scheduled_at)).first()
        local = (upcoming or schedule.first_slot_after(utcnow())).astimezone(AMSTERDAM).date() - meetings.INTERVAL
        meeting = Meeting(scheduled_at=schedule.slot_on(local), status=MeetingStatus.PLANNED, regular=True,
                          created_at=utcnow())
        self.session.add(meeting)
        self.session.flush()
        return meeting

    def discuss(self, meeting: Meeting, case_id: int, outcome: meetings.OutcomeInput) -> None:
        item = agenda.open_item(self.session, case_id)
        if item is None:
            raise RuntimeError(f"demo case {case_id} is on no agenda")
        item.meeting_id = meeting.id  # as if it had been on that meeting's agenda
        meetings.record_outcome(self.session, meeting_id=meeting.id, case_id=case_id, actor=self.actor("coordinator"),
                                outcome=outcome)

    def _melder(self, case_id: int) -> str:
        opened_by = self.session.get(Case, case_id).opened_by_organisation_id  # type: ignore[union-attr]
        return "goedewoning" if opened_by == self.organisation("De Goede Woning") else "vidomes"
