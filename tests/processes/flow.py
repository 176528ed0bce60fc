"""Drive the woonoverlast process as production runs it: the real diagrams and forms, the demo
partners and their role mappings, through the API, with the clock moved by time-machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from api.meetings import plan_meetings
from engine import agenda, catalog, demo, timers
from engine.calendar import AMSTERDAM
from engine.forms import load_forms
from engine.models import Organisation

ROOT = Path(__file__).parents[2]
# A Monday morning; the regular meeting is on Tuesdays at 14:00 (the default schedule).
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Woonoverlast:
    client: FlaskClient
    app: Flask
    clock: Any
    tokens: dict[str, str] = field(default_factory=dict)

    # -- who ------------------------------------------------------------------------------------
    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = self.client.post("/api/v1/auth/tokens",
                                        json={"username": username, "password": demo.DEMO_PASSWORD})
            assert response.status_code == 201, response.get_json()
            self.tokens[username] = response.get_json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def organisation_id(self, name: str) -> int:
        return db.session.scalar(select(Organisation.id).where(Organisation.name == name))

    # -- time -----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(AMSTERDAM).date()

    def later(self, **delta: float) -> timers.SweepReport:
        """Move the clock, then do what the sweeper does on its tick: fire timers, plan meetings."""
        self.clock.shift(timedelta(**delta))
        db.session.remove()
        report = timers.sweep(lambda: Session(db.engine))
        plan_meetings(self.app)
        return report

    # -- cases ----------------------------------------------------------------------------------
    def start(self, username: str = "goedewoning", **data: Any) -> int:
        response = self.client.post("/api/v1/cases", headers=self.headers(username),
                                    json={"process": "woonoverlast", "data": data})
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    def case(self, case_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/cases/{case_id}", headers=self.headers("coordinator"))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def open_titles(self, case_id: int) -> list[str]:
        return sorted(i["title"] for i in self.case(case_id)["open_work_items"])

    def items(self, username: str, case_id: int, title: str) -> list[dict[str, Any]]:
        inbox = self.client.get("/api/v1/work-items", headers=self.headers(username)).get_json()
        return [i for i in inbox if i["case_id"] == case_id and i["title"] == title]

    def item(self, username: str, case_id: int, title: str) -> dict[str, Any]:
        found = self.items(username, case_id, title)
        assert len(found) == 1, (title, username, self.case(case_id)["open_work_items"])
        return found[0]

    def do(self, username: str, case_id: int, title: str, **data: Any) -> dict[str, Any]:
        """The one open item `title` of the case is in `username`'s inbox; complete it with `data`."""
        item = self.item(username, case_id, title)
        response = self.client.post(f"/api/v1/work-items/{item['id']}/complete", headers=self.headers(username),
                                    json={"data": data})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["case"]["id"] == case_id
        case = self.case(case_id)
        case["history"] = self.history(case_id)
        return case

    def history(self, case_id: int) -> list[dict[str, Any]]:
        """The whole history, page by page (the case detail carries only the newest page)."""
        events: list[dict[str, Any]] = []
        query = "?limit=200"
        while True:
            response = self.client.get(f"/api/v1/cases/{case_id}/history{query}", headers=self.headers("coordinator"))
            assert response.status_code == 200, response.get_json()
            events += response.get_json()
            if "X-Next-Cursor" not in response.headers:
                return events
            query = f"?limit=200&after={response.headers['X-Next-Cursor']}"

    # -- the case meeting -----------------------------------------------------------------------
    def meetings(self) -> list[dict[str, Any]]:
        return self.client.get("/api/v1/meetings", headers=self.headers("coordinator")).get_json()

    def agenda_of(self, meeting_id: int, username: str = "coordinator") -> dict[str, Any]:
        response = self.client.get(f"/api/v1/meetings/{meeting_id}", headers=self.headers(username))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def meeting_of(self, case_id: int) -> dict[str, Any]:
        """The meeting on whose agenda the case waits (not yet discussed)."""
        db.session.expire_all()
        item = agenda.open_item(db.session, case_id)
        assert item is not None and item.meeting_id is not None, f"case {case_id} is on no agenda"
        return self.agenda_of(item.meeting_id)

    def record(self, meeting_id: int, case_id: int, **outcome: Any) -> Any:
        return self.client.post(f"/api/v1/meetings/{meeting_id}/items/{case_id}/outcome",
                                headers=self.headers("coordinator"), json=outcome)

    def attend(self, case_id: int) -> dict[str, Any]:
        """Move the clock to (just after the start of) the meeting the case is on; return its agenda."""
        meeting = self.meeting_of(case_id)
        scheduled = datetime.fromisoformat(meeting["scheduled_at"])
        if scheduled > self.now():
            self.later(seconds=(scheduled - self.now()).total_seconds() + 3600)
        return meeting

    def discuss(self, meeting: dict[str, Any], case_id: int, **outcome: Any) -> dict[str, Any]:
        response = self.record(meeting["id"], case_id, **outcome)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def in_days(self, days: int) -> str:
        return (self.today() + timedelta(days=days)).isoformat()

    # -- whole stages ---------------------------------------------------------------------------
    def report_and_investigate(self, *, kwetsbaar: str = "nee", wijk: str = "Meerzicht") -> int:
        case_id = self.start(titel="Overlast Dorpsstraat 12")
        self.do("goedewoning", case_id, "Melding registreren", adres="Dorpsstraat 12", wijk=wijk,
                soort_overlast="stank_vervuiling", omschrijving="Stank in het trappenhuis, vervuilde woning.",
                eerste_melding_op=self.today().isoformat(), aantal_meldingen=3, kwetsbaar=kwetsbaar,
                signalen="Verward gedrag" if kwetsbaar == "ja" else None)
        self.do("goedewoning", case_id, "Overlast onderzoeken", bevindingen="Huurder niet bereikt, stank bevestigd.",
                contact_huurder="nee", ernst="ernstig")
        return case_id

    def warn_without_effect(self, case_id: int) -> None:
        self.do("goedewoning", case_id, "Waarschuwingsbrief versturen",
                brief_verzonden_op=self.today().isoformat(), afspraken="Woning binnen 14 dagen schoon.")
        assert self.later(days=15).fired == 1
        self.do("goedewoning", case_id, "Monitoring beoordelen", overlast_gestopt="nee",
                toelichting="Geen verbetering.")

    def refer(self, case_id: int) -> None:
        self.do("goedewoning", case_id, "Aanmelden bij de gemeente", wat_geprobeerd="Brief en huisbezoek.",
                vraag="Wie kan contact leggen met de huurder?", toestemming_huurder="niet_gevraagd")
        self.do("politie", case_id, "Politie-informatie aanleveren", bekend_bij_politie="ja", aantal_incidenten=2)
        self.do("coordinator", case_id, "Aanmelding toetsen", ontvankelijk="ja")


@contextmanager
def woonoverlast(app: Flask, client: FlaskClient) -> Iterator[Woonoverlast]:
    """Demo partners, the real processes deployed, meetings planned; the clock frozen at T0."""
    # Tokens outlive the months these scenarios travel through.
    app.config["TOKEN_LIFETIME_HOURS"] = 24 * 365 * 5
    with time_machine.travel(T0, tick=False) as clock:
        demo.seed_demo(db.session)
        catalog.deploy_directory(db.session, ROOT / "processes", forms=load_forms(ROOT / "forms"))
        db.session.commit()
        plan_meetings(app)
        yield Woonoverlast(client, app, clock)
