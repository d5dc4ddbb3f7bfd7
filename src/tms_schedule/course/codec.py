"""The data of a course, and of the protocol and clinic calendar inside it.

A course document holds everything needed to carry on without the original settings: the
protocol and clinic calendar in full (a clinic's own protocol, its closures at the time),
the plan, every record in order (voided ones too), every revision's sessions, the
authorization and the milestone rules, and a checksum over all of it. This module turns
each of these into plain data (dicts, lists, strings and numbers, ready for JSON) and back;
the course file (:mod:`tms_schedule.course.file`) and the book's store
(:mod:`tms_schedule.book.store`) keep that data, each its own way.

Reading refuses a document that cannot be right, as a whole: truncated, corrupt, from a
newer version, or changed outside tms_schedule (a record removed or altered, a revision
dropped, a protocol or time zone edited: the checksum no longer matches). Version 1
documents, which had no checksum, are read and written back as version 2. A course with
ratings, an early end or a staged authorization is written as version 3 (those keys are
there only then), so a release that knows only version 2 refuses it rather than dropping
them; a course without them is written as version 2, byte for byte as before. Given the
clinic's UID key, the checksum is a seal only that key can make (:func:`checksum`), and the
document is version 3 too.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
>>> now = dt.datetime(2026, 11, 16, 10, tzinfo=dt.UTC)
>>> course_from_json(course_to_json(course.attended(1, now=now))) == course.attended(1, now=now)
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

import attrs

from tms_schedule._validate import is_whole, parse_json
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, OpeningHours
from tms_schedule.course.authorization import (
    OUTCOMES,
    Authorization,
    Continuation,
    Decision,
    Extension,
    StagedAuthorization,
)
from tms_schedule.course.decisions import Ending
from tms_schedule.course.lifecycle import Course, Revision
from tms_schedule.course.milestones import MilestoneRules
from tms_schedule.course.ratings import Rating, Scale
from tms_schedule.course.record import Record
from tms_schedule.errors import CourseFileError, TmsScheduleError
from tms_schedule.export.json import schedule_to_dict, schedules_from_data
from tms_schedule.export.uid import key_id, uid_key_bytes
from tms_schedule.phase import PHASE_CLASSES
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol, Stimulation

__all__ = [
    "FORMAT",
    "SEAL",
    "VERSION",
    "checksum",
    "clinic_from_data",
    "clinic_to_data",
    "course_from_json",
    "course_to_compact_json",
    "course_to_data",
    "course_to_json",
    "protocol_from_data",
    "protocol_to_data",
    "sealed_with",
]

FORMAT = "tms_schedule/course"
#: The newest version this release writes: 3 for a course with ratings, an early end or a
#: staged authorization, which a release that reads only version 2 would drop unseen when
#: it saved the course again; a course without them is written as version 2, as before.
#: What a checksum sealed with the clinic's UID key starts with (then the key's id).
SEAL = "hmac-sha256:"
VERSION = 3
_PLAIN_VERSION = 2
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
        "follow_up_weeks": list(protocol.follow_up_weeks),
        **({"requires": sorted(protocol.requires)} if protocol.requires else {}),
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
        "recorded": record.recorded.isoformat() if record.recorded else None,
        "voids": record.voids,
    }


def _staged_to_data(staged: StagedAuthorization) -> dict[str, Any]:
    return {
        "payer": staged.payer,
        "name": staged.name,
        "sessions": staged.sessions,
        "improvement_percent": staged.improvement_percent,
        "warn_sessions": staged.warn_sessions,
        **{
            key: {
                "more": staged.continuation(key).more,
                "taper": list(staged.continuation(key).taper),
                "stop": staged.continuation(key).stop,
            }
            for key in OUTCOMES
        },
    }


def _clinical_to_data(course: Course) -> dict[str, Any]:
    """Ratings and an early end: keys a document has only when the course has them, so a
    course without them is written as before (and its checksum stays the same)."""
    data: dict[str, Any] = {}
    if course.ratings:
        data["ratings"] = [
            {
                "scale": attrs.asdict(r.scale),
                "score": r.score,
                "date": r.date.isoformat(),
                "session": r.session,
                "note": r.note,
                "recorded": r.recorded.isoformat() if r.recorded else None,
                "voided": r.voided,
            }
            for r in course.ratings
        ]
    if course.ended is not None:
        data["ended"] = {
            "at": course.ended.at.isoformat(),
            "reason": course.ended.reason,
            "superseded_by": course.ended.superseded_by,
        }
    return data


def course_to_data(course: Course, *, key: str | bytes | None = None) -> dict[str, Any]:
    """The course document as Python objects, its checksum included: sealed with ``key``
    (the clinic's UID key) when one is given, see :func:`checksum`."""
    data = _body(course, key)
    data["checksum"] = checksum(data, key)
    return data


def course_to_compact_json(course: Course, *, key: str | bytes | None = None) -> str:
    """The course document as compact JSON text in one line: the canonical text its
    checksum is made from, with the checksum added last. What the book's store keeps: it
    is encoded once (not once for the checksum and again for the text), and read back
    without encoding it again (see :func:`course_from_json`).

    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> clinic = ClinicCalendar("America/Denver", holidays="US")
    >>> course = Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1"))
    >>> text = course_to_compact_json(course)
    >>> text.endswith(f',"checksum":"{course_to_data(course)["checksum"]}"}}')
    True
    """
    text = _canonical(_body(course, key))
    return f"{text[:-1]},{_CHECKSUM_KEY}{json.dumps(_sign(text.encode('utf-8'), key))}}}"


def _body(course: Course, key: str | bytes | None) -> dict[str, Any]:
    """The course document without its checksum (see :func:`course_to_data`)."""
    plan = course.plan
    auth = course.authorization
    rules = course.milestone_rules
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": _PLAIN_VERSION,
        "course_id": course.course_id,
        "follows": course.follows,
        "relation": course.relation,
        **({"uid_key_id": course.uid_key_id} if course.uid_key_id is not None else {}),
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
                "removed": list(r.removed),
                "reasons": [[number, why] for number, why in r.reasons],
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
            **({"staged": _staged_to_data(auth.staged)} if auth.staged else {}),
            **(
                {
                    "decision": {
                        "outcome": auth.decision.outcome,
                        "rating": auth.decision.rating,
                        "reason": auth.decision.reason,
                        "decided": auth.decision.decided.isoformat(),
                    }
                }
                if auth.decision
                else {}
            ),
        },
        "milestones": attrs.asdict(
            rules, value_serializer=lambda _i, _a, v: list(v) if isinstance(v, tuple) else v
        ),
        **_clinical_to_data(course),
    }
    if (
        (auth is not None and auth.staged is not None)
        or {"ratings", "ended"} & set(data)
        or key is not None  # a release that reads version 2 cannot check a seal
    ):
        data["version"] = VERSION
    return data


