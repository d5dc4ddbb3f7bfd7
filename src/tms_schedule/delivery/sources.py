"""Where the courses of a feed are: the one question a feed server asks its clinic's data.

A server (:mod:`tms_schedule.delivery.server`) needs two answers from a store, and nothing
else, so a clinic's own storage (its book, a database) plugs in behind the same two
methods (:class:`FeedSource`):

* :meth:`FeedSource.versions`: every feed's id and current version, from which the server
  derives the tokens it accepts;
* :meth:`FeedSource.feed`: one feed as it is now (its courses and choices), or ``None``.

:class:`FolderSource` answers them from a folder of course files (``*.json``, as
``tms-schedule course new`` and ``follow`` write them): each first course with the courses
that follow it is one patient's feed, named after the first course's id. A file
``feeds.toml`` beside them holds each feed's version (raised by :meth:`FolderSource.revoke`
and ``tms-schedule feed revoke``) and, if the clinic wants, its own choices::

    [feeds."c-1"]
    version = 2
    cancelled = "drop"   # or "keep" (the default)
    past_days = 60

The folder is read again only when it changed (a file's size, time or inode, the folder's
listing): an unchanged course stays the same object, so the server's
:class:`~tms_schedule.delivery.feed.FeedCache` keeps serving it, and a changed one is read
and served anew on the next request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs

from tms_schedule._files import lock_path, locked, shown_path, write_file
from tms_schedule._toml import load_toml
from tms_schedule.book.store import BookStore
from tms_schedule.course import Course
from tms_schedule.course.file import load_course
from tms_schedule.delivery.feed import (
    CANCELLED_CHOICES,
    DEFAULT_PAST_DAYS,
    DEFAULT_REFRESH,
    GOOGLE_LIMIT,
    Feed,
    patient_courses,
)
from tms_schedule.errors import ConfigError, FeedError, TmsScheduleError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.schedule import Schedule

__all__ = ["FEEDS_FILE", "BookSource", "FeedSource", "FolderSource"]

#: The file beside the course files that holds each feed's version and choices.
FEEDS_FILE = "feeds.toml"
_log = logging.getLogger("tms_schedule.feeds")
_Stat = tuple[int, int, int]  # mtime_ns, size, inode


class FeedSource(Protocol):
    """What a feed server asks of a clinic's storage."""

    def versions(self) -> Mapping[str, int]:
        """Every feed's id and its current version.

        Return the same mapping object while nothing changed: the server then keeps its
        token index instead of deriving every token again.
        """
        ...

    def feed(self, feed_id: str) -> Feed | None:
        """The feed as it is now, or ``None`` when there is no such feed any more."""
        ...


@attrs.frozen
class _Choices:
    version: int = 1
    cancelled: Literal["keep", "drop"] | None = None
    past_days: int | None = None


def _stat(path: Path) -> _Stat | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


