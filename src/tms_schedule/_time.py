"""The vocabulary of time: one place for each question the package asks of dates and hours.

* **What a caller may give.** :func:`as_date`, :func:`as_time` and :func:`as_moment` take a
  date, a time of day or a moment in the forms every public entry point accepts, and refuse
  anything else with an error that names the field (the convention is in
  ``docs/design.md``).
* **Opening hours.** :class:`OpeningHours` and its one question, :meth:`OpeningHours.holds`:
  does a session from this start to this end fit the day's hours?
* **Wall-clock time and elapsed time.** :func:`resolve_wall_time` puts a wall-clock time on a
  day in a zone by the DST rule the plans keep; :func:`add_elapsed` adds a length of real
  time (a DST change inside an appointment keeps its length); :func:`in_zone` shows a moment
  in the clinic's zone.
* **Minutes as numbers.** Two meanings, two types: :data:`EpochMinute` (whole minutes since
  the epoch, UTC: a moment, for integer arithmetic on bookings) and :data:`DayMinute`
  (minutes since a day's midnight on the wall clock: a time of day). :func:`subtract`
  takes stretches out of a span.

>>> import datetime as dt, zoneinfo
>>> denver = zoneinfo.ZoneInfo("America/Denver")
>>> resolve_wall_time(dt.date(2026, 3, 8), dt.time(2, 30), denver).isoformat()
'2026-03-08T03:30:00-06:00'
>>> OpeningHours.parse("08:00-18:00").holds(
...     dt.datetime(2026, 11, 16, 17, 20, tzinfo=denver), dt.datetime(2026, 11, 16, 18, 0, tzinfo=denver)
... )
True
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, NewType, TypeAlias, TypeVar

import attrs

from tms_schedule.errors import InvalidClinicError, InvalidInputError

__all__ = [
    "DateInput",
    "DayMinute",
    "EpochMinute",
    "MomentInput",
    "OpeningHours",
    "TimeInput",
    "add_elapsed",
    "as_date",
    "as_moment",
    "as_time",
    "day_minute",
    "epoch_minute",
    "in_zone",
    "parse_time",
    "resolve_wall_time",
    "subtract",
]

_UTC = dt.UTC
_ANY_DAY = dt.date(2001, 1, 1)
# ISO dates exactly as the command line and the files write them: not 20261201 nor
# 2026-W49-3, which ``date.fromisoformat`` also reads.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A time of day, 24-hour: 9:00 or 09:00.
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")

#: Whole minutes since the epoch (UTC): a moment, for integer arithmetic on bookings.
EpochMinute = NewType("EpochMinute", int)
#: Minutes since a day's midnight on the wall clock: a time of day (24:00 is 1440).
DayMinute = NewType("DayMinute", int)

_Number = TypeVar("_Number", bound=int)

#: What an entry point takes for a date: a date, or text written ``YYYY-MM-DD``.
DateInput: TypeAlias = dt.date | str
#: What an entry point takes for a time of day: a time without a zone, or ``HH:MM``.
TimeInput: TypeAlias = dt.time | str
#: What an entry point takes for a moment: a datetime with its zone, a date (the start of
#: the day in the clinic's zone), or ISO text of either.
MomentInput: TypeAlias = dt.datetime | dt.date | str


# -- what a caller may give -------------------------------------------------------------------


def as_date(value: Any, field: str, error: type[InvalidInputError] = InvalidInputError) -> dt.date:
    """A date, given as a :class:`datetime.date` or as text written ``YYYY-MM-DD``.

    A :class:`datetime.datetime` is refused: a date is a day, without a time.

    >>> as_date("2026-12-14", "start")
    datetime.date(2026, 12, 14)
    >>> as_date("14/12/2026", "start")
    Traceback (most recent call last):
    ...
    tms_schedule.errors.InvalidInputError: start: must be a date written YYYY-MM-DD, got '14/12/2026'

    Raises:
        InvalidInputError: (or ``error``) anything else, naming ``field``.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        with contextlib.suppress(ValueError):  # 2026-02-30: refused below
            return dt.date.fromisoformat(value)
    raise error(f"{field}: must be a date written YYYY-MM-DD, got {value!r}", field=field)


