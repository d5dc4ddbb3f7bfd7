"""The store at scale: what an action reads, what a store kept open keeps, and schema 5.

Each test taking ``book_location`` runs on a SQLite file and on a fresh site of a
throwaway PostgreSQL cluster (tests/postgres.py); the speed itself is measured by
``benchmarks/bench_store.py``, not here."""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import sqlite3
from pathlib import Path

import attrs
import pytest

from tms_schedule import Course, Plan
from tms_schedule.book import Book
from tms_schedule.book.book import Booked
from tms_schedule.book.store import SCHEMA, BookStore, _session_rows
from tms_schedule.course.codec import course_to_json
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
[[staff_limits]]
sessions = 2
"""
NOW = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 11, 16)


@pytest.fixture
def store(book_location: str) -> BookStore:
    made = BookStore.create(book_location, CLINIC)
    yield made  # type: ignore[misc]
    made.close()


def take(store: BookStore, course_id: str, protocol: str, at: str, start: dt.date = MONDAY) -> None:
    window = store.window(since=start)
    (offer,) = window.offers(protocol, start, at, window=120, dates=10, count=1)
    with store.change(since=offer.start, now=NOW, actor="test", action="take") as change:
        change.book = change.book.take(offer, course_id)


def a_busy_week(store: BookStore) -> None:
    """Courses of each kind of day (single sessions, two a day, a cluster), with records."""
    take(store, "daily", "standard-10hz", "09:00")
    take(store, "twice", "itbs-twice-daily", "10:00")
    take(store, "cluster", "cluster-maintenance", "13:00")
    take(store, "later", "itbs", "09:00", MONDAY + dt.timedelta(days=2))
    after = dt.datetime(2026, 11, 18, 23, tzinfo=dt.UTC)
    with store.change(courses=["daily", "twice"], now=after, actor="test") as change:
        daily = change.book.course("daily").attended(1, now=after).missed(2, "patient", now=after)
        twice = change.book.course("twice").cancelled(3, now=after)
        change.book = change.book.update(daily).update(twice)


def test_the_day_sheet_and_usage_are_read_from_rows_as_the_book_has_them(
    store: BookStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_busy_week(store)
    book = store.load()
    fresh = BookStore(store.location.target if store.location.engine == "sqlite" else _url(store))

    def no_course(*args: object, **kwargs: object) -> None:
        raise AssertionError("a view parsed a course document")

    monkeypatch.setattr("tms_schedule.book.store.course_from_json", no_course)
    for k in range(21):
        day = MONDAY + dt.timedelta(days=k)
        assert fresh.day_sheet(day) == book.day_sheet(day), day
    last = MONDAY + dt.timedelta(days=60)
    assert fresh.usage(MONDAY, last) == book.usage(MONDAY, last)
    assert fresh.usage(MONDAY, last, slot=30) == book.usage(MONDAY, last, slot=30)
    with pytest.raises(Exception, match="last: must be on or after first"):
        fresh.usage(last, MONDAY)
    fresh.close()


def _url(store: BookStore) -> str:
    return f"{store.location.target}&site={store.site}"


def _other(store: BookStore) -> BookStore:
    if store.location.engine == "sqlite":
        return BookStore(store.location.target)
    return BookStore(_url(store))


def test_a_store_kept_open_sees_what_other_terminals_change(store: BookStore) -> None:
    take(store, "mine", "standard-10hz", "09:00")
    store.window(since=MONDAY)  # what the store keeps from here on
    other = _other(store)
    take(other, "theirs", "standard-10hz", "09:00")  # the second chair at 09:00
    # Both chairs are taken at 09:00 now, as this store sees.
    with pytest.raises(BookingConflictError, match="session 1 on Mon 16 Nov 2026 09:00"):
        store.window(since=MONDAY).add(
            Course.start(Plan("standard-10hz", store.state().clinic, MONDAY, "09:00", "x"))
        )
    # The other terminal cancels Tuesday's session: the chair it held is free again here.
    with other.change(courses=["theirs"], now=NOW, actor="test") as change:
        change.book = change.book.update(change.book.course("theirs").cancelled(2, now=NOW))
    window = store.window(since=MONDAY)
    tuesday = [b for day, b in window.others if day == MONDAY + dt.timedelta(days=1)]
    assert [(b.course, b.chair) for b in tuesday] == [("mine", "c1")]
    other.close()


def test_a_change_reads_others_from_today_and_checks_what_it_writes_earlier(
    store: BookStore,
) -> None:
    take(store, "a", "standard-10hz", "09:00")
    take(store, "b", "standard-10hz", "09:00")
    later = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)

    def onto_b() -> None:
        with store.change(courses=["a"], now=later, actor="test") as change:
            assert min(day for day, _ in change.book.others) == dt.date(2026, 11, 25)
            # Session 2 of a (Tuesday 17 November, before the window's first day) put on
            # b's chair at b's time: the rows of that day are read, and say no.
            (booked,) = change.book.courses
            seats = tuple((n, "c2" if n == 2 else chair) for n, chair in booked.seats)
            change.book = attrs.evolve(change.book, courses=(Booked(booked.course, seats),))

    with pytest.raises(StoreError, match="not saved: .* overlap"):
        onto_b()
    assert store.check() == []


# -- schema 5 -------------------------------------------------------------------------------------


def _sql(engine: str, version: int) -> str:
    return (
        importlib.resources.files("tms_schedule.book")
        .joinpath("sql", engine, f"{version}.sql")
        .read_text(encoding="utf-8")
    )


def _schema_4_rows(site: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Two courses as a schema-4 book held them: courses rows (the document inside) and
    sessions rows."""
    from tms_schedule.settings import settings_from_bytes

    clinic = settings_from_bytes(CLINIC, "clinic.toml").calendar
    courses, sessions = [], []
    for order, (course_id, at, chair) in enumerate(
        (("s4-a", "09:00", "c1"), ("s4-b", "09:00", "c2")), 1
    ):
        course = Course.start(Plan("standard-10hz", clinic, MONDAY, at, course_id))
        booked = Booked(course, tuple((s.number, chair) for s in course.schedule.sessions))
        rows = _session_rows(site, booked, clinic.zone, 0)
        courses.append(
            (
                site,
                course_id,
                order,
                course_to_json(course),
                0,
                "standard-10hz",
                course.plan.protocol.name,
                None,
                MONDAY.isoformat(),
                rows[0][5],
                rows[-1][5],
                str(course.progress()),
                0,
            )
        )
        sessions += rows
    return courses, sessions


