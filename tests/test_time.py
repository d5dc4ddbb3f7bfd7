"""The vocabulary of time: what an entry point accepts, opening hours, wall-clock and
elapsed time, minutes as numbers."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tms_schedule import ClinicCalendar, Course, CourseError, InvalidPlanError, Plan
from tms_schedule._time import (
    OpeningHours,
    add_elapsed,
    as_date,
    as_moment,
    as_time,
    day_minute,
    epoch_minute,
    in_zone,
    resolve_wall_time,
    subtract,
)
from tms_schedule.book import Book, Chair
from tms_schedule.errors import BookError, InvalidInputError

DENVER = zoneinfo.ZoneInfo("America/Denver")
CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")


# -- what an entry point accepts ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-12-14", dt.date(2026, 12, 14)])
def test_a_date_is_a_date_or_its_iso_text(value: object) -> None:
    assert as_date(value, "start") == dt.date(2026, 12, 14)


@pytest.mark.parametrize(
    "value",
    ["20261214", "2026-W51-1", "14/12/2026", "2026-02-30", dt.datetime(2026, 12, 14), 3, None],
)
def test_anything_else_is_not_a_date_and_the_error_names_the_field(value: object) -> None:
    with pytest.raises(CourseError, match="^start: must be a date written YYYY-MM-DD") as caught:
        as_date(value, "start", CourseError)
    assert caught.value.field == "start"


@pytest.mark.parametrize("value", ["9:00", "09:00", dt.time(9)])
def test_a_time_is_a_wall_clock_time_or_hh_mm(value: object) -> None:
    assert as_time(value, "at") == dt.time(9)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9 o'clock", "at: must be a time written HH:MM"),
        ("24:00", "at: must be a time written HH:MM"),
        ("9:5", "at: must be a time written HH:MM"),
        (dt.time(9, tzinfo=dt.UTC), "at: must be a local time of day without a timezone"),
        (900, "at: must be a time written HH:MM"),
    ],
)
def test_anything_else_is_not_a_time(value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        as_time(value, "at")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-16", "2026-11-16T00:00:00-07:00"),
        (dt.date(2026, 11, 16), "2026-11-16T00:00:00-07:00"),
        ("2026-11-16T09:00:00-07:00", "2026-11-16T09:00:00-07:00"),
        ("2026-11-16T16:00:00Z", "2026-11-16T16:00:00+00:00"),
        (dt.datetime(2026, 11, 16, 9, tzinfo=DENVER), "2026-11-16T09:00:00-07:00"),
    ],
)
def test_a_moment_is_an_aware_datetime_a_date_or_their_text(value: object, expected: str) -> None:
    assert as_moment(value, "now", DENVER).isoformat() == expected


@pytest.mark.parametrize(
    "value", ["2026-11-16T09:00", dt.datetime(2026, 11, 16, 9), "soon", 1_700_000_000]
)
def test_a_moment_without_its_zone_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="^now: must be .*with its time zone"):
        as_moment(value, "now", DENVER)


def test_without_a_zone_a_date_is_not_a_moment() -> None:
    with pytest.raises(InvalidInputError, match="^when: must be a date and time with its"):
        as_moment(dt.date(2026, 11, 16), "when", None)


def _book() -> Book:
    return Book(CLINIC, (Chair("c1"),))


#: Each public entry point that takes a date, a time or a moment, called with text.
ENTRY_POINTS: dict[str, Callable[[], object]] = {
    "Plan": lambda: Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1"),
    "Plan.expand not_before": lambda: Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1").expand(
        not_before="2026-12-15"
    ),
    "Course.replan": lambda: Course.start(Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1")).replan(
        "2026-12-14"
    ),
    "Course.attended": lambda: Course.start(
        Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1")
    ).attended(1, at="2026-12-14T09:05:00-07:00", now="2026-12-14T12:00:00-07:00"),
    "Course.moved": lambda: Course.start(Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1")).moved(
        3, "2026-12-16T11:00:00-07:00", now="2026-12-14"
    ),
    "Book.offers": lambda: _book().offers("itbs", "2026-12-14", "9:00"),
    "Book.enter_closure": lambda: _book().enter_closure(
        "2026-12-14", "2026-12-15", reason="Snow", now="2026-12-13"
    ),
    "Book.day_sheet": lambda: _book().day_sheet("2026-12-14"),
}


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_every_entry_point_takes_dates_times_and_moments_as_text(name: str) -> None:
    assert ENTRY_POINTS[name]() is not None


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Plan("itbs", CLINIC, "14.12.2026", "9:00", "c-1"), InvalidPlanError, "^start: "),
        (lambda: Plan("itbs", CLINIC, "2026-12-14", "nine", "c-1"), InvalidPlanError, "^at: "),
        (
            lambda: Course.start(Plan("itbs", CLINIC, "2026-12-14", "9:00", "c-1")).replan(
                "monday"
            ),
            CourseError,
            "^start: must be a date or a date and time with its time zone",
        ),
        (lambda: _book().offers("itbs", "2026-12-14", "9h"), BookError, "^at: "),
        (
            lambda: _book().enter_closure("next week", reason="Snow", now="2026-12-13"),
            BookError,
            "^first: ",
        ),
        (
            lambda: _book().enter_closure("2026-12-14", reason="Snow", now="noon"),
            BookError,
            "^now: ",
        ),
    ],
)
def test_every_entry_point_refuses_other_forms_in_its_own_error(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()


# -- opening hours --------------------------------------------------------------------------------


def test_a_session_fits_the_hours_only_inside_them_and_on_one_day() -> None:
    hours = OpeningHours.parse("08:00-18:00")

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=DENVER)

    assert hours.holds(at(16, 8), at(16, 9))
    assert hours.holds(at(16, 17, 20), at(16, 18))
    assert not hours.holds(at(16, 7, 59), at(16, 9))
    assert not hours.holds(at(16, 17, 30), at(16, 18, 10))
    assert not hours.holds(at(16, 17), at(17, 9))


# -- wall-clock time and elapsed time -------------------------------------------------------------


def test_the_dst_rule_moves_a_missing_time_forward_and_takes_a_repeated_one_first() -> None:
    spring = resolve_wall_time(dt.date(2026, 3, 8), dt.time(2, 30), DENVER)
    assert spring.isoformat() == "2026-03-08T03:30:00-06:00"
    fall = resolve_wall_time(dt.date(2026, 11, 1), dt.time(1, 30), DENVER)
    assert fall.isoformat() == "2026-11-01T01:30:00-06:00" and fall.fold == 0
    assert resolve_wall_time(dt.date(2026, 7, 1), dt.time(9), DENVER).hour == 9


def test_elapsed_time_keeps_an_appointment_s_length_across_a_change() -> None:
    start = dt.datetime(2026, 11, 1, 1, 30, tzinfo=DENVER)  # MDT, the first 01:30
    end = add_elapsed(start, dt.timedelta(minutes=40), DENVER)
    assert end.isoformat() == "2026-11-01T01:10:00-07:00"  # MST, the clocks went back
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(minutes=40)


def test_a_moment_in_the_zone_is_read_by_way_of_utc() -> None:
    gap = dt.datetime(2026, 3, 8, 2, 30, tzinfo=DENVER)
    assert in_zone(gap, DENVER).isoformat() == "2026-03-08T03:30:00-06:00"


# -- minutes as numbers ---------------------------------------------------------------------------


def test_an_epoch_minute_and_a_day_minute_are_different_numbers_of_one_moment() -> None:
    moment = dt.datetime(2026, 11, 16, 9, 30, tzinfo=DENVER)
    assert day_minute(moment.time()) == 570
    assert epoch_minute(moment) == int(moment.timestamp()) // 60


_spans = st.lists(
    st.tuples(st.integers(-50, 150), st.integers(0, 60)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=8,
)


@given(_spans)
def test_subtracting_leaves_exactly_the_minutes_no_stretch_covers(
    busy: list[tuple[int, int]],
) -> None:
    free = subtract((0, 100), busy)
    covered = {m for b0, b1 in busy for m in range(b0, b1)}
    assert {m for f0, f1 in free for m in range(f0, f1)} == set(range(100)) - covered
    assert all(f0 < f1 for f0, f1 in free)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(free))  # apart, in order
