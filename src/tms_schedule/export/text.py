"""Plain-text view for the front desk: the sessions week by week, month grids like ``cal``,
then the skipped days. Every line fits in 80 columns.

In the grids (weeks from Monday) a day with appointments reads ``[16]``, a day passed over
``26x`` and a day whose sessions are all cancelled ``17-``; a one-line legend above them
says so. Two months stand side by side (three would need 88 columns).
"""

from __future__ import annotations

import datetime as dt
import textwrap

from tms_schedule._dates import (
    MONTH_ABBR,
    WEEKDAY_ABBR,
    month_title,
    month_weeks,
    months,
    short_day,
)
from tms_schedule.schedule import Schedule

__all__ = ["schedule_to_text"]

# A day is four columns wide: " 16 ", "[16]", " 26x", " 17-"; a month 28, two with a gap 60.
_CELL = 4
_MONTH_WIDTH = 7 * _CELL
_GAP = " " * 4
_PER_ROW = 2


def schedule_to_text(schedule: Schedule) -> str:
    """The schedule as text a person reads, 80 columns wide (a course id of more than about
    45 characters makes the first line longer).

    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("snt", ClinicCalendar("UTC"), "2026-11-30", "08:00", "c-1").expand()
    >>> print(schedule_to_text(schedule).split("Calendar: ")[1].rstrip())
    [16] appointment day
    <BLANKLINE>
           November 2026                   December 2026
     Mo  Tu  We  Th  Fr  Sa  Su      Mo  Tu  We  Th  Fr  Sa  Su
                              1         [ 1][ 2][ 3][ 4]  5   6
      2   3   4   5   6   7   8       7   8   9  10  11  12  13
      9  10  11  12  13  14  15      14  15  16  17  18  19  20
     16  17  18  19  20  21  22      21  22  23  24  25  26  27
     23  24  25  26  27  28  29      28  29  30  31
    [30]
    """
    sessions = schedule.sessions
    lines = [f"Course {schedule.course_id} - {schedule.protocol_id} - {len(sessions)} sessions"]
    if sessions:
        # The zone shares this line rather than the first, which a long course id fills.
        lines.append(
            f"From {short_day(sessions[0].start.date())} to {short_day(sessions[-1].start.date())}"
            f" - times in {schedule.timezone}"
        )
    week: dt.date | None = None
    for s in sessions:
        local = s.start.date()
        monday = local - dt.timedelta(days=local.weekday())
        if monday != week:
            week = monday
            count = sum(1 for x in sessions if _monday(x.start.date()) == monday)
            lines.append("")
            lines.append(
                f"Week of {short_day(monday)} ({count} session{'s' if count != 1 else ''})"
            )
        status = "" if s.status == "scheduled" else f"  [{s.status}]"
        day = f"{WEEKDAY_ABBR[local.weekday()]} {local.day:>2} {MONTH_ABBR[local.month - 1]}"
        lines.append(
            f"  {s.number:>3}  {day}  {s.start:%H:%M}-{s.end:%H:%M}"
            f"  {s.phase} {s.phase_number}{status}"
        )
    lines += month_grids(schedule)
    if schedule.skipped:
        lines.append("")
        lines.append("Days passed over")
        for skipped in schedule.skipped:
            prefix = f"  {short_day(skipped.date)}  "
            # A long reason (several closures, hours too short) wraps under itself.
            lines += textwrap.wrap(
                skipped.reason,
                width=80,
                initial_indent=prefix,
                subsequent_indent=" " * len(prefix),
                break_on_hyphens=False,
            )
    return "\n".join(lines) + "\n"


def day_marks(schedule: Schedule) -> dict[dt.date, str]:
    """How the grids mark each day: ``"session"``, ``"skipped"`` or ``"cancelled"``.

    A day with any session that is not cancelled is a session day; a missed session still
    was an appointment on that day.
    """
    marks: dict[dt.date, str] = {}
    for s in schedule.sessions:
        if s.status == "cancelled":
            marks.setdefault(s.start.date(), "cancelled")
        else:
            marks[s.start.date()] = "session"
    for skipped in schedule.skipped:
        marks.setdefault(skipped.date, "skipped")
    return marks


def month_grids(schedule: Schedule) -> list[str]:
    """The legend and the month grids (with a blank line before each), or nothing."""
    marks = day_marks(schedule)
    if not marks:
        return []
    legend = ["[16] appointment day"]
    if "skipped" in marks.values():
        legend.append("26x passed over (see below)")
    if "cancelled" in marks.values():
        legend.append("17- all cancelled")
    lines = ["", "Calendar: " + ", ".join(legend)]
    blocks = [_month(year, month, marks) for year, month in months(marks)]
    for first in range(0, len(blocks), _PER_ROW):
        row = blocks[first : first + _PER_ROW]
        height = max(len(block) for block in row)
        lines.append("")
        for i in range(height):
            parts = [block[i] if i < len(block) else " " * _MONTH_WIDTH for block in row]
            lines.append(_GAP.join(parts).rstrip())
    return lines


def _month(year: int, month: int, marks: dict[dt.date, str]) -> list[str]:
    lines = [
        month_title(year, month).center(_MONTH_WIDTH),
        "".join(f" {name[:2]} " for name in WEEKDAY_ABBR),
    ]
    for week in month_weeks(year, month):
        lines.append("".join(_cell(day, marks.get(day)) if day else " " * _CELL for day in week))
    return lines


def _cell(day: dt.date, mark: str | None) -> str:
    if mark == "session":
        return f"[{day.day:>2}]"
    if mark == "skipped":
        return f" {day.day:>2}x"
    if mark == "cancelled":
        return f" {day.day:>2}-"
    return f" {day.day:>2} "


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
