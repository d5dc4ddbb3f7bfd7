"""The clinic's book: its calendar, its chairs, and every course with each session's chair.

A :class:`Book` is a value, like a :class:`~tms_schedule.course.Course`: each change gives
a new book and leaves the old one as it was, so clinic software keeps it in its own
database and the command line in one SQLite file (:mod:`tms_schedule.book.store`). It keeps
one rule above all: **never two sessions on one chair at once** (with the chair's turnover
between them), never a session on a chair that cannot run its protocol or is out, and
never more sessions at once than the clinic's staff limit allows. A change that would
break it raises :class:`~tms_schedule.errors.BookingConflictError` naming each session
and why, and the book stays as it was.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.book import Book, Chair
>>> clinic = ClinicCalendar("America/Denver")
>>> book = Book(clinic, (Chair("c1", "Chair 1"), Chair("c2", "Chair 2")))
>>> book = book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")))
>>> book = book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-2")))
>>> book.seats("c-1")[1], book.seats("c-2")[1]
('c1', 'c2')
>>> book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-3")))
Traceback (most recent call last):
...
tms_schedule.errors.BookingConflictError: course c-3: no chair for 36 session(s): session 1 on Mon 16 Nov 2026 09:00: every chair that can run it is booked then; ...
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from tms_schedule._conveniences import provided
from tms_schedule._dates import short_day, short_moment
from tms_schedule._time import DateInput, MomentInput, TimeInput, as_date, as_moment, as_time
from tms_schedule._validate import int_in_range
from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.book.occupancy import Booking, Occupancy, block_phases, minute
from tms_schedule.book.offers import Offer, find_moves, find_offers
from tms_schedule.catalogue import get_protocol
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course.authorization import Authorization
from tms_schedule.course.changes import Changes
from tms_schedule.course.lifecycle import Course, follow_relation
from tms_schedule.course.linked import check_apart, clash
from tms_schedule.course.replan import Availability, Bookable, Free, Unavailable
from tms_schedule.errors import (
    BlockBreakError,
    BookError,
    BookingConflictError,
    InvalidChairError,
    TmsScheduleError,
)
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Session

if TYPE_CHECKING:
    from tms_schedule.book.room import Room
    from tms_schedule.book.sheet import DaySheet
    from tms_schedule.book.usage import Usage

__all__ = ["Book", "BookEvent", "Booked", "EventReport", "Rebooked"]

_OCCUPYING = ("scheduled", "attended")
_FREE = Free()


def _seats(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted(value.items()))
    return tuple(sorted(value)) if isinstance(value, list | tuple) else value


def _numbers(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(value))


# The chair time of others a book was made with, checked, and the courses it is of: a
# change makes several books of one window (each course it adds or re-plans makes one), all
# with the same chair time, thousands of entries. The few last ones are kept (the tuples
# themselves, so an id is never another's).
_CHECKED_OTHERS: list[tuple[tuple[Any, ...], tuple[str, ...], frozenset[str]]] = []


def _others_checked(others: tuple[Any, ...], chairs: list[str]) -> frozenset[str]:
    """The courses ``others`` holds chair time of, once each entry is found to be a (date,
    :class:`~tms_schedule.book.occupancy.Booking`) pair on one of ``chairs``."""
    ids = tuple(chairs)
    for known, known_ids, courses in _CHECKED_OTHERS:
        if known is others and known_ids == ids:
            return courses
    allowed = set(ids)
    for entry in others:
        if (
            not isinstance(entry, tuple)
            or len(entry) != 2
            or not isinstance(entry[1], Booking)
            or entry[1].chair not in allowed
        ):
            raise BookError(
                "others: must be (date, Booking) pairs on the book's chairs"
                f" ({', '.join(ids)}), got {entry!r}"
            )
    courses = frozenset(entry[1].course for entry in others)
    if others:
        _CHECKED_OTHERS.insert(0, (others, ids, courses))
        del _CHECKED_OTHERS[4:]
    return courses


@attrs.frozen
class Booked:
    """A course in the book and the chair of each of its sessions (by session number).

    ``unseated``: sessions to come left without a chair on purpose, for the front desk to
    resolve (a chair out on an accelerated day, when no other chair holds the day: the
    block's days are not moved for it). :meth:`Book.check` lists them apart, and the next
    change of the course seats them where a chair is free.
    """

    course: Course
    seats: tuple[tuple[int, str], ...] = attrs.field(default=(), converter=_seats)
    unseated: tuple[int, ...] = attrs.field(default=(), converter=_numbers)
    _held: tuple[tuple[dt.date, Booking], ...] | None = attrs.field(
        init=False, default=None, eq=False, repr=False
    )

    @property
    def course_id(self) -> str:
        return self.course.course_id

    def seat_map(self) -> dict[int, str]:
        return dict(self.seats)

    def bookings(self) -> tuple[tuple[dt.date, Booking], ...]:
        """What the course holds of the chairs, by day (worked out once: a booked course
        is a value). The sessions an accelerated or cluster day holds on one chair make
        one booking from the first start to the last end: the chair is that course's for
        the day (the patient stays between sessions)."""
        if self._held is None:
            object.__setattr__(self, "_held", tuple(self._work_out()))
        assert self._held is not None
        return self._held

    def _under(self, clinic: ClinicCalendar) -> Booked:
        """The course under an updated clinic calendar, on the same chairs: its sessions,
        and so what it holds of the chairs, stay as they were (a closure's calendar is
        given to every course of the book before the ones it touches are re-planned)."""
        moved = attrs.evolve(self, course=self.course.with_clinic(clinic))
        object.__setattr__(moved, "_held", self.bookings())
        return moved

    def _work_out(self) -> Iterable[tuple[dt.date, Booking]]:
        seats = self.seat_map()
        blocks = block_phases(self.course.plan.protocol)
        spans: dict[tuple[dt.date, str], Booking] = {}
        course_id = self.course_id
        for session in self.course.schedule.sessions:
            chair = seats.get(session.number)
            if chair is None or session.status not in _OCCUPYING:
                continue
            day = session.date
            booking = Booking(
                chair, minute(session.start), minute(session.end), course_id, session.number
            )
            if session.phase not in blocks:
                yield day, booking
                continue
            held = spans.get((day, chair))
            spans[(day, chair)] = (
                booking
                if held is None
                else held._replace(
                    start=min(held.start, booking.start), end=max(held.end, booking.end)
                )
            )
        yield from ((day, booking) for (day, _), booking in spans.items())


@attrs.frozen
class BookEvent:
    """A clinic-wide change the book applied to many courses at once, kept so it can be
    taken back.

    Attributes:
        number: 1, 2, ... in the order they were entered.
        kind: ``closure`` (whole days, every chair), ``chair`` (whole days, one chair) or
            ``outage`` (hours of days, one chair or all).
        first: the first day it covers.
        last: the last day it covers.
        reason: what the front desk entered ("Snow day").
        chair: the chair, for a chair closure or a one-chair outage.
        hours: the hours of each day, for an outage.
        revisions: the revision each re-planned course got from it, by course id.
        undone: whether it was taken back.
        extra_days: the clinic's extra open days a closure took out (back on undo).
    """

    number: int
    kind: Literal["closure", "chair", "outage"]
    first: dt.date
    last: dt.date
    reason: str
    chair: str | None = None
    hours: OpeningHours | None = None
    revisions: tuple[tuple[str, int], ...] = ()
    undone: bool = False
    extra_days: tuple[ExtraOpenDay, ...] = ()

    def describe(self) -> str:
        """``Snow day: 2026-12-01, every chair``."""
        days = f"{self.first}" + (f" to {self.last}" if self.last != self.first else "")
        hours = f" {self.hours}" if self.hours else ""
        where = f"chair {self.chair}" if self.chair else "every chair"
        return f"{self.reason}: {days}{hours}, {where}"

    def closure(self) -> Closure:
        """The closure a ``closure`` or ``chair`` event puts in the calendar or the chair's."""
        return Closure(self.first, self.last, self.reason)

    def outages(self, zone: Any) -> tuple[Outage, ...]:
        """The outages an ``outage`` event puts in, one a day."""
        assert self.hours is not None
        days = (self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1))
        return tuple(
            Outage(
                dt.datetime.combine(day, self.hours.opens, tzinfo=zone),
                dt.datetime.combine(day, self.hours.closes, tzinfo=zone),
                self.reason,
                self.chair,
            )
            for day in days
        )

    def overlaps(self, other: BookEvent) -> bool:
        """Whether the two events close something twice: of one kind, on a day both
        cover, the same chair (or every chair) and, for outages, hours both cover."""
        if other.kind != self.kind or other.last < self.first or self.last < other.first:
            return False
        if self.kind == "chair":
            return self.chair == other.chair
        if self.kind == "outage":
            assert self.hours is not None and other.hours is not None
            return (
                (None in (self.chair, other.chair) or self.chair == other.chair)
                and self.hours.opens < other.hours.closes
                and other.hours.opens < self.hours.closes
            )
        return True

    def hits(self, booked: Booked, zone: Any, statuses: tuple[str, ...]) -> Iterator[Session]:
        """The course's sessions of these statuses that the event covers, in order."""
        seats = booked.seat_map()
        for session in booked.course.schedule.sessions:
            if session.status not in statuses:
                continue
            start = session.start.astimezone(zone)
            if not self.first <= start.date() <= self.last:
                continue
            if self.chair is not None and seats.get(session.number) != self.chair:
                continue
            if self.hours is not None and not (
                start.time() < self.hours.closes
                and self.hours.opens < session.end.astimezone(zone).time()
            ):
                continue
            yield session


