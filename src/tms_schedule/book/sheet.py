"""The day sheet: what each chair does on one day, for the clinic's staff.

For a date, each chair's timeline in order: its sessions (start and end, course id,
protocol, the session by the number ``record`` takes and, where it differs, its place in
the course: "session 12 of 36", "session 13: 12th of 36"; its status, the milestones due at
it and its billing code), the stretches when it is free, and the
stretches when it is out (an outage) or its service day. A day the clinic is closed is
said plainly, with the reason. Sessions the book holds on that day without a chair
(missed and cancelled ones give their chair back) are listed after the chairs, so the
sheet lists every session the book has on the day, once.

*Free* means a new session could sit there: the chair's opening hours less its sessions
(with its turnover after and before each), its outages, and the moments when the clinic's
limit of sessions at once is reached. Between the sessions of an accelerated or cluster
day the chair stays that course's (the patient waits in it), so it is not free.

The sheet is for staff (its page and text say so): it names protocols and session numbers,
and it says nothing about a patient beyond the course id, which the caller keeps opaque.

Here are the model and its computation: :func:`day_sheet_from` works the sheet out from
plain inputs (the clinic's calendar, chairs, limits and outages, and the day's sessions as
:class:`~tms_schedule.book.seated.Seated` values, which a store can build from its rows),
and :func:`day_sheet` reads those from a book. The sheet's text, CSV and printable page are
drawn by :mod:`tms_schedule.pages.day_sheet`.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.book import Book, Chair
>>> clinic = ClinicCalendar("America/Denver")
>>> book = Book(clinic, (Chair("c1", "Chair 1"), Chair("c2", "Chair 2")))
>>> book = book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")))
>>> sheet = book.day_sheet("2026-11-17")
>>> [(s.chair, f"{s.start:%H:%M}", s.course_id, s.position, s.cpt) for s in sheet.sessions()]
[('c1', '09:00', 'c-1', 'session 2 of 36', '90868')]
>>> [f"{a:%H:%M}-{b:%H:%M}" for a, b in sheet.chair("c1").free]
['08:00-08:55', '09:45-18:00']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import attrs

from tms_schedule._conveniences import provided
from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.book.occupancy import Booking, Occupancy, minute
from tms_schedule.book.seated import Seated, holds, seated
from tms_schedule.clinic import ClinicCalendar, OpeningHours
from tms_schedule.errors import BookError
from tms_schedule.export.places import session_words

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = ["ChairDay", "DaySheet", "SheetSession", "Stretch", "day_sheet", "day_sheet_from"]


@attrs.frozen
class SheetSession:
    """One session on the day sheet.

    Attributes:
        chair: the chair's id; ``None`` for a session without one (missed, cancelled).
        start: the local start, in the clinic's zone.
        end: the local end.
        course_id: the course's opaque id.
        protocol_id: the course's protocol.
        phase: the protocol phase (``acute``, ``taper``, ...).
        number: the session's number in the course (as the course's records name it).
        place: its place among the course's sessions that count (attended or to come), in
            time order: 12 in "session 13: 12th of 36"; ``None`` for a missed or
            cancelled session.
        of: the sessions the course delivers (36).
        status: ``scheduled``, ``attended``, ``missed`` or ``cancelled``.
        cpt: the billing code, when the course assigns one.
        milestones: what is due at the session (mapping and motor threshold, motor
            threshold re-determination, a rating), as the course computes them.
    """

    chair: str | None
    start: dt.datetime
    end: dt.datetime
    course_id: str
    protocol_id: str
    phase: str
    number: int
    place: int | None
    of: int
    status: str
    cpt: str | None = None
    milestones: tuple[str, ...] = ()

    @property
    def position(self) -> str:
        """The session as every view names it: by the number ``record`` takes, with its
        place beside it where they differ (:func:`~tms_schedule.export.places.session_words`):
        ``session 12 of 36``, ``session 13: 12th of 36``, ``session 45, a make-up: 6th of
        44``; ``session 2`` for one that does not count (missed, cancelled)."""
        return session_words(self.number, self.place, self.of)


class Stretch(NamedTuple):
    """One entry of a chair's timeline: a ``session``; a ``free`` stretch; an ``out``
    stretch (an outage, with its reason); or a ``held`` one, an accelerated or cluster day
    that keeps the chair from its first session to its last (``reason``: the course id;
    its sessions are entries of their own)."""

    start: dt.datetime
    end: dt.datetime
    kind: str
    session: SheetSession | None = None
    reason: str | None = None

    @property
    def minutes(self) -> int:
        return (minute(self.end) - minute(self.start)) if self.end > self.start else 0


# Where entries that start together go: what stops the chair first.
_KIND_ORDER = {"out": 0, "held": 1, "session": 2, "free": 3}


@attrs.frozen
class ChairDay:
    """One chair's day.

    Attributes:
        chair: the chair.
        sessions: its sessions, by start.
        free: the stretches a new session could sit in (see the module), by start.
        outages: the stretches it is out (its own outages and the clinic's), clipped to
            the opening hours, as ``Stretch`` entries of kind ``out``.
        service: the reason it is out all day (its service day), or ``None``.
        held: the accelerated or cluster days of several sessions that keep it from their
            first session to their last, as ``Stretch`` entries of kind ``held``.
    """

    chair: Chair
    sessions: tuple[SheetSession, ...]
    free: tuple[tuple[dt.datetime, dt.datetime], ...]
    outages: tuple[Stretch, ...] = ()
    service: str | None = None
    held: tuple[Stretch, ...] = ()

    def timeline(self) -> list[Stretch]:
        """Sessions, free stretches, outages and held days together, in time order."""
        entries = [Stretch(s.start, s.end, "session", session=s) for s in self.sessions]
        entries += [Stretch(a, b, "free") for a, b in self.free]
        entries += self.outages
        entries += self.held
        return sorted(entries, key=lambda e: (e.start, _KIND_ORDER[e.kind], e.end))

    @property
    def free_minutes(self) -> int:
        return sum(minute(b) - minute(a) for a, b in self.free)


@attrs.frozen
class DaySheet:
    """What each chair does on one day (see the module).

    Attributes:
        date: the day.
        timezone: the clinic's IANA zone; every time is local to it.
        hours: the clinic's opening hours that day; ``None`` when it is closed.
        closed: why the clinic is closed (the holiday or closure, or "closed on
            Saturdays"); ``None`` when it is open.
        chairs: each chair's day, in the book's order of chairs.
        unseated: the day's sessions without a chair (missed, cancelled), by start.
        at_limit: the stretches when the clinic's limit of sessions at once is reached (no
            chair is free then, whatever it holds).
        protocols: the protocols of the day's sessions: (id, name), by id.
    """

    date: dt.date
    timezone: str
    hours: OpeningHours | None
    closed: str | None
    chairs: tuple[ChairDay, ...]
    unseated: tuple[SheetSession, ...] = ()
    at_limit: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    protocols: tuple[tuple[str, str], ...] = ()

    def sessions(self) -> tuple[SheetSession, ...]:
        """Every session on the sheet: chair by chair, then those without a chair."""
        return tuple(s for chair in self.chairs for s in chair.sessions) + self.unseated

    def chair(self, chair_id: str) -> ChairDay:
        """The day of the chair with this id."""
        for entry in self.chairs:
            if entry.chair.id == chair_id:
                return entry
        known = ", ".join(entry.chair.id for entry in self.chairs)
        raise BookError(f"chair: no chair {chair_id!r}; chairs: {known}")

    def closed_text(self) -> str | None:
        """``The clinic is closed: Thanksgiving Day.`` or ``The clinic is closed on
        Saturdays.``; ``None`` when it is open."""
        if self.closed is None:
            return None
        if self.closed.startswith("closed on "):
            return f"The clinic is {self.closed}."
        return f"The clinic is closed: {self.closed.replace(': clinic closed', '')}."

    # -- renderings (tms_schedule.pages.day_sheet) ---------------------------------------------

    def to_text(self) -> str:
        """The sheet as text for a terminal: every line fits 80 columns (see
        :func:`~tms_schedule.pages.day_sheet.day_sheet_text`)."""
        return str(provided("day_sheet_text")(self))

    def to_csv(self) -> str:
        """One row per session, with a header row and ``\\r\\n`` line ends (RFC 4180); the
        columns are :data:`~tms_schedule.pages.day_sheet.SHEET_CSV_COLUMNS` (see
        :func:`~tms_schedule.pages.day_sheet.day_sheet_csv`)."""
        return str(provided("day_sheet_csv")(self))

    def to_html(self, *, clinic_name: str | None = None, issued: dt.date | None = None) -> str:
        """The sheet as a printable page: one self-contained HTML5 document (see
        :func:`~tms_schedule.pages.day_sheet.day_sheet_html`).

        Args:
            clinic_name: printed in the heading and at the foot of every page.
            issued: when the sheet was printed (a date, or a date and time): the sheet is
                out of date once the book changes, so the time is worth printing. The
                library reads no clock: the caller gives it.
        """
        return str(provided("day_sheet_html")(self, clinic_name=clinic_name, issued=issued))


def day_sheet(book: Book, day: dt.date) -> DaySheet:
    """The day sheet of ``day`` in ``book`` (see :meth:`Book.day_sheet
    <tms_schedule.book.Book.day_sheet>`)."""
    return day_sheet_from(
        day,
        clinic=book.clinic,
        chairs=book.chairs,
        limits=book.limits,
        outages=book.outages,
        seated=seated(book, day, day),
    )


def day_sheet_from(
    day: dt.date,
    *,
    clinic: ClinicCalendar,
    chairs: Sequence[Chair],
    limits: Iterable[StaffLimit] = (),
    outages: Iterable[Outage] = (),
    seated: Iterable[Seated],
) -> DaySheet:
    """The day sheet of ``day`` from plain inputs: the clinic's calendar, its chairs (in
    the order the sheet lists them), staff limits and outages, and every session of the
    day with its chair and place (:class:`~tms_schedule.book.seated.Seated`; sessions of
    other days are left out). A store builds them from its rows for the one day.
    """
    entries = [e for e in seated if e.session.start.date() == day]
    limits, outages = tuple(limits), tuple(outages)
    held = list(holds(entries))
    occupancy = Occupancy(clinic, chairs, limits, outages, held)
    hours = clinic.day(day).hours
    rows = _rows(entries)
    kept = _kept_days(entries, held)
    zone = clinic.zone
    return DaySheet(
        date=day,
        timezone=clinic.timezone,
        hours=hours,
        closed=None if hours is not None else clinic.closure_reason(day),
        chairs=tuple(
            ChairDay(
                chair,
                tuple(r for r in rows if r.chair == chair.id),
                free=tuple(
                    (_local(a, zone), _local(b, zone)) for a, b in occupancy.gaps(chair, day)
                ),
                outages=_outages(chair, day, hours, outages, zone),
                service=chair.closed_on(day),
                held=tuple(
                    Stretch(_local(b.start, zone), _local(b.end, zone), "held", reason=b.course)
                    for b in kept
                    if b.chair == chair.id
                ),
            )
            for chair in chairs
        ),
        unseated=tuple(r for r in rows if r.chair is None),
        at_limit=tuple(
            (_local(a, zone), _local(b, zone)) for a, b in _at_limit(limits, day, held, zone)
        ),
        protocols=tuple(sorted({(e.protocol_id, e.protocol_name) for e in entries})),
    )


def _rows(entries: list[Seated]) -> list[SheetSession]:
    """The sheet's sessions by start, course and number (grouped by chair later)."""
    rows = [
        SheetSession(
            chair=e.chair,
            start=e.session.start,
            end=e.session.end,
            course_id=e.course_id,
            protocol_id=e.protocol_id,
            phase=e.session.phase,
            number=e.session.number,
            place=e.place,
            of=e.of,
            status=e.session.status,
            cpt=e.session.cpt,
            milestones=e.session.milestones,
        )
        for e in entries
    ]
    rows.sort(key=lambda r: (r.start.astimezone(dt.UTC), r.course_id, r.number))
    return rows


