"""The book's store, on both engines: transactions, windows, terminals writing at once,
schema versions, copies between engines, and every damaged file named in one line.

Each test taking ``book_location`` runs once on a SQLite file and once on a fresh site of
a throwaway PostgreSQL cluster (tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tms_schedule import Course, Plan
from tms_schedule.book import Book
from tms_schedule.book.office import PatientDetails, User, WaitingEntry
from tms_schedule.book.store import SCHEMA, BookStore, Location
from tms_schedule.book.store_sqlite import network_file_system
from tms_schedule.errors import (
    BookError,
    BookingConflictError,
    ChangedMeanwhileError,
    FeedError,
    StoreError,
)

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
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def store(book_location: str) -> BookStore:
    made = BookStore.create(book_location, CLINIC)
    yield made  # type: ignore[misc]
    made.close()


def course(book: Book, course_id: str, at: str = "09:00", start: str = "2026-11-16") -> Course:
    return Course.start(Plan("standard-10hz", book.clinic, start, at, course_id))


def add(store: BookStore, course_id: str, at: str = "09:00", start: str = "2026-11-16") -> None:
    with store.change(since=start, now=NOW, actor="test", action="add") as change:
        change.book = change.book.add(course(change.book, course_id, at, start))


def test_a_change_is_kept_and_a_failed_one_leaves_the_book_as_it_was(store: BookStore) -> None:
    add(store, "c-1")
    assert [line.course_id for line in store.courses()] == ["c-1"]
    version = store.version()

    def two_more() -> None:
        with store.change(since="2026-11-16", now=NOW, actor="test") as change:
            change.book = change.book.add(course(change.book, "c-2"))
            change.book = change.book.add(course(change.book, "c-3"))  # a third at 09:00

    with pytest.raises(BookingConflictError):
        two_more()
    assert [line.course_id for line in store.courses()] == ["c-1"]  # c-2 went with it
    assert store.version() == version  # and so did the version's rise
    reopened = BookStore(store.location.target, site=store.site)
    assert reopened.load() == store.load()
    reopened.close()


def test_everything_the_book_holds_survives_the_store(store: BookStore) -> None:
    with store.change(whole=True, now=NOW, actor="ann", action="setup") as change:
        book = change.book.add(course(change.book, "c-1")).add(course(change.book, "c-2", "10:00"))
        book, _ = book.enter_closure(dt.date(2026, 12, 1), reason="Snow day", now=NOW)
        book, _ = book.enter_closure(
            dt.date(2026, 12, 8), reason="Coil repair", chair="c1", hours="13:00-15:00", now=NOW
        )
        book, _ = book.enter_closure(dt.date(2026, 12, 9), reason="Service", chair="c2", now=NOW)
        change.book = book
    loaded = store.load()
    assert loaded == book
    assert [e.kind for e in loaded.events] == ["closure", "outage", "chair"]
    assert loaded.check() == [] and store.check() == []
    # Courses that follow the clinic's calendar share its one object.
    assert all(b.course.plan.clinic is loaded.clinic for b in loaded.courses)


def test_a_change_holds_what_it_touches_and_counts_the_rest_as_taken(store: BookStore) -> None:
    for k, at in enumerate(("09:00", "09:00", "11:00")):
        add(store, f"c-{k}", at)
    with store.change(courses=["c-2"], now=NOW, actor="test", action="record") as change:
        assert change.book.course_ids() == ["c-2"]
        assert {b.course for _, b in change.book.others} == {"c-0", "c-1"}
        # Both chairs are taken at 09:00 by courses the change does not hold.
        with pytest.raises(BookingConflictError, match="every chair that can run it is booked"):
            change.book.add(course(change.book, "c-9", "09:00"))
        with pytest.raises(BookError, match="course c-0 is in the book already"):
            change.book.add(course(change.book, "c-0", "11:00"))
    with (
        pytest.raises(BookError, match="no course 'c-9' in the book"),
        store.change(courses=["c-9"], now=NOW, actor="test"),
    ):
        pass


def test_a_change_holds_the_courses_after_the_ones_it_re_plans(store: BookStore) -> None:
    # One patient's courses never run at once: a closure on the acute course's last day
    # makes it end later, into the maintenance booked right after it, which moves, as it
    # does in the whole book.
    with store.change(whole=True, now=NOW, actor="test", action="setup") as change:
        book = change.book.add(course(change.book, "c-1"))
        day = book.course("c-1").schedule.last.date
        offer = book.offers("maintenance", day + dt.timedelta(days=1), "09:00", follows="c-1")[0]
        change.book = book.take(offer, "m-1", follows="c-1")
    whole = store.load()
    expected, _ = whole.enter_closure(day, reason="Snow day", now=NOW)
    assert expected.course("m-1").schedule.first.start > whole.course("m-1").schedule.first.start
    with store.change(
        days=(day, day), events=True, now=NOW, actor="test", action="closure"
    ) as change:
        assert change.book.course_ids() == ["c-1", "m-1"]
        change.book, _ = change.book.enter_closure(day, reason="Snow day", now=NOW)
    assert store.course("m-1").schedule.sessions == expected.course("m-1").schedule.sessions
    assert store.load() == expected
    assert store.check() == []


def test_what_a_change_writes_before_its_window_is_checked_against_the_book(
    store: BookStore,
) -> None:
    add(store, "early", "09:00", "2026-11-16")
    add(store, "early-2", "09:00", "2026-11-16")

    # A window from February sees the chairs free on 16 November at 09:00; the store
    # checks what is written before the window against the rows, and refuses.
    def late() -> None:
        with store.change(since="2027-02-01", now=NOW, actor="test") as change:
            assert change.book.others == ()
            change.book = change.book.add(course(change.book, "late"))

    with pytest.raises(StoreError, match="not saved: .* overlap"):
        late()
    assert [line.course_id for line in store.courses()] == ["early", "early-2"]
    assert store.check() == []


def test_stamps_refuse_a_change_made_on_what_changed_meanwhile(store: BookStore) -> None:
    add(store, "c-1")
    seen = {row.number: row.stamp for row in store.sessions(dt.date(2026, 11, 16))}
    with store.change(courses=["c-1"], now=NOW, actor="ann", action="record") as change:
        c = change.book.course("c-1")
        change.book = change.book.update(
            c.attended(1, now=dt.datetime(2026, 11, 16, 17, tzinfo=dt.UTC))
        )
        change.detail, change.session = "session 1: attended", 1
    with (
        pytest.raises(
            ChangedMeanwhileError,
            match=r"course c-1 session 1 changed meanwhile: record \(session 1: attended\) by ann",
        ),
        store.change(courses=["c-1"], now=NOW, actor="bob", expect={("c-1", 1): seen[1]}),
    ):
        pass
    entries = store.audit(course_id="c-1")
    assert [(e.actor, e.action, e.session) for e in entries] == [
        ("ann", "record", 1),
        ("test", "add", None),
    ]


def test_every_change_raises_the_version_and_readers_see_rows(store: BookStore) -> None:
    assert store.version() == 0
    add(store, "c-1")
    add(store, "c-2", "11:00")
    assert store.version() == 2
    rows = store.sessions(dt.date(2026, 11, 16))
    assert [(r.course_id, r.chair, r.place, r.target, f"{r.start:%H:%M}") for r in rows] == [
        ("c-1", "c1", 1, 36, "09:00"),
        ("c-2", "c1", 1, 36, "11:00"),
    ]
    lines = store.courses()
    assert [(line.course_id, line.chairs) for line in lines] == [("c-1", ("c1",)), ("c-2", ("c1",))]
    sheet = store.day_sheet(dt.date(2026, 11, 16))
    assert [s.course_id for s in sheet.sessions()] == ["c-1", "c-2"]


def test_the_front_desk_tables_keep_what_they_are_given(store: BookStore) -> None:
    add(store, "c-1")
    store.set_patient(PatientDetails("c-1", "A. Example", "+1 303 555 0100"), now=NOW, actor="ann")
    assert store.patient("c-1") == PatientDetails("c-1", "A. Example", "+1 303 555 0100")
    assert [p.course_id for p in store.find_patients("exam")] == ["c-1"]
    assert store.find_patients("100%") == ()
    store.add_user(User("ann", "admin", "$argon2id$x", NOW), now=NOW, actor="setup")
    with pytest.raises(BookError, match="there is a user 'ann' already"):
        store.add_user(User("ann", "technician", "$argon2id$y", NOW), now=NOW, actor="setup")
    store.set_password("ann", "$argon2id$z", now=NOW, actor="ann")
    assert store.user("ann") == User("ann", "admin", "$argon2id$z", NOW)
    entry = store.add_waiting(
        WaitingEntry(0, "B. Example", None, "itbs", "2026-12-01", "08:00", 60, "", NOW),
        now=NOW,
        actor="ann",
    )
    store.set_waiting_state(entry.number, "offered", now=NOW, actor="ann")
    assert [e.state for e in store.waiting()] == ["offered"]
    store.remove_user("ann", now=NOW, actor="setup")
    assert store.users() == ()
    actions = [e.action for e in store.audit()]
    assert actions[:3] == ["user remove", "waiting", "waiting add"]


def test_a_booking_keeps_its_patient_in_its_own_transaction_or_nothing(
    store: BookStore,
) -> None:
    add(store, "c-1")
    version, entries = store.version(), len(store.audit())

    def booking(*patients: object) -> None:
        with store.change(since="2026-11-16", now=NOW, actor="ann", action="take") as change:
            change.book = change.book.add(course(change.book, "c-2", "10:00"))
            change.patients = [*patients]  # type: ignore[list-item]

    # The details cannot be written after the course's rows: the course goes with them.
    with pytest.raises(BookError, match="no course 'c-9' in the book"):
        booking(PatientDetails("c-2", "B. Example"), PatientDetails("c-9", "C. Example"))
    with pytest.raises(BookError, match="details: must be PatientDetails"):
        booking(PatientDetails("c-2", "B. Example"), "C. Example")
    assert [line.course_id for line in store.courses()] == ["c-1"]
    assert store.patient("c-2") is None
    assert (store.version(), len(store.audit())) == (version, entries)

    booking(PatientDetails("c-2", "B. Example", "555 0100"), PatientDetails("c-1", "A. Example"))
    assert store.patient("c-2") == PatientDetails("c-2", "B. Example", "555 0100")
    assert store.patient("c-1") == PatientDetails("c-1", "A. Example")
    assert store.version() == version + 1
    (entry,) = store.audit(since=entries)  # one entry: the booking's, no patient in it
    assert (entry.action, entry.course_id, entry.version) == ("take", "c-2", version + 1)
    assert "Example" not in (entry.detail or "")

    # Details alone, in a change that moves no course: kept, with the change's one entry.
    with store.change(courses=["c-1"], now=NOW, actor="ann", action="label") as change:
        change.patients = [PatientDetails("c-1", "A. Other")]
    assert store.patient("c-1") == PatientDetails("c-1", "A. Other")
    assert [e.action for e in store.audit(since=entries + 1)] == ["label"]


def test_a_booking_takes_its_patient_off_the_waiting_list_in_its_own_transaction(
    store: BookStore,
) -> None:
    entry = store.add_waiting(
        WaitingEntry(0, "B. Example", None, "standard-10hz", "2026-11-16", "10:00", 60, "", NOW),
        now=NOW,
        actor="ann",
    )
    version, entries = store.version(), len(store.audit())

    def booking(waiting: object) -> None:
        with store.change(since="2026-11-16", now=NOW, actor="ann", action="take") as change:
            change.book = change.book.add(course(change.book, "c-2", "10:00"))
            change.waiting = waiting  # type: ignore[assignment]

    # An entry that is not there, or a state there is not, refuses the booking with it.
    for waiting, message in [
        ({entry.number + 1: "booked"}, f"number: no entry {entry.number + 1} on the"),
        ({entry.number: "done"}, "state: must be waiting, offered, booked or removed"),
        (["booked"], "waiting: must map entry numbers to states"),
    ]:
        with pytest.raises(BookError, match=message):
            booking(waiting)
    assert [line.course_id for line in store.courses()] == []
    assert [e.state for e in store.waiting()] == ["waiting"]
    assert (store.version(), len(store.audit())) == (version, entries)

    booking({entry.number: "booked"})
    assert [line.course_id for line in store.courses()] == ["c-2"]
    assert [e.state for e in store.waiting()] == ["booked"]
    assert store.version() == version + 1
    (audited,) = store.audit(since=entries)  # the booking's one entry
    assert (audited.action, audited.course_id) == ("take", "c-2")


def test_a_key_is_made_once_and_every_process_on_the_book_gets_it(
    store: BookStore, tmp_path: Path, book_location: str
) -> None:
    target = store.location.target if store.location.engine == "sqlite" else book_location
    version, audited = store.version(), len(store.audit())
    key = store.secret("desk cookies", now=NOW)
    assert len(key) == 32 and store.secret("desk cookies", now=NOW) == key
    assert store.secret("feeds", now=NOW) != key
    ready, keys = threading.Barrier(4), []

    def ask() -> None:  # four servers starting at once: one key made, all of them get it
        with BookStore(target) as other:
            ready.wait(30)
            keys.append(other.secret("race", now=NOW))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(keys) == 4 and set(keys) == {store.secret("race", now=NOW)}
    # A key is not a change of the book (its views stay valid) and never in the audit trail.
    assert store.version() == version and len(store.audit()) == audited
    store.backup(tmp_path / "copy.db")
    with BookStore(tmp_path / "copy.db") as copy:  # a book restored keeps its sign-ins
        assert copy.secret("desk cookies", now=NOW) == key
    with pytest.raises(BookError, match="name: must be one line"):
        store.secret("desk\ncookies", now=NOW)


# -- the database's own guard ------------------------------------------------------------------


def test_the_database_refuses_two_sessions_on_one_chair_on_insert_and_update(
    store: BookStore,
) -> None:
    add(store, "c-1", "09:00")
    add(store, "c-2", "11:00")
    db = store._db  # what a hand-written query would do, past the book
    row = db.run("SELECT starts, ends FROM sessions WHERE course_id = 'c-1' AND number = 2")[0]
    db.begin(write=True)
    with pytest.raises(BookingConflictError, match="two sessions on one chair at once"):
        db.run(
            "UPDATE sessions SET starts = ?, ends = ? WHERE course_id = 'c-2' AND number = 2",
            row,
        )
    db.rollback()
    db.begin(write=True)
    db.run(
        "INSERT INTO courses SELECT site, 'x', 99, own_calendar, protocol, protocol_name,"
        " follows, plan_start, first_day, last_day, progress, stamp FROM courses WHERE"
        " course_id = 'c-1'"
    )
    with pytest.raises(BookingConflictError, match="two sessions on one chair at once"):
        db.run(
            "INSERT INTO sessions SELECT site, 'x', number, phase, phase_number, day, starts,"
            " ends, status, chair, place, target, block, cpt, milestones, stamp FROM sessions"
            " WHERE course_id = 'c-1' AND number = 2"
        )
    db.rollback()
    assert store.overlaps() == []


def test_rows_written_together_are_seen_in_order_and_refused_as_one_change(
    store: BookStore,
) -> None:
    """Inside a transaction, PostgreSQL's engine sends the rows of ``run_many`` with the next
    statement that waits for the server (one round trip for a change's writes): what comes
    after sees them, and a refusal among them is raised by that statement or the commit,
    with nothing kept."""
    add(store, "c-1", "09:00")
    db, version, site = store._db, store.version(), store.site
    copy = (
        "INSERT INTO sessions SELECT site, ?, number, phase, phase_number, day, starts + ?,"
        " ends + ?, status, chair, place, target, block, cpt, milestones, stamp FROM sessions"
        " WHERE site = ? AND course_id = 'c-1' AND number = ?"
    )
    course = (
        "INSERT INTO courses SELECT site, ?, ?, own_calendar, protocol, protocol_name, follows,"
        " plan_start, first_day, last_day, progress, stamp FROM courses WHERE site = ? AND"
        " course_id = 'c-1'"
    )
    db.begin(write=True)
    db.run("UPDATE sites SET version = version + 1 WHERE site = ?", (store.site,))
    db.run_many(course, [("x", 98, site), ("y", 99, site)])
    db.run_many(copy, [("x", 120, 120, site, 3), ("y", 600, 600, site, 4)])  # hours later
    seen = "SELECT COUNT(*) FROM sessions WHERE site = ? AND course_id IN ('x', 'y')"
    assert db.run(seen, (site,)) == [(2,)]
    db.rollback()
    db.begin(write=True)
    db.run("UPDATE sites SET version = version + 1 WHERE site = ?", (store.site,))
    db.run_many(course, [("x", 98, site), ("y", 99, site)])

    def clash() -> None:  # x's session 2 at c-1's: refused by the commit at the latest
        db.run_many(copy, [("y", 600, 600, site, 4), ("x", 0, 0, site, 2)])
        db.run_many(copy, [("y", 720, 720, site, 5)])
        db.commit()

    with pytest.raises(BookingConflictError, match="two sessions on one chair at once"):
        clash()
    db.rollback()
    assert store.version() == version
    assert [line.course_id for line in store.courses()] == ["c-1"]
    db.begin(write=True)
    db.run_many(course, [("x", 98, site)])
    db.run_many(copy, [("x", 120, 120, site, 2)])
    db.commit()
    assert [line.course_id for line in store.courses()] == ["c-1", "x"]
    assert store.overlaps() == []


def test_an_overlap_written_past_every_guard_is_reported(tmp_path: Path) -> None:
    store = BookStore.create(tmp_path / "book.db", CLINIC)
    add(store, "c-1", "09:00")
    add(store, "c-2", "11:00")
    store.close()
    db = sqlite3.connect(tmp_path / "book.db")
    db.execute("DROP TRIGGER one_session_per_chair_on_update")
    db.execute(
        "UPDATE sessions SET starts = starts - 120, ends = ends - 120 WHERE course_id = 'c-2'"
        " AND number = 2"
    )
    db.commit()
    db.close()
    store = BookStore(tmp_path / "book.db")
    found = store.overlaps()
    assert found == [
        "2026-11-17: course c-1 session 2 and course c-2 session 2 overlap on chair c1"
    ]
    assert found[0] in store.check()
    store.close()


def test_a_circle_of_follows_in_the_rows_is_reported_and_leaves_other_feeds_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Feeds are grouped from the courses' rows: a row edited to follow itself (or round a
    circle) left those courses in no feed, said nowhere, and ``book check`` found nothing."""
    from tms_schedule.delivery.sources import BookSource

    store = BookStore.create(tmp_path / "book.db", CLINIC)
    for course_id, at in (("c-1", "09:00"), ("c-2", "11:00"), ("c-3", "13:00"), ("c-4", "15:00")):
        add(store, course_id, at)
    store.close()
    db = sqlite3.connect(tmp_path / "book.db")
    for course_id, follows in (("c-1", "c-1"), ("c-2", "c-3"), ("c-3", "c-2")):
        db.execute("UPDATE courses SET follows = ? WHERE course_id = ?", (follows, course_id))
    db.commit()
    db.close()
    with BookStore(tmp_path / "book.db") as store:
        found = store.check()
    for course_id in ("c-1", "c-2", "c-3"):
        assert f"course {course_id}: its row's follows does not match its document" in found
        assert f"course {course_id} follows itself, or a course that leads back to it" in " ".join(
            found
        )
    source = BookSource(tmp_path / "book.db")
    try:
        with caplog.at_level(logging.WARNING, logger="tms_schedule.feeds"):
            assert dict(source.versions()) == {"c-4": 1}
            assert source.feed("c-4") is not None
            source.versions()  # said once, not at every request
        said = [r.getMessage() for r in caplog.records]
        assert len(said) == 3 and all("left out of the feeds" in line for line in said), said
        with pytest.raises(FeedError, match="course c-1 follows itself"):
            source.check()  # a server refuses to start on it, as on a folder's bad file
    finally:
        source.close()


# -- schemas ---------------------------------------------------------------------------------------


def _schema_3(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    path.write_bytes(gzip.decompress((GOLDEN / "book-schema-3.db.gz").read_bytes()))
    return path


def test_a_book_of_schema_3_is_migrated_with_everything_it_held(tmp_path: Path) -> None:
    """The file was made by tms_schedule before schema 4 (its `book` commands: five
    courses, records, a re-plan, closures, an outage, an undone closure, a revoked feed)."""
    path = _schema_3(tmp_path)
    old = sqlite3.connect(path)
    seats = set(old.execute("SELECT course_id, session, chair FROM seats"))
    documents = dict(old.execute("SELECT course_id, document FROM courses"))
    offers = set(old.execute("SELECT key, document FROM offers"))
    old.close()
    store = BookStore(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    book = store.load()
    assert book.course_ids() == [
        "s3-standard-10hz",
        "s3-itbs",
        "s3-dash-10hz",
        "s3-deep",
        "s3-itbs-m",
    ]
    from tms_schedule.course.codec import course_from_json

    for booked in book.courses:
        assert booked.course.schedule == course_from_json(documents[booked.course_id]).schedule
    assert {(b.course_id, n, c) for b in book.courses for n, c in b.seats} == seats
    assert [(e.number, e.kind, e.undone) for e in book.events] == [
        (1, "closure", False),
        (2, "chair", False),
        (3, "outage", False),
        (4, "closure", True),
    ]
    assert store.feed_versions() == {"s3-itbs": (2, None, None)}
    assert {(o[0], o[1]) for o in store._db.run("SELECT key, document FROM offers")} == offers
    assert store.check() == []
    store.close()


def test_a_newer_book_is_refused_and_so_is_schema_0(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    BookStore.create(path, CLINIC).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA + 1}")
    db.commit()
    with pytest.raises(StoreError, match="written by a newer tms_schedule"):
        BookStore(path)
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema 0, which no tms_schedule writes"):
        BookStore(path)


def _app_id_only(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 1414353730")
    db.execute("PRAGMA user_version = 4")
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()


def _corrupt(path: Path) -> None:
    store = BookStore.create(path, CLINIC)
    for k in range(6):
        add(store, f"c-{k}", f"{8 + k:02}:00")
    store.close()
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 + 8 : page * 4096 + 40] = b"\xff" * 32  # interior pages' headers
    path.write_bytes(bytes(data))


def _tampered_state(path: Path) -> None:
    BookStore.create(path, CLINIC).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE sites SET state = '{\"clinic\": 1}'")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such book"),
        (lambda p: p.write_text("not a database"), "is not a book database"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)"), "is not a tms_schedule book"),
        (_app_id_only, "is not a tms_schedule book, or a damaged one"),
        (_corrupt, "is damaged|is not a book database"),
        (_tampered_state, "the book's state is damaged"),
    ],
)
def test_other_and_damaged_files_are_refused_by_name(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "book.db"
    make(path)  # type: ignore[operator]

    def use() -> None:
        with BookStore(path) as store:
            store.load()
            store.day_sheet(dt.date(2026, 11, 17))

    with pytest.raises(StoreError, match=message):
        use()


def test_the_command_line_says_each_damage_in_one_line(tmp_path: Path) -> None:
    for make in (_app_id_only, _corrupt, _tampered_state):
        path = tmp_path / f"{make.__name__}.db"
        make(path)
        done = subprocess.run(
            [sys.executable, "-m", "tms_schedule", "book", "day", str(path), "2026-11-17"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE sessions SET starts = 1129467269861280 WHERE number = 3",  # OSError (overflow)
        "UPDATE sessions SET number = 'x' WHERE number = 3",  # ValueError
        "UPDATE sites SET settings = 32851467635",  # bytes(n): a 32 GB allocation
        "INSERT INTO secrets VALUES ('default', 'desk cookies', 32851467635, '2026-11-13')",
        "UPDATE sessions SET phase = CAST(x'ff' AS TEXT) WHERE number = 3",  # not UTF-8
    ],
)
def test_a_row_edited_past_the_database_s_rules_is_the_store_s_error(
    tmp_path: Path, edit: str
) -> None:
    """Found by fuzzing the book's rows: each of these came out of the store as a Python
    error (and a number in the settings column allocated that many bytes)."""

    path = tmp_path / "book.db"
    with BookStore.create(path, CLINIC) as store:
        add(store, "c-1")
    db = sqlite3.connect(path)
    db.execute(edit)
    db.commit()
    db.close()

    def use() -> None:
        with BookStore(path) as store:
            store.settings()
            store.secret("desk cookies", now=NOW)
            store.courses()
            store.sessions(dt.date(2026, 11, 16), dt.date(2026, 12, 31))
            store.day_sheet(dt.date(2026, 11, 18))
            store.load()

    with pytest.raises(StoreError, match=r"book\.db: "):
        use()
    for command in (
        ["day", str(path), "2026-11-18"],
        ["check", str(path)],
        ["export", str(path), "c-1", "-o", str(tmp_path / "c-1.json")],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tms_schedule", "book", *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        said = done.stderr
        assert done.returncode in (0, 1, 2) and "Traceback" not in said, said
        assert done.returncode != 2 or said.count("\n") == 1, said


def test_a_bad_feeds_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    BookStore.create(path, CLINIC).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO feeds VALUES ('default', 'c-1', 'two', NULL, NULL)")
    db.commit()
    db.close()
    with BookStore(path) as store, pytest.raises(StoreError, match="feed 'c-1': version must be"):
        store.feed_versions()


def _as_nobody(argv: list[str]) -> tuple[int, str]:
    """Run the command line in a child process as the user ``nobody`` (the tests may run as
    root, who may write any file); its exit status and standard error."""
    import pwd

    from tms_schedule.cli import main

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            os.dup2(write, 2)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 (pytest captured the other)
            user = pwd.getpwnam("nobody")
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            status = main(argv)
            sys.stderr.flush()
        except BaseException:
            status = 99
        os._exit(status)
    os.close(write)
    with os.fdopen(read) as stream:
        err = stream.read()
    _, status = os.waitpid(child, 0)
    return os.waitstatus_to_exitcode(status), err


def test_a_book_this_user_may_not_write_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tms_schedule.cli import main

    path = tmp_path / "book.db"
    store = BookStore.create(path, CLINIC)
    add(store, "c-1")
    store.close()
    assert main(["book", "list", str(path)]) == 0  # every module loaded before the fork
    capsys.readouterr()
    argv = ["book", "record", str(path), "c-1", "1", "--cancelled"]
    if os.geteuid() == 0:
        for folder in (tmp_path, *tmp_path.parents):
            os.chmod(folder, os.stat(folder).st_mode | 0o005)  # nobody may read, not write
        os.chmod(path, 0o644)
        status, err = _as_nobody(argv)
    else:
        os.chmod(path, 0o444)
        os.chmod(tmp_path, 0o555)
        status = main(argv)
        err = capsys.readouterr().err
        os.chmod(tmp_path, 0o755)
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "cannot be written by this user" in err or "cannot be opened" in err, err


def test_a_book_on_a_network_file_system_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = tmp_path / "mountinfo"
    mounts.write_text(
        f"36 25 0:32 / {tmp_path} rw - nfs4 server:/export rw\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
    )
    import tms_schedule.book.store_sqlite as engine

    monkeypatch.setattr(engine, "_MOUNTINFO", mounts)
    assert network_file_system(tmp_path / "book.db") == "nfs4"
    with pytest.raises(
        StoreError, match=r"network file system \(nfs4\).*front desk in a browser.*postgresql://"
    ):
        BookStore.create(tmp_path / "book.db", CLINIC)
    assert not (tmp_path / "book.db").exists()


# -- copies ----------------------------------------------------------------------------------------


def test_a_backup_is_a_whole_book_with_the_books_permissions(tmp_path: Path) -> None:
    path = tmp_path / "book.db"
    store = BookStore.create(path, CLINIC)
    add(store, "c-1")
    os.chmod(path, 0o600)
    counts = store.backup(tmp_path / "copy.db")
    assert counts["courses"] == 1 and counts["sessions"] == 36
    assert os.stat(tmp_path / "copy.db").st_mode & 0o777 == 0o600
    with BookStore(tmp_path / "copy.db") as copy:
        assert copy.load() == store.load() and copy.digest() == store.digest()
    with pytest.raises(StoreError, match="exists already"):
        store.backup(tmp_path / "copy.db")
    for target in ("", ":memory:"):
        with pytest.raises(StoreError, match="backup: "):
            store.backup(target)
    store.close()


def test_a_book_moves_to_postgresql_and_back_unchanged(
    tmp_path: Path, postgres_address: str
) -> None:
    import postgres

    path = _schema_3(tmp_path)
    with BookStore(path) as store:
        store.set_patient(PatientDetails("s3-itbs", "A. Example"), now=NOW, actor="ann")
        there = postgres.fresh_site(postgres_address)
        counts = store.backup(there)
        assert counts["courses"] == 5 and counts["patients"] == 1
        mine = store.digest()
    with BookStore(there) as network:
        assert network.digest() == mine
        assert network.check() == []
        network.backup(tmp_path / "back.db")
    with BookStore(tmp_path / "back.db") as back:
        assert back.digest() == mine
        assert back.site == network.site  # the site's name goes along


# -- PostgreSQL: sites ------------------------------------------------------------------------


def test_sites_share_a_database_without_seeing_each_other(postgres_address: str) -> None:
    import postgres

    first, second = postgres.fresh_site(postgres_address), postgres.fresh_site(postgres_address)
    a, b = BookStore.create(first, CLINIC), BookStore.create(second, CLINIC)
    add(a, "c-1")
    add(b, "c-1")  # the same course id, the same chair and time: another clinic
    assert [x.course_id for x in a.courses()] == [x.course_id for x in b.courses()] == ["c-1"]
    with pytest.raises(StoreError, match="has a book for site"):
        BookStore.create(first, CLINIC)
    a.close()
    b.close()


def test_a_site_writer_never_waits_for_another_sites(postgres_address: str) -> None:
    import postgres

    first, second = postgres.fresh_site(postgres_address), postgres.fresh_site(postgres_address)
    BookStore.create(first, CLINIC).close()
    BookStore.create(second, CLINIC).close()
    a = BookStore(first)
    b = BookStore(second, timeout=1)
    same = BookStore(first, timeout=1)
    with a.change(since="2026-11-16", now=NOW, actor="long") as change:
        change.book = change.book.add(course(change.book, "a-1"))
        add(b, "b-1")  # the other site: not held up (its lock times out after 1 s)
        with pytest.raises(StoreError, match="busy"):
            add(same, "a-2")  # the same site waits, and gives up after its timeout
    assert [x.course_id for x in b.courses()] == ["b-1"]
    for store in (a, b, same):
        store.close()


def test_locations_name_their_site() -> None:
    assert Location.parse("postgresql://h/db").site == "default"
    assert Location.parse("postgresql://h/db", "north").site == "north"
    with pytest.raises(
        StoreError, match="site: 'north' given, but the address names the site 'south'"
    ):
        Location.parse("postgresql://h/db?site=south", "north")
    with pytest.raises(StoreError, match="site: 1 to 63 lowercase"):
        Location.parse("postgresql://h/db?site=North Side")


# -- terminals at once -----------------------------------------------------------------------------

_WORKER = """
import datetime as dt, sys, time, random
from tms_schedule import Course, Plan
from tms_schedule.errors import BookError, StoreError
from tms_schedule.book.store import BookStore
store = BookStore(sys.argv[1], timeout=60)
worker, seconds = int(sys.argv[2]), float(sys.argv[3])
now = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)
times = ["08:00", "08:40", "09:20", "10:00", "10:40", "11:20", "12:00", "13:00", "14:00"]
rng = random.Random(worker)
end = time.monotonic() + seconds
k = 0
while time.monotonic() < end:
    k += 1
    what = rng.choice(["book", "book", "record", "close", "undo"])
    try:
        if what == "book":
            course_id = f"w{worker}-{k}"
            at = rng.choice(times)
            window = store.window(since="2026-11-16")
            offers = window.offers("itbs", "2026-11-16", at, window=30, dates=5, count=1)
            with store.change(since=offers[0].start, now=now, actor=f"w{worker}", action="take") as change:
                print("in", flush=True)
                change.book = change.book.take(offers[0], course_id)
            print("booked", course_id, flush=True)
        elif what == "record":
            lines = store.courses()
            if lines:
                course_id = rng.choice(lines).course_id
                with store.change(courses=[course_id], now=now, actor=f"w{worker}", action="record") as change:
                    print("in", flush=True)
                    c = change.book.course(course_id)
                    n = rng.choice([s.number for s in c.schedule.sessions if s.status == "scheduled"])
                    change.book = change.book.update(c.cancelled(n, now=now))
                print("recorded", course_id, n, flush=True)
        elif what == "close":
            day = dt.date(2026, 11, 16) + dt.timedelta(days=rng.randrange(7, 30))
            with store.change(days=(day, day), events=True, now=now, actor=f"w{worker}", action="closure") as change:
                print("in", flush=True)
                change.book, report = change.book.enter_closure(day, reason="Closed", now=now)
            print("closed", day, flush=True)
        else:
            events = [e for e in store.events() if not e.undone]
            if events:
                e = rng.choice(events)
                with store.change(courses=[c for c, _ in e.revisions], events=True, now=now, actor=f"w{worker}", action="undo") as change:
                    print("in", flush=True)
                    change.book, _ = change.book.undo(e.number, now=now)
                print("undone", e.number, flush=True)
    except (BookError, StoreError) as error:
        print("refused", what, str(error).splitlines()[0][:80], flush=True)
store.close()
"""

LIMITED = (
    CLINIC
    + b"""[[staff_limits]]
sessions = 1
"""
)


def _workers(
    tmp_path: Path, location: str, count: int, seconds: float, first: int = 0
) -> list[subprocess.Popen[str]]:
    """``count`` terminals (numbered from ``first``: each its own random steps) working on
    the book for ``seconds``. Each prints "in" inside every transaction, and what it did
    once that committed."""
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    return [
        subprocess.Popen(
            [sys.executable, str(script), location, str(w), str(seconds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(first, first + count)
    ]


def test_terminals_at_once_lose_nothing_and_keep_every_rule(
    tmp_path: Path, book_location: str
) -> None:
    store = BookStore.create(book_location, LIMITED)
    target = store.location.target if store.location.engine == "sqlite" else book_location
    booked, recorded, outs = [], [], []
    for worker in _workers(tmp_path, target, 3, 8):
        out, err = worker.communicate(timeout=300)
        outs.append(out)
        assert worker.returncode == 0, err
        booked += [line.split()[1] for line in out.splitlines() if line.startswith("booked")]
        recorded += [line.split()[1:] for line in out.splitlines() if line.startswith("recorded")]
    lines = store.courses()
    assert sorted(line.course_id for line in lines) == sorted(booked)  # none lost
    assert len(booked) >= 2, outs
    book = store.load()
    for course_id, number in recorded:  # every record reported is there
        session = next(
            s for s in book.course(course_id).schedule.sessions if s.number == int(number)
        )
        assert session.status == "cancelled"
    assert store.check() == []  # no chair double-booked, the limit of one at once kept
    store.close()


def test_a_terminal_killed_mid_change_leaves_the_book_whole(
    tmp_path: Path, book_location: str
) -> None:
    store = BookStore.create(book_location, CLINIC)
    target = store.location.target if store.location.engine == "sqlite" else book_location
    rng = random.Random(15)
    committed: list[str] = []
    for turn in range(4):
        (worker,) = _workers(tmp_path, target, 1, 120, first=turn)
        assert worker.stdout is not None
        inside = rng.randint(1, 4)  # killed in its first to fourth transaction
        for line in worker.stdout:
            committed += line.split()[1:2] if line.startswith("booked") else []
            if line == "in\n":
                inside -= 1
                if not inside:
                    break
        # A random moment of that transaction: working out the change, writing, committing.
        time.sleep(rng.uniform(0, 0.08))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        rest = worker.stdout.read().splitlines()  # printed before the kill
        committed += [line.split()[1] for line in rest if line.startswith("booked")]
        worker.stdout.close()
        assert worker.stderr is not None
        worker.stderr.close()
        with BookStore(target, timeout=10) as after:
            assert after.check() == []  # whole: every row matches its course, no overlap
            kept = {line.course_id for line in after.courses()}
            assert set(committed) <= kept  # nothing committed was lost
            with after.change(now=NOW, actor="next", action="check") as change:
                change.detail = "the site is free for the next writer"  # no lock left behind
    store.close()
