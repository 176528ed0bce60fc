"""Dutch working days skip weekends and national public holidays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.calendar import add_working_days, is_working_day, werkdagen


def test_five_working_days_from_friday_is_next_friday_at_five_pm_amsterdam():
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)

    due = add_working_days(friday, 5)

    assert due == datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # 17:00 CET


def test_kings_day_and_easter_monday_are_skipped():
    assert not is_working_day(datetime(2026, 4, 27).date())  # Koningsdag (Monday)
    assert not is_working_day(datetime(2026, 4, 6).date())  # Tweede paasdag
    thursday_before_easter = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)

    due = add_working_days(thursday_before_easter, 2)

    # The Algemene termijnenwet does not count Good Friday as a holiday: Friday 3 April counts,
    # Easter Monday 6 April does not, so day 2 is Tuesday 7 April.
    assert due.date() == datetime(2026, 4, 7).date()


def test_christmas_week_skips_both_christmas_days():
    wednesday = datetime(2026, 12, 23, 12, 0, tzinfo=UTC)

    due = add_working_days(wednesday, 2)

    assert due.date() == datetime(2026, 12, 28).date()  # Thu 24 counts, 25/26 holidays, 27 Sunday


def test_werkdagen_returns_iso_timestamp_usable_as_a_timer_date():
    text = werkdagen(1, "2026-11-20T08:00:00+00:00")  # a Friday

    assert datetime.fromisoformat(text) == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 1, 5, tzinfo=UTC), -1)


def test_liberation_day_is_a_holiday_every_year_as_the_termijnenwet_says():
    assert not is_working_day(datetime(2026, 5, 5).date())  # a Tuesday
    assert not is_working_day(datetime(2027, 5, 5).date())  # a Wednesday
