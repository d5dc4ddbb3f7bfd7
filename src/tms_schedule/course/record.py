"""Records: what happened to a session, in the order the front desk entered it.

A record is attended, missed (with its cause), cancelled, moved, or a void of an earlier
record that was entered by mistake. Records are only ever appended: a wrong one is voided
with a reason and stays in the history. :func:`apply_record` gives the schedule a new record
leads to, and refuses one that cannot be right (a session attended twice, attendance of a
session that has not started yet, a move onto a closed day); :func:`replay` rebuilds a
course's state from its latest revision and every record that still counts.

Each change every calendar shows raises the session's SEQUENCE: a move, a miss or a
cancellation, a void that undoes one. A new position in the course ("3 of 36"), when the
sessions before it change, raises ``renumbered`` instead: only numbered titles show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from tms_schedule._time import add_elapsed, as_moment, in_zone
from tms_schedule._validate import check_text as _check_text
from tms_schedule._validate import is_whole
from tms_schedule.errors import CourseError
from tms_schedule.phase import Accelerated, Periodic
from tms_schedule.plan import COURSE_HORIZON_DAYS, Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = [
    "CAUSES",
    "RECORD_KINDS",
    "Record",
    "apply_record",
    "bump_positions",
    "check_text",
    "positions",
    "replay",
    "same_day_interval",
    "undo_record",
]

#: Why a session was missed: the patient, the clinic (a closure), the device, or other.
CAUSES = ("patient", "clinic", "device", "other")
RECORD_KINDS = ("attended", "missed", "cancelled", "moved", "void")


def _utc(value: Any, field: str) -> Any:
    """Record times are kept in UTC, so the same instant reads back the same from a file;
    text with its offset is read first."""
    if value is None:
        return None
    moment = as_moment(value, field, None, CourseError)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        raise CourseError(f"{field}: {moment.isoformat()} is out of range") from None


def _when(value: Any) -> Any:
    return _utc(value, "when")


def _recorded(value: Any) -> Any:
    return _utc(value, "recorded")


def check_text(value: Any, field: str, *, limit: int = 1000) -> None:
    """Free text for the front desk: at most ``limit`` characters, line breaks and tabs
    allowed, no other control characters (the foundation's one check for free text).

    Raises:
        CourseError: anything else, naming ``field``.
    """
    _check_text(value, field, CourseError, limit=limit, lines=True, blank=True)


@attrs.frozen
class Record:
    """One thing that happened to a session, in the order it was recorded.

    Attributes:
        kind: ``attended``, ``missed``, ``cancelled``, ``moved`` or ``void``.
        session: the session's number.
        when: when it was attended, or the new start of a moved session.
        cause: why a session was missed (one of :data:`CAUSES`).
        note: free text for the front desk (never shown in calendar files); for a void,
            the reason, which is required.
        recorded: when the record was entered (the caller's clock; UTC).
        voids: for a void, the position of the voided record in the course's records
            (from 0).
    """

    kind: str
    session: int
    when: dt.datetime | None = attrs.field(default=None, converter=_when)
    cause: str | None = None
    note: str | None = None
    recorded: dt.datetime | None = attrs.field(default=None, converter=_recorded)
    voids: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in RECORD_KINDS:
            raise CourseError(f"kind: must be one of {', '.join(RECORD_KINDS)}, got {self.kind!r}")
        if not is_whole(self.session):
            raise CourseError(f"session: must be a session number, got {self.session!r}")
        if self.kind == "missed" and self.cause not in CAUSES:
            raise CourseError(
                f"cause: say why the session was missed: one of {', '.join(CAUSES)},"
                f" got {self.cause!r}"
            )
        if self.kind != "missed" and self.cause is not None:
            raise CourseError("cause: only a missed session has a cause")
        if self.kind == "moved" and self.when is None:
            raise CourseError("when: a moved session needs its new start")
        if self.note is not None:
            check_text(self.note, "reason" if self.kind == "void" else "note")
        if self.kind == "void":
            if not self.note or not self.note.strip():
                raise CourseError("reason: say why the record is voided (a typo, a wrong session)")
            if not is_whole(self.voids) or self.voids < 0:
                raise CourseError(f"voids: must be the number of a record, got {self.voids!r}")
        elif self.voids is not None:
            raise CourseError("voids: only a void names the record it voids")

    def describe(self, zone: dt.tzinfo | None = None) -> str:
        """The record in words: ``attended``, ``missed (patient)``, ``moved to ...`` (a move's
        time in ``zone``, the clinic's, when given)."""
        if self.kind == "missed":
            return f"missed ({self.cause})"
        if self.kind == "moved":
            assert self.when is not None
            if zone is not None:
                return f"moved to {self.when.astimezone(zone):%Y-%m-%d %H:%M}"
            return f"moved to {self.when.isoformat()}"
        if self.kind == "void":
            return f"void of record {(self.voids or 0) + 1}: {self.note}"
        return self.kind


def apply_record(
    plan: Plan,
    schedule: Schedule,
    record: Record,
    *,
    check: bool = False,
    now: dt.datetime | None = None,
) -> Schedule:
    """``schedule`` with one new attended, missed, cancelled or moved ``record`` applied.

    The state rules (the session exists and is still scheduled) always hold. With ``check``
    — when the record is new — it must also fit the calendar and the clock as they are now:
    a session is attended or missed only once it has started by ``now``; a moved session
    lands on an open day, inside the hours, clear of other sessions; an attendance is on the
    session's day. Records replayed later are not held to a calendar changed since.

    Raises:
        CourseError: a record that cannot be right (see above), naming the field.
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
            + ("" if session.status == "cancelled" else " (void the record if it was wrong)")
        )
    zone = plan.clinic.zone
    if check and record.kind in ("attended", "missed"):
        if now is None:
            raise CourseError(
                f"now: recording a session {record.kind} needs the current time, to refuse"
                " sessions that have not started yet"
            )
        if session.start > now:
            raise CourseError(
                f"session: session {session.number} on {session.start:%Y-%m-%d %H:%M} has not"
                f" started yet; it cannot be recorded {record.kind}"
                + (" (cancel it if it will not happen)" if record.kind == "missed" else "")
            )
    changes: dict[str, Any] = {"sequence": session.sequence + 1}
    if record.kind == "attended":
        if check and record.when is not None:
            when = _in_zone(record.when, zone)
            if when.date() != session.date:
                raise CourseError(
                    f"when: session {session.number} is on {session.date}, not {when.date()};"
                    " if it took place on another day, record it moved first"
                )
            if now is not None and record.when > now:
                raise CourseError(f"when: {when:%Y-%m-%d %H:%M} is later than now")
        changes = {"status": "attended"}  # attending changes nothing the calendar shows
    elif record.kind in ("missed", "cancelled"):
        changes["status"] = record.kind
    elif record.kind == "moved":
        assert record.when is not None
        start = _in_zone(record.when, zone)
        end = add_elapsed(start, session.duration, zone)
        if check:
            _check_slot(plan, schedule, session, start, end)
        changes.update(start=start, end=end)
    else:
        raise AssertionError(record.kind)  # a void is replayed, not applied
    updated = session.evolve(**changes)
    sessions = [*schedule.sessions[:index], *schedule.sessions[index + 1 :], updated]
    sessions.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    return bump_positions(schedule, attrs.evolve(schedule, sessions=tuple(sessions)))


def replay(
    plan: Plan,
    base: Schedule,
    removed: Iterable[int],
    records: Sequence[Record],
    since: int,
) -> Schedule:
    """The course's state: the latest revision's sessions (``base``, made when ``since``
    records existed) with the records applied again.

    The revision gives each session's time, SEQUENCE and whether the plan took it out
    (``removed``); the records before it give the statuses (a record voided before the
    revision does not count). The records after it are applied in order, as they were when
    they were entered, voids included: the state is the same as recording them one by one.
    """
    voided_before = {r.voids for r in records[:since] if r.kind == "void"}
    taken_out = set(removed)
    statuses = {
        record.session: record.kind
        for index, record in enumerate(records[:since])
        if record.kind in ("attended", "missed", "cancelled") and index not in voided_before
    }
    schedule = attrs.evolve(
        base,
        sessions=tuple(
            s.evolve(
                status="cancelled" if s.number in taken_out else statuses.get(s.number, "scheduled")
            )
            for s in base.sessions
        ),
    )
    before_move: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    moves: dict[int, list[int]] = {}  # each session's moves that count, latest last
    for index, record in enumerate(records[since:], start=since):
        if record.kind == "void":
            target = records[record.voids or 0]
            restore = None
            stack = moves.get(target.session, [])
            if target.kind == "moved" and stack and stack[-1] == record.voids:
                restore = before_move.get(stack.pop())
            schedule = undo_record(schedule, target, restore)
            continue
        if record.kind == "moved":
            # A session the course lacks is refused by apply_record, in words.
            found = next((s for s in schedule if s.number == record.session), None)
            if found is not None:
                before_move[index] = (found.start, found.end)
                moves.setdefault(record.session, []).append(index)
        schedule = apply_record(plan, schedule, record)
    return schedule


def undo_record(
    schedule: Schedule,
    target: Record,
    restore: tuple[dt.datetime, dt.datetime] | None = None,
) -> Schedule:
    """The state with a voided record's effect taken back; the change raises SEQUENCE.

    A voided status record puts the session back to scheduled (if that record still gives
    its status); a voided move puts it back at ``restore``, its time before the move, when
    given (the move was the latest one of the session since the last re-plan).
    """
    session = next(s for s in schedule if s.number == target.session)
    changes: dict[str, Any] = {}
    if target.kind in ("attended", "missed", "cancelled") and session.status == target.kind:
        changes["status"] = "scheduled"
        if target.kind != "attended":  # as attending did not, undoing it changes no calendar
            changes["sequence"] = session.sequence + 1
    elif target.kind == "moved" and restore is not None:
        changes.update(start=restore[0], end=restore[1], sequence=session.sequence + 1)
    sessions = [s.evolve(**changes) if s.number == target.session else s for s in schedule.sessions]
    sessions.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    return bump_positions(schedule, attrs.evolve(schedule, sessions=tuple(sessions)))


def positions(schedule: Schedule) -> dict[int, tuple[int, int]]:
    """Each session's place in the course as a calendar title shows it: (k, of n).

    The sessions that count (attended or to come) are numbered in order of time; n is the
    course's target count.
    """
    active = sorted(
        (s for s in schedule.sessions if s.active), key=lambda s: s.start.astimezone(dt.UTC)
    )
    total = schedule.target if schedule.target is not None else len(active)
    return {s.number: (k, total) for k, s in enumerate(active, start=1)}


def bump_positions(before: Schedule, after: Schedule) -> Schedule:
    """``after`` with ``renumbered`` raised on sessions whose place in the course changed
    (their numbered title "3 of 36" would change) and that did not change otherwise.

    Their SEQUENCE stays: a calendar without numbered titles shows nothing new, so a
    CalDAV push rewrites only what changed; one with numbered titles writes SEQUENCE plus
    ``renumbered`` (see :func:`tms_schedule.export.ics.schedule_to_ics`)."""
    old, new = positions(before), positions(after)
    previous = {s.number: s for s in before.sessions}
    changed = []
    for session in after.sessions:
        was = previous.get(session.number)
        if (
            was is not None
            and session.number in old
            and session.number in new
            and old[session.number] != new[session.number]
            and was.sequence == session.sequence
        ):
            session = session.evolve(renumbered=session.renumbered + 1)
        changed.append(session)
    return attrs.evolve(after, sessions=tuple(changed))


def _in_zone(moment: dt.datetime, zone: Any) -> dt.datetime:
    """``moment`` in the clinic's zone by way of UTC, so a wall time that does not exist
    moves forward by the gap, as plans do (02:30 on a spring-forward day becomes 03:30)."""
    try:
        return in_zone(moment, zone)
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
    if not hours.holds(start, end):
        raise CourseError(
            f"when: {start:%H:%M}-{end:%H:%M} is outside the opening hours on {day} ({hours})"
        )
    interval = same_day_interval(plan.protocol, session.phase)
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


def same_day_interval(protocol: Protocol, phase_name: str) -> dt.timedelta | None:
    """The least break between two sessions of a phase on one day (``None``: one a day)."""
    for phase in protocol.phases:
        if phase.name == phase_name and isinstance(phase, Accelerated | Periodic):
            if isinstance(phase, Periodic) and phase.cluster_sessions == 1:
                return None
            return phase.interval
    return None
