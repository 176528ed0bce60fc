"""The race the year simulation found: the meeting records its outcome after a referral's four
weeks have passed but before the sweeper fired that timer."""

from __future__ import annotations

from datetime import timedelta


def test_an_outcome_recorded_while_the_four_week_timer_is_due_wins_over_the_timer(flow):
    case_id = flow.report_and_investigate()
    flow.warn_without_effect(case_id)
    flow.refer(case_id)
    meeting = flow.meeting_of(case_id)
    flow.clock.shift(timedelta(days=28, hours=1))  # the 4-week timer is due; no sweep has run yet
    ggd = flow.organisation_id("GGD Haaglanden")
    flow.discuss(meeting, case_id, casusregisseur_organisation_id=ggd, next_evaluation=flow.in_days(14))

    assert flow.open_titles(case_id) == ["Regie voeren en evaluatie voorbereiden"]
    assert flow.case(case_id)["stage"] == "regie en interventie"
