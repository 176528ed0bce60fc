"""A seeded, simulated year of woonoverlast cases, driven through the HTTP API with a moving clock
and the real sweeper. The simulation keeps its own ground truth (stage periods, errors, what it
expects to be escalated) and compares the product against it; see `run` and `Summary`."""

from __future__ import annotations

import random
import re
from calendar import monthrange
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from api.extensions import db
from api.sweeper import sweep_once
from engine.calendar import AMSTERDAM
from tests.processes.flow import Woonoverlast

DAY = timedelta(days=1)
# The sweep runs at 09:00, partners work from 09:30. Never at the same instant: SpiffWorkflow fires
# a timer only once its due moment has strictly passed, while the sweep claims timers due at or
# before now, so on a frozen clock a timer due exactly at the sweep would be claimed over and
# over (in production the clock moves on between the two, so this cannot happen there).
WORK = timedelta(minutes=30)
# The process's stall period (ProcessVersion.stall_after_days, default 30 days).
STALL_DAYS = 30
# The simulated world is looked at on Tuesdays (the meeting's day) and Fridays: the sweeper runs
# and the partners work then (a sweeper every 10 seconds over a whole year would only add time).
# So the product may see a stall up to 4 days late; beyond that a stalled case without an open
# escalation is silent.
TICK_DAYS = (2, 5)
TICK_SLACK = timedelta(days=4)
# The coordinator skips a case now and then (a full agenda), so the "not discussed" rules get used.
SKIP_AT_MEETING = 0.07

# The demo partners: organisation -> (caseworker login, organisation kind).
PARTNERS = {
    "Gemeente Zoetermeer": ("gemeente", "gemeente"),
    "De Goede Woning": ("goedewoning", "corporatie"),
    "Vidomes": ("vidomes", "corporatie"),
    "Politie Zoetermeer": ("politie", "politie"),
    "GGD Haaglanden": ("ggd", "ggd"),
    "GGZ Delfland": ("ggz", "ggz"),
    "Participe Zorg en Welzijn": ("zorg", "zorg"),
}
KINDS = ("gemeente", "corporatie", "politie", "ggd", "ggz", "zorg")
COORDINATOR_ORGANISATION = "Gemeente Zoetermeer"
MELDERS = ("goedewoning", "vidomes")
MELDER_ORGANISATION = {"goedewoning": "De Goede Woning", "vidomes": "Vidomes"}
NEIGHBOURHOODS = ("Stadshart", "Dorp", "Palenstein", "Meerzicht", "Buytenwegh", "Seghwaert", "Oosterheem")
NUISANCES = ("geluid", "stank_vervuiling", "agressie", "burenruzie", "drugs")

# How each scenario ends: (meeting decisions in order, closing result). Every end of the path:
# the own warning works, meeting + regie, repeated evaluations, a kept or broken last-chance
# contract, court (dissolved or refused), and the tenant moving out.
SCENARIOS = ("eigen_waarschuwing", "regie", "regie_herhaald", "laatstekanscontract", "contract_geschonden",
             "rechter", "rechter_afgewezen", "verhuisd")

# Timers that move a case on within its stage: the warning's monitoring period, and the four
# weeks a referral may wait for the meeting (named after the event-based gateway that waits).
QUIET_TIMERS = ("14 dagen gemonitord", "Binnen 4 weken besproken?", "4 weken niet besproken")

# Stage names as the diagrams give them (camunda:properties `stage`, and the agenda's own).
INTAKE, ONDERZOEK, WAARSCHUWING = "intake", "onderzoek", "eigen waarschuwing"
AANMELDING, TOETS, CASUSOVERLEG, REGIE = "aanmelding", "toets", "casusoverleg", "regie en interventie"
EVALUATIE, CONTRACT, RECHTER, AFSLUITEN = "evaluatie", "laatstekanscontract", "rechter", "afsluiten"


# -- the plan: what the simulation decides for a case when it starts ------------------------------

@dataclass
class Decision:
    kind: str  # regie | laatstekanscontract | rechter | afsluiten
    regisseur: str | None = None  # organisation name (regie: a new casusregisseur)
    actions: list[str] = field(default_factory=list)  # organisation names
    evaluation_days: int = 28
    looptijd: str = "P6M"
    breach_after_days: int | None = None  # contract: the corporation records a breach after this
    uitspraak: str = "ontbonden"


@dataclass
class Plan:
    scenario: str
    melder: str  # login of the reporting corporation
    kwetsbaar: bool
    warning_works: bool
    toets_rejections: int
    decisions: list[Decision]
    resultaat: str
    profiles: dict[str, str]  # organisation -> on_time | late | silent


@dataclass
class Period:
    stage: str
    entered_at: datetime
    left_at: datetime | None = None


@dataclass
class ItemPlan:
    """One open work item as the simulation saw it, and when its organisation will answer."""

    id: int
    title: str
    organisation: str
    role: str | None
    due_at: datetime | None
    act_at: datetime | None
    silent: bool = False
    follow_up_at: datetime | None = None
    blocked: bool = False


