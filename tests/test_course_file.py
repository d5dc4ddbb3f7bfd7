"""Course files: lossless, versioned, refused whole when damaged, never half-written."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs
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
from tms_schedule.course.codec import (
    checksum,
    course_from_json,
    course_to_compact_json,
    course_to_data,
)
from tms_schedule.course.file import editing, load_course, save_course
from tms_schedule.errors import CourseFileError

LATER = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
CLINIC = ClinicCalendar(
    "America/Denver",
    holidays="US-CO",
    open_holidays=["Veterans Day"],
    weekday_hours={"Fri": "08:00-13:00"},
    closures=(Closure(dt.date(2026, 12, 24), dt.date(2026, 12, 31), "Winter break"),),
    extra_open_days=(ExtraOpenDay(dt.date(2026, 12, 5), "09:00-12:00", "Makeup", True),),
)


NOW = dt.datetime(2026, 11, 19, 8, tzinfo=CLINIC.zone)


def busy_course() -> Course:
    protocol = get_protocol("standard-10hz").tune(acute_sessions=24, id="clinic-10hz", name="Ours")
    course = Course.start(Plan(protocol, CLINIC, "2026-11-16", "09:00", "c-7"))
    course = course.authorize(Authorization(30, dt.date(2026, 11, 16), dt.date(2027, 1, 31)))
    course = course.attended(1, now=NOW).missed(2, "device", "coil fault", now=NOW)
    course = course.attended(3, now=NOW)
    course = course.replan(NOW, "extra-day")
    course = course.moved(5, dt.datetime(2026, 11, 20, 11, tzinfo=CLINIC.zone))
    return course.extend_authorization(6)


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
    assert json.loads(path.read_text())["version"] == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t[: len(t) // 2], "not valid JSON"),
        (
            lambda t: t.replace('"version": 2', '"version": 4'),
            "version 4, written by a newer tms_schedule",
        ),
        (
            lambda t: t.replace('"format": "tms_schedule/course"', '"format": "other"'),
            "not a course file",
        ),
        # Edited by hand: a record altered or removed, a revision dropped, the protocol or
        # the time zone changed. The checksum says so; nothing is accepted silently.
        (lambda t: t.replace('"kind": "missed"', '"kind": "attended"', 1), "checksum"),
        (lambda t: t.replace('"cause": "device"', '"cause": "patient"', 1), "checksum"),
        (
            lambda t: t.replace('"timezone": "America/Denver"', '"timezone": "Europe/Berlin"', 1),
            "checksum",
        ),
        (lambda t: t.replace('"session_minutes": 40', '"session_minutes": 20', 1), "checksum"),
        (lambda t: _without_last_record(t), "checksum"),
        (lambda t: _without_last_revision(t), "checksum"),
        (lambda t: t.replace('"session": 5', '"session": 500'), "checksum"),
        (lambda t: "{}", "not a course file"),
        (
            lambda t: '{"format": "tms_schedule/course", "version": 2, "n": ' + "9" * 5000 + "}",
            "not valid JSON .*: a number longer than 4300 digits$",
        ),
    ],
)
def test_damaged_files_are_refused_whole(tmp_path: Path, damage: object, message: str) -> None:
    text = busy_course().to_json()
    damaged = damage(text)  # type: ignore[operator]
    assert damaged != text
    with pytest.raises(CourseFileError, match=message):
        course_from_json(damaged)


@pytest.mark.parametrize("key", [None, "a clinic secret of 16+ characters"])
def test_the_store_s_compact_document_is_the_same_document_and_checked_as_written(
    key: str | None,
) -> None:
    # The store keeps the canonical text the checksum is made of, the checksum added last,
    # and reads it back by hashing the text as it is: what was edited is still refused.
    course = busy_course()
    text = course_to_compact_json(course, key=key)
    assert "\n" not in text
    assert json.loads(text) == course_to_data(course, key=key)
    for form in (text, text.encode("utf-8"), text.replace(',"checksum"', ' ,"checksum"')):
        again = course_from_json(form, key=key)
        assert again == course
        assert again.schedule == course.schedule
    other = course_to_compact_json(course.extend_authorization(2), key=key)
    tail = other[other.rindex(',"checksum"') :]
    for damaged in (
        text.replace('"kind":"missed"', '"kind":"attended"', 1),
        text.replace('"cause":"device"', '"cause":"patient"', 1),
        text.replace('"session_minutes":40', '"session_minutes":20', 1),
        text[: text.rindex(',"checksum"')] + tail,  # another state's checksum on this one
        other[: other.rindex(',"checksum"')] + text[text.rindex(',"checksum"') :],
    ):
        assert damaged != text
        with pytest.raises(CourseFileError, match="checksum"):
            course_from_json(damaged, key=key)
        with pytest.raises(CourseFileError, match="checksum"):
            course_from_json(damaged.encode("utf-8"), key=key)


def _without_last_record(text: str) -> str:
    data = json.loads(text)
    data["records"].pop()
    return json.dumps(data)


def _without_last_revision(text: str) -> str:
    data = json.loads(text)
    data["revisions"].pop()
    return json.dumps(data)


def _resealed(data: dict[str, object]) -> str:
    """A document edited and given a checksum again: only the structural checks stand."""
    data.pop("checksum", None)
    data["checksum"] = checksum(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(revisions=[]), "record counts do not match"),
        (lambda d: d["records"].append({**d["records"][0], "session": 500}), "no session 500"),
        (
            lambda d: d["records"][0].update(kind="void", voids=3, note="typo"),
            "voids a record after it",
        ),
    ],
)
def test_a_resealed_but_impossible_history_is_refused(edit: object, message: str) -> None:
    data = json.loads(busy_course().to_json())
    edit(data)  # type: ignore[operator]
    with pytest.raises(CourseFileError, match=message):
        course_from_json(_resealed(data))


@pytest.mark.parametrize(
    "form",
    [
        lambda text: text,  # a document as text (the store's)
        lambda text: text.encode("utf-8"),  # a file's bytes
        lambda text: text.encode("utf-16"),  # bytes of another encoding JSON allows
        lambda text: json.loads(text),  # text read with surrogateescape: the surrogate itself
    ],
    ids=["escaped", "utf-8", "utf-16", "raw"],
)
def test_text_that_was_not_utf_8_is_named_in_every_form_a_document_comes_in(
    form: object,
) -> None:
    data = _version_1(busy_course())  # no checksum to trip over the surrogate first
    data["plan"]["protocol"]["name"] = "Ours\udcff"
    text = json.dumps(data)  # the surrogate as an escape, the rest ASCII
    given = form(text)  # type: ignore[operator]
    if isinstance(given, dict):  # the same document, its surrogate held as a character
        given = json.dumps(given, ensure_ascii=False)
    with pytest.raises(CourseFileError, match="plan.protocol.name: holds text that is not UTF-8"):
        course_from_json(given)


def _version_1(course: Course) -> dict[str, object]:
    """The course's document as version 1 wrote it (no checksum)."""
    data = json.loads(course.to_json())
    data.pop("checksum")
    data["version"] = 1
    for record in data["records"]:
        del record["recorded"], record["voids"]
    for revision in data["revisions"]:
        revision["start"] = revision["start"][:10] if revision["start"] else None
        del revision["removed"], revision["reasons"]
    return data


