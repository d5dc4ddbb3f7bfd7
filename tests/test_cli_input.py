"""Input that is accepted but means nothing is refused, naming the option and what it takes.

Each case was once accepted: digits of another script, a stray line break, seconds that
were silently dropped, dates centuries away, an empty ``--from`` taken as "now", a host
that is not one, a course that follows itself or a course missing from the book.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.cli import main
from tms_schedule.course.codec import checksum
from tms_schedule.errors import ScheduleFormatError
from tms_schedule.export.json import schedule_from_json

RELEASED = Path(__file__).parent / "golden" / "courses" / "format-2"
CLINIC = """\
timezone = "America/Denver"
hours = "07:00-19:00"

[holidays]
country = "US-CO"

[[chairs]]
id = "c1"
"""


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tms-schedule: error: "), err
    assert message in err, err


@pytest.fixture
def course_file(tmp_path: Path) -> Path:
    path = tmp_path / "c-1.json"
    shutil.copy(RELEASED / "c-1.json", path)
    return path


@pytest.fixture
def book(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "clinic.toml").write_text(CLINIC)
    path = tmp_path / "book.db"
    assert main(["book", "init", str(path), "--clinic", str(tmp_path / "clinic.toml")]) == 0
    capsys.readouterr()
    return path


PLAN = ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC"]
# 09:00 and 2026-11-16 in Arabic-Indic digits, which Python's \\d and int() read.
ARABIC_TIME = "\u0660\u0669:\u0660\u0660"
ARABIC_DATE = "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0661\u0666"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [*PLAN, "--at", ARABIC_TIME],
            "--at: must be a time written HH:MM (09:00), got '" + ARABIC_TIME + "'",
        ),
        ([*PLAN, "--at", "09:00\n"], "--at: must be a time written HH:MM (09:00), got '09:00\\n'"),
        ([*PLAN, "--at", "09:00:30"], "--at: must be a time written HH:MM"),
        (["plan", "itbs", "--start", ARABIC_DATE, "--tz", "UTC"], "--start: must be a date"),
        (["plan", "itbs", "--start", "2026-11-16\n", "--tz", "UTC"], "--start: must be a date"),
        (["plan", "itbs", "--start", "0001-01-01", "--tz", "UTC"], "--start: must be a day from"),
    ],
)
def test_a_time_or_date_that_means_nothing_is_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    refused(capsys, argv, message)


ARABIC_36 = "\u0663\u0666"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "{f}", ARABIC_36[1], "--attended"], "argument SESSION: must be a whole number"),
        (["authorize", "{f}", "--sessions", "3_6"], "argument --sessions: must be a whole number"),
        (["authorize", "{f}", "--sessions", " 36"], "argument --sessions: must be a whole number"),
        (["authorize", "{f}", "--sessions", ARABIC_36], "written with the digits 0-9, got '"),
        (["record", "{f}", "6", "--attended", "--wait", "nan"], "--wait: must be a number of"),
        (
            ["record", "{f}", "6", "--attended", "--wait", "inf"],
            "seconds from 0 to 3600, got 'inf'",
        ),
        (["record", "{f}", "6", "--attended", "--wait", "-1"], "seconds from 0 to 3600"),
        (
            ["replan", "{f}", "--policy", "double", "--min-gap-hours", "nan"],
            "--min-gap-hours: must",
        ),
    ],
)
def test_a_number_is_digits_0_to_9_and_a_wait_is_finite(
    course_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """int() and float() read other scripts' digits, "3_6", spaces, "nan" and "inf": a
    course command took "--wait nan" and, on a busy file, waited for ever."""
    before = course_file.read_bytes()
    refused(capsys, ["course", *(a.replace("{f}", str(course_file)) for a in args)], message)
    assert course_file.read_bytes() == before


def test_a_book_option_takes_digits_0_to_9(book: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offer = ["book", "offer", str(book), "itbs", "--start", "2026-12-01"]
    refused(capsys, [*offer, "--window", "1_0"], "argument --window: must be a whole number")
    refused(capsys, [*offer, "--wait", "nan"], "argument --wait: must be a number of seconds")
    refused(capsys, ["book", "undo", str(book), ARABIC_36[0]], "must be a whole number")


@pytest.mark.parametrize("option", ["--moved-to", "--when"])
def test_seconds_are_refused_rather_than_dropped(
    course_file: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    kind = ["--moved-to"] if option == "--moved-to" else ["--attended", "--when"]
    base = ["course", "record", str(course_file), "6", *kind]
    refused(
        capsys, [*base, "2026-11-23T15:00:30"], f"{option}: must be a date and time to the minute"
    )
    refused(capsys, [*base, "2026-11-23T15:00:00.5"], f"{option}: must be a date and time")
    refused(capsys, [*base, ""], f"{option}: must be a date and time")
    assert main([*base, "2026-11-23T15:00:00"]) == 0, capsys.readouterr().err  # nothing lost
    session = Course.load(course_file).schedule.sessions[5]
    assert (
        session.start if option == "--moved-to" else Course.load(course_file).records[-1].when
    ) == (dt.datetime(2026, 11, 23, 22, tzinfo=dt.UTC))


def test_an_authorization_over_centuries_is_refused(
    course_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = course_file.read_bytes()
    base = ["course", "authorize", str(course_file), "--sessions", "36"]
    refused(
        capsys,
        [*base, "--from", "0001-01-01", "--until", "9999-12-31"],
        "--from: must be a day from 1900-01-01",
    )
    refused(
        capsys,
        [*base, "--from", "2026-11-16", "--until", "2399-12-31"],
        "authorization: the approved window may last at most 1830 days",
    )
    assert course_file.read_bytes() == before


def test_an_empty_from_is_refused_not_taken_as_now(
    course_file: Path, book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused(capsys, ["course", "replan", str(course_file), "--from", ""], "--from: must be a date")
    assert main(["book", "import", str(book), str(course_file)]) == 0
    capsys.readouterr()
    refused(capsys, ["book", "replan", str(book), "c-1", "--from", ""], "--from: must be a date")
    refused(
        capsys,
        ["book", "close", str(book), "2026-12-30", "--reason", "x", "--from", ""],
        "--from: must be a date",
    )


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("256.1.1.1", "--host: '256.1.1.1' is neither an IP address nor a name"),
        ("example.invalid", "--host: 'example.invalid' is neither an IP address nor a name"),
        ("", "--host: must be an IP address"),
        ("127.0.0.1\n", "--host: '127.0.0.1\\n' is neither"),
    ],
)
def test_a_host_that_is_not_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str, message: str
) -> None:
    pytest.importorskip("waitress")
    folder = tmp_path / "courses"
    folder.mkdir()
    shutil.copy(RELEASED / "c-1.json", folder)
    secret = tmp_path / "feed.key"
    secret.write_bytes(b"a clinic feed secret, 32+ bytes long, for the tests\n")
    argv = ["serve", str(folder), "--secret-file", str(secret), "--port", "0", "--host", host]
    refused(capsys, argv, message)


def _resealed(source: Path, target: Path, **changes: object) -> Path:
    data = json.loads(source.read_text())
    data.update(changes)
    data["checksum"] = checksum(data)
    target.write_text(json.dumps(data))
    return target


def test_the_book_refuses_a_course_that_follows_itself_or_one_not_in_the_book(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    itself = _resealed(RELEASED / "c-1.json", tmp_path / "itself.json", follows="c-1")
    refused(
        capsys,
        ["book", "import", str(book), str(itself)],
        "follows: course c-1 cannot follow itself",
    )
    following = RELEASED / "c-1-m.json"
    refused(
        capsys,
        ["book", "import", str(book), str(following)],
        "course c-1-m follows c-1, which is not in the book; import c-1 first",
    )
    # Both at once, in any order: the course followed goes in first.
    assert main(["book", "import", str(book), str(following), str(RELEASED / "c-1.json")]) == 0
    assert "Added course c-1:" in capsys.readouterr().out
    with pytest.raises(Exception, match="cannot follow itself"):
        Course.start(
            Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-9"), follows="c-9"
        )


def test_a_schedule_with_a_session_of_centuries_is_refused() -> None:
    schedule = Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1").expand()
    data = json.loads(schedule.to_json())
    data["sessions"][-1]["end"] = "2926-11-16T09:00:00+00:00"
    with pytest.raises(
        ScheduleFormatError, match=r"sessions\[29\].end: a session lasts at most 10 hours"
    ):
        schedule_from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("at", "start", "why"),
    [
        (
            "02:00",
            "2027-03-01",
            "session 1 on Mon 1 Mar 2027 02:00: it is outside the clinic's"
            " opening hours that day (07:00-19:00)",
        ),
        (
            "09:00",
            "2027-05-31",
            "session 1 on Mon 31 May 2027 09:00: the clinic is closed that"
            " day (Memorial Day: clinic closed)",
        ),
    ],
)
def test_a_session_when_the_clinic_is_closed_is_refused_as_closed(
    book: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], at: str, start: str, why: str
) -> None:
    """Not "every chair that can run it is booked then": no chair is the reason."""
    anywhen = ClinicCalendar(
        "America/Denver", hours="00:00-23:59", open_weekdays=range(7), holidays=None
    )
    course = Course.start(Plan("itbs", anywhen, start, at, "c-7"))
    course.save(tmp_path / "c-7.json")
    refused(capsys, ["book", "import", str(book), str(tmp_path / "c-7.json")], why)
