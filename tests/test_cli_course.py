"""``tms-schedule course``: a course kept in a file by a front desk without clinic software."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tms_schedule.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def course_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "c-1.json"
    status, out, err = run(
        capsys,
        "course",
        "new",
        "standard-10hz",
        "--start",
        "2026-11-16",
        "--tz",
        "America/Denver",
        "--holidays",
        "US-CO",
        "--course-id",
        "c-1",
        "-o",
        str(path),
    )
    assert status == 0, err
    assert out == "c-1: 36 sessions from 2026-11-16\n"
    return path


def test_a_front_desk_day(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    assert run(capsys, "course", "record", f, "1", "--attended")[1] == "Session 1: attended\n"
    assert run(
        capsys, "course", "record", f, "2", "--missed", "--cause", "clinic", "--note", "snow"
    )[1] == ("Session 2: missed (clinic)\n")
    assert run(capsys, "course", "record", f, "3", "--moved-to", "2026-11-18T14:00")[1] == (
        "Session 3: moved to 2026-11-18 14:00\n"
    )
    status, out, _ = run(capsys, "course", "replan", f, "--from", "2026-11-19")
    assert status == 0
    assert out.splitlines()[:3] == [
        "Revision 1 (extend from 2026-11-19):",
        "Session 2 on Tue 17 Nov 2026 09:00: missed (clinic)",
        "Session 3 moved from Wed 18 Nov 2026 09:00 to Wed 18 Nov 2026 14:00",
    ]
    assert "Session 37 added on Wed 30 Dec 2026 09:00" in out
    status, out, _ = run(
        capsys,
        "course",
        "authorize",
        f,
        "--sessions",
        "36",
        "--from",
        "2026-11-16",
        "--until",
        "2027-01-15",
    )
    assert out == "Authorization: 36 sessions until 2027-01-15\n"
    status, out, _ = run(capsys, "course", "check", f)
    assert status == 1
    assert "is outside the approved dates" in out
    run(capsys, "course", "authorize", f, "--extend", "6", "--until", "2027-02-28")
    status, out, _ = run(capsys, "course", "check", f)
    assert status == 0
    status, out, _ = run(capsys, "course", "show", f)
    assert out.splitlines()[1] == "Delivered 1 of 36; missed 1; remaining 35; next 2026-11-18 14:00"
    ics = tmp_path / "appointments.ics"
    status, _, err = run(
        capsys, "course", "export", f, "-o", str(ics), "--stamp", "2026-11-19T08:00:00Z"
    )
    assert status == 0, err
    data = ics.read_bytes()
    assert data.count(b"BEGIN:VEVENT") == 37
    assert data.count(b"STATUS:CANCELLED") == 1
    status, out, _ = run(capsys, "course", "show", f, "--format", "json")
    assert len(json.loads(out)["sessions"]) == 37
    nxt = tmp_path / "next.json"
    status, out, _ = run(
        capsys, "course", "follow", f, "maintenance", "--course-id", "c-1-m", "-o", str(nxt)
    )
    assert status == 0
    assert out.startswith("c-1-m (maintenance after c-1): 11 sessions from 2027-01-26")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["record", "{f}", "1", "--attended", "--when", "soon"], "--when: must be a date and time"),
        (["record", "{f}", "99", "--missed"], "the course has no session 99"),
        (["record", "{f}", "1", "--missed", "--cause", "rain"], "argument --cause: invalid choice"),
        (
            ["record", "{f}", "3", "--moved-to", "2026-11-26T09:00"],
            "the clinic is closed on 2026-11-26",
        ),
        (
            ["replan", "{f}", "--from", "2026-11-01"],
            "start: must be on or after the course's start",
        ),
        (
            ["replan", "{f}", "--from", "2026-11-20", "--policy", "triple"],
            "argument --policy: invalid choice",
        ),
        (["check", "{f}"], "authorization: the course has none"),
        (
            ["authorize", "{f}", "--sessions", "36"],
            "authorize: give --sessions, --from and --until",
        ),
        (["show", "missing.json"], "missing.json: no such course file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    course_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = course_file.read_bytes()
    status, _out, err = run(capsys, "course", *(a.replace("{f}", str(course_file)) for a in argv))
    assert status == 2
    assert message in err
    assert err.count("\n") == 1
    assert course_file.read_bytes() == before  # nothing half-done


def test_recording_twice_is_refused(course_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "course", "record", str(course_file), "1", "--attended")
    status, _, err = run(capsys, "course", "record", str(course_file), "1", "--attended")
    assert status == 2
    assert "session 1 is already attended" in err


def test_close_then_replan_and_export_a_handout(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    status, out, _ = run(
        capsys, "course", "close", f, "2026-11-18..2026-11-19", "--reason", "Coil repair"
    )
    assert status == 0
    assert out == "Closed 2026-11-18 to 2026-11-19; sessions 3, 4 fall on it: re-plan\n"
    run(capsys, "course", "replan", f, "--from", "2026-11-17")
    status, out, _ = run(capsys, "course", "show", f, "--format", "json")
    days = {s["start"][:10] for s in json.loads(out)["sessions"]}
    assert not {"2026-11-18", "2026-11-19"} & days
    page = tmp_path / "handout.html"
    status, _, err = run(capsys, "course", "export", f, "-o", str(page))
    assert status == 0, err
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_course_new_needs_a_course_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys,
        "course",
        "new",
        "itbs",
        "--start",
        "2026-11-16",
        "--tz",
        "UTC",
        "-o",
        str(tmp_path / "c.json"),
    )
    assert status == 2
    assert "--course-id: required" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["replan", "{f}", "--from", "2026-11-18", "--min-gap-hours", "nan"],
        ["replan", "{f}", "--from", "2026-11-18", "--gap-limit-days", "-3"],
        ["replan", "{f}", "--from", "2026-11-18", "--min-gap-hours", "1e300"],
        ["record", "{f}", "2", "--moved-to", "9999-12-31T23:59-01:00"],
        ["record", "{f}", "1", "--attended", "--when", "9999-12-31T23:00"],
        ["record", "{f}", "2", "--moved-to", "2026-11-18T14:00:30"],
    ],
)
def test_out_of_range_input_is_one_line_and_changes_nothing(
    course_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    before = course_file.read_bytes()
    status, _, err = run(capsys, "course", *(a.replace("{f}", str(course_file)) for a in argv))
    assert status == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert course_file.read_bytes() == before
    assert run(capsys, "course", "show", str(course_file))[0] == 0  # still readable


def test_saving_keeps_the_file_permissions(
    course_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    course_file.chmod(0o664)
    run(capsys, "course", "record", str(course_file), "1", "--attended")
    assert course_file.stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plan", "standard-10hz", "--start", "9995-06-01", "--tz", "UTC"],
            "start: must be from 1970-01-01 to 2199-12-31",
        ),
        (
            [
                "plan",
                "itbs",
                "--start",
                "2026-11-16",
                "--tz",
                "UTC",
                "--course-id",
                "x",
                "--format",
                "ics",
                "--stamp",
                "9999-12-31T23:59:59-05:00",
            ],
            "stamp: must be a time from 1970 on",
        ),
        (["course", "show", "{deep}"], "not valid JSON"),
    ],
)
def test_extreme_values_are_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    status, _, err = run(capsys, *(a.replace("{deep}", str(deep)) for a in argv))
    assert status == 2
    assert message in err
