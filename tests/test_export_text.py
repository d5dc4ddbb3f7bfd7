"""The terminal view's month grids: 80 columns, Monday first, exactly the session days marked.

The grids are read back here by position (two months side by side, four columns a day),
independently of how the text export builds them.
"""

from __future__ import annotations

import calendar
import datetime as dt

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from cases import CLINIC, expand_or_skip, golden_start
from strategies import plans
from tms_schedule import (
    Closure,
    Plan,
    Schedule,
    protocol_ids,
)

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
MARKS = {("[", "]"): "session", (" ", "x"): "skipped", (" ", "-"): "cancelled", (" ", " "): None}
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def expand(protocol_id: str) -> Schedule:
    start, at = golden_start(protocol_id)
    return Plan(protocol_id, CLINIC, start, at, f"golden-{protocol_id}").expand()


def grid_lines(text: str) -> list[str]:
    """From the legend to the line before "Days passed over" (or the end)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Calendar: "))
    end = lines.index("Days passed over") if "Days passed over" in lines else len(lines)
    return lines[start:end]


def read_grids(text: str) -> dict[dt.date, str | None]:
    """Every day the grids show, with its mark (None when unmarked)."""
    days: dict[dt.date, str | None] = {}
    blocks: list[tuple[int, int] | None] = []
    for line in grid_lines(text)[1:]:
        titles = [line[offset : offset + 28].split() for offset in (0, 32)]
        if any(len(t) == 2 and t[0] in MONTHS and t[1].isdigit() for t in titles):
            blocks = [(int(t[1]), MONTHS.index(t[0]) + 1) if t else None for t in titles]
            continue
        if not line.strip() or line.lstrip().startswith("Mo "):
            continue
        for offset, block in zip((0, 32), blocks, strict=False):
            segment = line[offset : offset + 28].ljust(28)
            for column in range(7):
                cell = segment[4 * column : 4 * column + 4]
                if not cell.strip():
                    continue
                assert block is not None, line
                assert (cell[0], cell[3]) in MARKS, repr(cell)
                day = dt.date(block[0], block[1], int(cell[1:3]))
                assert day.weekday() == column, (day, line)  # Monday first
                assert day not in days
                days[day] = MARKS[cell[0], cell[3]]
    return days


def expected_marks(schedule: Schedule) -> dict[dt.date, str]:
    marks: dict[dt.date, str] = {}
    for day in {d.date for d in schedule.skipped}:
        marks[day] = "skipped"
    for s in schedule:
        if s.status == "cancelled" and s.start.date() not in marks:
            marks[s.start.date()] = "cancelled"
    for s in schedule:
        if s.status != "cancelled":
            marks[s.start.date()] = "session"
    return marks


def check(schedule: Schedule) -> None:
    text = schedule.to_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    shown = read_grids(text)
    marked = {day: mark for day, mark in shown.items() if mark is not None}
    assert marked == expected_marks(schedule)
    # Every day of every month from the first marked to the last is shown, once.
    first, last = min(marked), max(marked)
    month = (first.year, first.month)
    while month <= (last.year, last.month):
        for number in range(1, calendar.monthrange(*month)[1] + 1):
            assert dt.date(*month, number) in shown
        month = (month[0] + 1, 1) if month[1] == 12 else (month[0], month[1] + 1)
    span = ((first.year, first.month), (last.year, last.month))
    assert all(span[0] <= (day.year, day.month) <= span[1] for day in shown)


@pytest.mark.parametrize("protocol_id", protocol_ids())
def test_builtin_protocols_grids_fit_and_mark_the_session_days(protocol_id: str) -> None:
    check(expand(protocol_id))


@PROPERTY
@given(plans())
def test_any_plan_grids_fit_and_mark_the_session_days(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    check(schedule)


def test_grids_of_the_standard_course() -> None:
    text = expand("standard-10hz").to_text()
    grids = grid_lines(text)
    assert grids[0] == "Calendar: [16] appointment day, 26x passed over (see below)"
    assert grids[2] == "       November 2026                   December 2026"
    assert grids[3] == " Mo  Tu  We  Th  Fr  Sa  Su      Mo  Tu  We  Th  Fr  Sa  Su"
    assert "[23][24][25] 26x[27] 28  29     [28][29] 30  31" in grids
    assert " 18x[19] 20  21  22  23  24" in grids
    # The grids come after the list by week and before the days passed over.
    assert text.index("Week of Mon 18 Jan 2027") < text.index("Calendar: ")
    assert text.index("Calendar: ") < text.index("Days passed over")


def test_cancelled_days_and_the_legend() -> None:
    schedule = expand("standard-10hz")
    sessions = list(schedule.sessions)
    sessions[9] = sessions[9].evolve(status="cancelled")  # Mon 30 Nov
    sessions[10] = sessions[10].evolve(status="missed")  # still an appointment day
    changed = attrs.evolve(schedule, sessions=tuple(sessions))
    check(changed)
    text = changed.to_text()
    assert grid_lines(text)[0] == (
        "Calendar: [16] appointment day, 26x passed over (see below), 17- all cancelled"
    )
    assert read_grids(text)[dt.date(2026, 11, 30)] == "cancelled"
    assert read_grids(text)[dt.date(2026, 12, 1)] == "session"


def test_an_empty_schedule_has_no_grids() -> None:
    assert "Calendar" not in Schedule("c-1", "p", "UTC", ()).to_text()


def test_a_long_reason_wraps_under_itself() -> None:
    reason = "Staff training day, with the whole team away at the regional meeting all day " * 2
    clinic = attrs.evolve(CLINIC, closures=(Closure(dt.date(2026, 11, 18), reason=reason.strip()),))
    text = Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1").expand().to_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    tail = text.split("Days passed over\n")[1].splitlines()
    assert tail[0].startswith("  Wed 18 Nov 2026  Staff training day, with")
    assert tail[1].startswith(" " * 19) and tail[1].strip()
    assert " ".join(" ".join(tail[:3]).split()).endswith("regional meeting all day: clinic closed")
