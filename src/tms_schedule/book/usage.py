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
per weekday and time of day (the heat map), as text, CSV, and a printable page with the
heat map drawn in SVG. :meth:`Book.room_for <tms_schedule.book.Book.room_for>` answers "how
many more courses of this protocol can start on Monday between 09:00 and 12:00?" by
booking them one after another, as the front desk would, into a copy of the book.

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
import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import attrs

from tms_schedule._dates import MONTH_ABBR, WEEKDAY_ABBR, WEEKDAY_FULL, short_day
from tms_schedule.book._pages import (
    DASH,
    DOT,
    clock,
    document,
    escape,
    length,
    percent,
    spreadsheet_text,
    stamp_text,
    words,
)
from tms_schedule.book.occupancy import Occupancy, block_phases, minute
from tms_schedule.book.offers import Offer
from tms_schedule.book.seated import OCCUPYING, holds, seated
from tms_schedule.errors import BookError, NoOfferError, TmsScheduleError
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Session

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = [
    "USAGE_CSV_COLUMNS",
    "DayUsage",
    "Room",
    "SlotUsage",
    "Usage",
    "WeekUsage",
    "room_for",
    "usage",
]

#: The columns of :meth:`Usage.to_csv` for each ``by`` (see the method).
USAGE_CSV_COLUMNS = {
    "day": (
        "date",
        "weekday",
        "week",
        "open_minutes",
        "booked_minutes",
        "free_minutes",
        "sessions",
        "closed",
    ),
    "week": (
        "week",
        "first",
        "last",
        "open_days",
        "open_minutes",
        "booked_minutes",
        "free_minutes",
        "sessions",
    ),
    "slot": ("weekday", "start", "end", "open_minutes", "booked_minutes", "free_minutes"),
}
_LONGEST = 731  # days in one usage: two years
# The heat map's bins: the share booked, from empty to full, each with its fill and the
# text colour that reads on it. ColorBrewer's YlGnBu: its lightness falls steadily, so the
# bins stay apart in greyscale print and for readers who do not tell red from green.
BINS = (
    (0.2, "#ffffcc", "#000000"),
    (0.4, "#a1dab4", "#000000"),
    (0.6, "#41b6c4", "#000000"),
    (0.8, "#2c7fb8", "#000000"),
    (1.0, "#253494", "#ffffff"),
)


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

    # -- renderings ----------------------------------------------------------------------------

    def to_text(self) -> str:
        """Totals, then by week, by day (open days, and days closed by a holiday or
        closure), and by weekday and hour (a small heat map of the share booked); every
        line fits 80 columns. Chair time is written hours:minutes."""
        return _text(self)

    def to_csv(self, by: Literal["day", "week", "slot"] = "day") -> str:
        """The minutes as CSV, one row per day, week or heat-map cell, with a header row
        and ``\\r\\n`` line ends (RFC 4180). Minutes are chair minutes summed over the
        chairs.

        ``by="day"``: every day of the range, closed ones too:

        ============== ==========================================================
        column         meaning
        ============== ==========================================================
        date           the day, YYYY-MM-DD
        weekday        Mon ... Sun
        week           the week's Monday, YYYY-MM-DD
        open_minutes   open chair time
        booked_minutes the part of it sessions hold
        free_minutes   open less booked
        sessions       the sessions that hold a chair that day
        closed         why the clinic is closed; empty when it is open
        ============== ==========================================================

        ``by="week"``: ``week`` (its Monday), ``first`` and ``last`` (its days in the
        range), ``open_days``, ``open_minutes``, ``booked_minutes``, ``free_minutes``,
        ``sessions``.

        ``by="slot"``: the heat map: ``weekday`` (Mon ... Sun), ``start`` and ``end`` (local
        HH:MM), ``open_minutes``, ``booked_minutes``, ``free_minutes``.

        Columns may be added at the end later; these keep their names, order and
        meaning. A text cell a spreadsheet would run as a formula gets a single quote in
        front, as in :mod:`tms_schedule.export.csv`.
        """
        if by not in USAGE_CSV_COLUMNS:
            raise BookError(f"by: must be one of day, week, slot; got {by!r}")
        rows: list[tuple[str | int, ...]] = []
        if by == "day":
            rows = [
                (
                    d.date.isoformat(),
                    WEEKDAY_ABBR[d.date.weekday()],
                    (d.date - dt.timedelta(days=d.date.weekday())).isoformat(),
                    d.open,
                    d.booked,
                    d.free,
                    d.sessions,
                    d.closed or "",
                )
                for d in self.days
            ]
        elif by == "week":
            rows = [
                (
                    w.monday.isoformat(),
                    w.first.isoformat(),
                    w.last.isoformat(),
                    w.open_days,
                    w.open,
                    w.booked,
                    w.free,
                    w.sessions,
                )
                for w in self.weeks()
            ]
        else:
            rows = [
                (WEEKDAY_ABBR[c.weekday], *c.times, c.open, c.booked, c.free) for c in self.slots
            ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(USAGE_CSV_COLUMNS[by])
        for row in rows:
            writer.writerow(tuple(spreadsheet_text(v) if isinstance(v, str) else v for v in row))
        return buffer.getvalue()

    def to_html(self, *, clinic_name: str | None = None, issued: dt.date | None = None) -> str:
        """A page the clinic manager reads at a glance: the share of open chair time booked
        as a heat map of weekday by time of day (inline SVG), the same numbers in a table,
        and the weeks. One self-contained HTML5 document; A4 and Letter portrait.

        The heat map has a row per open weekday and a column per slot of the opening
        hours, each cell filled by how full the chairs were then over the range's weeks,
        in five steps from pale yellow (under 20%) to dark blue (80% or more), with the
        percentage written in the cell; a cell with no open time is white and hatched.
        Each cell's numbers show on hover (an SVG ``<title>``); the picture's label and the
        table after it give them to screen readers.
        """
        return _html(self, clinic_name, issued)


@attrs.frozen
class Room:
    """How many more courses of a protocol can start on a day within a window of times.

    Attributes:
        protocol_id: the protocol.
        start_date: the day they start.
        window: the first and last start time allowed.
        offers: the courses that fit, in the order they were booked: each the offer the
            book made (:class:`~tms_schedule.book.offers.Offer`: its time, chairs and
            trade-offs).
        closed: why none can start that day at all (the clinic is closed, or a course of
            the protocol cannot start then); ``None`` otherwise.
        stopped: the count stopped at the ``limit`` asked for: more may fit.
    """

    protocol_id: str
    start_date: dt.date
    window: tuple[dt.time, dt.time]
    offers: tuple[Offer, ...]
    closed: str | None = None
    stopped: bool = False

    @property
    def count(self) -> int:
        return len(self.offers)

    def starts(self) -> list[dt.time]:
        """Each course's start time (on the start date), in the order they were booked."""
        return [offer.schedule.first.start.time() for offer in self.offers]

    def to_text(self, chair_names: dict[str, str] | None = None) -> str:
        """One line of the answer, then each course: its time, chairs and trade-offs."""
        names = chair_names or {}
        start, end = self.window
        when = f"start on {short_day(self.start_date)} between {start:%H:%M} and {end:%H:%M}"
        if not self.offers:
            why = self.closed or "no chair is free at one time for every session"
            lines = [f"No more courses of {self.protocol_id} can {when}: {why}."]
        else:
            more = "At least " if self.stopped else ""
            noun = "course" if self.count == 1 else "courses"
            lines = [f"{more}{self.count} more {noun} of {self.protocol_id} can {when}:"]
        for number, offer in enumerate(self.offers, start=1):
            chairs = [names.get(c, c) for c in offer.chairs()]
            text = f"{number:>3}. {offer.schedule.first.start:%H:%M} on {chairs[0]}"
            if len(chairs) > 1:
                text += f" (and {', '.join(chairs[1:])})"
            if offer.tradeoffs:
                text += ": " + "; ".join(offer.tradeoffs)
            lines.append(text)
        return "\n".join(lines) + "\n"


# -- working it out -------------------------------------------------------------------------------


def _subtract(span: tuple[int, int], busy: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    start, end = span
    out = []
    for b0, b1 in sorted(busy):
        if b1 <= start:
            continue
        if b0 >= end:
            break
        if b0 > start:
            out.append((start, b0))
        start = max(start, b1)
        if start >= end:
            return out
    if start < end:
        out.append((start, end))
    return out


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
    """Booked and open chair time from ``first`` to ``last`` (see :meth:`Book.usage
    <tms_schedule.book.Book.usage>`)."""
    if last < first:
        raise BookError(f"last: must be on or after first ({first}), got {last}")
    if (last - first).days + 1 > _LONGEST:
        raise BookError(
            f"last: a usage covers at most {_LONGEST} days, got {(last - first).days + 1}"
            f" ({first} to {last})"
        )
    if isinstance(slot, bool) or slot not in (30, 60):
        raise BookError(f"slot: must be 30 or 60 (minutes), got {slot!r}")
    clinic = book.clinic
    zone = clinic.zone
    calendar_days = clinic.days(first, last)
    entries = seated(book, first, last, places=False)
    counts: dict[dt.date, int] = {}
    for entry in entries:
        if entry.chair is not None and entry.session.status in OCCUPYING:
            day = entry.session.start.date()
            counts[day] = counts.get(day, 0) + 1
    held: dict[tuple[dt.date, str], list[tuple[int, int]]] = {}
    for day, booking in holds(entries):
        held.setdefault((day, booking.chair), []).append((booking.start, booking.end))
    # The outages that touch the range, once.
    low = minute(dt.datetime.combine(first, dt.time(0), tzinfo=zone))
    high = minute(dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone))
    outages = [
        (o.chair, minute(o.start), minute(o.end))
        for o in book.outages
        if minute(o.start) < high and low < minute(o.end)
    ]
    # The heat map's columns: from the earliest opening to the latest closing, in slots.
    open_days = [d for d in calendar_days if d.hours is not None]
    grid_start = min((_of_day(d.hours.opens) for d in open_days if d.hours), default=0)
    grid_end = max((_of_day(d.hours.closes) for d in open_days if d.hours), default=0)
    grid_start -= grid_start % slot
    grid_end += -grid_end % slot
    columns = (grid_end - grid_start) // slot
    open_cells: dict[int, list[int]] = {}
    booked_cells: dict[int, list[int]] = {}
    days = []
    for calendar_day in calendar_days:
        day = calendar_day.date
        hours = calendar_day.hours
        if hours is None:
            days.append(DayUsage(day, 0, 0, counts.get(day, 0), clinic.closure_reason(day)))
            continue
        opens = minute(dt.datetime.combine(day, hours.opens, tzinfo=zone))
        closes = minute(dt.datetime.combine(day, hours.closes, tzinfo=zone))
        bounds = [_at(day, grid_start + k * slot, zone) for k in range(columns + 1)]
        row_open = open_cells.setdefault(day.weekday(), [0] * columns)
        row_booked = booked_cells.setdefault(day.weekday(), [0] * columns)
        day_open = day_booked = 0
        for chair in book.chairs:
            if chair.closed_on(day) is not None:
                continue
            free = _subtract(
                (opens, closes), ((a, b) for who, a, b in outages if who in (None, chair.id))
            )
            taken = _intersect(free, held.get((day, chair.id), []))
            day_open += sum(b - a for a, b in free)
            day_booked += sum(b - a for a, b in taken)
            _spread(row_open, bounds, free)
            _spread(row_booked, bounds, taken)
        days.append(DayUsage(day, day_open, day_booked, counts.get(day, 0)))
    slots = tuple(
        SlotUsage(
            weekday, grid_start + k * slot, slot, open_cells[weekday][k], booked_cells[weekday][k]
        )
        for weekday in sorted(open_cells)
        if any(open_cells[weekday])
        for k in range(columns)
    )
    return Usage(
        first=first,
        last=last,
        timezone=clinic.timezone,
        chairs=tuple(chair.id for chair in book.chairs),
        slot=slot,
        days=tuple(days),
        slots=slots,
    )


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


def room_for(
    book: Book,
    protocol: Protocol,
    start_date: dt.date,
    window_start: dt.time,
    window_end: dt.time,
    *,
    step: int = 10,
    limit: int = 50,
) -> Room:
    """How many more courses of ``protocol`` can start on ``start_date`` between
    ``window_start`` and ``window_end`` (see :meth:`Book.room_for
    <tms_schedule.book.Book.room_for>`).

    Each time of the window is tried once, from the earliest: while every day of a course
    starting then has a chair free at that time, the book's own offer for it (the same
    time every day, one chair where it can) is taken into a copy of the book. Asking the
    index first means the book is asked for offers only where it has one, so a full
    window costs one look per time rather than a failed search.
    """
    clinic = book.clinic
    day = clinic.day(start_date)
    window = (window_start, window_end)
    if day.hours is None or day.catch_up_only:
        why = (
            clinic.closure_reason(start_date)
            if day.hours is None
            else "the day is kept for catching up on missed sessions"
        )
        return Room(protocol.id, start_date, window, (), closed=why)
    occupancy = book.occupancy()
    if not occupancy.able(protocol):
        needs = ", ".join(sorted(protocol.requires))
        return Room(
            protocol.id, start_date, window, (), closed=f"no chair runs it (it needs {needs})"
        )
    blocks = block_phases(protocol)
    scratch = book
    ids = set(book.course_ids())
    taken: list[Offer] = []
    number = 0
    refused: str | None = None
    fits_at_all = False
    moment = dt.datetime.combine(start_date, window_start)
    last = dt.datetime.combine(start_date, window_end)
    while moment <= last and len(taken) < limit:
        at = moment.time()
        moment += dt.timedelta(minutes=step)
        try:
            schedule = Plan(protocol, clinic, start_date, at, "room").expand()
        except TmsScheduleError as error:
            refused = refused or str(error)
            continue
        if schedule.first.start.date() != start_date:
            refused = refused or (
                f"its first session would fall on {short_day(schedule.first.start.date())}"
            )
            continue
        fits_at_all = True
        by_day: dict[dt.date, list[Session]] = {}
        for session in schedule.sessions:
            by_day.setdefault(session.start.date(), []).append(session)
        days: dict[dt.date, list[tuple[int, int]]] = {}
        for date, sessions in by_day.items():
            spans = [(minute(s.start), minute(s.end)) for s in sessions]
            if len(spans) > 1 and any(s.phase in blocks for s in sessions):
                spans = [(spans[0][0], spans[-1][1])]  # as the offers hold such a day
            days[date] = spans
        while len(taken) < limit and _free_every_day(occupancy, protocol, days):
            try:
                offers = scratch.offers(protocol, start_date, at, window=0, dates=1, count=1)
            except NoOfferError:  # the book's own search has the last word
                break
            offer = next((o for o in offers if o.start == start_date), None)
            if offer is None:
                break
            number += 1
            while f"room-{number}" in ids:
                number += 1
            scratch = scratch.take(offer, f"room-{number}")
            occupancy = scratch.occupancy()
            taken.append(offer)
    closed = None
    if not fits_at_all:
        closed = f"a course of {protocol.id} cannot start then ({refused})" if refused else None
    return Room(
        protocol.id,
        start_date,
        window,
        tuple(taken),
        closed=closed,
        stopped=len(taken) >= limit,
    )


def _free_every_day(
    occupancy: Occupancy, protocol: Protocol, days: dict[dt.date, list[tuple[int, int]]]
) -> bool:
    """Whether each day's sessions fit some chair that runs ``protocol`` at their times:
    exactly when the book offers the course at that time (changing chair if it must)."""
    able = occupancy.able(protocol)
    return all(
        any(occupancy.masks(chair, day, spans, 0, 1, 1) for chair in able)
        for day, spans in days.items()
    )


# -- text ---------------------------------------------------------------------------------------


def _closed_words(reason: str) -> str:
    if reason.startswith("closed on "):
        return reason
    return "closed: " + reason.replace(": clinic closed", "")


def _text(used: Usage) -> str:
    chairs = len(used.chairs)
    lines = [
        f"Chair time booked - {short_day(used.first)} to {short_day(used.last)}",
        f"{chairs} chair{'s' if chairs != 1 else ''}; times in {used.timezone};"
        " chair time in hours:minutes",
        f"Booked {clock(used.booked)} of {clock(used.open)} open ({percent(used.booked, used.open)}),"
        f" {clock(used.open - used.booked)} free",
        "",
        f"{'Week of':<16} {'days':>4} {'open':>9} {'booked':>9} {'free':>9} {'full':>5}"
        f" {'sessions':>8}",
    ]
    for week in used.weeks():
        lines.append(
            f"{short_day(week.monday):<16} {week.open_days:>4} {clock(week.open):>9}"
            f" {clock(week.booked):>9} {clock(week.free):>9}"
            f" {percent(week.booked, week.open):>5} {week.sessions:>8}"
        )
    lines += [
        "",
        f"{'Day':<16} {'':>4} {'open':>9} {'booked':>9} {'free':>9} {'full':>5} {'sessions':>8}",
    ]
    for day in used.days:
        if day.closed is not None and (day.closed.startswith("closed on ") and not day.sessions):
            continue  # a weekday the clinic never opens
        if day.closed is not None:
            lines.append(f"{short_day(day.date):<16} {_closed_words(day.closed)}"[:80])
            continue
        lines.append(
            f"{short_day(day.date):<16} {'':>4} {clock(day.open):>9} {clock(day.booked):>9}"
            f" {clock(day.free):>9} {percent(day.booked, day.open):>5} {day.sessions:>8}"
        )
    lines += _text_heat_map(used)
    return "\n".join(lines) + "\n"


def _text_heat_map(used: Usage) -> list[str]:
    """By weekday and hour (the slots summed by hour, so that it fits 80 columns)."""
    if not used.slots:
        return ["", "No open time in these dates."]
    hours: dict[tuple[int, int], list[int]] = {}
    for cell in used.slots:
        entry = hours.setdefault((cell.weekday, cell.start // 60), [0, 0])
        entry[0] += cell.open
        entry[1] += cell.booked
    columns = sorted({hour for _, hour in hours})
    lines = [
        "",
        "Full by weekday and hour (% of open chair time booked; . not open)",
        "     " + "".join(f"  {hour:02d}" for hour in columns),
    ]
    for weekday in used.weekdays():
        cells = []
        for hour in columns:
            open_, booked = hours.get((weekday, hour), [0, 0])
            cells.append(f"{booked * 100 // open_:>4}" if open_ else "   .")
        lines.append(f"{WEEKDAY_ABBR[weekday]:<5}" + "".join(cells))
    return lines


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """\
.summary { font-size: 12pt; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
svg.heat { display: block; width: 100%; height: auto; }
.legend { list-style: none; padding: 0; margin: 1.5mm 0 0; font-size: 8.5pt; }
.legend li { display: inline-block; margin: 0 4mm 1mm 0; white-space: nowrap; }
.key {
  display: inline-block; width: 6mm; height: 4mm; vertical-align: middle;
  border: 0.25mm solid #555; margin-right: 1mm;
}
.key.none { background: repeating-linear-gradient(135deg, #fff 0 0.8mm, #999 0.8mm 1.1mm); }
table { border-collapse: collapse; font-size: 9pt; margin-bottom: 2mm; }
th, td { padding: 0.7mm 2mm; border-bottom: 0.25mm solid #999; text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; }
td, tbody th { white-space: nowrap; }
thead th { vertical-align: bottom; }
section { break-inside: avoid; page-break-inside: avoid; }
caption { text-align: left; font-weight: bold; font-size: 11pt; padding: 2mm 0 1mm; }
@media screen and (max-width: 599.98px) {
  h1 { font-size: 14pt; }
  /* Half-hour cells are too small on a phone for their numbers: the table has them. */
  svg.halves .n { display: none; }
  th, td { padding: 0.6mm 0.9mm; font-size: 8.5pt; }
}
"""

# The heat map's geometry, in SVG units (the picture scales to the page's width).
_LABEL = 46
_HEAD = 24
_ROW = 34
_CELL = {60: 44, 30: 26}


def _bin(share: float) -> int:
    return min(int(share * 5), 4)


def _svg(used: Usage) -> list[str]:
    weekdays = used.weekdays()
    cells = {(c.weekday, c.start): c for c in used.slots}
    starts = sorted({c.start for c in used.slots})
    width = _CELL[used.slot]
    total_w = _LABEL + width * len(starts)
    total_h = _HEAD + _ROW * len(weekdays)
    font = 12 if used.slot == 60 else 10
    out = [
        f'<svg class="heat{" halves" if used.slot == 30 else ""}" viewBox="0 0 {total_w} {total_h}" role="img"'
        ' aria-labelledby="heat-title" xmlns="http://www.w3.org/2000/svg"'
        " font-family=\"Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif\">",
        '<title id="heat-title">Share of open chair time booked, by weekday and time of day;'
        " the table below gives each number</title>",
        "<defs>",
        '<pattern id="none" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)">',
        '<rect width="6" height="6" fill="#ffffff"/>',
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999999" stroke-width="1.5"/>',
        "</pattern>",
        "</defs>",
    ]
    # The hours along the top, each centred over its hour.
    per_hour = 60 // used.slot
    for k, start in enumerate(starts):
        if start % 60 == 0:
            span = min(per_hour, len(starts) - k)
            x = _LABEL + width * k + width * span / 2
            out.append(
                f'<text x="{x:g}" y="{_HEAD - 8}" font-size="{font}" text-anchor="middle">'
                f"{_hhmm(start)}</text>"
            )
    for row, weekday in enumerate(weekdays):
        y = _HEAD + _ROW * row
        out.append(
            f'<text x="4" y="{y + _ROW / 2 + 4:g}" font-size="12" font-weight="bold">'
            f"{WEEKDAY_ABBR[weekday]}</text>"
        )
        for k, start in enumerate(starts):
            cell = cells[(weekday, start)]
            x = _LABEL + width * k
            where = f"{WEEKDAY_FULL[weekday]} {_hhmm(start)}{DASH}{_hhmm(start + used.slot)}"
            box = f'x="{x + 1}" y="{y + 1}" width="{width - 2}" height="{_ROW - 2}"'
            if not cell.open:
                out += [
                    "<g>",
                    f"<title>{where}: not open</title>",
                    f'<rect {box} fill="url(#none)" stroke="#999999" stroke-width="0.5"/>',
                    "</g>",
                ]
                continue
            share = cell.booked / cell.open
            _, fill, ink = BINS[_bin(share)]
            out += [
                "<g>",
                f"<title>{where}: {percent(cell.booked, cell.open)} booked,"
                f" {length(cell.booked)} of {length(cell.open)} open chair time</title>",
                f'<rect {box} fill="{fill}" stroke="#555555" stroke-width="0.5"/>',
                f'<text x="{x + width / 2:g}" y="{y + _ROW / 2 + font / 3:g}" font-size="{font}"'
                f' text-anchor="middle" fill="{ink}" class="n">{cell.booked * 100 // cell.open}</text>',
                "</g>",
            ]
    out.append("</svg>")
    return out


def _legend() -> str:
    items = []
    low = 0
    for high, fill, _ in BINS:
        top = int(high * 100)
        text = f"{low}{DASH}{top - 1}%" if top < 100 else f"{low}{DASH}100%"
        items.append(f'<li><span class="key" style="background: {fill}"></span>{text}</li>')
        low = top
    items.append('<li><span class="key none"></span>not open</li>')
    return f'<ul class="legend">{"".join(items)}</ul>'


def _html(used: Usage, clinic_name: str | None, issued: dt.date | None) -> str:
    if issued is not None and not isinstance(issued, dt.date):
        raise BookError(f"issued: must be a date or a date and time, got {issued!r}")
    if clinic_name is not None and not isinstance(clinic_name, str):
        raise BookError(f"clinic_name: must be a text, got {clinic_name!r}")
    dates = f"{short_day(used.first)} to {short_day(used.last)}"
    title = f"Chair time booked, {dates}"
    foot = title + (f" \N{EM DASH} {clinic_name}" if clinic_name else "")
    stamp = stamp_text(issued)
    chairs = len(used.chairs)
    meta = [words(clinic_name)] if clinic_name else []
    meta += [f"{chairs} chair{'s' if chairs != 1 else ''}", f"times in {escape(used.timezone)}"]
    body = [
        "<header>",
        "<h1>Chair time booked</h1>",
        f'<p class="meta"><span class="nw">{short_day(used.first)}</span> to'
        f' <span class="nw">{short_day(used.last)}</span>{DOT}{DOT.join(meta)}</p>',
    ]
    if stamp:
        body.append(f'<p class="issued">{escape(stamp)}</p>')
    body.append("</header>")
    if not used.open:
        body.append('<p class="summary">The clinic is not open in these dates.</p>')
        return document(foot, _CSS, body, foot, stamp)
    body.append(
        f'<p class="summary"><strong>{percent(used.booked, used.open)}</strong> of the open'
        f" chair time is booked: {_hours(used.booked)} of {_hours(used.open)}"
        f" ({_hours(used.open - used.booked)} free).</p>"
    )
    fullest, emptiest = used.fullest(), used.emptiest()
    if fullest is not None and emptiest is not None:
        body.append(f"<p>Fullest: {_cell_words(fullest)}. Emptiest: {_cell_words(emptiest)}.</p>")
    body += ["<figure>", *_svg(used), f"<figcaption>{_legend()}</figcaption>", "</figure>"]
    body += _week_table(used)
    body += _slot_table(used)
    return document(foot, _CSS, body, foot, stamp)


def _hours(minutes: int) -> str:
    return f'<span class="nw">{clock(minutes)} h</span>'


def _cell_words(cell: SlotUsage) -> str:
    start, end = cell.times
    return (
        f'<span class="nw">{WEEKDAY_FULL[cell.weekday]}s {start}{DASH}{end}</span>'
        f" ({percent(cell.booked, cell.open)})"
    )


def _day_month_year(day: dt.date) -> str:
    """``16 Nov 2026``: a week's Monday, where the column says so."""
    return f"{day.day} {MONTH_ABBR[day.month - 1]} {day.year}"


def _week_table(used: Usage) -> list[str]:
    rows = [
        "<section>",
        "<table>",
        "<caption>By week</caption>",
        '<thead><tr><th scope="col">Week of Monday</th><th scope="col">Open h</th>'
        '<th scope="col">Booked h</th><th scope="col">Free h</th><th scope="col">Full</th>'
        "</tr></thead>",
        "<tbody>",
    ]
    for week in used.weeks():
        rows.append(
            f'<tr><th scope="row">{_day_month_year(week.monday)}</th><td>{clock(week.open)}</td>'
            f"<td>{clock(week.booked)}</td><td>{clock(week.free)}</td>"
            f"<td>{percent(week.booked, week.open)}</td></tr>"
        )
    rows += ["</tbody>", "</table>", "</section>"]
    return rows


def _slot_table(used: Usage) -> list[str]:
    """The heat map's numbers: a row per time of day, a column per weekday."""
    weekdays = used.weekdays()
    cells = {(c.weekday, c.start): c for c in used.slots}
    starts = sorted({c.start for c in used.slots})
    rows = [
        "<section>",
        "<table>",
        "<caption>By weekday and time (share booked)</caption>",
        '<thead><tr><th scope="col">Time</th>'
        + "".join(
            f'<th scope="col"><abbr title="{WEEKDAY_FULL[w]}">{WEEKDAY_ABBR[w]}</abbr></th>'
            for w in weekdays
        )
        + "</tr></thead>",
        "<tbody>",
    ]
    for start in starts:
        label = f"{_hhmm(start)}{DASH}{_hhmm(start + used.slot)}"
        row = [f'<th scope="row">{label}</th>']
        for weekday in weekdays:
            cell = cells[(weekday, start)]
            row.append(
                f"<td>{percent(cell.booked, cell.open)}</td>" if cell.open else "<td>not open</td>"
            )
        rows.append(f"<tr>{''.join(row)}</tr>")
    rows += ["</tbody>", "</table>", "</section>"]
    return rows