def checksum(data: dict[str, Any], key: str | bytes | None = None) -> str:
    """The document's checksum, over everything but itself written in one canonical way.

    Without ``key``: ``sha256:`` and the SHA-256, which shows damage and edits made
    without recomputing it, and nothing more (anyone can recompute it). With the clinic's
    UID key: ``hmac-sha256:<key id>:`` and an HMAC-SHA256 keyed with a key derived from
    it: no one without the key can make one that fits an edited document.

    >>> data = {"format": "tms_schedule/course", "course_id": "c-1"}
    >>> checksum(data)[:7], checksum(data, "a clinic secret of 16+ characters")[:25]
    ('sha256:', 'hmac-sha256:kfc00844a4826')
    """
    body = {name: value for name, value in data.items() if name != "checksum"}
    try:
        encoded = _canonical(body).encode("utf-8")
    except UnicodeEncodeError:
        raise CourseFileError(f"{_undecodable(body)}: holds text that is not UTF-8") from None
    return _sign(encoded, key)


def _canonical(body: dict[str, Any]) -> str:
    """The one way a document's body is written for its checksum."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sign(encoded: bytes, key: str | bytes | None) -> str:
    """The checksum of a body's canonical text (see :func:`checksum`)."""
    if key is None:
        return "sha256:" + hashlib.sha256(encoded).hexdigest()
    sealed = hmac.digest(_seal_key(key), encoded, "sha256").hex()
    return f"{SEAL}{key_id(key)}:{sealed}"


# A compact document ends with its checksum (see :func:`course_to_compact_json`): what comes
# before it, closed, is the canonical text the checksum was made from.
_CHECKSUM_KEY = '"checksum":'
_CHECKSUM_TAIL = re.compile(r',"checksum":"([0-9A-Za-z:_-]+)"\}\Z')
_CHECKSUM_TAIL_BYTES = re.compile(rb',"checksum":"([0-9A-Za-z:_-]+)"\}\Z')


