"""``tms-schedule course``: a course kept in a file by a front desk without clinic software.

The courses here ran in 2025, so every session has started by the time the tests run: the
command line checks attendance against the clock, as it must.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tms_schedule.cli import main
from tms_schedule.course.file import load_course


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def new_course(
    capsys: pytest.CaptureFixture[str], path: Path, start: str = "2025-11-17", *extra: str
) -> tuple[int, str, str]:
    return run(
        capsys,
        "course",
        "new",
        "standard-10hz",
        "--start",
        start,
        "--tz",
        "America/Denver",
        "--holidays",
        "US-CO",
        "--course-id",
        "c-1",
        "-o",
        str(path),
        *extra,
    )


@pytest.fixture
def course_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "c-1.json"
    status, out, err = new_course(capsys, path)
    assert status == 0, err
    assert out == (
        f"Wrote course c-1 to {path}: 36 sessions (Mon 17 Nov 2025 to Tue 20 Jan 2026)\n"
    )
    return path


def test_a_front_desk_day(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    assert run(capsys, "course", "record", f, "1", "--attended")[1] == (
        "Session 1: attended (record 1, saved)\n"
    )
    assert run(
        capsys, "course", "record", f, "2", "--missed", "--cause", "clinic", "--note", "snow"
    )[1] == (
        "Session 2: missed (clinic) (record 2, saved)\n"
        f"Re-plan to make it up: tms-schedule course replan {f}\n"
    )
    assert run(capsys, "course", "record", f, "3", "--moved-to", "2025-11-19T14:00")[1] == (
        "Session 3: moved to 2025-11-19 14:00 (record 3, saved)\n"
    )
    status, out, _ = run(capsys, "course", "replan", f, "--from", "2025-11-20")
    assert status == 0
    assert out.splitlines() == [
        "Revision 1 (extend from 2025-11-20 00:00):",
        "Session 2 on Tue 18 Nov 2025 09:00: missed (clinic)",
        "Session 3 moved from Wed 19 Nov 2025 09:00 to Wed 19 Nov 2025 14:00 (by hand)",
        "Session 37 added on Wed 31 Dec 2025 09:00",
    ]
    status, out, _ = run(capsys, "course", "replan", f, "--from", "2025-11-20")
    assert out == "Nothing to change: every session keeps its time (revision 1)\n"
    status, out, _ = run(
        capsys,
        "course",
        "authorize",
        f,
        "--sessions",
        "36",
        "--from",
        "2025-11-17",
        "--until",
        "2026-01-16",
    )
    assert out == "Authorization: 36 sessions until 2026-01-16 (saved)\n"
    status, out, _ = run(capsys, "course", "check", f)
    assert status == 1
    assert "is outside the approved dates" in out
    run(capsys, "course", "authorize", f, "--extend", "6", "--until", "2026-02-28")
    status, out, _ = run(capsys, "course", "check", f)
    assert status == 0
    status, out, _ = run(capsys, "course", "show", f)
    lines = out.splitlines()
    # Every session of this 2025 course is past by the clock now; none is recorded yet.
    assert lines[0] == (
        "Revision 1; no session to come; 35 past sessions not recorded yet"
        " (record attended or missed)"
    )
    assert lines[2:4] == [
        "Course c-1 - standard-10hz",
        "36 sessions: 1 delivered, 35 to come; 1 missed (made up)",
    ]  # said once, by the view
    assert "    2. session 2: missed (clinic)  (snow)" in out
    ics = tmp_path / "appointments.ics"
    status, _, err = run(
        capsys, "course", "export", f, "-o", str(ics), "--stamp", "2025-11-20T08:00:00Z"
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
    assert out.startswith(f"Wrote course c-1-m (maintenance after c-1) to {nxt}: 11 sessions")


def test_a_course_file_is_never_replaced_by_accident(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    run(capsys, "course", "record", f, "1", "--attended")
    before = course_file.read_bytes()
    status, _, err = new_course(capsys, course_file)
    assert status == 2
    assert f"-o: {f} already holds course c-1 (1 record, revision 0); give another" in err
    status, _, err = run(
        capsys, "course", "follow", f, "maintenance", "--course-id", "c-1-m", "-o", f
    )
    assert status == 2
    assert err.endswith(
        "already holds course c-1 (1 record, revision 0); give another name, or --force to replace it\n"
    )
    assert course_file.read_bytes() == before
    status, _, err = new_course(capsys, course_file, "2025-11-17", "--force")
    assert status == 0, err
    assert load_course(course_file).records == ()


def test_a_session_that_has_not_started_is_not_recorded_attended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c-1.json"
    new_course(capsys, path, "2099-01-05")
    status, _, err = run(capsys, "course", "record", str(path), "30", "--attended")
    assert status == 2
    assert "session 30 on 2099-02-17 09:00 has not started yet" in err


def test_a_typo_is_voided_and_stays_in_the_history(
    course_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    run(capsys, "course", "record", f, "30", "--attended")  # meant 3
    status, out, _ = run(capsys, "course", "void", f, "30", "--reason", "typo for 3")
    assert status == 0
    assert out == ("Session 30: record 1 (attended) voided; the history keeps it (saved)\n")
    run(capsys, "course", "record", f, "3", "--attended")
    course = load_course(course_file)
    assert [r.kind for r in course.records] == ["attended", "void", "attended"]
    assert course.schedule[29].status == "scheduled"
    status, out, _ = run(capsys, "course", "show", f)
    assert "    1. session 30 of 36: attended  [voided: typo for 3]" in out
    status, _, err = run(capsys, "course", "void", f, "30", "--reason", "again")
    assert status == 2
    assert "session 30 has no record left to void (record 1 voided already)" in err


def test_a_closure_says_which_sessions_fall_on_it_and_the_replan_moves_only_them(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = str(course_file)
    status, out, _ = run(capsys, "course", "close", f, "2025-12-02", "--reason", "Snow day")
    assert out == (
        "Closed 2025-12-02 (Snow day); saved\n"
        f"Session 11 falls on it: re-plan (tms-schedule course replan {f})\n"
    )
    status, out, _ = run(
        capsys, "course", "close", f, "2025-12-08..2025-12-09", "--reason", "Coil repair"
    )
    assert "Sessions 15 and 16 fall on it" in out
    status, out, _ = run(capsys, "course", "replan", f, "--from", "2025-11-28")
    assert out.splitlines()[1:] == [
        "Session 11 moved from Tue 2 Dec 2025 09:00 to Wed 31 Dec 2025 09:00"
        " (Snow day: clinic closed)",
        "Session 15 moved from Mon 8 Dec 2025 09:00 to Fri 2 Jan 2026 09:00"
        " (Coil repair: clinic closed)",
        "Session 16 moved from Tue 9 Dec 2025 09:00 to Mon 5 Jan 2026 09:00"
        " (Coil repair: clinic closed)",
        # The acute phase now ends on the taper's first Monday: its Monday session moves
        # to Tuesday, the week's free day; the rest of the taper keeps its times.
        "Session 31 moved from Mon 5 Jan 2026 09:00 to Tue 6 Jan 2026 09:00"
        " (the acute phase now ends on 2026-01-05)",
    ]
    status, out, _ = run(capsys, "course", "show", f, "--format", "json")
    skipped = {d["date"]: d["reason"] for d in json.loads(out)["skipped"]}
    assert skipped["2025-12-02"] == "Snow day: clinic closed"
    page = tmp_path / "handout.html"
    status, _, err = run(
        capsys, "course", "export", f, "-o", str(page), "--stamp", "2025-12-10T17:00:00Z"
    )
    assert status == 0, err
    text = page.read_text()
    assert "Snow day" in text
    # The front desk hands out the page with its date and the revision it shows.
    revision = load_course(course_file).revision.number
    assert f"Issued 10 Dec 2025 \N{MIDDLE DOT} revision {revision}" in text
    run(
        capsys,
        "course",
        "export",
        f,
        "--revision",
        "0",
        "-o",
        str(page),
        "--cannot-come",
        "Text us",
    )
    assert "revision 0" in page.read_text()
    assert '<p class="cannot">Text us</p>' in page.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["record", "{f}", "1", "--attended", "--when", "soon"], "--when: must be a date and time"),
        (["record", "{f}", "99", "--missed", "--cause", "patient"], "the course has no session 99"),
        (["record", "{f}", "2", "--missed"], "--cause: say why session 2 was missed"),
        (["record", "{f}", "1", "--missed", "--cause", "rain"], "argument --cause: invalid choice"),
        (
            ["record", "{f}", "3", "--moved-to", "2025-11-27T09:00"],
            "the clinic is closed on 2025-11-27",
        ),
        (
            ["replan", "{f}", "--from", "2025-11-20", "--policy", "triple"],
            "argument --policy: invalid choice",
        ),
        (["check", "{f}"], "authorization: the course has none"),
        (
            ["authorize", "{f}", "--sessions", "36"],
            "authorize: give --sessions, --from and --until",
        ),
        (
            [
                "authorize",
                "{f}",
                "--sessions",
                "36",
                "--from",
                "2025-11-17",
                "--until",
                "2025-01-01",
            ],
            "the last approved day must be on or after the first",
        ),
        (["show", "missing.json"], "missing.json: no such file"),
        (["show", "{f}", "--since", "9"], "revision: must be from 0 to 0, got 9"),
        (["export", "{f}", "-o", "{f}"], "is the course file itself"),
        (["void", "{f}", "3", "--reason", "x"], "session 3 has no record to void"),
        (["export", "{f}", "--format", "csv", "-o", "y.ics"], "-o: y.ics"),
        (["export", "{f}", "-o", "y.pdf"], "-o: y.pdf has the suffix '.pdf'"),
        (["export", "{f}", "--clinic", "", "-o", "y.ics"], "--clinic: must not be empty"),
        (["close", "{f}", "2025-13-01"], "DATE: "),
        (["show", "/dev/zero"], "/dev/zero: is not a regular file"),
        (
            ["follow", "{f}", "maintenance", "--course-id", "c-1-m", "-o", "next.ics"],
            "-o: next.ics has the suffix '.ics'; a course file is JSON",
        ),
        (
            ["follow", "{f}", "maintenance", "--course-id", "c-1-m", "-o", "-"],
            "-o: standard output; a course file is JSON",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    course_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = course_file.read_bytes()
    status, out, err = run(capsys, "course", *(a.replace("{f}", str(course_file)) for a in argv))
    assert status == 2
    assert message in err
    assert err.count("\n") == 1
    assert out == ""  # nothing printed before the error
    assert course_file.read_bytes() == before  # nothing half-done


def test_recording_twice_is_refused(course_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "course", "record", str(course_file), "1", "--attended")
    status, _, err = run(capsys, "course", "record", str(course_file), "1", "--attended")
    assert status == 2
    assert "session 1 is already attended" in err


def test_course_new_needs_a_course_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys,
        "course",
        "new",
        "itbs",
        "--start",
        "2025-11-17",
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
        ["replan", "{f}", "--from", "2025-11-19", "--min-gap-hours", "nan"],
        ["replan", "{f}", "--from", "2025-11-19", "--gap-limit-days", "-3"],
        ["replan", "{f}", "--from", "2025-11-19", "--min-gap-hours", "1e300"],
        ["record", "{f}", "2", "--moved-to", "9999-12-31T23:59-01:00"],
        ["record", "{f}", "1", "--attended", "--when", "9999-12-31T23:00"],
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


def test_two_terminals_recording_at_once_lose_nothing(course_file: Path) -> None:
    """Each terminal records its own sessions on the same file at the same time."""
    command = [sys.executable, "-m", "tms_schedule", "course", "record", str(course_file)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    first = [
        subprocess.Popen([*command, str(n), "--attended"], env=env, stdout=subprocess.PIPE)
        for n in (1, 3, 5, 7)
    ]
    second = [
        subprocess.Popen(
            [*command, str(n), "--missed", "--cause", "patient"],
            env=env,
            stdout=subprocess.PIPE,
        )
        for n in (2, 4, 6, 8)
    ]
    saved = []
    for process in first + second:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        saved.append(out.decode())
    course = load_course(course_file)
    assert sorted(r.session for r in course.records) == list(range(1, 9))
    assert all("saved" in line for line in saved)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["plan", "standard-10hz", "--start", "9995-06-01", "--tz", "UTC"],
            "--start: must be a day from 1900-01-01 to 2399-12-31, got '9995-06-01'",
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


def test_course_new_twice_is_fine_and_other_files_are_kept(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same command twice writes the same course; a file that is not it needs --force."""
    before = course_file.read_bytes()
    assert new_course(capsys, course_file)[0] == 0
    assert course_file.read_bytes() == before
    status, _, err = new_course(capsys, course_file, "2025-11-24")
    assert status == 2
    assert "already holds course c-1 (0 records, revision 0)" in err
    other = tmp_path / "notes.json"
    other.write_text("{}", encoding="utf-8")
    assert "already holds another file" in new_course(capsys, other)[2]
    assert other.read_text(encoding="utf-8") == "{}"
    status, _, err = new_course(capsys, tmp_path / "c-1.ics")
    assert status == 2
    assert err.endswith("a course file is JSON: give a file name ending in .json\n")


