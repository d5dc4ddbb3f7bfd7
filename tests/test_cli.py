"""The command line: the JSON shape of design.md, the front-desk text, and exit status 2."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tms_schedule.cli import main

PLAN = [
    "plan",
    "standard-10hz",
    "--start",
    "2026-11-16",
    "--at",
    "09:00",
    "--tz",
    "America/Denver",
    "--holidays",
    "US-CO",
    "--course-id",
    "c-1",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_plan_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *PLAN, "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["protocol"] == "standard-10hz"
    assert data["timezone"] == "America/Denver"
    assert len(data["sessions"]) == 36
    first = data["sessions"][0]
    assert first["number"] == 1 and first["phase"] == "acute"
    assert first["start"] == "2026-11-16T09:00:00-07:00"
    assert first["end"] == "2026-11-16T10:30:00-07:00"
    assert data["skipped"][0] == {
        "date": "2026-11-26",
        "reason": "Thanksgiving Day: clinic closed",
        "phase": "acute",
    }


def test_plan_text_is_by_week_with_skipped_days(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, *PLAN)
    assert status == 0
    assert "Week of Mon 23 Nov 2026 (4 sessions)" in out
    assert "Thu 26 Nov 2026  Thanksgiving Day: clinic closed" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_plan_csv_and_output_file_format_from_suffix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "course.csv"
    status, out, _ = run(capsys, *PLAN, "-o", str(target))
    assert status == 0 and out.startswith("Wrote 36 sessions")
    rows = target.read_text().splitlines()
    assert rows[0].startswith("course_id,number,phase,phase_number,date,start,end")
    assert len(rows) == 37


def test_protocols_lists_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "protocols")
    assert status == 0
    assert "standard-10hz" in out and "30 daily (acute), then 3, 2, 1 a week (taper)" in out
    status, out, _ = run(capsys, "protocols", "--format", "json")
    data = json.loads(out)
    assert [p["id"] for p in data][:2] == ["standard-10hz", "dash-10hz"]
    assert data[0]["phases"][1] == {
        "name": "taper",
        "kind": "taper",
        "type": "taper",
        "sessions": 6,
        "description": "3, 2, 1 a week (taper)",
        "per_week": [3, 2, 1],
    }


def test_tuning_options(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, *PLAN, "--acute-sessions", "20", "--no-taper", "--format", "json")
    assert len(json.loads(out)["sessions"]) == 20


def test_clinic_file_and_closures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "America/Denver"\n[holidays]\ncountry = "US-CO"\nopen_on = ["Thanksgiving Day"]\n'
        '[[protocol]]\nid = "short-itbs"\nbase = "itbs"\nacute_sessions = 20\n'
    )
    status, out, err = run(
        capsys,
        "plan",
        "short-itbs",
        "--start",
        "2026-11-16",
        "--clinic",
        str(clinic),
        "--closed",
        "2026-11-18",
        "2026-11-23..2026-11-24",
        "--format",
        "json",
    )
    assert status == 0, err
    data = json.loads(out)
    dates = [s["start"][:10] for s in data["sessions"]]
    assert len(dates) == 20
    assert "2026-11-26" in dates  # the clinic opens on Thanksgiving
    assert not {"2026-11-18", "2026-11-23", "2026-11-24"} & set(dates)


def test_accelerated_default_time_is_the_opening_time(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "plan", "snt", "--start", "2026-11-30", "--tz", "America/Denver", "--format", "json"
    )
    assert status == 0
    assert json.loads(out)["sessions"][0]["start"] == "2026-11-30T08:00:00-07:00"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plan", "nope", "--start", "2026-11-16", "--tz", "UTC"],
            "protocol: unknown protocol 'nope'",
        ),
        (
            ["plan", "itbs", "--start", "16/11/2026", "--tz", "UTC"],
            "--start: must be a date written YYYY-MM-DD",
        ),
        (["plan", "itbs", "--start", "2026-11-16"], "--tz: required"),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "Moon/Base"],
            "timezone: unknown IANA timezone 'Moon/Base'",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--holidays", "QQ"],
            "holidays: unknown country 'QQ'",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--at", "25:00"],
            "--at: must be a time written HH:MM",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--at", "21:00"],
            "at: a session at 21:00",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--closed", "tomorrow"],
            "--closed: must be a date",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--format", "pdf"],
            "argument --format: invalid choice",
        ),
        (
            [
                "plan",
                "itbs",
                "--start",
                "2026-11-16",
                "--tz",
                "UTC",
                "--clinic",
                "/nonexistent/clinic.toml",
            ],
            "clinic.toml: no such file",
        ),
        (
            ["plan", "snt", "--start", "2026-11-23", "--tz", "UTC", "--holidays", "US"],
            "next start where 5 consecutive open days fit is 2026-11-30",
        ),
        (
            ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--acute-sessions", "99"],
            "acute_sessions: 'itbs' allows 20 to 30",
        ),
        (
            [
                "plan",
                "itbs",
                "--start",
                "2026-11-16",
                "--tz",
                "UTC",
                "-o",
                "/nonexistent/dir/x.json",
            ],
            "-o: /nonexistent/dir/x.json: cannot write there",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("tms-schedule: error: ")
    assert message in err


def test_the_installed_command_never_prints_a_traceback() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tms_schedule",
            "plan",
            "snt",
            "--start",
            "2026-11-26",
            "--tz",
            "UTC",
            "--holidays",
            "US",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "tms-schedule: error: start: the 5 consecutive accelerated days"
    )


def test_ics_by_suffix_written_in_binary_with_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "appointments.ics"
    status, _, err = run(
        capsys,
        *PLAN,
        "-o",
        str(target),
        "--clinic-name",
        "Example Clinic",
        "--organizer",
        "desk@clinic.example",
        "--reminders",
        "2h",
        "--stamp",
        "2026-11-01T08:00:00Z",
        "--location",
        "1 Main St",
    )
    assert status == 0, err
    data = target.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"\r\r\n" not in data
    assert data.count(b"BEGIN:VEVENT") == 36
    assert b"DTSTAMP:20261101T080000Z\r\n" in data
    assert b"SUMMARY:Appointment \xe2\x80\x94 Example Clinic\r\n" in data
    assert data.count(b"TRIGGER:") == 36
    again = tmp_path / "again.ics"
    run(
        capsys,
        *PLAN,
        "-o",
        str(again),
        "--clinic-name",
        "Example Clinic",
        "--organizer",
        "desk@clinic.example",
        "--reminders",
        "2h",
        "--stamp",
        "2026-11-01T08:00:00Z",
        "--location",
        "1 Main St",
    )
    assert again.read_bytes() == data


def test_ics_to_stdout_with_utc_and_no_reminders(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    status = main(
        [
            *PLAN,
            "--format",
            "ics",
            "--utc",
            "--reminders",
            "none",
            "--stamp",
            "2026-11-01T08:00:00+00:00",
        ]
    )
    out = capsysbinary.readouterr().out
    assert status == 0
    assert b"VTIMEZONE" not in out
    assert b"VALARM" not in out
    assert b"DTSTART:20261116T160000Z\r\n" in out


def test_clinic_file_calendar_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "America/Denver"\n[calendar]\nclinic_name = "Example Clinic"\n'
        'reminders = ["30m"]\nuid_key = "a long clinic secret value"\n'
    )
    target = tmp_path / "a.ics"
    status, _, err = run(
        capsys,
        "plan",
        "itbs",
        "--start",
        "2026-11-16",
        "--clinic",
        str(clinic),
        "-o",
        str(target),
        "--stamp",
        "2026-11-01T08:00:00Z",
        "--course-id",
        "c-9",
    )
    assert status == 0, err
    data = target.read_bytes()
    assert b"X-WR-CALNAME:Appointments \xe2\x80\x94 Example Clinic" in data
    assert data.count(b"TRIGGER:-PT30M") == 30
    from tms_schedule.export.uid import session_uid

    assert f"UID:{session_uid('c-9', 1, 'a long clinic secret value')}".encode() in data
    status, out, _ = run(
        capsys, "plan", "itbs", "--start", "2026-11-16", "--clinic", str(clinic), "--format", "csv"
    )
    assert session_uid("course-2026-11-16", 1, "a long clinic secret value") in out


def test_calendar_files_need_a_course_id_of_the_callers(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--format", "ics"
    )
    assert status == 2
    assert out == ""
    assert "--course-id: required for calendar and course files" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--stamp", "yesterday"], "--stamp: must be a date and time with a UTC offset"),
        (["--stamp", "2026-11-01T08:00:00"], "--stamp: must be a date and time with a UTC offset"),
        (["--organizer", "nobody"], "organizer: must be an e-mail address"),
        (["--reminders", "1d,soon"], "reminders: each must be a lead time like 30m"),
        (["--url", "ftp://x"], "url: must be an http:// or https:// address"),
    ],
)
def test_bad_calendar_options_exit_2(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    status, _, err = run(capsys, *PLAN, "--format", "ics", *extra)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1


# -- what -o writes, and what the command says it wrote -------------------------------------------


@pytest.mark.parametrize("name", ["handout.pdf", "x.xlsx", "appointments", "notes.ics.bak"])
def test_an_unknown_suffix_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    target = tmp_path / name
    status, out, err = run(capsys, *PLAN, "-o", str(target))
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert (
        "known suffixes: .ics .ical .json .csv .txt .html .htm (or '-' for standard output)" in err
    )
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_ical_is_a_calendar_file_and_dash_is_standard_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "appointments.ical"
    status, out, err = run(capsys, *PLAN, "--stamp", "2026-11-01T08:00:00Z", "-o", str(target))
    assert status == 0, err
    assert target.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    status, out, _ = run(capsys, *PLAN, "-o", "-")
    assert status == 0 and out.startswith("Course c-1 - standard-10hz - 36 sessions\n")
    assert "Wrote" not in out


def test_a_format_that_contradicts_the_suffix_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, *PLAN, "--format", "csv", "-o", str(tmp_path / "a.ics"))
    assert status == 2
    assert "names a calendar file but --format is csv" in err
    assert list(tmp_path.iterdir()) == []
    # An unknown suffix with an explicit --format is the caller's choice.
    status, _, err = run(capsys, *PLAN, "--format", "text", "-o", str(tmp_path / "a.log"))
    assert status == 0, err
    assert (tmp_path / "a.log").read_text().startswith("Course c-1")


def test_writing_a_file_says_what_was_written_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(
        capsys, *PLAN, "--clinic-name", "Example Clinic", "-o", "appointments.ics"
    )
    assert status == 0 and err == ""
    assert out == "Wrote 36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027) to appointments.ics\n"
    status, out, _ = run(capsys, *PLAN, "-o", "course.json")
    assert out == "Wrote 36 sessions (Mon 16 Nov 2026 to Tue 19 Jan 2027) to course.json\n"
    # Standard output gets the schedule alone.
    status, out, _ = run(capsys, *PLAN, "--format", "json")
    assert json.loads(out)["course_id"] == "c-1"


def test_protocols_fit_eighty_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "protocols")
    assert status == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    # Each description still reads whole once the wrapping is undone.
    flat = " ".join(out.split())
    assert "10 a day, 50 min apart, on 5 consecutive days (accelerated): 50 sessions" in flat
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "UTC"\n[[protocol]]\nid = "a-very-long-clinic-protocol-id-for-the-evening-clinic"\n'
        'base = "itbs"\nname = "' + "Evening iTBS with a long name " * 4 + '"\n'
    )
    status, out, _ = run(capsys, "protocols", "--clinic", str(clinic))
    assert status == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "\na-very-long-clinic-protocol-id-for-the-evening-clinic\n" in out


# -- no traceback, ever -----------------------------------------------------------------------------


def command(*argv: str | bytes, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """The command as a user runs it: its own process, arguments as bytes or text."""
    return subprocess.run(
        [sys.executable, "-m", "tms_schedule", *argv],
        capture_output=True,
        check=False,
        timeout=timeout,
    )


def refused(result: subprocess.CompletedProcess[bytes], message: str) -> None:
    """Exit status 2, one line on standard error holding ``message``, nothing else."""
    err = result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("tms-schedule: error: "), err
    assert message in err, err
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "extra"),
    [
        ("--clinic-name", ["--format", "ics"]),
        ("--location", ["--format", "ics"]),
        ("--title", ["--format", "html"]),
        ("--course-id", []),
    ],
)
def test_text_that_is_not_utf8_is_refused_naming_the_option(
    tmp_path: Path, option: str, extra: list[str]
) -> None:
    argv = [a for a in PLAN if a not in ("--course-id", "c-1")]
    result = command(*argv, *extra, "--stamp", "2026-11-01T08:00:00Z", option, b"caf\xe9")
    refused(result, f"{option}: must be UTF-8 text")
    assert result.stdout == b""


def test_course_notes_and_reasons_that_are_not_utf8_are_refused(tmp_path: Path) -> None:
    course = tmp_path / "c-1.json"
    new = ["course", "new", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--course-id", "c-1"]
    assert command(*new, "-o", str(course)).returncode == 0
    before = course.read_bytes()
    refused(
        command("course", "record", str(course), "1", "--attended", "--note", b"\xff"),
        "--note: must be UTF-8 text",
    )
    refused(
        command("course", "close", str(course), "2026-11-18", "--reason", b"caf\xe9"),
        "--reason: must be UTF-8 text",
    )
    assert course.read_bytes() == before


def test_a_file_name_that_is_not_utf8_is_still_a_file_name(tmp_path: Path) -> None:
    result = command(*PLAN, "-o", os.fsencode(tmp_path) + b"/caf\xe9.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"Wrote 36 sessions") and b"caf\\xe9.csv" in result.stdout
    assert (tmp_path / os.fsdecode(b"caf\xe9.csv")).read_text().startswith("course_id,")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "argv", [["protocols"], ["protocols", "--format", "json"], PLAN, [*PLAN, "--format", "csv"]]
)
def test_standard_output_that_fails_is_an_error_not_a_traceback(argv: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "tms_schedule", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            timeout=60,
        )
    # One line: no "Exception ignored" when the interpreter flushes on the way out.
    refused(result, "standard output: cannot write (No space left on device)")


def test_closed_standard_output_is_an_error_not_a_silent_success() -> None:
    """``tms-schedule protocols >&-``: the command starts with no standard output at all."""
    start = (
        "import os, sys; os.close(1);"
        " os.execv(sys.executable, [sys.executable, '-m', 'tms_schedule', 'protocols'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", start], capture_output=True, check=False, timeout=60
    )
    refused(result, "standard output is closed")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd/x", "/etc/passwd/x: no such file (a part of the path is not a folder)"),
        ("x" * 5000, "cannot be read (File name too long)"),
        (".", ".: is a directory, not a TOML file"),
        ("/dev/zero", "/dev/zero: is not a regular file"),
        ("/dev/null", "/dev/null: is not a regular file"),
    ],
)
def test_a_clinic_path_that_is_not_a_file_is_refused_naming_it(path: str, message: str) -> None:
    result = command("plan", "itbs", "--start", "2026-11-16", "--clinic", path, timeout=20)
    refused(result, message)
    assert len(result.stderr) < 400  # a long name is cut in the message


def test_a_clinic_file_larger_than_a_mebibyte_is_refused(tmp_path: Path) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text('timezone = "UTC"\n' + "# padding\n" * 110_000)
    refused(
        command("plan", "itbs", "--start", "2026-11-16", "--clinic", str(clinic)),
        "clinic.toml: is larger than 1 MiB; not a TOML file",
    )


@pytest.mark.parametrize(
    ("argv", "toml", "message"),
    [
        (
            ["--closed", "9999-12-31"],
            None,
            "--closed: must be a day from 1900-01-01 to 2399-12-31, got '9999-12-31'",
        ),
        (
            ["--closed", "2026-12-01..9999-12-31"],
            None,
            "--closed: must be a day from 1900-01-01 to 2399-12-31",
        ),
        (
            [],
            "[[closures]]\ndate = 9999-12-31\n",
            "clinic.toml: closures[0]: closure start: must be a date from 1900-01-01 to 2399-12-31",
        ),
        (
            [],
            "[[extra_open_days]]\ndate = 9999-12-31\n",
            "clinic.toml: extra_open_days[0]: extra open day date: must be a date from",
        ),
        (
            [],
            "[calendar]\nreminders = ['99999999999999w']\n",
            "clinic.toml: calendar: reminders: each lead time must be from 1 minute to 4 weeks",
        ),
        (
            [],
            "[calendar]\nreminders = ['999999999w']\n",
            "clinic.toml: calendar: reminders: each lead time must be from 1 minute to 4 weeks",
        ),
        (
            ["--reminders", "999999999w"],
            None,
            "reminders: each lead time must be from 1 minute to 4 weeks",
        ),
        (
            ["--reminders", "9" * 5000 + "d"],
            None,
            "reminders: each lead time must be from 1 minute to 4 weeks",
        ),
        (
            [],
            "[[protocol]]\nid = 'x'\nbase = 'itbs'\nsession_minutes = 1e300\n",
            "protocol[0].session_minutes: must be a number from -1000000 to 1000000",
        ),
        ([], "a = " + "9" * 5000 + "\n", "clinic.toml: not valid TOML: a number too long to read"),
    ],
)
def test_dates_and_lengths_out_of_range_are_named_errors(
    tmp_path: Path, argv: list[str], toml: str | None, message: str
) -> None:
    base = ["plan", "itbs", "--start", "2026-11-16", "--course-id", "c-1", "--format", "ics"]
    if toml is None:
        base += ["--tz", "UTC"]
    else:
        clinic = tmp_path / "clinic.toml"
        clinic.write_text('timezone = "UTC"\n' + toml)
        base += ["--clinic", str(clinic)]
    refused(command(*base, *argv), message)


def test_a_library_date_past_the_calendar_is_a_named_error() -> None:
    from tms_schedule import ClinicCalendar, InvalidClinicError

    with pytest.raises(InvalidClinicError, match="date: 9999 is outside the years"):
        ClinicCalendar("UTC").next_open(datetime.date(9999, 12, 31))


# -- what used to pass silently -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tz", "localtime"], "timezone: unknown IANA timezone 'localtime'"),
        (["--tz", "posixrules"], "timezone: unknown IANA timezone 'posixrules'"),
        (["--tz", "Factory"], "timezone: unknown IANA timezone 'Factory'"),
        (["--tz", "UTC", "--holidays", "US-"], "holidays: 'US-' has an empty subdivision"),
        (["--tz", "UTC", "--hours", ""], "--hours: must not be empty"),
        (["--tz", "UTC", "--tz", ""], "--tz: must not be empty"),
        (["--tz", "UTC", "--course-id", ""], "--course-id: must not be empty"),
        (["--tz", "UTC", "--course-id", "c-1 "], "not starting or ending with a space"),
        (["--tz", "UTC", "--course-id", " c-1"], "not starting or ending with a space"),
        (
            ["--tz", "UTC", "--url", "https://clinic.example/\n"],
            "url: must be an http:// or https:// address",
        ),
        (
            ["--tz", "UTC", "--organizer", "desk@clinic.example\n"],
            "organizer: must be an e-mail address",
        ),
    ],
)
def test_values_that_were_accepted_silently_are_refused(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    argv = ["plan", "itbs", "--start", "2026-11-16", "--stamp", "2026-11-01T08:00:00Z"]
    status, out, err = run(capsys, *argv, "--course-id", "c-1", "--format", "ics", *extra)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err


# -- the UID key on the command line --------------------------------------------------------------


def test_a_uid_key_file_keys_the_uids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tms_schedule.export.uid import session_uid

    key = tmp_path / "uid.key"
    key.write_text("a long clinic secret value\n")
    target = tmp_path / "a.ics"
    argv = [*PLAN, "--stamp", "2026-11-01T08:00:00Z", "-o", str(target)]
    status, _, err = run(capsys, *argv, "--uid-key-file", str(key))
    assert status == 0, err
    data = target.read_bytes()
    assert f"UID:{session_uid('c-1', 1, 'a long clinic secret value')}\r\n".encode() in data
    assert f"UID:{session_uid('c-1', 1)}".encode() not in data
    status, out, _ = run(capsys, *PLAN, "--format", "csv", "--uid-key-file", str(key))
    assert session_uid("c-1", 1, "a long clinic secret value") in out
    # The help says why there is a file and no option for the secret itself.
    status, out, _ = run(capsys, "plan", "--help")
    assert "visible to other users (ps)" in " ".join(out.split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("short\n", "must hold a secret of at least 16 characters, got 5"),
        ("line one is long enough\nline two\n", "must hold the key on one line"),
        (None, "uid.key: no such file"),
    ],
)
def test_a_bad_uid_key_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    key = tmp_path / "uid.key"
    if content is not None:
        key.write_text(content)
    status, out, err = run(capsys, *PLAN, "--format", "ics", "--uid-key-file", str(key))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "--uid-key-file: " in err and message in err


def test_the_same_command_twice_writes_the_same_file(tmp_path: Path) -> None:
    argv = [*PLAN, "--stamp", "2026-11-01T08:00:00Z", "-o", str(tmp_path / "a.ics")]
    first = command(*argv)
    data = (tmp_path / "a.ics").read_bytes()
    second = command(*argv)
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert (tmp_path / "a.ics").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ics"]  # no temporary file left


def test_every_option_of_every_command_says_what_it_does() -> None:
    """``--help`` is the front desk's manual: no option may appear there without a line."""
    import argparse

    from tms_schedule.cli import build_parser

    silent = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help:
                silent.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "tms-schedule")
    assert silent == []


def test_a_time_may_be_written_with_one_hour_digit(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["plan", "itbs", "--start", "2026-11-16", "--tz", "UTC", "--format", "json"]
    assert main([*base, "--at", "9:00"]) == 0
    nine = capsys.readouterr().out
    assert main([*base, "--at", "09:00"]) == 0
    assert capsys.readouterr().out == nine
    assert main([*base, "--at", "9"]) == 2
    assert "--at: must be a time written HH:MM (09:00), got '9'" in capsys.readouterr().err