def _signed_text(text: str | bytes, stored: object, key: str | bytes | None) -> bool:
    """Whether ``text`` is a compact document whose body, as written, has the ``stored``
    checksum: then the body is the very text the checksum was made from, and need not be
    encoded again to check it. ``False`` says nothing: the document is checked the long way.
    """
    if not isinstance(stored, str):
        return False
    if isinstance(text, str):
        found = _CHECKSUM_TAIL.search(text)
        if found is None or found.group(1) != stored:
            return False
        try:
            encoded = text[: found.start()].encode("utf-8") + b"}"
        except UnicodeEncodeError:
            return False
    else:
        found_bytes = _CHECKSUM_TAIL_BYTES.search(text)
        if found_bytes is None or found_bytes.group(1).decode("ascii") != stored:
            return False
        encoded = text[: found_bytes.start()] + b"}"
    return hmac.compare_digest(_sign(encoded, key).encode(), stored.encode())


def _seal_key(key: str | bytes) -> bytes:
    # Its own key, derived from the UID key: a seal says nothing about the calendar ids.
    return hmac.digest(uid_key_bytes(key), b"tms_schedule course seal v1", "sha256")


def sealed_with(data: dict[str, Any]) -> str | None:
    """The id of the key a document is sealed with, or ``None`` when it is not sealed."""
    value = data.get("checksum")
    if isinstance(value, str) and value.startswith(SEAL):
        return value[len(SEAL) :].partition(":")[0]
    return None


# A JSON escape of a surrogate (\uD800 to \uDFFF), in a document's text or its UTF-8 bytes.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _may_hold_surrogates(text: str | bytes) -> bool:
    """Whether a document's text may hold a lone surrogate once parsed: a surrogate's
    escape, a surrogate itself (text read with ``surrogateescape``), or bytes not in UTF-8
    (UTF-16 and UTF-32 put NUL bytes among the first four). Only such documents are
    searched value by value for the one that holds it: that search cost a third of
    reading a course."""
    if isinstance(text, bytes):
        return b"\x00" in text[:4] or _SURROGATE_ESCAPE_BYTES.search(text) is not None
    return _SURROGATE_ESCAPE.search(text) is not None or (
        not text.isascii() and _SURROGATE.search(text) is not None
    )


def _undecodable(data: Any, where: str = "course") -> str:
    """Where in a document a lone surrogate is (a ``\\udcff`` escape: bytes that were
    not UTF-8), which no file or database holds as text."""
    if isinstance(data, str):
        return where if any("\ud800" <= c <= "\udfff" for c in data) else ""
    items: Any = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        if isinstance(key, str) and _undecodable(key):
            return where
        found = _undecodable(value, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]")
        if found:
            return found
    return ""


def course_to_json(course: Course, *, key: str | bytes | None = None) -> str:
    """The course document as JSON text (sealed with ``key`` when given)."""
    return json.dumps(course_to_data(course, key=key), indent=2, ensure_ascii=False) + "\n"


# -- reading -------------------------------------------------------------------------------------


