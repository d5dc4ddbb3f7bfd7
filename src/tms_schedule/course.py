"""Course: a plan plus what happened — attendance, misses, moves, re-plans, billing, insurance.

A :class:`Course` is immutable: every recording returns a new course, and an impossible one
(attending a session twice, a date before the course began, a session that does not exist)
raises :class:`CourseError` and leaves the course as it was. What was recorded is never
lost: the records are kept in order, and each re-plan is kept as a :class:`Revision`.

Session numbers are identities: a session keeps its number (and so its calendar UID) when
it moves; a session added by a re-plan gets a new number. The course's current state is
:attr:`Course.schedule`; what changed since a revision is :meth:`Course.changes_since`.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
>>> course = Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1"))
>>> course = course.attended(1).missed(2, cause="patient").replan(dt.date(2026, 11, 18))
>>> len(course.schedule.active_sessions()), course.schedule.last.date.isoformat()
(36, '2027-01-19')
>>> print(course.changes_since(0).to_text().splitlines()[0])
Session 2 on Tue 17 Nov 2026 09:00: missed (patient)
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from tms_schedule.clinic import ClinicCalendar, Closure
from tms_schedule.errors import BlockSplitError, TmsScheduleError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import COURSE_HORIZON_DAYS, Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = [
    "CAUSES",
    "POLICIES",
    "Authorization",
    "AuthorizationReport",
    "Change",
    "Changes",
    "Course",
    "CourseError",
    "Extension",
    "MilestoneRules",
    "Record",
    "Revision",
]

#: Why a session was missed: the patient, the clinic (a closure), the device, or other.
CAUSES = ("patient", "clinic", "device", "other")
#: Catch-up policies for re-planning: ``extend`` (missed sessions go to the end of their
#: phase and the course gets longer), ``double`` (a second session on a later day),
#: ``extra-day`` (the clinic's catch-up days first).
POLICIES = ("extend", "double", "extra-day")
RECORD_KINDS = ("attended", "missed", "cancelled", "moved")

_DAY = dt.timedelta(days=1)


class CourseError(TmsScheduleError):
    """A recording or re-plan that cannot be right; the course is left unchanged."""


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


@attrs.frozen
class Revision:
    """The course's sessions as one re-plan left them (revision 0: the plan as expanded).

    Attributes:
        number: 0 for the original plan, then 1, 2, ...
        schedule: the sessions, with their states and SEQUENCE, as of this revision.
        records: how many records had been applied when it was made.
        policy: the catch-up policy of the re-plan (``None`` for revision 0).
        start: the day the re-plan started from.
        warnings: what the front desk should look at (long gaps, a stretched course).
    """

    number: int
    schedule: Schedule
    records: int = 0
    policy: str | None = None
    start: dt.date | None = None
    warnings: tuple[str, ...] = ()


@attrs.frozen
class Extension:
    """More sessions approved later, optionally with a later end of the window."""

    sessions: int
    until: dt.date | None = None
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.sessions, bool)
            or not isinstance(self.sessions, int)
            or not 0 <= self.sessions <= 200
        ):
            raise CourseError(
                f"Extension.sessions: must be a whole number from 0 to 200, got {self.sessions!r}"
            )


@attrs.frozen
class Authorization:
    """An insurer's approval: how many sessions, from when until when, and extensions."""

    sessions: int
    valid_from: dt.date
    valid_until: dt.date
    extensions: tuple[Extension, ...] = ()

    def __attrs_post_init__(self) -> None:
        if (
            isinstance(self.sessions, bool)
            or not isinstance(self.sessions, int)
            or not 1 <= self.sessions <= 400
        ):
            raise CourseError(
                f"Authorization.sessions: must be a whole number from 1 to 400, got {self.sessions!r}"
            )
        if self.valid_until < self.valid_from:
            raise CourseError(
                f"Authorization.valid_until: must be on or after valid_from ({self.valid_from}),"
                f" got {self.valid_until}"
            )

    @property
    def approved(self) -> int:
        """Sessions approved in all, extensions included."""
        return self.sessions + sum(e.sessions for e in self.extensions)

    @property
    def until(self) -> dt.date:
        """The last day of the window, extensions included."""
        return max([self.valid_until, *(e.until for e in self.extensions if e.until)])

    def extend(
        self, sessions: int, until: dt.date | None = None, note: str | None = None
    ) -> Authorization:
        """The authorization with an extension added."""
        if until is not None and until < self.valid_from:
            raise CourseError(
                f"until: must be on or after valid_from ({self.valid_from}), got {until}"
            )
        return attrs.evolve(self, extensions=(*self.extensions, Extension(sessions, until, note)))


