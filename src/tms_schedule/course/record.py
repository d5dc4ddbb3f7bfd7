"""Records: what happened to a session, in the order the front desk entered it.

A record is attended, missed (with its cause), cancelled or moved. Records are only ever
appended; :func:`apply_record` gives the schedule a record leads to, and refuses one that
cannot be right (a session attended twice, a move onto a closed day).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from tms_schedule.errors import CourseError
from tms_schedule.phase import Accelerated, Periodic
from tms_schedule.plan import COURSE_HORIZON_DAYS, Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = ["CAUSES", "RECORD_KINDS", "Record", "apply_record"]

#: Why a session was missed: the patient, the clinic (a closure), the device, or other.
CAUSES = ("patient", "clinic", "device", "other")
RECORD_KINDS = ("attended", "missed", "cancelled", "moved")


def _utc(value: Any) -> Any:
    """Record times are kept in UTC: the same instant reads back the same from a file."""
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        if value.second or value.microsecond:
            raise CourseError(f"when: must be whole minutes, got {value.isoformat()}")
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise CourseError(f"when: {value.isoformat()} is out of range") from None
    return value


def _aware(value: dt.datetime | None, field: str) -> None:
    if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
        raise CourseError(f"{field}: must be a timezone-aware datetime, got {value!r}")


@attrs.frozen
class Record:
    """One thing that happened to a session, in the order it was recorded.

    Attributes:
        kind: ``attended``, ``missed``, ``cancelled`` or ``moved``.
        session: the session's number.
        when: when it was attended, or the new start of a moved session.
        cause: why a session was missed (one of :data:`CAUSES`).
        note: free text for the front desk (never shown in calendar files).
    """

    kind: str
    session: int
    when: dt.datetime | None = attrs.field(default=None, converter=_utc)
    cause: str | None = None
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in RECORD_KINDS:
            raise CourseError(f"kind: must be one of {', '.join(RECORD_KINDS)}, got {self.kind!r}")
        if isinstance(self.session, bool) or not isinstance(self.session, int):
            raise CourseError(f"session: must be a session number, got {self.session!r}")
        _aware(self.when, "when")
        if self.kind == "missed" and self.cause not in CAUSES:
            raise CourseError(f"cause: must be one of {', '.join(CAUSES)}, got {self.cause!r}")
        if self.kind == "moved" and self.when is None:
            raise CourseError("when: a moved session needs its new start")
        if self.note is not None and (not isinstance(self.note, str) or len(self.note) > 1000):
            raise CourseError("note: must be a text of at most 1000 characters")


def apply_record(
    plan: Plan, schedule: Schedule, record: Record, *, check: bool = False
) -> Schedule:
    """``schedule`` with ``record`` applied.

    The state rules (the session exists and is still scheduled) always hold. With ``check``
    — when the record is new — it must also fit the calendar as it is now: a moved session
    lands on an open day, inside the hours, clear of other sessions; an attendance is on the
    session's day. Records replayed later are not held to a calendar changed since.
    """
    by_number = {s.number: i for i, s in enumerate(schedule.sessions)}
    index = by_number.get(record.session)
    if index is None:
        numbers = [s.number for s in schedule.sessions]
        raise CourseError(
            f"session: the course has no session {record.session}; sessions are"
            f" {min(numbers)} to {max(numbers)}"
            if numbers
            else "session: the course has no sessions"
        )
    session = schedule.sessions[index]
    if session.status != "scheduled":
        raise CourseError(
            f"session: session {session.number} is already {session.status}; it cannot be"
            f" recorded {record.kind}"
        )
    zone = plan.clinic.zone
    changes: dict[str, Any] = {"sequence": session.sequence + 1}
    if record.kind == "attended":
        if check and record.when is not None:
            when = _in_zone(record.when, zone)
            if when.date() < plan.start:
                raise CourseError(f"when: {when.date()} is before the course began ({plan.start})")
            if when.date() != session.date:
                raise CourseError(
                    f"when: session {session.number} is on {session.date}, not {when.date()};"
                    " if it took place on another day, record it moved first"
                )
        changes = {"status": "attended"}  # attending changes nothing the calendar shows
    elif record.kind in ("missed", "cancelled"):
        changes["status"] = record.kind
    else:  # moved
        assert record.when is not None
        start = _in_zone(record.when, zone)
        end = (start.astimezone(dt.UTC) + session.duration).astimezone(zone)
        if check:
            _check_slot(plan, schedule, session, start, end)
        changes.update(start=start, end=end)
    updated = session.evolve(**changes)
    sessions = [*schedule.sessions[:index], *schedule.sessions[index + 1 :], updated]
    sessions.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    return attrs.evolve(schedule, sessions=tuple(sessions))


def _in_zone(moment: dt.datetime, zone: Any) -> dt.datetime:
    """``moment`` in the clinic's zone by way of UTC, so a wall time that does not exist
    moves forward by the gap, as plans do (02:30 on a spring-forward day becomes 03:30)."""
    try:
        return moment.astimezone(dt.UTC).astimezone(zone)
    except OverflowError:
        raise CourseError(f"when: {moment.isoformat()} is out of range") from None


def _check_slot(
    plan: Plan, schedule: Schedule, session: Session, start: dt.datetime, end: dt.datetime
) -> None:
    day = start.date()
    if day < plan.start:
        raise CourseError(f"when: {day} is before the course began ({plan.start})")
    if (day - plan.start).days > COURSE_HORIZON_DAYS:
        raise CourseError(
            f"when: {day} is more than {COURSE_HORIZON_DAYS} days after the course began"
        )
    clinic = plan.clinic
    hours = clinic.hours_on(day)
    if hours is None:
        raise CourseError(f"when: the clinic is closed on {day} ({clinic.closure_reason(day)})")
    if end.date() != day or start.time() < hours.opens or end.time() > hours.closes:
        raise CourseError(
            f"when: {start:%H:%M}-{end:%H:%M} is outside the opening hours on {day} ({hours})"
        )
    interval = _same_day_interval(plan.protocol, session.phase)
    for other in schedule.sessions:
        if other.number == session.number or not other.active or other.date != day:
            continue
        if interval is None:
            raise CourseError(
                f"when: session {other.number} is already on {day}; a session of the"
                f" {session.phase} phase needs a day of its own"
            )
        apart = max(
            start.astimezone(dt.UTC) - other.end.astimezone(dt.UTC),
            other.start.astimezone(dt.UTC) - end.astimezone(dt.UTC),
        )
        if apart < interval:
            raise CourseError(
                f"when: session {other.number} at {other.start:%H:%M} is closer than the"
                f" {int(interval.total_seconds() // 60)}-minute interval"
            )


def _same_day_interval(protocol: Protocol, phase_name: str) -> dt.timedelta | None:
    for phase in protocol.phases:
        if phase.name == phase_name and isinstance(phase, Accelerated | Periodic):
            if isinstance(phase, Periodic) and phase.cluster_sessions == 1:
                return None
            return phase.interval
    return None
