"""English date names and month grids for the views a person reads (text and HTML).

The names come from fixed tables rather than ``strftime("%a %b")`` or :mod:`calendar`'s
name lists, which follow the machine's locale: the same schedule reads the same anywhere.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_FULL = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Calendar's date arithmetic is locale-free; only its name lists are not.
_MONDAY_FIRST = calendar.Calendar(firstweekday=calendar.MONDAY)


def short_day(day: dt.date) -> str:
    """``Mon 16 Nov 2026``.

    >>> short_day(dt.date(2026, 11, 16))
    'Mon 16 Nov 2026'
    """
    return f"{WEEKDAY_ABBR[day.weekday()]} {day.day} {MONTH_ABBR[day.month - 1]} {day.year}"


def short_moment(moment: dt.datetime) -> str:
    """``Tue 17 Nov 2026 09:00``: a session's local start as the front desk reads it.

    >>> short_moment(dt.datetime(2026, 11, 17, 9, 0))
    'Tue 17 Nov 2026 09:00'
    """
    return f"{short_day(moment.date())} {moment:%H:%M}"


def long_day(day: dt.date) -> str:
    """``Monday 16 November 2026``."""
    return f"{WEEKDAY_FULL[day.weekday()]} {day.day} {MONTH_FULL[day.month - 1]} {day.year}"


def month_title(year: int, month: int) -> str:
    """``November 2026``."""
    return f"{MONTH_FULL[month - 1]} {year}"


def months(days: Iterable[dt.date]) -> list[tuple[int, int]]:
    """Every (year, month) from the earliest of ``days`` to the latest, gaps included.

    >>> months([dt.date(2026, 12, 30), dt.date(2026, 11, 16), dt.date(2027, 1, 19)])
    [(2026, 11), (2026, 12), (2027, 1)]
    """
    ordered = sorted(days)
    if not ordered:
        return []
    year, month = ordered[0].year, ordered[0].month
    last = (ordered[-1].year, ordered[-1].month)
    result = []
    while (year, month) <= last:
        result.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def month_weeks(year: int, month: int) -> list[list[dt.date | None]]:
    """The weeks of a month, Monday first, with ``None`` for days of the months around it."""
    return [
        [day if day.month == month else None for day in week]
        for week in _MONDAY_FIRST.monthdatescalendar(year, month)
    ]
