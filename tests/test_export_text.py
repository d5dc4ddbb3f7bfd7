"""The terminal view's month grids: 80 columns, Monday first, exactly the session days marked.

The grids are read back here by position (two months side by side, four columns a day),
independently of how the text export builds them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import CLINIC, expand_or_skip, golden_start, recorded
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
MARKS = {
    ("[", "]"): "session",
    (" ", "x"): "skipped",
    (" ", "m"): "missed",
    (" ", "-"): "cancelled",
    (" ", " "): None,
}
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
    """A day with a session attended or to come is a session day; else missed beats all
    cancelled; a day passed over is marked only when no session is on it."""
    statuses: dict[dt.date, set[str]] = {}
    for s in schedule:
        statuses.setdefault(s.start.date(), set()).add(s.status)
    marks = {d.date: "skipped" for d in schedule.skipped}
    for day, found in statuses.items():
        if found & {"scheduled", "attended"}:
            marks[day] = "session"
        elif "missed" in found:
            marks[day] = "missed"
        else:
            marks[day] = "cancelled"
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


def test_cancelled_and_missed_days_and_the_legend() -> None:
    changed = recorded(
        expand("standard-10hz"),
        cancelled=[9],  # Mon 30 Nov
        missed=[10],  # Tue 1 Dec
    )
    check(changed)
    text = changed.to_text()
    assert grid_lines(text)[:2] == [
        "Calendar: [16] appointment day, 26x passed over (see below), 17m missed,",
        "          17- all cancelled",
    ]
    grids = read_grids(text)
    assert grids[dt.date(2026, 11, 30)] == "cancelled"
    assert grids[dt.date(2026, 12, 1)] == "missed"
    assert grids[dt.date(2026, 12, 2)] == "session"
    assert grid_lines(text)[5:] == [
        "                          1           1m[ 2][ 3][ 4]  5   6",
        "  2   3   4   5   6   7   8     [ 7][ 8][ 9][10][11] 12  13",
        "  9  10  11  12  13  14  15     [14][15][16][17][18] 19  20",
        "[16][17][18][19][20] 21  22     [21][22][23][24] 25x 26  27",
        "[23][24][25] 26x[27] 28  29     [28][29] 30  31",
        " 30-",
        "",
        "        January 2027",
        " Mo  Tu  We  Th  Fr  Sa  Su",
        "                  1   2   3",
        "[ 4]  5 [ 6]  7 [ 8]  9  10",
        "[11] 12  13 [14] 15  16  17",
        " 18x[19] 20  21  22  23  24",
        " 25  26  27  28  29  30  31",
        "",
    ]


def test_only_the_marks_in_use_are_in_the_legend() -> None:
    itbs = expand("itbs")
    missed_only = recorded(itbs, missed=[1]).to_text()
    assert grid_lines(missed_only)[0] == (
        "Calendar: [16] appointment day, 26x passed over (see below), 17m missed"
    )
    assert "17-" not in missed_only
    clinic = attrs.evolve(CLINIC, holidays=None)
    plain = Plan("itbs", clinic, "2026-11-16", "09:00", "c-1").expand()
    assert grid_lines(plain.to_text())[0] == "Calendar: [16] appointment day"
    cancelled = recorded(plain, cancelled=[0]).to_text()
    assert grid_lines(cancelled)[0] == "Calendar: [16] appointment day, 17- all cancelled"


def test_a_day_with_a_session_still_on_is_an_appointment_day() -> None:
    # SNT: ten sessions a day; one missed and one cancelled leave the day an appointment day.
    snt = recorded(expand("snt"), attended=[0], missed=[1], cancelled=[2])
    check(snt)
    assert read_grids(snt.to_text())[dt.date(2026, 11, 30)] == "session"
    # All ten missed or cancelled: missed names the day.
    all_off = recorded(expand("snt"), missed=[10], cancelled=list(range(11, 20)))
    check(all_off)
    assert read_grids(all_off.to_text())[dt.date(2026, 12, 1)] == "missed"


def test_the_header_counts_the_target_and_what_was_recorded() -> None:
    # 36 sessions: the first two attended, the third and fourth missed, the tenth cancelled,
    # and the two sessions that make up the misses added at the end (records 37 and 38).
    schedule = expand("standard-10hz")
    last = schedule.last
    extra = tuple(
        last.evolve(
            number=37 + k,
            phase_number=7 + k,
            start=last.start + dt.timedelta(days=k + 1),
            end=last.end + dt.timedelta(days=k + 1),
        )
        for k in range(2)
    )
    changed = recorded(
        attrs.evolve(schedule, sessions=(*schedule.sessions, *extra)),
        attended=[0, 1],
        missed=[2, 3],
        cancelled=[9],
    )
    assert changed.target == 36 and len(changed) == 38
    lines = changed.to_text().splitlines()
    assert lines[0] == "Course golden-standard-10hz - standard-10hz"
    assert lines[1] == "36 sessions: 2 delivered, 33 to come;"
    assert lines[2] == "  2 missed and 1 cancelled (1 not made up yet: re-plan)"
    assert lines[3] == "From Mon 16 Nov 2026 to Thu 21 Jan 2027 - times in America/Denver"
    assert "38 sessions" not in "\n".join(lines)
    check(changed)

    # All made up: one line.
    made_up = recorded(
        attrs.evolve(schedule, sessions=(*schedule.sessions, *extra)), attended=[0], missed=[2, 3]
    )
    assert made_up.to_text().splitlines()[:2] == [
        "Course golden-standard-10hz - standard-10hz",
        "36 sessions: 1 delivered, 35 to come; 2 missed (all made up)",
    ]
    # Nothing recorded: the plan's one-line header, with the target.
    assert schedule.to_text().splitlines()[0] == (
        "Course golden-standard-10hz - standard-10hz - 36 sessions"
    )


def test_sessions_are_listed_in_date_order() -> None:
    schedule = expand("standard-10hz")
    # A session moved to a later day comes after the ones it now follows.
    later = dt.timedelta(days=1, hours=2)  # Thu 19 Nov 09:00 to Fri 20 Nov 11:00
    moved = schedule[3].evolve(start=schedule[3].start + later, end=schedule[3].end + later)
    shuffled = attrs.evolve(
        schedule, sessions=(*reversed(schedule.sessions[4:]), moved, *schedule.sessions[:3])
    )
    text = shuffled.to_text()
    listed = [line for line in text.splitlines() if re.match(r" +\d+  \w{3} ", line)]
    numbers = [int(line.split()[0]) for line in listed]
    assert numbers == [1, 2, 3, 5, 4, *range(6, 37)]
    assert "    4  Fri 20 Nov  11:00-11:40  acute 4" in listed
    weeks = [line for line in text.splitlines() if line.startswith("Week of")]
    assert len(weeks) == len(set(weeks)) == 10  # each week once
    assert text.splitlines()[1].startswith("From Mon 16 Nov 2026 to Tue 19 Jan 2027")


@PROPERTY
@given(plans(), st.data())
def test_any_recorded_course_fits_and_marks_its_days(plan: Plan, data: st.DataObject) -> None:
    schedule = expand_or_skip(plan)
    statuses = data.draw(
        st.lists(
            st.sampled_from(("scheduled", "attended", "missed", "cancelled")),
            min_size=len(schedule),
            max_size=len(schedule),
        )
    )
    changed = attrs.evolve(
        schedule,
        sessions=tuple(s.evolve(status=k) for s, k in zip(schedule, statuses, strict=True)),
    )
    check(changed)
    header = changed.to_text().splitlines()
    if any(k != "scheduled" for k in statuses):
        assert " ".join(line.strip() for line in header[1:4]).startswith(str(changed.progress()))


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