def test_a_version_1_file_is_read_and_written_back_as_version_2() -> None:
    course = busy_course()
    data = _version_1(course)
    old = course_from_json(json.dumps(data))
    assert old.schedule.sessions == course.schedule.sessions
    assert json.loads(old.to_json())["version"] == 2
    assert course_from_json(old.to_json()) == old


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
        save_course(busy_course().attended(6, now=LATER), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "c-7.json"
    ]  # no temporary left


def test_missing_and_unwritable_paths_are_course_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CourseFileError, match="missing.json: no such file"):
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
    # Moved once: SEQUENCE 1. Its place in the course changed too (session 2 was missed), but
    # the calendar shows no place unless titles are numbered, so that is counted apart.
    assert (by_number[5].sequence, by_number[5].renumbered) == (1, 1)
    numbered = icaljs_read(course.to_ics(stamp=stamp, session_numbers=True))["events"]
    position = [s.number for s in course.schedule].index(5)
    assert numbered[position]["sequence"] == 2  # a numbered title shows the new place
    original = course.to_ics(stamp=stamp, revision=0)
    assert original.count(b"BEGIN:VEVENT") == 30


# -- saving never loses a record ------------------------------------------------------------------


def test_save_creates_or_continues_but_never_replaces_another_history(tmp_path: Path) -> None:
    path = tmp_path / "c-7.json"
    course = busy_course()
    course.save(path)
    more = Course.load(path).attended(6, now=LATER)
    more.save(path)  # the same course with one more record
    assert Course.load(path) == more
    with pytest.raises(CourseFileError, match="that this copy does not have"):
        course.save(path)  # a stale copy would drop the record entered meanwhile
    other = Course.start(Plan("itbs", CLINIC, "2026-11-16", "09:00", "c-8"))
    with pytest.raises(CourseFileError, match="holds course c-7, not c-8"):
        other.save(path)
    other.save(path, force=True)
    assert Course.load(path).course_id == "c-8"


def test_a_link_to_a_course_file_stays_a_link_and_a_read_only_one_is_refused(
    tmp_path: Path,
) -> None:
    real = tmp_path / "store" / "c-7.json"
    real.parent.mkdir()
    busy_course().save(real)
    link = tmp_path / "c-7.json"
    link.symlink_to(real)
    with editing(link) as edit:
        edit.course = edit.course.attended(6, now=LATER)
    assert link.is_symlink()
    assert len(load_course(real).records) == 5
    real.chmod(0o444)
    with pytest.raises(CourseFileError, match="is read-only"), editing(link) as edit:
        edit.course = edit.course.attended(7, now=LATER)
    assert len(load_course(real).records) == 5


