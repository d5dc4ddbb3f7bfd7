"""The loaders under fuzzed input: clinic TOML, protocol TOML, course files of every
released format, schedule JSON, the book's database.

Each document starts from a real one and is changed a few places at a time (a value
replaced by any JSON or TOML value, a key dropped or added, a value moved elsewhere), and
course files are sealed again half of the time so that the checksum does not stop every
change at the door. Two rules hold for every input:

* a loader raises nothing but the library's own errors (never a ``KeyError``, a
  ``UnicodeEncodeError``, a ``RecursionError``...);
* what a loader accepts, the rest of the library accepts too: it is written back and read
  back the same, and exported (calendar file, schedule JSON) without error.

The budget is fixed (``max_examples``) so the suite's time stays bounded; the attack that
found the defects ran these same targets for tens of thousands of inputs.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import math
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule._toml import parse_toml
from tms_schedule.book.store import BookStore
from tms_schedule.catalogue import Catalogue, protocols_from_table
from tms_schedule.course.codec import (
    checksum,
    clinic_from_data,
    clinic_to_data,
    course_from_json,
    course_to_json,
    protocol_from_data,
    protocol_to_data,
)
from tms_schedule.errors import TmsScheduleError
from tms_schedule.export.json import schedule_from_json
from tms_schedule.settings import settings_from_bytes

RELEASED = Path(__file__).parent / "golden" / "courses"
STAMP = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
BUDGET = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- values ---------------------------------------------------------------------------------------

SPECIAL_TEXT = [
    "",
    " ",
    "2026-11-16",
    "2026-11-16T09:00:00-07:00",
    "2026-11-16T09:00:00",
    "9999-12-31",
    "0001-01-01",
    "08:00-18:00",
    "24:00-25:00",
    "Mon-Fri",
    "UTC",
    "localtime",
    "America/Denver",
    "acute",
    "Daily",
    "Periodic",
    "attended",
    "moved",
    "void",
    "clinic",
    "sha256:" + "0" * 64,
    "\udcff",
    "a\tb",
    "a\u2028b",
    "\x1b[31m",
    "x" * 300,
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, -1, 2, 36, 400, 401, 100_000, 10**20])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(SPECIAL_TEXT)
    | st.text(st.characters() | st.sampled_from(["\udcff", "\x00", "\n"]), max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(SPECIAL_TEXT), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@st.composite
def mutated(draw: st.DrawFn, document: Any, values: st.SearchStrategy[Any] = json_values) -> Any:
    """``document`` with one to three changes, each at a place drawn from all its places."""
    data = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["replace", "replace", "drop", "add", "move"]))
        if not path:
            if operation == "replace":
                return draw(values)
            continue
        parent, key = _at(data, path[:-1]), path[-1]
        if operation == "replace":
            parent[key] = draw(values)
        elif operation == "drop":
            del parent[key]
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | st.sampled_from(SPECIAL_TEXT))] = draw(values)
        elif operation == "add" and isinstance(parent, list):
            parent.insert(draw(st.integers(0, len(parent))), draw(values))
        elif operation == "move":
            parent[key] = copy.deepcopy(_at(data, draw(st.sampled_from(paths))))
    return data


def library_errors_only(load: Any, *args: Any) -> Any:
    """``load(*args)``, or ``None`` when it refused the input with the library's error."""
    try:
        return load(*args)
    except TmsScheduleError:
        return None


# -- course files -------------------------------------------------------------------------------

COURSES = [
    json.loads((RELEASED / name / file).read_text())
    for name in ("format-1-first", "format-1", "format-2")
    for file in ("c-1.json", "c-1-m.json")
]


@BUDGET
@given(st.data())
def test_a_fuzzed_course_file_is_refused_or_read_back_and_exported(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(COURSES))
    changed = data.draw(mutated(original))
    if isinstance(changed, dict) and data.draw(st.booleans()):
        with contextlib.suppress(TmsScheduleError):
            changed["checksum"] = checksum(changed)  # sealed again: past the checksum
    text = json.dumps(changed, allow_nan=True, ensure_ascii=data.draw(st.booleans()))
    course = library_errors_only(course_from_json, text)
    if course is None:
        return
    again = course_from_json(course_to_json(course))
    assert again == course
    course.schedule.to_ics(stamp=STAMP)
    assert schedule_from_json(course.schedule.to_json()) == course.schedule


