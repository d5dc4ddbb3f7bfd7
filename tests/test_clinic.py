"""ClinicCalendar: holidays and which close the clinic, closures, extra days, errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tms_schedule import (
    ClinicCalendar,
    Closure,
    ExtraOpenDay,
    InvalidClinicError,
    NoOpenDayError,
    OpeningHours,
    UnknownHolidayCountryError,
    UnknownTimezoneError,
)

THANKSGIVING = dt.date(2026, 11, 26)
COLUMBUS = dt.date(2026, 10, 12)  # Columbus Day is not a Colorado holiday; Cabrini Day is
CABRINI = dt.date(2026, 10, 5)
JULY_3 = dt.date(2026, 7, 3)  # Independence Day (observed): 4 July 2026 is a Saturday


def test_every_holiday_closes_by_default() -> None:
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    assert not clinic.is_open(THANKSGIVING)
    assert clinic.closure_reason(THANKSGIVING) == "Thanksgiving Day: clinic closed"
    assert not clinic.is_open(CABRINI)


def test_only_the_named_holidays_close() -> None:
    clinic = ClinicCalendar(
        "America/Denver", holidays="US-CO", closing_holidays=["Thanksgiving Day"]
    )
    assert not clinic.is_open(THANKSGIVING)
    assert clinic.is_open(CABRINI)


def test_all_but_the_named_holidays_close_names_matched_without_case() -> None:
    clinic = ClinicCalendar(
        "America/Denver",
        holidays="US-CO",
        open_holidays=["frances xavier cabrini day", "Veterans Day"],
    )
    assert clinic.is_open(CABRINI)
    assert clinic.is_open(dt.date(2026, 11, 11))
    assert not clinic.is_open(THANKSGIVING)


def test_observed_days_follow_their_holiday_and_can_be_turned_off() -> None:
    observed = ClinicCalendar("America/Denver", holidays="US")
    assert observed.closure_reason(JULY_3) == "Independence Day (observed): clinic closed"
    assert ClinicCalendar("America/Denver", holidays="US", observed=False).is_open(JULY_3)
    open_on_july_4th = ClinicCalendar(
        "America/Denver", holidays="US", open_holidays=["Independence Day"]
    )
    assert open_on_july_4th.is_open(JULY_3)  # the observed day belongs to its holiday


def test_holiday_names_do_not_depend_on_the_machine_locale() -> None:
    code = (
        "import datetime as dt, tms_schedule as t;"
        "print(t.ClinicCalendar('Europe/Berlin', holidays='DE-BY').closure_reason(dt.date(2026,12,25)))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "LANGUAGE": lang, "LC_ALL": lang, "LANG": lang},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for lang in ("de_DE.UTF-8", "C", "uk_UA.UTF-8")
    }
    assert outputs == {"Christmas Day: clinic closed\n"}


def test_holiday_language_can_be_pinned_explicitly() -> None:
    clinic = ClinicCalendar("Europe/Berlin", holidays="DE-BY", holiday_language="de")
    assert clinic.closure_reason(dt.date(2026, 12, 25)) == "Erster Weihnachtstag: clinic closed"


def test_closures_and_ranges_with_reasons() -> None:
    clinic = ClinicCalendar(
        "UTC",
        closures=[
            Closure(dt.date(2026, 12, 1), reason="Staff training"),
            Closure(dt.date(2026, 12, 21), dt.date(2026, 12, 31), "Winter break"),
        ],
    )
    assert clinic.closure_reason(dt.date(2026, 12, 1)) == "Staff training: clinic closed"
    assert clinic.open_days(dt.date(2026, 12, 18), dt.date(2027, 1, 4)) == [
        dt.date(2026, 12, 18),
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 4),
    ]
    assert [d for d, _ in clinic.closed_days(dt.date(2026, 12, 19), dt.date(2026, 12, 23))] == [
        dt.date(2026, 12, 21),
        dt.date(2026, 12, 22),
        dt.date(2026, 12, 23),
    ]


def test_extra_open_day_overrides_weekend_and_holiday() -> None:
    saturday = dt.date(2026, 11, 28)
    clinic = ClinicCalendar(
        "America/Denver",
        holidays="US-CO",
        extra_open_days=[ExtraOpenDay(saturday, "09:00-13:00"), ExtraOpenDay(THANKSGIVING)],
    )
    assert clinic.hours_on(saturday) == OpeningHours.parse("09:00-13:00")
    assert clinic.hours_on(THANKSGIVING) == clinic.hours
    assert clinic.closure_reason(saturday) is None


def test_next_open_has_an_explicit_direction() -> None:
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    assert clinic.next_open(THANKSGIVING) == dt.date(2026, 11, 27)
    assert clinic.next_open(THANKSGIVING, direction="previous") == dt.date(2026, 11, 25)
    assert clinic.next_open(dt.date(2026, 11, 27), inclusive=False) == dt.date(2026, 11, 30)


def test_per_weekday_hours() -> None:
    clinic = ClinicCalendar("UTC", weekday_hours={"Fri": "08:00-13:00"})
    assert str(clinic.hours_on(dt.date(2026, 11, 27))) == "08:00-13:00"
    assert str(clinic.hours_on(dt.date(2026, 11, 26))) == "08:00-18:00"


def test_holiday_lookups_are_cached_per_year() -> None:
    clinic = ClinicCalendar("America/Denver", holidays="US-CO")
    assert clinic.holiday_closures(2026) is clinic.holiday_closures(2026)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"timezone": "Mars/Olympus"},
            UnknownTimezoneError,
            "timezone: unknown IANA timezone 'Mars/Olympus'",
        ),
        ({"timezone": "../etc/passwd"}, UnknownTimezoneError, "timezone: unknown"),
        ({"holidays": "XX"}, UnknownHolidayCountryError, "holidays: unknown country 'XX'"),
        (
            {"holidays": "US-ZZ"},
            UnknownHolidayCountryError,
            "unknown subdivision 'ZZ' of US; allowed: AK",
        ),
        (
            {"holidays": "US", "closing_holidays": ["Festivus"]},
            InvalidClinicError,
            "closing_holidays: 'Festivus' is not a US holiday; known names: .*Thanksgiving Day",
        ),
        (
            {
                "holidays": "US",
                "closing_holidays": ["Christmas Day"],
                "open_holidays": ["Labor Day"],
            },
            InvalidClinicError,
            "give one or the other",
        ),
        (
            {"holidays": "DE", "holiday_language": "fr"},
            InvalidClinicError,
            "holiday_language: DE holiday names are available in",
        ),
        ({"open_holidays": ["Labor Day"]}, InvalidClinicError, "set holidays"),
        ({"open_weekdays": []}, NoOpenDayError, "open_weekdays: the clinic has no open weekday"),
        (
            {"open_weekdays": "Mon-Funday"},
            InvalidClinicError,
            "open_weekdays: 'Funday' is not a weekday",
        ),
        ({"open_weekdays": "Fri-Mon"}, InvalidClinicError, "runs backwards"),
        ({"hours": "18:00-08:00"}, InvalidClinicError, "opens \\(18:00\\) must be before closes"),
        (
            {"hours": "8am-6pm"},
            InvalidClinicError,
            "hours: must be a time written HH:MM .*got '8am'",
        ),
        (
            {"hours": "8 to 6"},
            InvalidClinicError,
            "hours: must be opening hours written HH:MM-HH:MM",
        ),
        ({"hours": "08:00-25:00"}, InvalidClinicError, "must be a time written HH:MM"),
        (
            {"weekday_hours": {"Sat": "09:00-12:00"}},
            InvalidClinicError,
            "weekday_hours: Sat is not an open weekday",
        ),
        (
            {"search_horizon_days": 0},
            InvalidClinicError,
            "search_horizon_days: must be a whole number from 7 to 3660",
        ),
    ],
)
def test_bad_clinic_input_names_the_field(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    kwargs = {"timezone": "America/Denver", **kwargs}
    with pytest.raises(error, match=message):
        ClinicCalendar(**kwargs)  # type: ignore[arg-type]


def test_bad_closures_name_the_field() -> None:
    with pytest.raises(InvalidClinicError, match="closure end: must be on or after start"):
        Closure(dt.date(2026, 12, 2), dt.date(2026, 12, 1))
    with pytest.raises(InvalidClinicError, match="closure start: must be a date written YYYY"):
        Closure("01/12/2026")  # type: ignore[arg-type]
    assert Closure("2026-12-01") == Closure(dt.date(2026, 12, 1))  # the ISO text of a date
    with pytest.raises(InvalidClinicError, match="closure reason"):
        Closure(dt.date(2026, 12, 1), reason="")


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "posix/UTC", " UTC"])
def test_only_real_iana_zones_are_timezones(name: str) -> None:
    """The machine's own zone ("localtime") and the database's other files are not zones:
    the library never depends on the machine it runs on."""
    with pytest.raises(UnknownTimezoneError, match="timezone: unknown IANA timezone"):
        ClinicCalendar(name)


def test_an_empty_holiday_subdivision_is_refused() -> None:
    with pytest.raises(UnknownHolidayCountryError, match="'US-' has an empty subdivision"):
        ClinicCalendar("UTC", holidays="US-")


@pytest.mark.parametrize("day", [dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(2400, 1, 1)])
def test_closures_and_extra_days_stay_within_the_years_a_calendar_covers(day: dt.date) -> None:
    with pytest.raises(InvalidClinicError, match="closure start: must be a date from 1900-01-01"):
        Closure(day)
    with pytest.raises(InvalidClinicError, match="closure end: must be a date from 1900-01-01"):
        Closure(dt.date(2026, 12, 1), day)
    with pytest.raises(InvalidClinicError, match="extra open day date: must be a date from"):
        ExtraOpenDay(day)


def test_a_day_past_the_calendar_is_a_named_error_not_an_overflow() -> None:
    clinic = ClinicCalendar("UTC")
    for look in (
        lambda: clinic.is_open(dt.date(9999, 12, 31)),
        lambda: clinic.next_open(dt.date(9999, 12, 30)),
        lambda: clinic.next_open(dt.date(1, 1, 2), direction="previous"),
    ):
        with pytest.raises(InvalidClinicError, match="outside the years a clinic calendar covers"):
            look()


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ClinicCalendar("Nowhere/Town")


# -- the index of days ---------------------------------------------------------------------


DENVER = ClinicCalendar("America/Denver", holidays="US-CO", weekday_hours={"Fri": "08:00-13:00"})


def test_each_day_says_its_hours_or_what_shuts_it() -> None:
    thursday = DENVER.day(THANKSGIVING)
    assert (thursday.hours, thursday.reason) == (None, "Thanksgiving Day: clinic closed")
    friday = DENVER.day(dt.date(2026, 11, 27))
    assert friday.hours == OpeningHours.parse("08:00-13:00") and friday.reason is None
    saturday = DENVER.day(dt.date(2026, 11, 28))
    assert (saturday.hours, saturday.reason) == (None, None)  # closed for its weekday alone
    assert friday.hours_id != DENVER.day(dt.date(2026, 11, 30)).hours_id
    assert DENVER.all_hours[friday.hours_id] == friday.hours
    assert friday.midnight == dt.datetime(2026, 11, 27, tzinfo=DENVER.zone)


def test_the_index_knows_the_days_whose_offset_changes() -> None:
    changing = [d.date for d in DENVER.days(dt.date(2026, 1, 1), dt.date(2026, 12, 31))]
    flagged = [d for d in changing if DENVER.day(d).offset_change]
    # 8 March and 1 November 2026, each with a day either side that shares a midnight.
    assert dt.date(2026, 3, 8) in flagged and dt.date(2026, 11, 1) in flagged
    assert all(
        abs((d - dt.date(2026, 3, 8)).days) <= 1 or abs((d - dt.date(2026, 11, 1)).days) <= 1
        for d in flagged
    )
    assert not any(
        d.offset_change
        for d in ClinicCalendar("Asia/Kolkata").days(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    )


def test_regular_days_leave_out_closed_weekdays_across_years() -> None:
    days = DENVER.regular_days(dt.date(2026, 12, 24), dt.date(2027, 1, 4))
    assert [(d.date.isoformat(), d.reason) for d in days] == [
        ("2026-12-24", None),
        ("2026-12-25", "Christmas Day: clinic closed"),
        ("2026-12-28", None),
        ("2026-12-29", None),
        ("2026-12-30", None),
        ("2026-12-31", None),
        ("2027-01-01", "New Year's Day: clinic closed"),
        ("2027-01-04", None),
    ]
    assert [d.date for d in DENVER.days(dt.date(2026, 12, 31), dt.date(2027, 1, 2))] == [
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 1),
        dt.date(2027, 1, 2),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(2027, 1, 1), dt.date(2026, 12, 31)),  # an empty range across a new year
        (dt.date(2026, 5, 5), dt.date(2026, 5, 4)),
    ],
)
def test_an_empty_range_holds_no_day(start: dt.date, end: dt.date) -> None:
    assert DENVER.days(start, end) == ()
    assert DENVER.regular_days(start, end) == ()
    assert DENVER.open_days(start, end) == []


def test_overlapping_closures_name_each_reason_once() -> None:
    start = dt.date(2026, 1, 1)
    closures = [Closure(start, start + dt.timedelta(days=3 * 365), "Renovation")] * 500 + [
        Closure(dt.date(2026, 3, 2), reason="Snow day")
    ]
    clinic = ClinicCalendar("UTC", closures=closures)
    assert clinic.closure_reason(dt.date(2026, 3, 2)) == (
        "Renovation: clinic closed; Snow day: clinic closed"
    )


def test_a_calendar_takes_a_bounded_number_of_closures() -> None:
    day = dt.date(2026, 1, 1)
    with pytest.raises(InvalidClinicError, match="at most 2000 of each"):
        ClinicCalendar("UTC", closures=[Closure(day)] * 2001)


_SPANS = st.lists(
    st.tuples(
        st.dates(dt.date(2025, 11, 1), dt.date(2028, 2, 1)),
        st.integers(0, 800),
        st.sampled_from(["Snow day", "Coil repair", "Staff training", "Move", "Flood"]),
    ),
    max_size=12,
)


@settings(deadline=None)  # building a calendar's years of days: slow on a loaded machine
@given(spans=_SPANS)
def test_closures_close_exactly_their_days_with_each_reason_once(
    spans: list[tuple[dt.date, int, str]],
) -> None:
    """Against the plain rule: a day is closed when a closure covers it, and says why."""
    closures = tuple(Closure(s, s + dt.timedelta(days=n), r) for s, n, r in spans)
    calendar = ClinicCalendar("UTC", open_weekdays=range(7), closures=closures)
    day = dt.date(2025, 10, 25)
    while day <= dt.date(2030, 6, 1):
        covering = [c.reason for c in closures if c.start <= day <= c.end]
        reason = calendar.day(day).reason
        if not covering:
            assert calendar.day(day).hours is not None and reason is None, day
        else:
            assert calendar.day(day).hours is None, day
            assert reason is not None
            distinct = set(covering)
            parts = reason.split("; ")
            if len(distinct) > 3:  # three named, the rest counted
                more = len(distinct) - 3
                assert parts.pop() == f"and {more} more closure{'s' if more > 1 else ''}"
                assert len(parts) == 3
            shown = {part.removesuffix(": clinic closed") for part in parts}
            assert shown <= distinct and len(shown) == min(len(distinct), 3), (day, reason)
        day += dt.timedelta(days=1)


def test_a_day_under_many_closures_names_three_and_counts_the_rest() -> None:
    closures = tuple(
        Closure(dt.date(2026, 1, 1) + dt.timedelta(days=k), dt.date(2027, 1, 1), f"Closure {k}")
        for k in range(40)
    )
    calendar = ClinicCalendar("UTC", closures=closures)
    assert calendar.day(dt.date(2026, 6, 1)).reason == (
        "Closure 0: clinic closed; Closure 1: clinic closed; Closure 2: clinic closed;"
        " and 37 more closures"
    )
    assert calendar.day(dt.date(2026, 1, 2)).reason == (
        "Closure 0: clinic closed; Closure 1: clinic closed"
    )


def test_a_closure_announced_later_wins_over_an_extra_open_day() -> None:
    saturday = dt.date(2026, 11, 28)
    clinic = ClinicCalendar(
        "America/Denver",
        extra_open_days=(ExtraOpenDay(saturday, "09:00-13:00", "Makeup", True),),
    )
    assert clinic.day(saturday).hours is not None
    snowed = clinic.with_closure(Closure(saturday, reason="Snow day"))
    assert snowed.day(saturday).hours is None
    assert snowed.closure_reason(saturday) == "Snow day: clinic closed"
    assert snowed.catch_up_days == frozenset()


def test_the_calendar_is_a_value_and_equal_calendars_share_one_index_of_days() -> None:
    """The store keeps one calendar per clinic and every course shares its index: the
    value holds what was given, the index what it gives, built once per year."""
    first = ClinicCalendar("America/Denver", holidays="US-CO", closures=[Closure("2026-12-01")])
    again = ClinicCalendar("America/Denver", holidays="US-CO", closures=(Closure("2026-12-01"),))
    assert first == again and hash(first) == hash(again)
    assert first._index is again._index  # built once, shared
    other = first.with_closure(Closure("2026-12-02"))
    assert other._index is not first._index and not first.is_open(dt.date(2026, 12, 1))
    assert first.is_open(dt.date(2026, 12, 2)) and not other.is_open(dt.date(2026, 12, 2))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.closures = ()  # type: ignore[misc]
    assert [a.name for a in attrs.fields(ClinicCalendar) if not a.init] == ["_index"]