def test_the_course_exports_as_fhir_for_the_clinic_system(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    f = str(course_file)
    run(capsys, "course", "record", f, "2", "--cancelled")
    run(capsys, "course", "replan", f, "--from", "2025-11-18")
    target = tmp_path / "c-1.fhir.json"
    argv = ["course", "export", f, "--format", "fhir", "--patient", "Patient/example-1"]
    argv += ["--stamp", "2025-11-20T08:00:00Z", "-o", str(target)]
    assert run(capsys, *argv)[1] == (
        f"Wrote 37 sessions (Mon 17 Nov 2025 to Tue 20 Jan 2026; 1 missed or cancelled)"
        f" as FHIR to {target}\n"
    )
    bundle = json.loads(target.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)  # the clinic system's FHIR parser reads it
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert [r["resourceType"] for r in resources] == ["CarePlan"] + ["Appointment"] * 37
    assert all(
        r["participant"][0]["actor"]["reference"] == "Patient/example-1" for r in resources[1:]
    )
    assert [r["status"] for r in resources[1:4]] == ["booked", "cancelled", "booked"]
    assert bundle["timestamp"] == "2025-11-20T08:00:00Z"
    before = target.read_bytes()
    assert run(capsys, *argv)[0] == 0
    assert target.read_bytes() == before  # the same export twice is the same file
    # For a FHIR server: one PUT per resource, to ids that stay across re-plans.
    status, out, _ = run(capsys, *argv[:-2], "--bundle", "transaction", "--revision", "0")
    first = json.loads(out)
    assert status == 0 and first["type"] == "transaction"
    assert first["entry"][1]["request"] == {
        "method": "PUT",
        "url": f"Appointment/{resources[1]['id']}",
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--patient: a FHIR export needs the reference of the patient's Patient resource"),
        (["--patient", "Jane Doe"], "--patient: must be a FHIR reference like 'Patient/<id>'"),
        (["--patient", "Patient/e-1", "-o", "c.ics"], "-o: c.ics names a calendar file"),
    ],
)
def test_a_fhir_export_needs_a_patient_reference(
    course_file: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    status, out, err = run(capsys, "course", "export", str(course_file), "--format", "fhir", *extra)
    assert (status, out) == (2, "")
    assert message in err
    status, _, err = run(capsys, "course", "export", str(course_file), "--patient", "Patient/e-1")
    assert status == 2
    assert "--patient: only a FHIR export names the patient" in err


def test_no_export_overwrites_a_course_file(
    course_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "c-2.json"
    other.write_bytes(course_file.read_bytes())
    before = other.read_bytes()
    for argv in (
        ["plan", "itbs", "--tz", "UTC", "--start", "2026-11-16", "-o", str(other)],
        ["course", "export", str(course_file), "-o", str(other)],
        ["course", "export", str(course_file), "--format", "json", "-o", str(other)],
    ):
        status, out, err = run(capsys, *argv)
        assert (status, out) == (2, "")
        assert err.endswith(
            f"-o: {other} is the course file of course c-1; an export over it would lose"
            " its records: write the export to another name\n"
        )
    assert other.read_bytes() == before


def test_a_course_keeps_the_uid_key_its_calendar_ids_were_made_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = tmp_path / "clinic.toml"
    clinic.write_text(
        'timezone = "America/Denver"\n[calendar]\nuid_key = "a long clinic secret, not shared"\n',
        encoding="utf-8",
    )
    f = str(tmp_path / "c-1.json")
    base = ["course", "new", "itbs", "--start", "2026-11-16", "--course-id", "c-1"]
    assert run(capsys, *base, "--clinic", str(clinic), "-o", f)[0] == 0
    ics = str(tmp_path / "c-1.ics")
    status, _, err = run(capsys, "course", "export", f, "-o", ics)
    assert status == 2  # its file is sealed with the key: read only with it
    assert "checksum: the file is sealed with the clinic's UID key (k" in err
    assert run(capsys, "course", "export", f, "--clinic", str(clinic), "-o", ics)[0] == 0
    uids = [line for line in Path(ics).read_text().splitlines() if line.startswith("UID:")]
    status, _, err = run(capsys, "course", "show", f, "--format", "csv")
    assert status == 2 and "sealed with the clinic's UID key" in err
    status, out, _ = run(capsys, "course", "show", f, "--format", "csv", "--clinic", str(clinic))
    assert status == 0
    assert uids[0].removeprefix("UID:") in out  # the uid column matches the calendar
    # A course made without a key refuses one later, for the same reason.
    g = str(tmp_path / "c-2.json")
    run(
        capsys,
        "course",
        "new",
        "itbs",
        "--start",
        "2026-11-16",
        "--course-id",
        "c-2",
        "--tz",
        "UTC",
        "-o",
        g,
    )
    status, _, err = run(capsys, "course", "export", g, "--clinic", str(clinic), "-o", ics)
    assert status == 2 and "were made without a UID key" in err