@attrs.frozen
class AuthorizationReport:
    """What :meth:`Course.check_authorization` finds."""

    approved: int
    delivered: int
    planned: int
    valid_from: dt.date
    until: dt.date
    beyond_count: tuple[Session, ...]
    outside_window: tuple[Session, ...]

    @property
    def remaining(self) -> int:
        """Approved sessions not yet delivered."""
        return self.approved - self.delivered

    @property
    def ok(self) -> bool:
        """Whether every planned session lies inside the authorization."""
        return not self.beyond_count and not self.outside_window

    def to_text(self) -> str:
        """The report in words for the front desk."""
        lines = [
            f"Authorization: {self.approved} sessions from {self.valid_from} to {self.until}",
            f"Delivered: {self.delivered}; still approved: {self.remaining};"
            f" planned still to come: {self.planned - self.delivered}",
        ]
        for s in self.beyond_count:
            lines.append(f"Session {s.number} on {_when(s.start)} is beyond the approved count")
        for s in self.outside_window:
            lines.append(f"Session {s.number} on {_when(s.start)} is outside the approved dates")
        if self.ok:
            lines.append("Every planned session is inside the authorization.")
        return "\n".join(lines) + "\n"


@attrs.frozen
class MilestoneRules:
    """When motor threshold is re-determined and the rating scale is due; the billing codes.

    Args:
        scale: the rating scale's name (PHQ-9 by default; the same scale throughout).
        rating_every: ``"weekly"`` (the first session of each week) or every N-th session.
        rating_at_end_of: phases whose last session has a rating due (end of acute, taper).
        motor_threshold: ``"weekly"`` or every N-th session: re-determination (CPT 90869).
        initial_code / subsequent_code / redetermination_code: the CPT codes.
    """

    scale: str = "PHQ-9"
    rating_every: int | Literal["weekly"] = 5
    rating_at_end_of: tuple[str, ...] = ("acute", "taper")
    motor_threshold: int | Literal["weekly"] = "weekly"
    initial_code: str = "90867"
    subsequent_code: str = "90868"
    redetermination_code: str = "90869"

    def __attrs_post_init__(self) -> None:
        for name in ("rating_every", "motor_threshold"):
            value = getattr(self, name)
            if value != "weekly" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50
            ):
                raise CourseError(
                    f"{name}: must be 'weekly' or a whole number from 1 to 50, got {value!r}"
                )


@attrs.frozen
class Change:
    """One change between two states of a course, for the front desk."""

    kind: Literal["moved", "added", "cancelled", "missed", "attended"]
    session: int
    old: dt.datetime | None
    new: dt.datetime | None
    detail: str | None = None

    def __str__(self) -> str:
        match self.kind:
            case "moved":
                assert self.old is not None and self.new is not None
                return f"Session {self.session} moved from {_when(self.old)} to {_when(self.new)}"
            case "added":
                assert self.new is not None
                return f"Session {self.session} added on {_when(self.new)}"
            case _:
                assert self.old is not None
                extra = f" ({self.detail})" if self.detail else ""
                return f"Session {self.session} on {_when(self.old)}: {self.kind}{extra}"


@attrs.frozen
class Changes:
    """What changed between a revision and the course now."""

    changes: tuple[Change, ...]

    def __iter__(self) -> Any:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def to_text(self) -> str:
        """One line per change, in the order of the sessions' dates."""
        if not self.changes:
            return "No changes.\n"
        return "\n".join(str(c) for c in self.changes) + "\n"