class FolderSource:
    """The feeds of a folder of course files (see the module).

    Args:
        folder: the folder holding the course files and ``feeds.toml``.
        options: the clinic's calendar choices, as for its calendar files (the same
            ``uid_key``, or every UID differs from the files').
        past_days, cancelled, refresh, max_bytes: each feed's defaults (see
            :class:`~tms_schedule.delivery.feed.Feed`); ``feeds.toml`` may set
            ``cancelled`` and ``past_days`` for one feed.

    >>> import tempfile, pathlib
    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> acute = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> _ = acute.save(folder / "c-1.json")
    >>> _ = acute.next_course("maintenance", "c-1-m").save(folder / "c-1-m.json")
    >>> store = FolderSource(folder)
    >>> dict(store.versions()), [c.course_id for c in store.feed("c-1").courses]
    ({'c-1': 1}, ['c-1', 'c-1-m'])
    >>> store.revoke("c-1-m").version  # any of the patient's courses names the feed
    2
    >>> (folder / "feeds.toml").read_text().splitlines()[-2:]
    ['[feeds."c-1"]', 'version = 2']
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        options: CalendarOptions | None = None,
        past_days: int = DEFAULT_PAST_DAYS,
        cancelled: Literal["keep", "drop"] = "keep",
        refresh: dt.timedelta = DEFAULT_REFRESH,
        max_bytes: int | None = GOOGLE_LIMIT,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FeedError(f"folder: {shown_path(self.folder)} is not a folder of course files")
        self._defaults: dict[str, Any] = {
            "past_days": past_days,
            "cancelled": cancelled,
            "refresh": refresh,
            "max_bytes": max_bytes,
            "options": options or CalendarOptions(),
        }
        _check_defaults(self._defaults)
        self._lock = threading.RLock()
        self._listing: tuple[_Stat | None, _Stat | None] | None = None
        self._courses: dict[Path, tuple[_Stat, Course]] = {}
        self._feeds: dict[str, list[Path]] = {}
        self._choices: dict[str, _Choices] = {}
        self._versions: Mapping[str, int] = {}
        # The highest version of each feed seen: a feeds file put back from an old copy
        # never brings a revoked address back while the source is in use.
        self._floor: dict[str, int] = {}
        self._broken: str | None = None
        self.problems: list[str] = []

    # -- reading -------------------------------------------------------------------------------

    def versions(self) -> Mapping[str, int]:
        """Every feed's id and version (the same mapping object while nothing changed).

        Raises:
            FeedError: ``feeds.toml`` cannot be read (damaged, unreadable, or gone after
                an address was revoked): no feed is served rather than a revoked one.
        """
        with self._lock:
            self._refresh()
            self._raise_if_broken()
            return self._versions

    def feed(self, feed_id: str) -> Feed | None:
        """The feed ``feed_id`` as the folder holds it now, or ``None`` (raises as
        :meth:`versions` does)."""
        with self._lock:
            self._refresh()
            self._raise_if_broken()
            paths = self._feeds.get(feed_id)
            if paths is None:
                return None
            courses = []
            for path in paths:
                course = self._course(path)
                if course is None:  # removed or broken since the folder was read
                    self._listing = None
                    return None
                courses.append(course)
            choices = self._choices.get(feed_id, _Choices())
            version = max(choices.version, self._floor.get(feed_id, 1))
            stats = [self._courses[p][0] for p in paths]
        modified = dt.datetime.fromtimestamp(max(s[0] for s in stats) / 1e9, dt.UTC)
        settings = dict(self._defaults)
        if choices.cancelled is not None:
            settings["cancelled"] = choices.cancelled
        if choices.past_days is not None:
            settings["past_days"] = choices.past_days
        return Feed(feed_id, courses, version=version, modified=modified, **settings)

    def feed_of(self, course_id: str) -> str:
        """The id of the feed that holds course ``course_id`` (the first course's id)."""
        with self._lock:
            self._refresh()
            for feed_id, paths in self._feeds.items():
                for path in paths:
                    if self._courses[path][1].course_id == course_id:
                        return feed_id
        known = ", ".join(sorted(self._feeds)) or "none"
        raise FeedError(
            f"course: no course {course_id} in {shown_path(self.folder)} (feeds: {known})"
        )

    def check(self) -> None:
        """Raise :class:`~tms_schedule.errors.FeedError` naming every course file that
        cannot be read, every course left out of the feeds, and a ``feeds.toml`` that
        cannot be read (a server refuses to start on them rather than hide a patient's
        feed or bring a revoked address back)."""
        with self._lock:
            self._listing = None
            self._refresh()
            if self.problems:
                raise FeedError("; ".join(self.problems))

    # -- revoking ------------------------------------------------------------------------------

    def revoke(self, course_id: str) -> Feed:
        """Revoke the address of the feed that holds ``course_id``: its version is raised
        in ``feeds.toml`` and the feed returned with it (its new token is
        ``key.token(feed.feed_id, feed.version)``).

        ``feeds.toml`` is locked from reading it to writing it (another terminal revoking
        at the same time waits), and one that cannot be read is left as it is: writing it
        anew would drop every earlier revocation.
        """
        path = self.folder / FEEDS_FILE
        with self._lock:
            feed_id = self.feed_of(course_id)
            with locked(path, error=FeedError, busy="another terminal is revoking a feed"):
                choices = _read_choices(path, self.folder, refuse=True, holding=True)
                current = choices.get(feed_id, _Choices())
                version = max(current.version, self._floor.get(feed_id, 1)) + 1
                choices[feed_id] = attrs.evolve(current, version=version)
                write_file(path, _feeds_toml(choices).encode("utf-8"))
                _mark_revoked(path)
            self._listing = None
            feed = self.feed(feed_id)
        assert feed is not None
        return feed

    # -- the folder ----------------------------------------------------------------------------

    def _raise_if_broken(self) -> None:
        if self._broken is not None:
            raise FeedError(self._broken)

    def _refresh(self) -> None:
        listing = (_stat(self.folder), _stat(self.folder / FEEDS_FILE))
        if listing == self._listing:
            return
        problems: list[str] = []
        loaded: dict[Path, Course] = {}
        for path in sorted(self.folder.glob("*.json")):
            course = self._course(path, problems)
            if course is not None:
                loaded[path] = course
        courses = _one_file_per_course(loaded, problems)
        groups = patient_courses(courses.values(), problems)
        where = {course.course_id: path for path, course in courses.items()}
        self._feeds = {
            feed_id: [where[c.course_id] for c in group] for feed_id, group in groups.items()
        }
        try:
            self._choices = _read_choices(self.folder / FEEDS_FILE, self.folder)
            self._broken = None
        except TmsScheduleError as error:
            problems.append(str(error))
            self._broken = str(error)
        for feed_id, choice in self._choices.items():
            if choice.version < self._floor.get(feed_id, 0):
                problems.append(
                    f"{FEEDS_FILE}: feed {feed_id} is at version {choice.version} there but was"
                    f" at {self._floor[feed_id]}: an older copy put back? Its address stays"
                    " revoked"
                )
            self._floor[feed_id] = max(choice.version, self._floor.get(feed_id, 1))
        versions = {f: max(self._floor.get(f, 1), 1) for f in self._feeds}
        if versions != self._versions:
            self._versions = versions
        for problem in problems:
            if problem not in self.problems:
                _log.warning("feeds: %s", problem)
        self.problems = problems
        self._listing = listing

    def _course(self, path: Path, problems: list[str] | None = None) -> Course | None:
        stat = _stat(path)
        known = self._courses.get(path)
        if known is not None and known[0] == stat:
            return known[1]
        if stat is None:
            self._courses.pop(path, None)
            return None
        try:
            course = load_course(path, key=self._defaults["options"].uid_key)
        except TmsScheduleError as error:
            self._courses.pop(path, None)
            if problems is not None:
                problems.append(f"{error}; left out")
            else:
                _log.warning("feeds: %s", error)
            return None
        self._courses[path] = (stat, course)
        return course


def _one_file_per_course(loaded: Mapping[Path, Course], problems: list[str]) -> dict[Path, Course]:
    """One file for each course: a copy (``c-2 copy.json`` beside ``c-2.json``) is left
    out, the file named after the course kept; copies that differ, none of them named so,
    are all left out (which one is right cannot be told)."""
    by_id: dict[str, list[Path]] = {}
    for path, course in loaded.items():
        by_id.setdefault(course.course_id, []).append(path)
    kept: dict[Path, Course] = {}
    for course_id, paths in by_id.items():
        if len(paths) == 1:
            kept[paths[0]] = loaded[paths[0]]
            continue
        named = [p for p in paths if p.name == f"{course_id}.json"]
        same = all(loaded[p] == loaded[paths[0]] for p in paths)
        chosen = named[0] if named else paths[0] if same else None
        others = ", ".join(shown_path(p) for p in paths if p != chosen)
        if chosen is None:
            problems.append(
                f"{others}: each holds course {course_id}, and they differ; all left out"
                f" (keep one, named {course_id}.json)"
            )
            continue
        problems.append(
            f"{others}: holds course {course_id} too, as {shown_path(chosen.name)} does;"
            f" left out (the feed serves {shown_path(chosen.name)})"
        )
        kept[chosen] = loaded[chosen]
    return kept


def _check_defaults(defaults: dict[str, Any]) -> None:
    """Refuse bad defaults when the store is made, as a feed would refuse them."""
    Feed("check", [Schedule("check", "check", "UTC", ())], **defaults)


#: Written into ``feeds.toml``'s lock file by the first revocation that completes, after
#: the file (from byte 1: Windows locks byte 0). A lock file alone proves nothing: a
#: terminal makes it when it starts to wait, before it has revoked anything.
_REVOKED_MARK = b"revoked\n"


def _mark_revoked(path: Path) -> None:
    """Note beside ``feeds.toml`` that a revocation was made (its lock is held)."""
    lock = lock_path(path)
    with open(lock, "r+b") as stream:
        if _REVOKED_MARK not in stream.read():
            stream.seek(1)
            stream.write(_REVOKED_MARK)
            stream.flush()
            os.fsync(stream.fileno())


def _was_revoked(path: Path) -> bool:
    try:
        return _REVOKED_MARK in lock_path(path).read_bytes()
    except OSError:
        return False


def _read_choices(
    path: Path, folder: Path, *, refuse: bool = False, holding: bool = False
) -> dict[str, _Choices]:
    """Each feed's version and choices in ``feeds.toml``.

    No file means no feed was ever revoked, unless a revocation left its mark in the lock
    file: then ``feeds.toml`` was removed since and every revoked address would come
    back. That, or a file that cannot be read, raises :class:`ConfigError`. ``holding``:
    the caller holds the lock (no revocation can be under way).
    """
    if _stat(path) is None:
        if not holding and lock_path(path).exists():
            # A first revocation may be under way (its file comes before its mark): let it end.
            with locked(path, error=ConfigError, busy="a feed is being revoked"):
                pass
            if _stat(path) is not None:
                return _read_choices(path, folder, refuse=refuse, holding=holding)
        if not _was_revoked(path):
            return {}
        raise ConfigError(
            f"{shown_path(path)}: missing, though feed addresses were revoked in"
            f" {shown_path(folder)} (its lock file {lock_path(path).name} is there): put it"
            " back from a copy; without it every revoked address would work again (if"
            " none ever was, remove the lock file)"
        )
    try:
        return _parse_choices(path)
    except ConfigError as error:
        if not refuse:
            raise
        raise ConfigError(
            f"{error}; nothing revoked: writing it anew would drop the revocations it"
            " holds: mend it or put it back from a copy first"
        ) from None


def _parse_choices(path: Path) -> dict[str, _Choices]:
    table = load_toml(path)
    table.check_keys(["feeds"])
    if "feeds" not in table:
        return {}
    feeds = table.child("feeds", table.get("feeds"))
    choices: dict[str, _Choices] = {}
    for feed_id in list(feeds.data):
        entry = feeds.child(feed_id, feeds.get(feed_id))
        entry.check_keys(["version", "cancelled", "past_days"])
        version = entry.typed("version", "int", required=True)
        cancelled = entry.typed("cancelled", "str")
        past_days = entry.typed("past_days", "int")
        if version < 1:
            raise ConfigError(f"{entry.where('version')}: must be 1 or more, got {version}")
        if cancelled is not None and cancelled not in CANCELLED_CHOICES:
            raise ConfigError(
                f"{entry.where('cancelled')}: must be 'keep' or 'drop', got {cancelled!r}"
            )
        if past_days is not None and not 0 <= past_days <= 3660:
            raise ConfigError(
                f"{entry.where('past_days')}: must be from 0 to 3660, got {past_days}"
            )
        choices[feed_id] = _Choices(version, cancelled, past_days)
    return choices


def _feeds_toml(choices: Mapping[str, _Choices]) -> str:
    lines = [
        "# Each patient's feed, named after their first course: its version (raised to",
        "# revoke the feed's address: tms-schedule feed revoke) and its own choices.",
    ]
    for feed_id in sorted(choices):
        entry = choices[feed_id]
        lines += ["", f"[feeds.{json.dumps(feed_id)}]", f"version = {entry.version}"]
        if entry.cancelled is not None:
            lines.append(f"cancelled = {json.dumps(entry.cancelled)}")
        if entry.past_days is not None:
            lines.append(f"past_days = {entry.past_days}")
    return "\n".join(lines) + "\n"


class BookSource:
    """The feeds of a clinic's book (a SQLite file or a PostgreSQL site that ``tms-schedule
    book`` keeps): each first course with the courses that follow it is one patient's
    feed, named after the first course's id, as in a folder. The book holds each feed's
    version (raised by :meth:`revoke` and ``tms-schedule feed revoke``) and own choices.

    Nothing is kept between requests that another process could contradict: every
    request asks the site's version (one small query), and the groups, versions and
    courses are read again only when it moved; a course is parsed again only when its own
    stamp moved. So several servers may serve one PostgreSQL book. A course that cannot
    be read is left out with one line in the log; every other patient's feed is served.

    Args:
        location: the book's file, or its ``postgresql://`` address.
        site: the site, where the address names none.
        options: the calendar choices (default: the clinic file's the book was made from,
            its ``uid_key`` above all).
        past_days, cancelled, refresh, max_bytes: each feed's defaults (see
            :class:`~tms_schedule.delivery.feed.Feed`).
    """

    def __init__(
        self,
        location: str | Path,
        *,
        site: str | None = None,
        options: CalendarOptions | None = None,
        past_days: int = DEFAULT_PAST_DAYS,
        cancelled: Literal["keep", "drop"] = "keep",
        refresh: dt.timedelta = DEFAULT_REFRESH,
        max_bytes: int | None = GOOGLE_LIMIT,
    ) -> None:
        self._store = BookStore(location, site=site, threads=True)
        try:
            self._defaults: dict[str, Any] = {
                "past_days": past_days,
                "cancelled": cancelled,
                "refresh": refresh,
                "max_bytes": max_bytes,
                "options": options or self._store.settings().calendar_options,
            }
            _check_defaults(self._defaults)
        except BaseException:
            self._store.close()
            raise
        self._lock = threading.RLock()
        self._seen: int | None = None
        self._groups: dict[str, list[str]] = {}
        self._choices: dict[str, tuple[int, str | None, int | None]] = {}
        self._versions: Mapping[str, int] = {}
        self._courses: dict[str, Course] = {}
        self.problems: list[str] = []

    def versions(self) -> Mapping[str, int]:
        """Every feed's id and version (the same mapping object while nothing changed)."""
        with self._lock:
            self._refresh()
            return self._versions

    def feed(self, feed_id: str) -> Feed | None:
        """The feed ``feed_id`` as the book holds it now, or ``None``."""
        with self._lock:
            self._refresh()
            ids = self._groups.get(feed_id)
            if ids is None:
                return None
            courses = [course for course in map(self._course, ids) if course is not None]
            if not courses:
                return None
            version, cancelled, past_days = self._choices.get(feed_id, (1, None, None))
        settings = dict(self._defaults)
        if cancelled is not None:
            settings["cancelled"] = cancelled
        if past_days is not None:
            settings["past_days"] = past_days
        return Feed(feed_id, courses, version=version, **settings)

    def feed_of(self, course_id: str) -> str:
        """The id of the feed that holds course ``course_id`` (the first course's id)."""
        with self._lock:
            self._refresh()
            for feed_id, ids in self._groups.items():
                if course_id in ids:
                    return feed_id
        known = ", ".join(sorted(self._groups)) or "none"
        raise FeedError(f"course: no course {course_id} in the book (feeds: {known})")

    def check(self) -> None:
        """Raise :class:`~tms_schedule.errors.FeedError` if the book cannot be read."""
        with self._lock:
            self._seen = None
            self._refresh()
            if self.problems:
                raise FeedError("; ".join(self.problems))

    def revoke(self, course_id: str, *, now: dt.datetime, actor: str = "feed revoke") -> Feed:
        """Revoke the address of the feed that holds ``course_id`` (see
        :meth:`FolderSource.revoke`); ``now`` and ``actor`` go to the book's audit trail."""
        with self._lock:
            feed_id = self.feed_of(course_id)
            self._store.revoke_feed(feed_id, now=now, actor=actor)
            self._seen = None
            feed = self.feed(feed_id)
        assert feed is not None
        return feed

    def close(self) -> None:
        """Close the connection to the book."""
        self._store.close()

    def _refresh(self) -> None:
        try:
            version = self._store.version()
        except TmsScheduleError as error:
            self._failed(str(error))
            return
        if version == self._seen:
            return
        problems: list[str] = []
        try:
            groups = self._store.feed_groups(problems)
            choices = self._store.feed_versions()
        except TmsScheduleError as error:
            problems.append(str(error))
            groups, choices = {}, {}
        self._groups = groups
        self._choices = choices
        versions = {f: choices.get(f, (1, None, None))[0] for f in groups}
        if versions != self._versions:
            self._versions = versions
        for problem in problems:
            if problem not in self.problems:
                _log.warning("feeds: %s", problem)
        self.problems = problems
        self._seen = version

    def _failed(self, problem: str) -> None:
        if problem not in self.problems:
            _log.warning("feeds: %s", problem)
        self.problems = [problem]
        self._seen = None
        self._groups, self._versions = {}, {}

    def _course(self, course_id: str) -> Course | None:
        """The course as the book holds it; an unchanged one stays the object the feed
        cache knows. One that cannot be read is left out, said once in the log."""
        try:
            course = self._store.course(course_id)
        except TmsScheduleError as error:
            problem = f"course {course_id} left out of its feed: {error}"
            if problem not in self.problems:
                self.problems.append(problem)
                _log.warning("feeds: %s", problem)
            return None
        known = self._courses.get(course_id)
        if known is not None and (known is course or known == course):
            return known
        self._courses[course_id] = course
        return course
