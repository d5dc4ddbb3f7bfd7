"""Course files: lossless, versioned, refused whole when damaged, never half-written."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from independent_parsers import icaljs_read, libical_read, utc_iso
from tms_schedule import (
    Authorization,
    ClinicCalendar,
    Closure,
    Course,
    ExtraOpenDay,
    Plan,
    get_protocol,
)
from tms_schedule.course.file import course_from_json, load_course, save_course
from tms_schedule.errors import CourseFileError

CLINIC = ClinicCalendar(
    "America/Denver",
    holidays="US-CO",
    open_holidays=["Veterans Day"],
    weekday_hours={"Fri": "08:00-13:00"},
    closures=(Closure(dt.date(2026, 12, 24), dt.date(2026, 12, 31), "Winter break"),),
    extra_open_days=(ExtraOpenDay(dt.date(2026, 12, 5), "09:00-12:00", "Makeup", True),),
)


def busy_course() -> Course:
    protocol = get_protocol("standard-10hz").tune(acute_sessions=24, id="clinic-10hz", name="Ours")
    course = Course.start(Plan(protocol, CLINIC, "2026-11-16", "09:00", "c-7"))
    course = course.authorize(Authorization(30, dt.date(2026, 11, 16), dt.date(2027, 1, 31)))
    course = course.attended(1).missed(2, "device", "coil fault").attended(3)
    course = course.replan(dt.date(2026, 11, 19), "extra-day")
    return course.moved(5, dt.datetime(2026, 11, 20, 11, tzinfo=CLINIC.zone)).extend_authorization(
        6
    )


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    course = busy_course()
    path = tmp_path / "c-7.json"
    save_course(course, path)
    again = load_course(path)
    assert again == course
    assert again.schedule == course.schedule
    assert again.plan.protocol.name == "Ours"
    assert again.plan.clinic == CLINIC
    assert [r.note for r in again.records] == [None, "coil fault", None, None]
    assert json.loads(path.read_text())["version"] == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t[: len(t) // 2], "not valid JSON"),
        (
            lambda t: t.replace('"version": 1', '"version": 2'),
            "version 2, written by a newer tms_schedule",
        ),
        (
            lambda t: t.replace('"format": "tms_schedule/course"', '"format": "other"'),
            "not a course file",
        ),
        (
            lambda t: t.replace('"kind": "missed"', '"kind": "attended"', 1),
            "the records say attended",
        ),
        (
            lambda t: t.replace('"timezone": "America/Denver"', '"timezone": "Mars/Base"', 1),
            "timezone",
        ),
        (lambda t: t.replace('"session": 5', '"session": 500'), "no session 500"),
        (lambda t: "{}", "not a course file"),
    ],
)
def test_damaged_files_are_refused_whole(tmp_path: Path, damage: object, message: str) -> None:
    text = busy_course().to_json()
    damaged = damage(text)  # type: ignore[operator]
    assert damaged != text
    with pytest.raises(CourseFileError, match=message):
        course_from_json(damaged)


def test_a_failed_save_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c-7.json"
    save_course(busy_course(), path)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(CourseFileError, match=r"not written \(disk full\); the file is as it was"):
        save_course(busy_course().attended(6), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-7.json"]  # no temporary left


def test_missing_and_unwritable_paths_are_course_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CourseFileError, match="no such course file"):
        load_course(tmp_path / "missing.json")
    with pytest.raises(CourseFileError, match="cannot write there"):
        save_course(busy_course(), tmp_path / "no-such-dir" / "c.json")


def test_revision_calendar_read_by_independent_parsers() -> None:
    course = busy_course()
    stamp = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    data = course.to_ics(stamp=stamp)
    by_number = {s.number: s for s in course.schedule}
    for parsed in (icaljs_read(data), libical_read(data)):
        events = parsed["events"]
        assert len(events) == len(course.schedule)
        for event, session in zip(events, course.schedule, strict=True):
            assert event["start_utc"] == utc_iso(session.start)
            assert event["sequence"] == session.sequence
            assert event["status"] == ("CONFIRMED" if session.active else "CANCELLED")
        missed = next(e for e in events if e["status"] == "CANCELLED")
        assert missed["alarms"] == []
    assert by_number[5].sequence == 1
    original = course.to_ics(stamp=stamp, revision=0)
    assert original.count(b"BEGIN:VEVENT") == 30