@attrs.frozen
class Course:
    """A plan and everything that happened to it.

    Build one with :meth:`Course.start`; record with :meth:`attended`, :meth:`missed`,
    :meth:`cancelled` and :meth:`moved`; re-plan with :meth:`replan`. Each returns a new
    course.
    """

    plan: Plan
    revisions: tuple[Revision, ...]
    records: tuple[Record, ...] = ()
    authorization: Authorization | None = None
    milestone_rules: MilestoneRules = attrs.Factory(MilestoneRules)
    follows: str | None = None
    relation: str | None = None
    schedule: Schedule = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not self.revisions:
            raise CourseError("revisions: a course has at least its original plan")
        latest = self.revisions[-1]
        current = latest.schedule
        for record in self.records[latest.records :]:
            current = _apply(self.plan, current, record)
        object.__setattr__(self, "schedule", _annotate(self.plan, current, self.milestone_rules))

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        plan: Plan,
        *,
        authorization: Authorization | None = None,
        milestone_rules: MilestoneRules | None = None,
        follows: str | None = None,
        relation: str | None = None,
    ) -> Course:
        """A new course: the plan expanded as revision 0."""
        return cls(
            plan=plan,
            revisions=(Revision(0, plan.expand()),),
            authorization=authorization,
            milestone_rules=milestone_rules or MilestoneRules(),
            follows=follows,
            relation=relation,
        )

    @property
    def course_id(self) -> str:
        """The course's opaque id."""
        return self.plan.course_id

    @property
    def revision(self) -> Revision:
        """The latest revision."""
        return self.revisions[-1]

    # -- recording ---------------------------------------------------------------------------

    def record(self, record: Record) -> Course:
        """The course with ``record`` appended; an impossible record raises :class:`CourseError`."""
        _apply(self.plan, self.schedule, record, check=True)
        return attrs.evolve(self, records=(*self.records, record))

    def attended(
        self, session: int, at: dt.datetime | None = None, note: str | None = None
    ) -> Course:
        """Record that ``session`` was attended (``at``: when; default its planned start)."""
        return self.record(Record("attended", session, at, None, note))

    def missed(self, session: int, cause: str = "patient", note: str | None = None) -> Course:
        """Record that ``session`` was missed, and why (patient, clinic, device, other)."""
        return self.record(Record("missed", session, None, cause, note))

    def cancelled(self, session: int, note: str | None = None) -> Course:
        """Record that ``session`` will not happen (it is not made up by itself: re-plan)."""
        return self.record(Record("cancelled", session, None, None, note))

    def moved(self, session: int, to: dt.datetime, note: str | None = None) -> Course:
        """Record that ``session`` moves to start at ``to``; its length stays."""
        return self.record(Record("moved", session, to, None, note))

    def with_clinic(self, clinic: ClinicCalendar) -> Course:
        """The course under an updated clinic calendar (a closure announced, a makeup day).

        Nothing moves until the next :meth:`replan`, which plans around the new calendar.
        """
        if not isinstance(clinic, ClinicCalendar):
            raise CourseError(f"clinic: must be a ClinicCalendar, got {clinic!r}")
        if clinic.timezone != self.plan.clinic.timezone:
            raise CourseError(
                f"clinic: the timezone must stay {self.plan.clinic.timezone}, got {clinic.timezone}"
            )
        return attrs.evolve(self, plan=attrs.evolve(self.plan, clinic=clinic))

    def authorize(self, authorization: Authorization | None) -> Course:
        """The course with this insurance authorization (``None`` removes it)."""
        return attrs.evolve(self, authorization=authorization)

    def extend_authorization(
        self, sessions: int, until: dt.date | None = None, note: str | None = None
    ) -> Course:
        """The course with an extension added to its authorization."""
        if self.authorization is None:
            raise CourseError("authorization: the course has none to extend; authorize it first")
        return self.authorize(self.authorization.extend(sessions, until, note))

    # -- re-planning ---------------------------------------------------------------------------

    def replan(
        self,
        start: dt.date,
        policy: str = "extend",
        *,
        min_gap: dt.timedelta = dt.timedelta(hours=6),
        extra_per_week: int = 2,
        gap_limit: dt.timedelta = dt.timedelta(days=14),
        within_authorization: bool = False,
    ) -> Course:
        """Re-plan the remaining sessions from ``start`` under a catch-up policy.

        Attended sessions never move, and sessions before ``start`` stay as they are. Every
        phase gets back its full count: what was missed or cancelled is planned again.

        Args:
            start: the first day the new sessions may use.
            policy: ``extend`` (missed sessions go to the end of their phase; the course gets
                longer), ``double`` (a second session on a later day of a daily phase, at
                least ``min_gap`` after the first, at most one extra a day and
                ``extra_per_week`` a week; what does not fit goes to the end), or
                ``extra-day`` (the clinic's catch-up days first, then the end).
            min_gap: the least time from the end of a day's session to its second one.
                No TMS source sets one; 6 hours follows radiotherapy's twice-daily rule.
            extra_per_week: the most second sessions in one calendar week.
            gap_limit: a gap between sessions longer than this is reported as a warning.
            within_authorization: refuse (with :class:`CourseError`) a re-plan that puts a
                session beyond the authorization's count or dates.
        """
        if policy not in POLICIES:
            raise CourseError(f"policy: must be one of {', '.join(POLICIES)}, got {policy!r}")
        if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
            raise CourseError(f"start: must be a date, got {start!r}")
        if start < self.plan.start:
            raise CourseError(
                f"start: must be on or after the course's start ({self.plan.start}), got {start}"
            )
        if (
            isinstance(extra_per_week, bool)
            or not isinstance(extra_per_week, int)
            or not 1 <= extra_per_week <= 5
        ):
            raise CourseError(
                f"extra_per_week: must be a whole number from 1 to 5, got {extra_per_week!r}"
            )
        if not isinstance(min_gap, dt.timedelta) or not (
            dt.timedelta(0) <= min_gap <= dt.timedelta(hours=12)
        ):
            raise CourseError(f"min_gap: must be from 0 to 12 hours, got {min_gap}")
        if not isinstance(gap_limit, dt.timedelta) or not (
            dt.timedelta(days=1) <= gap_limit <= dt.timedelta(days=365)
        ):
            raise CourseError(f"gap_limit: must be from 1 to 365 days, got {gap_limit}")
        schedule, warnings = _replan(self, start, policy, min_gap, extra_per_week)
        warnings += _gap_warnings(schedule, gap_limit)
        warnings += _stretch_warning(self, schedule)
        revision = Revision(
            len(self.revisions), schedule, len(self.records), policy, start, tuple(warnings)
        )
        course = attrs.evolve(self, revisions=(*self.revisions, revision))
        if within_authorization and course.authorization is not None:
            report = course.check_authorization()
            if not report.ok:
                raise CourseError(
                    "within_authorization: the re-plan puts"
                    f" {len({s.number for s in (*report.beyond_count, *report.outside_window)})}"
                    " session(s) outside"
                    f" the authorization ({report.approved} sessions until {report.until});"
                    " add an extension or re-plan without this option"
                )
        return course

    # -- reading -------------------------------------------------------------------------------

    def changes_since(self, revision: int = -1) -> Changes:
        """What changed between revision ``revision`` (default: the latest) and now."""
        try:
            before = self.revisions[revision].schedule
        except IndexError:
            raise CourseError(
                f"revision: must be from 0 to {len(self.revisions) - 1}, got {revision}"
            ) from None
        return _diff(before, self.schedule, self.records)

    def delivered(self) -> tuple[Session, ...]:
        """The attended sessions."""
        return tuple(s for s in self.schedule if s.status == "attended")

    def remaining(self) -> tuple[Session, ...]:
        """The sessions still to come."""
        return tuple(s for s in self.schedule if s.status == "scheduled")

    def check_authorization(self) -> AuthorizationReport:
        """Each planned session beyond the approved count or outside the dates, and what remains."""
        auth = self.authorization
        if auth is None:
            raise CourseError("authorization: the course has none; authorize it first")
        active = self.schedule.active_sessions()
        until = auth.until
        return AuthorizationReport(
            approved=auth.approved,
            delivered=sum(1 for s in active if s.status == "attended"),
            planned=len(active),
            valid_from=auth.valid_from,
            until=until,
            beyond_count=tuple(active[auth.approved :]),
            outside_window=tuple(s for s in active if not auth.valid_from <= s.date <= until),
        )

    def to_ics(
        self,
        *,
        stamp: dt.datetime,
        options: Any = None,
        revision: int | None = None,
        **choices: Any,
    ) -> bytes:
        """The course's calendar file now (or as of ``revision``); see :meth:`Schedule.to_ics`."""
        schedule = self.schedule if revision is None else self._revision(revision).schedule
        return schedule.to_ics(stamp=stamp, options=options, **choices)

    def _revision(self, number: int) -> Revision:
        if not 0 <= number < len(self.revisions):
            raise CourseError(
                f"revision: must be from 0 to {len(self.revisions) - 1}, got {number}"
            )
        return self.revisions[number]

    # -- what comes after ------------------------------------------------------------------------

    def next_course(
        self,
        protocol: Protocol | str,
        course_id: str,
        *,
        start: dt.date | None = None,
        at: dt.time | None = None,
        relation: str = "maintenance",
        clinic: ClinicCalendar | None = None,
    ) -> Course:
        """A course that follows this one: maintenance after the taper, or a rescue course.

        ``start`` defaults to a week after this course's last session (maintenance) — give
        it for a rescue course, which starts when symptoms return.
        """
        if relation not in ("maintenance", "rescue", "continuation"):
            raise CourseError(
                f"relation: must be maintenance, rescue or continuation, got {relation!r}"
            )
        active = self.schedule.active_sessions()
        if start is None:
            if not active:
                raise CourseError("start: this course has no session to follow; give a start date")
            start = active[-1].date + dt.timedelta(days=7)
        if active and start <= active[-1].date and relation != "rescue":
            raise CourseError(
                f"start: must be after this course's last session ({active[-1].date}), got {start}"
            )
        if start < self.plan.start:
            raise CourseError(
                f"start: must be on or after this course's start ({self.plan.start}), got {start}"
            )
        plan = Plan(protocol, clinic or self.plan.clinic, start, at or self.plan.at, course_id)
        if plan.course_id == self.course_id:
            raise CourseError(
                "course_id: a following course needs its own id (its calendar UIDs differ)"
            )
        return Course.start(
            plan, milestone_rules=self.milestone_rules, follows=self.course_id, relation=relation
        )

    def rescue(
        self, protocol: Protocol | str, course_id: str, start: dt.date, at: dt.time | None = None
    ) -> Course:
        """A reintroduction course for a relapse, linked to this one."""
        return self.next_course(protocol, course_id, start=start, at=at, relation="rescue")

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> str:
        """The course as a JSON document with a schema version (see :mod:`tms_schedule.course_file`)."""
        from tms_schedule.course_file import course_to_json

        return course_to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> Course:
        """Read a document written by :meth:`to_json`; anything else is refused."""
        from tms_schedule.course_file import course_from_json

        return course_from_json(text)

    def save(self, path: Any) -> None:
        """Write the course to ``path`` atomically: never a half-written file."""
        from tms_schedule.course_file import save_course

        save_course(self, path)

    @classmethod
    def load(cls, path: Any) -> Course:
        """Read a course file written by :meth:`save`."""
        from tms_schedule.course_file import load_course

        return load_course(path)