def _kept_days(entries: list[Seated], held: list[tuple[dt.date, Booking]]) -> list[Booking]:
    """The chair holds that span several sessions (accelerated and cluster days): those
    that are not one session's own time, by start and course."""
    singles = {
        (e.chair, e.course_id, minute(e.session.start), minute(e.session.end)) for e in entries
    }
    return sorted(
        (b for _, b in held if (b.chair, b.course, b.start, b.end) not in singles),
        key=lambda b: (b.start, b.course),
    )


def _outages(
    chair: Chair,
    day: dt.date,
    hours: OpeningHours | None,
    outages: Iterable[Outage],
    zone: dt.tzinfo,
) -> tuple[Stretch, ...]:
    """The chair's outages and the clinic's on ``day``, clipped to the opening hours (none
    on its service day or a day the clinic is closed)."""
    if hours is None or chair.closed_on(day) is not None:
        return ()
    opens = dt.datetime.combine(day, hours.opens, tzinfo=zone)
    closes = dt.datetime.combine(day, hours.closes, tzinfo=zone)
    found = []
    for outage in outages:
        start, end = max(outage.start, opens), min(outage.end, closes)
        if outage.chair in (None, chair.id) and start < end:
            found.append(
                Stretch(start.astimezone(zone), end.astimezone(zone), "out", reason=outage.reason)
            )
    return tuple(sorted(found, key=lambda o: (o.start, o.end, o.reason or "")))


def _local(moment: int, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment * 60, tz=zone)


def _at_limit(
    limits: Iterable[StaffLimit], day: dt.date, held: list[tuple[dt.date, Booking]], zone: dt.tzinfo
) -> list[tuple[int, int]]:
    """The stretches of ``day`` (minutes) when a staff limit allows no further session, as
    the book's index works them out."""
    events: dict[int, int] = {}
    for _, booking in held:
        events[booking.start] = events.get(booking.start, 0) + 1
        events[booking.end] = events.get(booking.end, 0) - 1
    found: list[tuple[int, int]] = []
    for limit in limits:
        if not limit.applies(day):
            continue
        low, high = -(2**62), 2**62
        if limit.hours is not None:
            low = minute(dt.datetime.combine(day, limit.hours.opens, tzinfo=zone))
            high = minute(dt.datetime.combine(day, limit.hours.closes, tzinfo=zone))
        count, since = 0, None
        for moment in sorted(events):
            count += events[moment]
            if count >= limit.sessions and since is None:
                since = moment
            elif count < limit.sessions and since is not None:
                start, end = max(since, low), min(moment, high)
                if start < end:
                    found.append((start, end))
                since = None
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
