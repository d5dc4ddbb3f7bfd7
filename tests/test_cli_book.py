"""``tms-schedule book``: the front desk's day on the clinic's book."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tms_schedule import Course, Plan
from tms_schedule.book.store import BookStore
from tms_schedule.cli import main
from tms_schedule.errors import BookingConflictError

CLINIC = """timezone = "America/Denver"
[holidays]
country = "US-CO"
[calendar]
clinic_name = "Example Clinic"
uid_key = "a long clinic secret, not shared"
[[chairs]]
id = "c1"
label = "Chair 1"
[[chairs]]
id = "c2"
label = "Chair 2"
[[chairs]]
id = "deep"
label = "Deep TMS room"
runs = ["h1", "h7"]
"""


#: Now, for the command line in these tests: a Friday before the courses below start.
NOW = dt.datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("America/Denver"))


class Clock:
    """The command line's clock, set by a test."""

    def __init__(self) -> None:
        self.now = NOW


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("tms_schedule.cli.book._clock", lambda: clock.now)
    return clock


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(CLINIC, encoding="utf-8")
    path = str(tmp_path / "book.db")
    status, out, err = run(capsys, "book", "init", path, "--clinic", str(clinic))
    assert status == 0, err
    assert out == (
        f"Made the book {path}: 3 chairs: Chair 1 (figure-8), Chair 2 (figure-8),"
        " Deep TMS room (h1, h7)\n"
    )
    return path


def offers(
    capsys: pytest.CaptureFixture[str],
    db: str,
    protocol: str,
    *extra: str,
    start: str = "2026-11-30",
) -> list[str]:
    status, out, err = run(capsys, "book", "offer", db, protocol, "--start", start, *extra)
    assert status == 0, err
    return [line.split()[1] for line in out.splitlines() if line.startswith("  ")]


def take_snt(capsys: pytest.CaptureFixture[str], db: str) -> None:
    """Book course s-1 of SNT at 08:00 through the first offer: its five block days."""
    status, _, err = run(
        capsys,
        "book",
        "take",
        db,
        offers(capsys, db, "snt", "--at", "08:00")[0],
        "--course-id",
        "s-1",
    )
    assert status == 0, err


def test_a_front_desk_books_two_courses_and_a_snow_day(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "book", "offer", db, "standard-10hz", "--start", "2026-11-30")
    lines = out.splitlines()
    assert (
        lines[0]
        == "Offers for standard-10hz from Mon 30 Nov 2026 at 09:00 (give or take 60 minutes):"
    )
    assert lines[1].endswith(
        "from Mon 30 Nov 2026 at 09:00 on Chair 1, 36 sessions to Mon 25 Jan 2027: as asked"
    )
    key = lines[1].split()[1]
    assert run(capsys, "book", "take", db, key, "--course-id", "c-1")[1] == (
        "Booked course c-1: 36 sessions (Mon 30 Nov 2026 to Mon 25 Jan 2027) on Chair 1\n"
    )
    # The same offer again: its chair is taken now.
    status, _, err = run(capsys, "book", "take", db, key, "--course-id", "c-2")
    assert status == 2 and f"offer {key}: the book changed since it was made" in err
    key = offers(capsys, db, "standard-10hz")[0]
    assert "on Chair 2" in run(capsys, "book", "take", db, key, "--course-id", "c-2")[1]
    key = offers(capsys, db, "deep-tms-h7-ocd")[0]
    assert "on Deep TMS room" in run(capsys, "book", "take", db, key, "--course-id", "ocd-1")[1]
    listed = run(capsys, "book", "list", db)[1].splitlines()
    assert [line.split()[0] for line in listed] == ["c-1", "c-2", "ocd-1"]
    # A snow day: every course that day moves, and each patient's new file is written.
    folder = tmp_path / "calendars"
    folder.mkdir()
    status, out, err = run(
        capsys,
        "book",
        "close",
        db,
        "2026-12-02",
        "--reason",
        "Snow day",
        "--calendars",
        str(folder),
    )
    assert status == 0, err
    assert out.startswith("Event 1: Snow day: 2026-12-02, every chair\nCourse c-1:\n")
    assert "Course ocd-1:" in out and "3 course(s) changed" in out
    assert sorted(p.name for p in folder.iterdir()) == ["c-1.ics", "c-2.ics", "ocd-1.ics"]
    assert run(capsys, "book", "events", db)[1] == (
        "1. Snow day: 2026-12-02, every chair; re-planned 3 courses\n"
    )
    status, out, _ = run(capsys, "book", "undo", db, "1")
    assert status == 0 and out.startswith("Event 1: Undone: Snow day")
    assert "(undone)" in run(capsys, "book", "events", db)[1]
    book = BookStore(db).load()
    assert book.check() == [] and not book.clinic.closures


