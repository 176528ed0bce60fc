"""The woonoverlast escalation path, end to end: each path to its end, each task done by the
organisation that should do it, timers fired by the sweep after moving the clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from api.extensions import db
from engine.models import Case, CaseStagePeriod


def stages_of(flow, case_id):
    """The stages the case went through, in order, from its lead-time periods."""
    db.session.expire_all()
    periods = db.session.scalars(select(CaseStagePeriod).where(CaseStagePeriod.case_id == case_id)
                                 .order_by(CaseStagePeriod.id))
    return [p.stage for p in periods]


def organisations_that_did(flow, case_id):
    return [(e["summary"].removeprefix("Taak '").removesuffix("' afgerond."), e["actor"]["organisation"])
            for e in flow.history(case_id) if e["kind"] == "task_completed"]


def test_own_warning_stops_the_nuisance_and_the_corporation_closes(flow):
    case_id = flow.report_and_investigate()
    flow.do("goedewoning", case_id, "Waarschuwingsbrief versturen", brief_verzonden_op=flow.today().isoformat(),
            afspraken="Geen harde muziek na 23 uur.")
    assert flow.open_titles(case_id) == []  # monitoring: only the clock can move the case now
    assert [t["title"] for t in flow.case(case_id)["pending_timers"]] == ["14 dagen gemonitord"]

    assert flow.later(days=13).fired == 0
    assert flow.later(days=2).fired == 1
    flow.do("goedewoning", case_id, "Monitoring beoordelen", overlast_gestopt="ja")
    case = flow.do("goedewoning", case_id, "Melding afsluiten", resultaat="overlast_beeindigd")

    assert case["status"] == "completed"
    assert stages_of(flow, case_id) == ["intake", "onderzoek", "eigen waarschuwing", "afsluiten"]
    assert {org for _, org in organisations_that_did(flow, case_id)} == {"De Goede Woning"}
    assert not [e for e in case["history"] if e["kind"] == "agenda_item_added"]
    periods = db.session.query(CaseStagePeriod).filter_by(case_id=case_id).all()
    assert all(p.left_at is not None for p in periods) and len(periods) == 4


def test_ignored_warning_goes_to_the_meeting_which_starts_care_and_solves_it(flow):
    case_id = flow.report_and_investigate(wijk="Meerzicht")
    flow.warn_without_effect(case_id)
    flow.refer(case_id)

    agenda = flow.meeting_of(case_id)
    [entry] = [i for i in agenda["items"] if i["case_id"] == case_id]
    assert set(entry) == {"case_id", "case_reference", "kind", "neighbourhood", "question", "referring_organisation",
                          "added_at", "discussed_at", "outcome"}
    assert (entry["kind"], entry["neighbourhood"], entry["question"], entry["referring_organisation"]["name"]) == (
        "referral", "Meerzicht", "Wie kan contact leggen met de huurder?", "De Goede Woning")
    assert flow.case(case_id)["stage"] == "casusoverleg"

    ggd, zorg = flow.organisation_id("GGD Haaglanden"), flow.organisation_id("Participe Zorg en Welzijn")
    meeting = flow.attend(case_id)
    outcome = flow.discuss(meeting, case_id, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(28),
                           notes="Zorgmijdend; samen op huisbezoek.", actions=[
        {"organisation_id": ggd, "description": "Huisbezoek met de corporatie", "due_date": flow.in_days(7)},
        {"organisation_id": zorg, "description": "Zorgtraject starten", "due_date": flow.in_days(21)},
    ])
    assert outcome["outcome"]["casusregisseur"]["name"] == "GGD Haaglanden"
    evaluation_date = flow.in_days(28)

    case = flow.case(case_id)
    assert case["stage"] == "regie en interventie"
    assert {r["case_role"]: r["organisation"]["name"] for r in case["case_roles"]}["casusregisseur"] == "GGD Haaglanden"
    participants = {p["organisation"]["name"] for p in case["participants"]}
    assert {"GGD Haaglanden", "Participe Zorg en Welzijn", "Politie Zoetermeer"} <= participants
    ggd_action = flow.item("ggd", case_id, "Afgesproken actie uitvoeren")
    zorg_action = flow.item("zorg", case_id, "Afgesproken actie uitvoeren")
    assert ggd_action["due_at"][:10] == flow.in_days(7)
    assert zorg_action["due_at"][:10] == flow.in_days(21)
    assert flow.item("ggd", case_id, "Regie voeren en evaluatie voorbereiden")["role"] == "Casusregisseur"

    flow.do("ggd", case_id, "Afgesproken actie uitvoeren", uitgevoerd_op=flow.today().isoformat(),
            actie_resultaat="Huurder liet ons binnen; GGZ ingeschakeld.")
    flow.do("zorg", case_id, "Afgesproken actie uitvoeren", uitgevoerd_op=flow.today().isoformat(),
            actie_resultaat="Thuisbegeleiding gestart.")
    flow.do("ggd", case_id, "Regie voeren en evaluatie voorbereiden", voortgang="Zorg loopt, geen klachten meer.",
            huisbezoek_afgelegd=True, overlast_aanhoudend="nee", vraag="Kan de casus worden gesloten?")
    evaluation = flow.meeting_of(case_id)
    assert evaluation["scheduled_at"][:10] >= evaluation_date  # not before the agreed evaluation date
    [entry] = [i for i in evaluation["items"] if i["case_id"] == case_id]
    assert (entry["kind"], entry["question"]) == ("evaluation", "Kan de casus worden gesloten?")
    assert flow.case(case_id)["stage"] == "evaluatie"

    flow.discuss(flow.attend(case_id), case_id, decision="afsluiten", notes="Opgelost.")
    case = flow.do("gemeente", case_id, "Casus afsluiten", resultaat="overlast_beeindigd")

    assert case["status"] == "completed"
    assert stages_of(flow, case_id) == ["intake", "onderzoek", "eigen waarschuwing", "aanmelding", "toets",
                                        "casusoverleg", "regie en interventie", "evaluatie", "afsluiten"]
    assert organisations_that_did(flow, case_id) == [
        ("Melding registreren", "De Goede Woning"), ("Overlast onderzoeken", "De Goede Woning"),
        ("Waarschuwingsbrief versturen", "De Goede Woning"), ("Monitoring beoordelen", "De Goede Woning"),
        ("Aanmelden bij de gemeente", "De Goede Woning"), ("Politie-informatie aanleveren", "Politie Zoetermeer"),
        ("Aanmelding toetsen", "Gemeente Zoetermeer"), ("Afgesproken actie uitvoeren", "GGD Haaglanden"),
        ("Afgesproken actie uitvoeren", "Participe Zorg en Welzijn"),
        ("Regie voeren en evaluatie voorbereiden", "GGD Haaglanden"), ("Casus afsluiten", "Gemeente Zoetermeer"),
    ]

def test_vulnerable_tenant_is_referred_directly_without_an_own_warning(flow):
    case_id = flow.report_and_investigate(kwetsbaar="ja")

    assert flow.open_titles(case_id) == ["Aanmelden bij de gemeente"]
    flow.do("goedewoning", case_id, "Aanmelden bij de gemeente", wat_geprobeerd="Niets: huurder is kwetsbaar.",
            vraag="Welke zorg is nodig?", toestemming_huurder="nee")
    assert flow.open_titles(case_id) == ["Aanmelding toetsen", "Politie-informatie aanleveren"]
    flow.do("coordinator", case_id, "Aanmelding toetsen", ontvankelijk="nee", toelichting="Wat weet de huisarts?")
    flow.do("goedewoning", case_id, "Aanmelding aanvullen", wat_geprobeerd="Huisarts gebeld, geen toestemming.",
            vraag="Welke zorg is nodig?", toestemming_huurder="nee")
    flow.do("politie", case_id, "Politie-informatie aanleveren", bekend_bij_politie="nee")
    assert flow.case(case_id)["stage"] == "toets"  # still waiting for the second test
    flow.do("coordinator", case_id, "Aanmelding toetsen", ontvankelijk="ja")

    assert flow.meeting_of(case_id)["items"][0]["kind"] == "referral"
    assert "eigen waarschuwing" not in stages_of(flow, case_id)
    assert not [e for e in flow.history(case_id) if "Waarschuwingsbrief" in e["summary"]]


def test_last_chance_contract_kept_for_its_period_closes_the_case(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    flow.discuss(flow.attend(case_id), case_id, decision="laatstekanscontract", notes="Nog één kans.")

    flow.do("goedewoning", case_id, "Laatstekanscontract afsluiten", getekend_op=flow.today().isoformat(),
            voorwaarden="Geen overlast, woning schoon, begeleiding accepteren.", looptijd="P6M")
    assert flow.open_titles(case_id) == ["Naleving bewaken"]
    [period] = flow.case(case_id)["pending_timers"]
    assert period["title"] == "Monitoringsperiode voorbij"
    assert flow.later(days=150).fired == 0
    assert flow.later(days=40).fired == 1

    assert flow.open_titles(case_id) == ["Casus afsluiten"]
    case = flow.do("gemeente", case_id, "Casus afsluiten", resultaat="laatstekanscontract_nageleefd")
    assert case["status"] == "completed"
    assert [e["kind"] for e in case["history"]].count("task_cancelled") == 1  # the watch over the contract
    assert stages_of(flow, case_id)[-2:] == ["laatstekanscontract", "afsluiten"]


def test_breached_contract_goes_to_court_which_dissolves_the_lease(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    flow.discuss(flow.attend(case_id), case_id, decision="laatstekanscontract")
    flow.do("goedewoning", case_id, "Laatstekanscontract afsluiten", getekend_op=flow.today().isoformat(),
            voorwaarden="Geen overlast.", looptijd="P12M")
    flow.later(days=60)

    flow.do("goedewoning", case_id, "Naleving bewaken", geconstateerd_op=flow.today().isoformat(),
            schending="Opnieuw geluidsoverlast en bedreiging van buren.")
    assert flow.case(case_id)["pending_timers"] == []
    assert flow.case(case_id)["stage"] == "rechter"
    flow.do("goedewoning", case_id, "Dagvaarding uitbrengen", ingediend_op=flow.today().isoformat(),
            rechtbank="Rechtbank Den Haag, kanton", zaaknummer="10234567")
    flow.later(days=90)
    flow.do("goedewoning", case_id, "Uitspraak kantonrechter vastleggen", uitspraak="ontbonden",
            uitspraak_op=flow.today().isoformat(), ontruiming_op=flow.in_days(30))
    case = flow.do("gemeente", case_id, "Casus afsluiten", resultaat="ontbinding_huurovereenkomst")

    assert case["status"] == "completed"
    assert stages_of(flow, case_id)[-4:] == ["casusoverleg", "laatstekanscontract", "rechter", "afsluiten"]


def test_court_refusing_to_dissolve_brings_the_case_back_to_the_meeting(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    flow.discuss(flow.attend(case_id), case_id, decision="rechter", notes="Te ernstig voor een laatste kans.")
    flow.do("goedewoning", case_id, "Dagvaarding uitbrengen", ingediend_op=flow.today().isoformat(),
            rechtbank="Rechtbank Den Haag, kanton")
    flow.do("goedewoning", case_id, "Uitspraak kantonrechter vastleggen", uitspraak="afgewezen",
            uitspraak_op=flow.today().isoformat())

    [entry] = [i for i in flow.meeting_of(case_id)["items"] if i["case_id"] == case_id]
    assert entry["kind"] == "evaluation"
    assert flow.case(case_id)["stage"] == "evaluatie"


def test_referral_not_discussed_in_four_weeks_escalates_to_the_coordinator(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    first_meeting = flow.meeting_of(case_id)["id"]

    assert flow.later(days=27).fired == 0
    assert flow.meeting_of(case_id)["id"] != first_meeting  # not discussed there: moved to the next one
    assert "Niet besproken in het casusoverleg" in " ".join(e["summary"] for e in flow.history(case_id))
    assert flow.later(days=2).fired == 1
    escalation = flow.item("coordinator", case_id, "Niet-besproken aanmelding oppakken")
    assert escalation["organisation"]["name"] == "Gemeente Zoetermeer"
    flow.do("coordinator", case_id, "Niet-besproken aanmelding oppakken", maatregel="agenderen")
    [timer] = flow.case(case_id)["pending_timers"]  # four more weeks, from now
    assert datetime.fromisoformat(timer["due_at"]) == flow.now() + timedelta(days=28)

    assert flow.later(days=29).fired == 1  # still not discussed: escalates again
    assert flow.open_titles(case_id) == ["Niet-besproken aanmelding oppakken"]
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(flow.attend(case_id), case_id, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14))

    # Discussed after all: the escalation lapses and the case goes on.
    assert flow.open_titles(case_id) == ["Regie voeren en evaluatie voorbereiden"]
    assert flow.case(case_id)["pending_timers"] == []


def test_a_hundred_evaluations_keep_the_case_active_and_its_state_small(flow):
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(flow.attend(case_id), case_id, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14))
    sizes = {}

    for evaluation in range(1, 101):
        flow.do("ggd", case_id, "Regie voeren en evaluatie voorbereiden", voortgang=f"Ronde {evaluation}.",
                overlast_aanhoudend="ja", vraag="Doorgaan?")
        flow.discuss(flow.attend(case_id), case_id, next_evaluation=flow.in_days(14))
        if evaluation in (10, 100):
            db.session.expire_all()
            sizes[evaluation] = len(json.dumps(db.session.get(Case, case_id).state))

    case = flow.case(case_id)
    assert case["status"] == "active" and case["closed_at"] is None
    assert flow.open_titles(case_id) == ["Regie voeren en evaluatie voorbereiden"]
    assert sizes[100] <= 1.5 * sizes[10], sizes
    assert case["earlier_history"] is True  # the case detail carries only the newest page
    assert len([e for e in flow.history(case_id) if e["kind"] == "meeting_outcome"]) == 101
