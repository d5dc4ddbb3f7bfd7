"""Room for more courses: "how many more courses of this protocol can start on Monday
between 09:00 and 12:00?", answered by booking them one after another, as the front desk
would, into a copy of the book (:func:`room_for`, behind :meth:`Book.room_for
<tms_schedule.book.Book.room_for>`).

Each time of the window is tried once, from the earliest: while every day of a course
starting then has a chair free at that time, the book's own offer for it (the same time
every day, one chair where it can) is taken into the copy. Asking the book's index first
means the book is asked for offers only where it has one, so a full window costs one
look per time rather than a failed search. The answer is a :class:`Room`; its text and
page (for the clinic's staff) are :mod:`tms_schedule.pages.room`.

>>> from tms_schedule import ClinicCalendar, get_protocol
>>> from tms_schedule.book import Book, Chair
>>> book = Book(ClinicCalendar("America/Denver"), (Chair("c1"), Chair("c2")))
>>> room = room_for(book, get_protocol("itbs"), dt.date(2026, 11, 16), dt.time(9), dt.time(10))
>>> room.count, [f"{t:%H:%M}" for t in room.starts()]
(2, ['09:00', '09:00'])
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import attrs

from tms_schedule._conveniences import provided
from tms_schedule._dates import short_day
from tms_schedule.book.occupancy import Occupancy, block_phases, minute
from tms_schedule.book.offers import Offer
from tms_schedule.clinic import ClinicCalendar
from tms_schedule.errors import NoOfferError, TmsScheduleError
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = ["Room", "room_for"]

# A day's chair time, as (start, end) minutes since the epoch.
_Spans = list[tuple[int, int]]


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

    def to_text(self, chair_names: Mapping[str, str] | None = None) -> str:
        """One line of the answer, then each course: its time, chairs and trade-offs (see
        :func:`~tms_schedule.pages.room.room_text`)."""
        return str(provided("room_text")(self, chair_names))

    def to_html(
        self,
        chair_names: Mapping[str, str] | None = None,
        *,
        clinic_name: str | None = None,
        issued: dt.date | None = None,
    ) -> str:
        """The answer as a printable page for the clinic's staff (see
        :func:`~tms_schedule.pages.room.room_html`): ``clinic_name`` and ``issued`` (a
        date, or a date and time) as on the day sheet."""
        return str(provided("room_html")(self, chair_names, clinic_name=clinic_name, issued=issued))


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
    ``window_start`` and ``window_end`` (see the module, and :meth:`Book.room_for
    <tms_schedule.book.Book.room_for>`, which checks the arguments)."""
    window = (window_start, window_end)
    occupancy = book.occupancy()
    closed = _why_none_can_start(book.clinic, occupancy, protocol, start_date)
    if closed is not None:
        return Room(protocol.id, start_date, window, (), closed=closed)
    filling = _Filling(book, occupancy, protocol, start_date, limit)
    refused: str | None = None
    starts_then = False
    for at in _times(start_date, window_start, window_end, step):
        if filling.full:
            break
        trial = _Trial.of(protocol, book.clinic, start_date, at)
        if trial.refused is not None:
            refused = refused or trial.refused
            continue
        starts_then = True
        filling.take_while_free(at, trial.days)
    if not starts_then and refused:
        closed = f"a course of {protocol.id} cannot start then ({refused})"
    return Room(
        protocol.id, start_date, window, tuple(filling.taken), closed=closed, stopped=filling.full
    )


def _why_none_can_start(
    clinic: ClinicCalendar, occupancy: Occupancy, protocol: Protocol, start_date: dt.date
) -> str | None:
    """Why no course of ``protocol`` can start on ``start_date`` at any time: the clinic is
    closed, the day is kept for catching up, or no chair runs the protocol."""
    day = clinic.day(start_date)
    if day.hours is None:
        return clinic.closure_reason(start_date)
    if day.catch_up_only:
        return "the day is kept for catching up on missed sessions"
    if not occupancy.able(protocol):
        return f"no chair runs it (it needs {', '.join(sorted(protocol.requires))})"
    return None


def _times(day: dt.date, first: dt.time, last: dt.time, step: int) -> Iterator[dt.time]:
    """The times of the window, every ``step`` minutes from ``first`` to ``last``."""
    moment, end = dt.datetime.combine(day, first), dt.datetime.combine(day, last)
    while moment <= end:
        yield moment.time()
        moment += dt.timedelta(minutes=step)


@attrs.frozen
class _Trial:
    """A course of the protocol starting at one time: the chair time each of its days
    holds (as the offers hold such a day), or why it cannot start then."""

    days: dict[dt.date, _Spans] = attrs.Factory(dict)
    refused: str | None = None

    @classmethod
    def of(
        cls, protocol: Protocol, clinic: ClinicCalendar, start_date: dt.date, at: dt.time
    ) -> _Trial:
        try:
            schedule = Plan(protocol, clinic, start_date, at, "room").expand()
        except TmsScheduleError as error:
            return cls(refused=str(error))
        first = schedule.first.start.date()
        if first != start_date:
            return cls(refused=f"its first session would fall on {short_day(first)}")
        blocks = block_phases(protocol)
        days: dict[dt.date, _Spans] = {}
        phases: dict[dt.date, set[str]] = {}
        for session in schedule.sessions:
            day = session.start.date()
            days.setdefault(day, []).append((minute(session.start), minute(session.end)))
            phases.setdefault(day, set()).add(session.phase)
        for day, spans in days.items():
            if len(spans) > 1 and phases[day] & blocks:  # the chair is held all day long
                days[day] = [(spans[0][0], spans[-1][1])]
        return cls(days)


class _Filling:
    """A copy of the book that courses are taken into, one after another."""

    def __init__(
        self,
        book: Book,
        occupancy: Occupancy,
        protocol: Protocol,
        start_date: dt.date,
        limit: int,
    ) -> None:
        self.book = book
        self.occupancy = occupancy
        self.protocol = protocol
        self.start_date = start_date
        self.limit = limit
        self.taken: list[Offer] = []
        self._ids = set(book.course_ids())
        self._number = 0

    @property
    def full(self) -> bool:
        """Whether the count reached the limit asked for."""
        return len(self.taken) >= self.limit

    def take_while_free(self, at: dt.time, days: dict[dt.date, _Spans]) -> None:
        """Take the book's offer at ``at`` as long as every day of the course has a chair
        free then (and the book still offers one)."""
        while not self.full and self._free_every_day(days):
            offer = self._offer_at(at)
            if offer is None:
                return
            self._take(offer)

    def _free_every_day(self, days: dict[dt.date, _Spans]) -> bool:
        """Whether each day's sessions fit some chair that runs the protocol at their
        times: exactly when the book offers the course at that time (changing chair if it
        must)."""
        able = self.occupancy.able(self.protocol)
        return all(
            any(self.occupancy.masks(chair, day, spans, 0, 1, 1) for chair in able)
            for day, spans in days.items()
        )

    def _offer_at(self, at: dt.time) -> Offer | None:
        """The book's own offer starting on the day at ``at``: its search has the last word."""
        try:
            offers = self.book.offers(
                self.protocol, self.start_date, at, window=0, dates=1, count=1
            )
        except NoOfferError:
            return None
        return next((o for o in offers if o.start == self.start_date), None)

    def _take(self, offer: Offer) -> None:
        self._number += 1
        while f"room-{self._number}" in self._ids:
            self._number += 1
        self.book = self.book.take(offer, f"room-{self._number}")
        self.occupancy = self.book.occupancy()
        self.taken.append(offer)