@dataclass
class SimCase:
    number: int
    plan: Plan
    start_at: datetime
    id: int = 0
    reference: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    periods: list[Period] = field(default_factory=list)
    decision_index: int = 0
    current: Decision | None = None
    toets_accepted: bool = False
    police_done: bool = False
    rejections_left: int = 0
    round_open: int = 0
    evaluation_at: datetime | None = None  # the agreed evaluation date, while a regie round runs
    agenda_not_before: datetime | None = None  # the agenda waits for the agreed evaluation date
    waits_for_meeting_since: datetime | None = None
    timers: list[tuple[str, datetime]] = field(default_factory=list)
    items: dict[int, ItemPlan] = field(default_factory=dict)
    last_activity: datetime | None = None
    errored_at: datetime | None = None
    error: str | None = None
    stalled: bool = False
    api_status: str = "active"

    @property
    def stage(self) -> str | None:
        return self.periods[-1].stage if self.periods and self.periods[-1].left_at is None else None

    def enter(self, stage: str, at: datetime) -> None:
        if self.periods and self.periods[-1].left_at is None:
            if self.periods[-1].stage == stage:
                return
            self.periods[-1].left_at = at
        self.periods.append(Period(stage, at))

    def close(self, at: datetime) -> None:
        if self.periods and self.periods[-1].left_at is None:
            self.periods[-1].left_at = at
        self.closed_at = at


@dataclass
class Summary:
    seed: int
    cases: int
    days: int
    completed: int = 0
    open: int = 0
    errored: int = 0
    ends: Counter[str] = field(default_factory=Counter)
    stall_escalations: int = 0  # escalations of cases that really had nothing scheduled
    noise_escalations: int = 0  # escalations of cases waiting on a timer, an evaluation date or a meeting
    error_escalations: int = 0
    repeated_regie_with_actions: int = 0  # regie rounds with actions after an earlier regie round
    referral_watch_tasks: int = 0  # "Niet-besproken aanmelding oppakken" (the diagram's 4-week rule)
    cases_stalled: int = 0
    regisseur_kinds: set[str] = field(default_factory=set)  # kinds the meeting chose as casusregisseur
    action_kinds: set[str] = field(default_factory=set)  # kinds the meeting gave an action
    errors_not_escalated: list[str] = field(default_factory=list)
    silent_stalls: list[str] = field(default_factory=list)
    blocked_appointments: list[str] = field(default_factory=list)
    refused_appointments: list[str] = field(default_factory=list)
    lead_time_mismatches: list[str] = field(default_factory=list)
    model_mismatches: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    unfinished: Counter[str] = field(default_factory=Counter)  # open at the end: scenario and why
    lead_times: dict[str, tuple[int, float | None, float | None, int]] = field(default_factory=dict)
    open_older_than_6_months: int = 0
    open_older_than_9_months: int = 0

    def format(self) -> str:
        lines = [
            f"year simulation: seed {self.seed}, {self.cases} cases over {self.days} days",
            f"  completed {self.completed}, open {self.open} (of which in error {self.errored}); "
            f"open > 6 months {self.open_older_than_6_months}, > 9 months {self.open_older_than_9_months}",
            "  ends: " + ", ".join(f"{k} {v}" for k, v in sorted(self.ends.items())),
            "  open at the end: " + ", ".join(f"{k} {v}" for k, v in sorted(self.unfinished.items())),
            f"  stalls escalated {self.stall_escalations} ({self.cases_stalled} cases), "
            f"escalations while waiting on a schedule (noise) {self.noise_escalations}, "
            f"errors escalated {self.error_escalations}, referrals watched after 4 weeks {self.referral_watch_tasks}",
            f"  casusregisseur kinds {sorted(self.regisseur_kinds)}; action kinds {sorted(self.action_kinds)}; "
            f"repeated regie rounds with actions {self.repeated_regie_with_actions}",
            "  lead time per stage (finished periods, median days, 80th percentile days, open now):",
        ]
        lines += [f"    {stage:<22} {n:>5} {_days(m):>8} {_days(p):>8} {o:>5}"
                  for stage, (n, m, p, o) in self.lead_times.items()]
        for title, found in (("errors not escalated", self.errors_not_escalated),
                             ("silent stalls", self.silent_stalls),
                             ("partners appointed who cannot complete", self.blocked_appointments),
                             ("appointments refused by the product", self.refused_appointments),
                             ("lead-time report differs from the ground truth", self.lead_time_mismatches),
                             ("product state differs from the simulation's model", self.model_mismatches),
                             ("unexpected answers", self.unexpected)):
            lines.append(f"  {title}: {len(found)}")
            lines += [f"    - {line}" for line in found[:8]]
            if len(found) > 8:
                lines.append(f"    … and {len(found) - 8} more")
        return "\n".join(lines)

    @property
    def failures(self) -> dict[str, list[str]]:
        """The simulation's assertions, by name: each list must be empty."""
        return {
            "errors_not_escalated": self.errors_not_escalated,
            "silent_stalls": self.silent_stalls,
            "blocked_appointments": self.blocked_appointments,
            "lead_time_mismatches": self.lead_time_mismatches,
            "model_mismatches": self.model_mismatches,
            "unexpected": self.unexpected,
        }


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# -- ground-truth arithmetic, written down here independently of the product ----------------------

