"""Course files: a course as a JSON document (:mod:`tms_schedule.course.codec`), saved so
that nothing is lost.

Saving never loses a record. :func:`save_course` creates a new file, or replaces one that
holds the same course with nothing the new one lacks; :func:`editing` locks a course file
for a whole read-record-save, so that two terminals recording at once each see the other's
records. Every write is atomic (:func:`tms_schedule._files.write_file`) and is checked to
read back as the course it was meant to be. Loading refuses a file that cannot be right,
as a whole (see the codec).

>>> import datetime as dt, pathlib, tempfile
>>> from tms_schedule import ClinicCalendar, Plan
>>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "c-1.json"
>>> save_course(course, path)
<Course c-1 (itbs): revision 0, 0 records>
>>> load_course(path) == course
True
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import attrs

from tms_schedule._files import locked, read_file, shown_path, write_file
from tms_schedule.course.codec import course_from_json, course_to_data
from tms_schedule.course.lifecycle import Course
from tms_schedule.errors import CourseFileError, FileWriteError
from tms_schedule.export.uid import key_id

__all__ = ["MAX_BYTES", "CourseEdit", "editing", "load_course", "save_course"]

#: The largest course file read (a course of 400 sessions and thousands of records stays
#: far below it); anything larger is refused rather than read into memory.
MAX_BYTES = 32 * 1024 * 1024


def save_course(
    course: Course, path: str | Path, *, force: bool = False, key: str | bytes | None = None
) -> Course:
    """Write the course to ``path`` atomically, never losing a record (see
    :meth:`Course.save`); returns the course as saved."""
    with _locked(path):
        return _save(course, path, force=force, key=key)


def _save(course: Course, path: str | Path, *, force: bool, key: str | bytes | None) -> Course:
    _check_key(course, key)
    data = course_to_data(course, key=key)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if course_from_json(text, key=key) != course:  # never write one that reads back otherwise
        raise CourseFileError(
            f"{path}: not saved: the course would not read back the same (please report this)"
        )
    target = Path(path)
    exists = target.exists() or target.is_symlink()
    if exists and not force:
        try:
            on_disk = load_course(target, key=key)
        except CourseFileError as error:
            raise CourseFileError(
                f"{target}: holds something that is not this course's file ({error});"
                " give another name, or replace it on purpose"
            ) from None
        unchanged = on_disk._origin is not None and on_disk._origin == course._origin
        if on_disk.course_id != course.course_id:
            raise CourseFileError(
                f"{target}: holds course {on_disk.course_id}, not {course.course_id}; give"
                " another name, or replace it on purpose"
            )
        if (
            course.records[: len(on_disk.records)] != on_disk.records
            or course.revisions[: len(on_disk.revisions)] != on_disk.revisions
        ):
            raise CourseFileError(
                f"{target}: holds records or re-plans of course {course.course_id} that this"
                " copy does not have (entered elsewhere since it was loaded?); load the file"
                " again and record on it"
            )
        if not unchanged:
            differ = [
                what
                for what, mine, theirs in (
                    ("clinic calendar (closures, hours)", course.plan.clinic, on_disk.plan.clinic),
                    ("plan", attrs.evolve(course.plan, clinic=on_disk.plan.clinic), on_disk.plan),
                    ("authorization", course.authorization, on_disk.authorization),
                    ("milestone rules", course.milestone_rules, on_disk.milestone_rules),
                    (
                        "link to the course it follows",
                        (course.follows, course.relation),
                        (on_disk.follows, on_disk.relation),
                    ),
                )
                if mine != theirs
            ]
            if differ:
                raise CourseFileError(
                    f"{target}: was changed since this copy of course {course.course_id} was"
                    f" loaded (its {', '.join(differ)} differ); load the file again and make"
                    " the change on it"
                )
    _clear_leftovers(target)
    try:
        write_file(target, text.encode("utf-8"), overwrite=exists)
    except FileWriteError as error:
        raise CourseFileError(str(error)) from None
    return attrs.evolve(course, _origin=data["checksum"])


def _check_key(course: Course, key: str | bytes | None) -> None:
    """A course whose calendar ids are made with the clinic's UID key is sealed with it:
    saving it needs that key (and no other)."""
    made_with = course.uid_key_id
    if made_with in (None, "default"):
        return
    if key is None:
        raise CourseFileError(
            f"course {course.course_id}: its calendar ids are made with the clinic's UID key"
            f" ({made_with}), and its file is sealed with it: give that key to save it"
            " (--uid-key-file, or the clinic file's [calendar] uid_key)"
        )
    if key_id(key) != made_with:
        raise CourseFileError(
            f"course {course.course_id}: its calendar ids are made with the UID key"
            f" {made_with}, not with the key given ({key_id(key)})"
        )


def _clear_leftovers(target: Path) -> None:
    """Remove the temporary files a save killed between writing and renaming left behind
    (only under the file's lock, when no other save of it can be under way)."""
    real = Path(os.path.realpath(target))
    # Exactly the names write_file gives this file's temporaries (8 random characters),
    # not another file's whose name starts the same way ("c.json.bak.json").
    mine = re.compile(rf"\.{re.escape(real.name)}\.[a-z0-9_]{{8}}\.tmp")
    for leftover in real.parent.glob(f".{glob.escape(real.name)}.*.tmp"):
        if mine.fullmatch(leftover.name):
            with contextlib.suppress(OSError):
                leftover.unlink()


def load_course(path: str | Path, *, key: str | bytes | None = None) -> Course:
    """Read a course file; a missing, unreadable or malformed one raises :class:`CourseFileError`."""
    data = read_file(path, limit=MAX_BYTES, error=CourseFileError, what="course file")
    try:
        return course_from_json(data, key=key)
    except CourseFileError as error:
        raise CourseFileError(f"{shown_path(path)}: {error}") from None


@attrs.define
class CourseEdit:
    """A course file open for one change: set :attr:`course` to the changed course."""

    path: Path
    course: Course


@contextlib.contextmanager
def editing(
    path: str | Path, *, timeout: float = 10.0, key: str | bytes | None = None
) -> Iterator[CourseEdit]:
    """Lock a course file for a read-change-save; the change is saved when the block ends.

    Another process editing the same file waits for the lock (up to ``timeout`` seconds,
    then :class:`CourseFileError` says the file is busy), so no record is lost when two
    terminals record at once. Nothing is saved if the block raises or changes nothing.

    >>> import tempfile, pathlib, datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c-1.json"
    >>> Course.start(Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1")).save(path)
    <Course c-1 (itbs): revision 0, 0 records>
    >>> with editing(path) as edit:
    ...     edit.course = edit.course.attended(1, now=dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC))
    >>> len(load_course(path).records)
    1
    """
    with _locked(path, timeout):
        before = load_course(path, key=key)
        edit = CourseEdit(Path(path), before)
        yield edit
        if edit.course is not before and edit.course != before:
            _save(edit.course, path, force=False, key=key)


@contextlib.contextmanager
def _locked(path: str | Path, timeout: float = 10.0) -> Iterator[None]:
    """Hold the course file's lock (see :func:`tms_schedule._files.locked`)."""
    with locked(
        path,
        error=CourseFileError,
        timeout=timeout,
        busy="another tms-schedule is changing this course",
    ):
        yield
