"""The book as the desk uses it: the book's store (:mod:`tms_schedule.book.store`), shared
by a server's threads.

The store keeps, beside the courses, what the front office needs (:mod:`tms_schedule.book.office`):
the patient details of each course, the staff who may sign in (a password hash, never the
password), the audit trail of every change with who made it, and the waiting list. Each
call here holds one lock, and a change holds it until it is saved: the desk's threads take
turns on the one connection, as the store asks.

Reads cost what they touch: a day's sessions and sheet, one course, the chair time of a
window; never the whole book.

>>> import pathlib, tempfile, datetime as dt
>>> from tms_schedule.book.store import BookStore
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> BookStore.create(folder / "book.db", b'timezone = "UTC"\\n[[chairs]]\\nid = "c1"\\n').close()
>>> desk = DeskBook(folder / "book.db")
>>> now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
>>> desk.add_user("ana", "front-desk", "$argon2id$...", now=now, actor="setup")
>>> [(u.name, u.role) for u in desk.users()]
[('ana', 'front-desk')]
>>> desk.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from tms_schedule.book.book import Book, BookEvent
from tms_schedule.book.offers import Offer
from tms_schedule.book.office import (
    ROLES,
    AuditEntry,
    PatientDetails,
    SessionRow,
    User,
    WaitingEntry,
)
from tms_schedule.book.sheet import DaySheet
from tms_schedule.book.store import BookChange, BookStore
from tms_schedule.book.usage import Usage
from tms_schedule.course.lifecycle import Course
from tms_schedule.settings import ClinicSettings

__all__ = ["ROLES", "DeskBook", "PatientDetails", "User"]


class _Trial(Exception):
    """Ends a trial change: its transaction is rolled back."""


class DeskBook:
    """The clinic's book for the desk's threads (see the module).

    Args:
        location: the book's file or ``postgresql://`` address.
        site: the site, where the address does not name it.
        timeout: seconds a change waits for another terminal's.
    """

    def __init__(
        self, location: str | os.PathLike[str], *, site: str | None = None, timeout: float = 10.0
    ) -> None:
        self._lock = threading.RLock()
        self._store = BookStore(location, site=site, timeout=timeout, threads=True)
        self.location = location
        self._settings: ClinicSettings | None = None

    # -- reading ---------------------------------------------------------------------------------

    def version(self) -> int:
        """The site's version: changes with every change of the book (by any process)."""
        with self._lock:
            return self._store.version()

    def secret(self, name: str, *, now: dt.datetime) -> bytes:
        """The book's key called ``name`` (32 bytes), made once and the same for every
        process on the book."""
        with self._lock:
            return self._store.secret(name, now=now)

    def settings(self) -> ClinicSettings:
        """The clinic settings the book was made from."""
        with self._lock:
            if self._settings is None:
                self._settings = self._store.settings()
            return self._settings

    def state(self) -> Book:
        """The clinic's calendar and chairs, without courses."""
        with self._lock:
            return self._store.state()

    def day_sheet(self, day: dt.date) -> DaySheet:
        with self._lock:
            return self._store.day_sheet(day)

    def sessions(
        self, first: dt.date, last: dt.date | None = None, *, course_id: str | None = None
    ) -> tuple[SessionRow, ...]:
        with self._lock:
            return self._store.sessions(first, last, course_id=course_id)

    def usage(self, first: dt.date, last: dt.date) -> Usage:
        with self._lock:
            return self._store.usage(first, last)

    def course(self, course_id: str) -> Course:
        with self._lock:
            return self._store.course(course_id)

    def first_day(self, course_id: str) -> dt.date:
        with self._lock:
            return self._store.first_day(course_id)

    def window(
        self,
        *,
        courses: Iterable[str] = (),
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> Book:
        """``courses`` in full and the others' chair time from ``since`` to ``until``."""
        with self._lock:
            return self._store.window(courses=courses, since=since, until=until)

    def events(self) -> tuple[BookEvent, ...]:
        with self._lock:
            return self._store.events()

    def following(self, course_id: str) -> tuple[str, ...]:
        """The courses that follow ``course_id``."""
        with self._lock:
            return self._store.followers(course_id)

    # -- changing --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(self, **options: Any) -> Iterator[BookChange]:
        """One change of the book (see :meth:`BookStore.change`: ``now``, ``actor``,
        ``action``, ``courses``, ``days``, ``events``, ``since``, ``expect``)."""
        with self._lock, self._store.change(**options) as change:
            yield change

    @contextlib.contextmanager
    def trial(self, **options: Any) -> Iterator[BookChange]:
        """A change worked out as :meth:`change` would, then rolled back: what it would do,
        with nothing written (a closure's preview)."""
        # The trial's end unwinds the change (rolled back), then stops at the suppress.
        with self._lock, contextlib.suppress(_Trial), self._store.change(**options) as change:
            yield change
            raise _Trial

    def save_offers(self, offers: Iterable[Offer], *, now: dt.datetime) -> None:
        with self._lock:
            self._store.save_offers(offers, now=now)

    def offer(self, key: str, book: Book | None = None) -> Offer:
        with self._lock:
            return self._store.offer(key, book)

    def feed_versions(self) -> dict[str, tuple[int, str | None, int | None]]:
        with self._lock:
            return self._store.feed_versions()

    # -- patients ----------------------------------------------------------------------------------

    def details(self, course_ids: Iterable[str]) -> dict[str, PatientDetails]:
        """The patient details of these courses (those that have any)."""
        found = {}
        with self._lock:
            for course_id in dict.fromkeys(course_ids):
                details = self._store.patient(course_id)
                if details is not None:
                    found[course_id] = details
        return found

    def set_details(self, details: PatientDetails, *, now: dt.datetime, actor: str) -> None:
        with self._lock:
            self._store.set_patient(details, now=now, actor=actor)

    def find(self, text: str, limit: int = 20) -> tuple[PatientDetails, ...]:
        """Courses whose patient label or id holds ``text``, newest first."""
        if not text.strip():
            return ()
        with self._lock:
            return self._store.find_patients(text.strip(), limit=limit)

    def history(self, course_id: str) -> list[AuditEntry]:
        """Every change of a course, oldest first, with who made it."""
        with self._lock:
            return list(reversed(self._store.audit(course_id=course_id, limit=1000)))

    # -- users -------------------------------------------------------------------------------------

    def users(self) -> tuple[User, ...]:
        with self._lock:
            return self._store.users()

    def user(self, name: str) -> User | None:
        with self._lock:
            return self._store.user(name)

    def add_user(
        self, name: str, role: str, password_hash: str, *, now: dt.datetime, actor: str
    ) -> None:
        with self._lock:
            self._store.add_user(User(name, role, password_hash, now), now=now, actor=actor)

    def set_password(self, name: str, password_hash: str, *, now: dt.datetime, actor: str) -> None:
        with self._lock:
            self._store.set_password(name, password_hash, now=now, actor=actor)

    def remove_user(self, name: str, *, now: dt.datetime, actor: str) -> None:
        with self._lock:
            self._store.remove_user(name, now=now, actor=actor)

    # -- the waiting list --------------------------------------------------------------------------

    def waiting(self) -> tuple[WaitingEntry, ...]:
        """Who is waiting (offered a place or not yet), longest first."""
        with self._lock:
            found = self._store.waiting("waiting") + self._store.waiting("offered")
        return tuple(sorted(found, key=lambda entry: entry.number))

    def set_waiting(self, number: int, state: str, *, now: dt.datetime, actor: str) -> None:
        """Move an entry of the waiting list to ``state`` (offered, booked, removed)."""
        with self._lock:
            self._store.set_waiting_state(number, state, now=now, actor=actor)

    def add_waiting(self, entry: WaitingEntry, *, now: dt.datetime, actor: str) -> WaitingEntry:
        with self._lock:
            return self._store.add_waiting(entry, now=now, actor=actor)

    def close(self) -> None:
        with self._lock:
            self._store.close()

    def __enter__(self) -> DeskBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