def test_records_and_replans_go_through_the_book(
    db: str, capsys: pytest.CaptureFixture[str], clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 10, 30, 12, tzinfo=NOW.tzinfo)
    key = offers(capsys, db, "itbs", "--at", "10:00", start="2026-11-02")[0]
    run(capsys, "book", "take", db, key, "--course-id", "c-1")
    clock.now = NOW  # four weeks on
    status, out, err = run(capsys, "book", "record", db, "c-1", "1", "--attended")
    assert status == 0, err
    assert out == "Course c-1 session 1: attended (record 1, saved)\n"
    status, out, _ = run(capsys, "book", "record", db, "c-1", "2", "--missed", "--cause", "patient")
    assert out.splitlines()[1] == f"Re-plan to make it up: tms-schedule book replan {db} c-1"
    status, out, _ = run(capsys, "book", "replan", db, "c-1", "--from", "2026-11-10")
    assert status == 0
    assert out.splitlines()[0] == "Course c-1, revision 1:"
    assert "Session 31 added" in out
    assert run(capsys, "book", "replan", db, "c-1", "--from", "2026-11-10")[1].startswith(
        "Nothing to change"
    )
    status, out, _ = run(capsys, "book", "void", db, "c-1", "2", "--reason", "came after all")
    assert status == 0


