"""An engine-level world: organisations, users, role mappings, and helpers to deploy and drive cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from engine import accounts, cases, catalog, notifications, roles, timers, watch, work_items
from engine.accounts import Actor
from engine.models import Case, WorkItem, WorkItemStatus

TIMER_DIAGRAMS = Path(__file__).parent.parent / "fixtures" / "timers"


@dataclass
class World:
    coordinator: Actor
    corporation: Actor
    gemeente_id: int
    corporation_id: int

    def deploy(self, name: str) -> None:
        xml = (TIMER_DIAGRAMS / f"{name}.bpmn").read_bytes()
        catalog.deploy_process(db.session, xml=xml, filename=f"{name}.bpmn", forms={})
        db.session.commit()

    def start(self, process: str, actor: Actor | None = None, **data: Any) -> int:
        outcome = cases.start_case(db.session, process_key=process, data=data, actor=actor or self.corporation)
        db.session.commit()
        return outcome.case.id

    def open_items(self, case_id: int) -> list[WorkItem]:
        db.session.expire_all()
        return list(db.session.scalars(
            select(WorkItem).where(WorkItem.case_id == case_id, WorkItem.status == WorkItemStatus.OPEN)
            .order_by(WorkItem.id)
        ))

    def titles(self, case_id: int) -> list[str]:
        return [i.title for i in self.open_items(case_id)]

    def complete(self, item: WorkItem, actor: Actor, **data: Any) -> None:
        outcome = work_items.complete(db.session, actor, item.id, data)
        db.session.commit()
        assert outcome.error is None, outcome.error

    def case(self, case_id: int) -> Case:
        db.session.expire_all()
        return db.session.get(Case, case_id)

    def sweep(self) -> timers.SweepReport:
        db.session.remove()
        return timers.sweep(lambda: Session(db.engine))

    def tick(self, smtp: notifications.SmtpSettings | None = None) -> watch.TickReport:
        db.session.remove()
        return watch.tick(lambda: Session(db.engine), smtp or notifications.SmtpSettings(host=None))


@pytest.fixture
def world(app: Any) -> World:
    session = db.session
    gemeente = accounts.create_organisation(session, name="Gemeente Zoetermeer", kind="gemeente",
                                            email="regie@gemeente.example")
    corporation = accounts.create_organisation(session, name="De Goede Woning", kind="corporatie",
                                               email="sociaalbeheer@dgw.example")
    coordinator = accounts.create_user(session, username="sanne", password="x" * 12,
                                       organisation_name="Gemeente Zoetermeer", roles=["coordinator", "caseworker"])
    caseworker = accounts.create_user(session, username="eva", password="x" * 12,
                                      organisation_name="De Goede Woning", roles=["caseworker"])
    for mapping in (
        roles.RoleMappingInput("Gemeente", organisation="Gemeente Zoetermeer"),
        roles.RoleMappingInput("Coordinator", organisation="Gemeente Zoetermeer"),
        roles.RoleMappingInput("Woningcorporatie", case_role=roles.MELDER),
    ):
        roles.set_role_mapping(session, mapping)
    session.commit()
    return World(Actor.of(coordinator), Actor.of(caseworker), gemeente.id, corporation.id)
