"""The sessions of some days, each with its chair, and the chair time they hold: what the
day sheet and the usage views read from a book.

A day's chair time is held as the book holds it (:meth:`Book.occupancy
<tms_schedule.book.Book.occupancy>`): each session that occupies a chair (scheduled or
attended) from its start to its end, and an accelerated or cluster day (see
:func:`~tms_schedule.book.occupancy.block_phases`) from its first session's start to its
last one's end on each chair it uses. Only the courses with a session in the days asked
about are looked at closely, so a view of one day stays quick in a book of many courses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from tms_schedule.book.occupancy import Booking, block_phases, minute
from tms_schedule.schedule import Session

if TYPE_CHECKING:
    from tms_schedule.book.book import Book, Booked

#: The statuses of sessions that hold a chair (as the book counts them).
OCCUPYING = ("scheduled", "attended")


class Seated(NamedTuple):
    """A session on a local date, its course, and its chair (``None``: it has none)."""

    day: dt.date
    booked: Booked
    session: Session
    chair: str | None


def seated(book: Book, first: dt.date, last: dt.date) -> Iterator[Seated]:
    """Every session of the book whose local date is from ``first`` to ``last``, course by
    course in the book's order."""
    for booked in book.courses:
        seats: dict[int, str] | None = None
        for session in booked.course.schedule.sessions:
            day = session.start.date()  # sessions are in the clinic's zone
            if first <= day <= last:
                if seats is None:
                    seats = booked.seat_map()
                yield Seated(day, booked, session, seats.get(session.number))


def holds(entries: Iterable[Seated]) -> Iterator[tuple[dt.date, Booking]]:
    """The chair time ``entries`` hold, by day: one booking per session, or one per
    accelerated or cluster day and chair."""
    blocks: dict[str, set[str]] = {}
    spans: dict[tuple[dt.date, str, str], Booking] = {}
    for day, booked, session, chair in entries:
        if chair is None or session.status not in OCCUPYING:
            continue
        course = booked.course_id
        if course not in blocks:
            blocks[course] = block_phases(booked.course.plan.protocol)
        booking = Booking(chair, minute(session.start), minute(session.end), course, session.number)
        if session.phase not in blocks[course]:
            yield day, booking
            continue
        key = (day, chair, course)
        held = spans.get(key)
        spans[key] = (
            booking
            if held is None
            else held._replace(start=min(held.start, booking.start), end=max(held.end, booking.end))
        )
    yield from ((day, booking) for (day, _, _), booking in spans.items())
