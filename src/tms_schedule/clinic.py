"""ClinicCalendar: where and when sessions can happen.

A clinic calendar holds the IANA timezone, the open weekdays and their opening hours, the
public holidays (from the ``holidays`` package, names pinned to one language) and which of
them close the clinic, the clinic's own closures and its extra open days. Build it once and
reuse it for thousands of plans: it builds, once per year, an index of its days
(:class:`CalendarDay`: the hours, the holiday or closure that shuts an open weekday, whether
the UTC offset changes), which plans walk with :meth:`ClinicCalendar.regular_days`.

The vocabulary follows session calendars: :meth:`ClinicCalendar.is_open`,
:meth:`ClinicCalendar.closure_reason`, :meth:`ClinicCalendar.next_open` (with an explicit
``direction``), :meth:`ClinicCalendar.open_days` (inclusive range) and
:meth:`ClinicCalendar.hours_on`.

>>> import datetime as dt
>>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
>>> clinic.is_open(dt.date(2026, 11, 26))
False
>>> clinic.closure_reason(dt.date(2026, 11, 26))
'Thanksgiving Day: clinic closed'
>>> clinic.next_open(dt.date(2026, 11, 26))
datetime.date(2026, 11, 27)
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import attrs

from tms_schedule._time import OpeningHours, as_date
from tms_schedule._validate import check_text, field_name, int_in_range, is_whole
from tms_schedule.errors import (
    HolidayDataError,
    InvalidClinicError,
    NoOpenDayError,
    UnknownHolidayCountryError,
    UnknownTimezoneError,
)

if TYPE_CHECKING:
    from holidays import HolidayBase

__all__ = [
    "DEFAULT_SEARCH_HORIZON_DAYS",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "MAX_CLOSURES",
    "CalendarDay",
    "ClinicCalendar",
    "Closure",
    "ExtraOpenDay",
    "OpeningHours",
    "iana_zone_names",
    "offset_change_days",
    "parse_weekdays",
]

#: How far :meth:`ClinicCalendar.next_open` and plan expansion look for an open day before
#: giving up with :class:`~tms_schedule.errors.NoOpenDayError`.
DEFAULT_SEARCH_HORIZON_DAYS = 366

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_LOOKUP = {
    **{name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name.lower(): i for i, name in enumerate(WEEKDAY_FULL)},
}
#: The most closures (and extra open days) one calendar takes: a clinic's own closures for
#: many years, written as ranges, stay far below it.
MAX_CLOSURES = 2000
_DAY = dt.timedelta(days=1)
# Holiday names are validated against the names the data gives over these years.
_NAME_YEARS = range(2000, 2051)
#: The dates a closure or an extra open day may fall on: far wider than any course (plans
#: start from 1970 to 2199), and far enough from the ends of the calendar for date
#: arithmetic around them to hold.
EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2399, 12, 31)


def _hours(value: Any) -> Any:
    return OpeningHours.parse(value) if isinstance(value, str) else value


def _optional_hours(value: Any) -> Any:
    return None if value is None else _hours(value)


def _date(value: Any) -> Any:
    """Converter: ISO text becomes a date; anything else is left to the validator."""
    if isinstance(value, str):
        try:
            return as_date(value, "date", InvalidClinicError)
        except InvalidClinicError:
            return value
    return value


def _check_date(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    field = field_name(instance, attribute)
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidClinicError(
            f"{field}: must be a date written YYYY-MM-DD, got {value!r}", field=field
        )
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidClinicError(
            f"{field}: must be a date from {EARLIEST_DATE} to {LATEST_DATE}, got {value}",
            field=field,
        )


def _reason(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    # The reason reaches every schedule's passed-over days: checked as their loader checks.
    check_text(value, field_name(instance, attribute), InvalidClinicError)


@attrs.frozen
class Closure:
    """The clinic is closed from ``start`` to ``end`` inclusive (a single day by default).

    The dates are dates or text written ``YYYY-MM-DD``; anything else, an end before the
    start or a closure of more than three years raises
    :class:`~tms_schedule.errors.InvalidClinicError` naming the field (``closure end``).
    """

    start: dt.date = attrs.field(converter=_date, validator=_check_date)
    end: dt.date = attrs.field(
        default=attrs.Factory(lambda self: self.start, takes_self=True),
        converter=_date,
        validator=_check_date,
    )
    reason: str = attrs.field(default="Clinic closure", validator=_reason)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidClinicError(
                f"closure end: must be on or after start ({self.start}), got {self.end}"
            )
        if (self.end - self.start).days > 3 * 366:
            raise InvalidClinicError(
                f"closure end: a closure may last at most three years, got {self.start} to"
                f" {self.end}"
            )


@attrs.frozen
class ExtraOpenDay:
    """The clinic opens on ``date`` though it is usually closed (a makeup Saturday).

    ``hours`` defaults to the clinic's ``hours``. An extra open day overrides a holiday or a
    closure on the same date. With ``catch_up_only`` the day is kept for catching up on
    missed sessions (the course's ``extra-day`` re-planning policy) and plans do not book
    regular sessions on it.
    """

    date: dt.date = attrs.field(converter=_date, validator=_check_date)
    hours: OpeningHours | None = attrs.field(default=None, converter=_optional_hours)
    reason: str = attrs.field(default="Extra open day", validator=_reason)
    catch_up_only: bool = False


def parse_weekdays(value: Any, field: str = "open_weekdays") -> tuple[int, ...]:
    """Weekdays as numbers (Monday 0), from names, numbers or a range like ``"Mon-Fri"``.

    >>> parse_weekdays("Mon-Fri")
    (0, 1, 2, 3, 4)
    >>> parse_weekdays(["Tue", "thursday", 5])
    (1, 3, 5)

    Raises:
        InvalidClinicError: anything that is not weekdays, naming ``field``.
    """
    allowed = "weekday names (Mon..Sun), numbers 0 (Monday) to 6, or a range like 'Mon-Fri'"
    items: Iterable[Any]
    if isinstance(value, str):
        if "-" in value and "," not in value:
            first, _, last = value.partition("-")
            start, end = _weekday(first, field, allowed), _weekday(last, field, allowed)
            if end < start:
                raise InvalidClinicError(f"{field}: range {value!r} runs backwards; use {allowed}")
            return tuple(range(start, end + 1))
        items = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise InvalidClinicError(f"{field}: must be {allowed}, got {value!r}")
    days = sorted({_weekday(item, field, allowed) for item in items})
    return tuple(days)


def _weekday(item: Any, field: str, allowed: str) -> int:
    if is_whole(item) and 0 <= item <= 6:
        return item
    if isinstance(item, str) and item.strip().lower() in _WEEKDAY_LOOKUP:
        return _WEEKDAY_LOOKUP[item.strip().lower()]
    raise InvalidClinicError(f"{field}: {item!r} is not a weekday; use {allowed}")


def _weekday_hours(value: Any) -> tuple[tuple[int, OpeningHours], ...]:
    if isinstance(value, Mapping):
        pairs = [
            (_weekday(key, "weekday_hours", "weekday names or numbers"), _hours(hours))
            for key, hours in value.items()
        ]
    else:
        pairs = [
            (_weekday(key, "weekday_hours", "weekday names or numbers"), _hours(hours))
            for key, hours in value
        ]
    for _, hours in pairs:
        if not isinstance(hours, OpeningHours):
            raise InvalidClinicError(
                f"weekday_hours: must map weekdays to hours like '08:00-13:00', got {hours!r}"
            )
    return tuple(sorted(pairs))


def _names(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@functools.lru_cache(maxsize=256)
def _shared_index(calendar: ClinicCalendar) -> _DayIndex:
    return _DayIndex(calendar)


def _index_of(calendar: ClinicCalendar) -> _DayIndex:
    """The index of ``calendar``'s days: the one already built for an equal calendar (the
    cache is keyed by the calendar's value, so every course of a clinic shares one), or a
    new one. Building it checks the calendar: a calendar that exists is valid."""
    try:
        hash(calendar)
    except TypeError:  # a field that cannot be a key (a list given for a name): checked here
        return _DayIndex(calendar)
    return _shared_index(calendar)


@attrs.frozen
class ClinicCalendar:
    """Where and when sessions can happen.

    Args:
        timezone: IANA zone name, such as ``"America/Denver"``.
        open_weekdays: the weekdays the clinic opens (default Monday to Friday).
        hours: opening hours on open days (default 08:00-18:00).
        weekday_hours: hours for particular weekdays, e.g. ``{"Fri": "08:00-13:00"}``.
        holidays: ``"CC"`` or ``"CC-SUBDIV"`` for the ``holidays`` package (``"US-CO"``), or
            ``None`` for no public holidays.
        holiday_language: the language of holiday names; default ``en_US`` where the data
            has it, else the country's own language, never the machine's locale.
        closing_holidays: only these holidays close the clinic (by name); default all.
        open_holidays: all holidays close the clinic but these (by name).
        observed: whether observed days (a Sunday holiday moved to Monday) close it too.
        closures: the clinic's own closures, each a date or range with a reason.
        extra_open_days: days it opens though usually closed.
        search_horizon_days: how many days ahead to look for an open day before failing.

    Raises:
        UnknownTimezoneError: a timezone the zone database does not know.
        UnknownHolidayCountryError: a holiday country or subdivision the data does not know.
        NoOpenDayError: no open weekday and no extra open day.
        InvalidClinicError: any other setting outside what is allowed, naming it.
    """

    timezone: str = attrs.field()
    open_weekdays: tuple[int, ...] = attrs.field(default=(0, 1, 2, 3, 4), converter=parse_weekdays)
    hours: OpeningHours = attrs.field(
        default=OpeningHours(dt.time(8), dt.time(18)), converter=_hours
    )
    weekday_hours: tuple[tuple[int, OpeningHours], ...] = attrs.field(
        default=(), converter=_weekday_hours
    )
    holidays: str | None = None
    holiday_language: str | None = None
    closing_holidays: tuple[str, ...] | None = attrs.field(default=None, converter=_names)
    open_holidays: tuple[str, ...] = attrs.field(default=(), converter=_names)
    observed: bool = True
    closures: tuple[Closure, ...] = attrs.field(default=(), converter=_tuple)
    extra_open_days: tuple[ExtraOpenDay, ...] = attrs.field(default=(), converter=_tuple)
    search_horizon_days: int = DEFAULT_SEARCH_HORIZON_DAYS

    # What the calendar gives, worked out once and shared by every equal calendar (see
    # _DayIndex); not part of the value.
    _index: _DayIndex = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(_index_of, takes_self=True),
    )

    # -- public vocabulary ---------------------------------------------------------------------

    def with_closure(self, closure: Closure) -> ClinicCalendar:
        """The calendar with ``closure`` added, announced now: it wins over the extra open
        days it covers (a catch-up Saturday that snows), which are taken out.

        (In a settings file an extra open day wins over a closure on its date, because both
        are planned together; a closure entered later is news.)

        Raises:
            InvalidClinicError: ``closure`` is not a :class:`Closure`.
        """
        if not isinstance(closure, Closure):
            raise InvalidClinicError(f"closure: must be a Closure, got {closure!r}")
        kept = tuple(e for e in self.extra_open_days if not closure.start <= e.date <= closure.end)
        return attrs.evolve(self, closures=(*self.closures, closure), extra_open_days=kept)

    @property
    def catch_up_days(self) -> frozenset[dt.date]:
        """Extra open days kept for catching up: plans do not book regular sessions there."""
        return frozenset(e.date for e in self.extra_open_days if e.catch_up_only)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The clinic's :class:`zoneinfo.ZoneInfo`."""
        return self._index.zone

    @property
    def week(self) -> tuple[OpeningHours | None, ...]:
        """Opening hours for Monday to Sunday (``None`` on closed weekdays)."""
        return self._index.week

    @property
    def all_hours(self) -> tuple[OpeningHours, ...]:
        """Each distinct opening hours of the calendar: the weekdays', then the extra days'."""
        return self._index.all_hours

    @property
    def open_days_in_a_row(self) -> int:
        """The most consecutive days the weekly pattern opens (7: every day).

        >>> ClinicCalendar("UTC").open_days_in_a_row
        5
        """
        return self._index.in_a_row

    def day(self, date: dt.date) -> CalendarDay:
        """What ``date`` is for the clinic: its hours, or the holiday or closure that shuts it.

        >>> day = ClinicCalendar("America/Denver", holidays="US-CO").day(dt.date(2026, 11, 26))
        >>> day.hours, day.reason
        (None, 'Thanksgiving Day: clinic closed')
        """
        return self._index.day(date)

    def days_from(self, start: dt.date) -> Iterator[CalendarDay]:
        """Every day from ``start`` on, in order and without end: the caller bounds the walk."""
        return self._index.days_from(start)

    def days(self, start: dt.date, end: dt.date) -> tuple[CalendarDay, ...]:
        """The days from ``start`` to ``end``, both included.

        >>> [d.date.day for d in ClinicCalendar("UTC").days(dt.date(2026, 11, 27), dt.date(2026, 11, 30)) if d.hours]
        [27, 30]
        """
        return self._index.days(start, end)

    def regular_days(self, start: dt.date, end: dt.date) -> tuple[CalendarDay, ...]:
        """The days from ``start`` to ``end`` (both included) that the clinic does not close
        for their weekday alone: the open days and the holidays and closures that shut an
        open weekday. Plans walk these, passing over closed weekdays without a look.

        >>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
        >>> [(d.date.day, d.reason) for d in clinic.regular_days(dt.date(2026, 11, 26), dt.date(2026, 11, 30))]
        [(26, 'Thanksgiving Day: clinic closed'), (27, None), (30, None)]
        """
        return self._index.regular_days(start, end)

    def hours_on(self, day: dt.date) -> OpeningHours | None:
        """The opening hours on ``day``, or ``None`` when the clinic is closed."""
        return self.day(day).hours

    def is_open(self, day: dt.date) -> bool:
        """Whether sessions can happen on ``day`` at all."""
        return self.day(day).hours is not None

    def holds(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether a session from ``start`` to ``end`` (in the clinic's zone) can happen:
        the clinic is open on its day (a catch-up day too) and it lies inside the hours.

        >>> import zoneinfo
        >>> zone = zoneinfo.ZoneInfo("UTC")
        >>> ClinicCalendar("UTC").holds(
        ...     dt.datetime(2026, 11, 16, 17, 30, tzinfo=zone), dt.datetime(2026, 11, 16, 18, 10, tzinfo=zone)
        ... )
        False
        """
        hours = self.day(start.date()).hours
        return hours is not None and hours.holds(start, end)

    def closure_reason(self, day: dt.date) -> str | None:
        """Why the clinic is closed on ``day`` (``None`` when it is open).

        >>> ClinicCalendar("UTC").closure_reason(dt.date(2026, 11, 28))
        'closed on Saturdays'
        """
        entry = self.day(day)
        if entry.hours is not None:
            return None
        if entry.reason is not None:
            return entry.reason
        # A closed weekday; a holiday or closure on it is still named.
        closed = self._index.year(day.year).closed
        reasons = [
            r for r in (self._index.holiday_closures(day.year).get(day), closed.get(day)) if r
        ]
        return "; ".join(reasons) if reasons else f"closed on {WEEKDAY_FULL[day.weekday()]}s"

    def is_regular_closed(self, day: dt.date) -> bool:
        """Closed because of the weekday alone (not a holiday or closure)."""
        return self._index.week[day.weekday()] is None and day not in self._index.extra

    def next_open(
        self,
        day: dt.date,
        *,
        direction: Literal["next", "previous"] = "next",
        inclusive: bool = True,
    ) -> dt.date:
        """The nearest open day on or after ``day`` (or before, with ``direction="previous"``).

        Raises :class:`NoOpenDayError` when none lies within :attr:`search_horizon_days`.

        Raises:
            NoOpenDayError: no open day within :attr:`search_horizon_days`.
            InvalidClinicError: a ``direction`` other than ``next`` or ``previous``.
        """
        if direction not in ("next", "previous"):
            raise InvalidClinicError(f"direction: must be 'next' or 'previous', got {direction!r}")
        step = dt.timedelta(days=1 if direction == "next" else -1)
        candidate = day if inclusive else day + step
        for _ in range(self.search_horizon_days + 1):
            if self.is_open(candidate):
                return candidate
            candidate += step
        raise NoOpenDayError(
            f"no open day within {self.search_horizon_days} days {'after' if step.days > 0 else 'before'}"
            f" {day}; check open_weekdays, closures and closing holidays"
        )

    def open_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The open days from ``start`` to ``end``, both included."""
        return [day.date for day in self.days(start, end) if day.hours is not None]

    def closed_days(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
        """Holidays and closures from ``start`` to ``end`` (inclusive), with their reasons.

        Days closed only because of the weekday are left out.
        """
        return [(day.date, day.reason) for day in self.days(start, end) if day.reason is not None]

    # -- holidays ------------------------------------------------------------------------------

    @property
    def holiday_span(self) -> tuple[int, int] | None:
        """The first and last year the holiday data covers (``None`` without holidays)."""
        return self._index.holiday_span

    def check_covered(self, day: dt.date) -> None:
        """Raise :class:`HolidayDataError` if the holiday data does not cover ``day``.

        Raises:
            HolidayDataError: ``day`` is outside the years the holiday data covers.
        """
        span = self._index.holiday_span
        if span is not None and not span[0] <= day.year <= span[1]:
            raise HolidayDataError(
                f"holidays: the {self.holidays} holiday data covers {span[0]} to {span[1]};"
                f" {day} is outside it, so closures there are unknown"
            )

    def holiday_closures(self, year: int) -> dict[dt.date, str]:
        """The holidays of ``year`` that close the clinic, with reasons (cached per year)."""
        return self._index.holiday_closures(year)

    def holiday_names(self, year: int) -> dict[dt.date, list[str]]:
        """All public holidays of ``year`` by date (closing the clinic or not)."""
        return self._index.holiday_names(year)


class _DayIndex:
    """What a clinic calendar gives, worked out once: its zone and week, and an index of
    its days built once per year (:class:`CalendarDay`), with the holidays that close it.

    The calendar value stays as it was given; this is its cache, shared by every equal
    calendar (:func:`_index_of`), so the courses of one clinic share one index. The years
    fill in as they are first asked for.
    """

    def __init__(self, calendar: ClinicCalendar) -> None:
        self.calendar = calendar
        self.zone = _zone(calendar.timezone)
        if not calendar.open_weekdays and not calendar.extra_open_days:
            raise NoOpenDayError(
                "open_weekdays: the clinic has no open weekday and no extra open day;"
                " give at least one weekday (Mon..Sun)"
            )
        overrides = dict(calendar.weekday_hours)
        stray = sorted(set(overrides) - set(calendar.open_weekdays))
        if stray:
            names = ", ".join(WEEKDAY_NAMES[d] for d in stray)
            raise InvalidClinicError(
                f"weekday_hours: {names} is not an open weekday; open weekdays:"
                f" {', '.join(WEEKDAY_NAMES[d] for d in calendar.open_weekdays)}"
            )
        if not isinstance(calendar.hours, OpeningHours):
            raise InvalidClinicError(
                f"hours: must be opening hours like '08:00-18:00', got {calendar.hours!r}"
            )
        week = tuple(
            overrides.get(day, calendar.hours) if day in calendar.open_weekdays else None
            for day in range(7)
        )
        self.week = week
        if len(calendar.closures) > MAX_CLOSURES or len(calendar.extra_open_days) > MAX_CLOSURES:
            raise InvalidClinicError(
                f"closures/extra_open_days: a calendar takes at most {MAX_CLOSURES} of each,"
                f" got {len(calendar.closures)} closures and {len(calendar.extra_open_days)} extra days;"
                " merge neighbouring closures into ranges"
            )
        for closure in calendar.closures:
            if not isinstance(closure, Closure):
                raise InvalidClinicError(f"closures: must hold Closure objects, got {closure!r}")
        extra: dict[dt.date, ExtraOpenDay] = {}
        for item in calendar.extra_open_days:
            if not isinstance(item, ExtraOpenDay):
                raise InvalidClinicError(
                    f"extra_open_days: must hold ExtraOpenDay objects, got {item!r}"
                )
            extra[item.date] = item
        self.extra = extra
        hours = [h for h in week if h is not None] + [
            e.hours or calendar.hours for e in extra.values()
        ]
        self.all_hours = tuple(dict.fromkeys(hours))
        is_open = [h is not None for h in week]
        runs = [
            next((k for k in range(7) if not is_open[(first + k) % 7]), 7)
            for first in range(7)
            if is_open[first]
        ]
        self.in_a_row = max(runs, default=0)
        int_in_range(
            calendar.search_horizon_days, "search_horizon_days", 7, 3660, InvalidClinicError
        )
        self._holiday_years: dict[int, dict[dt.date, str]] = {}
        self._years: dict[int, _Year] = {}
        self._holiday_data: tuple[HolidayBase, HolidayBase | None] | None = None
        self.holiday_span: tuple[int, int] | None = None
        if calendar.holidays is not None:
            self._load_holidays(calendar)
        elif calendar.closing_holidays is not None or calendar.open_holidays:
            raise InvalidClinicError(
                "closing_holidays/open_holidays: set holidays (a country such as 'US-CO') first"
            )

    def year(self, number: int) -> _Year:
        """The index of a year's days, built when first asked for."""
        return self._years.get(number) or self._year(number)

    def day(self, date: dt.date) -> CalendarDay:
        year = self._years.get(date.year) or self._year(date.year)
        return year.days[date.toordinal() - year.first]

    def days_from(self, start: dt.date) -> Iterator[CalendarDay]:
        year = self._years.get(start.year) or self._year(start.year)
        yield from itertools.islice(year.days, start.toordinal() - year.first, None)
        number = start.year + 1
        while True:
            yield from (self._years.get(number) or self._year(number)).days
            number += 1

    def days(self, start: dt.date, end: dt.date) -> tuple[CalendarDay, ...]:
        if end < start:
            return ()
        year = self._years.get(start.year) or self._year(start.year)
        if start.year == end.year:
            return year.days[start.toordinal() - year.first : end.toordinal() - year.first + 1]
        return year.days[start.toordinal() - year.first :] + self.days(
            dt.date(start.year + 1, 1, 1), end
        )

    def regular_days(self, start: dt.date, end: dt.date) -> tuple[CalendarDay, ...]:
        if end < start:
            return ()
        year = self._years.get(start.year) or self._year(start.year)
        low = year.position[start.toordinal() - year.first]
        if start.year == end.year:
            offset = end.toordinal() - year.first + 1
            high = year.position[offset] if offset < len(year.position) else len(year.regular)
            return year.regular[low:high]
        return year.regular[low:] + self.regular_days(dt.date(start.year + 1, 1, 1), end)

    def _year(self, number: int) -> _Year:
        """Every day of a year, built once: plans walk the days by the hundred."""
        if not dt.MINYEAR < number < dt.MAXYEAR:  # the days around it must exist too
            raise InvalidClinicError(
                f"date: {number} is outside the years a clinic calendar covers"
                f" ({dt.MINYEAR + 1} to {dt.MAXYEAR - 1})"
            )
        first = dt.date(number, 1, 1).toordinal()
        changes = offset_change_days(self.zone, number)
        closed = self._closed_in(number)
        holidays = self.holiday_closures(number)
        week, extras, zone, midnight = self.week, self.extra, self.zone, dt.time(0)
        ids = {hours: n for n, hours in enumerate(self.all_hours)}
        week_ids = [-1 if hours is None else ids[hours] for hours in week]
        days: list[CalendarDay] = []
        regular: list[CalendarDay] = []
        position: list[int] = []
        for ordinal in range(first, dt.date(number, 12, 31).toordinal() + 1):
            day = dt.date.fromordinal(ordinal)
            weekday = day.weekday()
            hours, hours_id, reason, catch_up = week[weekday], week_ids[weekday], None, False
            extra = extras.get(day)
            if extra is not None:
                hours, catch_up = extra.hours or self.calendar.hours, extra.catch_up_only
                hours_id = ids[hours]
            elif hours is not None and (day in holidays or day in closed):
                hours, hours_id = None, -1
                reason = "; ".join(r for r in (holidays.get(day), closed.get(day)) if r)
            entry = CalendarDay(
                day,
                hours,
                reason,
                day in changes,
                catch_up,
                dt.datetime.combine(day, midnight, tzinfo=zone),
                hours_id,
            )
            days.append(entry)
            position.append(len(regular))
            if hours is not None or reason is not None:
                regular.append(entry)
        year = _Year(first, tuple(days), closed, tuple(regular), tuple(position))
        self._years[number] = year
        return year

    def _closed_in(self, number: int) -> dict[dt.date, str]:
        """The clinic's own closures in a year, with their reasons (each reason once; past
        three, a count). One sweep over the year: the time grows with the closures and the
        days, not with how much the closures overlap."""
        first, last = dt.date(number, 1, 1), dt.date(number, 12, 31)
        changes: dict[dt.date, list[tuple[int, str]]] = {}
        for closure in self.calendar.closures:
            if closure.end < first or closure.start > last:
                continue
            start, end = max(closure.start, first), min(closure.end, last)
            changes.setdefault(start, []).append((1, closure.reason))
            changes.setdefault(end + _DAY, []).append((-1, closure.reason))
        closed: dict[dt.date, str] = {}
        active: dict[str, int] = {}  # reason -> closures giving it, in the order they began
        text = ""
        for day in sorted(changes):
            if day > last:
                break
            if active:  # the days since the last change, up to this one
                fill = day - _DAY
                while fill not in closed and fill >= first:
                    closed[fill] = text
                    fill -= _DAY
            for step, reason in changes[day]:
                count = active.get(reason, 0) + step
                if count:
                    active[reason] = count
                else:
                    del active[reason]
            text = _closure_text(list(active)) if active else ""
            if active:
                closed[day] = text
        if active:
            day = last
            while day not in closed:
                closed[day] = text
                day -= _DAY
        return dict(sorted(closed.items()))

    def holiday_closures(self, year: int) -> dict[dt.date, str]:
        """The holidays of ``year`` that close the clinic, with reasons (cached per year)."""
        cached = self._holiday_years.get(year)
        if cached is not None:
            return cached
        result: dict[dt.date, str] = {}
        span = self.holiday_span
        if self._holiday_data is not None and span is not None and span[0] <= year <= span[1]:
            for day, names in self._holidays_of(year).items():
                closing = [name for name, base in names if self._closes(base)]
                if closing:
                    result[day] = f"{'; '.join(closing)}: clinic closed"
        self._holiday_years[year] = result
        return result

    def holiday_names(self, year: int) -> dict[dt.date, list[str]]:
        return {day: [name for name, _ in names] for day, names in self._holidays_of(year).items()}

    def _closes(self, base: str) -> bool:
        key = base.casefold()
        if self.calendar.closing_holidays is not None:
            return key in {n.casefold() for n in self.calendar.closing_holidays}
        return key not in {n.casefold() for n in self.calendar.open_holidays}

    def _holidays_of(self, year: int) -> dict[dt.date, list[tuple[str, str]]]:
        """Each holiday of ``year`` as (name, base name): observed days name their holiday."""
        assert self._holiday_data is not None
        actual, with_observed = self._holiday_data
        source = with_observed if with_observed is not None else actual
        # Populate both for the year (the holidays package fills in a year on first lookup).
        dt.date(year, 1, 1) in actual  # noqa: B015
        dt.date(year, 1, 1) in source  # noqa: B015
        actual_names = sorted(
            {name for day, name in actual.items() if day.year == year for name in name.split("; ")},
            key=len,
            reverse=True,
        )
        result: dict[dt.date, list[tuple[str, str]]] = {}
        for day in sorted(d for d in source if d.year == year):
            pairs = []
            real = set(actual.get_list(day)) if day in actual else set()
            for name in source.get_list(day):
                if name in real:
                    pairs.append((name, name))
                else:
                    base = next((a for a in actual_names if a in name), name)
                    pairs.append((name, base))
            result[day] = pairs
        return result

    def _load_holidays(self, calendar: ClinicCalendar) -> None:
        import holidays as holidays_package

        code = calendar.holidays
        if not isinstance(code, str) or not code:
            raise UnknownHolidayCountryError(
                f"holidays: must be a country code like 'US' or 'US-CO', got {code!r}"
            )
        country, dash, subdiv = code.partition("-")
        if dash and not subdiv:
            raise UnknownHolidayCountryError(
                f"holidays: {code!r} has an empty subdivision; give 'CC' for the whole country"
                " or 'CC-SUBDIV' (such as 'US-CO')"
            )
        supported = holidays_package.list_supported_countries()
        if country.upper() != country or country not in supported:
            raise UnknownHolidayCountryError(
                f"holidays: unknown country {country!r}; use an ISO 3166-1 alpha-2 code the"
                f" holidays package supports, such as {', '.join(sorted(c for c in supported if len(c) == 2)[:12])}, ..."
            )
        cls = holidays_package.country_holidays(country).__class__
        if (
            subdiv
            and subdiv not in cls.subdivisions
            and subdiv not in getattr(cls, "subdivisions_aliases", {})
        ):
            raise UnknownHolidayCountryError(
                f"holidays: unknown subdivision {subdiv!r} of {country}; allowed:"
                f" {', '.join(cls.subdivisions) or 'none (use the country alone)'}"
            )
        supported_languages = tuple(getattr(cls, "supported_languages", ()) or ())
        language = calendar.holiday_language
        if language is None:
            language = "en_US" if "en_US" in supported_languages else cls.default_language
        elif language not in supported_languages:
            raise InvalidClinicError(
                f"holiday_language: {country} holiday names are available in"
                f" {', '.join(supported_languages) or 'their original language only'},"
                f" got {language!r}"
            )
        kwargs: dict[str, Any] = {"subdiv": subdiv or None, "language": language}
        actual = holidays_package.country_holidays(country, observed=False, **kwargs)
        with_observed = (
            holidays_package.country_holidays(country, observed=True, **kwargs)
            if calendar.observed
            else None
        )
        self._holiday_data = (actual, with_observed)
        self.holiday_span = (actual.start_year, actual.end_year)
        if calendar.closing_holidays is not None and calendar.open_holidays:
            raise InvalidClinicError(
                "closing_holidays/open_holidays: give one or the other: only these holidays"
                " close the clinic, or all but these"
            )
        chosen = (
            calendar.closing_holidays
            if calendar.closing_holidays is not None
            else calendar.open_holidays
        )
        if chosen:
            self._check_names(
                chosen,
                "closing_holidays" if calendar.closing_holidays is not None else "open_holidays",
            )

    def _check_names(self, chosen: tuple[str, ...], field: str) -> None:
        assert self.holiday_span is not None
        known: set[str] = set()
        for year in _NAME_YEARS:
            if self.holiday_span[0] <= year <= self.holiday_span[1]:
                for names in self._holidays_of(year).values():
                    known.update(base for _, base in names)
        lookup = {name.casefold() for name in known}
        for name in chosen:
            if not isinstance(name, str) or name.casefold() not in lookup:
                raise InvalidClinicError(
                    f"{field}: {name!r} is not a {self.calendar.holidays} holiday; known names:"
                    f" {', '.join(sorted(known))}"
                )


class CalendarDay(NamedTuple):
    """One date as the clinic's calendar sees it; built once per year, shared by every plan.

    Attributes:
        date: the local date.
        hours: the opening hours, or ``None`` when the clinic is closed.
        reason: the holiday or closure that shuts a day the clinic usually opens
            ("Thanksgiving Day: clinic closed"); ``None`` otherwise.
        offset_change: the zone's UTC offset changes on this day or at a midnight next to
            it, so its wall-clock times need the DST rule.
        catch_up_only: an extra open day kept for catching up on missed sessions.
        midnight: the day's start in the clinic's zone; on a day without an offset change,
            a wall-clock time that day is ``midnight`` plus the time since midnight.
        hours_id: the position of ``hours`` in :attr:`ClinicCalendar.all_hours` (-1 when
            closed): days with the same hours hold the same sessions, so plans lay them out
            once per hours.
    """

    date: dt.date
    hours: OpeningHours | None
    reason: str | None
    offset_change: bool
    catch_up_only: bool
    midnight: dt.datetime
    hours_id: int


def _closure_text(reasons: list[str]) -> str:
    """``Snow day: clinic closed; Coil repair: clinic closed``; past three reasons, a count.

    >>> _closure_text(["Snow day"])
    'Snow day: clinic closed'
    >>> _closure_text(["A", "B", "C", "D", "E"])
    'A: clinic closed; B: clinic closed; C: clinic closed; and 2 more closures'
    """
    shown = "; ".join(f"{reason}: clinic closed" for reason in reasons[:3])
    more = len(reasons) - 3
    return shown + (f"; and {more} more closure{'s' if more > 1 else ''}" if more > 0 else "")


class _Year(NamedTuple):
    first: int  # the ordinal of 1 January
    days: tuple[CalendarDay, ...]
    closed: dict[dt.date, str]  # the clinic's own closures, weekends included
    regular: tuple[CalendarDay, ...]  # the days not closed for their weekday alone
    # For each day of the year, the position in ``regular`` of the first regular day on or
    # after it (len(regular) past the last one).
    position: tuple[int, ...]


@functools.lru_cache(maxsize=512)
def offset_change_days(zone: zoneinfo.ZoneInfo, year: int) -> frozenset[dt.date]:
    """The local dates of ``year`` on which the zone's UTC offset may change.

    A day is listed when the offset at its midnight differs from the next midnight's; the
    day after is listed too, so a change at midnight itself is caught from either side.
    Cached per (zone, year): zones are singletons per key, so the key is clear.
    """
    result: set[dt.date] = set()
    day = dt.date(year, 1, 1)
    offset = dt.datetime.combine(day, dt.time(0), tzinfo=zone).utcoffset()
    while day.year == year:
        following = day + _DAY
        next_offset = dt.datetime.combine(following, dt.time(0), tzinfo=zone).utcoffset()
        if next_offset != offset:
            result.update((day, following))
        day, offset = following, next_offset
    return frozenset(result)


def _zone(name: Any) -> zoneinfo.ZoneInfo:
    if not isinstance(name, str) or name not in iana_zone_names():
        raise UnknownTimezoneError(str(name) if isinstance(name, str) else repr(name))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        raise UnknownTimezoneError(name) from None


#: Files of the zone database that are not zones: the machine's own zone (``localtime``;
#: the library never uses it), the default rules for POSIX TZ strings, and the zone
#: "Factory" of unset machines.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def iana_zone_names() -> frozenset[str]:
    """The IANA zone names the zone database knows (read once).

    >>> "America/Denver" in iana_zone_names(), "localtime" in iana_zone_names()
    (True, False)
    """
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)