def test_export_and_import_move_courses_between_the_book_and_files(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = offers(capsys, db, "itbs")[0]
    run(capsys, "book", "take", db, key, "--course-id", "c-1")
    course_file = tmp_path / "c-1.json"
    assert run(capsys, "book", "export", db, "c-1", "-o", str(course_file))[0] == 0
    ics = tmp_path / "c-1.ics"
    status, out, _ = run(
        capsys, "book", "export", db, "c-1", "-o", str(ics), "--stamp", "2026-11-20T08:00:00Z"
    )
    assert out == f"Wrote 30 sessions (Mon 30 Nov 2026 to Tue 12 Jan 2027) to {ics}\n"
    assert "Appointment — Example Clinic" in ics.read_text(encoding="utf-8")
    # The course file's UIDs are the book's: the course keeps the clinic's key.
    other = tmp_path / "other.db"
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(CLINIC, encoding="utf-8")
    run(capsys, "book", "init", str(other), "--clinic", str(clinic))
    status, out, err = run(capsys, "book", "import", str(other), str(course_file))
    assert status == 0, err
    assert out == "Added course c-1: 30 sessions (Mon 30 Nov 2026 to Tue 12 Jan 2027) on Chair 1\n"
    status, _, err = run(capsys, "book", "import", str(other), str(course_file))
    assert status == 2 and "course c-1 is in the book already" in err
    copy = tmp_path / "copy.db"
    assert run(capsys, "book", "backup", db, str(copy))[1] == (
        f"Copied the book to {copy}: 1 course, 30 sessions, 0 events (every table's rows"
        " counted and checksummed on both sides)\n"
    )


def test_the_day_sheet_usage_and_room_views_print_and_write(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "c-1")
    run(capsys, "book", "take", db, offers(capsys, db, "snt")[0], "--course-id", "s-1")
    book = BookStore(db).load()
    status, out, err = run(capsys, "book", "day", db, "2026-12-01")
    assert status == 0, err
    assert out == book.day_sheet("2026-12-01").to_text()
    assert "08:50-18:00  s-1 keeps the chair from first to last session" in out
    status, out, _ = run(capsys, "book", "day", db, "2026-12-01", "--format", "csv")
    assert out == book.day_sheet("2026-12-01").to_csv() and out.count("\r\n") == 12
    page = tmp_path / "sheet.html"
    status, out, _ = run(capsys, "book", "day", db, "2026-12-01", "-o", str(page))
    assert out == f"Wrote the day sheet of Tue 1 Dec 2026 to {page}\n"
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Example Clinic" in html
    status, out, _ = run(capsys, "book", "usage", db, "--from", "2026-11-30", "--to", "2026-12-13")
    assert out == book.usage("2026-11-30", "2026-12-13").to_text()
    status, out, _ = run(
        capsys,
        "book",
        "usage",
        db,
        "--from",
        "2026-11-30",
        "--to",
        "2026-12-13",
        "--format",
        "csv",
        "--by",
        "week",
    )
    assert out == book.usage("2026-11-30", "2026-12-13").to_csv(by="week")
    heat = tmp_path / "usage.html"
    args = ("usage", db, "--from", "2026-11-30", "--to", "2026-12-13", "-o", str(heat))
    assert run(capsys, "book", *args)[0] == 0
    assert "<svg" in heat.read_text(encoding="utf-8")
    status, out, _ = run(
        capsys, "book", "room", db, "itbs", "--on", "2026-12-07", "--from", "09:00", "--to", "10:00"
    )
    assert status == 0
    assert out == book.room_for("itbs", "2026-12-07", "09:00", "10:00").to_text(book.chair_names())
    assert out.startswith("2 more courses of itbs can start on Mon 7 Dec 2026")
    assert "09:00 on Chair 2" in out and "09:50 on Chair 1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["day", "{db}", "2026-13-01"], "DATE: must be a date written YYYY-MM-DD"),
        (["day", "{db}", "20261201"], "DATE: must be a date written YYYY-MM-DD"),
        (["day", "{db}", "2026-12-01", "-o", "{db}"], "is the book's own file"),
        (["day", "{db}", "2026-12-01", "--wait", "nan"], "--wait: must be a number of seconds"),
        (["day", "{db}", "2026-12-01", "--wait", "-1"], "--wait: must be a number of seconds"),
        (["offer", "{db}", "itbs", "--start", "2026-11-30", "--at", "9:5"], "--at: must be"),
        (["offer", "{db}", "itbs", "--start", "2026-11-30", "--step", "1"], "--step: must be"),
        (["close", "{db}", "2026-12-05..2026-12-01", "--reason", "x"], "DATE: the last day"),
        (["close", "{db}", "2026-12-01", "--reason", " "], "--reason: must not be empty"),
        (["close", "{db}", "2026-12-01", "--reason", "x", "--hours", "14:00-12:00"], "--hours: "),
        (
            ["close", "{db}", "2026-12-01", "--reason", "x", "--calendars", "{tmp}/none"],
            "--calendars: ",
        ),
        (["take", "{db}", "deadbeef", "--course-id", "c-1", "--follows", "c-9"], "no offer"),
        (["day", "{db}", "2026-12-01", "-o", "{tmp}/sheet.ics"], "written as text (.txt), csv"),
        (
            ["day", "{db}", "2026-12-01", "-o", "{tmp}/sheet.pdf"],
            "has the suffix '.pdf'; this view",
        ),
        (["usage", "{db}", "--from", "2026-12-13", "--to", "2026-11-30"], "--to: must be on or"),
        (
            ["usage", "{db}", "--from", "2026-11-30", "--to", "2027-12-02"],
            "at most 366 days after --from, got 367 days after",
        ),
        (["usage", "{db}", "--from", "2026-12-01", "--to", "2026-12-02", "--slot", "45"], "--slot"),
        (["room", "{db}", "itbs", "--on", "2026-12-07", "--from", "9", "--to", "10:00"], "--from:"),
        (
            ["room", "{db}", "itbs", "--on", "2026-12-07", "--from", "10:00", "--to", "09:00"],
            "--to: must be at or after --from (10:00)",
        ),
        (
            [
                "room",
                "{db}",
                "itbs",
                "--on",
                "2026-12-07",
                "--from",
                "9:00",
                "--to",
                "10:00",
                "--limit",
                "0",
            ],
            "--limit: must be a whole number from 1 to 200",
        ),
        (["offer", "{db}", "standard-10hz"], "the following arguments are required: --start"),
        (["offer", "{db}", "tms-nine", "--start", "2026-11-30"], "unknown protocol 'tms-nine'"),
        (
            ["offer", "{db}", "itbs", "--start", "2026-11-30", "--window", "500"],
            "--window: must be",
        ),
        (["offer", "{db}", "itbs", "--start", "2026-11-30", "--chair", "c9"], "no chair 'c9'"),
        (
            ["offer", "{db}", "itbs", "--start", "2025-11-30"],
            "--start: 2025-11-30 is before today (2026-11-27); a course cannot start in the past",
        ),
        (["take", "{db}", "deadbeef", "--course-id", "c-1"], "no offer 'deadbeef'"),
        (["record", "{db}", "c-9", "1", "--attended"], "no course 'c-9' in the book"),
        (["close", "{db}", "2026-13-01", "--reason", "x"], "DATE: "),
        (["close", "{db}", "2026-12-01", "--reason", "x", "--chair", "c9"], "no chair 'c9'"),
        (["undo", "{db}", "4"], "no event 4"),
        (["list", "{missing}"], "no such book"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = Path(db).read_bytes()
    argv = [
        a.replace("{db}", db)
        .replace("{missing}", str(tmp_path / "none.db"))
        .replace("{tmp}", str(tmp_path))
        for a in argv
    ]
    status, _, err = run(capsys, "book", *argv)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1
    assert Path(db).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.db", "clinic.toml"]


def test_terminals_recording_at_once_all_save(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    courses = []
    for at in ("08:00", "09:00", "10:00", "11:00"):
        key = offers(capsys, db, "itbs", "--at", at, "--window", "0")[0]
        course_id = f"c-{at[:2]}"
        run(capsys, "book", "take", db, key, "--course-id", course_id)
        courses.append(course_id)
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tms_schedule",
                "book",
                "record",
                db,
                course_id,
                str(n),
                "--cancelled",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for course_id in courses
        for n in (20, 21, 22)
    ]
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    book = BookStore(db).load()
    for course_id in courses:
        assert len(book.course(course_id).records) == 3


def test_a_closure_with_a_calendars_folder_that_is_not_one_changes_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "c-1")
    before = Path(db).read_bytes()
    status, out, err = run(
        capsys, "book", "close", db, "2026-12-02", "--reason", "Snow day", "--calendars", db
    )
    assert (status, out) == (2, "")
    assert "--calendars: " in err and "is not a folder" in err
    assert Path(db).read_bytes() == before
    assert run(capsys, "book", "events", db)[1] == "No clinic-wide closure or outage entered yet.\n"


def test_undo_takes_events_back_newest_first(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Two snow days re-plan one course twice: taking the first back alone would leave the
    second's moves scrambled, so it is refused with the order that works."""
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "c-1")
    start = BookStore(db).load().course("c-1").schedule
    for day, reason in (("2026-12-02", "Snow A"), ("2026-12-03", "Snow B")):
        assert (
            run(capsys, "book", "close", db, day, "--reason", reason, "--from", "2026-11-29")[0]
            == 0
        )
    status, _, err = run(capsys, "book", "undo", db, "1", "--from", "2026-11-29")
    assert status == 2
    assert "undo 2 first (newest first), then 1, and enter the later ones again" in err
    assert run(capsys, "book", "undo", db, "2", "--from", "2026-11-29")[0] == 0
    assert run(capsys, "book", "undo", db, "1", "--from", "2026-11-29")[0] == 0
    book = BookStore(db).load()
    after = book.course("c-1").schedule
    assert [(s.number, s.start, s.status) for s in after] == [
        (s.number, s.start, s.status) for s in start
    ]
    assert book.check() == []


def test_a_maintenance_course_that_follows_runs_on_its_acute_course_s_equipment(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The maintenance protocols name no coil: following a figure-8 course, a cluster is
    never offered the deep TMS room, even when the figure-8 chairs are busier."""
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "a-1")
    for n in (1, 2):  # both figure-8 chairs busy at 09:00 on the cluster days
        key = offers(capsys, db, "itbs", "--at", "09:00", "--window", "0", start="2027-02-01")[0]
        run(capsys, "book", "take", db, key, "--course-id", f"busy-{n}")
    free = offers(capsys, db, "cluster-maintenance", "--window", "0", start="2027-02-01")
    status, out, _ = run(
        capsys,
        "book",
        "offer",
        db,
        "cluster-maintenance",
        "--start",
        "2027-02-01",
        "--window",
        "0",
        "--count",
        "1",
    )
    assert "on Deep TMS room" in out and free  # without --follows any chair will do
    key = offers(
        capsys, db, "cluster-maintenance", "--follows", "a-1", "--window", "120", start="2027-02-01"
    )[0]
    status, out, err = run(
        capsys, "book", "take", db, key, "--course-id", "m-1", "--follows", "a-1"
    )
    assert status == 0, err
    book = BookStore(db).load()
    course = book.course("m-1")
    assert (course.follows, course.relation) == ("a-1", "maintenance")
    assert course.plan.protocol.requires == {"figure-8"}
    assert "deep" not in set(book.seats("m-1").values())
    assert book.check() == []


@pytest.mark.parametrize("command", ["book", "course", "feed"])
def test_command_group_help_fits_80_columns(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    try:
        status = main([command, "--help"])
    except SystemExit as stop:
        status = stop.code
    out = capsys.readouterr().out
    assert status == 0 and "ACTION" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_closure_entered_twice_or_over_attended_sessions_is_refused(
    db: str, capsys: pytest.CaptureFixture[str], clock: Clock
) -> None:
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "c-1")
    close = ("book", "close", db, "2026-12-10", "--reason", "Snow day")
    assert run(capsys, *close)[0] == 0
    status, out, err = run(capsys, *close)
    assert (status, out) == (2, "")
    assert err == (
        "tms-schedule: error: DATE: Snow day: 2026-12-10, every chair overlaps event 1 (Snow"
        " day: 2026-12-10, every chair), entered already; nothing changed (to change it, undo"
        " event 1 and enter it again)\n"
    )
    clock.now = dt.datetime(2026, 12, 1, 18, tzinfo=NOW.tzinfo)
    assert run(capsys, "book", "record", db, "c-1", "2", "--attended")[0] == 0
    close = ("book", "close", db, "2026-12-01", "--reason", "Typo")
    status, _, err = run(capsys, *close)
    assert status == 2 and "covers sessions recorded attended (course c-1 session 2)" in err
    status, out, err = run(capsys, *close, "--force")
    assert status == 0, err
    assert out.startswith("Event 2: Typo: 2026-12-01, every chair\nNo course has a session")
    assert BookStore(db).course("c-1").records[0].kind == "attended"


def test_a_closure_that_would_break_an_accelerated_block_asks_for_the_clinician_s_choice(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    take_snt(capsys, db)
    days = sorted({s.date for s in BookStore(db).course("s-1").schedule})
    close = ("book", "close", db, days[2].isoformat(), "--reason", "Snow day")
    status, out, err = run(capsys, *close)
    assert (status, out) == (2, "")
    assert err.startswith(
        "tms-schedule: error: --block: course s-1: the re-plan would break the accelerated"
        " phase's consecutive days ("
    )
    assert "choose 'continue'" in err and "or 'restart'" in err
    assert BookStore(db).events() == ()  # nothing entered
    status, out, err = run(capsys, *close, "--block", "restart")
    assert status == 0, err
    after = sorted({s.date for s in BookStore(db).course("s-1").schedule.active_sessions()})
    assert len(after) == 5 and after[-1] - after[0] == dt.timedelta(days=4)


def test_whole_course_actions_end_move_and_authorize_go_through_the_book(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for course_id, at in (("c-1", "09:00"), ("c-2", "10:00")):
        key = offers(capsys, db, "standard-10hz", "--at", at, "--window", "0")[0]
        run(capsys, "book", "take", db, key, "--course-id", course_id)
    # A new regular time from a date on, on a chair free then.
    status, out, err = run(
        capsys, "book", "move", db, "c-1", "--from", "2026-12-14", "--at", "17:00"
    )
    assert status == 0, err
    assert out == (
        "Course c-1: from Mon 14 Dec 2026 at 17:00 on Chair 1, 26 sessions to Mon 25 Jan 2027:"
        " as asked\nTell the patient; their new calendar file: tms-schedule book"
        " export\n"
    )
    status, _, err = run(capsys, "book", "move", db, "c-2", "--from", "2026-12-14", "--at", "17:00")
    assert status == 0, err  # on Chair 2
    status, _, err = run(capsys, "book", "move", db, "c-1", "--from", "2026-12-14", "--at", "99")
    assert status == 2 and "--at: " in err
    # The insurance authorization, set and checked in the book.
    status, out, err = run(
        capsys,
        "book",
        "authorize",
        db,
        "c-1",
        "--sessions",
        "30",
        "--from",
        "2026-11-30",
        "--until",
        "2027-01-31",
    )
    assert (status, out) == (0, "Authorization: 30 sessions until 2027-01-31 (saved)\n"), err
    status, out, _ = run(capsys, "book", "check", db, "c-1")
    assert status == 1 and "Session 31 on Wed 13 Jan 2027 17:00 is beyond the approved count" in out
    assert run(capsys, "book", "authorize", db, "c-1", "--extend", "6")[0] == 0
    assert run(capsys, "book", "check", db, "c-1")[0] == 0
    # An early end: the chairs are free for another course.
    status, out, err = run(
        capsys, "book", "end", db, "c-2", "--reason", "moved away", "--from", "2026-12-07"
    )
    assert (status, err) == (0, "")
    assert out == (
        "Course c-2 ended (moved away): 31 sessions from Mon 7 Dec 2026 cancelled, their chairs"
        " free (saved)\n"
    )
    book = BookStore(db).load()
    assert book.course("c-2").ended is not None and book.check() == []
    assert run(capsys, "book", "end", db, "c-2", "--reason", "again")[0] == 2


def test_a_rescue_in_the_book_supersedes_maintenance_which_resumes_after(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "book", "take", db, offers(capsys, db, "standard-10hz")[0], "--course-id", "a-1")
    key = offers(capsys, db, "maintenance", "--follows", "a-1", start="2027-02-01")[0]
    assert run(capsys, "book", "take", db, key, "--course-id", "m-1", "--follows", "a-1")[0] == 0
    status, _, err = run(
        capsys, "book", "offer", db, "itbs", "--start", "2027-01-04", "--follows", "a-1"
    )
    assert status == 2 and "--start: course a-1 runs until 2027-01-25" in err
    rescue = offers(
        capsys, db, "itbs", "--follows", "m-1", "--relation", "rescue", start="2027-04-05"
    )[0]
    status, out, err = run(
        capsys,
        "book",
        "take",
        db,
        rescue,
        "--course-id",
        "r-1",
        "--follows",
        "m-1",
        "--relation",
        "rescue",
    )
    assert status == 0, err
    assert out.startswith("Course m-1: 5 boosters from 2027-04-05 cancelled (superseded by r-1)")
    status, out, err = run(
        capsys,
        "book",
        "offer",
        db,
        "maintenance",
        "--start",
        "2027-05-24",
        "--follows",
        "r-1",
        "--resume",
        "--count",
        "1",
    )
    assert status == 0, err
    key = out.splitlines()[1].split()[1]
    assert run(capsys, "book", "take", db, key, "--course-id", "m-2", "--follows", "r-1")[0] == 0
    book = BookStore(db).load()
    assert len(book.course("m-2").schedule.active_sessions()) == 5
    assert book.linked("a-1") == ["a-1", "m-1", "r-1", "m-2"] and book.check() == []


@pytest.mark.skipif(sys.platform == "win32", reason="Ctrl-C is SIGINT on POSIX")
def test_ctrl_c_at_any_moment_of_a_closure_says_one_line_and_leaves_the_book_whole(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C at random moments of ``book close``, from the command line's start to its
    end: one line, never a traceback, and the book either closed or untouched, as it says.
    (A Ctrl-C while the interpreter itself starts, before the package is loaded, is
    Python's: the moments begin when ``--version`` would have answered.)"""
    with BookStore(db) as store, store.change(whole=True, now=NOW, actor="test") as change:
        book = change.book
        for n in range(22):  # the chairs full from 08:00: the closure re-plans them all
            at = f"{8 + n * 25 // 60:02d}:{n * 25 % 60:02d}"
            plan = Plan("itbs", book.clinic, "2026-11-30", at, f"c-{n}")
            with contextlib.suppress(BookingConflictError):
                book = book.add(Course.start(plan))
        assert len(book.courses) > 10
        change.book = book
    close = ["book", "close", "BOOK", "2026-12-09", "--reason", "Snow day", "--from", "2026-11-29"]

    def closing(book: Path, stop_after: float | None) -> tuple[int, str]:
        argv = [
            sys.executable,
            "-m",
            "tms_schedule",
            *(str(book) if a == "BOOK" else a for a in close),
        ]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if stop_after is not None:
            try:
                process.wait(timeout=stop_after)  # the moment to press Ctrl-C
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        return process.returncode, err

    def seconds(argv: list[str]) -> float:
        began = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "tms_schedule", *argv], check=True, capture_output=True
        )
        return time.monotonic() - began

    ready = max(seconds(["--version"]) for _ in range(2))
    whole = tmp_path / "whole.db"
    shutil.copy(db, whole)
    began = time.monotonic()
    assert closing(whole, None) == (0, "")
    took = time.monotonic() - began
    moments = random.Random(17).sample(range(100), 8)
    for k, percent in enumerate(sorted(moments)):
        book = tmp_path / f"book-{k}.db"
        shutil.copy(db, book)
        status, err = closing(book, ready + (took - ready) * percent / 100)
        if "in _get_module_details" in err:
            continue  # Python importing the package, before any of the command line runs
        assert "Traceback" not in err and err.count("\n") <= 1, err
        assert status in (0, 130), err
        store = BookStore(book)
        closed = bool(store.events())
        if status == 130:
            assert err in (
                "tms-schedule: interrupted; nothing was changed\n",
                f"tms-schedule: interrupted; saved already: {book}\n",
            )
            assert closed == ("saved already" in err), err
        else:
            assert closed
        assert store.check() == []
        store.close()


