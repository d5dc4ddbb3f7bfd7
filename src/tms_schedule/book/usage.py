"""Capacity: how much of the chairs' open time is booked, and how many more courses fit.

**Open chair time** is, for each chair and each day the clinic is open, the day's opening
hours less the chair's service days and the outages (its own and the clinic's). **Booked**
is the part of it that sessions hold: each session that occupies a chair (scheduled or
attended) from its start to its end, and an accelerated or cluster day from its first
session to its last on its chair (the patient stays between sessions; see
:func:`~tms_schedule.book.occupancy.block_phases`). Turnover between patients is neither:
it is open time no session holds. The clinic's limit of sessions at once (technicians) is
not taken off the open time either: it limits what can be booked, not the chairs.

:meth:`Book.usage <tms_schedule.book.Book.usage>` gives the minutes per day, per week and
per weekday and time of day (the heat map). Here are the model and its computation:
:func:`usage_from` works them out from plain inputs (the clinic's calendar, chairs and
outages, and the sessions of the range as :class:`~tms_schedule.book.seated.Seated`
values, which a store can build from its rows), and :func:`usage` reads those from a book.
The text, CSV and the printable page with the heat map drawn in SVG are
:mod:`tms_schedule.pages.usage`; how many more courses fit is :mod:`tms_schedule.book.room`.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.book import Book, Chair
>>> clinic = ClinicCalendar("America/Denver")
>>> book = Book(clinic, (Chair("c1", "Chair 1"), Chair("c2", "Chair 2")))
>>> book = book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")))
>>> used = book.usage("2026-11-16", "2026-11-20")
>>> [(d.date.day, d.open, d.booked) for d in used.days]
[(16, 1200, 90), (17, 1200, 40), (18, 1200, 40), (19, 1200, 40), (20, 1200, 40)]
>>> used.weeks()[0].share
0.041666666666666664
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import attrs

from tms_schedule._conveniences import provided
from tms_schedule._dates import WEEKDAY_ABBR
from tms_schedule._time import subtract
from tms_schedule.book.chairs import Chair, Outage
from tms_schedule.book.occupancy import minute
from tms_schedule.book.seated import OCCUPYING, Seated, holds, seated
from tms_schedule.clinic import CalendarDay, ClinicCalendar
from tms_schedule.errors import BookError

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = ["DayUsage", "SlotUsage", "Usage", "WeekUsage", "usage", "usage_from"]

_LONGEST = 731  # days in one usage: two years


def _share(booked: int, open_: int) -> float | None:
    return booked / open_ if open_ > 0 else None


@attrs.frozen
class DayUsage:
    """One day's chair time, in minutes summed over the chairs.

    Attributes:
        date: the day.
        open: open chair time.
        booked: the part of it that sessions hold.
        sessions: the sessions that hold a chair that day.
        closed: why the clinic is closed (``None`` when it is open).
    """

    date: dt.date
    open: int
    booked: int
    sessions: int
    closed: str | None = None

    @property
    def free(self) -> int:
        return self.open - self.booked

    @property
    def share(self) -> float | None:
        """Booked over open (``None`` when nothing is open)."""
        return _share(self.booked, self.open)


@attrs.frozen
class WeekUsage:
    """One week's chair time (Monday to Sunday, the days of it in the range).

    Attributes:
        monday: the week's Monday (it may fall before the range).
        first: the week's first day in the range.
        last: its last day in the range.
        open_days: the days the clinic is open.
        open: open chair minutes, summed over the days.
        booked: booked chair minutes, summed over the days.
        sessions: the sessions that hold a chair, summed over the days.
    """

    monday: dt.date
    first: dt.date
    last: dt.date
    open_days: int
    open: int
    booked: int
    sessions: int

    @property
    def free(self) -> int:
        return self.open - self.booked

    @property
    def share(self) -> float | None:
        return _share(self.booked, self.open)


@attrs.frozen
class SlotUsage:
    """One cell of the heat map: a weekday and a stretch of the day, over every week.

    Attributes:
        weekday: 0 (Monday) to 6.
        start: the local time the stretch starts, in minutes after midnight.
        minutes: how long it is (the usage's slot).
        open: open chair minutes, summed over the days of that weekday in the range.
        booked: booked chair minutes, likewise.
    """

    weekday: int
    start: int
    minutes: int
    open: int
    booked: int

    @property
    def free(self) -> int:
        return self.open - self.booked

    @property
    def share(self) -> float | None:
        return _share(self.booked, self.open)

    @property
    def times(self) -> tuple[str, str]:
        """``("09:00", "10:00")``."""
        return _hhmm(self.start), _hhmm(self.start + self.minutes)

    def describe(self) -> str:
        """``Mon 09:00-10:00``."""
        start, end = self.times
        return f"{WEEKDAY_ABBR[self.weekday]} {start}-{end}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@attrs.frozen
class Usage:
    """Booked and open chair time over a range of days (see the module).

    Attributes:
        first: the range's first day.
        last: its last day (included).
        timezone: the clinic's IANA zone.
        chairs: the chairs' ids.
        slot: the heat map's cell, in minutes (30 or 60).
        days: every day of the range, in order.
        slots: the heat map's cells: the clinic's open weekdays (those with open time in
            the range), each across the opening hours, in order.
    """

    first: dt.date
    last: dt.date
    timezone: str
    chairs: tuple[str, ...]
    slot: int
    days: tuple[DayUsage, ...]
    slots: tuple[SlotUsage, ...]

    @property
    def open(self) -> int:
        return sum(d.open for d in self.days)

    @property
    def booked(self) -> int:
        return sum(d.booked for d in self.days)

    @property
    def share(self) -> float | None:
        return _share(self.booked, self.open)

    def weeks(self) -> tuple[WeekUsage, ...]:
        """The days summed by week (Monday to Sunday), in order."""
        weeks: dict[dt.date, list[DayUsage]] = {}
        for day in self.days:
            weeks.setdefault(day.date - dt.timedelta(days=day.date.weekday()), []).append(day)
        return tuple(
            WeekUsage(
                monday=monday,
                first=days[0].date,
                last=days[-1].date,
                open_days=sum(1 for d in days if d.open > 0),
                open=sum(d.open for d in days),
                booked=sum(d.booked for d in days),
                sessions=sum(d.sessions for d in days),
            )
            for monday, days in weeks.items()
        )

    def weekdays(self) -> tuple[int, ...]:
        """The heat map's rows: the weekdays with open time in the range."""
        return tuple(sorted({cell.weekday for cell in self.slots}))

    def fullest(self) -> SlotUsage | None:
        """The cell with the largest share booked (the earliest of equals); ``None`` when
        nothing is open."""
        cells = [c for c in self.slots if c.open > 0]
        return max(cells, key=lambda c: (c.booked / c.open, -c.weekday, -c.start), default=None)

    def emptiest(self) -> SlotUsage | None:
        """The open cell with the smallest share booked (the earliest of equals)."""
        cells = [c for c in self.slots if c.open > 0]
        return min(cells, key=lambda c: (c.booked / c.open, c.weekday, c.start), default=None)

    # -- renderings (tms_schedule.pages.usage) -------------------------------------------------

    def to_text(self) -> str:
        """Totals, then by week, by day (open days, and days closed by a holiday or
        closure), and by weekday and hour (a small heat map of the share booked); every
        line fits 80 columns (see :func:`~tms_schedule.pages.usage.usage_text`)."""
        return str(provided("usage_text")(self))

    def to_csv(self, by: Literal["day", "week", "slot"] = "day") -> str:
        """The minutes as CSV, one row per day, week or heat-map cell (see
        :func:`~tms_schedule.pages.usage.usage_csv`, which documents the columns)."""
        return str(provided("usage_csv")(self, by))

    def to_html(self, *, clinic_name: str | None = None, issued: dt.date | None = None) -> str:
        """A page the clinic manager reads at a glance: the share of open chair time booked
        as a heat map of weekday by time of day, the same numbers in a table, and the
        weeks (see :func:`~tms_schedule.pages.usage.usage_html`)."""
        return str(provided("usage_html")(self, clinic_name=clinic_name, issued=issued))


# -- working it out -------------------------------------------------------------------------------


def _intersect(spans: list[tuple[int, int]], busy: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``busy`` (any order, overlaps allowed) inside ``spans`` (sorted,
    apart), each minute once."""
    merged: list[tuple[int, int]] = []
    for b0, b1 in sorted(busy):
        if merged and b0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b1))
        else:
            merged.append((b0, b1))
    out = []
    for s0, s1 in spans:
        for b0, b1 in merged:
            lo, hi = max(s0, b0), min(s1, b1)
            if lo < hi:
                out.append((lo, hi))
    return out


def _spread(cells: list[int], bounds: list[int], spans: list[tuple[int, int]]) -> None:
    """Add each span's minutes to the cells between ``bounds`` it covers."""
    last = len(bounds) - 1
    for a, b in spans:
        k = max(bisect.bisect_right(bounds, a) - 1, 0)
        while k < last and bounds[k] < b:
            overlap = min(b, bounds[k + 1]) - max(a, bounds[k])
            if overlap > 0:
                cells[k] += overlap
            k += 1


def usage(book: Book, first: dt.date, last: dt.date, slot: int = 60) -> Usage:
    """Booked and open chair time in ``book`` from ``first`` to ``last`` (see
    :meth:`Book.usage <tms_schedule.book.Book.usage>`)."""
    return usage_from(
        first,
        last,
        clinic=book.clinic,
        chairs=book.chairs,
        outages=book.outages,
        seated=seated(book, first, last, places=False),
        slot=slot,
    )


def usage_from(
    first: dt.date,
    last: dt.date,
    *,
    clinic: ClinicCalendar,
    chairs: Sequence[Chair],
    outages: Iterable[Outage] = (),
    seated: Iterable[Seated],
    slot: int = 60,
) -> Usage:
    """Booked and open chair time from ``first`` to ``last`` (both included) from plain
    inputs: the clinic's calendar, its chairs and outages, and the sessions of those days
    with their chairs (:class:`~tms_schedule.book.seated.Seated`; their places are not
    needed, and sessions of other days are left out). A store builds them from its rows
    for the range.

    Raises:
        BookError: ``last`` is before ``first`` or more than two years after it, or
            ``slot`` is not 30 or 60.
    """
    _check_range(first, last, slot)
    entries = [e for e in seated if first <= e.session.start.date() <= last]
    held = _held_by_chair_day(entries)
    counts = _sessions_by_day(entries)
    out = _outages_within(outages, first, last, clinic.zone)
    calendar_days = clinic.days(first, last)
    grid = _HeatGrid(calendar_days, slot)
    days = []
    for calendar_day in calendar_days:
        day, hours = calendar_day.date, calendar_day.hours
        if hours is None:
            days.append(DayUsage(day, 0, 0, counts.get(day, 0), clinic.closure_reason(day)))
            continue
        opens = minute(dt.datetime.combine(day, hours.opens, tzinfo=clinic.zone))
        closes = minute(dt.datetime.combine(day, hours.closes, tzinfo=clinic.zone))
        row = grid.row(day, clinic.zone)
        day_open = day_booked = 0
        for chair in chairs:
            if chair.closed_on(day) is not None:
                continue
            free = subtract(
                (opens, closes), ((a, b) for who, a, b in out if who in (None, chair.id))
            )
            taken = _intersect(free, held.get((day, chair.id), []))
            day_open += sum(b - a for a, b in free)
            day_booked += sum(b - a for a, b in taken)
            row.add(free, taken)
        days.append(DayUsage(day, day_open, day_booked, counts.get(day, 0)))
    return Usage(
        first=first,
        last=last,
        timezone=clinic.timezone,
        chairs=tuple(chair.id for chair in chairs),
        slot=slot,
        days=tuple(days),
        slots=grid.slots(),
    )


def _check_range(first: dt.date, last: dt.date, slot: int) -> None:
    if last < first:
        raise BookError(f"last: must be on or after first ({first}), got {last}")
    if (last - first).days + 1 > _LONGEST:
        raise BookError(
            f"last: a usage covers at most {_LONGEST} days, got {(last - first).days + 1}"
            f" ({first} to {last})"
        )
    if isinstance(slot, bool) or slot not in (30, 60):
        raise BookError(f"slot: must be 30 or 60 (minutes), got {slot!r}")


def _held_by_chair_day(entries: list[Seated]) -> dict[tuple[dt.date, str], list[tuple[int, int]]]:
    """What the sessions hold of each chair each day (minutes; they may overlap)."""
    held: dict[tuple[dt.date, str], list[tuple[int, int]]] = {}
    for day, booking in holds(entries):
        held.setdefault((day, booking.chair), []).append((booking.start, booking.end))
    return held


def _sessions_by_day(entries: list[Seated]) -> dict[dt.date, int]:
    """How many sessions hold a chair each day."""
    counts: dict[dt.date, int] = {}
    for entry in entries:
        if entry.chair is not None and entry.session.status in OCCUPYING:
            day = entry.session.start.date()
            counts[day] = counts.get(day, 0) + 1
    return counts


def _outages_within(
    outages: Iterable[Outage], first: dt.date, last: dt.date, zone: dt.tzinfo
) -> list[tuple[str | None, int, int]]:
    """The outages that touch the range, as (chair or ``None`` for every chair, start,
    end) in minutes."""
    low = minute(dt.datetime.combine(first, dt.time(0), tzinfo=zone))
    high = minute(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone))
    return [
        (o.chair, minute(o.start), minute(o.end))
        for o in outages
        if minute(o.start) < high and low < minute(o.end)
    ]


class _HeatGrid:
    """The heat map's cells as they fill: a row per weekday, a column per slot from the
    earliest opening in the range to the latest closing."""

    def __init__(self, days: Sequence[CalendarDay], slot: int) -> None:
        open_days = [d.hours for d in days if d.hours is not None]
        start = min((_of_day(h.opens) for h in open_days), default=0)
        end = max((_of_day(h.closes) for h in open_days), default=0)
        self.slot = slot
        self.start = start - start % slot
        self.columns = (end + -end % slot - self.start) // slot
        self.open: dict[int, list[int]] = {}
        self.booked: dict[int, list[int]] = {}

    def row(self, day: dt.date, zone: dt.tzinfo) -> _HeatRow:
        """The row of ``day``'s weekday, its columns' bounds in ``day``'s minutes."""
        bounds = [_at(day, self.start + k * self.slot, zone) for k in range(self.columns + 1)]
        weekday = day.weekday()
        return _HeatRow(
            bounds,
            self.open.setdefault(weekday, [0] * self.columns),
            self.booked.setdefault(weekday, [0] * self.columns),
        )

    def slots(self) -> tuple[SlotUsage, ...]:
        """The cells of the weekdays with open time, in order."""
        return tuple(
            SlotUsage(
                weekday,
                self.start + k * self.slot,
                self.slot,
                self.open[weekday][k],
                self.booked[weekday][k],
            )
            for weekday in sorted(self.open)
            if any(self.open[weekday])
            for k in range(self.columns)
        )


class _HeatRow(NamedTuple):
    bounds: list[int]
    open: list[int]
    booked: list[int]

    def add(self, free: list[tuple[int, int]], taken: list[tuple[int, int]]) -> None:
        """Add a chair's open and booked stretches of the day to the cells they cover."""
        _spread(self.open, self.bounds, free)
        _spread(self.booked, self.bounds, taken)


def _of_day(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def _at(day: dt.date, minutes: int, zone: dt.tzinfo) -> int:
    """The epoch minute of a local time of ``day`` given in minutes after its midnight
    (24:00 is the next midnight)."""
    days, rest = divmod(minutes, 24 * 60)
    local = dt.datetime.combine(
        day + dt.timedelta(days=days), dt.time(rest // 60, rest % 60), tzinfo=zone
    )
    return minute(local)