def as_time(value: Any, field: str, error: type[InvalidInputError] = InvalidInputError) -> dt.time:
    """A wall-clock time of day, given as a :class:`datetime.time` without a zone or as text
    written ``HH:MM`` (24-hour; ``9:00`` too).

    >>> as_time("9:00", "at")
    datetime.time(9, 0)

    Raises:
        InvalidInputError: (or ``error``) anything else, naming ``field``.
    """
    if isinstance(value, str):
        return parse_time(value, field, error)
    if not isinstance(value, dt.time):
        raise error(f"{field}: must be a time written HH:MM (24-hour), got {value!r}", field=field)
    if value.tzinfo is not None:
        raise error(
            f"{field}: must be a local time of day without a timezone (the clinic's zone"
            f" applies), got {value!r}",
            field=field,
        )
    return value


def parse_time(
    text: str, field: str, error: type[InvalidInputError] = InvalidClinicError
) -> dt.time:
    """Read a time of day written ``HH:MM`` (24-hour; ``9:00`` too)."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise error(f"{field}: must be a time written HH:MM (24-hour), got {text!r}", field=field)
    return dt.time(int(match[1]), int(match[2]))


def as_moment(
    value: Any,
    field: str,
    zone: dt.tzinfo | None,
    error: type[InvalidInputError] = InvalidInputError,
) -> dt.datetime:
    """A moment, given as a :class:`datetime.datetime` with its time zone, as a date (the
    start of that day in ``zone``, the clinic's), or as ISO text of either
    (``2026-11-16T09:00-07:00``, ``2026-11-16``).

    A date and time without a zone is refused: which moment it means depends on a zone the
    library will not guess. Without ``zone``, a date is refused too.

    >>> import zoneinfo
    >>> as_moment("2026-11-16", "start", zoneinfo.ZoneInfo("America/Denver")).isoformat()
    '2026-11-16T00:00:00-07:00'

    Raises:
        InvalidInputError: (or ``error``) anything else, naming ``field``.
    """
    if isinstance(value, str):
        if _DATE.fullmatch(value):
            value = as_date(value, field, error)
        else:
            with contextlib.suppress(ValueError):  # refused below, as text
                value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise error(
                f"{field}: must be a date and time with its time zone, got {value!r}", field=field
            )
        return value
    if isinstance(value, dt.date) and zone is not None:
        return dt.datetime.combine(value, dt.time(0), tzinfo=zone)
    what = "a date or a date and time" if zone is not None else "a date and time"
    raise error(f"{field}: must be {what} with its time zone, got {value!r}", field=field)


# -- opening hours ------------------------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class OpeningHours:
    """The hours a clinic is open on a day: sessions start and end inside them.

    >>> OpeningHours.parse("08:00-18:00")
    OpeningHours(opens=datetime.time(8, 0), closes=datetime.time(18, 0))
    >>> str(OpeningHours.parse("08:00-13:00"))
    '08:00-13:00'
    """

    opens: dt.time
    closes: dt.time

    def __attrs_post_init__(self) -> None:
        for name in ("opens", "closes"):
            value = getattr(self, name)
            if not isinstance(value, dt.time) or value.tzinfo is not None:
                raise InvalidClinicError(
                    f"opening hours {name}: must be a local time of day without a timezone,"
                    f" got {value!r}"
                )
        if not self.opens < self.closes:
            raise InvalidClinicError(
                f"opening hours: opens ({self.opens:%H:%M}) must be before closes"
                f" ({self.closes:%H:%M}); hours past midnight are not supported"
            )

    @classmethod
    def parse(cls, text: str, field: str = "hours") -> OpeningHours:
        """Read ``"HH:MM-HH:MM"``.

        Raises:
            InvalidClinicError: text of another form, or hours that close before they open.
        """
        if not isinstance(text, str) or text.count("-") != 1:
            raise InvalidClinicError(
                f"{field}: must be opening hours written HH:MM-HH:MM, like '08:00-18:00',"
                f" got {text!r}",
                field=field,
            )
        opens, closes = text.split("-")
        return cls(parse_time(opens, field), parse_time(closes, field))

    def holds(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether a session from ``start`` to ``end`` (wall-clock times of the day these
        hours are for) lies inside them, starting and ending on that one day."""
        return (
            start.date() == end.date() and self.opens <= start.time() and end.time() <= self.closes
        )

    def on(self, day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """When the hours open and close on ``day`` in ``zone``."""
        return (
            dt.datetime.combine(day, self.opens, tzinfo=zone),
            dt.datetime.combine(day, self.closes, tzinfo=zone),
        )

    def minutes_on(self, day: dt.date, zone: dt.tzinfo) -> tuple[EpochMinute, EpochMinute]:
        """:meth:`on` as epoch minutes, for integer arithmetic on bookings."""
        opens, closes = self.on(day, zone)
        return epoch_minute(opens), epoch_minute(closes)

    @property
    def length(self) -> dt.timedelta:
        """How long the hours are on a day whose UTC offset does not change.

        >>> OpeningHours.parse("08:00-13:30").length
        datetime.timedelta(seconds=19800)
        """
        opens, closes = self.on(_ANY_DAY, _UTC)
        return closes - opens

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"


# -- wall-clock time and elapsed time -------------------------------------------------------------


def resolve_wall_time(day: dt.date, time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """``day`` at wall-clock ``time`` in ``zone``, by the rule every plan keeps: a time that
    does not exist (spring forward) moves forward by the gap, and a time that occurs twice
    (fall back) means its first occurrence, as RFC 5545 reads it."""
    aware = dt.datetime.combine(day, time, tzinfo=zone)
    back = aware.astimezone(_UTC).astimezone(zone)
    if back.hour != aware.hour or back.minute != aware.minute:
        return back  # did not exist: moved forward by the gap
    return aware  # fold=0: the first occurrence of a repeated time


def add_elapsed(moment: dt.datetime, length: dt.timedelta, zone: dt.tzinfo) -> dt.datetime:
    """``length`` of real time after ``moment``, shown in ``zone``: a DST change inside an
    appointment keeps its length (an aware datetime's own ``+`` adds wall-clock time)."""
    return (moment.astimezone(_UTC) + length).astimezone(zone)


def in_zone(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``moment`` in ``zone`` by way of UTC, so a wall time that does not exist there moves
    forward by the gap, as plans do (02:30 on a spring-forward day becomes 03:30)."""
    return moment.astimezone(_UTC).astimezone(zone)


# -- minutes as numbers ---------------------------------------------------------------------------


def epoch_minute(moment: dt.datetime) -> EpochMinute:
    """Whole minutes since the epoch (UTC) of an aware datetime.

    >>> epoch_minute(dt.datetime(1970, 1, 1, 1, 30, tzinfo=dt.UTC))
    90
    """
    return EpochMinute(int(moment.timestamp()) // 60)


def day_minute(time: dt.time) -> DayMinute:
    """Minutes since midnight of a wall-clock time of day.

    >>> day_minute(dt.time(9, 30))
    570
    """
    return DayMinute(time.hour * 60 + time.minute)


def subtract(
    span: tuple[_Number, _Number], busy: Iterable[tuple[_Number, _Number]]
) -> list[tuple[_Number, _Number]]:
    """``span`` less every stretch of ``busy`` (which may overlap, in any order; an empty one
    takes nothing): the free stretches left, in order.

    >>> subtract((0, 100), [(50, 60), (10, 20), (55, 70)])
    [(0, 10), (20, 50), (70, 100)]
    """
    start, end = span
    free: list[tuple[_Number, _Number]] = []
    for b0, b1 in sorted(busy):
        if b1 <= start or b1 <= b0:
            continue
        if b0 >= end:
            break
        if b0 > start:
            free.append((start, b0))
        start = max(start, b1)
        if start >= end:
            return free
    if start < end:
        free.append((start, end))
    return free
