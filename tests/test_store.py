"""The book's SQLite file: transactions, terminals writing at once, schema versions, backups."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tms_schedule import Course, Plan
from tms_schedule.book import Book
from tms_schedule.book.store import SCHEMA, SCHEMA_1, BookStore
from tms_schedule.errors import BookingConflictError, StoreError

CLINIC = b"""timezone = "America/Denver"
[holidays]
country = "US-CO"
[[chairs]]
id = "c1"
label = "Chair 1"
[[chairs]]
id = "c2"
label = "Chair 2"
"""
NOW = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> BookStore:
    made = BookStore.create(tmp_path / "book.db", CLINIC)
    yield made  # type: ignore[misc]
    made.close()


def course(book: Book, course_id: str, at: str = "09:00", start: str = "2026-11-16") -> Course:
    return Course.start(Plan("standard-10hz", book.clinic, start, at, course_id))


def test_a_change_is_kept_and_a_failed_one_leaves_the_book_as_it_was(store: BookStore) -> None:
    with store.change() as change:
        change.book = change.book.add(course(change.book, "c-1"))
    assert store.load().course_ids() == ["c-1"]

    def two_more() -> None:
        with store.change() as change:
            change.book = change.book.add(course(change.book, "c-2"))
            change.book = change.book.add(course(change.book, "c-3"))  # a third at 09:00

    with pytest.raises(BookingConflictError):
        two_more()
    assert store.load().course_ids() == ["c-1"]  # c-2 went with the failed transaction
    reopened = BookStore(store.path)
    assert reopened.load() == store.load()
    reopened.close()


def test_everything_the_book_holds_survives_the_file(store: BookStore) -> None:
    with store.change() as change:
        book = change.book.add(course(change.book, "c-1")).add(course(change.book, "c-2", "10:00"))
        book, _ = book.close(dt.date(2026, 12, 1), reason="Snow day", now=NOW)
        book, _ = book.close(
            dt.date(2026, 12, 8), reason="Coil repair", chair="c1", hours="13:00-15:00", now=NOW
        )
        book, _ = book.close(dt.date(2026, 12, 9), reason="Service", chair="c2", now=NOW)
        change.book = book
    loaded = store.load()
    assert loaded == book
    assert [e.kind for e in loaded.events] == ["closure", "outage", "chair"]
    assert loaded.check() == []


def test_the_database_refuses_two_sessions_on_one_chair_even_past_the_book(
    store: BookStore,
) -> None:
    with store.change() as change:
        change.book = change.book.add(course(change.book, "c-1"))
    db = sqlite3.connect(store.path)
    db.execute("INSERT INTO courses VALUES ('x', '{}', 9, 'now')")
    start = db.execute('SELECT start, "end" FROM seats WHERE session = 2').fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="two sessions on one chair at once"):
        db.execute("INSERT INTO seats VALUES ('x', 1, 'c1', ?, ?)", start)
    db.close()


def test_an_older_book_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    db.execute("PRAGMA application_id = 1414353730")
    for statement in SCHEMA_1:
        db.execute(statement)
    book = BookStore.create(tmp_path / "new.db", CLINIC)
    row = sqlite3.connect(book.path).execute("SELECT * FROM settings").fetchone()
    book.close()
    db.execute("INSERT INTO settings VALUES (?, ?, ?, ?)", row)
    db.execute("PRAGMA user_version = 1")
    db.close()
    migrated = BookStore(old)
    assert migrated.load().chairs[0].id == "c1"
    migrated.close()
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    db = sqlite3.connect(old)
    db.execute(f"PRAGMA user_version = {SCHEMA + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="written by a newer tms_schedule"):
        BookStore(old)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such book"),
        (lambda p: p.write_text("not a database"), "is not a book database"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)"), "is not a tms_schedule book"),
    ],
)
def test_other_files_are_refused_by_name(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "book.db"
    make(path)  # type: ignore[operator]
    with pytest.raises(StoreError, match=message):
        BookStore(path)


def test_a_book_is_never_made_over_a_file_nor_without_chairs(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    path.write_text("precious")
    with pytest.raises(StoreError, match="exists already"):
        BookStore.create(path, CLINIC)
    assert path.read_text() == "precious"
    with pytest.raises(StoreError, match=r"has no \[\[chairs\]\]"):
        BookStore.create(tmp_path / "other.db", b'timezone = "UTC"\n')
    assert not (tmp_path / "other.db").exists()


def test_a_backup_is_a_whole_book(store: BookStore, tmp_path: Path) -> None:
    with store.change() as change:
        change.book = change.book.add(course(change.book, "c-1"))
    store.backup(tmp_path / "copy.db")
    copy = BookStore(tmp_path / "copy.db")
    assert copy.load() == store.load()
    copy.close()
    with pytest.raises(StoreError, match="exists already"):
        store.backup(tmp_path / "copy.db")


_WORKER = """
import datetime as dt, sys, time
from tms_schedule import Course, Plan
from tms_schedule.errors import BookingConflictError, StoreError
from tms_schedule.book.store import BookStore
store = BookStore(sys.argv[1], timeout=60)
worker, count = int(sys.argv[2]), int(sys.argv[3])
times = ["08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
for k in range(count):
    course_id = f"w{worker}-{k}"
    try:
        with store.change() as change:
            book = change.book
            at = times[(worker * count + k) % len(times)]
            plan = Plan("itbs", book.clinic, "2026-11-16", at, course_id)
            change.book = book.add(Course.start(plan))
        print("booked", course_id, flush=True)
    except BookingConflictError:
        print("full", course_id, flush=True)
store.close()
"""


def test_terminals_booking_at_once_lose_nothing_and_never_double_book(
    store: BookStore, tmp_path: Path
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(store.path), str(w), "6"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    booked = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err
        booked += [line.split()[1] for line in out.splitlines() if line.startswith("booked")]
    book = store.load()
    assert sorted(book.course_ids()) == sorted(booked)  # every booking reported is there
    assert len(booked) >= 9  # two chairs, nine hours: room for most of them
    assert book.check() == []


def test_a_terminal_killed_mid_change_leaves_the_book_whole(
    store: BookStore, tmp_path: Path
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    for delay in (0.3, 0.6, 0.9):
        worker = subprocess.Popen(
            [sys.executable, str(script), str(store.path), "7", "50"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        book = BookStore(store.path).load()
        assert book.check() == []
        for booked in book.courses:
            assert len(booked.seats) == len(booked.course.schedule.active_sessions())
