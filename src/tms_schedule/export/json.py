"""JSON export and import of a :class:`~tms_schedule.schedule.Schedule`.

The document is one object::

    {"format": "tms_schedule/schedule", "version": 1,
     "course_id": "c-1", "protocol": "standard-10hz", "timezone": "America/Denver",
     "sessions": [{"number": 1, "phase": "acute", "phase_number": 1,
                   "start": "2026-11-16T09:00:00-07:00", "end": "2026-11-16T10:30:00-07:00",
                   "status": "scheduled", "sequence": 0,  # "renumbered" when not 0
                   "uid": "6483...-..."}, ...],
     "skipped": [{"date": "2026-11-26", "reason": "Thanksgiving Day: clinic closed",
                  "phase": "acute"}, ...],
     "target": 36,
     "progress": {"delivered": 0, "missed": 0, "cancelled": 0, "to_come": 36, "owed": 0}}

Times are ISO 8601 with the clinic's UTC offset. Fields may be added later; these keep
their meaning. :func:`schedule_from_json` reads it back into an equal Schedule.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from tms_schedule._time import as_date
from tms_schedule._validate import (
    check_course_id,
    check_text,
    int_in_range,
    is_whole,
    parse_json,
)
from tms_schedule.clinic import iana_zone_names
from tms_schedule.errors import ScheduleFormatError
from tms_schedule.export.uid import session_uid
from tms_schedule.schedule import SESSION_STATUSES, Schedule, Session, SkippedDay

__all__ = [
    "FORMAT",
    "VERSION",
    "schedule_from_data",
    "schedule_from_json",
    "schedule_to_dict",
    "schedule_to_json",
    "schedules_from_data",
]

FORMAT = "tms_schedule/schedule"
VERSION = 1
# Session numbers past any course (a course holds at most a few hundred sessions), and the
# largest SEQUENCE iCalendar allows (a 32-bit signed integer).
_MAX_NUMBER = 100_000
_MAX_SEQUENCE = 2**31 - 1
# What a protocol's session may last, and the years a clinic calendar covers: a session
# outside them was not written by tms_schedule.
_LONGEST_SESSION = dt.timedelta(hours=10)
_EARLIEST, _LATEST = 1900, 2399


def schedule_to_dict(schedule: Schedule, *, uid_key: str | bytes | None = None) -> dict[str, Any]:
    """The JSON document as Python objects (``uid_key``: the clinic's UID secret)."""
    progress = schedule.progress()
    return {
        "format": FORMAT,
        "version": VERSION,
        "course_id": schedule.course_id,
        "protocol": schedule.protocol_id,
        "timezone": schedule.timezone,
        "sessions": [
            {
                "number": s.number,
                "phase": s.phase,
                "phase_number": s.phase_number,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "status": s.status,
                "sequence": s.sequence,
                "uid": session_uid(schedule.course_id, s.number, uid_key),
                "cpt": s.cpt,
                "milestones": list(s.milestones),
                **({"renumbered": s.renumbered} if s.renumbered else {}),
            }
            for s in schedule.sessions
        ],
        "skipped": [
            {"date": d.date.isoformat(), "reason": d.reason, "phase": d.phase}
            for d in schedule.skipped
        ],
        # Only a target the schedule has: one worked out from its sessions would read back
        # as a target it never had.
        **({"target": schedule.target} if schedule.target is not None else {}),
        "progress": {
            "delivered": progress.delivered,
            "missed": progress.missed,
            "cancelled": progress.cancelled,
            "to_come": progress.to_come,
            "owed": progress.owed,
        },
    }


def schedule_to_json(
    schedule: Schedule, *, indent: int | None = 2, uid_key: str | bytes | None = None
) -> str:
    """The JSON document as text (UTF-8 safe, keys in a fixed order)."""
    data = schedule_to_dict(schedule, uid_key=uid_key)
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"


def schedule_from_json(text: str | bytes) -> Schedule:
    """Read a document written by :func:`schedule_to_json`.

    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1").expand()
    >>> schedule_from_json(schedule.to_json()) == schedule
    True

    Raises:
        ScheduleFormatError: a malformed or foreign document, naming the field; nothing
            partial is returned.
    """
    return schedule_from_data(parse_json(text, ScheduleFormatError, "schedule"))


def schedule_from_data(data: Any) -> Schedule:
    """Read the document as Python objects (:func:`schedule_to_dict`'s, or parsed JSON),
    checked as :func:`schedule_from_json` checks it.

    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("UTC"), "2026-11-16", "09:00", "c-1").expand()
    >>> schedule_from_data(schedule_to_dict(schedule)) == schedule
    True
    """
    return schedules_from_data([data])[0]


def schedules_from_data(documents: list[Any]) -> tuple[Schedule, ...]:
    """Several documents (a course's revisions), each read as :func:`schedule_from_data`
    reads it; a session written the same way in several (one that kept its time) is
    checked and built once."""
    known: dict[tuple[Any, ...], Session] | None = {} if len(documents) > 1 else None
    return tuple(_schedule(_checked(data), known) for data in documents)


def _schedule(data: dict[str, Any], known: dict[tuple[Any, ...], Session] | None) -> Schedule:
    course_id = check_course_id(
        _get(data, "course_id", str, "schedule"), "schedule.course_id", ScheduleFormatError
    )
    protocol = _get(data, "protocol", str, "schedule")
    timezone = _get(data, "timezone", str, "schedule")
    zone = _zone(timezone)
    sessions = _sessions(_get(data, "sessions", list, "schedule"), zone, known)
    skipped = tuple(
        _skipped_day(raw, f"skipped[{i}]")
        for i, raw in enumerate(_get(data, "skipped", list, "schedule"))
    )
    target = data.get("target")
    if target is not None:
        int_in_range(target, "target", 0, 1000, ScheduleFormatError)
    return Schedule(course_id, protocol, timezone, sessions, skipped, target)


def _checked(data: Any) -> dict[str, Any]:
    """The JSON object, once it says it is a schedule of the version this one reads."""
    if not isinstance(data, dict):
        raise ScheduleFormatError("schedule: must be a JSON object")
    if data.get("format") != FORMAT:
        raise ScheduleFormatError(
            f"format: must be {FORMAT!r} (a schedule written by tms_schedule), got"
            f" {data.get('format')!r}"
        )
    version = data.get("version")
    if version != VERSION:
        raise ScheduleFormatError(
            f"version: this tms_schedule reads version {VERSION}, got {version!r}"
        )
    return data


def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    try:
        if timezone not in iana_zone_names():  # never the machine's own zone ("localtime")
            raise ValueError(timezone)
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleFormatError(f"timezone: unknown IANA timezone {timezone!r}") from None


def _sessions(
    items: list[Any], zone: zoneinfo.ZoneInfo, known: dict[tuple[Any, ...], Session] | None
) -> tuple[Session, ...]:
    """Each session read, numbered once each and in order of start (``known``: the
    sessions read before, by how they were written, when several schedules are read)."""
    sessions: list[Session] = []
    numbers: set[int] = set()
    for i, raw in enumerate(items):
        where = f"sessions[{i}]"
        written = _as_written(raw, zone) if known is not None else None
        session = known.get(written) if known is not None and written is not None else None
        if session is None:
            session = _session(raw, where, zone)
            if known is not None and written is not None:
                known[written] = session
        if session.number in numbers:
            raise ScheduleFormatError(
                f"{where}.number: must be a whole number from 1 to {_MAX_NUMBER} not used"
                f" before, got {session.number}"
            )
        numbers.add(session.number)
        if sessions and session.start < sessions[-1].start:
            raise ScheduleFormatError(f"{where}.start: sessions must be in order of start")
        sessions.append(session)
    return tuple(sessions)


def _as_written(raw: Any, zone: zoneinfo.ZoneInfo) -> tuple[Any, ...] | None:
    """A session's fields as written, to know it again (``None``: not plain enough)."""
    if type(raw) is not dict:
        return None
    values = tuple(tuple(v) if type(v) is list else v for v in raw.values())
    # bool and int are equal as keys: their types keep a true apart from a 1.
    written = (zone.key, tuple(raw), values, tuple(map(type, values)))
    try:
        hash(written)
    except TypeError:
        return None
    return written


def _session(raw: Any, where: str, zone: zoneinfo.ZoneInfo) -> Session:
    """One session, each field checked."""
    if not isinstance(raw, dict):
        raise ScheduleFormatError(f"{where}: must be an object")
    status = _get(raw, "status", str, where, free_text=False)
    if status not in SESSION_STATUSES:
        raise ScheduleFormatError(
            f"{where}.status: must be one of {', '.join(SESSION_STATUSES)}, got {status!r}"
        )
    number = _get(raw, "number", int, where)
    if not 1 <= number <= _MAX_NUMBER:
        raise ScheduleFormatError(
            f"{where}.number: must be a whole number from 1 to {_MAX_NUMBER} not used"
            f" before, got {number}"
        )
    session = Session(
        number=number,
        phase=_get(raw, "phase", str, where),
        phase_number=int_in_range(
            _get(raw, "phase_number", int, where),
            f"{where}.phase_number",
            1,
            _MAX_NUMBER,
            ScheduleFormatError,
        ),
        start=_instant(raw, "start", where, zone),
        end=_instant(raw, "end", where, zone),
        status=status,
        # The largest SEQUENCE iCalendar allows.
        sequence=int_in_range(
            _get(raw, "sequence", int, where),
            f"{where}.sequence",
            0,
            _MAX_SEQUENCE,
            ScheduleFormatError,
        ),
        cpt=_optional_str(raw, "cpt", where),
        milestones=_strings(raw, "milestones", where),
        renumbered=_get(raw, "renumbered", int, where) if "renumbered" in raw else 0,
    )
    # SEQUENCE plus the renumberings stays within what iCalendar allows.
    int_in_range(
        session.renumbered,
        f"{where}.renumbered",
        0,
        _MAX_SEQUENCE - session.sequence,
        ScheduleFormatError,
    )
    uid = raw.get("uid")
    if uid is not None and not isinstance(uid, str):
        raise ScheduleFormatError(f"{where}.uid: must be a string")
    if session.end <= session.start:
        raise ScheduleFormatError(f"{where}.end: must be after start")
    if session.end - session.start > _LONGEST_SESSION:
        raise ScheduleFormatError(
            f"{where}.end: a session lasts at most {_LONGEST_SESSION.seconds // 3600} hours"
            f" (as a protocol's may), got {session.start.isoformat()} to"
            f" {session.end.isoformat()}"
        )
    if not _EARLIEST <= session.start.year <= _LATEST:
        raise ScheduleFormatError(
            f"{where}.start: must be in the years {_EARLIEST} to {_LATEST} (the clinic"
            f" calendar's), got {session.start.isoformat()}"
        )
    return session


def _skipped_day(raw: Any, where: str) -> SkippedDay:
    if not isinstance(raw, dict):
        raise ScheduleFormatError(f"{where}: must be an object")
    phase = raw.get("phase")
    if phase is not None and not isinstance(phase, str):
        raise ScheduleFormatError(f"{where}.phase: must be a string or null")
    day = as_date(_get(raw, "date", str, where), f"{where}.date", ScheduleFormatError)
    return SkippedDay(day, _get(raw, "reason", str, where), phase)


def _optional_str(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ScheduleFormatError(f"{where}.{key}: must be a string or null, got {value!r}")
    if value is not None:
        _one_line(value, f"{where}.{key}")
    return value


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScheduleFormatError(f"{where}.{key}: must be a list of strings, got {value!r}")
    for i, text in enumerate(value):
        _one_line(text, f"{where}.{key}[{i}]")
    return tuple(value)


def _get(data: dict[str, Any], key: str, kind: type, where: str, *, free_text: bool = True) -> Any:
    """``data[key]``, of ``kind``; text on one line, without control characters, unless
    it is not ``free_text`` (a status, a moment: their own rules say what they may be)."""
    if key not in data:
        raise ScheduleFormatError(f"{where}.{key}: missing")
    value = data[key]
    if not (is_whole(value) if kind is int else isinstance(value, kind)):
        raise ScheduleFormatError(f"{where}.{key}: must be {kind.__name__}, got {value!r}")
    if free_text and isinstance(value, str):
        _one_line(value, f"{where}.{key}")
    return value


def _one_line(value: str, where: str) -> None:
    """Text read from a file reaches terminals, spreadsheets and calendars: no control
    characters (terminal escape codes among them), no line breaks."""
    check_text(value, where, ScheduleFormatError, limit=100_000, blank=True)


def _instant(data: dict[str, Any], key: str, where: str, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    text = _get(data, key, str, where, free_text=False)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleFormatError(f"{where}.{key}: must be ISO 8601 with an offset") from None
    if value.tzinfo is None:
        raise ScheduleFormatError(f"{where}.{key}: must carry a UTC offset, got {text!r}")
    local = value.astimezone(zone)
    if local.utcoffset() != value.utcoffset():
        raise ScheduleFormatError(
            f"{where}.{key}: offset {value:%z} does not match the schedule's timezone at {text}"
        )
    return local