def test_a_chair_out_on_an_snt_day_is_recorded_with_the_day_left_for_the_front_desk(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    take_snt(capsys, db)
    key = offers(capsys, db, "itbs", "--at", "09:00", "--window", "0")[0]
    run(capsys, "book", "take", db, key, "--course-id", "i-1")  # Chair 2 at 09:00
    status, out, err = run(
        capsys, "book", "close", db, "2026-12-02", "--chair", "c1", "--reason", "Coil"
    )
    assert status == 0, err
    assert out == (
        "Event 1: Coil: 2026-12-02, chair c1\nCourse s-1:\n  Sessions 21 to 30 on Wed 2 Dec"
        " 2026: no chair that runs snt holds them; kept on their day without a chair, for the"
        " front desk to resolve\n1 course(s) changed: tell each patient; their new calendar"
        " files: tms-schedule book export\n"
    )
    status, out, _ = run(capsys, "book", "check", db)
    assert status == 0 and "no problem found" in out
    assert [n for _, s in BookStore(db).load().unseated() for n in [s.number]] == list(
        range(21, 31)
    )
    sheet = run(capsys, "book", "day", db, "2026-12-02")[1]
    assert "s-1" in sheet
    assert run(capsys, "book", "undo", db, "1")[0] == 0
    book = BookStore(db).load()
    assert book.unseated() == [] and {book.seats("s-1")[n] for n in range(21, 31)} == {"c1"}
