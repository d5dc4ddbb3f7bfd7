"""Course files: a course as JSON with a schema version, saved atomically.

The document holds everything needed to carry on without the original settings: the
protocol and clinic calendar in full (a clinic's own protocol, its closures at the time),
the plan, every record in order, every revision's sessions, the authorization and the
milestone rules. Loading replays the records, so a file whose records cannot be right is
refused as a whole; so is a truncated, corrupt or newer-version file.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
>>> course_from_json(course.attended(1).to_json()) == course.attended(1)
True
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import attrs

from tms_schedule._files import write_file
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course.authorization import Authorization, Extension
from tms_schedule.course.lifecycle import Course, Revision
from tms_schedule.course.milestones import MilestoneRules
from tms_schedule.course.record import Record, apply_record
from tms_schedule.errors import CourseFileError, FileWriteError, TmsScheduleError
from tms_schedule.export.json import schedule_from_json, schedule_to_dict
from tms_schedule.phase import PHASE_CLASSES
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol, Stimulation

__all__ = [
    "FORMAT",
    "VERSION",
    "CourseFileError",
    "course_from_json",
    "course_to_json",
    "load_course",
    "save_course",
]

FORMAT = "tms_schedule/course"
VERSION = 1
_PHASES = {cls.__name__: cls for cls in PHASE_CLASSES}


# -- writing -------------------------------------------------------------------------------------


def _minutes(value: dt.timedelta) -> float | int:
    minutes = value.total_seconds() / 60
    return int(minutes) if minutes == int(minutes) else minutes


def protocol_to_data(protocol: Protocol) -> dict[str, Any]:
    """A protocol as plain data, every field kept."""
    phases = []
    for phase in protocol.phases:
        fields = {
            key: (
                _minutes(value)
                if isinstance(value, dt.timedelta)
                else list(value)
                if isinstance(value, tuple)
                else value
            )
            for key, value in attrs.asdict(phase, recurse=False).items()
        }
        phases.append({"type": type(phase).__name__, **fields})
    return {
        "id": protocol.id,
        "name": protocol.name,
        "phases": phases,
        "session_minutes": _minutes(protocol.session),
        "first_session_minutes": _minutes(protocol.first_session),
        "stimulation": attrs.asdict(protocol.stimulation) if protocol.stimulation else None,
        "sources": list(protocol.sources),
        "notes": list(protocol.notes),
        "acute_range": list(protocol.acute_range) if protocol.acute_range else None,
        "optional_phases": sorted(protocol.optional_phases),
    }


def clinic_to_data(clinic: ClinicCalendar) -> dict[str, Any]:
    """A clinic calendar as plain data, every setting kept."""
    return {
        "timezone": clinic.timezone,
        "open_weekdays": list(clinic.open_weekdays),
        "hours": str(clinic.hours),
        "weekday_hours": [[day, str(hours)] for day, hours in clinic.weekday_hours],
        "holidays": clinic.holidays,
        "holiday_language": clinic.holiday_language,
        "closing_holidays": list(clinic.closing_holidays)
        if clinic.closing_holidays is not None
        else None,
        "open_holidays": list(clinic.open_holidays),
        "observed": clinic.observed,
        "closures": [
            {"start": c.start.isoformat(), "end": c.end.isoformat(), "reason": c.reason}
            for c in clinic.closures
        ],
        "extra_open_days": [
            {
                "date": e.date.isoformat(),
                "hours": str(e.hours) if e.hours else None,
                "reason": e.reason,
                "catch_up_only": e.catch_up_only,
            }
            for e in clinic.extra_open_days
        ],
        "search_horizon_days": clinic.search_horizon_days,
    }


def _record_to_data(record: Record) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "session": record.session,
        "when": record.when.isoformat() if record.when else None,
        "cause": record.cause,
        "note": record.note,
    }


def course_to_data(course: Course) -> dict[str, Any]:
    """The course document as Python objects."""
    plan = course.plan
    auth = course.authorization
    rules = course.milestone_rules
    return {
        "format": FORMAT,
        "version": VERSION,
        "course_id": course.course_id,
        "follows": course.follows,
        "relation": course.relation,
        "plan": {
            "protocol": protocol_to_data(plan.protocol),
            "clinic": clinic_to_data(plan.clinic),
            "start": plan.start.isoformat(),
            "at": plan.at.strftime("%H:%M"),
            "blocks": plan.blocks,
        },
        "records": [_record_to_data(r) for r in course.records],
        "revisions": [
            {
                "number": r.number,
                "records": r.records,
                "policy": r.policy,
                "start": r.start.isoformat() if r.start else None,
                "warnings": list(r.warnings),
                "schedule": schedule_to_dict(r.schedule),
            }
            for r in course.revisions
        ],
        "authorization": None
        if auth is None
        else {
            "sessions": auth.sessions,
            "valid_from": auth.valid_from.isoformat(),
            "valid_until": auth.valid_until.isoformat(),
            "extensions": [
                {
                    "sessions": e.sessions,
                    "until": e.until.isoformat() if e.until else None,
                    "note": e.note,
                }
                for e in auth.extensions
            ],
        },
        "milestones": attrs.asdict(
            rules, value_serializer=lambda _i, _a, v: list(v) if isinstance(v, tuple) else v
        ),
    }


def course_to_json(course: Course) -> str:
    """The course document as JSON text."""
    return json.dumps(course_to_data(course), indent=2, ensure_ascii=False) + "\n"


# -- reading -------------------------------------------------------------------------------------


def course_from_json(text: str | bytes) -> Course:
    """Read a course document; anything malformed raises :class:`CourseFileError`."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise CourseFileError(f"course: not valid JSON (truncated or corrupt?): {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CourseFileError(f"format: not a course file (expected format {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CourseFileError(f"version: must be a whole number, got {version!r}")
    if version > VERSION:
        raise CourseFileError(
            f"version: the file is version {version}, written by a newer tms_schedule; this one"
            f" reads version {VERSION} — upgrade tms_schedule to open it"
        )
    if version < 1:
        raise CourseFileError(f"version: unknown version {version}")
    try:
        return _course(data)
    except CourseFileError:
        raise
    except TmsScheduleError as error:
        raise CourseFileError(f"course: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CourseFileError(f"course: malformed ({type(error).__name__}: {error})") from None


def _course(data: dict[str, Any]) -> Course:
    plan_data = data["plan"]
    protocol = _protocol(plan_data["protocol"])
    clinic = _clinic(plan_data["clinic"])
    plan = Plan(
        protocol,
        clinic,
        dt.date.fromisoformat(plan_data["start"]),
        dt.time.fromisoformat(plan_data["at"]),
        data["course_id"],
        blocks=plan_data["blocks"],
    )
    revisions = []
    for raw in data["revisions"]:
        schedule = schedule_from_json(json.dumps(raw["schedule"]))
        if schedule.course_id != plan.course_id:
            raise CourseFileError("revisions: a revision belongs to another course")
        revisions.append(
            Revision(
                number=raw["number"],
                schedule=schedule,
                records=raw["records"],
                policy=raw["policy"],
                start=dt.date.fromisoformat(raw["start"]) if raw["start"] else None,
                warnings=tuple(raw["warnings"]),
            )
        )
    if [r.number for r in revisions] != list(range(len(revisions))):
        raise CourseFileError("revisions: must be numbered 0, 1, 2, ... in order")
    records = tuple(
        Record(
            r["kind"],
            r["session"],
            dt.datetime.fromisoformat(r["when"]) if r["when"] else None,
            r["cause"],
            r["note"],
        )
        for r in data["records"]
    )
    counts = [r.records for r in revisions]
    if counts != sorted(counts) or counts[-1] > len(records):
        raise CourseFileError("revisions: their record counts do not match the records")
    auth = data["authorization"]
    authorization = None
    if auth is not None:
        authorization = Authorization(
            auth["sessions"],
            dt.date.fromisoformat(auth["valid_from"]),
            dt.date.fromisoformat(auth["valid_until"]),
            tuple(
                Extension(
                    e["sessions"],
                    dt.date.fromisoformat(e["until"]) if e["until"] else None,
                    e["note"],
                )
                for e in auth["extensions"]
            ),
        )
    rules = data["milestones"]
    rules["rating_at_end_of"] = tuple(rules["rating_at_end_of"])
    # Building the course replays every record after the latest revision: an impossible
    # one refuses the file. The records before it must agree with the revisions they led to.
    _check_history(plan, tuple(revisions), records)
    return Course(
        plan=plan,
        revisions=tuple(revisions),
        records=records,
        authorization=authorization,
        milestone_rules=MilestoneRules(**rules),
        follows=data["follows"],
        relation=data["relation"],
    )


def _check_history(
    plan: Plan, revisions: tuple[Revision, ...], records: tuple[Record, ...]
) -> None:
    """Each revision's recorded states are what its records, applied in order, produce."""
    for before, after in itertools.pairwise(revisions):
        replayed = before.schedule
        for record in records[before.records : after.records]:
            replayed = apply_record(plan, replayed, record)
        states = {s.number: s.status for s in after.schedule}
        for session in replayed:
            if session.status != "scheduled" and states.get(session.number) != session.status:
                raise CourseFileError(
                    f"revisions: revision {after.number} says session {session.number} is"
                    f" {states.get(session.number)}, but the records say {session.status}"
                )


def _protocol(data: dict[str, Any]) -> Protocol:
    phases = []
    for raw in data["phases"]:
        fields = dict(raw)
        cls = _PHASES.get(fields.pop("type"))
        if cls is None:
            raise CourseFileError(f"phases: unknown phase type {raw.get('type')!r}")
        if "per_week" in fields and isinstance(fields["per_week"], list):
            fields["per_week"] = tuple(fields["per_week"])
        phases.append(cls(**fields))
    stimulation = Stimulation(**data["stimulation"]) if data["stimulation"] else None
    return Protocol(
        id=data["id"],
        name=data["name"],
        phases=tuple(phases),
        session=data["session_minutes"],
        first_session=data["first_session_minutes"],
        stimulation=stimulation,
        sources=tuple(data["sources"]),
        notes=tuple(data["notes"]),
        acute_range=tuple(data["acute_range"]) if data["acute_range"] else None,
        optional_phases=frozenset(data["optional_phases"]),
    )


def _clinic(data: dict[str, Any]) -> ClinicCalendar:
    return ClinicCalendar(
        timezone=data["timezone"],
        open_weekdays=tuple(data["open_weekdays"]),
        hours=OpeningHours.parse(data["hours"]),
        weekday_hours=[(day, OpeningHours.parse(hours)) for day, hours in data["weekday_hours"]],
        holidays=data["holidays"],
        holiday_language=data["holiday_language"],
        closing_holidays=tuple(data["closing_holidays"])
        if data["closing_holidays"] is not None
        else None,
        open_holidays=tuple(data["open_holidays"]),
        observed=data["observed"],
        closures=tuple(
            Closure(dt.date.fromisoformat(c["start"]), dt.date.fromisoformat(c["end"]), c["reason"])
            for c in data["closures"]
        ),
        extra_open_days=tuple(
            ExtraOpenDay(
                dt.date.fromisoformat(e["date"]), e["hours"], e["reason"], e["catch_up_only"]
            )
            for e in data["extra_open_days"]
        ),
        search_horizon_days=data["search_horizon_days"],
    )


# -- files -----------------------------------------------------------------------------------------


def save_course(course: Course, path: str | Path, *, overwrite: bool = True) -> None:
    """Write the course to ``path`` atomically: the old file stays whole until the new one is
    (see :func:`tms_schedule._files.write_file`: links written through, modes kept, a
    read-only file refused). With ``overwrite=False`` an existing file is refused."""
    try:
        write_file(path, course_to_json(course).encode("utf-8"), overwrite=overwrite)
    except FileWriteError as error:
        raise CourseFileError(str(error)) from None


def load_course(path: str | Path) -> Course:
    """Read a course file; a missing, unreadable or malformed one raises :class:`CourseFileError`."""
    target = Path(path)
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        raise CourseFileError(f"{target}: no such course file") from None
    except OSError as error:
        raise CourseFileError(f"{target}: cannot be read ({error.strerror or error})") from None
    try:
        return course_from_json(data)
    except CourseFileError as error:
        raise CourseFileError(f"{target}: {error}") from None
