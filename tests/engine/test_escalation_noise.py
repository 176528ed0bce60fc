"""Escalation noise, measured: the real woonoverlast diagrams over nine months with the real sweep.

Cases that wait legitimately on a schedule (last-chance contracts of 6 and 12 months being
monitored, a court case, a plan running to its evaluation date) beside genuinely stalled ones
(a task nobody picks up). The test counts escalations per kind under today's rule and under the
old one (30 days without activity, schedules ignored, replayed on the same cases). Run with -s to
see the figures: `pytest tests/engine/test_escalation_noise.py -s -k sqlite`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from engine import agenda, notifications, watch
from engine.models import Case, CaseStatus, WorkItem, WorkItemKind

STEP_DAYS = 7
WEEKS = 39  # nine months


def warned(flow, count):
    """`count` cases reported, investigated and warned without effect, side by side."""
    ids = [flow.report_and_investigate() for _ in range(count)]
    for case_id in ids:
        flow.do("goedewoning", case_id, "Waarschuwingsbrief versturen", brief_verzonden_op=flow.today().isoformat(),
                afspraken="Woning binnen 14 dagen schoon.")
    flow.later(days=15)
    for case_id in ids:
        flow.do("goedewoning", case_id, "Monitoring beoordelen", overlast_gestopt="nee",
                toelichting="Geen verbetering.")
    return ids


def build(flow):
    """The cases, each with its kind (`waiting` or `stalled`) and what its partners do later."""
    contract12, contract6, court, plan, unreferred = warned(flow, 5)
    for case_id in (contract12, contract6, court, plan):
        flow.refer(case_id)
    meeting = flow.attend(contract12)
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(meeting, contract12, decision="laatstekanscontract")
    flow.discuss(meeting, contract6, decision="laatstekanscontract")
    flow.discuss(meeting, court, decision="rechter")
    flow.discuss(meeting, plan, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(90))
    for case_id, looptijd in ((contract12, "P12M"), (contract6, "P6M")):
        flow.do("goedewoning", case_id, "Laatstekanscontract afsluiten", getekend_op=flow.today().isoformat(),
                voorwaarden="Geen overlast.", looptijd=looptijd)
    flow.do("goedewoning", court, "Dagvaarding uitbrengen", ingediend_op=flow.today().isoformat(),
            rechtbank="Rechtbank Den Haag, kanton")
    ignored = flow.start(titel="Overlast Kerkpad 3")
    flow.do("goedewoning", ignored, "Melding registreren", adres="Kerkpad 3", wijk="Meerzicht",
            soort_overlast="geluid", omschrijving="Harde muziek.", eerste_melding_op=flow.today().isoformat(),
            aantal_meldingen=1, kwetsbaar="nee")
    # Nobody investigates `ignored`; nobody refers `unreferred`: genuinely stalled.
    kinds = {contract12: "waiting", contract6: "waiting", court: "waiting", plan: "waiting",
             ignored: "stalled", unreferred: "stalled"}
    return kinds, {"court": court, "plan": plan}


def act(flow, day, cases):
    """What the partners do on schedule: the court rules after ~4 months, the plan is evaluated,
    whatever reaches 'Casus afsluiten' is closed within the week."""
    court, plan = cases["court"], cases["plan"]
    if day >= 120 and "Uitspraak kantonrechter vastleggen" in flow.open_titles(court):
        flow.do("goedewoning", court, "Uitspraak kantonrechter vastleggen", uitspraak="ontbonden",
                uitspraak_op=flow.today().isoformat(), ontruiming_op=flow.in_days(30))
    if day >= 84 and "Regie voeren en evaluatie voorbereiden" in flow.open_titles(plan):
        flow.do("ggd", plan, "Regie voeren en evaluatie voorbereiden", voortgang="Rustig.", overlast_aanhoudend="nee",
                vraag="Kan de casus dicht?")
    db.session.expire_all()
    item = agenda.open_item(db.session, plan)
    if item is not None and item.meeting_id is not None:
        meeting = flow.agenda_of(item.meeting_id)
        if datetime.fromisoformat(meeting["scheduled_at"]) <= flow.now():
            flow.discuss(meeting, plan, decision="afsluiten")
    for case_id in (court, plan, *cases.get("contracts", ())):
        if "Casus afsluiten" in flow.open_titles(case_id):
            flow.do("gemeente", case_id, "Casus afsluiten", resultaat="overlast_beeindigd")


def old_rule(now, escalated_at):
    """Yesterday's rule, replayed without side effects: 30 quiet days, once per stall."""
    fired = []
    db.session.expire_all()
    rows = db.session.execute(select(Case.id, Case.last_activity_at).where(Case.status == CaseStatus.ACTIVE))
    for case_id, last_activity in rows:
        since = escalated_at.get(case_id)
        if last_activity <= now - timedelta(days=30) and (since is None or since <= last_activity):
            escalated_at[case_id] = now
            fired.append(case_id)
    return fired


def test_schedules_silence_the_noise_and_stalled_cases_still_escalate(flow):
    kinds, cases = build(flow)
    cases["contracts"] = [c for c, k in kinds.items() if k == "waiting" and c not in cases.values()]
    before, escalated_at = Counter(), {}
    for week in range(1, WEEKS + 1):
        flow.later(days=STEP_DAYS)
        db.session.remove()
        watch.tick(lambda: Session(db.engine), notifications.SmtpSettings(host=None))
        before.update(kinds[c] for c in old_rule(flow.now(), escalated_at) if c in kinds)
        act(flow, week * STEP_DAYS, cases)

    db.session.expire_all()
    stalls = db.session.scalars(select(WorkItem.case_id).where(WorkItem.kind == WorkItemKind.ESCALATION,
                                                               WorkItem.element_id == "escalation:stalled"))
    after = Counter(kinds[c] for c in stalls if c in kinds)
    print(f"\nescalation noise over {WEEKS} weeks, {Counter(kinds.values())['waiting']} cases waiting on a schedule, "
          f"{Counter(kinds.values())['stalled']} stalled: before {dict(before)}, after {dict(after)}")

    assert before["waiting"] >= 4  # the old rule: every scheduled wait looked like a stall
    assert after["waiting"] == 0
    stalled = {c for c, k in kinds.items() if k == "stalled"}
    assert after["stalled"] >= len(stalled) and before["stalled"] >= len(stalled)
    assert {c for c in stalled if db.session.get(Case, c).stall_escalated_at is not None} == stalled
