"""Where the book lives between commands: a SQLite file, or a site of a PostgreSQL database.

The command line and the front desk keep the clinic's :class:`~tms_schedule.book.Book`
here (the library's objects need no store: clinic software may keep them in its own
database). A book is named by its *location*: a file path (SQLite, one file on one
computer) or a ``postgresql://`` address (several computers, several clinics), with the
site after ``?site=`` or given apart; an address that names none is the site
``default``. Both engines keep the same tables (``book/sql``) and answer the same calls.

* **An action costs what it touches.** A change (:meth:`BookStore.change`) holds only the
  courses it names (and, for a closure, those with sessions on its days) and the chair
  time every other course holds from the day it starts (:attr:`Book.others
  <tms_schedule.book.Book.others>`), read by day from the ``sessions`` table. Views that
  only read (the day sheet, usage, ``book list``, the feeds' groups) read rows, not
  course documents. Courses that ended stay, readable and exportable, and cost the day's
  work nothing. The courses that follow the clinic's calendar share one calendar object.
* **One transaction per change.** A site's writers take turns (SQLite: one writer per
  file; PostgreSQL: the site's row, locked by the change's first statement), so two
  terminals never book the same chair nor pass the staff limit; other sites never wait.
  An error inside leaves the book as it was. Every change raises the site's *version*
  (:meth:`BookStore.version`: a reader re-reads only when it moved) and writes the audit
  trail: who, when, what.
* **Never two sessions on one chair.** The book refuses such a change; the database
  refuses it again (a trigger on SQLite, an exclusion constraint on PostgreSQL), whoever
  writes.
* **A schema version.** An older book is migrated in one transaction when opened, a
  newer one is refused ("upgrade tms_schedule").
* **The library reads no clock**: every change is told ``now`` and who makes it.

>>> import datetime as dt, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> settings = b'timezone = "America/Denver"\\n[[chairs]]\\nid = "c1"\\n'
>>> store = BookStore.create(folder / "book.db", settings)
>>> now = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)
>>> offer = store.window(since=dt.date(2026, 11, 16)).offers("itbs", "2026-11-16", "09:00")[0]
>>> with store.change(since=offer.start, now=now, actor="ann", action="take") as change:
...     change.book = change.book.take(offer, "c-1")
>>> [line.course_id for line in store.courses()], store.version()
(['c-1'], 1)
>>> store.close()
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import hashlib
import importlib.resources
import itertools
import json
import os
import re
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import attrs

from tms_schedule._files import shown_path
from tms_schedule.book.book import Book, Booked, BookEvent
from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.book.occupancy import Booking, block_phases, minute
from tms_schedule.book.offers import Offer
from tms_schedule.book.office import (
    ROLES,
    AuditEntry,
    CourseLine,
    PatientDetails,
    SessionRow,
    User,
    WaitingEntry,
    one_line,
)
from tms_schedule.book.seated import Seated
from tms_schedule.book.sheet import DaySheet, day_sheet_from
from tms_schedule.book.usage import Usage, usage_from
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course.codec import (
    clinic_from_data,
    clinic_to_data,
    course_from_json,
    course_to_compact_json,
    protocol_from_data,
    protocol_to_data,
)
from tms_schedule.course.lifecycle import Course
from tms_schedule.errors import (
    BookError,
    ChangedMeanwhileError,
    CourseFileError,
    StoreError,
    TmsScheduleError,
)
from tms_schedule.export.json import schedule_from_data, schedule_to_dict
from tms_schedule.plan import Plan
from tms_schedule.schedule import Session
from tms_schedule.settings import ClinicSettings, settings_from_bytes

__all__ = [
    "DEFAULT_SITE",
    "SCHEMA",
    "BookChange",
    "BookStore",
    "Location",
    "is_book_location",
]

#: The schema this tms_schedule writes (a SQLite book's ``PRAGMA user_version``).
SCHEMA = 8
#: The site of a location that names none.
DEFAULT_SITE = "default"
_OCCUPYING = ("scheduled", "attended")
_SITE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Offers older than this are dropped when new ones are kept.
_OFFERS_KEPT = dt.timedelta(days=30)
# SQLite's limit of parameters in one statement is 999 in old builds.
_CHUNK = 500
# More days than a usage covers (the computation refuses such a range).
_LONGEST_USAGE = dt.timedelta(days=740)


# -- locations ---------------------------------------------------------------------------------


@attrs.frozen
class Location:
    """Where a book is: a file (SQLite) or a PostgreSQL database, and the site in it.

    >>> Location.parse("postgresql://app@db.example/tms?site=denver").site
    'denver'
    >>> Location.parse("postgresql://app:secret@db.example/tms").shown
    'postgresql://app:***@db.example/tms'
    >>> Location.parse("book.db").engine
    'sqlite'
    """

    engine: str
    target: str
    site: str | None
    shown: str

    @classmethod
    def parse(cls, text: str | os.PathLike[str], site: str | None = None) -> Location:
        """A location from a path or an address; ``site`` (an option) names the site
        where the address does not (naming two different ones is refused)."""
        if site is not None:
            _check_site(site, "site")
        if isinstance(text, os.PathLike) or not _is_url(text):
            path = os.fspath(text)
            if not path:
                raise StoreError("book: give the book's file or a postgresql:// address")
            return cls("sqlite", path, site, shown_path(path))
        parts = urllib.parse.urlsplit(text)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        named = [value for key, value in query if key == "site"]
        rest = [(key, value) for key, value in query if key != "site"]
        shown = _hide_password(parts)
        if len(named) > 1:
            raise StoreError(f"{shown}: names the site more than once")
        if named:
            _check_site(named[0], "site")
            if site is not None and site != named[0]:
                raise StoreError(
                    f"site: {site!r} given, but the address names the site {named[0]!r}"
                )
            site = named[0]
        target = urllib.parse.urlunsplit(
            ("postgresql", parts.netloc, parts.path, urllib.parse.urlencode(rest), "")
        )
        return cls("postgresql", target, site or DEFAULT_SITE, shown)


def _is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def _hide_password(parts: urllib.parse.SplitResult) -> str:
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = "&".join(f"{k}={v}" for k, v in urllib.parse.parse_qsl(parts.query) if k != "password")
    return urllib.parse.urlunsplit(("postgresql", netloc, parts.path, query, ""))


def _check_site(site: object, field: str) -> str:
    if not isinstance(site, str) or not _SITE.fullmatch(site):
        raise StoreError(
            f"{field}: 1 to 63 lowercase letters, digits, _ and - (starting with a letter or"
            f" digit), got {site!r}"
        )
    return site


def is_book_location(text: str) -> bool:
    """Whether ``text`` names a book rather than a folder: a ``postgresql://`` address, or
    a file (a book's or not: opening it says which)."""
    return _is_url(text) or os.path.isfile(text)


# -- engines -------------------------------------------------------------------------------------


class Engine(Protocol):
    """What the store asks of a database (see :mod:`~tms_schedule.book.store_sqlite` and
    :mod:`~tms_schedule.book.store_postgres`)."""

    kind: str
    shown: str

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
    def run_many(
        self, sql: str, rows: Iterable[Sequence[Any]], *, together: str | None = None
    ) -> None: ...
    def script(self, sql: str) -> None: ...
    def begin(self, *, write: bool, migrate: bool = False) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def schema(self) -> int: ...
    def set_schema(self, version: int) -> None: ...
    def tables(self) -> set[str]: ...
    def lock_schema(self) -> None: ...


def _engine(location: Location, *, timeout: float, threads: bool, create: bool) -> Engine:
    if location.engine == "sqlite":
        from tms_schedule.book.store_sqlite import SqliteEngine

        return SqliteEngine(location.target, timeout=timeout, threads=threads, create=create)
    from tms_schedule.book.store_postgres import PostgresEngine

    return PostgresEngine(location.target, location.shown, timeout=timeout, create=create)


def _migration(engine: str, version: int) -> str:
    return (
        importlib.resources.files("tms_schedule.book")
        .joinpath("sql", engine, f"{version}.sql")
        .read_text(encoding="utf-8")
    )


_TABLES = {
    "sites",
    "courses",
    "documents",
    "sessions",
    "events",
    "offers",
    "feeds",
    "patients",
    "users",
    "audit",
    "waiting",
    "secrets",
}
# The first schema each engine has: SQLite books go back to 1, PostgreSQL began at 4.
_FIRST = {"sqlite": 1, "postgresql": 4}


# -- the store -----------------------------------------------------------------------------------


#: What converting a damaged row raises in Python (an int where text was, text where a
#: number was, a missing key in a JSON column...): said as the book's damage, one line.
_DAMAGE = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _reads(
    method: Callable[Concatenate[BookStore, _P], _R],
) -> Callable[Concatenate[BookStore, _P], _R]:
    """A reading method of the store whose rows may have been edited past the database's
    rules: anything but the library's own error becomes one :class:`StoreError`."""

    @functools.wraps(method)
    def read(store: BookStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(store, *args, **kwargs)
        except TmsScheduleError:
            raise
        except _DAMAGE as error:
            raise StoreError(
                f"{store.shown}: a row of the book is damaged ({type(error).__name__}: {error});"
                " tms-schedule book check names what is wrong; restore a backup"
            ) from None

    return read


class BookStore:
    """An open book (see the module). Use :meth:`create` for a new one.

    Args:
        location: the book's file, or a ``postgresql://`` address (see :class:`Location`).
        site: the site, where the address does not name it (a SQLite file holds one).
        timeout: seconds a change waits for another terminal's before it says "busy".
        threads: one connection that a server's threads share (each call under the
            caller's lock).
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        site: str | None = None,
        timeout: float = 10.0,
        threads: bool = False,
    ) -> None:
        self.location = Location.parse(location, site)
        self.timeout = timeout
        self._db = _engine(self.location, timeout=timeout, threads=threads, create=False)
        self._state_cache: tuple[str, Book] | None = None
        self._state_version = -1  # the site's version as the last state read had it
        self._settings_cache: tuple[bytes, ClinicSettings] | None = None
        self._courses: dict[str, tuple[int, ClinicCalendar | None, Course]] = {}
        self._kept = _KeptHolds()
        try:
            self._check_and_migrate()
            self.site = self._find_site()
        except BaseException:
            self._db.close()
            raise

    @property
    def path(self) -> Path:
        """The book's file (a SQLite book)."""
        return Path(self.location.target)

    @property
    def shown(self) -> str:
        """The book as messages name it (a password hidden)."""
        return self.location.shown

    @classmethod
    def create(
        cls,
        location: str | os.PathLike[str],
        settings: bytes,
        name: str = "clinic.toml",
        *,
        site: str | None = None,
    ) -> BookStore:
        """A new book at ``location`` from a clinic settings document (its chairs above
        all). An existing file, or an existing site of a database, is never replaced."""
        where = Location.parse(location, site)
        parsed = settings_from_bytes(settings, name)
        if not parsed.chairs:
            raise StoreError(
                f"{name}: has no [[chairs]]: a book needs the clinic's chairs (see the"
                " settings file's [[chairs]] tables)"
            )
        book = Book(parsed.calendar, parsed.chairs, parsed.staff_limits)
        engine = _engine(where, timeout=10.0, threads=False, create=True)
        made = False
        try:
            engine.begin(write=True, migrate=True)
            try:
                version = engine.schema()
                if version > SCHEMA:
                    raise StoreError(_newer(where.shown, version))
                if version == 0:
                    _migrate(engine, 0)
                elif version < SCHEMA:
                    raise StoreError(
                        f"{where.shown}: holds books of schema {version}; open one of them"
                        " once (any book command) to bring it to this tms_schedule's schema"
                    )
                site_name = where.site or DEFAULT_SITE
                if engine.run("SELECT 1 FROM sites WHERE site = ?", (site_name,)):
                    raise StoreError(
                        f"{where.shown}: has a book for site {site_name!r} already; a book is"
                        " never replaced"
                    )
                engine.run(
                    "INSERT INTO sites VALUES (?, ?, ?, ?, 0)",
                    (site_name, settings, name, json.dumps(_state_to_data(book))),
                )
                engine.commit()
                made = True
            except BaseException:
                engine.rollback()
                raise
        finally:
            engine.close()
            if not made and where.engine == "sqlite":
                with contextlib.suppress(OSError):
                    os.unlink(where.target)
        return cls(location, site=where.site)

    def close(self) -> None:
        """Close the connection to the database (the book itself stays as it is)."""
        self._db.close()

    def __enter__(self) -> BookStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    @_reads
    def version(self) -> int:
        """The site's version: raised by every change, whichever process makes it (a
        reader that saw this number has nothing new to read while it stays)."""
        rows = self._db.run("SELECT version FROM sites WHERE site = ?", (self.site,))
        if not rows:
            raise StoreError(f"{self.shown}: the site {self.site!r} is gone")
        return int(rows[0][0])

    @_reads
    def settings(self) -> ClinicSettings:
        """The clinic settings the book was made from (its protocols, calendar choices)."""
        rows = self._db.run(
            "SELECT settings, settings_name FROM sites WHERE site = ?", (self.site,)
        )
        blob, name = rows[0]
        if not isinstance(blob, bytes | bytearray | memoryview) or not isinstance(name, str):
            # (bytes() of a number makes that many bytes: a terabyte for a big one)
            raise StoreError(f"{self.shown}: its clinic settings are damaged (not a file's bytes)")
        data = bytes(blob)
        if self._settings_cache is not None and self._settings_cache[0] == data:
            return self._settings_cache[1]
        try:
            settings = settings_from_bytes(data, name)
        except TmsScheduleError as error:
            raise StoreError(f"{self.shown}: its clinic settings are damaged ({error})") from None
        self._settings_cache = (data, settings)
        return settings

    @_reads
    def load(self) -> Book:
        """The whole book: every course it holds (for an export or a check: a day's work
        uses :meth:`window` and :meth:`change`, which read what they touch)."""
        with self._reading():
            base = self._state()
            ids = [row[0] for row in self._db.run(_IN_ORDER, (self.site,))]
            held = self._held(ids, base.clinic)
            return self._book(base, [booked for booked, _ in held.values()], self._events())

    @_reads
    def state(self) -> Book:
        """The book without its courses: the clinic's calendar, chairs, staff limits and
        outages as they are now."""
        with self._reading():
            return self._state()

    @_reads
    def window(
        self,
        *,
        courses: Iterable[str] = (),
        since: dt.date | str | None = None,
        until: dt.date | None = None,
    ) -> Book:
        """A window of the book, to ask it for offers or room: ``courses`` in full, and
        the chair time of every other course from ``since`` (default: the first day of
        the courses held) to ``until`` (default: every day after)."""
        with self._reading():
            base = self._state()
            held = self._held(list(courses), base.clinic)
            floor = self._floor(held, since, None, None)
            others = self._holds(floor, set(held), self._state_version, until)
            return self._book(base, [b for b, _ in held.values()], (), others)

    @_reads
    def first_day(self, course_id: str) -> dt.date:
        """The local date of a course's first session."""
        rows = self._db.run(
            "SELECT first_day FROM courses WHERE site = ? AND course_id = ?",
            (self.site, course_id),
        )
        if not rows:
            self._known([course_id])
        return dt.date.fromisoformat(rows[0][0])

    @_reads
    def day_sheet(self, day: dt.date) -> DaySheet:
        """The day sheet of ``day`` (see :meth:`Book.day_sheet
        <tms_schedule.book.Book.day_sheet>`), from the rows of that day's sessions: no
        course is read."""
        with self._reading():
            base = self._state()
            seated = self._seated(day, day, base.clinic.zone)
        return day_sheet_from(
            day,
            clinic=base.clinic,
            chairs=base.chairs,
            limits=base.limits,
            outages=base.outages,
            seated=seated,
        )

    @_reads
    def usage(self, first: dt.date, last: dt.date, *, slot: int = 60) -> Usage:
        """Chair time from ``first`` to ``last`` (see :meth:`Book.usage
        <tms_schedule.book.Book.usage>`), from the rows of those days' sessions."""
        with self._reading():
            base = self._state()
            # (a range the computation refuses reads few rows before it says why)
            seated = self._seated(first, min(last, first + _LONGEST_USAGE), base.clinic.zone)
        return usage_from(
            first,
            last,
            clinic=base.clinic,
            chairs=base.chairs,
            outages=base.outages,
            seated=seated,
            slot=slot,
        )

    def _seated(self, first: dt.date, last: dt.date, zone: dt.tzinfo) -> list[Seated]:
        """The sessions of ``first`` to ``last`` as the views take them (``zone``: the
        clinic's, from the state the caller read)."""
        return [
            Seated(
                Session(
                    row.number,
                    row.phase,
                    row.phase_number,
                    row.start,
                    row.end,
                    row.status,
                    cpt=row.cpt,
                    milestones=row.milestones,
                ),
                row.chair,
                row.course_id,
                row.protocol_id,
                row.protocol_name,
                row.block,
                row.place,
                row.target,
            )
            for row in self._session_rows(first, last, zone)
        ]

    @_reads
    def course(self, course_id: str) -> Course:
        """One course, read alone."""
        with self._reading():
            base = self._state()
            return self._held([course_id], base.clinic)[course_id][0].course

    @_reads
    def courses(self) -> tuple[CourseLine, ...]:
        """Every course as ``book list`` shows it, in the order they were booked."""
        with self._reading():
            rows = self._db.run(
                "SELECT course_id, protocol, progress, follows, first_day, last_day, stamp"
                " FROM courses WHERE site = ? ORDER BY booked_order",
                (self.site,),
            )
            chairs: dict[str, set[str]] = {}
            for course_id, chair in self._db.run(
                "SELECT DISTINCT course_id, chair FROM sessions WHERE site = ? AND chair IS"
                " NOT NULL",
                (self.site,),
            ):
                chairs.setdefault(course_id, set()).add(chair)
        return tuple(
            CourseLine(
                row[0],
                row[1],
                row[2],
                tuple(sorted(chairs.get(row[0], ()))),
                row[3],
                dt.date.fromisoformat(row[4]),
                dt.date.fromisoformat(row[5]),
                int(row[6]),
            )
            for row in rows
        )

    @_reads
    def followers(self, course_id: str) -> tuple[str, ...]:
        """The courses that follow course ``course_id``, in the order they were booked."""
        rows = self._db.run(
            "SELECT course_id FROM courses WHERE site = ? AND follows = ? ORDER BY booked_order",
            (self.site, course_id),
        )
        return tuple(row[0] for row in rows)

    @_reads
    def sessions(
        self, first: dt.date, last: dt.date | None = None, *, course_id: str | None = None
    ) -> tuple[SessionRow, ...]:
        """Every session whose local day is from ``first`` to ``last`` (both included),
        by start, course and number (only course ``course_id``'s, when given): read from
        rows, no course document parsed."""
        last = last or first
        with self._reading():
            return tuple(self._session_rows(first, last, self._state().clinic.zone, course_id))

    def _session_rows(
        self, first: dt.date, last: dt.date, zone: dt.tzinfo, course_id: str | None = None
    ) -> Iterator[SessionRow]:
        one = "" if course_id is None else " AND s.course_id = ?"
        rows = self._db.run(
            "SELECT s.course_id, s.number, s.phase, s.phase_number, s.day, s.starts, s.ends,"
            " s.status, s.chair, s.place, s.target, s.block, c.protocol, c.protocol_name,"
            " s.cpt, s.milestones, s.stamp FROM sessions s JOIN courses c ON c.site = s.site"
            " AND c.course_id = s.course_id WHERE s.site = ? AND s.day >= ? AND s.day <= ?"
            f"{one} ORDER BY s.starts, s.course_id, s.number",
            (self.site, first.isoformat(), last.isoformat())
            + (() if course_id is None else (course_id,)),
        )
        days: dict[str, dt.date] = {}
        for row in rows:
            day = days.get(row[4])
            if day is None:
                day = days[row[4]] = dt.date.fromisoformat(row[4])
            yield SessionRow(
                course_id=row[0],
                number=int(row[1]),
                phase=row[2],
                phase_number=int(row[3]),
                day=day,
                start=_local(int(row[5]), zone),
                end=_local(int(row[6]), zone),
                status=row[7],
                chair=row[8],
                place=None if row[9] is None else int(row[9]),
                target=int(row[10]),
                block=bool(row[11]),
                protocol_id=row[12],
                protocol_name=row[13],
                cpt=row[14],
                milestones=_milestones(row[15]),
                stamp=int(row[16]),
            )

    @_reads
    def events(self) -> tuple[BookEvent, ...]:
        """The clinic-wide closures and outages entered, in order."""
        with self._reading():
            return self._events()

    @_reads
    def overlaps(self, first: dt.date | None = None, last: dt.date | None = None) -> list[str]:
        """Two sessions of different courses on one chair at once, as the rows hold them
        (from ``first`` to ``last`` when given): what no change of the book makes, but a
        hand-edited database may hold."""
        where, params = "", [self.site, self.site]
        if first is not None:
            where += " AND a.day >= ?"
            params.append(first.isoformat())
        if last is not None:
            where += " AND a.day <= ?"
            params.append(last.isoformat())
        rows = self._db.run(
            "SELECT a.course_id, a.number, b.course_id, b.number, a.chair, a.day FROM"
            " sessions a JOIN sessions b ON b.site = ? AND b.chair = a.chair AND"
            " b.course_id > a.course_id AND b.status IN ('scheduled', 'attended') AND"
            " b.starts > a.starts - 1440 AND b.starts < a.ends AND a.starts < b.ends"
            " WHERE a.site = ? AND a.chair IS NOT NULL AND a.status IN ('scheduled',"
            f" 'attended'){where} ORDER BY a.day, a.chair",
            params,
        )
        return [
            f"{day}: course {a} session {n} and course {b} session {m} overlap on chair {chair}"
            for a, n, b, m, chair, day in rows
        ]

    @_reads
    def check(self) -> list[str]:
        """Every broken rule of the whole book, in words (empty for a sound one): what
        :meth:`Book.check <tms_schedule.book.Book.check>` finds, overlaps in the rows, and
        rows that no longer match their course."""
        book = self.load()
        problems = book.check() + self.overlaps()
        with self._reading():
            stored: dict[str, set[tuple[Any, ...]]] = {}
            for row in self._db.run(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE site = ?", (self.site,)
            ):
                stored.setdefault(row[1], set()).add(tuple(row[:-1]))
            follows = {
                row[0]: row[1]
                for row in self._db.run(
                    "SELECT course_id, follows FROM courses WHERE site = ?", (self.site,)
                )
            }
        zone = book.clinic.zone
        for booked in book.courses:
            expected = {row[:-1] for row in _session_rows(self.site, booked, zone, 0)}
            if stored.get(booked.course_id, set()) != expected:
                problems.append(
                    f"course {booked.course_id}: its sessions' rows do not match its document"
                )
            if follows.get(booked.course_id) != booked.course.follows:
                problems.append(
                    f"course {booked.course_id}: its row's follows does not match its document"
                )
        # The feeds are grouped from the rows: a circle there leaves its courses in no feed.
        problems += [_circle(c) for c in follows if _first_course(c, follows) is None]
        return problems

    # -- changing --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(
        self,
        *,
        now: dt.datetime,
        actor: str,
        action: str = "change",
        courses: Iterable[str] = (),
        days: tuple[dt.date, dt.date] | None = None,
        events: bool = False,
        since: dt.date | str | None = None,
        whole: bool = False,
        expect: Mapping[str | tuple[str, int], int] | None = None,
    ) -> Iterator[BookChange]:
        """One change, in one transaction: set ``change.book`` to the changed book.

        ``change.book`` holds the courses named in ``courses``, every course with a
        session to come or attended on ``days`` (first, last: a closure's), every event when
        ``events`` (a closure, an undo), or every course when ``whole``; and the chair
        time of all other courses from ``since`` (default: the first day of the courses
        held, or of ``days``). ``expect``: the stamps the caller last saw, by course id or
        (course id, session number); a change to any of them since is refused with
        :class:`~tms_schedule.errors.ChangedMeanwhileError`.

        The site's other writers wait for this one (and it for theirs, up to the
        timeout). Nothing is written if the block raises; otherwise the site's version
        goes up and the audit trail says who (``actor``), when (``now``) and what
        (``action``, ``change.detail``). ``change.patients`` (patient details) are kept in
        the same transaction, after the courses (a course the change books can be named),
        with no audit entry of their own: a booking is never saved without its patient;
        so is ``change.waiting`` (waiting-list entries moved to a state: the one a booking
        takes off the list).
        """
        when = _utc_text(now, "now")
        actor = one_line(actor, "actor", limit=64)
        action = one_line(action, "action", limit=40)
        courses = list(courses)
        with self._reading():
            # What the change holds is read before the site's lock is taken, so other
            # terminals wait for the change alone; under the lock it is read again only if
            # the site's version moved meanwhile.
            read = self._window_of(courses, days, events, since, whole, now, None)
            seen = self._state_version
        self._begin_write()
        try:
            version = self._bump()
            if version - 1 != seen:
                read = self._window_of(courses, days, events, since, whole, now, version - 1)
            base, held, floor, others, happened = read
            if expect:
                self._expect(expect)
            before = self._book(base, [booked for booked, _ in held.values()], happened, others)
            change = BookChange(before, before, self)
            yield change
            if change.book is before and not change.patients and not change.waiting:
                self._db.rollback()  # nothing to write: the version stays
                return
            parsed = self._write(before, change, held, floor, version, when, actor, action)
            self._db.commit()
            self._courses.update(parsed)  # (only now: a failed commit keeps the old ones)
        except BaseException:
            self._db.rollback()
            raise

    @_reads
    def _window_of(
        self,
        courses: Sequence[str],
        days: tuple[dt.date, dt.date] | None,
        events: bool,
        since: dt.date | str | None,
        whole: bool,
        now: dt.datetime,
        version: int | None,
    ) -> tuple[
        Book,
        dict[str, tuple[Booked, dict[int, tuple[Any, ...]]]],
        dt.date | None,
        tuple[tuple[dt.date, Booking], ...],
        tuple[BookEvent, ...],
    ]:
        """What a change holds (see :meth:`change`) as the site's ``version`` has it: the
        book's state, the courses held with their rows, the first day of the others'
        chair time, that chair time, and the events (``version``: the one this transaction
        reads, when not the state's)."""
        base = self._state()
        if version is None:
            version = self._state_version
        if whole:
            ids = [row[0] for row in self._db.run(_IN_ORDER, (self.site,))]
        else:
            ids = [*courses, *self._on_days(days, courses)]
            ids += self._following(ids)
        held = self._held(ids, base.clinic)
        if whole:
            return base, held, None, (), self._events()
        floor = self._floor(held, since, days, now.astimezone(base.clinic.zone).date())
        others = self._holds(floor, set(held), version)
        return base, held, floor, others, self._events() if events else ()

    def _on_days(self, days: tuple[dt.date, dt.date] | None, named: Sequence[str]) -> list[str]:
        """The courses with a session to come or attended from ``days[0]`` to ``days[1]``
        (a closure refuses days with sessions attended), but those ``named``."""
        if days is None:
            return []
        found = self._db.run(
            "SELECT DISTINCT course_id FROM sessions WHERE site = ? AND day >= ? AND day <= ?"
            " AND status IN ('scheduled', 'attended') ORDER BY course_id",
            (self.site, days[0].isoformat(), days[1].isoformat()),
        )
        return [row[0] for row in found if row[0] not in named]

    def _following(self, held: Sequence[str]) -> list[str]:
        """The courses that follow those ``held``, and those that follow them, but those
        held: a change that moves a course moves its patient's next courses out of its way
        (:meth:`Book.replan`, :meth:`Book.enter_closure`), so it holds them too."""
        found: list[str] = []
        known = set(held)
        leaders = list(known)
        while leaders:
            following: list[str] = []
            for chunk in _chunks(leaders):
                following += (
                    row[0]
                    for row in self._db.run(
                        f"SELECT course_id FROM courses WHERE site = ? AND follows IN"
                        f" ({_marks(chunk)}) ORDER BY booked_order",
                        (self.site, *chunk),
                    )
                    if row[0] not in known
                )
            known.update(following)
            found += following
            leaders = following
        return found

    def save_offers(self, offers: Iterable[Offer], *, now: dt.datetime) -> None:
        """Keep offers so a later command can take one by its key (offers older than 30
        days go)."""
        when = _utc_text(now, "now")
        oldest = (now - _OFFERS_KEPT).astimezone(dt.UTC).isoformat(timespec="seconds")
        self._begin_write()
        try:
            self._db.run("DELETE FROM offers WHERE site = ? AND made < ?", (self.site, oldest))
            for offer in offers:
                self._db.run(
                    "INSERT INTO offers VALUES (?, ?, ?, ?) ON CONFLICT (site, key) DO UPDATE"
                    " SET document = excluded.document, made = excluded.made",
                    (self.site, offer.key, json.dumps(_offer_to_data(offer)), when),
                )
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    @_reads
    def offer(self, key: str, book: Book | None = None) -> Offer:
        """An offer kept by :meth:`save_offers`, for the clinic's calendar (``book``'s)."""
        rows = self._db.run(
            "SELECT document FROM offers WHERE site = ? AND key = ?", (self.site, key)
        )
        if not rows:
            raise StoreError(
                f"offer: no offer {key!r} in this book (offers are made with: tms-schedule book"
                " offer)"
            )
        clinic = book.clinic if book is not None else self._state().clinic
        try:
            return _offer_from_data(json.loads(rows[0][0]), clinic)
        except (TmsScheduleError, KeyError, TypeError, ValueError) as error:
            raise StoreError(f"{self.shown}: offer {key}: damaged ({error})") from None

    # -- feeds -----------------------------------------------------------------------------------

    @_reads
    def feed_versions(self) -> dict[str, tuple[int, str | None, int | None]]:
        """Each feed's version and own choices (``cancelled``, ``past_days``) the book keeps;
        a feed not listed is at version 1 with the server's defaults."""
        rows = self._db.run(
            "SELECT feed_id, version, cancelled, past_days FROM feeds WHERE site = ?",
            (self.site,),
        )
        found = {}
        for feed_id, version, cancelled, past_days in rows:
            what = f"{self.shown}: feeds: feed {feed_id!r}"
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise StoreError(f"{what}: version must be a whole number from 1, got {version!r}")
            if cancelled not in (None, "keep", "drop"):
                raise StoreError(f"{what}: cancelled must be 'keep' or 'drop', got {cancelled!r}")
            if past_days is not None and (
                isinstance(past_days, bool)
                or not isinstance(past_days, int)
                or not 0 <= past_days <= 3660
            ):
                raise StoreError(f"{what}: past_days must be from 0 to 3660, got {past_days!r}")
            found[str(feed_id)] = (version, cancelled, past_days)
        return found

    @_reads
    def feed_groups(self, problems: list[str] | None = None) -> dict[str, list[str]]:
        """Each patient's courses, by the id of the first one (the feed's id): each first
        course with the courses that follow it, in the order they start. Read from rows.

        A course whose row follows itself, or a circle of them, is in no feed: said in
        ``problems`` (when given), one line a course, as :meth:`check` says it."""
        rows = self._db.run(
            "SELECT course_id, follows, plan_start FROM courses WHERE site = ?", (self.site,)
        )
        follows = {row[0]: row[1] for row in rows}
        starts = {row[0]: row[2] for row in rows}
        groups: dict[str, list[str]] = {}
        for course_id in follows:
            root = _first_course(course_id, follows)
            if root is None:
                if problems is not None:
                    problems.append(f"{_circle(course_id)}; left out of the feeds")
                continue
            groups.setdefault(root, []).append(course_id)
        for group in groups.values():
            group.sort(key=lambda c: (follows[c] is not None, starts[c], c))
        return dict(sorted(groups.items()))

    def revoke_feed(self, feed_id: str, *, now: dt.datetime, actor: str) -> int:
        """Raise the version of a patient's feed (its old address stops working); returns
        the new version."""
        with self._office(now, actor, "feed revoke", f"feed {feed_id}"):
            rows = self._db.run(
                "SELECT version FROM feeds WHERE site = ? AND feed_id = ?", (self.site, feed_id)
            )
            new = (int(rows[0][0]) if rows else 1) + 1
            self._db.run(
                "INSERT INTO feeds (site, feed_id, version) VALUES (?, ?, ?) ON CONFLICT"
                " (site, feed_id) DO UPDATE SET version = excluded.version",
                (self.site, feed_id, new),
            )
        return new

    # -- the front desk's --------------------------------------------------------------------------

    @_reads
    def patient(self, course_id: str) -> PatientDetails | None:
        """Who course ``course_id`` is for, if the desk said."""
        rows = self._db.run(
            "SELECT course_id, label, phone, email FROM patients WHERE site = ? AND course_id = ?",
            (self.site, course_id),
        )
        return PatientDetails(*rows[0]) if rows else None

    def set_patient(self, details: PatientDetails, *, now: dt.datetime, actor: str) -> None:
        """Keep (or replace) who a course is for."""
        if not isinstance(details, PatientDetails):
            raise BookError(f"details: must be PatientDetails, got {details!r}")
        with self._office(now, actor, "patient", "details changed", details.course_id):
            self._write_patients([details])

    @_reads
    def find_patients(self, text: str, *, limit: int = 20) -> tuple[PatientDetails, ...]:
        """The courses whose patient label or course id contains ``text`` (any case)."""
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        rows = self._db.run(
            "SELECT c.course_id, p.label, p.phone, p.email FROM courses c LEFT JOIN patients p"
            " ON p.site = c.site AND p.course_id = c.course_id WHERE c.site = ? AND"
            " (LOWER(c.course_id) LIKE ? ESCAPE '\\' OR LOWER(p.label) LIKE ? ESCAPE '\\')"
            " ORDER BY c.booked_order DESC LIMIT ?",
            (self.site, pattern, pattern, int(limit)),
        )
        return tuple(PatientDetails(row[0], row[1] or row[0], row[2], row[3]) for row in rows)

    @_reads
    def users(self) -> tuple[User, ...]:
        """The front desk's users, by name."""
        rows = self._db.run(
            "SELECT name, role, password_hash, created FROM users WHERE site = ? ORDER BY name",
            (self.site,),
        )
        return tuple(User(*row) for row in rows)

    @_reads
    def user(self, name: str) -> User | None:
        """The user ``name``, if there is one."""
        rows = self._db.run(
            "SELECT name, role, password_hash, created FROM users WHERE site = ? AND name = ?",
            (self.site, name),
        )
        return User(*rows[0]) if rows else None

    def add_user(self, user: User, *, now: dt.datetime, actor: str) -> None:
        """A new user (their name must be new)."""
        if not isinstance(user, User):
            raise BookError(f"user: must be a User, got {user!r}")
        with self._office(now, actor, "user add", f"{user.name} ({user.role})"):
            if self._db.run(
                "SELECT 1 FROM users WHERE site = ? AND name = ?", (self.site, user.name)
            ):
                raise BookError(f"name: there is a user {user.name!r} already")
            self._db.run(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                (self.site, user.name, user.role, user.password_hash, user.created),
            )

    def set_password(self, name: str, password_hash: str, *, now: dt.datetime, actor: str) -> None:
        """A user's new password hash."""
        password_hash = one_line(password_hash, "password_hash", limit=512)
        with self._office(now, actor, "user password", name):
            self._user_exists(name)
            self._db.run(
                "UPDATE users SET password_hash = ? WHERE site = ? AND name = ?",
                (password_hash, self.site, name),
            )

    def set_role(self, name: str, role: str, *, now: dt.datetime, actor: str) -> None:
        """A user's new role."""
        if role not in ROLES:
            raise BookError(f"role: must be {', '.join(ROLES)}, got {role!r}")
        with self._office(now, actor, "user role", f"{name} ({role})"):
            self._user_exists(name)
            self._db.run(
                "UPDATE users SET role = ? WHERE site = ? AND name = ?", (role, self.site, name)
            )

    def remove_user(self, name: str, *, now: dt.datetime, actor: str) -> None:
        """Remove a user (the audit trail keeps their name on what they did)."""
        with self._office(now, actor, "user remove", name):
            self._user_exists(name)
            self._db.run("DELETE FROM users WHERE site = ? AND name = ?", (self.site, name))

    @_reads
    def audit(
        self, *, course_id: str | None = None, since: int = 0, limit: int = 100
    ) -> tuple[AuditEntry, ...]:
        """The latest changes (of one course, when given) after audit entry ``since``,
        newest first."""
        sql = (
            "SELECT number, version, at, actor, action, course_id, session, detail FROM audit"
            " WHERE site = ? AND number > ?"
        )
        params: list[Any] = [self.site, int(since)]
        if course_id is not None:
            sql += " AND course_id = ?"
            params.append(course_id)
        rows = self._db.run(sql + " ORDER BY number DESC LIMIT ?", [*params, int(limit)])
        return tuple(AuditEntry(*row) for row in rows)

    @_reads
    def waiting(self, state: str | None = None) -> tuple[WaitingEntry, ...]:
        """The waiting list (only those in ``state``, when given), oldest first."""
        sql = (
            "SELECT number, label, phone, protocol, earliest, at, window_minutes, note, created,"
            " state FROM waiting WHERE site = ?"
        )
        params: list[Any] = [self.site]
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        return tuple(WaitingEntry(*row) for row in self._db.run(sql + " ORDER BY number", params))

    def add_waiting(self, entry: WaitingEntry, *, now: dt.datetime, actor: str) -> WaitingEntry:
        """Put a patient on the waiting list; the entry as kept (with its number)."""
        if not isinstance(entry, WaitingEntry):
            raise BookError(f"entry: must be a WaitingEntry, got {entry!r}")
        with self._office(now, actor, "waiting add", entry.protocol):
            rows = self._db.run(
                "SELECT COALESCE(MAX(number), 0) FROM waiting WHERE site = ?", (self.site,)
            )
            kept = attrs.evolve(entry, number=int(rows[0][0]) + 1)
            self._db.run(
                "INSERT INTO waiting VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.site,
                    kept.number,
                    kept.label,
                    kept.phone,
                    kept.protocol,
                    kept.earliest,
                    kept.at,
                    kept.window,
                    kept.note,
                    kept.created,
                    kept.state,
                ),
            )
        return kept

    def set_waiting_state(self, number: int, state: str, *, now: dt.datetime, actor: str) -> None:
        """Move an entry of the waiting list to ``state`` (offered, booked, removed)."""
        attrs.evolve(self._one_waiting(number), state=state)  # checks the state
        with self._office(now, actor, "waiting", f"entry {number}: {state}"):
            self._db.run(
                "UPDATE waiting SET state = ? WHERE site = ? AND number = ?",
                (state, self.site, int(number)),
            )

    # -- copies ------------------------------------------------------------------------------------

    def backup(self, target: str | os.PathLike[str], *, site: str | None = None) -> dict[str, int]:
        """A consistent copy of the book at ``target``: a new file (SQLite, with the
        book's own permissions) or a new site of a PostgreSQL database, while others work
        on. Every table's rows are counted and checksummed on both sides; the counts are
        returned by table."""
        where = _backup_target(target, site, self)
        if where.engine == "sqlite" and self.location.engine == "sqlite":
            self._sqlite_backup(where)
            copy = BookStore(where.target)
        else:
            copy = self._copy_rows(where)
        try:
            mine, theirs = self.digest(), copy.digest()
        finally:
            copy.close()
        if mine != theirs:
            different = sorted(t for t in mine if mine[t] != theirs.get(t))
            raise StoreError(
                f"{where.shown}: the copy differs from the book in {', '.join(different)};"
                " do not use it"
            )
        return {table: count for table, (count, _) in mine.items()}

    @_reads
    def digest(self) -> dict[str, tuple[int, str]]:
        """Each table's row count and a SHA-256 over its rows (the site's, in a canonical
        order and form, the site's name left out): equal digests, equal books, whichever
        engine holds them."""
        out = {}
        with self._reading():
            for table, columns, key in _COPIED:
                rows = self._db.run(
                    f"SELECT {columns} FROM {table} WHERE site = ? ORDER BY {key}", (self.site,)
                )
                digest = hashlib.sha256()
                for row in rows:
                    digest.update(json.dumps([_plain(v) for v in row[1:]]).encode("utf-8"))
                    digest.update(b"\n")
                out[table] = (len(rows), digest.hexdigest())
        return out

    # -- keys --------------------------------------------------------------------------------------

    @_reads
    def secret(self, name: str, *, now: dt.datetime) -> bytes:
        """The site's key called ``name``: 32 random bytes, made the first time the name
        is asked for (``now`` says when) and the same ever after, for every process on the
        book (two asking at once get one key). The front desk signs its cookies with
        ``"desk cookies"``. A key is never in the audit trail or a log; a backup copies it
        (a book restored keeps its sign-ins); :meth:`digest` counts it and hashes it with
        the rest.

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "book.db"
        >>> store = BookStore.create(path, b'timezone = "Europe/Paris"\\n[[chairs]]\\nid = "c1"\\n')
        >>> now = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)
        >>> key = store.secret("desk cookies", now=now)
        >>> other = BookStore(path)  # another process on the same book
        >>> len(key), other.secret("desk cookies", now=now) == key
        (32, True)
        >>> other.close(); store.close()
        """
        name = one_line(name, "name", limit=64)
        when = _utc_text(now, "now")
        query = "SELECT value FROM secrets WHERE site = ? AND name = ?"
        with self._reading():
            rows = self._db.run(query, (self.site, name))
        if not rows:
            self._begin_write()
            try:
                self._db.run(
                    "INSERT INTO secrets (site, name, value, made) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (site, name) DO NOTHING",
                    (self.site, name, secrets.token_bytes(32), when),
                )
                rows = self._db.run(query, (self.site, name))  # the one a racer made first
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
        key = rows[0][0]
        if not isinstance(key, bytes | bytearray | memoryview) or len(key) < 16:
            # (bytes() of a number edited in would make that many bytes)
            raise StoreError(f"{self.shown}: the site's key {name!r} is damaged (not 16+ bytes)")
        return bytes(key)

    # -- inside: reading ------------------------------------------------------------------------

    def _check_and_migrate(self) -> None:
        shown = self.shown
        version = self._db.schema()
        if version > SCHEMA:
            raise StoreError(_newer(shown, version))
        if version == 0:
            if self.location.engine == "postgresql":
                raise StoreError(
                    f"{shown}: holds no book (make one with: tms-schedule book init"
                    f" {shown} --clinic clinic.toml)"
                )
            raise StoreError(
                f"{shown}: is a book of schema 0, which no tms_schedule writes (its making"
                " was interrupted, or it is damaged): make it again, or restore a backup"
            )
        if version < _FIRST[self._db.kind]:
            raise StoreError(f"{shown}: is a book of unknown schema {version}")
        if version < SCHEMA:
            self._db.begin(write=True, migrate=True)
            try:
                _migrate(self._db, self._db.schema())
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
        missing = _TABLES - self._db.tables()
        if missing:
            raise StoreError(
                f"{shown}: is not a tms_schedule book, or a damaged one (no table"
                f" {', '.join(sorted(missing))})"
            )

    def _find_site(self) -> str:
        rows = self._db.run("SELECT site FROM sites ORDER BY site")
        sites = [row[0] for row in rows]
        wanted = self.location.site
        if self.location.engine == "sqlite":
            if len(sites) != 1:
                raise StoreError(f"{self.shown}: holds {len(sites)} sites; a book file holds one")
            if wanted is not None and wanted != sites[0]:
                raise StoreError(
                    f"site: {self.shown} is the book of site {sites[0]!r}, not {wanted!r}"
                )
            return str(sites[0])
        assert wanted is not None
        if wanted not in sites:
            known = ", ".join(sites) or "none yet"
            raise StoreError(
                f"site: {self.shown} has no site {wanted!r} (sites: {known}); make it with:"
                f" tms-schedule book init {self.shown}{'&' if '?' in self.shown else '?'}"
                f"site={wanted} --clinic clinic.toml"
            )
        return wanted

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """One consistent view for the reads inside (none when already in a change)."""
        self._db.begin(write=False)
        try:
            yield
        finally:
            self._db.rollback()

    def _begin_write(self) -> None:
        self._db.begin(write=True)

    @_reads
    def _bump(self) -> int:
        """Raise the site's version: the first write of a change, which makes the site's
        other writers wait for this one (PostgreSQL: the row's lock)."""
        rows = self._db.run(
            "UPDATE sites SET version = version + 1 WHERE site = ? RETURNING version", (self.site,)
        )
        if not rows:
            raise StoreError(f"{self.shown}: the site {self.site!r} is gone")
        return int(rows[0][0])

    def _state(self) -> Book:
        """The book's state (its calendar, chairs, limits, outages), no course: the same
        objects while the state is the same, so the calendar's day index is built once."""
        rows = self._db.run("SELECT state, version FROM sites WHERE site = ?", (self.site,))
        if not rows:
            raise StoreError(f"{self.shown}: the site {self.site!r} is gone")
        text = str(rows[0][0])
        self._state_version = int(rows[0][1])
        if self._state_cache is not None and self._state_cache[0] == text:
            return self._state_cache[1]
        try:
            book = _state_from_data(json.loads(text))
        except (TmsScheduleError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise StoreError(
                f"{self.shown}: the book's state is damaged ({type(error).__name__}: {error});"
                " restore it from a backup"
            ) from None
        self._state_cache = (text, book)
        return book

    def _events(self) -> tuple[BookEvent, ...]:
        rows = self._db.run(
            "SELECT number, kind, first_day, last_day, reason, chair, hours, revisions,"
            " undone, extra_days FROM events WHERE site = ? ORDER BY number",
            (self.site,),
        )
        try:
            return tuple(_event_from_row(row) for row in rows)
        except (TmsScheduleError, KeyError, TypeError, ValueError) as error:
            raise StoreError(
                f"{self.shown}: an event is damaged ({type(error).__name__}: {error})"
            ) from None

    def _known(self, course_ids: Iterable[str]) -> list[str]:
        """``course_ids`` (each once), each a course of the book."""
        ids = list(dict.fromkeys(course_ids))
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(
                row[0]
                for row in self._db.run(
                    f"SELECT course_id FROM courses WHERE site = ? AND course_id IN"
                    f" ({_marks(chunk)})",
                    (self.site, *chunk),
                )
            )
        for course_id in ids:
            if course_id not in found:
                raise BookError(
                    f"course: no course {course_id!r} in the book (tms-schedule book list"
                    " shows them)"
                )
        return ids

    def _held(
        self, ids: Sequence[str], clinic: ClinicCalendar
    ) -> dict[str, tuple[Booked, dict[int, tuple[Any, ...]]]]:
        """The courses ``ids`` in full, with their sessions' rows by number (an id that is
        no course of the book is refused)."""
        ids = list(dict.fromkeys(ids))
        held: dict[str, tuple[Booked, dict[int, tuple[Any, ...]]]] = {}
        for chunk in _chunks(ids):
            marks = _marks(chunk)
            stamps = {
                row[0]: (int(row[1]), bool(row[2]))
                for row in self._db.run(
                    f"SELECT course_id, stamp, own_calendar FROM courses WHERE site = ? AND"
                    f" course_id IN ({marks})",
                    (self.site, *chunk),
                )
            }
            for course_id in chunk:
                if course_id not in stamps:
                    raise BookError(
                        f"course: no course {course_id!r} in the book (tms-schedule book list"
                        " shows them)"
                    )
            rows: dict[str, dict[int, tuple[Any, ...]]] = {}
            for row in self._db.run(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE site = ? AND course_id IN"
                f" ({marks})",
                (self.site, *chunk),
            ):
                rows.setdefault(row[1], {})[int(row[2])] = tuple(row)
            wanted = [
                course_id
                for course_id in chunk
                if not self._cached(course_id, *stamps[course_id], clinic)
            ]
            for part in _chunks(wanted):
                for course_id, document in self._db.run(
                    f"SELECT course_id, document FROM documents WHERE site = ? AND course_id IN"
                    f" ({_marks(part)})",
                    (self.site, *part),
                ):
                    stamp, own = stamps[course_id]
                    self._parse(course_id, document, stamp, None if own else clinic)
            for course_id in chunk:
                course = self._courses[course_id][2]
                mine = rows.get(course_id, {})
                seats = tuple(
                    (number, row[_CHAIR]) for number, row in mine.items() if row[_CHAIR] is not None
                )
                # A session to come without a chair waits for the front desk (the store never
                # writes one by mistake: a book that holds one unmeant does not pass check()).
                unseated = [
                    n
                    for n, row in mine.items()
                    if row[_CHAIR] is None and row[_STATUS] == "scheduled"
                ]
                held[course_id] = (Booked(course, seats, unseated), mine)
        return {course_id: held[course_id] for course_id in ids}

    def _cached(self, course_id: str, stamp: int, own: bool, clinic: ClinicCalendar) -> bool:
        known = self._courses.get(course_id)
        if known is None or known[0] != stamp:
            return False
        if own:
            return known[1] is None
        if known[1] is clinic:
            return True
        if known[1] is not None:  # the calendar changed since: follow it
            course = known[2].with_clinic(clinic)
            self._courses[course_id] = (stamp, clinic, course)
            return True
        return False

    def _parse(
        self, course_id: str, document: str, stamp: int, clinic: ClinicCalendar | None
    ) -> Course:
        try:
            course = course_from_json(document, clinic=clinic)
        except CourseFileError as error:
            raise StoreError(f"{self.shown}: course {course_id}: {error}") from None
        if len(self._courses) >= 2048:  # a server's cache: the oldest entries go
            for key in list(self._courses)[:512]:
                del self._courses[key]
        self._courses[course_id] = (stamp, clinic, course)
        return course

    def _floor(
        self,
        held: Mapping[str, tuple[Booked, Any]],
        since: dt.date | str | None,
        days: tuple[dt.date, dt.date] | None,
        today: dt.date | None,
    ) -> dt.date | None:
        """The first day of others' chair time a window needs: ``since``; else the first
        day of the courses held (not before ``today``: a change moves nothing into the
        past) or of ``days``; else ``today``; else every day (``None``)."""
        if since is not None:
            if isinstance(since, str):
                try:
                    since = dt.date.fromisoformat(since)
                except ValueError:
                    raise BookError(
                        f"since: must be a date written 2026-11-16, got {since!r}"
                    ) from None
            return since
        firsts = [
            min(s.date for s in booked.course.schedule.sessions) for booked, _ in held.values()
        ]
        floor = min(firsts) if firsts else today
        if today is not None and floor is not None and floor < today:
            floor = today
        if days is not None:
            floor = days[0] if floor is None else min(floor, days[0])
        return floor

    def _holds(
        self,
        floor: dt.date | None,
        held: set[str],
        version: int,
        until: dt.date | None = None,
    ) -> tuple[tuple[dt.date, Booking], ...]:
        """The chair time of the courses not ``held``, from ``floor`` on (every day when
        ``None``) to ``until``: one booking per session, or per accelerated or cluster day
        and chair, as the site's ``version`` has it.

        What is read from ``floor`` on is kept (a desk's store is asked again and again):
        when the version moved, only the courses changed since are read again."""
        if floor is None:
            return _merge_holds(
                row for row in self._db.run(_HOLDS, (self.site, "")) if row[0] not in held
            )
        kept = self._kept
        if (
            kept.floor is None
            or floor < kept.floor
            or floor - kept.floor > _KEPT_DAYS
            or version < kept.version
        ):
            kept.load(self._db.run(_HOLDS, (self.site, floor.isoformat())), floor, version)
        elif version != kept.version:
            moved = [
                row[0]
                for row in self._db.run(
                    "SELECT course_id FROM courses WHERE site = ? AND stamp > ? AND stamp <= ?",
                    (self.site, kept.version, version),
                )
            ]
            if len(moved) > _CHUNK:
                kept.load(self._db.run(_HOLDS, (self.site, floor.isoformat())), floor, version)
            elif not moved:  # an event, a patient's details, a user: no session moved
                kept.version = version
            else:
                rows = self._db.run(
                    f"{_HOLDS} AND course_id IN ({_marks(moved)})",
                    (self.site, kept.floor.isoformat(), *moved),
                )
                kept.update(moved, rows, version)
        return kept.holds(floor, until, held)

    def _holds_on(
        self, days: Iterable[dt.date], held: set[str]
    ) -> tuple[tuple[dt.date, Booking], ...]:
        """The chair time of the courses not ``held`` on ``days``."""
        texts = sorted({day.isoformat() for day in days})
        found: list[tuple[dt.date, Booking]] = []
        for chunk in _chunks(texts):
            rows = self._db.run(
                "SELECT course_id, number, day, chair, starts, ends, block FROM sessions WHERE"
                " site = ? AND chair IS NOT NULL AND status IN ('scheduled', 'attended') AND"
                f" day IN ({_marks(chunk)})",
                (self.site, *chunk),
            )
            found += _merge_holds(row for row in rows if row[0] not in held)
        return tuple(found)

    def _book(
        self,
        base: Book,
        courses: Sequence[Booked],
        events: Sequence[BookEvent],
        others: Sequence[tuple[dt.date, Booking]] = (),
    ) -> Book:
        try:
            return attrs.evolve(base, courses=tuple(courses), events=tuple(events), others=others)
        except TmsScheduleError as error:
            raise StoreError(f"{self.shown}: {error}") from None

    def _expect(self, expect: Mapping[str | tuple[str, int], int]) -> None:
        for key, stamp in expect.items():
            if isinstance(key, tuple):
                course_id, number = key
                rows = self._db.run(
                    "SELECT stamp FROM sessions WHERE site = ? AND course_id = ? AND number = ?",
                    (self.site, course_id, int(number)),
                )
                what = f"course {course_id} session {number}"
            else:
                course_id = key
                rows = self._db.run(
                    "SELECT stamp FROM courses WHERE site = ? AND course_id = ?",
                    (self.site, course_id),
                )
                what = f"course {course_id}"
            now = int(rows[0][0]) if rows else None
            if now == stamp:
                continue
            since = self._db.run(
                "SELECT actor, at, action, detail FROM audit WHERE site = ? AND course_id = ?"
                " AND version > ? ORDER BY number DESC LIMIT 1",
                (self.site, course_id, int(stamp)),
            )
            by = (
                f": {since[0][2]} ({since[0][3]}) by {since[0][0]} at {since[0][1]}"
                if since
                else ""
            )
            gone = "" if rows else " (it is gone)"
            raise ChangedMeanwhileError(
                f"{what} changed meanwhile{gone}{by}; look again before changing it",
                course_id,
            )

    def _user_exists(self, name: str) -> None:
        if not self._db.run("SELECT 1 FROM users WHERE site = ? AND name = ?", (self.site, name)):
            raise BookError(f"name: no user {name!r}")

    def _one_waiting(self, number: int) -> WaitingEntry:
        found = [entry for entry in self.waiting() if entry.number == number]
        if not found:
            raise BookError(f"number: no entry {number!r} on the waiting list")
        return found[0]

    @contextlib.contextmanager
    def _office(
        self, now: dt.datetime, actor: str, action: str, detail: str, course_id: str | None = None
    ) -> Iterator[int]:
        """A change of the front desk's tables: the version raised, one audit entry."""
        when = _utc_text(now, "now")
        actor = one_line(actor, "actor", limit=64)
        self._begin_write()
        try:
            version = self._bump()
            yield version
            self._audit([(version, when, actor, action, course_id, None, detail)])
            self._db.commit()
        except BaseException:
            self._db.rollback()
            raise

    # -- inside: writing -----------------------------------------------------------------------

    def _write(
        self,
        before: Book,
        change: BookChange,
        held: Mapping[str, tuple[Booked, dict[int, tuple[Any, ...]]]],
        floor: dt.date | None,
        version: int,
        when: str,
        actor: str,
        action: str,
    ) -> dict[str, tuple[int, ClinicCalendar | None, Course]]:
        """Write what changed; the courses written, to keep once the change commits."""
        after = change.book
        if not isinstance(after, Book):
            raise BookError(f"book: must be a Book, got {after!r}")
        if after.others is not before.others and after.others != before.others:
            raise StoreError("not saved: the chair time of the other courses is the store's")
        gone = set(before.course_ids()) - set(after.course_ids())
        if gone:
            raise StoreError(f"not saved: a book keeps its courses ({', '.join(sorted(gone))})")
        zone = after.clinic.zone
        changed: list[tuple[Booked, list[tuple[Any, ...]], dict[int, tuple[Any, ...]]]] = []
        for booked in after.courses:
            was = held.get(booked.course_id)
            if was is not None and was[0].course is booked.course and was[0].seats == booked.seats:
                continue
            rows = _session_rows(self.site, booked, zone, version)
            changed.append((booked, rows, was[1] if was is not None else {}))
        new = [
            booked.course_id
            for booked, _, old in changed
            if not old and booked.course_id not in held
        ]
        for chunk in _chunks(new):
            there = self._db.run(
                f"SELECT course_id FROM courses WHERE site = ? AND course_id IN ({_marks(chunk)})",
                (self.site, *chunk),
            )
            if there:
                raise BookError(f"course: course {there[0][0]} is in the book already")
        problems = self._check_change(before, after, [b for b, _, _ in changed], held, floor)
        if problems:  # the book refuses these; never write one that holds them
            raise StoreError(f"not saved: {problems[0]}")
        self._write_state(before, after)
        self._write_events(before, after)
        # First every changed row goes, then the new ones come: two courses may swap times.
        # A row whose chair time is as it was (its place in the course changed, say) is
        # updated where it is: the double-booking guard has nothing to look at again.
        stale: list[tuple[str, str, int]] = []
        fresh: list[tuple[Any, ...]] = []
        redone: list[tuple[Any, ...]] = []
        for booked, rows, old in changed:
            numbers = set()
            for row in rows:
                number = row[2]
                numbers.add(number)
                kept = old.get(number)
                if kept is None:
                    fresh.append(row)
                elif kept[:-1] == row[:-1]:
                    continue
                elif kept[_HELD] == row[_HELD]:
                    redone.append((*row[3:5], *row[10:], self.site, booked.course_id, number))
                else:
                    stale.append((self.site, booked.course_id, number))
                    fresh.append(row)
            stale += ((self.site, booked.course_id, n) for n in old if n not in numbers)
        self._many("DELETE FROM sessions WHERE site = ? AND course_id = ? AND number = ?", stale)
        self._many(_RENUMBER, redone, together=_RENUMBER_TOGETHER)
        order = self._next_order() if any(b.course_id not in held for b, _, _ in changed) else 0
        lines, documents = [], []
        parsed: dict[str, tuple[int, ClinicCalendar | None, Course]] = {}
        for booked, rows, _ in changed:
            course = booked.course
            own = int(course.plan.clinic != after.clinic)
            local = sorted(r[_DAY] for r in rows) or [course.plan.start.isoformat()]
            lines.append(
                (
                    self.site,
                    course.course_id,
                    order,
                    own,
                    course.plan.protocol.id,
                    course.plan.protocol.name,
                    course.follows,
                    course.plan.start.isoformat(),
                    local[0],
                    local[-1],
                    str(course.progress()),
                    version,
                )
            )
            documents.append((self.site, course.course_id, _document(course)))
            if course.course_id not in held:
                order += 1
            parsed[course.course_id] = (version, None if own else after.clinic, course)
        self._many(
            f"INSERT INTO courses ({_COURSE_COLUMNS}) VALUES ({_marks(range(12))}) ON CONFLICT"
            " (site, course_id) DO UPDATE SET own_calendar = excluded.own_calendar, protocol ="
            " excluded.protocol, protocol_name = excluded.protocol_name, follows ="
            " excluded.follows, plan_start = excluded.plan_start, first_day = excluded.first_day,"
            " last_day = excluded.last_day, progress = excluded.progress, stamp = excluded.stamp",
            lines,
        )
        self._many(
            "INSERT INTO documents (site, course_id, document) VALUES (?, ?, ?) ON CONFLICT"
            " (site, course_id) DO UPDATE SET document = excluded.document",
            documents,
        )
        self._many(f"INSERT INTO sessions VALUES ({_marks(range(16))})", fresh)
        self._write_patients(change.patients)
        self._write_waiting(change.waiting)
        entries: list[tuple[Any, ...]] = [
            (
                version,
                when,
                actor,
                action,
                booked.course_id,
                change.session,
                change.detail or action,
            )
            for booked, _, _ in changed
        ]
        if not changed:
            entries.append((version, when, actor, action, None, None, change.detail or action))
        self._audit(entries)
        return parsed

    def _write_patients(self, patients: Iterable[PatientDetails]) -> None:
        """Keep (or replace) who these courses are for: courses of the book, this change's
        own new ones included."""
        patients = list(patients)
        for details in patients:
            if not isinstance(details, PatientDetails):
                raise BookError(f"details: must be PatientDetails, got {details!r}")
        self._known(details.course_id for details in patients)
        self._many(
            "INSERT INTO patients VALUES (?, ?, ?, ?, ?) ON CONFLICT (site, course_id) DO"
            " UPDATE SET label = excluded.label, phone = excluded.phone, email ="
            " excluded.email",
            [(self.site, d.course_id, d.label, d.phone, d.email) for d in patients],
        )

    def _write_waiting(self, states: Mapping[int, str]) -> None:
        """Move entries of the waiting list to new states (one booked by this change)."""
        if not isinstance(states, Mapping):
            raise BookError(f"waiting: must map entry numbers to states, got {states!r}")
        if not states:
            return
        for number, state in states.items():
            attrs.evolve(self._one_waiting(number), state=state)  # checks the state
        self._many(
            "UPDATE waiting SET state = ? WHERE site = ? AND number = ?",
            [(state, self.site, int(number)) for number, state in states.items()],
        )

    def _check_change(
        self,
        before: Book,
        after: Book,
        changed: Sequence[Booked],
        held: Mapping[str, tuple[Booked, Any]],
        floor: dt.date | None,
    ) -> list[str]:
        """What :meth:`Book.check` finds wrong with the courses a change wrote, against
        every other course's chair time where it could matter.

        A course can clash only where it holds chair time it did not hold before: those
        days' chair time of every other course is looked at (read from the rows for the
        days before the window's first day), and the changed courses' own rules (their
        chairs, the chairs' days out, outages) everywhere. A change of the clinic's
        calendar, chairs, limits or outages checks every course the change holds."""
        if not changed:
            return []
        kept: Sequence[Booked] = ()
        if not _same_state(before, after):
            changed = after.courses
        else:
            ids = {booked.course_id for booked in changed}
            kept = [booked for booked in after.courses if booked.course_id not in ids]
        new_days: set[dt.date] = set()
        for booked in changed:
            was = held.get(booked.course_id)
            old = set(was[0].bookings()) if was is not None else set()
            new_days.update(day for day, hold in booked.bookings() if (day, hold) not in old)
        others = [entry for entry in after.others if entry[0] in new_days] if new_days else []
        others += (entry for booked in kept for entry in booked.bookings() if entry[0] in new_days)
        if floor is not None:
            early = [day for day in new_days if day < floor]
            if early:  # before the window's first day: the rows say what is there
                others += self._holds_on(early, {b.course_id for b in after.courses})
        probe = Book(after.clinic, after.chairs, after.limits, after.outages, changed, (), others)
        return probe.check()

    def _write_state(self, before: Book, after: Book) -> None:
        if _same_state(before, after):
            return
        self._db.run(
            "UPDATE sites SET state = ? WHERE site = ?",
            (json.dumps(_state_to_data(after)), self.site),
        )
        if before.clinic != after.clinic:
            # Every course follows the clinic's calendar from now on (Book.set_clinic),
            # those this change does not hold as well.
            # (only the rows it changes: a site holds years of courses)
            self._db.run(
                "UPDATE courses SET own_calendar = 0 WHERE site = ? AND own_calendar <> 0",
                (self.site,),
            )

    def _write_events(self, before: Book, after: Book) -> None:
        if before.events == after.events:
            return
        old = {e.number: e for e in before.events}
        numbers = [e.number for e in after.events]
        if len(set(numbers)) != len(numbers) or not set(old) <= set(numbers):
            raise StoreError("not saved: a book keeps each of its events, numbered once")
        for event in after.events:
            if old.get(event.number) == event:
                continue
            self._db.run(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site,"
                " number) DO UPDATE SET revisions = excluded.revisions, undone = excluded.undone,"
                " reason = excluded.reason, extra_days = excluded.extra_days",
                (self.site, *_event_to_row(event)),
            )

    def _next_order(self) -> int:
        rows = self._db.run(
            "SELECT COALESCE(MAX(booked_order), 0) FROM courses WHERE site = ?", (self.site,)
        )
        return int(rows[0][0]) + 1

    def _many(
        self, sql: str, rows: Sequence[Sequence[Any]], *, together: str | None = None
    ) -> None:
        """Run ``sql`` for each of ``rows``, if there are any (``together``: the same for
        them all at once, where the engine can: see ``Engine.run_many``)."""
        if rows:
            self._db.run_many(sql, rows, together=together)

    def _audit(self, entries: Sequence[tuple[Any, ...]]) -> None:
        # Each entry numbered after the last one in the statement that writes it (the
        # site's writers take turns), so the entries go with the change's other writes.
        self._db.run_many(
            "INSERT INTO audit (site, number, version, at, actor, action, course_id, session,"
            " detail) SELECT ?, COALESCE(MAX(number), 0) + 1, ?, ?, ?, ?, ?, CAST(? AS"
            " INTEGER), ? FROM audit WHERE site = ?",
            [(self.site, *entry, self.site) for entry in entries],
        )

    # -- inside: copies ------------------------------------------------------------------------------

    def _sqlite_backup(self, where: Location) -> None:
        import sqlite3

        from tms_schedule.book.store_sqlite import SqliteEngine

        assert isinstance(self._db, SqliteEngine)
        target = Path(where.target)
        mode = os.stat(self.path).st_mode & 0o777
        try:
            handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            raise StoreError(
                f"{where.shown}: exists already; a backup never replaces a file"
            ) from None
        except OSError as error:
            raise StoreError(f"{where.shown}: cannot be written ({error.strerror})") from None
        os.fchmod(handle, mode)  # as the book's, whatever the umask
        os.close(handle)
        try:
            copy = sqlite3.connect(target)
            try:
                with copy:
                    self._db.backup(copy)
            finally:
                copy.close()
        except (sqlite3.Error, StoreError) as error:
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise StoreError(f"{where.shown}: the backup failed ({error})") from None

    def _copy_rows(self, where: Location) -> BookStore:
        engine = _engine(where, timeout=self.timeout, threads=False, create=True)
        made = False
        try:
            engine.begin(write=True, migrate=True)
            try:
                version = engine.schema()
                if version == 0:
                    _migrate(engine, 0)
                elif version != SCHEMA:
                    raise StoreError(
                        f"{where.shown}: holds books of schema {version}; this tms_schedule"
                        f" copies into schema {SCHEMA}"
                    )
                site = where.site or self.site
                if engine.run("SELECT 1 FROM sites WHERE site = ?", (site,)):
                    raise StoreError(
                        f"{where.shown}: has a book for site {site!r} already; a copy never"
                        " replaces a book"
                    )
                with self._reading():
                    for table, columns, key in _COPIED:
                        rows = self._db.run(
                            f"SELECT {columns} FROM {table} WHERE site = ? ORDER BY {key}",
                            (self.site,),
                        )
                        if rows:
                            count = len(rows[0])
                            engine.run_many(
                                f"INSERT INTO {table} ({columns}) VALUES ({_marks(range(count))})",
                                [(site, *row[1:]) for row in rows],
                            )
                engine.commit()
                made = True
            except BaseException:
                engine.rollback()
                raise
        finally:
            engine.close()
            if not made and where.engine == "sqlite":
                with contextlib.suppress(OSError):
                    os.unlink(where.target)
        return BookStore(where.target, site=site, timeout=self.timeout)


class _KeptHolds:
    """The chair time of every course from a day on, by course, as a version of the site
    has it: what a store kept open reads once and then follows change by change."""

    def __init__(self) -> None:
        self.floor: dt.date | None = None
        self.version = -1
        # Each course's chair time, by day.
        self.courses: dict[str, tuple[tuple[dt.date, Booking], ...]] = {}

    def load(self, rows: Iterable[Sequence[Any]], floor: dt.date, version: int) -> None:
        self.floor, self.version, self.courses = floor, version, {}
        self.update((), rows, version)

    def update(self, moved: Iterable[str], rows: Iterable[Sequence[Any]], version: int) -> None:
        """The courses ``moved`` as ``rows`` have them now."""
        for course_id in moved:
            self.courses.pop(course_id, None)
        found: dict[str, list[tuple[dt.date, Booking]]] = {}
        for entry in _merge_holds(rows):
            found.setdefault(entry[1].course, []).append(entry)
        for course_id, holds in found.items():
            holds.sort(key=_day_of)
            self.courses[course_id] = tuple(holds)
        self.version = version

    def holds(
        self, floor: dt.date, until: dt.date | None, held: set[str]
    ) -> tuple[tuple[dt.date, Booking], ...]:
        """The chair time of the courses not ``held`` from ``floor`` to ``until``."""
        wanted = (holds for course_id, holds in self.courses.items() if course_id not in held)
        if floor == self.floor and until is None:
            return tuple(itertools.chain.from_iterable(wanted))
        found: list[tuple[dt.date, Booking]] = []
        for holds in wanted:
            low = bisect.bisect_left(holds, floor, key=_day_of)
            high = len(holds) if until is None else bisect.bisect_right(holds, until, key=_day_of)
            found += holds[low:high]
        return tuple(found)


def _day_of(entry: tuple[dt.date, Booking]) -> dt.date:
    return entry[0]


@attrs.define
class BookChange:
    """The book inside one :meth:`BookStore.change`: set :attr:`book` to the new book.

    Attributes:
        before: the book as the change found it.
        book: the book as it will be saved.
        store: the store.
        detail: what the audit trail says of the change (a short line, no patient
            details); the action's name when not set.
        session: the session the change is about, if one.
        patients: patient details to keep in the change's own transaction, after its
            courses (so a course it books can be named; no audit entry of their own).
        waiting: waiting-list entries to move to a new state in the same transaction, by
            number (the entry a booking takes off the list: ``{number: "booked"}``).
    """

    before: Book
    book: Book
    store: BookStore
    detail: str | None = None
    session: int | None = None
    patients: list[PatientDetails] = attrs.Factory(list)
    waiting: dict[int, str] = attrs.Factory(dict)


# -- rows ----------------------------------------------------------------------------------------

_IN_ORDER = "SELECT course_id FROM courses WHERE site = ? ORDER BY booked_order"
# The chair time sessions hold from a day on (more conditions may follow).
_HOLDS = (
    "SELECT course_id, number, day, chair, starts, ends, block FROM sessions WHERE site = ?"
    " AND chair IS NOT NULL AND status IN ('scheduled', 'attended') AND day >= ?"
)
# Kept chair time older than this (before the first day asked for) is let go.
_KEPT_DAYS = dt.timedelta(days=14)
_COURSE_COLUMNS = (
    "site, course_id, booked_order, own_calendar, protocol, protocol_name, follows, plan_start,"
    " first_day, last_day, progress, stamp"
)
_SESSION_COLUMNS = (
    "site, course_id, number, phase, phase_number, day, starts, ends, status, chair, place,"
    " target, block, cpt, milestones, stamp"
)
# A session's row whose chair time stays (a re-plan changed its place in its course).
_RENUMBER = (
    "UPDATE sessions SET phase = ?, phase_number = ?, place = ?, target = ?, block = ?,"
    " cpt = ?, milestones = ?, stamp = ? WHERE site = ? AND course_id = ? AND number = ?"
)
# The same for many rows in one statement, each ? an array of one column's values
# (PostgreSQL: a snow day renumbers some 850 rows, each a statement of its own otherwise).
_RENUMBER_TOGETHER = (
    "UPDATE sessions AS s SET phase = v.phase, phase_number = v.phase_number, place = v.place,"
    " target = v.target, block = v.block, cpt = v.cpt, milestones = v.milestones, stamp ="
    " v.stamp FROM unnest(?::text[], ?::integer[], ?::integer[], ?::integer[], ?::integer[],"
    " ?::text[], ?::text[], ?::integer[], ?::text[], ?::text[], ?::integer[]) AS v (phase,"
    " phase_number, place, target, block, cpt, milestones, stamp, site, course_id, number)"
    " WHERE s.site = v.site AND s.course_id = v.course_id AND s.number = v.number"
)
_DAY = 5
# What a row holds of a chair: its day, start, end, status and chair.
_HELD = slice(5, 10)
_STATUS = 8
_CHAIR = 9
# Each table a copy moves, its columns, and the order its rows are compared in.
_COPIED = (
    ("sites", "site, settings, settings_name, state, version", "site"),
    ("courses", _COURSE_COLUMNS, "course_id"),
    ("documents", "site, course_id, document", "course_id"),
    ("sessions", _SESSION_COLUMNS, "course_id, number"),
    (
        "events",
        "site, number, kind, first_day, last_day, reason, chair, hours, revisions, undone,"
        " extra_days",
        "number",
    ),
    ("offers", "site, key, document, made", "key"),
    ("feeds", "site, feed_id, version, cancelled, past_days", "feed_id"),
    ("patients", "site, course_id, label, phone, email", "course_id"),
    ("users", "site, name, role, password_hash, created", "name"),
    ("audit", "site, number, version, at, actor, action, course_id, session, detail", "number"),
    (
        "waiting",
        "site, number, label, phone, protocol, earliest, at, window_minutes, note, created, state",
        "number",
    ),
    ("secrets", "site, name, value, made", "name"),
)


def _first_course(course_id: str, follows: Mapping[str, str | None]) -> str | None:
    """The first of the courses ``course_id`` follows (itself when it follows none held), or
    ``None`` when following them leads round in a circle (a course following itself too)."""
    root, seen = course_id, {course_id}
    while (before := follows.get(root)) is not None and before in follows:
        if before in seen:
            return None
        root = before
        seen.add(root)
    return root


def _circle(course_id: str) -> str:
    return (
        f"course {course_id} follows itself, or a course that leads back to it (a course"
        " follows one course before it, or none)"
    )


def _session_rows(site: str, booked: Booked, zone: Any, stamp: int) -> list[tuple[Any, ...]]:
    """The rows of a course's sessions, by number (see ``sql/sqlite/4.sql``)."""
    course = booked.course
    seats = booked.seat_map()
    blocks = block_phases(course.plan.protocol)
    sessions = course.schedule.sessions
    counted = sorted(
        (s for s in sessions if s.status in _OCCUPYING),
        key=lambda s: (s.start.astimezone(dt.UTC), s.number),
    )
    places = {s.number: k for k, s in enumerate(counted, start=1)}
    target = course.schedule.progress().target
    rows = []
    for s in sorted(sessions, key=lambda s: s.number):
        occupying = s.status in _OCCUPYING
        rows.append(
            (
                site,
                course.course_id,
                s.number,
                s.phase,
                s.phase_number,
                s.start.astimezone(zone).date().isoformat(),
                minute(s.start),
                minute(s.end),
                s.status,
                seats.get(s.number) if occupying else None,
                places.get(s.number),
                target,
                int(s.phase in blocks),
                s.cpt,
                _milestones_text(s.milestones),
                stamp,
            )
        )
    return rows


def _same_state(before: Book, after: Book) -> bool:
    """Whether two books have the same calendar, chairs, limits and outages."""
    return (
        before.clinic == after.clinic
        and before.chairs == after.chairs
        and before.limits == after.limits
        and before.outages == after.outages
    )


def _merge_holds(rows: Iterable[Sequence[Any]]) -> tuple[tuple[dt.date, Booking], ...]:
    """Bookings from session rows, the sessions of a block day merged into one."""
    out: list[tuple[dt.date, Booking]] = []
    spans: dict[tuple[str, str, str], tuple[dt.date, Booking]] = {}
    days: dict[str, dt.date] = {}
    for course_id, number, day_text, chair, starts, ends, block in rows:
        day = days.get(day_text)
        if day is None:
            day = days[day_text] = dt.date.fromisoformat(day_text)
        booking = Booking(chair, int(starts), int(ends), course_id, int(number))
        if not block:
            out.append((day, booking))
            continue
        key = (course_id, day_text, chair)
        held = spans.get(key)
        if held is None:
            spans[key] = (day, booking)
        else:
            merged = held[1]._replace(
                start=min(held[1].start, booking.start),
                end=max(held[1].end, booking.end),
                number=min(held[1].number, booking.number),
            )
            spans[key] = (day, merged)
    out.extend(spans.values())
    return tuple(out)


def _document(course: Course) -> str:
    """The course's document as the store keeps it: compact JSON (what a course file holds,
    without its indentation, which costs most of the writing)."""
    return course_to_compact_json(course)


@functools.lru_cache(maxsize=256)
def _milestones_text(milestones: tuple[str, ...]) -> str:
    return json.dumps(list(milestones))


def _milestones(text: str) -> tuple[str, ...]:
    return () if text == "[]" else tuple(json.loads(text))


#: The minutes since 1970 of 1900-01-01 and 2400-01-01 (UTC): every date the library takes.
_MINUTES = range(-36_816_480, 226_157_760)


def _local(moment: int, zone: dt.tzinfo) -> dt.datetime:
    if moment not in _MINUTES:  # (a row edited by hand: the system's clock functions overflow)
        raise ValueError(f"a moment {moment} minutes from 1970 is outside 1900 to 2399")
    return dt.datetime.fromtimestamp(moment * 60, tz=zone)


def _utc_text(moment: Any, field: str) -> str:
    if not isinstance(moment, dt.datetime) or moment.utcoffset() is None:
        raise BookError(f"{field}: must be an aware date and time (the library reads no clock)")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _marks(values: Sequence[Any] | range) -> str:
    return ", ".join("?" for _ in values)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return value


def _newer(shown: str, version: int) -> str:
    return (
        f"{shown}: is a book of schema {version}, written by a newer tms_schedule; this one"
        f" reads schemas up to {SCHEMA}: upgrade tms_schedule to open it"
    )


def _backup_target(target: str | os.PathLike[str], site: str | None, store: BookStore) -> Location:
    text = os.fspath(target)
    if not text.strip():
        raise StoreError("backup: give the copy's file name or a postgresql:// address")
    if text == ":memory:" or text.startswith("file:"):
        raise StoreError(f"backup: {text!r} is not a file; give the copy's file name")
    where = Location.parse(text, site)
    if where.engine == "sqlite" and os.path.lexists(where.target):
        raise StoreError(f"{where.shown}: exists already; a backup never replaces a file")
    if (
        where.engine == store.location.engine == "postgresql"
        and where.target == store.location.target
        and where.site == store.site
    ):
        raise StoreError(f"{where.shown}: is the book itself; name another site or database")
    return where


# -- migrations ------------------------------------------------------------------------------------


def _migrate(engine: Engine, version: int) -> None:
    """Bring the database inside the open transaction from ``version`` to :data:`SCHEMA`."""
    engine.lock_schema()
    version = max(version, _FIRST[engine.kind] - 1)
    while version < SCHEMA:
        version += 1
        engine.script(_migration(engine.kind, version))
        if engine.kind == "sqlite" and version == 4:
            _move_schema_3(engine)
        engine.set_schema(version)


def _move_schema_3(engine: Engine) -> None:
    """Schema 3's rows into schema 4's tables (see ``sql/sqlite/4.sql``)."""
    site = DEFAULT_SITE
    rows = engine.run("SELECT toml, name, state FROM old_settings WHERE id = 1")
    if rows:
        toml, name, state_text = rows[0]
        try:
            state = json.loads(state_text)
            events = state.pop("events", [])
            base = _state_from_data(state)
        except (TmsScheduleError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise StoreError(
                f"{engine.shown}: the book's state is damaged ({type(error).__name__}: {error})"
            ) from None
        engine.run(
            "INSERT INTO sites VALUES (?, ?, ?, ?, 0)",
            (site, toml, name, json.dumps(_state_to_data(base))),
        )
        for data in events:
            event = _event_from_data(data)
            engine.run(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (site, *_event_to_row(event)),
            )
        seats: dict[str, list[tuple[int, str]]] = {}
        for course_id, number, chair in engine.run(
            "SELECT course_id, session, chair FROM old_seats"
        ):
            seats.setdefault(course_id, []).append((int(number), chair))
        zone = base.clinic.zone
        for order, (course_id, document) in enumerate(
            engine.run("SELECT course_id, document FROM old_courses ORDER BY position"), start=1
        ):
            try:
                course = course_from_json(document)
            except CourseFileError as error:
                raise StoreError(f"{engine.shown}: course {course_id}: {error}") from None
            booked = Booked(course, tuple(seats.get(course_id, ())))
            session_rows = _session_rows(site, booked, zone, 0)
            days = sorted(r[_DAY] for r in session_rows) or [course.plan.start.isoformat()]
            engine.run(
                "INSERT INTO courses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    site,
                    course_id,
                    order,
                    document,
                    int(course.plan.clinic != base.clinic),
                    course.plan.protocol.id,
                    course.plan.protocol.name,
                    course.follows,
                    course.plan.start.isoformat(),
                    days[0],
                    days[-1],
                    str(course.progress()),
                ),
            )
            if session_rows:
                engine.run_many(
                    f"INSERT INTO sessions VALUES ({_marks(session_rows[0])})", session_rows
                )
    engine.run("INSERT INTO offers SELECT ?, key, document, made FROM old_offers", (site,))
    engine.run(
        "INSERT INTO feeds SELECT ?, feed_id, version, cancelled, past_days FROM old_feeds",
        (site,),
    )
    for table in ("old_seats", "old_courses", "old_offers", "old_feeds", "old_settings"):
        engine.run(f"DROP TABLE {table}")


# -- the book's state as data ----------------------------------------------------------------


def _closure_data(c: Closure) -> dict[str, Any]:
    return {"start": c.start.isoformat(), "end": c.end.isoformat(), "reason": c.reason}


def _closure(data: dict[str, Any]) -> Closure:
    return Closure(
        dt.date.fromisoformat(data["start"]), dt.date.fromisoformat(data["end"]), data["reason"]
    )


def _state_to_data(book: Book) -> dict[str, Any]:
    return {
        "clinic": clinic_to_data(book.clinic),
        "chairs": [
            {
                "id": c.id,
                "label": c.label,
                "runs": sorted(c.runs),
                "turnover_minutes": c.turnover.total_seconds() / 60,
                "closures": [_closure_data(x) for x in c.closures],
            }
            for c in book.chairs
        ],
        "limits": [
            {
                "sessions": limit.sessions,
                "hours": str(limit.hours) if limit.hours else None,
                "weekdays": list(limit.weekdays),
            }
            for limit in book.limits
        ],
        "outages": [
            {
                "start": o.start.isoformat(),
                "end": o.end.isoformat(),
                "reason": o.reason,
                "chair": o.chair,
            }
            for o in book.outages
        ],
    }


def _state_from_data(data: dict[str, Any]) -> Book:
    chairs = tuple(
        Chair(
            c["id"],
            c["label"],
            runs=tuple(c["runs"]),
            turnover=c["turnover_minutes"],
            closures=tuple(_closure(x) for x in c["closures"]),
        )
        for c in data["chairs"]
    )
    limits = tuple(
        StaffLimit(x["sessions"], x["hours"], tuple(x["weekdays"])) for x in data["limits"]
    )
    outages = tuple(
        Outage(
            dt.datetime.fromisoformat(o["start"]),
            dt.datetime.fromisoformat(o["end"]),
            o["reason"],
            o["chair"],
        )
        for o in data["outages"]
    )
    return Book(clinic_from_data(data["clinic"]), chairs, limits, outages)


def _event_from_data(e: dict[str, Any]) -> BookEvent:
    return BookEvent(
        e["number"],
        e["kind"],
        dt.date.fromisoformat(e["first"]),
        dt.date.fromisoformat(e["last"]),
        e["reason"],
        e["chair"],
        OpeningHours.parse(e["hours"]) if e["hours"] else None,
        tuple((str(cid), int(n)) for cid, n in e["revisions"]),
        e["undone"],
        _extra_days(e["extra_days"]),
    )


def _extra_days(data: list[dict[str, Any]]) -> tuple[ExtraOpenDay, ...]:
    return tuple(
        ExtraOpenDay(dt.date.fromisoformat(x["date"]), x["hours"], x["reason"], x["catch_up_only"])
        for x in data
    )


def _event_to_row(e: BookEvent) -> tuple[Any, ...]:
    return (
        e.number,
        e.kind,
        e.first.isoformat(),
        e.last.isoformat(),
        e.reason,
        e.chair,
        str(e.hours) if e.hours else None,
        json.dumps([list(pair) for pair in e.revisions]),
        int(e.undone),
        json.dumps(
            [
                {
                    "date": x.date.isoformat(),
                    "hours": str(x.hours) if x.hours else None,
                    "reason": x.reason,
                    "catch_up_only": x.catch_up_only,
                }
                for x in e.extra_days
            ]
        ),
    )


def _event_from_row(row: Sequence[Any]) -> BookEvent:
    number, kind, first, last, reason, chair, hours, revisions, undone, extra = row
    return BookEvent(
        int(number),
        kind,
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
        reason,
        chair,
        OpeningHours.parse(hours) if hours else None,
        tuple((str(cid), int(n)) for cid, n in json.loads(revisions)),
        bool(undone),
        _extra_days(json.loads(extra)),
    )


def _offer_to_data(offer: Offer) -> dict[str, Any]:
    return {
        "protocol": protocol_to_data(offer.plan.protocol),
        "start": offer.plan.start.isoformat(),
        "at": offer.plan.at.isoformat(timespec="minutes"),
        "blocks": offer.plan.blocks,
        "schedule": schedule_to_dict(offer.schedule),
        "seats": [list(pair) for pair in offer.seats],
        "tradeoffs": list(offer.tradeoffs),
        "cost": offer.cost,
        "key": offer.key,
    }


def _offer_from_data(data: dict[str, Any], clinic: ClinicCalendar) -> Offer:
    plan = Plan(
        protocol_from_data(data["protocol"]),
        clinic,
        dt.date.fromisoformat(data["start"]),
        dt.time.fromisoformat(data["at"]),
        "offer",
        blocks=data["blocks"],
    )
    schedule = schedule_from_data(data["schedule"])
    return Offer(
        plan,
        schedule,
        tuple((int(n), str(c)) for n, c in data["seats"]),
        tuple(data["tradeoffs"]),
        float(data["cost"]),
        str(data["key"]),
    )