def test_a_busy_file_says_so(tmp_path: Path) -> None:
    path = tmp_path / "c-7.json"
    busy_course().save(path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from tms_schedule.course.file import editing\n"
            "with editing(sys.argv[1]):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(5)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with (
            pytest.raises(CourseFileError, match=r"busy: another tms-schedule is changing"),
            editing(path, timeout=0.3),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with editing(path, timeout=5):  # free again once the other process is gone
        pass


_RECORDER = """
import datetime as dt, sys
from tms_schedule.course.file import editing
path, first = sys.argv[1], int(sys.argv[2])
later = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
for number in range(first, 25, 2):
    with editing(path, timeout=60) as edit:
        edit.course = edit.course.attended(number, now=later)
    print(number, flush=True)
"""


def test_two_processes_recording_at_once_lose_nothing(tmp_path: Path) -> None:
    """Odd sessions from one process, even ones from another, interleaved on one file: every
    record a process reports saved is in the file at the end."""
    path = tmp_path / "c-1.json"
    Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1")).save(path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RECORDER, str(path), str(first)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for first in (1, 2)
    ]
    reported: list[int] = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        reported += [int(line) for line in out.split()]
    saved = sorted(r.session for r in load_course(path).records)
    assert saved == sorted(reported) == list(range(1, 25))


_SAVER = """
import datetime as dt, sys
from tms_schedule.course.file import editing, load_course
path = sys.argv[1]
later = dt.datetime(2028, 1, 1, tzinfo=dt.UTC)
number = 1
while True:
    with editing(path) as edit:
        course = edit.course
        if course.remaining():
            edit.course = course.moved(5, course.schedule[4].start + dt.timedelta(minutes=number % 3))
    print(number, flush=True)
    number += 1
"""


def test_a_save_killed_at_any_moment_leaves_a_loadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c-1.json"
    clinic = ClinicCalendar("UTC", hours="00:00-23:59")
    Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")).save(path)
    for delay in (0.05, 0.13, 0.31, 0.47, 0.62, 0.85):
        saver = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert saver.stdout is not None
            saver.stdout.readline()  # it has saved at least once
            time.sleep(delay)
        finally:
            saver.send_signal(signal.SIGKILL)
            saver.wait()
        course = load_course(path)  # whole, whichever save the kill interrupted
        assert course.course_id == "c-1"
        # A kill between write and rename may leave one temporary file; the next save
        # clears it.
        assert len([p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]) <= 1
    with editing(path) as edit:
        edit.course = edit.course.cancelled(36)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_copy_loaded_earlier_never_overwrites_a_closure_or_authorization_entered_since(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c-7.json"
    busy_course().save(path)
    mine = Course.load(path)  # the clinic software's copy
    with editing(path) as edit:  # meanwhile, the front desk
        clinic = edit.course.plan.clinic
        closure = Closure(dt.date(2026, 12, 2), reason="Snow day")
        edit.course = edit.course.with_clinic(
            attrs.evolve(clinic, closures=(*clinic.closures, closure))
        ).authorize(Authorization(36, dt.date(2026, 11, 16), dt.date(2027, 2, 28)))
    with pytest.raises(
        CourseFileError,
        match=r"was changed since this copy .* loaded \(its clinic calendar \(closures, hours\), authorization differ\)",
    ):
        mine.cancelled(20).save(path)
    assert Course.load(path).authorization.sessions == 36  # type: ignore[union-attr]
    # A copy that is the file's own keeps saving: each save hands back the saved course.
    fresh = Course.load(path)
    saved = fresh.cancelled(20).save(path)
    saved = saved.authorize(None).save(path)  # its own change, not someone else's
    assert Course.load(path).authorization is None
    assert Course.load(path).records == saved.records


FORMAT_1 = Path(__file__).parent / "golden" / "course-format-1.json"


def test_a_format_1_file_of_the_earlier_release_reads_and_saves_as_format_2(
    tmp_path: Path,
) -> None:
    """The file was written by the release before checksums (one attendance, a miss, a
    cancellation, a re-plan and a move)."""
    course = load_course(FORMAT_1)
    assert [r.describe() for r in course.records][:3] == [
        "attended",
        "missed (patient)",
        "cancelled",
    ]
    assert course.revision.number == 1 and course.revision.removed == ()
    assert len(course.schedule.active_sessions()) == 36
    path = tmp_path / "legacy-1.json"
    path.write_bytes(FORMAT_1.read_bytes())
    with editing(path) as edit:
        edit.course = edit.course.attended(3, now=LATER)
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and saved["checksum"] == checksum(saved)
    assert load_course(path).records[:4] == course.records[:4]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"timezone": "America/Denver"', '"timezone": "America/Chicago"'),
        ('"session_minutes": 40', '"session_minutes": 30'),
    ],
)
def test_a_format_1_file_whose_plan_was_edited_is_refused(old: str, new: str) -> None:
    text = FORMAT_1.read_text()
    assert old in text
    with pytest.raises(CourseFileError, match="revision 0 is not what the file's plan gives"):
        course_from_json(text.replace(old, new, 1))
