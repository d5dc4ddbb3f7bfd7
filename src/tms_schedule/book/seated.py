"""The sessions of some days, each with its chair and what the views need of its course:
the plain input of the day sheet (:func:`~tms_schedule.book.sheet.day_sheet_from`) and of
chair time (:func:`~tms_schedule.book.usage.usage_from`).

A :class:`Seated` holds values only (no book, no course), so a store can build them from
its rows for the days asked about without loading whole books; :func:`seated` builds them
from a :class:`~tms_schedule.book.Book`. :func:`holds` says what chair time they hold, as
the book holds it (:meth:`Book.occupancy <tms_schedule.book.Book.occupancy>`): each session
that occupies a chair (scheduled or attended) from its start to its end, and an accelerated
or cluster day (see :func:`~tms_schedule.book.occupancy.block_phases`) from its first
session's start to its last one's end on each chair it uses.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.book import Book, Chair
>>> clinic = ClinicCalendar("America/Denver")
>>> book = Book(clinic, (Chair("c1"),)).add(
...     Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")))
>>> (entry,) = seated(book, dt.date(2026, 11, 17), dt.date(2026, 11, 17))
>>> entry.session.number, entry.chair, entry.course_id, entry.place, entry.of
(2, 'c1', 'c-1', 2, 36)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from tms_schedule.book.occupancy import Booking, block_phases, minute
from tms_schedule.export.places import places as course_places
from tms_schedule.schedule import ACTIVE_STATUSES, Session

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = ["OCCUPYING", "Seated", "holds", "seated"]

#: The statuses of sessions that hold a chair (as the book counts them).
OCCUPYING = ACTIVE_STATUSES


class Seated(NamedTuple):
    """One session of the days asked about, with its chair and what the views need of its
    course.

    Attributes:
        session: the session; its times are in the clinic's zone, and its day is
            ``session.start.date()``.
        chair: the chair's id; ``None`` when it has none (missed and cancelled sessions
            give their chair back).
        course_id: the course's opaque id.
        protocol_id: the course's protocol.
        protocol_name: the protocol's name ("Standard 10 Hz rTMS ...").
        keeps_chair: whether its phase keeps the chair from the day's first session to
            its last (accelerated days, maintenance clusters:
            ``session.phase in block_phases(protocol)``).
        place: its place among the course's sessions that count (attended or to come), in
            time order (:func:`~tms_schedule.export.places.places`); ``None`` for one
            that does not count (missed, cancelled), or when not asked for (chair time
            does not need it).
        of: the sessions the course delivers (its target: 36); 0 when not asked for.
    """

    session: Session
    chair: str | None
    course_id: str
    protocol_id: str
    protocol_name: str
    keeps_chair: bool
    place: int | None = None
    of: int = 0


def seated(book: Book, first: dt.date, last: dt.date, *, places: bool = True) -> list[Seated]:
    """Every session of ``book`` whose local date is from ``first`` to ``last``, course by
    course in the book's order; with each one's place in its course unless ``places`` is
    false (working places out reads each course's whole schedule)."""
    found = []
    for booked in book.courses:
        course = booked.course
        in_range = [s for s in course.schedule.sessions if first <= s.start.date() <= last]
        if not in_range:
            continue
        seats = booked.seat_map()
        protocol = course.plan.protocol
        blocks = block_phases(protocol)
        numbered = course_places(course.schedule) if places else {}
        target = course.schedule.progress().target if places else 0
        found += [
            Seated(
                session,
                seats.get(session.number),
                course.course_id,
                protocol.id,
                protocol.name,
                session.phase in blocks,
                numbered.get(session.number) if session.status in OCCUPYING else None,
                target,
            )
            for session in in_range
        ]
    return found


def holds(entries: Iterable[Seated]) -> Iterator[tuple[dt.date, Booking]]:
    """The chair time ``entries`` hold, by day: one booking per session, or one per
    accelerated or cluster day, course and chair."""
    spans: dict[tuple[dt.date, str, str], Booking] = {}
    for entry in entries:
        session, chair = entry.session, entry.chair
        if chair is None or session.status not in OCCUPYING:
            continue
        day = session.start.date()
        booking = Booking(
            chair, minute(session.start), minute(session.end), entry.course_id, session.number
        )
        if not entry.keeps_chair:
            yield day, booking
            continue
        key = (day, chair, entry.course_id)
        held = spans.get(key)
        spans[key] = (
            booking
            if held is None
            else held._replace(start=min(held.start, booking.start), end=max(held.end, booking.end))
        )
    yield from ((day, booking) for (day, _, _), booking in spans.items())