@attrs.frozen
class Rebooked:
    """What an event (or its undo) did to one course: the re-plan's changes, the sessions
    that only changed chair, and those left without one for the front desk (see
    :class:`Booked`)."""

    course: Course
    changes: Changes
    chairs: tuple[tuple[int, dt.datetime, str, str], ...] = ()
    unseated: tuple[Session, ...] = ()

    @property
    def course_id(self) -> str:
        return self.course.course_id

    def lines(self, chair_names: Mapping[str, str]) -> list[str]:
        out = [str(change) for change in self.changes] if self.changes else []
        out += [
            f"Session {number} on {short_moment(start)}: now on {chair_names.get(new, new)}"
            f" (was {chair_names.get(old, old)})"
            for number, start, old, new in self.chairs
        ]
        days: dict[dt.date, list[Session]] = {}
        for session in self.unseated:
            days.setdefault(session.date, []).append(session)
        for day, sessions in days.items():
            numbers = (
                f"Session {sessions[0].number}"
                if len(sessions) == 1
                else f"Sessions {sessions[0].number} to {sessions[-1].number}"
            )
            out.append(
                f"{numbers} on {short_day(day)}: no chair that runs"
                f" {self.course.plan.protocol.id} holds them; kept on their day without a"
                " chair, for the front desk to resolve"
            )
        return out


