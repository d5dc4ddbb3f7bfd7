"""One number for a session: the number a course's records use (``record``, ``void``, the
course files), and beside it, where the two differ, its place among the sessions that
count, in the words every view uses.

A session keeps its number for good: a plan numbers its sessions 1, 2, ... in time order,
and a session added later (a make-up after a missed one, planned by a re-plan) gets the
next number after the last. Its *place* is its rank among the course's sessions that count
(attended or to come) in time order. While nothing is missed the two are the same; after a
missed session they part: session 13 becomes the 12th that counts, and the make-up at the
end is session 37, the 36th of 36.

>>> session_words(12, 12, 36), session_words(13, 12, 36), session_words(45, 6, 44)
('session 12 of 36', 'session 13: 12th of 36', 'session 45, a make-up: 6th of 44')
>>> session_words(5, None, 36)
'session 5'
"""

from __future__ import annotations

import datetime as dt

from tms_schedule.schedule import ACTIVE_STATUSES, Schedule

__all__ = ["ordinal", "places", "session_words"]


def places(schedule: Schedule) -> dict[int, int]:
    """Each counting session's place in the course (its rank in time order among the
    sessions attended or to come), by session number; missed and cancelled sessions have
    none."""
    counted = sorted(
        (s for s in schedule.sessions if s.status in ACTIVE_STATUSES),
        key=lambda s: (s.start.astimezone(dt.UTC), s.number),
    )
    return {s.number: place for place, s in enumerate(counted, start=1)}


def session_words(number: int, place: int | None, of: int) -> str:
    """How a view names a session: by its number, with its place beside it where they
    differ (see the module). ``place`` is ``None`` for a session that does not count;
    ``of`` is the sessions the course delivers. A session numbered past them is a
    make-up."""
    if place is None:
        return f"session {number}"
    if number == place:
        return f"session {number} of {of}"
    makeup = ", a make-up" if number > of else ""
    return f"session {number}{makeup}: {ordinal(place)} of {of}"


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``12th``, ``21st``, ``112th``.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '112th']
    """
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{({1: 'st', 2: 'nd', 3: 'rd'}).get(number % 10, 'th')}"
