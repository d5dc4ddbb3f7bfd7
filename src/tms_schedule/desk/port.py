"""What the desk asks of the book's store, in one place.

The desk reads and changes the clinic's book through :class:`DeskBook` only: the book
(:class:`~tms_schedule.book.Book`, re-read only when the file changed), one change at a
time (whose audit entry names who made it), a number that changes whenever the book does
(pages poll it; a change made meanwhile is told apart by it), and the desk's own records
kept beside the courses in the same file: the patient details of each course (label,
phone, e-mail), the staff who may sign in (name, role and a password hash, never the
password), the audit trail, the waiting list, the call lists of closures, and the desk's
settings (its cookie-signing secret among them).

Patient details live in their own table, which no export, calendar file or feed reads:
they leave the book only on the desk's pages and the call list it is asked for.

>>> import pathlib, tempfile, datetime as dt
>>> from tms_schedule.book.store import BookStore
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> BookStore.create(folder / "book.db", b'timezone = "UTC"\\n[[chairs]]\\nid = "c1"\\n').close()
>>> desk = DeskBook(folder / "book.db")
>>> desk.add_user("ana", "front-desk", "$argon2id$...", now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
>>> [(u.name, u.role) for u in desk.users()]
[('ana', 'front-desk')]
>>> desk.close()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator

import attrs

from tms_schedule._files import shown_path
from tms_schedule.book.book import Book
from tms_schedule.book.offers import Offer
from tms_schedule.book.store import BookChange, BookStore
from tms_schedule.errors import StoreError
from tms_schedule.settings import ClinicSettings

__all__ = [
    "ROLES",
    "AuditEntry",
    "DeskBook",
    "PatientDetails",
    "User",
    "Waiting",
]

#: Who may sign in, and what each may do (see :mod:`tms_schedule.desk.auth`).
ROLES = ("front-desk", "technician", "clinician", "admin")

_TABLES = (
    "CREATE TABLE IF NOT EXISTS desk_users (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " hash TEXT NOT NULL, created TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS desk_details (course_id TEXT PRIMARY KEY, label TEXT NOT NULL,"
    " phone TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS desk_details_by_label ON desk_details (label COLLATE NOCASE)",
    "CREATE TABLE IF NOT EXISTS desk_audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
    " who TEXT NOT NULL, course_id TEXT, what TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS desk_audit_by_course ON desk_audit (course_id, id)",
    "CREATE TABLE IF NOT EXISTS desk_waiting (id INTEGER PRIMARY KEY, label TEXT NOT NULL,"
    " phone TEXT NOT NULL, protocol TEXT NOT NULL, earliest TEXT NOT NULL, at TEXT NOT NULL,"
    " note TEXT NOT NULL, added TEXT NOT NULL, who TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS desk_calls (event INTEGER PRIMARY KEY, rows TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS desk_settings (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)


@attrs.frozen
class User:
    """Someone who may sign in: a name, a role (one of :data:`ROLES`) and the password's
    hash (an argon2 string; the password itself is never kept)."""

    name: str
    role: str
    hash: str = attrs.field(repr=False)


@attrs.frozen
class PatientDetails:
    """What the clinic calls the patient of a course, and how to reach them."""

    label: str
    phone: str = ""
    email: str = ""


@attrs.frozen
class AuditEntry:
    """One change of the book: when, who, which course (or none: a clinic-wide one), what."""

    at: dt.datetime
    who: str
    course_id: str | None
    what: str


@attrs.frozen
class Waiting:
    """A patient waiting for a place: the time they want, from a day on."""

    id: int
    label: str
    phone: str
    protocol: str
    earliest: dt.date
    at: dt.time
    note: str
    added: dt.datetime
    who: str


class DeskBook:
    """The book as the desk uses it (see the module). Safe to share between a server's
    threads: every call holds one lock (SQLite writes one at a time anyway)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._own = 0  # this connection's own commits (SQLite's data_version counts others')
        self._store = BookStore(path, timeout=timeout, threads=True)
        try:
            self._db = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            with self._transaction():
                for statement in _TABLES:
                    self._db.execute(statement)
        except sqlite3.Error as error:
            self._store.close()
            raise StoreError(f"{shown_path(path)}: cannot be opened ({error})") from None
        self._book: Book | None = None
        self._seen: int | None = None
        self._settings: ClinicSettings | None = None

    # -- the book --------------------------------------------------------------------------------

    def version(self) -> int:
        """A number that changes whenever the book or the desk's records change (by this
        process or another): one cheap read, for pages that poll."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0]) + self._own

    def book(self) -> Book:
        """The book as it is now (read again only when it changed)."""
        with self._lock:
            version = self.version()
            if self._book is None or version != self._seen:
                self._book = self._store.load()
                self._seen = version
            return self._book

    def settings(self) -> ClinicSettings:
        """The clinic settings the book was made from."""
        with self._lock:
            if self._settings is None:
                self._settings = self._store.settings()
            return self._settings

    @contextlib.contextmanager
    def change(self, *, who: str, now: dt.datetime) -> Iterator[Change]:
        """One change of the book, in one transaction: set ``change.book``; add what was
        done in words with :meth:`Change.did` (kept in the audit trail with ``who`` and
        ``now``). Nothing is written if the block raises."""
        with self._lock, self._store.change() as inner:
            change = Change(inner)
            yield change
            self._book = None
        self._audit(who, now, change.done)

    def save_offers(self, offers: Iterable[Offer]) -> None:
        with self._lock:
            self._store.save_offers(list(offers))

    def offer(self, key: str, book: Book) -> Offer:
        with self._lock:
            return self._store.offer(key, book)

    def feed_versions(self) -> dict[str, tuple[int, str | None, int | None]]:
        with self._lock:
            return self._store.feed_versions()

    # -- patients ----------------------------------------------------------------------------------

    def details(self, course_ids: Iterable[str]) -> dict[str, PatientDetails]:
        """The patient details of these courses (those that have any)."""
        ids = list(dict.fromkeys(course_ids))
        found: dict[str, PatientDetails] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                for course_id, label, phone, email in self._db.execute(
                    "SELECT course_id, label, phone, email FROM desk_details"
                    f" WHERE course_id IN ({marks})",
                    part,
                ):
                    found[course_id] = PatientDetails(label, phone, email)
        return found

    def set_details(
        self, course_id: str, details: PatientDetails, *, who: str, now: dt.datetime
    ) -> None:
        """Keep the patient details of a course (the audit says they changed, not what)."""
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO desk_details VALUES (?, ?, ?, ?) ON CONFLICT (course_id) DO UPDATE"
                " SET label = excluded.label, phone = excluded.phone, email = excluded.email",
                (course_id, details.label, details.phone, details.email),
            )
            self._audit_row(who, now, course_id, "patient details changed")

    def find(self, text: str, limit: int = 20) -> list[tuple[str, PatientDetails | None]]:
        """Courses whose label or id holds ``text`` (case ignored), newest first."""
        needle = text.strip().casefold()
        if not needle:
            return []
        book = self.book()
        with self._lock:
            labelled = {
                row[0]: PatientDetails(row[1], row[2], row[3])
                for row in self._db.execute(
                    "SELECT course_id, label, phone, email FROM desk_details"
                    " WHERE instr(lower(label), ?) > 0 OR instr(lower(course_id), ?) > 0",
                    (needle, needle),
                )
            }
        found: list[tuple[str, PatientDetails | None]] = []
        for course_id in reversed(book.course_ids()):
            if course_id in labelled or needle in course_id.casefold():
                found.append((course_id, labelled.get(course_id)))
                if len(found) == limit:
                    break
        return found

    # -- the audit trail -----------------------------------------------------------------------------

    def history(self, course_id: str) -> list[AuditEntry]:
        """Every change of a course, oldest first, with who made it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, who, course_id, what FROM desk_audit WHERE course_id = ? ORDER BY id",
                (course_id,),
            ).fetchall()
        return [AuditEntry(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest changes of the book, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at, who, course_id, what FROM desk_audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [AuditEntry(dt.datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    # -- users ----------------------------------------------------------------------------------------

    def users(self) -> list[User]:
        with self._lock:
            rows = self._db.execute("SELECT name, role, hash FROM desk_users ORDER BY name")
            return [User(*row) for row in rows]

    def user(self, name: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, hash FROM desk_users WHERE name = ?", (name,)
            ).fetchone()
        return User(*row) if row else None

    def add_user(self, name: str, role: str, password_hash: str, *, now: dt.datetime) -> None:
        """A new user; a name taken already raises :class:`StoreError`."""
        if role not in ROLES:
            raise StoreError(f"role: must be one of {', '.join(ROLES)}, got {role!r}")
        with self._lock, self._transaction():
            try:
                self._db.execute(
                    "INSERT INTO desk_users VALUES (?, ?, ?, ?)",
                    (name, role, password_hash, now.isoformat(timespec="seconds")),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"name: there is a user {name!r} already") from None

    def remove_user(self, name: str) -> None:
        with self._lock, self._transaction():
            gone = self._db.execute("DELETE FROM desk_users WHERE name = ?", (name,)).rowcount
        if not gone:
            raise StoreError(f"name: no user {name!r}")

    def set_password(self, name: str, password_hash: str) -> None:
        with self._lock, self._transaction():
            found = self._db.execute(
                "UPDATE desk_users SET hash = ? WHERE name = ?", (password_hash, name)
            ).rowcount
        if not found:
            raise StoreError(f"name: no user {name!r}")

    # -- the waiting list ----------------------------------------------------------------------------

    def waiting(self) -> list[Waiting]:
        """Who is waiting, longest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, label, phone, protocol, earliest, at, note, added, who"
                " FROM desk_waiting ORDER BY id"
            ).fetchall()
        return [
            Waiting(
                r[0],
                r[1],
                r[2],
                r[3],
                dt.date.fromisoformat(r[4]),
                dt.time.fromisoformat(r[5]),
                r[6],
                dt.datetime.fromisoformat(r[7]),
                r[8],
            )
            for r in rows
        ]

    def add_waiting(
        self,
        label: str,
        phone: str,
        protocol: str,
        earliest: dt.date,
        at: dt.time,
        note: str,
        *,
        who: str,
        now: dt.datetime,
    ) -> int:
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "INSERT INTO desk_waiting (label, phone, protocol, earliest, at, note, added,"
                " who) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    label,
                    phone,
                    protocol,
                    earliest.isoformat(),
                    at.isoformat(timespec="minutes"),
                    note,
                    now.isoformat(timespec="seconds"),
                    who,
                ),
            )
            self._audit_row(who, now, None, "added a patient to the waiting list")
            return int(cursor.lastrowid or 0)

    def remove_waiting(self, entry: int, *, who: str, now: dt.datetime) -> None:
        with self._lock, self._transaction():
            gone = self._db.execute("DELETE FROM desk_waiting WHERE id = ?", (entry,)).rowcount
            if not gone:
                raise StoreError(f"waiting: no entry {entry} on the waiting list")
            self._audit_row(who, now, None, "took a patient off the waiting list")

    # -- call lists ----------------------------------------------------------------------------------

    def save_calls(self, event: int, rows: list[dict[str, str]]) -> None:
        """Keep the call list of a clinic-wide event (course ids and times; the labels and
        phones are looked up when it is shown, so a corrected phone number shows)."""
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO desk_calls VALUES (?, ?)", (event, json.dumps(rows))
            )

    def calls(self, event: int) -> list[dict[str, str]] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT rows FROM desk_calls WHERE event = ?", (event,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    # -- settings ------------------------------------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """A random secret kept in the book, made the first time it is asked for (so every
        desk process on this book signs cookies alike, and a restart signs nobody out)."""
        with self._lock, self._transaction():
            row = self._db.execute(
                "SELECT value FROM desk_settings WHERE name = ?", (f"secret:{name}",)
            ).fetchone()
            if row is not None:
                return bytes(row[0])
            value = secrets.token_bytes(32)
            self._db.execute("INSERT INTO desk_settings VALUES (?, ?)", (f"secret:{name}", value))
            return value

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._store.close()

    def __enter__(self) -> DeskBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreError(f"{shown_path(self.path)}: busy ({error}); try again") from None
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._own += 1

    def _audit(self, who: str, now: dt.datetime, done: list[tuple[str | None, str]]) -> None:
        if not done:
            return
        with self._transaction():
            for course_id, what in done:
                self._audit_row(who, now, course_id, what)

    def _audit_row(self, who: str, now: dt.datetime, course_id: str | None, what: str) -> None:
        self._db.execute(
            "INSERT INTO desk_audit (at, who, course_id, what) VALUES (?, ?, ?, ?)",
            (now.astimezone(dt.UTC).isoformat(timespec="seconds"), who, course_id, what),
        )


@attrs.define
class Change:
    """The book inside one :meth:`DeskBook.change`: set :attr:`book`; say what was done."""

    _inner: BookChange
    done: list[tuple[str | None, str]] = attrs.field(factory=list)

    @property
    def before(self) -> Book:
        return self._inner.before

    @property
    def book(self) -> Book:
        return self._inner.book

    @book.setter
    def book(self, value: Book) -> None:
        self._inner.book = value

    def did(self, what: str, course_id: str | None = None) -> None:
        """Say what the change did, for the audit trail (no patient details in it)."""
        self.done.append((course_id, what))