def percentile(values: list[float], percent: float) -> float | None:
    """Linear interpolation between the closest ranks (as percentile_cont)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * percent / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def calendar_months_before(moment: datetime, months: int) -> datetime:
    year, month = moment.year, moment.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


# -- the simulation ----------------------------------------------------------------------------

class Year:
    def __init__(self, world: Woonoverlast, *, n_cases: int, seed: int, days: int) -> None:
        self.world, self.seed, self.days = world, seed, days
        self.rng = random.Random(seed)
        self.start = world.now()
        self.summary = Summary(seed=seed, cases=n_cases, days=days)
        # Appointments cycle through every partner kind, so a small run covers each of them.
        self.regisseur_cycle, self.helper_cycle = list(KINDS), list(KINDS[3:] + KINDS[:3])
        self.organisation_ids = {name: world.organisation_id(name) for name in PARTNERS}
        self.organisation_names = {v: k for k, v in self.organisation_ids.items()}
        self.pending = sorted((self._plan(i, n_cases) for i in range(n_cases)), key=lambda c: c.start_at)
        self.cases: dict[int, SimCase] = {}
        self.escalations: dict[int, dict[str, Any]] = {}  # every escalation item seen, by id
        self.escalation_case: dict[int, int] = {}
        self.open_escalations: dict[int, list[int]] = defaultdict(list)  # case -> open escalation ids
        self.handle_at: dict[int, datetime | None] = {}
        self.silent_seen: set[tuple[int, datetime]] = set()
        self.attended: set[int] = set()
        self.meeting_times: list[datetime] = []

    # -- plans --------------------------------------------------------------------------------
    def _plan(self, number: int, n_cases: int) -> SimCase:
        rng = self.rng
        scenario = SCENARIOS[number % len(SCENARIOS)]
        able = KINDS  # every partner kind can be casusregisseur or hold an action, in every round

        def next_of(cycle: list[str]) -> str:
            kind = next(k for k in cycle if k in able)
            cycle.remove(kind)
            cycle.append(kind)
            return self._of_kind(kind)

        with_regie = scenario in ("regie", "regie_herhaald", "laatstekanscontract", "rechter_afgewezen", "verhuisd")
        regisseurs = [next_of(self.regisseur_cycle)] if with_regie else []

        def regie(first: bool, actions: int) -> Decision:
            return Decision("regie", regisseur=regisseurs[0] if first else None,
                            actions=[next_of(self.helper_cycle) for _ in range(actions)],
                            evaluation_days=rng.randint(14, 42))

        contract = Decision("laatstekanscontract", looptijd=rng.choice(("P6M", "P6M", "P12M")))
        # Built lazily: only the chosen scenario takes appointments from the cycles.
        decisions: dict[str, Any] = {
            "eigen_waarschuwing": lambda: ([], "overlast_beeindigd"),
            "regie": lambda: ([regie(True, rng.randint(1, 2)), Decision("afsluiten")], "overlast_beeindigd"),
            "regie_herhaald": lambda: ([regie(True, rng.randint(1, 2)), regie(False, rng.randint(1, 2)),
                                        regie(False, rng.randint(0, 1)), Decision("afsluiten")],
                                       "overlast_beeindigd"),
            "laatstekanscontract": lambda: (([regie(True, 1)] if rng.random() < 0.5 else []) + [contract],
                                            "laatstekanscontract_nageleefd"),
            "contract_geschonden": lambda: ([Decision("laatstekanscontract", looptijd="P12M",
                                                      breach_after_days=rng.randint(30, 120))],
                                            "ontbinding_huurovereenkomst"),
            "rechter": lambda: ([Decision("rechter")], "ontbinding_huurovereenkomst"),
            "rechter_afgewezen": lambda: ([Decision("rechter", uitspraak="afgewezen"), regie(True, 1),
                                           Decision("afsluiten")], "overlast_beeindigd"),
            "verhuisd": lambda: ([regie(True, rng.randint(0, 1)), Decision("afsluiten")], "verhuisd"),
        }
        chosen, resultaat = decisions[scenario]()
        profiles = {}
        for name in PARTNERS:
            draw = rng.random()
            if name == COORDINATOR_ORGANISATION:
                profiles[name] = "on_time" if draw < 0.85 else "late"
            else:
                profiles[name] = "on_time" if draw < 0.7 else "late" if draw < 0.9 else "silent"
        plan = Plan(
            scenario=scenario, melder=rng.choice(MELDERS),
            kwetsbaar=scenario != "eigen_waarschuwing" and rng.random() < 0.4,
            warning_works=scenario == "eigen_waarschuwing", toets_rejections=int(rng.random() < 0.15),
            decisions=chosen, resultaat=resultaat, profiles=profiles,
        )
        # Cases start over the first two thirds of the year, so most can reach an end within it; the
        # first case of each scenario in its first third, so even a small year reaches every end.
        span = self.days // 3 if number < len(SCENARIOS) else self.days * 2 // 3
        start_day = rng.randrange(max(1, span))
        return SimCase(number, plan, self.start + start_day * DAY, rejections_left=plan.toets_rejections)

    def _of_kind(self, kind: str) -> str:
        names = [name for name, (_, k) in PARTNERS.items() if k == kind]
        return self.rng.choice(names)

    # -- the API -------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.world.now()

    def call(self, method: str, path: str, user: str = "coordinator", body: Any = None) -> Any:
        response = self.world.client.open(path, method=method, headers=self.world.headers(user), json=body)
        return response

    def get(self, path: str, user: str = "coordinator") -> Any:
        response = self.call("GET", path, user)
        assert response.status_code == 200, (path, response.status_code, response.get_json())
        return response.get_json()

    def paged(self, path: str, user: str = "coordinator") -> list[dict[str, Any]]:
        """Every row of a list, page by page along the X-Next-Cursor header (keyset pagination)."""
        rows: list[dict[str, Any]] = []
        joiner = "&" if "?" in path else "?"
        cursor = ""
        while True:
            after = f"&after={quote(cursor)}" if cursor else ""
            response = self.call("GET", f"{path}{joiner}limit=200{after}", user)
            assert response.status_code == 200, (path, response.status_code, response.get_json())
            rows += response.get_json()
            cursor = response.headers.get("X-Next-Cursor", "")
            if not cursor:
                return rows

    # -- the year ------------------------------------------------------------------------------
    def run(self) -> Summary:
        """Tick at 09:00 on every day something can happen (and at least weekly): sweep, look at the
        coordinator's inbox, start cases, let partners act, hold the day's meeting."""
        end = self.start + self.days * DAY
        tick = self.start
        while True:
            self.world.clock.move_to(tick)
            if tick > self.start:
                self.sweep()
            self.read_escalations()
            self.check_silent_stalls()
            self.world.clock.move_to(tick + WORK)
            self.start_cases()
            self.act()
            self.handle_escalations()
            self.attend_meetings(until=tick + DAY)
            if tick >= end:
                break
            tick = min(self.next_tick(tick), end)
        self.world.clock.move_to(end + timedelta(hours=1))
        self.read_escalations()
        self.finish()
        return self.summary

    def next_tick(self, tick: datetime) -> datetime:
        """The next day on which anything is due: a start, an answer, a timer, a meeting, a stall period ending."""
        moments = [tick + 7 * DAY] + [c.start_at for c in self.pending[:1]] + self.meeting_times
        moments += [at for at in self.handle_at.values() if at is not None]
        for case in self.open_cases():
            moments += [p.act_at for p in case.items.values() if p.act_at is not None]
            moments += [due for _, due in case.timers]
            if case.last_activity is not None:
                moments.append(case.last_activity + (STALL_DAYS + 1) * DAY)
            if case.evaluation_at is not None:
                moments.append(case.evaluation_at)
        later = [m for m in moments if m > tick + WORK]
        days = max(1, min(-((tick + WORK - m) // DAY) for m in later))  # whole days, rounded up
        following = tick + days * DAY
        while following.astimezone(AMSTERDAM).isoweekday() not in TICK_DAYS:
            following += DAY
        return following

    def sweep(self) -> None:
        """What the timer process does on a tick (api.sweeper.sweep_once), then read what it fired."""
        now = self.now()
        due = [c for c in self.open_cases() if any(at <= now for _, at in c.timers)]
        expected = sum(1 for c in due for _, at in c.timers if at <= now)
        db.session.remove()
        report = sweep_once(self.world.app)
        db.session.remove()
        if report.timers.fired != expected or report.timers.failed:
            self.summary.model_mismatches.append(
                f"{now:%Y-%m-%d}: the sweep fired {report.timers.fired} timers ({report.timers.failed} failed), "
                f"the simulation expected {expected}")
        for case in due:
            for title, at in case.timers:
                if at > now:
                    continue
                case.last_activity = now
                if title == "Monitoringsperiode voorbij":  # the contract was kept for its whole period
                    case.enter(AFSLUITEN, now)
                elif title not in QUIET_TIMERS:
                    self.summary.model_mismatches.append(f"{case.reference}: unknown timer {title!r} fired")
            self.refresh(case)

    def open_cases(self) -> list[SimCase]:
        return [c for c in self.cases.values() if c.closed_at is None]

    # -- cases ---------------------------------------------------------------------------------
    def start_cases(self) -> None:
        now = self.now()
        while self.pending and self.pending[0].start_at <= now:
            case = self.pending.pop(0)
            response = self.call("POST", "/api/v1/cases", case.plan.melder,
                                 {"process": "woonoverlast", "data": {"titel": f"Overlast simulatie {case.number}"}})
            if response.status_code != 201:
                self.summary.unexpected.append(f"start case {case.number}: {response.status_code} "
                                               f"{response.get_json()}")
                continue
            body = response.get_json()
            case.id, case.reference, case.opened_at = body["id"], body["reference"], now
            case.last_activity = now
            case.enter(INTAKE, now)
            self.cases[case.id] = case
            self.read(case, body)

    def refresh(self, case: SimCase) -> None:
        self.read(case, self.get(f"/api/v1/cases/{case.id}"))

    def read(self, case: SimCase, body: dict[str, Any]) -> None:
        """Take the case's open work and timers from the API; check its stage and status against the model."""
        now = self.now()
        case.api_status = body["status"]
        case.timers = [(t["title"], datetime.fromisoformat(t["due_at"])) for t in body["pending_timers"]]
        expected_status = "completed" if case.closed_at else "error" if case.errored_at else "active"
        if body["status"] != expected_status:
            self.summary.model_mismatches.append(
                f"{case.reference} {now:%Y-%m-%d}: status {body['status']}, the simulation expected {expected_status}")
        if case.closed_at is None and body["stage"] != case.stage:
            self.summary.model_mismatches.append(
                f"{case.reference} {now:%Y-%m-%d}: stage {body['stage']!r}, the simulation expected {case.stage!r}")
        open_ids = set()
        for item in body["open_work_items"]:
            if str(item["element_id"]).startswith("escalation:") or item.get("kind") == "escalation":
                continue
            open_ids.add(item["id"])
            if item["id"] not in case.items:
                case.items[item["id"]] = self.plan_item(case, item)
        for gone in set(case.items) - open_ids:
            del case.items[gone]

    def plan_item(self, case: SimCase, item: dict[str, Any]) -> ItemPlan:
        """When the item's organisation will answer: on time, late, or not until it is chased."""
        rng, now = self.rng, self.now()
        organisation, title = item["organisation"]["name"], item["title"]
        due = datetime.fromisoformat(item["due_at"]) if item["due_at"] else None
        plan = ItemPlan(item["id"], title, organisation, item["role"], due, None,
                        follow_up_at=datetime.fromisoformat(item["follow_up_at"]) if item["follow_up_at"] else None)
        if title == "Naleving bewaken":  # the corporation only acts on a breach
            breach = case.current.breach_after_days if case.current else None
            plan.act_at = now + breach * DAY if breach else None
            return plan
        if title == "Uitspraak kantonrechter vastleggen":  # the court's own pace
            plan.act_at = now + rng.randint(30, 90) * DAY
            return plan
        if title == "Niet-besproken aanmelding oppakken":
            plan.act_at = now + rng.randint(0, 2) * DAY
            return plan
        profile = case.plan.profiles[organisation]
        if item["role"] == "Coordinator" and profile == "silent":
            profile = "late"
        if profile == "silent":
            plan.silent = True
            return plan
        until_due = max(0, int((due - now) / DAY)) if due else 10
        days = rng.randint(0, until_due) if profile == "on_time" else until_due + rng.randint(2, 20)
        plan.act_at = now + days * DAY
        return plan

    # -- partners doing their work -------------------------------------------------------------
    def act(self) -> None:
        now = self.now()
        for case in list(self.cases.values()):
            for plan in sorted(case.items.values(), key=lambda p: (p.act_at or now, p.id)):
                if case.closed_at or case.errored_at:
                    break
                if plan.act_at is None or plan.act_at > now or plan.id not in case.items:
                    continue
                self.complete(case, plan)

    def complete(self, case: SimCase, plan: ItemPlan) -> None:
        now = self.now()
        user = "coordinator" if plan.role == "Coordinator" else PARTNERS[plan.organisation][0]
        data = self.form_data(case, plan.title)
        response = self.call("POST", f"/api/v1/work-items/{plan.id}/complete", user, {"data": data})
        body = response.get_json()
        if response.status_code == 200:
            case.last_activity = now
            self.transition(case, plan.title, data)
            # The /complete answer is slim (status, stage, next items): read the rest from the case,
            # as the coordinator (open work and timers of a case are the same for every reader).
            self.refresh(case)
        elif response.status_code == 403:
            plan.blocked, plan.act_at = True, None
            self.summary.blocked_appointments.append(
                f"{case.reference}: {plan.organisation} ({PARTNERS[plan.organisation][1]}) cannot complete "
                f"'{plan.title}': {body.get('detail')}")
        elif response.status_code == 422 and "script-error" in body.get("type", ""):
            self.fail(case, body)
        elif response.status_code == 409:
            self.refresh(case)
        else:
            plan.act_at = None
            self.summary.unexpected.append(f"{case.reference}: completing '{plan.title}' as {user}: "
                                           f"{response.status_code} {body}")

    def form_data(self, case: SimCase, title: str) -> dict[str, Any]:
        today, rng, plan = self.world.today().isoformat(), self.rng, case.plan
        decision = case.current or Decision("afsluiten")
        if title == "Melding registreren":
            return {"adres": f"Simulatiestraat {case.number}", "wijk": rng.choice(NEIGHBOURHOODS),
                    "soort_overlast": rng.choice(NUISANCES), "omschrijving": "Buren klagen over de woning.",
                    "eerste_melding_op": today, "aantal_meldingen": rng.randint(1, 9),
                    "kwetsbaar": "ja" if plan.kwetsbaar else "nee"}
        if title == "Overlast onderzoeken":
            return {"bevindingen": "Overlast bevestigd.", "contact_huurder": rng.choice(("ja", "nee", "geweigerd")),
                    "ernst": rng.choice(("licht", "ernstig", "zeer_ernstig"))}
        if title == "Waarschuwingsbrief versturen":
            return {"brief_verzonden_op": today, "afspraken": "Binnen 14 dagen geen overlast meer."}
        if title == "Monitoring beoordelen":
            return {"overlast_gestopt": "ja" if plan.warning_works else "nee"}
        if title in ("Melding afsluiten", "Casus afsluiten"):
            return {"resultaat": plan.resultaat}
        if title in ("Aanmelden bij de gemeente", "Aanmelding aanvullen"):
            return {"wat_geprobeerd": "Brief en huisbezoek.", "vraag": "Wie pakt de regie?",
                    "toestemming_huurder": rng.choice(("ja", "nee", "niet_gevraagd"))}
        if title == "Politie-informatie aanleveren":
            return {"bekend_bij_politie": rng.choice(("ja", "nee"))}
        if title == "Aanmelding toetsen":
            if case.rejections_left:
                return {"ontvankelijk": "nee", "toelichting": "Wat is er al geprobeerd?"}
            return {"ontvankelijk": "ja"}
        if title == "Niet-besproken aanmelding oppakken":
            return {"maatregel": "agenderen"}
        if title == "Regie voeren en evaluatie voorbereiden":
            return {"voortgang": "Plan loopt.", "overlast_aanhoudend": rng.choice(("ja", "nee")),
                    "vraag": "Hoe verder?"}
        if title == "Afgesproken actie uitvoeren":
            return {"uitgevoerd_op": today, "actie_resultaat": "Gedaan."}
        if title == "Laatstekanscontract afsluiten":
            return {"getekend_op": today, "voorwaarden": "Geen overlast.", "looptijd": decision.looptijd}
        if title == "Naleving bewaken":
            return {"geconstateerd_op": today, "schending": "Opnieuw overlast."}
        if title == "Dagvaarding uitbrengen":
            return {"ingediend_op": today, "rechtbank": "Rechtbank Den Haag, kanton"}
        if title == "Uitspraak kantonrechter vastleggen":
            return {"uitspraak": decision.uitspraak, "uitspraak_op": today}
        raise AssertionError(f"the simulation has no answer for task {title!r}")

    def transition(self, case: SimCase, title: str, data: dict[str, Any]) -> None:
        """The ground truth: the stage a completed task leads to, as the diagrams say."""
        now, plan = self.now(), case.plan
        if title == "Melding registreren":
            case.enter(ONDERZOEK, now)
        elif title == "Overlast onderzoeken":
            case.enter(AANMELDING if plan.kwetsbaar else WAARSCHUWING, now)
        elif title == "Monitoring beoordelen":
            case.enter(AFSLUITEN if plan.warning_works else AANMELDING, now)
        elif title in ("Melding afsluiten", "Casus afsluiten"):
            case.close(now)
            self.summary.ends[f"{plan.scenario}: {plan.resultaat}"] += 1
        elif title == "Aanmelden bij de gemeente":
            case.toets_accepted = case.police_done = False
            case.enter(TOETS, now)
        elif title == "Aanmelding aanvullen":
            case.enter(TOETS, now)
        elif title == "Aanmelding toetsen":
            if data["ontvankelijk"] == "nee":
                case.rejections_left -= 1
                case.enter(AANMELDING, now)
            else:
                case.toets_accepted = True
                if case.police_done:
                    self.to_meeting(case)
        elif title == "Politie-informatie aanleveren":
            case.police_done = True
            if case.toets_accepted:
                self.to_meeting(case)
        elif title in ("Regie voeren en evaluatie voorbereiden", "Afgesproken actie uitvoeren"):
            case.round_open -= 1
            if case.round_open == 0:
                case.agenda_not_before, case.evaluation_at = case.evaluation_at, None
                self.to_meeting(case)
        elif title == "Naleving bewaken":
            case.enter(RECHTER, now)
        elif title == "Uitspraak kantonrechter vastleggen":
            if data["uitspraak"] == "ontbonden":
                case.enter(AFSLUITEN, now)
            else:
                self.to_meeting(case)

    def to_meeting(self, case: SimCase) -> None:
        # A case the meeting decided on before comes back as an evaluation.
        case.enter(EVALUATIE if case.decision_index else CASUSOVERLEG, self.now())
        case.waits_for_meeting_since = self.now()

    def fail(self, case: SimCase, body: dict[str, Any]) -> None:
        case.errored_at, case.error = self.now(), str(body.get("detail"))[:200]

    # -- the case meeting ----------------------------------------------------------------------
    def attend_meetings(self, *, until: datetime) -> None:
        now = self.now()
        meetings = self.paged("/api/v1/meetings?status=planned")
        self.meeting_times = [datetime.fromisoformat(m["scheduled_at"]) for m in meetings]
        planned = [m for m in meetings
                   if now <= datetime.fromisoformat(m["scheduled_at"]) < until and m["id"] not in self.attended]
        for meeting in sorted(planned, key=lambda m: m["scheduled_at"]):
            self.attended.add(meeting["id"])
            scheduled = datetime.fromisoformat(meeting["scheduled_at"])
            self.world.clock.move_to(scheduled + timedelta(hours=1))
            agenda = self.get(f"/api/v1/meetings/{meeting['id']}")
            listed = {item["case_id"] for item in agenda["items"]}
            self.check_agenda(scheduled, listed)
            for item in agenda["items"]:
                case = self.cases.get(item["case_id"])
                if case is None or item["discussed_at"] or case.errored_at or case.closed_at:
                    continue
                if self.rng.random() < SKIP_AT_MEETING:
                    continue
                self.discuss(meeting["id"], case)

    def check_agenda(self, scheduled: datetime, listed: set[int]) -> None:
        """A case that waits for the meeting belongs on its agenda (else it waits silently)."""
        for case in self.open_cases():
            since = case.waits_for_meeting_since
            if case.errored_at or since is None or since > scheduled - timedelta(days=2) or case.id in listed:
                continue
            if case.agenda_not_before is not None and case.agenda_not_before > scheduled:
                continue
            self.summary.silent_stalls.append(
                f"{case.reference}: waits for the meeting since {since:%Y-%m-%d} but is not on the agenda of "
                f"{scheduled:%Y-%m-%d}")

    def discuss(self, meeting_id: int, case: SimCase) -> None:
        now = self.now()
        today = self.world.today()
        decision = case.plan.decisions[case.decision_index] if case.decision_index < len(case.plan.decisions) \
            else Decision("afsluiten")
        regisseur, actions = decision.regisseur, list(decision.actions)
        if decision.kind == "regie" and regisseur is None and not self.has_regisseur(case):
            regisseur = COORDINATOR_ORGANISATION
        for _attempt in range(3):
            outcome: dict[str, Any] = {"decision": decision.kind, "notes": "Besproken (simulatie)."}
            if decision.kind == "regie":
                outcome["next_evaluation"] = (today + timedelta(days=decision.evaluation_days)).isoformat()
                if regisseur:
                    outcome["casusregisseur_organisation_id"] = self.organisation_ids[regisseur]
                outcome["actions"] = [
                    {"organisation_id": self.organisation_ids[name], "description": f"Actie {k + 1}",
                     "due_date": (today + self.rng.randint(3, decision.evaluation_days - 1) * DAY).isoformat()}
                    for k, name in enumerate(actions)]
            if regisseur:
                self.summary.regisseur_kinds.add(PARTNERS[regisseur][1])
            self.summary.action_kinds |= {PARTNERS[name][1] for name in actions}
            if decision.kind == "regie" and actions and self.has_regisseur(case):
                self.summary.repeated_regie_with_actions += 1
            response = self.call("POST", f"/api/v1/meetings/{meeting_id}/items/{case.id}/outcome", body=outcome)
            body = response.get_json()
            if response.status_code == 200:
                break
            if response.status_code == 422 and "script-error" in body.get("type", ""):
                self.fail(case, body)
                return
            refused = [str(e.get("field")) for e in body.get("errors") or [] if response.status_code == 422
                       and "organisation" in str(e.get("field"))]
            if not refused:
                self.summary.unexpected.append(f"{case.reference}: outcome {outcome}: {response.status_code} {body}")
                return
            # The product refused a partner that could not do the work: the meeting chooses again.
            self.summary.refused_appointments.append(f"{case.reference}: {refused}: {body.get('detail')}")
            if any(f.startswith("casusregisseur") for f in refused):
                regisseur = COORDINATOR_ORGANISATION
            drop = {int(m.group(1)) for f in refused if (m := re.match(r"actions\D*(\d+)", f))}
            actions = [name for k, name in enumerate(actions) if k not in drop]
        else:
            self.summary.unexpected.append(f"{case.reference}: the meeting could not record an outcome")
            return
        case.decision_index += 1
        case.current = decision
        case.waits_for_meeting_since = case.agenda_not_before = None
        case.last_activity = now
        if decision.kind == "regie":
            case.round_open = 1 + len(actions)
            case.evaluation_at = datetime.combine(today + timedelta(days=decision.evaluation_days), time(),
                                                  AMSTERDAM).astimezone(UTC)
            case.enter(REGIE, now)
            self.refresh(case)
            titles = Counter(p.title for p in case.items.values())
            wanted = Counter({"Regie voeren en evaluatie voorbereiden": 1, "Afgesproken actie uitvoeren": len(actions)})
            if titles != wanted:
                self.summary.model_mismatches.append(
                    f"{case.reference} {now:%Y-%m-%d}: regie round {case.decision_index} with {len(actions)} "
                    f"actions opened {dict(titles)}")
            return
        else:
            case.enter({"laatstekanscontract": CONTRACT, "rechter": RECHTER, "afsluiten": AFSLUITEN}[decision.kind],
                       now)
        self.refresh(case)

    def has_regisseur(self, case: SimCase) -> bool:
        return any(d.kind == "regie" for d in case.plan.decisions[:case.decision_index])

    # -- escalation --------------------------------------------------------------------------
    def read_escalations(self) -> None:
        """The coordinator's inbox: work items of kind escalation (element `escalation:*`)."""
        now = self.now()
        self.open_escalations.clear()
        for item in self.paged("/api/v1/work-items"):
            if item["title"] == "Niet-besproken aanmelding oppakken" and item["id"] not in self.escalations:
                self.escalations[item["id"]] = item
                self.summary.referral_watch_tasks += 1
            if not (item.get("kind") == "escalation" or str(item["element_id"]).startswith("escalation:")):
                continue
            case = self.cases.get(item["case_id"])
            if case is None:
                continue
            self.open_escalations[case.id].append(item["id"])
            if item["id"] in self.escalations:
                continue
            self.escalations[item["id"]] = item
            self.escalation_case[item["id"]] = case.id
            created = datetime.fromisoformat(item["created_at"])
            if case.errored_at is not None and created >= case.errored_at:
                self.summary.error_escalations += 1
                continue
            if self.scheduled(case, created):
                self.summary.noise_escalations += 1
            else:
                self.summary.stall_escalations += 1
                case.stalled = True
            self.handle_at[item["id"]] = now + self.rng.randint(0, 3) * DAY

    def handle_escalations(self) -> None:
        """The coordinator takes up an escalation: records it, and chases the partners who kept silent."""
        now = self.now()
        for case_id, item_ids in list(self.open_escalations.items()):
            case = self.cases[case_id]
            if case.errored_at is not None:
                continue  # the coordinator cannot repair an engine error; the escalation stays open
            for item_id in item_ids:
                at = self.handle_at.get(item_id, now)
                if at is None or at > now:
                    continue
                response = self.call("POST", f"/api/v1/work-items/{item_id}/complete",
                                     body={"data": {"toelichting": "Partners gebeld."}})
                if response.status_code != 200:
                    self.summary.unexpected.append(f"{case.reference}: handling escalation {item_id}: "
                                                   f"{response.status_code} {response.get_json()}")
                    self.handle_at[item_id] = None
                    continue
                case.last_activity = now
                self.handle_at[item_id] = None
                for plan in case.items.values():
                    if plan.silent and plan.act_at is None:
                        plan.act_at = now + self.rng.randint(1, 7) * DAY

    def task_moments(self, case: SimCase) -> list[datetime]:
        """The follow-up (else due) dates of the case's open tasks: scheduled steps too (README, Escalation)."""
        return [m for m in ((p.follow_up_at or p.due_at) for p in case.items.values()) if m is not None]

    def scheduled(self, case: SimCase, at: datetime) -> bool:
        """The case waits legitimately: a pending timer, a coming evaluation date or a meeting, or an
        open task whose follow-up (else due) date has not passed."""
        if case.errored_at is not None:
            return False
        return (case.waits_for_meeting_since is not None
                or (case.evaluation_at is not None and case.evaluation_at > at)
                or any(due > at for _, due in case.timers)
                or any(moment > at for moment in self.task_moments(case)))

    def check_silent_stalls(self) -> None:
        """A case with no activity past its stall period, nothing scheduled and no open escalation."""
        now = self.now()
        for case in self.open_cases():
            if self.open_escalations.get(case.id) or self.scheduled(case, now) or case.last_activity is None:
                continue
            moments = [case.last_activity] + [due for _, due in case.timers if due <= now]
            moments += [moment for moment in self.task_moments(case) if moment <= now]
            if case.evaluation_at is not None:
                moments.append(case.evaluation_at)
            since = max(moments)
            if now - since > STALL_DAYS * DAY + TICK_SLACK and (case.id, since) not in self.silent_seen:
                self.silent_seen.add((case.id, since))
                what = f"in error since {case.errored_at:%Y-%m-%d} ({case.error})" if case.errored_at \
                    else f"stage {case.stage}"
                self.summary.silent_stalls.append(
                    f"{case.reference}: no activity since {since:%Y-%m-%d}, nothing scheduled, no open escalation "
                    f"on {now:%Y-%m-%d}; {what}")

    # -- the end of the year -------------------------------------------------------------------
    def finish(self) -> None:
        summary, now = self.summary, self.now()
        cases = list(self.cases.values())
        summary.completed = sum(1 for c in cases if c.closed_at)
        summary.open = len(cases) - summary.completed
        summary.errored = sum(1 for c in cases if c.errored_at and not c.closed_at)
        summary.cases_stalled = sum(1 for c in cases if c.stalled)
        for case in cases:
            if case.closed_at is None:
                why = "in error" if case.errored_at else "blocked (partner cannot complete)" \
                    if any(p.blocked for p in case.items.values()) else f"in stage {case.stage}"
                summary.unfinished[f"{case.plan.scenario}: {why}"] += 1
        for case in cases:
            if case.errored_at is None:
                continue
            escalated = [i for i, c in self.escalation_case.items() if c == case.id
                         and case.errored_at <= datetime.fromisoformat(self.escalations[i]["created_at"])
                         <= case.errored_at + DAY]
            if not escalated:
                summary.errors_not_escalated.append(
                    f"{case.reference}: in error since {case.errored_at:%Y-%m-%d %H:%M} ({case.error}); "
                    "no escalation in the coordinator's inbox")
        in_error = {c["id"] for c in self.paged("/api/v1/cases?status=error")}
        if in_error != {c.id for c in cases if c.errored_at and not c.closed_at}:
            summary.model_mismatches.append(f"cases in error per the API {sorted(in_error)}, per the simulation "
                                            f"{sorted(c.id for c in cases if c.errored_at)}")
        self.compare_lead_times(now)

    def compare_lead_times(self, now: datetime) -> None:
        summary = self.summary
        durations: dict[str, list[float]] = defaultdict(list)
        open_now: Counter[str] = Counter()
        for case in self.cases.values():
            for period in case.periods:
                if period.left_at is not None:
                    durations[period.stage].append((period.left_at - period.entered_at).total_seconds() / 86_400)
                elif case.closed_at is None:
                    open_now[period.stage] += 1
        truth = {stage: (len(durations[stage]), _round(percentile(durations[stage], 50)),
                         _round(percentile(durations[stage], 80)), open_now[stage])
                 for stage in set(durations) | set(open_now)}
        open_cases = [c for c in self.cases.values() if c.closed_at is None]
        truth_6 = sum(1 for c in open_cases if c.opened_at and c.opened_at < calendar_months_before(now, 6))
        truth_9 = sum(1 for c in open_cases if c.opened_at and c.opened_at < calendar_months_before(now, 9))
        summary.lead_times = dict(sorted(truth.items(), key=lambda kv: kv[0]))
        summary.open_older_than_6_months, summary.open_older_than_9_months = truth_6, truth_9

        report = self.get("/api/v1/reports/lead-times")
        reported = {s["stage"]: (s["finished_periods"], s["median_days"], s["p80_days"], s["open_cases"])
                    for s in report["stages"]}
        for stage in sorted(set(truth) | set(reported)):
            want, got = truth.get(stage), reported.get(stage)
            if want is None or got is None or want[0] != got[0] or want[3] != got[3] \
                    or not _close(want[1], got[1]) or not _close(want[2], got[2]):
                summary.lead_time_mismatches.append(f"{stage}: report {got}, ground truth {want}")
        for name, want, got in (("open_cases", len(open_cases), report["open_cases"]),
                                ("open_older_than_6_months", truth_6, report["open_older_than_6_months"]),
                                ("open_older_than_9_months", truth_9, report["open_older_than_9_months"])):
            if want != got:
                summary.lead_time_mismatches.append(f"{name}: report {got}, ground truth {want}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _close(want: float | None, got: float | None) -> bool:
    if want is None or got is None:
        return want is got
    return abs(want - got) <= 0.011  # both rounded to 2 decimals


def run(world: Woonoverlast, n_cases: int, seed: int, *, days: int = 365) -> Summary:
    """Simulate `days` days of `n_cases` woonoverlast cases in `world` (see tests/processes/flow.py)."""
    return Year(world, n_cases=n_cases, seed=seed, days=days).run()