def course_from_json(
    text: str | bytes,
    *,
    clinic: ClinicCalendar | None = None,
    key: str | bytes | None = None,
) -> Course:
    """Read a course document; anything malformed raises :class:`CourseFileError`.

    ``clinic``: plan the course under this calendar instead of the one the document
    holds (the book's store keeps courses that follow the book's calendar this way: one
    calendar object shared by them all, its day index built once). Its time zone must be
    the document's.

    ``key``: the clinic's UID key. A document sealed with it (see :func:`checksum`) is
    read only with it, and refused if anything in it changed; with the key, a document
    of the clinic's key (its ``uid_key_id``) that is not sealed is refused unless it is of
    version 1 or 2 (written before documents were sealed).
    """
    data = parse_json(text, CourseFileError, "course")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CourseFileError(f"format: not a course file (expected format {FORMAT!r})")
    version = data.get("version")
    if not is_whole(version):
        raise CourseFileError(f"version: must be a whole number, got {version!r}")
    if version > VERSION:
        raise CourseFileError(
            f"version: the file is version {version}, written by a newer tms_schedule; this one"
            f" reads versions 1 to {VERSION}: upgrade tms_schedule to open it"
        )
    if version < 1:
        raise CourseFileError(f"version: unknown version {version}")
    bad = _undecodable(data) if _may_hold_surrogates(text) else ""
    if bad:  # a \udcXX escape: no text this library writes holds one
        raise CourseFileError(f"{bad.removeprefix('course.')}: holds text that is not UTF-8")
    _check_seal(data, version, key, text)
    try:
        course = _course(data, version, clinic)
        if version == 1:
            _check_first_revision(course)
        # The course was made just now and is no one else's yet: its origin is set where it
        # is (evolving it would work out its schedule, milestones and all, a second time).
        object.__setattr__(course, "_origin", data.get("checksum") or checksum(data))
        return course
    except CourseFileError:
        raise
    except TmsScheduleError as error:
        raise CourseFileError(f"course: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as error:
        raise CourseFileError(f"course: malformed ({type(error).__name__}: {error})") from None


def _check_seal(
    data: dict[str, Any], version: int, key: str | bytes | None, text: str | bytes = ""
) -> None:
    """The document's checksum, keyed or not, as :func:`course_from_json` says (``text``:
    the document as read, checked as it is when it is compact, see :func:`_signed_text`)."""
    sealer = sealed_with(data)
    if sealer is not None:
        if key is None:
            raise CourseFileError(
                f"checksum: the file is sealed with the clinic's UID key ({sealer}); give"
                " that key to read it (--uid-key-file, or the clinic file's [calendar]"
                " uid_key)"
            )
        if key_id(key) != sealer:
            raise CourseFileError(
                f"checksum: the file is sealed with the UID key {sealer}, not with the key"
                f" given ({key_id(key)})"
            )
        if not _signed_text(text, data.get("checksum"), key) and not hmac.compare_digest(
            str(data.get("checksum")).encode(), checksum(data, key).encode()
        ):
            raise CourseFileError(
                "checksum: the file was changed without the clinic's key (a record, a"
                " revision, the protocol or the calendar edited by hand?), or is corrupt;"
                " it is refused as a whole: restore it from a copy"
            )
        return
    if (
        version >= 2
        and not _signed_text(text, data.get("checksum"), None)
        and data.get("checksum") != checksum(data)
    ):
        raise CourseFileError(
            "checksum: the file was changed outside tms_schedule (a record, a revision, the"
            " protocol or the calendar edited by hand?), or is corrupt; it is refused as a"
            " whole: restore it from a copy"
        )
    if key is not None and version > _PLAIN_VERSION and data.get("uid_key_id") == key_id(key):
        raise CourseFileError(
            f"checksum: the file is of version {version} and of the clinic's UID key, but not"
            " sealed with it: it was written again without the key (edited by hand?);"
            " restore it from a copy"
        )


def _check_first_revision(course: Course) -> None:
    """A version-1 file has no checksum: its first revision must at least be its plan."""
    planned = [(s.number, s.start, s.end) for s in course.plan.expand().sessions]
    stored = [(s.number, s.start, s.end) for s in course.revisions[0].schedule.sessions]
    if planned != stored:
        raise CourseFileError(
            "revisions: revision 0 is not what the file's plan gives (its protocol, time zone"
            " or hours were edited, or it is damaged); version-1 files carry no checksum, so"
            " restore it from a copy"
        )


def _instant(text: str | None, clinic: ClinicCalendar) -> dt.datetime | None:
    """A revision's start: a date and time (version 2), or a day (version 1)."""
    if text is None:
        return None
    if "T" in text:
        value = dt.datetime.fromisoformat(text)
        if value.utcoffset() is None:
            raise CourseFileError(f"revisions: start {text!r} has no time zone")
        return value
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), tzinfo=clinic.zone)