@BUDGET
@given(st.binary(max_size=64), st.integers(0, 40_000), st.sampled_from(range(len(COURSES))))
def test_a_course_file_with_bytes_overwritten_is_refused_or_read_back(
    noise: bytes, offset: int, which: int
) -> None:
    raw = json.dumps(COURSES[which], indent=2).encode()
    offset %= len(raw)
    damaged = raw[:offset] + noise + raw[offset + len(noise) :]
    course = library_errors_only(course_from_json, damaged)
    if course is not None:
        assert course_from_json(course_to_json(course)) == course


# -- schedule JSON ------------------------------------------------------------------------------

SCHEDULES = [
    json.loads(
        Plan(p, ClinicCalendar("America/Denver", holidays="US-CO"), "2026-11-16", "08:00", "c-1")
        .expand()
        .to_json()
    )
    for p in ("standard-10hz", "snt", "maintenance")
]


@BUDGET
@given(st.data())
def test_a_fuzzed_schedule_json_is_refused_or_read_back_and_exported(data: st.DataObject) -> None:
    changed = data.draw(mutated(data.draw(st.sampled_from(SCHEDULES))))
    text = json.dumps(changed, allow_nan=True, ensure_ascii=data.draw(st.booleans()))
    schedule = library_errors_only(schedule_from_json, text)
    if schedule is None:
        return
    assert schedule_from_json(schedule.to_json()) == schedule
    schedule.to_ics(stamp=STAMP)
    schedule.to_csv()
    schedule.to_text()


# -- clinic and protocol TOML -------------------------------------------------------------------


