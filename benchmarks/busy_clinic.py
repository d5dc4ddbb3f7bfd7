"""A busy clinic for benchmarks and scenario tests: four chairs, sixty courses running.

Courses start over the three weeks before ``NOW`` and the three after, each booked by the
book's own offers at the time its patient asked for (mornings and after work, as clinics
see), so the book is as full and as fragmented as a real one. Deterministic: the same
book every time.
"""

from __future__ import annotations

import datetime as dt

from tms_schedule import ClinicCalendar
from tms_schedule.book import Book, Chair
from tms_schedule.errors import NoOfferError

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO", hours="07:00-19:00")
#: The moment the scenarios happen: a Monday morning.
NOW = dt.datetime(2026, 11, 16, 7, 0, tzinfo=CLINIC.zone)
CHAIRS = (
    Chair("c1", "Chair 1"),
    Chair("c2", "Chair 2"),
    Chair("c3", "Chair 3"),
    Chair("c4", "Chair 4"),
)
# What patients ask for: mostly before and after work.
_TIMES = ("07:00", "07:40", "08:20", "09:00", "16:00", "16:40", "17:20", "12:00", "10:00", "13:00")
_PROTOCOLS = ("standard-10hz", "dash-10hz", "itbs", "standard-10hz", "itbs", "dash-10hz")


def busy_book(courses: int = 60) -> Book:
    """The book with ``courses`` courses booked through offers (see the module)."""
    book = Book(CLINIC, CHAIRS)
    first = NOW.date() - dt.timedelta(weeks=3)
    for k in range(courses):
        earliest = first + dt.timedelta(days=(k * 5) % 42)
        protocol = _PROTOCOLS[k % len(_PROTOCOLS)]
        for turn in range(len(_TIMES)):  # the time asked for, else the next one that has room
            at = _TIMES[(k + turn) % len(_TIMES)]
            try:
                offers = book.offers(protocol, earliest, at, window=120, dates=20, count=1)
            except NoOfferError:
                continue
            book = book.take(offers[0], f"b-{k:02}")
            break
    return book


def future_sessions(book: Book) -> int:
    """The sessions still to come after :data:`NOW`."""
    return sum(
        1
        for booked in book.courses
        for session in booked.course.schedule.sessions
        if session.status == "scheduled" and session.start >= NOW
    )