# -- applying records ------------------------------------------------------------------------------


def _apply(plan: Plan, schedule: Schedule, record: Record, *, check: bool = False) -> Schedule:
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
    updated = attrs.evolve(session, **changes)
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


# -- re-planning --------------------------------------------------------------------------------


def _remainder(phase: Phase, done: int) -> Phase | None:
    """The part of ``phase`` still to deliver after ``done`` of its sessions."""
    left = phase.total - done
    if left <= 0:
        return None
    match phase:
        case Daily():
            return Daily(left, name=phase.name)
        case Taper() | Weekly():
            counts = list(phase.per_week if isinstance(phase, Taper) else phase.counts)
            while done and counts:
                used = min(done, counts[0])
                counts[0] -= used
                done -= used
                if counts[0] == 0:
                    counts.pop(0)
            return Taper(tuple(counts), name=phase.name)
        case Accelerated():
            per_day = min(phase.per_day, left)
            return Accelerated(
                per_day, math.ceil(left / per_day), phase.interval, phase.consecutive, phase.name
            )
        case Periodic():
            occurrences = math.ceil(left / phase.cluster_sessions)
            return attrs.evolve(phase, occurrences=occurrences)
    raise AssertionError(phase)


def _replan(
    course: Course, start: dt.date, policy: str, min_gap: dt.timedelta, extra_per_week: int
) -> tuple[Schedule, list[str]]:
    plan = course.plan
    current = course.schedule
    # A session the front desk moved by hand stays where it was put.
    pinned_numbers = {r.session for r in course.records if r.kind == "moved"}
    pinned = [
        s
        for s in current
        if s.status == "scheduled" and s.date >= start and s.number in pinned_numbers
    ]
    fixed = [s for s in current if s.status != "scheduled" or s.date < start] + pinned
    movable = [
        s for s in current if s.status == "scheduled" and s.date >= start and s not in pinned
    ]
    kept = [s for s in fixed if s.active]  # delivered, planned before the start, or pinned
    done = {
        phase.name: sum(1 for s in kept if s.phase == phase.name) for phase in plan.protocol.phases
    }
    # Only what was missed since the last re-plan is still to make up: every re-plan gives
    # each phase its full count back, so earlier misses were made up then.
    since = {
        r.session
        for r in course.records[course.revision.records :]
        if r.kind in ("missed", "cancelled")
    }
    missing = {
        phase.name: sum(
            1 for s in fixed if s.phase == phase.name and not s.active and s.number in since
        )
        for phase in plan.protocol.phases
    }
    first_done = any(s.number == 1 for s in kept) or bool(kept)
    last_kept = max((s.date for s in kept if s not in pinned), default=None)
    clinic = plan.clinic
    if pinned:  # the days of pinned sessions are taken
        taken = tuple(Closure(s.date, s.date, "Another appointment") for s in pinned)
        clinic = attrs.evolve(clinic, closures=(*clinic.closures, *taken))
    begin = max(start, last_kept + _DAY) if last_kept and last_kept >= start else start
    warnings: list[str] = []

    def expand(hold_back: dict[str, int]) -> list[Session]:
        phases = []
        for phase in plan.protocol.phases:
            part = _remainder(phase, done[phase.name] + hold_back.get(phase.name, 0))
            if part is not None:
                phases.append(part)
        if not phases:
            return []
        protocol = attrs.evolve(
            plan.protocol,
            phases=tuple(phases),
            first_session=plan.protocol.session if first_done else plan.protocol.first_session,
            optional_phases=frozenset(),
            acute_range=None,
        )
        sub = attrs.evolve(plan, protocol=protocol, clinic=clinic, start=begin)
        try:
            expanded = sub.expand().sessions
        except BlockSplitError as error:
            assert error.next_start is not None
            warnings.append(
                f"the remaining block could not start on {begin} without being split;"
                f" it starts on {error.next_start}"
            )
            expanded = attrs.evolve(sub, start=error.next_start).expand().sessions
        # A part-used accelerated day or cluster is planned whole; keep only what is owed.
        owed = {
            phase.name: phase.total - done[phase.name] - hold_back.get(phase.name, 0)
            for phase in plan.protocol.phases
        }
        kept_slots = []
        for session in expanded:
            if owed.get(session.phase, 0) > 0:
                owed[session.phase] -= 1
                kept_slots.append(session)
        return kept_slots

    daily = {p.name for p in plan.protocol.phases if isinstance(p, Daily)}
    catch_up = {name: n for name, n in missing.items() if n and name in daily}
    extras: list[tuple[str, dt.datetime, dt.datetime]] = []
    slots = expand({})
    if policy != "extend" and catch_up:
        slots = expand(catch_up)
        if policy == "double":
            extras = _doubles(plan, slots, catch_up, min_gap, extra_per_week)
        else:
            extras = _catch_up_days(plan, slots, catch_up, begin, fixed)
        placed: dict[str, int] = {}
        for phase, _, _ in extras:
            placed[phase] = placed.get(phase, 0) + 1
        short = {name: n - placed.get(name, 0) for name, n in catch_up.items()}
        if any(short.values()):
            warnings.append(
                f"{sum(short.values())} missed session(s) could not be caught up by the"
                f" {policy} policy and go to the end of their phase"
            )
            slots = expand({name: placed.get(name, 0) for name in catch_up})
    regular = [(s.phase, s.start, s.end) for s in slots]
    return _assign(current, fixed, movable, regular, extras, done), warnings


