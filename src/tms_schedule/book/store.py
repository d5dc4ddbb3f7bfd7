"""The book in one SQLite file, which several front-desk terminals share.

The command line keeps the clinic's :class:`~tms_schedule.book.Book` here (the library's
objects need no store: clinic software keeps them in its own database). One file holds the
clinic settings it was made from, the book's own state (closures announced since, chairs'
service days, outages, clinic-wide events), every course as its course file's JSON
(checksum included), each session's chair, and the offers made but not yet taken.

* **One transaction per change.** :meth:`BookStore.change` starts an immediate
  transaction (other terminals wait for it, up to ``timeout`` seconds, then get a clear
  "busy"), reads the book, lets the caller change it, and writes back only what changed.
  An error inside leaves the file as it was. The file is in WAL mode, so a terminal
  reading (a day sheet) never waits for one writing.
* **Never two sessions on one chair.** The book refuses such a change; a trigger in the
  database refuses it again, should any writer get past the book.
* **A schema version.** ``PRAGMA user_version`` holds it; an older file is migrated in
  one transaction when opened, a newer one is refused ("upgrade tms_schedule").
* **Backups** go through SQLite's online backup API: a consistent copy while terminals
  keep working.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> settings = b'timezone = "America/Denver"\\n[[chairs]]\\nid = "c1"\\n'
>>> store = BookStore.create(folder / "book.db", settings)
>>> store.load().chairs[0].id
'c1'
>>> store.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from tms_schedule._files import shown_path
from tms_schedule.book.book import Book, Booked, BookEvent
from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.book.offers import Offer
from tms_schedule.clinic import Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course.codec import (
    clinic_from_data,
    clinic_to_data,
    course_from_json,
    course_to_json,
    protocol_from_data,
    protocol_to_data,
)
from tms_schedule.errors import CourseFileError, StoreError, TmsScheduleError
from tms_schedule.export.json import schedule_from_json, schedule_to_dict
from tms_schedule.plan import Plan
from tms_schedule.settings import ClinicSettings, settings_from_bytes

__all__ = ["SCHEMA", "BookStore"]

#: The schema this tms_schedule writes.
SCHEMA = 3
_APPLICATION = 0x544D5342  # "TMSB": PRAGMA application_id, so other files are told apart

_CREATE = (
    "CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), toml BLOB NOT NULL,"
    " name TEXT NOT NULL, state TEXT NOT NULL)",
    "CREATE TABLE courses (course_id TEXT PRIMARY KEY, document TEXT NOT NULL,"
    " position INTEGER NOT NULL, updated TEXT NOT NULL)",
    "CREATE TABLE seats (course_id TEXT NOT NULL REFERENCES courses(course_id),"
    ' session INTEGER NOT NULL, chair TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER'
    " NOT NULL, PRIMARY KEY (course_id, session))",
    "CREATE INDEX seats_by_chair ON seats (chair, start)",
    "CREATE TRIGGER one_session_per_chair BEFORE INSERT ON seats"
    " WHEN EXISTS (SELECT 1 FROM seats WHERE chair = NEW.chair AND course_id != NEW.course_id"
    ' AND start < NEW."end" AND NEW.start < "end")'
    " BEGIN SELECT RAISE(ABORT, 'two sessions on one chair at once'); END",
)
# Each step from one schema to the next. Version 1 kept no offers: the front desk took an
# offer in the same run it was made.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("CREATE TABLE offers (key TEXT PRIMARY KEY, document TEXT NOT NULL, made TEXT NOT NULL)",),
    # Version 2 served no feeds from the book: each patient's feed's version and choices.
    2: (
        "CREATE TABLE feeds (feed_id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " cancelled TEXT, past_days INTEGER)",
    ),
}
#: The schema-1 tables (for the migration's test, and nothing else).
SCHEMA_1 = _CREATE


class BookStore:
    """An open book database (see the module). Use :meth:`create` for a new one."""

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 10.0, threads: bool = False
    ) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._threads = threads
        shown = shown_path(path)
        if not self.path.is_file():
            raise StoreError(
                f"{shown}: no such book (make one with: tms-schedule book init {shown}"
                " --clinic clinic.toml)"
            )
        self._db = self._connect()
        try:
            self._check_and_migrate()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], settings: bytes, name: str = "clinic.toml"
    ) -> BookStore:
        """A new book database at ``path`` from a clinic settings document (its chairs
        above all). An existing file is never replaced."""
        shown = shown_path(path)
        parsed = settings_from_bytes(settings, name)
        if not parsed.chairs:
            raise StoreError(
                f"{name}: has no [[chairs]]: a book needs the clinic's chairs (see the"
                " settings file's [[chairs]] tables)"
            )
        book = Book(parsed.calendar, parsed.chairs, parsed.staff_limits)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
        except FileExistsError:
            raise StoreError(f"{shown}: exists already; a book is never replaced") from None
        except OSError as error:
            raise StoreError(f"{shown}: cannot be created ({error.strerror})") from None
        os.close(handle)
        try:
            db = sqlite3.connect(path, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute(f"PRAGMA application_id = {_APPLICATION}")
                db.execute("BEGIN IMMEDIATE")
                for statement in (*_CREATE, *_MIGRATIONS[1], *_MIGRATIONS[2]):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO settings VALUES (1, ?, ?, ?)",
                    (settings, name, json.dumps(_state_to_data(book))),
                )
                db.execute(f"PRAGMA user_version = {SCHEMA}")
                db.execute("COMMIT")
            finally:
                db.close()
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        return cls(path)

    # -- reading ---------------------------------------------------------------------------------

    def settings(self) -> ClinicSettings:
        """The clinic settings the book was made from (its protocols, calendar choices)."""
        toml, name, _ = self._row()
        return settings_from_bytes(toml, name)

    def load(self) -> Book:
        """The book as the file holds it now."""
        with self._read():
            return self._book()

    # -- changing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def change(self) -> Iterator[BookChange]:
        """One change, in one transaction: set ``change.book`` to the changed book.

        Other terminals' changes wait for this one (and it for theirs, up to ``timeout``
        seconds). Nothing is written if the block raises.
        """
        self._begin()
        try:
            before = self._book()
            change = BookChange(before, before, self)
            yield change
            self._write(before, change.book)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def save_offers(self, offers: tuple[Offer, ...] | list[Offer]) -> None:
        """Keep offers so a later command can take one by its key."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._begin()
        try:
            for offer in offers:
                self._db.execute(
                    "INSERT OR REPLACE INTO offers VALUES (?, ?, ?)",
                    (offer.key, json.dumps(_offer_to_data(offer)), now),
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def offer(self, key: str, book: Book) -> Offer:
        """An offer kept by :meth:`save_offers`, for ``book``'s clinic."""
        row = self._db.execute("SELECT document FROM offers WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError(
                f"offer: no offer {key!r} in this book (offers are made with: tms-schedule book"
                " offer)"
            )
        return _offer_from_data(json.loads(row[0]), book)

    def feed_versions(self) -> dict[str, tuple[int, str | None, int | None]]:
        """Each feed's version and own choices (``cancelled``, ``past_days``) the book keeps;
        a feed not listed is at version 1 with the server's defaults."""
        rows = self._db.execute("SELECT feed_id, version, cancelled, past_days FROM feeds")
        return {row[0]: (int(row[1]), row[2], row[3]) for row in rows}

    def revoke_feed(self, feed_id: str) -> int:
        """Raise the version of a patient's feed (its old address stops working); returns
        the new version."""
        self._begin()
        try:
            row = self._db.execute(
                "SELECT version FROM feeds WHERE feed_id = ?", (feed_id,)
            ).fetchone()
            version = (int(row[0]) if row else 1) + 1
            self._db.execute(
                "INSERT INTO feeds (feed_id, version) VALUES (?, ?) ON CONFLICT (feed_id)"
                " DO UPDATE SET version = excluded.version",
                (feed_id, version),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return version

    def data_version(self) -> int:
        """A number that changes whenever another connection commits a change (SQLite's
        ``PRAGMA data_version``): a reader re-reads the book only then."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def backup(self, target: str | os.PathLike[str]) -> None:
        """A consistent copy of the book at ``target`` (a new file), while others work on."""
        shown = shown_path(target)
        if os.path.lexists(target):
            raise StoreError(f"{shown}: exists already; a backup never replaces a file")
        try:
            copy = sqlite3.connect(target)
        except sqlite3.Error as error:
            raise StoreError(f"{shown}: cannot be written ({error})") from None
        try:
            with copy:
                self._db.backup(copy)
        except sqlite3.Error as error:
            raise StoreError(f"{shown}: the backup failed ({error})") from None
        finally:
            copy.close()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> BookStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside ------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            # ``threads``: one connection that a server's threads share, each call under
            # the caller's lock (:class:`~tms_schedule.delivery.sources.BookSource`).
            db = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=not self._threads,
            )
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
            return db
        except sqlite3.DatabaseError as error:
            if "not a database" in str(error):
                raise StoreError(
                    f"{shown_path(self.path)}: is not a book database (not SQLite)"
                ) from None
            raise StoreError(f"{shown_path(self.path)}: cannot be opened ({error})") from None
        except sqlite3.Error as error:
            raise StoreError(f"{shown_path(self.path)}: cannot be opened ({error})") from None

    def _check_and_migrate(self) -> None:
        shown = shown_path(self.path)
        try:
            application = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError:
            raise StoreError(f"{shown}: is not a book database (not SQLite)") from None
        if application != _APPLICATION:
            raise StoreError(f"{shown}: is not a tms_schedule book (another SQLite file)")
        if version > SCHEMA:
            raise StoreError(
                f"{shown}: is a book of schema {version}, written by a newer tms_schedule;"
                f" this one reads schemas 1 to {SCHEMA}: upgrade tms_schedule to open it"
            )
        if version < SCHEMA:
            self._begin()
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                while version < SCHEMA:
                    for statement in _MIGRATIONS[version]:
                        self._db.execute(statement)
                    version += 1
                    self._db.execute(f"PRAGMA user_version = {version}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _begin(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StoreError(
                    f"{shown_path(self.path)}: busy: another terminal kept it for more than"
                    f" {self.timeout:g} s; try again"
                ) from None
            raise StoreError(f"{shown_path(self.path)}: {error}") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def _row(self) -> tuple[bytes, str, str]:
        row = self._db.execute("SELECT toml, name, state FROM settings WHERE id = 1").fetchone()
        if row is None:
            raise StoreError(f"{shown_path(self.path)}: has no clinic settings (damaged?)")
        return bytes(row[0]), str(row[1]), str(row[2])

    def _book(self) -> Book:
        _, _, state = self._row()
        base = _state_from_data(json.loads(state))
        courses = []
        seat_rows: dict[str, list[tuple[int, str]]] = {}
        for course_id, session, chair in self._db.execute(
            "SELECT course_id, session, chair FROM seats"
        ):
            seat_rows.setdefault(course_id, []).append((session, chair))
        for course_id, document in self._db.execute(
            "SELECT course_id, document FROM courses ORDER BY position"
        ):
            try:
                course = course_from_json(document)
            except CourseFileError as error:
                raise StoreError(f"{shown_path(self.path)}: course {course_id}: {error}") from None
            courses.append(Booked(course, tuple(sorted(seat_rows.get(course_id, ())))))
        try:
            return attrs.evolve(base, courses=tuple(courses))
        except TmsScheduleError as error:
            raise StoreError(f"{shown_path(self.path)}: {error}") from None

    def _write(self, before: Book, after: Book) -> None:
        if after is before:
            return
        problems = after.check()
        if problems:  # the book refuses these; never write one that holds them
            raise StoreError(f"not saved: {problems[0]}")
        old = {b.course_id: b for b in before.courses}
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if (
            before.clinic != after.clinic
            or before.chairs != after.chairs
            or before.limits != after.limits
            or before.outages != after.outages
            or before.events != after.events
        ):
            self._db.execute(
                "UPDATE settings SET state = ? WHERE id = 1", (json.dumps(_state_to_data(after)),)
            )
        for position, booked in enumerate(after.courses):
            was = old.get(booked.course_id)
            if was is not None and was.course is booked.course and was.seats == booked.seats:
                continue
            if was is None or was.course is not booked.course:
                self._db.execute(
                    "INSERT INTO courses VALUES (?, ?, ?, ?) ON CONFLICT (course_id) DO UPDATE"
                    " SET document = excluded.document, updated = excluded.updated",
                    (booked.course_id, course_to_json(booked.course), position, now),
                )
            self._db.execute("DELETE FROM seats WHERE course_id = ?", (booked.course_id,))
            times = {s.number: s for s in booked.course.schedule.sessions}
            rows = [
                (
                    booked.course_id,
                    number,
                    chair,
                    int(times[number].start.timestamp()) // 60,
                    int(times[number].end.timestamp()) // 60,
                )
                for number, chair in booked.seats
                if times[number].status in ("scheduled", "attended")
            ]
            try:
                self._db.executemany("INSERT INTO seats VALUES (?, ?, ?, ?, ?)", rows)
            except sqlite3.IntegrityError as error:
                raise StoreError(f"not saved: course {booked.course_id}: {error}") from None


@attrs.define
class BookChange:
    """The book inside one :meth:`BookStore.change`: set :attr:`book` to the new book."""

    before: Book
    book: Book
    store: BookStore


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
        "events": [
            {
                "number": e.number,
                "kind": e.kind,
                "first": e.first.isoformat(),
                "last": e.last.isoformat(),
                "reason": e.reason,
                "chair": e.chair,
                "hours": str(e.hours) if e.hours else None,
                "revisions": [list(pair) for pair in e.revisions],
                "undone": e.undone,
                "extra_days": [
                    {
                        "date": x.date.isoformat(),
                        "hours": str(x.hours) if x.hours else None,
                        "reason": x.reason,
                        "catch_up_only": x.catch_up_only,
                    }
                    for x in e.extra_days
                ],
            }
            for e in book.events
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
    events = tuple(
        BookEvent(
            e["number"],
            e["kind"],
            dt.date.fromisoformat(e["first"]),
            dt.date.fromisoformat(e["last"]),
            e["reason"],
            e["chair"],
            OpeningHours.parse(e["hours"]) if e["hours"] else None,
            tuple((str(cid), int(n)) for cid, n in e["revisions"]),
            e["undone"],
            tuple(
                ExtraOpenDay(
                    dt.date.fromisoformat(x["date"]), x["hours"], x["reason"], x["catch_up_only"]
                )
                for x in e["extra_days"]
            ),
        )
        for e in data["events"]
    )
    return Book(clinic_from_data(data["clinic"]), chairs, limits, outages, (), events)


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


def _offer_from_data(data: dict[str, Any], book: Book) -> Offer:
    plan = Plan(
        protocol_from_data(data["protocol"]),
        book.clinic,
        dt.date.fromisoformat(data["start"]),
        dt.time.fromisoformat(data["at"]),
        "offer",
        blocks=data["blocks"],
    )
    schedule = schedule_from_json(json.dumps(data["schedule"]))
    return Offer(
        plan,
        schedule,
        tuple((int(n), str(c)) for n, c in data["seats"]),
        tuple(data["tradeoffs"]),
        float(data["cost"]),
        str(data["key"]),
    )
