"""The command line: the JSON shape of design.md, the front-desk text, and exit status 2."""

from __future__ import annotations

import json
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
    assert status == 0 and out == ""
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