def _doubles(
    plan: Plan,
    slots: list[Session],
    catch_up: dict[str, int],
    min_gap: dt.timedelta,
    per_week: int,
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """Second sessions on the days of the daily phases, as the ``double`` policy places them."""
    left = dict(catch_up)
    week_count: dict[tuple[int, int], int] = {}
    extras = []
    length = plan.protocol.session
    for session in slots:
        if not left.get(session.phase):
            continue
        week = session.date.isocalendar()[:2]
        if week_count.get(week, 0) >= per_week:
            continue
        start = (session.end.astimezone(dt.UTC) + min_gap).astimezone(session.start.tzinfo)
        end = (start.astimezone(dt.UTC) + length).astimezone(session.start.tzinfo)
        hours = plan.clinic.hours_on(session.date)
        if hours is None or end.date() != session.date or end.time() > hours.closes:
            continue
        extras.append((session.phase, start, end))
        left[session.phase] -= 1
        week_count[week] = week_count.get(week, 0) + 1
    return extras


def _catch_up_days(
    plan: Plan,
    slots: list[Session],
    catch_up: dict[str, int],
    begin: dt.date,
    fixed: Sequence[Session],
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """Sessions on the clinic's catch-up days inside each daily phase's span."""
    extras = []
    taken = {s.date for s in fixed if s.active}
    for phase, count in catch_up.items():
        phase_days = [s.date for s in slots if s.phase == phase]
        if not phase_days:
            continue
        last = phase_days[-1]
        for day in sorted(plan.clinic.catch_up_days):
            if count == 0:
                break
            if not begin <= day <= last or day in taken:
                continue
            hours = plan.clinic.hours_on(day)
            start = dt.datetime.combine(day, plan.at, tzinfo=plan.clinic.zone)
            end = (start.astimezone(dt.UTC) + plan.protocol.session).astimezone(plan.clinic.zone)
            if (
                hours is None
                or start.time() < hours.opens
                or end.date() != day
                or end.time() > hours.closes
            ):
                continue
            extras.append((phase, start, end))
            taken.add(day)
            count -= 1
    return extras


def _assign(
    current: Schedule,
    fixed: Sequence[Session],
    movable: Sequence[Session],
    regular: Sequence[tuple[str, dt.datetime, dt.datetime]],
    extras: Sequence[tuple[str, dt.datetime, dt.datetime]],
    done: dict[str, int],
) -> Schedule:
    """Give each phase's new slots to that phase's movable sessions, so a session keeps its
    number (and calendar UID) and moves as little as it can.

    Regular slots go to the movable sessions in order; catch-up slots (second sessions,
    catch-up days) to those left over, then to new session numbers; movable sessions left
    without a slot are cancelled.
    """
    next_number = max((s.number for s in current), default=0) + 1
    placed: list[Session] = list(fixed)
    leftovers: list[Session] = []
    phases = list(
        dict.fromkeys(
            [*(p for p, _, _ in regular), *(p for p, _, _ in extras), *(s.phase for s in movable)]
        )
    )
    for phase in phases:
        sessions = [s for s in movable if s.phase == phase]
        slots = [x for x in regular if x[0] == phase] + [x for x in extras if x[0] == phase]
        for i, (_, start, end) in enumerate(slots):
            if i < len(sessions):
                old = sessions[i]
                changed = (old.start, old.end) != (start, end)
                placed.append(
                    attrs.evolve(old, start=start, end=end, sequence=old.sequence + changed)
                )
            else:
                placed.append(Session(next_number, phase, 0, start, end))
                next_number += 1
        leftovers += sessions[len(slots) :]
    placed += [attrs.evolve(s, status="cancelled", sequence=s.sequence + 1) for s in leftovers]
    placed.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    counters = dict(done)
    numbered = []
    for s in placed:
        if s.status == "scheduled" and s not in fixed:
            counters[s.phase] = counters.get(s.phase, 0) + 1
            s = attrs.evolve(s, phase_number=counters[s.phase])
        numbered.append(_plain(s))
    return attrs.evolve(current, sessions=tuple(numbered))


def _plain(session: Session) -> Session:
    """Milestones are recomputed from the course; revisions keep sessions without them."""
    if session.cpt is None and not session.milestones:
        return session
    return attrs.evolve(session, cpt=None, milestones=())


def _gap_warnings(schedule: Schedule, limit: dt.timedelta) -> list[str]:
    active = schedule.active_sessions()
    warnings = []
    for before, after in itertools.pairwise(active):
        gap = after.date - before.date
        if gap > limit:
            warnings.append(
                f"{gap.days} days between sessions on {before.date} and {after.date}"
                f" (limit {limit.days} days)"
            )
    return warnings


def _stretch_warning(course: Course, schedule: Schedule) -> list[str]:
    """Compare the end with the plan as first expanded (which knew the clinic's closures)."""
    active = schedule.active_sessions()
    planned = course.revisions[0].schedule.active_sessions()
    if not active or not planned:
        return []
    late = (active[-1].date - planned[-1].date).days
    if late > 7:
        return [
            f"the course now ends on {active[-1].date}, {late} days after the planned end"
            f" ({planned[-1].date})"
        ]
    return []


# -- milestones --------------------------------------------------------------------------------


def _annotate(plan: Plan, schedule: Schedule, rules: MilestoneRules) -> Schedule:
    """The schedule with billing codes and milestones on its active sessions."""
    active = schedule.active_sessions()
    if not active:
        return schedule
    notes: dict[int, list[str]] = {s.number: [] for s in active}
    codes: dict[int, str] = {}
    last_in_phase = {s.phase: s.number for s in active}
    first_week = active[0].date.isocalendar()[:2]
    seen_weeks = {first_week}
    for k, s in enumerate(active, start=1):
        week = s.date.isocalendar()[:2]
        new_week = week not in seen_weeks
        seen_weeks.add(week)
        if k == 1:
            codes[s.number] = rules.initial_code
            notes[s.number] += ["Mapping and motor threshold", f"{rules.scale} baseline"]
            continue
        mt = new_week if rules.motor_threshold == "weekly" else (k - 1) % rules.motor_threshold == 0
        codes[s.number] = rules.redetermination_code if mt else rules.subsequent_code
        if mt:
            notes[s.number].append("Motor threshold re-determination")
        rating = new_week if rules.rating_every == "weekly" else k % rules.rating_every == 0
        end_of = [p for p in rules.rating_at_end_of if last_in_phase.get(p) == s.number]
        if end_of:
            notes[s.number].append(f"{rules.scale} due (end of {end_of[0]})")
        elif rating:
            notes[s.number].append(f"{rules.scale} due")
    sessions = tuple(
        attrs.evolve(s, cpt=codes.get(s.number), milestones=tuple(notes.get(s.number, ())))
        if s.active
        else s
        for s in schedule.sessions
    )
    return attrs.evolve(schedule, sessions=sessions)


# -- changes -------------------------------------------------------------------------------------


def _diff(before: Schedule, after: Schedule, records: Iterable[Record]) -> Changes:
    old = {s.number: s for s in before}
    causes = {r.session: r.cause for r in records if r.kind == "missed"}
    changes = []
    for s in after:
        was = old.get(s.number)
        if was is None:
            if s.active:
                changes.append(Change("added", s.number, None, s.start))
            continue
        if was.status != s.status and s.status in ("missed", "cancelled", "attended"):
            if s.status != "attended":
                changes.append(Change(s.status, s.number, was.start, None, causes.get(s.number)))  # type: ignore[arg-type]
            continue
        if s.active and (was.start != s.start or was.end != s.end):
            changes.append(Change("moved", s.number, was.start, s.start))
    changes.sort(key=lambda c: ((c.old or c.new).astimezone(dt.UTC), c.session))  # type: ignore[union-attr]
    return Changes(tuple(changes))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(moment: dt.datetime) -> str:
    """``Tue 17 Nov 2026 09:00`` in English, whatever the machine's locale."""
    return f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"
