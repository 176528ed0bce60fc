"""Dutch working days (weekends and national public holidays skipped), for deadlines in diagrams.

Exposed to diagram expressions as `werkdagen(n)`: e.g. camunda:dueDate="werkdagen(5)".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from engine.clock import utcnow

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
END_OF_WORKING_DAY = time(17, 0)
MAX_WORKING_DAYS = 2600  # ten years


@cache
def _dutch_holidays(year: int) -> frozenset[date]:
    # Deadlines follow the Algemene termijnenwet (as the Awb does): Good Friday is not one of
    # its public holidays, and Liberation Day (5 May) is, every year. The holidays package
    # lists it the other way round, so correct it here.
    listed = holidays.country_holidays("NL", years=year)
    days = {day for day, name in listed.items() if name != "Good Friday"}
    days.add(date(year, 5, 5))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (17:00 Amsterdam time) of the `days`-th working day after `start`, as aware UTC.

    Counting starts the day after `start`: 5 working days from a Friday is the next Friday
    (or later, when a public holiday falls in between).
    """
    if days < 0:
        raise ValueError("A number of working days cannot be negative.")
    if days > MAX_WORKING_DAYS:  # werkdagen(10**9) would walk day by day for hours
        raise ValueError(f"At most {MAX_WORKING_DAYS} working days can be added.")
    day = start.astimezone(AMSTERDAM).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return datetime.combine(day, END_OF_WORKING_DAY, tzinfo=AMSTERDAM).astimezone(UTC)


def werkdagen(days: int, vanaf: datetime | str | None = None) -> str:
    """Diagram helper: the ISO 8601 timestamp `days` Dutch working days from now (or `vanaf`)."""
    if isinstance(vanaf, str):
        start = datetime.fromisoformat(vanaf)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    else:
        start = vanaf or utcnow()
    return add_working_days(start, int(days)).isoformat()


def script_functions() -> dict[str, Callable[..., Any]]:
    return {"werkdagen": werkdagen}
