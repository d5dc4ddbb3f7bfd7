"""Plain-text view for the front desk: the counts, the sessions week by week in date order,
month grids like ``cal``, then the skipped days. Every line fits in 80 columns.

The first line gives the course's target ("36 sessions"), not the number of session
records (a missed session and the one that makes it up are two records). Once anything
is recorded, the next line gives :meth:`~tms_schedule.schedule.Schedule.progress` as it
prints: "36 sessions: 2 delivered, 34 to come; 3 missed (all made up)".

In the grids (weeks from Monday) a day with a session attended or to come reads ``[16]``,
a day whose sessions were missed ``17m``, a day whose sessions are all cancelled ``17-``
and a day passed over ``26x``; a one-line legend above them names the marks used. Two
months stand side by side (three would need 88 columns).
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

# A day is four columns wide: " 16 ", "[16]", " 17m", " 17-", " 26x"; a month 28, two with
# a gap 60.
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
    # A re-plan or a moved session can leave the records out of date order.
    sessions = sorted(schedule.sessions, key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    progress = schedule.progress()
    title = f"Course {schedule.course_id} - {schedule.protocol_id}"
    if all(s.status == "scheduled" for s in sessions):
        lines = [f"{title} - {progress.target} sessions"]
    else:
        counts, _, lost = str(progress).partition("; ")
        lines = [title, counts + (";" if lost else "")]
        if lost and len(lines[-1]) + 1 + len(lost) < 80:
            lines[-1] += " " + lost
        elif lost:
            lines.append("  " + lost)
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


# When a day holds sessions in several states, the first of these names it.
_PRECEDENCE = ("session", "missed", "cancelled")


def day_marks(schedule: Schedule) -> dict[dt.date, str]:
    """How the grids mark each day: ``"session"``, ``"missed"``, ``"cancelled"`` or
    ``"skipped"``.

    A day with a session attended or to come is a session day; otherwise a day with a
    missed session is a missed day, and a day whose sessions are all cancelled a cancelled
    day. A day passed over without any session is a skipped day.
    """
    marks: dict[dt.date, str] = {}
    for s in schedule.sessions:
        mark = "session" if s.active else s.status
        day = s.start.date()
        if day not in marks or _PRECEDENCE.index(mark) < _PRECEDENCE.index(marks[day]):
            marks[day] = mark
    for skipped in schedule.skipped:
        marks.setdefault(skipped.date, "skipped")
    return marks


def month_grids(schedule: Schedule) -> list[str]:
    """The legend and the month grids (with a blank line before each), or nothing."""
    marks = day_marks(schedule)
    if not marks:
        return []
    used = set(marks.values())
    legend = ["[16] appointment day"]
    if "skipped" in used:
        legend.append("26x passed over (see below)")
    if "missed" in used:
        legend.append("17m missed")
    if "cancelled" in used:
        legend.append("17- all cancelled")
    lines = ["", *_entries("Calendar: ", legend)]
    blocks = [_month(year, month, marks) for year, month in months(marks)]
    for first in range(0, len(blocks), _PER_ROW):
        row = blocks[first : first + _PER_ROW]
        height = max(len(block) for block in row)
        lines.append("")
        for i in range(height):
            parts = [block[i] if i < len(block) else " " * _MONTH_WIDTH for block in row]
            lines.append(_GAP.join(parts).rstrip())
    return lines


def _entries(prefix: str, entries: list[str], indent: int | None = None) -> list[str]:
    """``entries`` joined by commas after ``prefix`` and wrapped at 80 columns between
    entries, never inside one; continuation lines are indented under the first entry, or
    by ``indent``."""
    continued = " " * (len(prefix) if indent is None else indent)
    lines = [prefix + entries[0]]
    for entry in entries[1:]:
        if len(lines[-1]) + len(", ") + len(entry) < 80:
            lines[-1] += ", " + entry
        else:
            lines[-1] += ","
            lines.append(continued + entry)
    return lines


def _month(year: int, month: int, marks: dict[dt.date, str]) -> list[str]:
    lines = [
        month_title(year, month).center(_MONTH_WIDTH),
        "".join(f" {name[:2]} " for name in WEEKDAY_ABBR),
    ]
    for week in month_weeks(year, month):
        lines.append("".join(_cell(day, marks.get(day)) if day else " " * _CELL for day in week))
    return lines


# The column after the day number; a session day is bracketed instead.
_SUFFIX = {None: " ", "missed": "m", "cancelled": "-", "skipped": "x"}


def _cell(day: dt.date, mark: str | None) -> str:
    if mark == "session":
        return f"[{day.day:>2}]"
    return f" {day.day:>2}{_SUFFIX[mark]}"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