@attrs.frozen
class EventReport:
    """Every course an event changed, with what to tell each patient.

    ``courses`` are in the order of their first changed session; each holds the updated
    course (for its calendar file: ``entry.course.to_ics(...)``).
    """

    event: BookEvent
    courses: tuple[Rebooked, ...]
    chair_names: tuple[tuple[str, str], ...] = ()

    def to_text(self) -> str:
        """The list of patients to contact, course by course.

        >>> EventReport(BookEvent(1, "closure", dt.date(2026, 12, 1), dt.date(2026, 12, 1),
        ...     "Snow day"), ()).to_text()
        'Snow day: 2026-12-01, every chair\\nNo course has a session then.\\n'
        """
        names = dict(self.chair_names)
        lines = [self.event.describe()]
        if not self.courses:
            lines.append("No course has a session then.")
        for entry in self.courses:
            lines.append(f"Course {entry.course_id}:")
            lines += [f"  {line}" for line in entry.lines(names)]
        return "\n".join(lines) + "\n"


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen(eq=True)
class Book:
    """The clinic's calendar, chairs and courses (see the module).

    Args:
        clinic: the clinic calendar every course follows.
        chairs: the chairs, each with its equipment, turnover and service days.
        limits: the clinic's limits of sessions at once (technicians on shift).
        outages: stretches of hours when a chair, or every chair, is out.
        courses: the courses and their chairs.
        events: the clinic-wide changes entered so far.
        others: the chair time of courses the book does not hold, by day (a window of a
            larger book, as a store hands it out: see below). Empty for a book that holds
            all its courses.

    **A window of a book.** A clinic with years of courses need not hold them all to
    book one more: a book may hold only the courses an action touches, with the chair
    time every other course holds (``others``, each a
    :class:`~tms_schedule.book.occupancy.Booking` on its local day). Its offers, re-plans
    and checks then count that chair time as taken, and :meth:`check` reports a held
    course that overlaps it; the store (:mod:`tms_schedule.book.store`) works this way.

    >>> from tms_schedule import Plan
    >>> from tms_schedule.book.occupancy import Booking
    >>> clinic = ClinicCalendar("America/Denver")
    >>> day = dt.date(2026, 11, 16)
    >>> busy = Booking("c1", 29_914_080, 29_914_120, "c-0", 1)  # 09:00-09:40 that day
    >>> window = Book(clinic, (Chair("c1", "Chair 1"),), others=((day, busy),))
    >>> window.add(Course.start(Plan("standard-10hz", clinic, day, "09:00", "c-1")))
    Traceback (most recent call last):
    ...
    tms_schedule.errors.BookingConflictError: course c-1: no chair for 1 session(s): session 1 on Mon 16 Nov 2026 09:00: every chair that can run it is booked then
    """

    clinic: ClinicCalendar
    chairs: tuple[Chair, ...] = attrs.field(converter=_tuple)
    limits: tuple[StaffLimit, ...] = attrs.field(default=(), converter=_tuple)
    outages: tuple[Outage, ...] = attrs.field(default=(), converter=_tuple)
    courses: tuple[Booked, ...] = attrs.field(default=(), converter=_tuple)
    events: tuple[BookEvent, ...] = attrs.field(default=(), converter=_tuple)
    others: tuple[tuple[dt.date, Booking], ...] = attrs.field(
        default=(), converter=_tuple, repr=False
    )
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.clinic, ClinicCalendar):
            raise BookError(f"clinic: must be a ClinicCalendar, got {self.clinic!r}")
        if not self.chairs or not all(isinstance(c, Chair) for c in self.chairs):
            raise InvalidChairError("chairs: a book needs at least one Chair")
        ids = [chair.id for chair in self.chairs]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InvalidChairError(f"chairs: each chair id once; given twice: {', '.join(twice)}")
        if len(self.chairs) > 200:
            raise InvalidChairError(f"chairs: at most 200, got {len(self.chairs)}")
        for outage in self.outages:
            if outage.chair is not None and outage.chair not in ids:
                raise InvalidChairError(
                    f"outages: no chair {outage.chair!r}; chairs: {', '.join(ids)}"
                )
        index: dict[str, int] = {}
        for position, booked in enumerate(self.courses):
            if booked.course.course_id in index:
                raise BookError(f"courses: course {booked.course.course_id} is in the book twice")
            self._check_booked(booked, ids)
            index[booked.course.course_id] = position
        held_apart = _others_checked(self.others, ids)
        if not held_apart.isdisjoint(index):
            course = min(held_apart.intersection(index))
            raise BookError(f"others: course {course} is held in full; its chair time is its own")
        object.__setattr__(self, "_index", index)

    def _check_booked(self, booked: Booked, chairs: list[str]) -> None:
        """Refuse a course planned in another zone or seated on chairs the book lacks."""
        if booked.course.plan.clinic.timezone != self.clinic.timezone:
            raise BookError(
                f"courses: course {booked.course.course_id} is planned in"
                f" {booked.course.plan.clinic.timezone}, the clinic in {self.clinic.timezone}"
            )
        unknown = sorted({chair for _, chair in booked.seats}.difference(chairs))
        if unknown:
            raise BookError(
                f"courses: course {booked.course.course_id} sits on unknown chair(s)"
                f" {', '.join(unknown)}; chairs: {', '.join(chairs)}"
            )

    # -- reading ----------------------------------------------------------------------------------

    def course_ids(self) -> list[str]:
        """The course ids, in the order the courses were booked."""
        return [booked.course_id for booked in self.courses]

    def course(self, course_id: str) -> Course:
        """The course with this id; an unknown id raises :class:`BookError`."""
        return self._booked(course_id).course

    def seats(self, course_id: str) -> dict[int, str]:
        """The chair of each session of the course, by session number."""
        return self._booked(course_id).seat_map()

    def chair(self, chair_id: str) -> Chair:
        """The chair with this id."""
        for chair in self.chairs:
            if chair.id == chair_id:
                return chair
        raise BookError(
            f"chair: no chair {chair_id!r}; chairs: {', '.join(c.id for c in self.chairs)}"
        )

    def chair_names(self) -> dict[str, str]:
        return {chair.id: chair.name for chair in self.chairs}

    def _booked(self, course_id: str) -> Booked:
        position = self._index.get(course_id)
        if position is None:
            known = ", ".join(self.course_ids()) or "none yet"
            raise BookError(f"course: no course {course_id!r} in the book; courses: {known}")
        return self.courses[position]

    def occupancy(self, *, without: str | None = None) -> Occupancy:
        """The index of booked sessions (without the course ``without``), the chair time
        of the courses the book does not hold (:attr:`others`) included."""
        bookings = itertools.chain(
            (
                held
                for booked in self.courses
                if booked.course_id != without
                for held in booked.bookings()
            ),
            self.others,
        )
        return Occupancy(self.clinic, self.chairs, self.limits, self.outages, bookings)

    def _bookings(self) -> Iterable[tuple[dt.date, Booking]]:
        """Every booked session by day (see :meth:`Booked.bookings`), others' included."""
        for booked in self.courses:
            yield from booked.bookings()
        yield from self.others

    def bookable(
        self,
        course: Course,
        occupancy: Occupancy | None = None,
        *,
        waiting: Collection[tuple[dt.datetime, dt.datetime]] = (),
    ) -> Bookable:
        """The check a re-plan of ``course`` uses: :class:`Free` when a chair that can run
        it is free then, else :class:`Unavailable` and why. The times of ``waiting``
        (sessions left for the front desk to seat) are taken as they are."""
        occupancy = occupancy or self.occupancy(without=course.course_id)
        protocol = course.plan.protocol
        zone = self.clinic.zone

        def check(start: dt.datetime, end: dt.datetime) -> Availability:
            if waiting and (start, end) in waiting:
                return _FREE
            why = occupancy.why_not(
                protocol, start.astimezone(zone).date(), minute(start), minute(end)
            )
            return _FREE if why is None else Unavailable(why)

        return check

    def unseated(self) -> list[tuple[str, Session]]:
        """The sessions to come left without a chair for the front desk to resolve (see
        :class:`Booked`), by course and time."""
        found = []
        for booked in self.courses:
            waiting = set(booked.unseated)
            found += [
                (booked.course_id, s)
                for s in booked.course.schedule.sessions
                if s.number in waiting
            ]
        return found

    def check(self) -> list[str]:
        """Every broken rule, in words (empty for a sound book): two sessions on one chair
        at once, a chair that cannot run its session's protocol or is out, a session that
        should have a chair and has none, too many sessions at once.

        In a window of a book (see :attr:`others`) a held course is checked against the
        chair time of the others as well; what concerns the others alone is not this
        window's to say (the store's :meth:`~tms_schedule.book.store.BookStore.check`
        looks at the whole book)."""
        problems: list[str] = []
        chairs = {chair.id: chair for chair in self.chairs}
        zone = self.clinic.zone
        moments: dict[dt.date, list[tuple[int, int]]] = {}
        for booked in self.courses:
            seats = booked.seat_map()
            waiting = set(booked.unseated)
            protocol = booked.course.plan.protocol
            for session in booked.course.schedule.sessions:
                if session.status not in _OCCUPYING:
                    continue
                what = f"course {booked.course_id} session {session.number}"
                chair_id = seats.get(session.number)
                if chair_id is None:
                    if session.status == "scheduled" and session.number not in waiting:
                        problems.append(f"{what} on {short_moment(session.start)} has no chair")
                    continue
                chair = chairs[chair_id]
                day = session.start.astimezone(zone).date()
                if not chair.can_run(protocol):
                    problems.append(f"{what}: {chair.name} cannot run {protocol.id}")
                if session.status == "scheduled":
                    out = chair.closed_on(day)
                    if out:
                        problems.append(f"{what}: {chair.name} is out on {day} ({out})")
                    for outage in self.outages:
                        if outage.covers(chair_id, session.start, session.end):
                            problems.append(f"{what}: {chair.name} is out then ({outage.reason})")
                if self.limits:  # (only a limit counts sessions at once)
                    moments.setdefault(day, []).append((minute(session.start), minute(session.end)))
        problems += self._overlaps(chairs)
        if self.limits:
            problems += self._over_limits(moments)
        return problems

    def _overlaps(self, chairs: Mapping[str, Chair]) -> list[str]:
        """Two holds of one chair at once (with its turnover), one of them held here."""
        per_chair: dict[str, list[tuple[int, int, str, str, bool]]] = {}
        turnover = {key: int(chair.turnover.total_seconds()) // 60 for key, chair in chairs.items()}
        mine = [entry for booked in self.courses for entry in booked.bookings()]
        days = {day for day, _ in mine}  # others' chair time matters on these days only
        spans: Iterable[tuple[tuple[dt.date, Booking], bool]] = itertools.chain(
            ((entry, True) for entry in mine),
            ((entry, False) for entry in self.others if entry[0] in days),
        )
        for (_, booking), held in spans:
            per_chair.setdefault(booking.chair, []).append(
                (
                    booking.start,
                    booking.end + turnover[booking.chair],
                    booking.course,
                    str(booking.number),  # (in the order of the words that name them)
                    held,
                )
            )
        problems = []
        for chair_id, found in per_chair.items():
            found.sort()
            reach: tuple[int, str, str, bool] | None = None  # the latest end so far, whose
            for start, end, course, number, held in found:
                if reach is not None and start < reach[0] and (held or reach[3]):
                    problems.append(
                        f"course {reach[1]} session {reach[2]} and course {course} session"
                        f" {number} overlap on {chairs[chair_id].name}"
                    )
                if reach is None or end > reach[0]:
                    reach = (end, course, number, held)
        return problems

    def _over_limits(self, moments: dict[dt.date, list[tuple[int, int]]]) -> list[str]:
        """The days when more sessions run at once than a staff limit allows, at a moment
        when one of the held courses has a session."""
        zone = self.clinic.zone
        others: dict[dt.date, list[tuple[int, int]]] = {}
        for day, booking in self.others:
            if day in moments:
                others.setdefault(day, []).append((booking.start, booking.end))
        problems = []
        for day, times in moments.items():
            for limit in self.limits:
                if not limit.applies(day):
                    continue
                events: dict[int, list[int]] = {}
                for spans, mine in ((times, 1), (others.get(day, ()), 0)):
                    for start, end in spans:
                        events.setdefault(start, [0, 0])
                        events.setdefault(end, [0, 0])
                        events[start][0] += 1
                        events[start][1] += mine
                        events[end][0] -= 1
                        events[end][1] -= mine
                count = held = 0
                for moment in sorted(events):
                    count += events[moment][0]
                    held += events[moment][1]
                    if count > limit.sessions and held and _in_hours(moment, limit, day, zone):
                        problems.append(
                            f"{day}: {count} sessions at once, more than the limit of"
                            f" {limit.sessions}"
                        )
                        break
        return problems

    # -- booking ------------------------------------------------------------------------------------

    def add(
        self, course: Course, seats: Mapping[int, str] | None = None, *, chair: str | None = None
    ) -> Book:
        """The book with ``course`` in it, each session on a chair (``seats`` where given,
        else on ``chair`` where free, else the chair its previous session had, else the
        first free one). A session that no chair can take raises
        :class:`BookingConflictError`; sessions already attended sit where they can or
        without a chair (the past is as it was)."""
        if not isinstance(course, Course):
            raise BookError(f"course: must be a Course, got {course!r}")
        if course.course_id in self._index or any(
            booking.course == course.course_id for _, booking in self.others
        ):
            raise BookError(f"course: course {course.course_id} is in the book already")
        if course.plan.clinic.timezone != self.clinic.timezone:
            raise BookError(
                f"course: course {course.course_id} is planned in {course.plan.clinic.timezone},"
                f" the clinic in {self.clinic.timezone}"
            )
        if chair is not None:
            self.chair(chair)
        placed = self._seat(course, self.occupancy(), dict(seats or {}), {}, chair)
        return attrs.evolve(self, courses=(*self.courses, Booked(course, placed)))

    def update(
        self,
        course: Course,
        *,
        occupancy: Occupancy | None = None,
        unseated: Iterable[int] = (),
    ) -> Book:
        """The book with the new state of a course it holds (after a record or a re-plan):
        sessions that kept their time keep their chair; the others get one.

        ``occupancy``: the index of the book's other bookings (without this course's) when
        the caller keeps one across many updates; the course's new bookings go into it.
        ``unseated``: sessions that may stay without a chair if none is free (besides those
        the course has without one already, see :class:`Booked`)."""
        booked = self._booked(course.course_id)
        waiting = {*booked.unseated, *unseated}
        placed = self._seat(
            course,
            occupancy or self.occupancy(without=course.course_id),
            {},
            booked.seat_map(),
            None,
            previous=booked.course,
            waiting=waiting,
        )
        return self._replace(_booked_as(course, placed, waiting))

    def replan(
        self, course_id: str, start: MomentInput, policy: str = "extend", **options: Any
    ) -> Book:
        """Re-plan a course where the chairs have room (see :meth:`Course.replan`, whose
        options this takes): make-up sessions go only where a chair that can run the
        protocol is free, and the course's other sessions keep their times and chairs."""
        booked = self._booked(course_id)
        occupancy = self.occupancy(without=course_id)
        # Sessions left without a chair wait for the front desk where they are.
        unseated = set(booked.unseated)
        waiting = {(s.start, s.end) for s in booked.course.schedule if s.number in unseated}
        bookable = self.bookable(booked.course, occupancy, waiting=waiting)
        course = booked.course.replan(start, policy, bookable=bookable, **options)
        if course is booked.course:
            return self
        moment = as_moment(start, "start", self.clinic.zone, BookError)
        book, _ = self.update(course)._kept_apart(course_id, moment, policy)
        return book

    def offers(
        self,
        protocol: Protocol | str,
        earliest: DateInput,
        at: TimeInput,
        *,
        window: int = 60,
        step: int = 10,
        chair: str | None = None,
        dates: int = 10,
        count: int = 3,
        follows: str | None = None,
        relation: str | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[Offer, ...]:
        """The best ``count`` ways to book a new course of ``protocol`` (see
        :mod:`tms_schedule.book.offers`): starting on one of the first ``dates`` days from
        ``earliest`` a plan can start on, at ``at`` give or take ``window`` minutes (tried
        every ``step`` minutes), on ``chair`` where possible.

        ``follows``: the course in the book this one follows, ``relation`` how (see
        :meth:`take`). A protocol that names no equipment then runs on that course's, as
        :meth:`Course.next_course` has it. One patient's courses never run at the same
        time: an ``earliest`` on or before the last session of a course linked to
        ``follows`` is refused (:class:`~tms_schedule.errors.BookError`), except for a
        rescue course during maintenance, which supersedes the boosters from its first
        day (their chair time is offered). Take the offer with the same ``follows``.

        ``now``: when given, no offer starts before it: an ``earliest`` before its day is
        refused (a wrong year, most often), and today's times that have passed are not
        offered. Clinic software passes it; without it the book answers for the dates
        asked, past or not.

        None raises :class:`~tms_schedule.errors.NoOfferError`, with the first later start
        dates that could hold the course when there are any.
        """
        if isinstance(protocol, str):
            protocol = get_protocol(protocol)
        if not isinstance(protocol, Protocol):
            raise BookError(f"protocol: must be a Protocol or a protocol id, got {protocol!r}")
        earliest = as_date(earliest, "earliest", BookError)
        at = as_time(at, "at", BookError)
        _whole_numbers(
            ("window", window, 0, 240),
            ("step", step, 5, 60),
            ("dates", dates, 1, 60),
            ("count", count, 1, 10),
        )
        occupancy = None
        if follows is not None:
            followed = self.course(follows)
            if not protocol.requires and followed.plan.protocol.requires:
                protocol = attrs.evolve(protocol, requires=followed.plan.protocol.requires)
            if _supersedes(followed, follow_relation(protocol, relation)):
                occupancy = self.occupancy(without=follows)  # its boosters make way
            else:
                self._after_linked(follows, earliest)
        return find_offers(
            occupancy or self.occupancy(),
            protocol,
            earliest,
            at,
            window=window,
            step=step,
            chair=chair,
            dates=dates,
            count=count,
            now=None if now is None else as_moment(now, "now", self.clinic.zone, BookError),
        )

    def take(
        self,
        offer: Offer,
        course_id: str,
        *,
        authorization: Authorization | None = None,
        follows: str | None = None,
        relation: str | None = None,
        uid_key_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> Book:
        """Book exactly what ``offer`` offered, as course ``course_id`` (``uid_key_id``: the
        clinic's UID key's name, see :attr:`Course.uid_key_id`).

        ``follows``: the course in the book it follows; ``relation``: ``maintenance``,
        ``rescue`` or ``continuation`` (default: maintenance for boosters only, else
        continuation). One patient's courses (linked by ``follows``) never run at the
        same time: a course that would overlap one is refused
        (:class:`~tms_schedule.errors.CourseError`, naming the dates that clash). A rescue
        course during maintenance supersedes it: the boosters from the rescue's first
        session are cancelled with the reason and their chairs freed
        (:meth:`Course.supersede`; ``now`` is required then). :meth:`resumed` gives the
        boosters not given, for offers after the rescue.

        If the book changed since (a chair it uses is taken now, the clinic's calendar
        changed), :class:`~tms_schedule.errors.BookingConflictError` says so and nothing is
        booked: ask for offers again.
        """
        if not isinstance(offer, Offer):
            raise BookError(f"offer: must be an Offer, got {offer!r}")
        if offer.plan.clinic != self.clinic:
            raise BookingConflictError(
                f"offer {offer.key}: the clinic's calendar changed since it was made; ask for"
                " offers again"
            )
        plan = attrs.evolve(offer.plan, course_id=course_id)
        schedule = attrs.evolve(offer.schedule, course_id=course_id)
        if follows is not None:
            self._booked(follows)  # a course in the book
            relation = follow_relation(plan.protocol, relation)
        elif relation is not None:
            raise BookError("relation: give follows, the course this one follows, as well")
        try:
            plan = attrs.evolve(plan, clinic=self.clinic)
            plan.expand()
        except TmsScheduleError as error:
            raise BookingConflictError(
                f"offer {offer.key}: the clinic's calendar changed since it was made ({error});"
                " ask for offers again"
            ) from None
        try:
            course = Course.start(
                plan,
                schedule=schedule,
                authorization=authorization,
                follows=follows,
                relation=relation,
                uid_key_id=uid_key_id,
            )
        except TmsScheduleError as error:
            if not str(error).startswith("schedule:"):
                raise  # the caller's own input (a course id, an authorization)
            raise BookingConflictError(
                f"offer {offer.key}: the clinic's calendar changed since it was made"
                f" ({str(error).removeprefix('schedule: ')}); ask for offers again"
            ) from None
        book = self._make_room(course, now) if follows is not None else self
        try:
            return book.add(course, dict(offer.seats))
        except BookingConflictError as error:
            raise BookingConflictError(
                f"offer {offer.key}: the book changed since it was made ({error}); ask for"
                " offers again",
                error.conflicts,
            ) from None

    # -- one patient's courses ----------------------------------------------------------------------

    def linked(self, course_id: str) -> list[str]:
        """The courses of ``course_id``'s patient the book holds: it, the courses it
        follows and those that follow them, in the book's order."""
        self._booked(course_id)
        follows = {b.course_id: b.course.follows for b in self.courses}
        found = {course_id}
        grown = True
        while grown:
            more = {c for c, f in follows.items() if f in found} | {
                f for c, f in follows.items() if c in found and f in follows
            }
            grown = not more <= found
            found |= more
        return [c for c in self.course_ids() if c in found]

    def resumed(self, rescue_id: str) -> Protocol:
        """The boosters the maintenance course that rescue course ``rescue_id`` superseded
        did not give (:meth:`Course.resume`), to ask offers for after the rescue with
        ``follows=rescue_id``."""
        rescue = self.course(rescue_id)
        superseded = next(
            (
                b.course
                for b in self.courses
                if b.course.ended is not None and b.course.ended.superseded_by == rescue_id
            ),
            None,
        )
        if superseded is None:
            raise BookError(
                f"follows: course {rescue_id} superseded no maintenance course in the book;"
                " resume follows a rescue course that did"
            )
        return rescue.resume(superseded, f"{rescue_id}-resumed").plan.protocol

    def _after_linked(self, follows: str, earliest: dt.date) -> None:
        """Refuse an ``earliest`` on or before the last session of a course linked to
        ``follows`` (one patient's courses never run at the same time)."""
        zone = self.clinic.zone
        for course_id in self.linked(follows):
            active = self.course(course_id).schedule.active_sessions()
            last = max((s.end for s in active), default=None)
            if last is not None and earliest <= last.astimezone(zone).date():
                day = last.astimezone(zone).date()
                raise BookError(
                    f"earliest: course {course_id} runs until {day}; one patient's courses"
                    f" never run at the same time: ask from {day + dt.timedelta(days=1)} on, or"
                    f" end {course_id} first"
                )

    def _make_room(self, course: Course, now: dt.datetime | None) -> Book:
        """The book ready for ``course``, which follows one of its courses: a rescue
        supersedes the maintenance it interrupts; then no two of the patient's courses
        may overlap."""
        assert course.follows is not None
        followed = self.course(course.follows)
        book = self
        if _supersedes(followed, course.relation) and clash(followed.schedule, course.schedule):
            if now is None:
                raise BookError(
                    f"now: rescue course {course.course_id} supersedes maintenance course"
                    f" {followed.course_id} (its boosters from the rescue's first day are"
                    " cancelled): give now"
                )
            book = self.update(
                followed.supersede(course, now=as_moment(now, "now", self.clinic.zone, BookError))
            )
        check_apart(
            [*(book.course(c).schedule for c in book.linked(course.follows)), course.schedule]
        )
        return book

    # -- whole-course actions -----------------------------------------------------------------------

    def end(
        self,
        course_id: str,
        reason: str,
        *,
        now: dt.datetime,
        start: dt.date | dt.datetime | None = None,
    ) -> Book:
        """End a course early (a patient drops out): its sessions from ``start`` (default:
        now) are cancelled with ``reason`` in one revision, and their chairs are free
        (see :meth:`Course.end`)."""
        return self.update(self.course(course_id).end(reason, now=now, start=start))

    def authorize(self, course_id: str, authorization: Authorization | None) -> Book:
        """The book with a course's insurance authorization set (see
        :meth:`Course.authorize`; ``None`` removes it)."""
        return self._amend(self.course(course_id).authorize(authorization))

    def extend_authorization(
        self,
        course_id: str,
        sessions: int,
        until: dt.date | None = None,
        note: str | None = None,
    ) -> Book:
        """The book with an extension added to a course's authorization."""
        course = self.course(course_id).extend_authorization(sessions, until, note)
        return self._amend(course)

    def move_offers(
        self,
        course_id: str,
        start: dt.date | str,
        at: dt.time | str,
        *,
        now: dt.datetime,
        window: int = 0,
        step: int = 10,
        chair: str | None = None,
        count: int = 3,
    ) -> tuple[Offer, ...]:
        """The best ways to give a course a new regular time from ``start`` on ("from
        Monday, 17:00"): its sessions to come from that day keep their days and move to
        ``at``, give or take ``window`` minutes, each on a chair free then (``chair``, by
        default the one it has, where it can; the same strategies and cost model as
        :meth:`offers`). Book one with :meth:`move`. None
        raises :class:`~tms_schedule.errors.NoOfferError`, naming the first day no chair
        can hold."""
        course = self.course(course_id)
        start = as_date(start, "start", BookError)
        at = as_time(at, "at", BookError)
        now = as_moment(now, "now", self.clinic.zone, BookError)
        _whole_numbers(
            ("window", window, 0, 240),
            ("step", step, 5, 60),
            ("count", count, 1, 10),
        )
        if chair is not None:
            self.chair(chair)
        zone = self.clinic.zone
        if start < now.astimezone(zone).date():
            raise BookError(f"start: {start} is before today ({now.astimezone(zone).date()})")
        sessions = [
            s
            for s in course.schedule.sessions
            if s.status == "scheduled"
            and s.start >= now
            and s.start.astimezone(zone).date() >= start
        ]
        if chair is None:  # the chair it has, where it can
            seats = self.seats(course_id)
            held = Counter(seats[s.number] for s in sessions if s.number in seats)
            chair = held.most_common(1)[0][0] if held else None
        return find_moves(
            self.occupancy(without=course_id),
            course.plan,
            sessions,
            at,
            window=window,
            step=step,
            chair=chair,
            count=count,
            now=now,
        )

    def move(
        self, course_id: str, offer: Offer, *, now: dt.datetime, note: str | None = None
    ) -> Book:
        """Book a course's new regular time as ``offer`` (from :meth:`move_offers`) has
        it: each of its sessions that moves is recorded moved (with ``note``, or the new
        time), on the offer's chair. An offer the book or the course has moved on from
        raises :class:`~tms_schedule.errors.BookingConflictError`: ask again."""
        booked = self._booked(course_id)
        course = booked.course
        current = {s.number: s for s in course.schedule.sessions}
        moving = [s for s in offer.schedule.sessions if s.number in current]
        if len(moving) != len(offer.schedule.sessions) or any(
            current[s.number].status != "scheduled" for s in moving
        ):
            raise BookingConflictError(
                f"offer {offer.key}: course {course_id} changed since it was made; ask again"
            )
        first = offer.schedule.first.start.astimezone(self.clinic.zone)
        note = note or f"regular time from {first:%Y-%m-%d}: {offer.at:%H:%M}"
        for session in moving:
            was = current[session.number]
            if (session.start, session.end) != (was.start, was.end):
                course = course.moved(session.number, session.start, note, now=now)
        try:
            placed = self._seat(
                course,
                self.occupancy(without=course_id),
                dict(offer.seats),
                booked.seat_map(),
                None,
                previous=booked.course,
            )
        except BookingConflictError as error:
            raise BookingConflictError(
                f"offer {offer.key}: the book changed since it was made ({error}); ask again",
                error.conflicts,
            ) from None
        return self._replace(Booked(course, placed))

    def _amend(self, course: Course) -> Book:
        """The book with a new state of a course it holds whose sessions did not move."""
        booked = self._booked(course.course_id)
        if course.schedule.sessions != booked.course.schedule.sessions:
            return self.update(course)
        return self._replace(Booked(course, booked.seats))

    def set_clinic(self, clinic: ClinicCalendar) -> Book:
        """The book under an updated clinic calendar (every course follows it). Nothing
        moves: :meth:`enter_closure` re-plans what a closure affects."""
        courses = tuple(booked._under(clinic) for booked in self.courses)
        return attrs.evolve(self, clinic=clinic, courses=courses)

    # -- what the clinic looks at -------------------------------------------------------------------

    def day_sheet(self, day: DateInput) -> DaySheet:
        """What each chair does on ``day``: its sessions, free stretches and outages, in
        order (see :mod:`tms_schedule.book.sheet`); as text, CSV or a printable page."""
        sheet: DaySheet = provided("day_sheet")(self, as_date(day, "day", BookError))
        return sheet

    def usage(self, first: DateInput, last: DateInput, *, slot: int = 60) -> Usage:
        """Booked and open chair time per day, week, and weekday and time of day (in cells
        of ``slot`` minutes, 30 or 60) from ``first`` to ``last``, both included (see
        :mod:`tms_schedule.book.usage`)."""
        result: Usage = provided("usage")(
            self, as_date(first, "first", BookError), as_date(last, "last", BookError), slot
        )
        return result

    def room_for(
        self,
        protocol: Protocol | str,
        start_date: DateInput,
        window_start: TimeInput,
        window_end: TimeInput,
        *,
        step: int = 10,
        limit: int = 50,
    ) -> Room:
        """How many more courses of ``protocol`` can start on ``start_date`` at a time from
        ``window_start`` to ``window_end``, and which times they would get.

        Courses are booked one after another into a copy of the book, each at the
        earliest time of the window (tried every ``step`` minutes) where :meth:`offers`
        offers the same time every day on a chair that is free (changing chair on some
        days if it must), until none fits or ``limit`` are counted. The book itself does
        not change.
        """
        if isinstance(protocol, str):
            protocol = get_protocol(protocol)
        if not isinstance(protocol, Protocol):
            raise BookError(f"protocol: must be a Protocol or a protocol id, got {protocol!r}")
        start_date = as_date(start_date, "start_date", BookError)
        window_start = as_time(window_start, "window_start", BookError)
        window_end = as_time(window_end, "window_end", BookError)
        if window_end < window_start:
            raise BookError(
                f"window_end: must be at or after window_start ({window_start:%H:%M}),"
                f" got {window_end:%H:%M}"
            )
        _whole_numbers(("step", step, 5, 60), ("limit", limit, 1, 200))
        room: Room = provided("room_for")(
            self, protocol, start_date, window_start, window_end, step=step, limit=limit
        )
        return room

    # -- clinic-wide events ---------------------------------------------------------------------------

    def enter_closure(
        self,
        first: DateInput,
        last: DateInput | None = None,
        *,
        reason: str,
        now: MomentInput,
        chair: str | None = None,
        hours: OpeningHours | str | None = None,
        policy: str = "extend",
        force: bool = False,
        block: str | None = None,
    ) -> tuple[Book, EventReport]:
        """Close the clinic, one chair, or some hours, and re-plan every course it touches.

        * Whole days of the clinic (no ``chair``, no ``hours``): a closure of the clinic
          calendar; every course follows it.
        * Whole days of one chair: the chair's service days.
        * ``hours`` of each day (one chair or all): an outage.

        Sessions that can keep their time on another chair only change chair; the others
        are re-planned under ``policy`` from ``now``, changing as little as the event
        requires and only where a chair is free. Returns the new book and what changed,
        course by course (the patients to contact). :meth:`undo` takes it back.

        An event that overlaps one entered already (the same closure twice, a chair's
        days or hours entered again) is refused, naming it: undo that one to change it.
        Days gone by whose sessions are recorded attended are refused too (a typo for
        another date, most often); ``force`` enters the closure anyway, and the records
        stay as they are.

        A re-plan that would break an accelerated block's consecutive days (a closure on
        an SNT day) raises :class:`~tms_schedule.errors.BlockBreakError` naming the course
        and the days, and nothing is entered; ``block`` is then the clinician's choice for
        every such course (see :meth:`Course.replan`): ``"continue"`` on the next open
        days, the warning recorded in the course's revision, or ``"restart"`` the block's
        sessions to come on the first consecutive days that hold them. A chair out on a
        block day needs no choice: the day moves to another chair or waits for one.

        ``first`` and ``last`` are dates (or ``"2026-12-01"``); ``now`` is an aware
        moment: the library reads no clock.
        """
        first = as_date(first, "first", BookError)
        last = first if last is None else as_date(last, "last", BookError)
        now = as_moment(now, "now", self.clinic.zone, BookError)
        if last < first:
            raise BookError(f"last: must be on or after first ({first}), got {last}")
        if isinstance(hours, str):
            hours = OpeningHours.parse(hours, "hours")
        if chair is not None:
            self.chair(chair)
        kind: Literal["closure", "chair", "outage"] = (
            "outage" if hours is not None else "chair" if chair is not None else "closure"
        )
        event = BookEvent(len(self.events) + 1, kind, first, last, reason, chair, hours)
        self._refuse_twice(event)
        if not force:
            self._refuse_recorded(event)
        book, event = self._with(event)
        return book._rebook(event, now, policy, block)

    def undo(self, event: int, *, now: MomentInput) -> tuple[Book, EventReport]:
        """Take back clinic-wide event number ``event``: the closure or outage goes, and
        each course it re-planned gets its earlier times back where they are still free
        and not past (see :meth:`Course.undo_revision`)."""
        now = as_moment(now, "now", self.clinic.zone, BookError)
        found = self._undoable(event)
        book, entries = self._without(found)._put_back(found, now)
        events = tuple(attrs.evolve(e, undone=True) if e is found else e for e in book.events)
        book = attrs.evolve(book, events=events)
        undone = attrs.evolve(found, reason=f"Undone: {found.reason}")
        return book, EventReport(undone, entries, tuple(self.chair_names().items()))

    def _refuse_twice(self, event: BookEvent) -> None:
        """Refuse an event that overlaps a live one of the same kind and place."""
        for other in self.events:
            if not other.undone and other.overlaps(event):
                raise BookError(
                    f"first: {event.describe()} overlaps event {other.number}"
                    f" ({other.describe()}), entered already; nothing changed (to change it,"
                    f" undo event {other.number} and enter it again)"
                )

    def _refuse_recorded(self, event: BookEvent) -> None:
        """Refuse an event over sessions recorded attended (days gone by)."""
        hit = [
            (booked.course_id, session)
            for booked in self.courses
            for session in event.hits(booked, self.clinic.zone, ("attended",))
        ]
        if hit:
            shown = ", ".join(f"course {c} session {s.number}" for c, s in hit[:3])
            more = f" and {len(hit) - 3} more" if len(hit) > 3 else ""
            raise BookError(
                f"first: {event.describe()} covers sessions recorded attended ({shown}{more});"
                " a closure of days gone by changes no record: check the dates, or enter it"
                " anyway with force (--force), the records kept as they are"
            )

    def _with(self, event: BookEvent) -> tuple[Book, BookEvent]:
        """The book with the event's closure or outage in (not re-planned yet), and the
        event with the clinic's extra open days it took out (back on undo)."""
        if event.kind == "closure":
            # A closure announced now wins over an extra open day: kept for the undo.
            reopened = tuple(
                e for e in self.clinic.extra_open_days if event.first <= e.date <= event.last
            )
            book = self.set_clinic(self.clinic.with_closure(event.closure()))
            return book, attrs.evolve(event, extra_days=reopened)
        if event.kind == "chair":
            chairs = tuple(
                attrs.evolve(c, closures=(*c.closures, event.closure()))
                if c.id == event.chair
                else c
                for c in self.chairs
            )
            return attrs.evolve(self, chairs=chairs), event
        return attrs.evolve(self, outages=(*self.outages, *event.outages(self.clinic.zone))), event

    def _without(self, event: BookEvent) -> Book:
        """The book with the event's closure or outage taken out (nothing re-planned)."""
        if event.kind == "closure":
            closures = list(self.clinic.closures)
            closures.remove(event.closure())
            return self.set_clinic(
                attrs.evolve(
                    self.clinic,
                    closures=tuple(closures),
                    extra_open_days=(*self.clinic.extra_open_days, *event.extra_days),
                )
            )
        if event.kind == "chair":
            chairs = []
            for c in self.chairs:
                if c.id == event.chair:
                    kept = list(c.closures)
                    kept.remove(event.closure())
                    c = attrs.evolve(c, closures=tuple(kept))
                chairs.append(c)
            return attrs.evolve(self, chairs=tuple(chairs))
        gone = set(event.outages(self.clinic.zone))
        return attrs.evolve(self, outages=tuple(o for o in self.outages if o not in gone))

    def _undoable(self, number: int) -> BookEvent:
        """Event ``number``, if it can be taken back: entered, not undone, and none of its
        re-plans re-planned again by a later event."""
        found = next((e for e in self.events if e.number == number), None)
        if found is None:
            numbers = ", ".join(str(e.number) for e in self.events) or "none yet"
            raise BookError(f"event: no event {number!r}; events: {numbers}")
        if found.undone:
            raise BookError(f"event: event {number} ({found.describe()}) is undone already")
        touched = {course_id for course_id, _ in found.revisions}
        later = [
            e.number
            for e in self.events
            if e.number > number
            and not e.undone
            and touched.intersection(course_id for course_id, _ in e.revisions)
        ]
        if later:
            # Its re-plans were re-planned again: taking it back alone would scramble them.
            steps = ", ".join(str(n) for n in reversed(later))
            raise BookError(
                f"event: event {number} ({found.describe()}) re-planned courses that event(s)"
                f" {', '.join(map(str, later))} re-planned again; undo {steps} first (newest"
                f" first), then {number}, and enter the later ones again"
            )
        return found

    def _put_back(self, event: BookEvent, now: dt.datetime) -> tuple[Book, tuple[Rebooked, ...]]:
        """Each course ``event`` re-planned, its re-plan taken back where the book has
        room, and the sessions it left without a chair seated where one is free (the book
        holds the event no more)."""
        book = self._seat_waiting(event)
        entries: list[Rebooked] = []
        occupancy = book.occupancy()  # one index, following each course as it moves
        for course_id, revision in sorted(event.revisions):
            if course_id not in book._index:
                continue  # a window of the book without it
            booked = book._booked(course_id)
            before = booked.course
            occupancy.remove(course_id)
            bookable = book.bookable(before, occupancy)
            leader = before.follows
            if leader is not None and leader in book._index:
                # Its patient's course before it may not have come back as far (a session
                # it cannot have again): nothing comes back into that one's time.
                led = book.course(leader).schedule.active_sessions()
                if led:
                    bookable = book._after(max(s.end for s in led), leader, bookable)
            course = before.undo_revision(revision, now, bookable=bookable)
            if course is before:
                for day, held in booked.bookings():
                    occupancy.add(day, held)
                continue
            book = book.update(course, occupancy=occupancy)
            changes = course.changes_since(len(course.revisions) - 2)
            moves = _chair_moves(course, booked.seat_map(), book.seats(course_id), before)
            entries.append(Rebooked(course, changes, moves))
            # Taken back, a course may end later than it did (a session it cannot have
            # again made up at its end): its patient's next courses move out of its way.
            book, followers = book._kept_apart(course_id, now, "extend")
            for was, after in followers:
                changes = after.changes_since(was.course.revision.number)
                moves = _chair_moves(after, was.seat_map(), book.seats(after.course_id), was.course)
                entries.append(Rebooked(after, changes, moves))
            if followers:  # they moved outside the index kept across the courses
                occupancy = book.occupancy()
        return book, tuple(entries)

    def _seat_waiting(self, event: BookEvent) -> Book:
        """The book with the sessions waiting for a chair on ``event``'s days seated where
        one is free now."""
        book = self
        for booked in self.courses:
            waiting = set(booked.unseated)
            if any(
                s.number in waiting and event.first <= s.date <= event.last
                for s in booked.course.schedule.sessions
            ):
                book = book.update(booked.course)
        return book

    def _rebook(
        self, event: BookEvent, now: dt.datetime, policy: str, block: str | None = None
    ) -> tuple[Book, EventReport]:
        """Re-seat or re-plan every course the event touches (``self`` has the event in),
        in the order of the first session it touches."""
        book = self
        entries: list[Rebooked] = []
        revisions: list[tuple[str, int]] = []
        occupancy = book.occupancy()  # one index, following each course as it moves

        def entry(booked: Booked, course: Course) -> Rebooked:
            course_id = booked.course_id
            if course is booked.course:
                changes = Changes(())
            else:
                revisions.append((course_id, course.revision.number))
                changes = course.changes_since(booked.course.revision.number)
            moves = _chair_moves(course, booked.seat_map(), book.seats(course_id), booked.course)
            left = set(book._booked(course_id).unseated) - set(booked.unseated)
            waiting = tuple(s for s in course.schedule.sessions if s.number in left)
            return Rebooked(course, changes, moves, waiting)

        for course_id in self._touched(event):
            booked = book._booked(course_id)
            book, course = book._rebooked(booked, event, now, policy, occupancy, block)
            entries.append(entry(booked, course))
            if course is not booked.course:
                book, followers = book._kept_apart(course_id, now, policy)
                entries += [entry(was, after) for was, after in followers]
                if followers:  # they moved outside the index kept across the courses
                    occupancy = book.occupancy()
        event = attrs.evolve(event, revisions=tuple(revisions))
        book = attrs.evolve(book, events=(*book.events, event))
        return book, EventReport(event, tuple(entries), tuple(self.chair_names().items()))

    def _kept_apart(
        self, course_id: str, now: dt.datetime, policy: str
    ) -> tuple[Book, list[tuple[Booked, Course]]]:
        """The courses that follow ``course_id`` (and those that follow them) re-planned,
        where it now runs into them, to start after it ends: one patient's courses never
        run at the same time. Only the sessions in its way move (see :meth:`Course.replan`);
        returns the book and each course changed, as it was and as it is."""
        book = self
        changed: list[tuple[Booked, Course]] = []
        leaders = [course_id]
        while leaders:
            leader = book.course(leaders.pop(0))
            for booked in book.courses:
                course = booked.course
                if course.follows != leader.course_id or not clash(
                    leader.schedule, course.schedule
                ):
                    continue
                last = max(s.end for s in leader.schedule.active_sessions())
                bookable = book._after(last, leader.course_id, book.bookable(course))
                # A block in the way starts again after it rather than splitting.
                replanned = course.replan(now, policy, bookable=bookable, block="restart")
                if replanned is course:
                    continue
                book = book.update(replanned)
                changed.append((booked, replanned))
                leaders.append(course.course_id)
        return book, changed

    def _after(self, last: dt.datetime, leader: str, bookable: Bookable) -> Bookable:
        """``bookable``, and nothing that starts before ``last`` (the course ``leader``
        runs until then)."""
        said = Unavailable(f"course {leader} runs until {short_moment(last)}")

        def check(start: dt.datetime, end: dt.datetime) -> Availability:
            return said if start < last else bookable(start, end)

        return check

    def _touched(self, event: BookEvent) -> list[str]:
        """The courses with a session to come that ``event`` covers, by the first one."""
        zone = self.clinic.zone
        firsts = []
        for booked in self.courses:
            hit = next(iter(event.hits(booked, zone, ("scheduled",))), None)
            if hit is not None:
                firsts.append((hit.start.astimezone(dt.UTC), booked.course_id))
        return [course_id for _, course_id in sorted(firsts)]

    def _rebooked(
        self,
        booked: Booked,
        event: BookEvent,
        now: dt.datetime,
        policy: str,
        occupancy: Occupancy,
        block: str | None = None,
    ) -> tuple[Book, Course]:
        """One course an event touches: its sessions at the same times on other chairs
        where that holds (never on a closed day), else re-planned where chairs are free.
        ``occupancy`` is the book's index, kept across the event's courses."""
        course = booked.course
        occupancy.remove(course.course_id)
        # A block's day keeps its days for a chair: on another chair, or waiting for one.
        blocks = block_phases(course.plan.protocol)
        days = {
            s.date
            for s in event.hits(booked, self.clinic.zone, ("scheduled",))
            if event.kind != "closure" and s.phase in blocks
        }
        waiting = {
            s.number: (s.start, s.end)
            for s in course.schedule.sessions
            if s.status == "scheduled" and s.phase in blocks and s.date in days
        }
        may_wait = {*booked.unseated, *waiting}
        if event.kind != "closure":
            try:
                placed = self._seat(
                    course,
                    occupancy,
                    {},
                    booked.seat_map(),
                    None,
                    previous=course,
                    waiting=may_wait,
                )
            except BookingConflictError:
                occupancy.remove(course.course_id)  # what the failed try had seated
            else:
                return self._replace(_booked_as(course, placed, may_wait)), course
        bookable = self.bookable(course, occupancy, waiting=set(waiting.values()))
        try:
            replanned = course.replan(now, policy, bookable=bookable, block=block)
        except BlockBreakError as error:  # the clinician's choice: said with the course
            rest = str(error).removeprefix("block: ")
            raise BlockBreakError(
                f"block: course {course.course_id}: {rest}", error.phase
            ) from None
        return self.update(replanned, occupancy=occupancy, unseated=waiting), replanned

    # -- inside -------------------------------------------------------------------------------------

    def _replace(self, booked: Booked) -> Book:
        """The book with a course it holds in a new state. Only that course is checked:
        the rest of the book was checked when it was made (a closure re-plans dozens of
        courses one by one, and checking every course each time cost more than the
        re-plans)."""
        position = self._index[booked.course_id]
        self._check_booked(booked, [chair.id for chair in self.chairs])
        courses = list(self.courses)
        courses[position] = booked
        book = copy.copy(self)  # the same chairs, others and index: nothing else to check
        object.__setattr__(book, "courses", tuple(courses))
        return book

    def _seat(
        self,
        course: Course,
        occupancy: Occupancy,
        asked: dict[int, str],
        kept: dict[int, str],
        chair: str | None,
        *,
        previous: Course | None = None,
        waiting: Collection[int] = (),
    ) -> tuple[tuple[int, str], ...]:
        """A chair for each session that takes one; raises when a session to come has none
        (but those of ``waiting``, which may stay without one: see :class:`Booked`).

        The sessions of an accelerated or cluster day sit on one chair, free for the whole
        day's span (the book holds it from the first start to the last end). Each unit
        tries, in order: the chair asked for (``asked``, an offer's); else the chair it had
        (``kept``) where its time did not change, the chair the unit before took, the
        course's chair for its first session, ``chair``, and then every chair that can run
        the protocol."""
        seating = _Seating(course, occupancy, asked, kept, chair, previous, waiting)
        for day, unit in _units(course, self.clinic.zone):
            seating.seat(day, unit)
        return seating.result()


class _Seating:
    """One course's sessions being seated, unit by unit (see :meth:`Book._seat`)."""

    def __init__(
        self,
        course: Course,
        occupancy: Occupancy,
        asked: dict[int, str],
        kept: dict[int, str],
        chair: str | None,
        previous: Course | None,
        waiting: Collection[int] = (),
    ) -> None:
        self.course = course
        self.waiting = waiting
        self.protocol = course.plan.protocol
        self.occupancy = occupancy
        self.asked = asked
        self.kept = kept
        self.chair = chair
        self.was = {s.number: s for s in previous.schedule.sessions} if previous else {}
        self.placed: dict[int, str] = {}
        self.conflicts: list[tuple[int, str]] = []
        self.last: str | None = None  # the chair the unit before took

    def seat(self, day: dt.date, unit: list[Session]) -> None:
        """Seat one unit on the first free chair it may take, or note why none."""
        if len(unit) == 1:
            start, end = minute(unit[0].start), minute(unit[0].end)
        else:
            start = min(minute(s.start) for s in unit)
            end = max(minute(s.end) for s in unit)
        found = self._free(self._candidates(unit), day, start, end)
        if found is None:
            self._unseated(unit, day, start, end)
            return
        for session in unit:
            self.placed[session.number] = found
        self.last = found
        self.occupancy.add(day, Booking(found, start, end, self.course.course_id, unit[0].number))

    def result(self) -> tuple[tuple[int, str], ...]:
        """The chair of each session seated; raises when a session to come has none."""
        if self.conflicts:
            shown = "; ".join(f"session {n} on {why}" for n, why in self.conflicts[:3])
            more = f"; and {len(self.conflicts) - 3} more" if len(self.conflicts) > 3 else ""
            raise BookingConflictError(
                f"course {self.course.course_id}: no chair for {len(self.conflicts)}"
                f" session(s): {shown}{more}",
                tuple(self.conflicts),
            )
        return tuple(sorted(self.placed.items()))

    def _candidates(self, unit: list[Session]) -> Iterator[str]:
        """The chairs the unit may take, in the order they are tried (each once, worked
        out as they are tried: the first is most often free)."""
        wanted = [self.asked[s.number] for s in unit if s.number in self.asked]
        if wanted:
            yield wanted[0]
            return
        tried: set[str] = set()
        for session in unit:
            seat = self.kept.get(session.number)
            if seat is not None and seat not in tried and self._same_time(session):
                tried.add(seat)
                yield seat
        for candidate in (self.last, self.kept.get(unit[0].number), self.chair):
            if candidate is not None and candidate not in tried:
                tried.add(candidate)
                yield candidate
        for chair in self.occupancy.able(self.protocol):
            if chair.id not in tried:
                yield chair.id

    def _same_time(self, session: Session) -> bool:
        """Whether the session is where it was (or there was nothing before)."""
        if not self.was:
            return True
        before = self.was.get(session.number)
        return before is not None and (before.start, before.end) == (session.start, session.end)

    def _free(self, order: Iterable[str], day: dt.date, start: int, end: int) -> str | None:
        """The first chair of ``order`` that can run the protocol and is free then."""
        for chair_id in order:
            seat = self.occupancy.chairs.get(chair_id)
            if (
                seat is not None
                and seat.can_run(self.protocol)
                and self.occupancy.fits(seat, day, start, end)
            ):
                return chair_id
        return None

    def _unseated(self, unit: list[Session], day: dt.date, start: int, end: int) -> None:
        """A unit no chair can take: the past stays where it was; a session to come waits
        for the front desk when it may, else it is a conflict, with the reason."""
        for session in unit:
            if session.status == "attended":
                if session.number in self.kept:
                    self.placed[session.number] = self.kept[session.number]
                continue
            if session.number in self.waiting:
                continue
            wanted = [self.asked[s.number] for s in unit if s.number in self.asked]
            if wanted:
                seat = self.occupancy.chairs.get(wanted[0])
                why = f"{seat.name if seat else wanted[0]} is taken then"
            else:
                why = self.occupancy.why_not(self.protocol, day, start, end) or "no chair is free"
            self.conflicts.append((session.number, f"{short_moment(session.start)}: {why}"))


def _units(course: Course, zone: Any) -> list[tuple[dt.date, list[Session]]]:
    """The course's sessions that take a chair, in time order, as the units seated
    together: one session, or the sessions of one accelerated or cluster day."""
    blocks = block_phases(course.plan.protocol)
    units: list[tuple[dt.date, list[Session]]] = []
    days: dict[dt.date, list[Session]] = {}
    for session in sorted(course.schedule.sessions, key=lambda s: s.start.astimezone(dt.UTC)):
        if session.status not in _OCCUPYING:
            continue
        day = session.start.astimezone(zone).date()
        if session.phase not in blocks:
            units.append((day, [session]))
        elif day in days:
            days[day].append(session)
        else:
            days[day] = [session]
            units.append((day, days[day]))
    return units


def _booked_as(
    course: Course, placed: tuple[tuple[int, str], ...], waiting: Iterable[int]
) -> Booked:
    """The course on its chairs, with the sessions of ``waiting`` to come that have none."""
    seated = {number for number, _ in placed}
    to_come = {s.number for s in course.schedule.sessions if s.status == "scheduled"}
    return Booked(course, placed, [n for n in waiting if n not in seated and n in to_come])


def _whole_numbers(*checks: tuple[str, Any, int, int]) -> None:
    """Refuse a value that is not a whole number in its range: (field, value, low, high)."""
    for name, value, low, high in checks:
        int_in_range(value, name, low, high, BookError)


def _supersedes(followed: Course, relation: str | None) -> bool:
    """Whether a course following ``followed`` this way supersedes it: a rescue course
    during maintenance (boosters only, not ended)."""
    return relation == "rescue" and followed.boosters_only and followed.ended is None


def _chair_moves(
    course: Course, old: dict[int, str], new: dict[int, str], before: Course
) -> tuple[tuple[int, dt.datetime, str, str], ...]:
    """Sessions that kept their time and changed chair."""
    times = {s.number: (s.start, s.end) for s in before.schedule.sessions}
    moves = []
    for session in course.schedule.sessions:
        if session.status != "scheduled":
            continue
        number = session.number
        if (
            number in old
            and number in new
            and old[number] != new[number]
            and times.get(number) == (session.start, session.end)
        ):
            moves.append((number, session.start, old[number], new[number]))
    return tuple(moves)


def _in_hours(moment: int, limit: StaffLimit, day: dt.date, zone: Any) -> bool:
    if limit.hours is None:
        return True
    opens = minute(dt.datetime.combine(day, limit.hours.opens, tzinfo=zone))
    closes = minute(dt.datetime.combine(day, limit.hours.closes, tzinfo=zone))
    return opens <= moment < closes