def _course(data: dict[str, Any], version: int, clinic: ClinicCalendar | None) -> Course:
    plan_data = data["plan"]
    protocol = protocol_from_data(plan_data["protocol"])
    if clinic is None:
        clinic = clinic_from_data(plan_data["clinic"])
    elif clinic.timezone != plan_data["clinic"]["timezone"]:
        raise CourseFileError(
            f"plan.clinic.timezone: the course is planned in {plan_data['clinic']['timezone']},"
            f" the calendar given in {clinic.timezone}"
        )
    plan = Plan(
        protocol,
        clinic,
        dt.date.fromisoformat(plan_data["start"]),
        dt.time.fromisoformat(plan_data["at"]),
        data["course_id"],
        blocks=plan_data["blocks"],
    )
    records = tuple(
        Record(
            r["kind"],
            r["session"],
            dt.datetime.fromisoformat(r["when"]) if r["when"] else None,
            r["cause"],
            r["note"],
            dt.datetime.fromisoformat(r["recorded"]) if r.get("recorded") else None,
            r.get("voids"),
        )
        for r in data["records"]
    )
    for index, record in enumerate(records):
        if record.kind == "void" and (record.voids is None or record.voids >= index):
            raise CourseFileError(f"records: record {index + 1} voids a record after it")
    target = None
    revisions = []
    schedules = schedules_from_data([raw["schedule"] for raw in data["revisions"]])
    for raw, schedule in zip(data["revisions"], schedules, strict=True):
        if schedule.course_id != plan.course_id:
            raise CourseFileError("revisions: a revision belongs to another course")
        if schedule.target is None:
            # The first release of version 1 kept no target: the plan's count, which
            # every later writer keeps (and a file written back reads back the same).
            target = plan.expand().target if target is None else target
            schedule = attrs.evolve(schedule, target=target)
        count = raw["records"]
        if version == 1 and raw["number"] > 0:
            cancelled = {
                r.session for r in records[:count] if r.kind == "cancelled"
            }  # version 1 kept no list: a cancellation no record made was the re-plan's
            removed = tuple(
                s.number for s in schedule if s.status == "cancelled" and s.number not in cancelled
            )
        else:
            removed = tuple(raw.get("removed", ()))
        revisions.append(
            Revision(
                number=raw["number"],
                schedule=schedule,
                records=count,
                policy=raw["policy"],
                start=_instant(raw["start"], clinic),
                warnings=tuple(raw["warnings"]),
                removed=removed,
                reasons=tuple((int(n), str(why)) for n, why in raw.get("reasons", ())),
            )
        )
    if [r.number for r in revisions] != list(range(len(revisions))):
        raise CourseFileError("revisions: must be numbered 0, 1, 2, ... in order")
    if revisions:
        # A re-plan keeps every session number (one taken out stays, cancelled): a record
        # for a number the latest revision lacks is for a session the course never had.
        numbers = {s.number for s in revisions[-1].schedule.sessions}
        for index, record in enumerate(records):
            if record.kind != "void" and record.session not in numbers:
                raise CourseFileError(
                    f"records: record {index + 1} is for session {record.session}, but the"
                    f" course has no session {record.session}"
                )
    counts = [r.records for r in revisions]
    if not revisions or counts != sorted(counts) or counts[-1] > len(records):
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
            staged=_staged(auth["staged"]) if auth.get("staged") else None,
            decision=Decision(
                auth["decision"]["outcome"],
                auth["decision"]["rating"],
                auth["decision"]["reason"],
                _aware(auth["decision"]["decided"], "authorization.decision.decided"),
            )
            if auth.get("decision")
            else None,
        )
    rules = dict(data["milestones"])
    rules["rating_at_end_of"] = tuple(rules["rating_at_end_of"])
    if rules.get("follow_up_weeks") is not None:
        rules["follow_up_weeks"] = tuple(rules["follow_up_weeks"])
    # Building the course replays every record after the latest revision: an impossible
    # one refuses the file.
    return Course(
        plan=plan,
        revisions=tuple(revisions),
        records=records,
        authorization=authorization,
        milestone_rules=MilestoneRules(**rules),
        follows=data["follows"],
        relation=data["relation"],
        uid_key_id=_key_id(data.get("uid_key_id")),
        ratings=tuple(_rating(r) for r in data.get("ratings", ())),
        ended=Ending(
            _aware(data["ended"]["at"], "ended.at"),
            data["ended"]["reason"],
            data["ended"]["superseded_by"],
        )
        if data.get("ended")
        else None,
    )


def _aware(text: str, field: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() is None:
        raise CourseFileError(f"{field}: {text!r} has no time zone")
    return value


def _staged(data: dict[str, Any]) -> StagedAuthorization:
    return StagedAuthorization(
        payer=data["payer"],
        name=data["name"],
        sessions=data["sessions"],
        improvement_percent=data["improvement_percent"],
        warn_sessions=data["warn_sessions"],
        **{
            key: Continuation(data[key]["more"], tuple(data[key]["taper"]), data[key]["stop"])
            for key in OUTCOMES
        },
    )


def _rating(data: dict[str, Any]) -> Rating:
    return Rating(
        Scale(**data["scale"]),
        data["score"],
        dt.date.fromisoformat(data["date"]),
        data["session"],
        data["note"],
        _aware(data["recorded"], "ratings.recorded") if data["recorded"] else None,
        data["voided"],
    )


def _key_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"default|k[0-9a-f]{12}", value)):
        return value
    raise CourseFileError(
        f"uid_key_id: must be 'default' or a key id like k1a2b3c4d5e6f, got {value!r}"
    )


def protocol_from_data(data: dict[str, Any]) -> Protocol:
    """A protocol from :func:`protocol_to_data`'s plain data."""
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
        follow_up_weeks=tuple(data.get("follow_up_weeks", ())),
        requires=frozenset(data.get("requires", ())),
    )


def clinic_from_data(data: dict[str, Any]) -> ClinicCalendar:
    """A clinic calendar from :func:`clinic_to_data`'s plain data."""
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
