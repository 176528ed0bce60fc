"""Repeated regie rounds with actions: every evaluation that decides `regie` again runs the
multi-instance action task anew, round after round, through the API and the database."""

from __future__ import annotations

ROUNDS = 20


def test_regie_with_actions_decided_again_at_twenty_evaluations(flow):
    case_id = flow.report_and_investigate(kwetsbaar="ja")
    flow.refer(case_id)
    ggd, zorg = flow.organisation_id("GGD Haaglanden"), flow.organisation_id("Participe Zorg en Welzijn")
    username = {ggd: "ggd", zorg: "zorg"}
    agreed = [ggd]
    flow.discuss(flow.attend(case_id), case_id, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14),
                 actions=[{"organisation_id": ggd, "description": "Huisbezoek", "due_date": flow.in_days(7)}])
    done = []

    for round_number in range(1, ROUNDS + 1):
        question = f"Doorgaan na ronde {round_number}?"

        def prepare_evaluation(round_number=round_number, question=question):
            flow.do("ggd", case_id, "Regie voeren en evaluatie voorbereiden", voortgang=f"Ronde {round_number}.",
                    overlast_aanhoudend="ja", vraag=question)

        # The casusregisseur finishes before the partners in odd rounds, after them in even ones.
        if round_number % 2:
            prepare_evaluation()
        for organisation_id in agreed:
            flow.do(username[organisation_id], case_id, "Afgesproken actie uitvoeren",
                    uitgevoerd_op=flow.today().isoformat(), actie_resultaat=f"Ronde {round_number} gedaan.")
            done.append(organisation_id)
        if not round_number % 2:
            prepare_evaluation()
        assert flow.case(case_id)["stage"] == "evaluatie"
        [entry] = [i for i in flow.meeting_of(case_id)["items"] if i["case_id"] == case_id]
        assert (entry["kind"], entry["question"]) == ("evaluation", question)

        # The evaluation decides regie again: one action, alternating partners; both every third round.
        first, second = (zorg, ggd) if round_number % 2 else (ggd, zorg)
        agreed = [first, second] if round_number % 3 == 0 else [first]
        flow.discuss(flow.attend(case_id), case_id, next_evaluation=flow.in_days(14), actions=[
            {"organisation_id": o, "description": f"Actie ronde {round_number}", "due_date": flow.in_days(7)}
            for o in agreed])

        case = flow.case(case_id)
        assert (case["status"], case["stage"]) == ("active", "regie en interventie")
        open_items = sorted((i["title"], i["organisation"]["id"]) for i in case["open_work_items"])
        assert open_items == sorted([("Afgesproken actie uitvoeren", o) for o in agreed]
                                    + [("Regie voeren en evaluatie voorbereiden", ggd)])

    history = flow.history(case_id)
    assert len(done) == 1 + ROUNDS - 1 + (ROUNDS - 1) // 3
    assert len([e for e in history if e["kind"] == "meeting_outcome"]) == ROUNDS + 1
    assert len([e for e in history if e["kind"] == "task_completed"
                and e["summary"] == "Taak 'Afgesproken actie uitvoeren' afgerond."]) == len(done)