def _state() -> str:
    from tms_schedule.book.store import _state_to_data
    from tms_schedule.settings import settings_from_bytes

    settings = settings_from_bytes(CLINIC, "clinic.toml")
    return json.dumps(
        _state_to_data(Book(settings.calendar, settings.chairs, settings.staff_limits))
    )


def _sqlite_schema_4(path: Path, *, spoil: bool = False) -> None:
    """A book file as tms_schedule's schema 4 left it (its own SQL files, then rows)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.executescript(
        "".join(_sql("sqlite", v) for v in (1, 2, 3))
        + "".join(line for line in _sql("sqlite", 4).splitlines(keepends=True))
    )
    for table in ("old_settings", "old_courses", "old_seats", "old_offers", "old_feeds"):
        db.execute(f"DROP TABLE {table}")
    db.execute("INSERT INTO sites VALUES ('default', ?, 'clinic.toml', ?, 0)", (CLINIC, _state()))
    courses, sessions = _schema_4_rows("default")
    db.executemany(f"INSERT INTO courses VALUES ({', '.join('?' * 13)})", courses)
    db.executemany(f"INSERT INTO sessions VALUES ({', '.join('?' * 16)})", sessions)
    if spoil:  # what makes the migration stop half-way
        db.execute("CREATE TABLE documents (x)")
    db.execute("PRAGMA user_version = 4")
    db.execute("PRAGMA application_id = 1414353730")
    db.close()


def test_a_sqlite_book_of_schema_4_is_migrated_with_its_documents(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    _sqlite_schema_4(path)
    with BookStore(path) as store:
        assert store._db.schema() == SCHEMA == 8
        # Schema 8: the courses that follow a course are found by an index.
        plan = store._db.run(
            "EXPLAIN QUERY PLAN SELECT course_id FROM courses WHERE site = ? AND follows IN (?)",
            ("default", "s4-a"),
        )
        assert "courses_by_follows" in str(plan)
        assert [line.course_id for line in store.courses()] == ["s4-a", "s4-b"]
        book = store.load()
        assert [b.course.schedule for b in book.courses] == [
            Course.start(Plan("standard-10hz", book.clinic, MONDAY, "09:00", c)).schedule
            for c in ("s4-a", "s4-b")
        ]
        assert store.check() == []
        columns = {row[1] for row in store._db.run("PRAGMA table_info(courses)")}
        assert "document" not in columns
        take(store, "after", "itbs", "10:00")  # and it takes changes as any book
        assert store.check() == []


def test_a_migration_that_fails_leaves_the_book_at_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    _sqlite_schema_4(path, spoil=True)
    with pytest.raises(StoreError, match="documents already exists"):
        BookStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    assert db.execute("SELECT COUNT(*) FROM courses WHERE document != ''").fetchone()[0] == 2
    db.close()


def _postgres_schema_4(address: str, *, spoil: bool = False) -> None:
    """A database as tms_schedule's schema 4 left it: its SQL file, then a site's rows."""
    import psycopg

    with psycopg.connect(address, autocommit=True) as db:
        db.execute("CREATE SCHEMA tms_schedule")
        db.execute("SET search_path TO tms_schedule, public")
        db.execute(_sql("postgresql", 4).replace("%", "%%"))
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (4)")
        db.execute(
            "INSERT INTO sites VALUES ('default', %s, 'clinic.toml', %s, 0)", (CLINIC, _state())
        )
        courses, sessions = _schema_4_rows("default")
        with db.cursor() as cursor:
            cursor.executemany(f"INSERT INTO courses VALUES ({', '.join(['%s'] * 13)})", courses)
            cursor.executemany(f"INSERT INTO sessions VALUES ({', '.join(['%s'] * 16)})", sessions)
        if spoil:
            db.execute("CREATE TABLE documents (x INTEGER)")


def test_a_postgresql_database_of_schema_4_is_migrated_and_a_newer_one_refused(
    postgres_address: str,
) -> None:
    import psycopg

    import postgres

    address = postgres.fresh_database(postgres_address)
    _postgres_schema_4(address)
    with BookStore(address) as store:
        assert store._db.schema() == SCHEMA
        assert [line.course_id for line in store.courses()] == ["s4-a", "s4-b"]
        assert store.check() == []
        take(store, "after", "itbs", "10:00")
        assert store.check() == []
    with psycopg.connect(address, autocommit=True) as db:
        # Schema 7: the guard looks up the time before the course, and still refuses.
        (guard,) = db.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname ="
            " 'one_session_per_chair'"
        ).fetchone()
        assert "int4range(starts, ends) WITH &&, course_id WITH <>" in guard
        assert "DEFERRABLE" in guard
        (options,) = db.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'tms_schedule.sessions'::regclass"
        ).fetchone()
        assert options == ["fillfactor=70"]
        # Schema 8: the courses that follow a course are found by an index.
        (index,) = db.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'courses_by_follows'"
        ).fetchone()
        assert "(site, follows)" in index
        with pytest.raises(psycopg.errors.ExclusionViolation):
            db.execute(
                "INSERT INTO tms_schedule.sessions SELECT site, 'after', 99, phase,"
                " phase_number, day, starts + 10, ends + 10, status, chair, place, target,"
                " block, cpt, milestones, stamp FROM tms_schedule.sessions WHERE course_id ="
                " 's4-a' AND number = 1"
            )
        db.execute(f"UPDATE tms_schedule.schema_version SET version = {SCHEMA + 1}")
    with pytest.raises(StoreError, match="written by a newer tms_schedule"):
        BookStore(address)


def test_a_postgresql_migration_that_fails_changes_nothing(postgres_address: str) -> None:
    import psycopg

    import postgres

    address = postgres.fresh_database(postgres_address)
    _postgres_schema_4(address, spoil=True)
    with pytest.raises(StoreError, match="already exists"):
        BookStore(address)
    with psycopg.connect(address, autocommit=True) as db:
        db.execute("SET search_path TO tms_schedule")
        assert db.execute("SELECT version FROM schema_version").fetchone() == (4,)
        assert db.execute("SELECT COUNT(document) FROM courses").fetchone() == (2,)