def toml_value(value: Any) -> str:
    """A value written in TOML (inline tables and arrays; strings JSON-quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    return '""'  # None has no TOML form: an empty string in its place


def toml_document(data: dict[str, Any]) -> bytes:
    return "\n".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in data.items()).encode(
        "utf-8", "surrogatepass"
    )


toml_values = st.recursive(
    scalars.filter(lambda v: v is not None)
    | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    | st.sampled_from([dt.date(2026, 11, 26), dt.date(2026, 12, 24)]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(SPECIAL_TEXT), inner, max_size=3)
    ),
    max_leaves=6,
)

CLINIC = {
    "timezone": "America/Denver",
    "open_weekdays": "Mon-Fri",
    "hours": "08:00-18:00",
    "weekday_hours": {"Fri": "08:00-13:00"},
    "holidays": {
        "country": "US",
        "subdivision": "CO",
        "open_on": ["Veterans Day"],
        "observed": True,
    },
    "closures": [
        {"date": dt.date(2026, 12, 24), "reason": "Staff training"},
        {"from": dt.date(2026, 12, 28), "to": dt.date(2026, 12, 31), "reason": "Winter break"},
    ],
    "extra_open_days": [{"date": dt.date(2026, 12, 5), "hours": "09:00-13:00", "reason": "Makeup"}],
    "calendar": {
        "clinic_name": "Example Clinic",
        "location": "1 Main St",
        "phone": "+1 303 555 0100",
        "reminders": ["1d", "1h"],
        "uid_key": "a clinic secret of 16+ characters",
        "refresh_hours": 12,
    },
    "protocol": [
        {"id": "clinic-10hz", "base": "standard-10hz", "acute_sessions": 24, "name": "Ours"},
        {
            "id": "own",
            "name": "Own protocol",
            "session_minutes": 30,
            "phases": [
                {"type": "daily", "sessions": 10},
                {"type": "taper", "per_week": [2, 1]},
                {"type": "accelerated", "per_day": 3, "days": 2, "interval_minutes": 50},
                {"type": "periodic", "every_weeks": 4, "occurrences": 2},
            ],
        },
    ],
    "chairs": [
        {"id": "c1", "label": "Chair 1", "runs": ["figure-8"], "turnover_minutes": 5},
        {"id": "deep", "runs": ["h1"], "closures": [{"date": dt.date(2026, 12, 7)}]},
    ],
    "staff_limits": [{"sessions": 2, "hours": "07:00-09:00", "weekdays": "Mon-Fri"}],
}


def test_the_clinic_document_the_fuzzing_starts_from_is_accepted() -> None:
    settings_read = settings_from_bytes(toml_document(CLINIC), "clinic.toml")
    assert settings_read.catalogue.get("own").phases and len(settings_read.chairs) == 2


@BUDGET
@given(st.data())
def test_a_fuzzed_clinic_file_is_refused_or_usable_everywhere(data: st.DataObject) -> None:
    changed = data.draw(mutated(CLINIC, toml_values))
    document = (
        toml_document(changed)
        if isinstance(changed, dict)
        else b"x = " + toml_value(changed).encode("utf-8", "surrogatepass")
    )
    read = library_errors_only(settings_from_bytes, document, "clinic.toml")
    if read is None:
        return
    # What the clinic file gives, a course file keeps and reads back.
    calendar = read.calendar
    assert clinic_from_data(json.loads(json.dumps(clinic_to_data(calendar)))) == calendar
    for protocol in read.catalogue:
        assert protocol_from_data(json.loads(json.dumps(protocol_to_data(protocol)))) == protocol
    for protocol_id in ("clinic-10hz", "own", "itbs"):
        if protocol_id in read.catalogue:
            plan = library_errors_only(
                Plan,
                protocol_id if protocol_id == "itbs" else read.catalogue.get(protocol_id),
                calendar,
                "2026-11-16",
                "09:00",
                "c-1",
            )
            schedule = library_errors_only(plan.expand) if plan is not None else None
            if schedule is not None:
                schedule.to_ics(options=read.calendar_options, stamp=STAMP)


@BUDGET
@given(st.data())
def test_fuzzed_protocol_tables_are_refused_or_planned(data: st.DataObject) -> None:
    changed = data.draw(mutated({"protocol": CLINIC["protocol"]}, toml_values))
    if not isinstance(changed, dict):
        return
    table = library_errors_only(parse_toml, toml_document(changed), "protocols.toml")
    if table is None:
        return
    protocols = library_errors_only(protocols_from_table, table, Catalogue())
    for protocol in protocols or ():
        assert protocol_from_data(json.loads(json.dumps(protocol_to_data(protocol)))) == protocol
        plan = Plan(protocol, ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1")
        library_errors_only(plan.expand)


def test_a_schedule_json_without_a_target_reads_back_without_one() -> None:
    """Found by the fuzzer: the writer put a target worked out from the sessions into a
    schedule that had none, so it read back as another schedule."""
    data = copy.deepcopy(SCHEDULES[2])
    del data["target"]
    schedule = schedule_from_json(json.dumps(data))
    assert schedule.target is None
    assert "target" not in json.loads(schedule.to_json())
    assert schedule_from_json(schedule.to_json()) == schedule


# -- the book's database ------------------------------------------------------------------------

BOOK_CLINIC = b"""timezone = "America/Denver"
[holidays]
country = "US-CO"
[[chairs]]
id = "c1"
[[chairs]]
id = "c2"
"""
BOOK_NOW = dt.datetime(2026, 11, 13, 18, tzinfo=dt.UTC)
FIRST_DAY = dt.date(2026, 11, 16)


@functools.cache
def book_bytes() -> bytes:
    """A small book as the store writes it: two courses (the second follows the first), a
    closure, a revoked feed, a patient's details, a waiting entry and a user."""
    from tms_schedule.book.office import PatientDetails, User, WaitingEntry

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        with BookStore.create(path, BOOK_CLINIC) as store:
            with store.change(whole=True, now=BOOK_NOW, actor="test") as change:
                first = Course.start(
                    Plan("standard-10hz", change.book.clinic, FIRST_DAY, "09:00", "c-1")
                )
                change.book = change.book.add(first)
                change.book = change.book.add(
                    Course.start(
                        Plan("maintenance", change.book.clinic, "2027-01-04", "10:00", "c-2"),
                        follows="c-1",
                    )
                )
            with store.change(whole=True, events=True, now=BOOK_NOW, actor="test") as change:
                change.book, _ = change.book.enter_closure(
                    "2026-11-18", reason="Snow", now=BOOK_NOW
                )
            store.revoke_feed("c-1", now=BOOK_NOW, actor="test")
            store.secret("desk cookies", now=BOOK_NOW)
            store.set_patient(
                PatientDetails("c-1", "Ann Example", "555 0100"), now=BOOK_NOW, actor="t"
            )
            store.add_user(
                User("ana", "front-desk", "$argon2id$x", BOOK_NOW.isoformat()),
                now=BOOK_NOW,
                actor="t",
            )
            store.add_waiting(
                WaitingEntry(
                    0, "Bo", None, "itbs", "2026-11-16", None, 0, "", BOOK_NOW.isoformat()
                ),
                now=BOOK_NOW,
                actor="t",
            )
        return path.read_bytes()


def use_book(path: Path) -> None:
    """What the commands, the desk and the feed server read of a book; when the store finds
    nothing wrong with it, every feed it lists is served."""
    from tms_schedule.delivery.sources import BookSource

    with BookStore(path) as store:
        store.version()
        store.settings()
        store.courses()
        store.sessions(FIRST_DAY, FIRST_DAY + dt.timedelta(days=60))
        store.day_sheet(FIRST_DAY + dt.timedelta(days=1))
        store.events()
        store.audit()
        store.waiting()
        store.users()
        store.patient("c-1")
        store.feed_versions()
        store.secret("desk cookies", now=BOOK_NOW)
        groups = store.feed_groups()
        store.load()
        sound = not store.check()
    source = BookSource(path)
    try:
        versions = source.versions()
        if sound:
            assert set(versions) == set(groups)
            for feed_id in groups:
                assert source.feed(feed_id) is not None, feed_id
    finally:
        source.close()


BOOK_TABLES = (
    "sites",
    "courses",
    "documents",
    "sessions",
    "events",
    "feeds",
    "patients",
    "users",
    "secrets",
)
sql_values = (
    st.none()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.sampled_from(SPECIAL_TEXT)
    | st.text(max_size=12)
    | st.binary(max_size=12)
    | st.sampled_from(["{}", "[]", '{"clinic": 1}', "c-1", "c-2", "c1", "scheduled", "attended"])
)


@settings(BUDGET, max_examples=60)
@given(st.data())
def test_a_book_with_fuzzed_rows_is_refused_or_read_and_served(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        path.write_bytes(book_bytes())
        db = sqlite3.connect(path)
        try:
            for _ in range(data.draw(st.integers(1, 3))):
                table = data.draw(st.sampled_from(BOOK_TABLES))
                columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                rowids = [row[0] for row in db.execute(f"SELECT rowid FROM {table}")]
                if not rowids:
                    continue
                rowid = data.draw(st.sampled_from(rowids))
                if data.draw(st.integers(0, 9)) == 0:
                    db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
                else:
                    column = data.draw(st.sampled_from(columns))
                    value = data.draw(sql_values)
                    db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
            db.commit()
        except (sqlite3.DatabaseError, UnicodeEncodeError):
            return  # the database's own rules refused the edit (or SQLite holds no such text)
        finally:
            db.close()
        library_errors_only(use_book, path)


@settings(BUDGET, max_examples=60)
@given(st.binary(min_size=1, max_size=64), st.integers(0, 10**6))
def test_a_book_with_bytes_overwritten_is_refused_or_read_and_served(
    noise: bytes, offset: int
) -> None:
    raw = book_bytes()
    offset %= len(raw)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        path.write_bytes(raw[:offset] + noise + raw[offset + len(noise) :])
        library_errors_only(use_book, path)
