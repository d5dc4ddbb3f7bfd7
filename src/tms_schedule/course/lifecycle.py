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
from typing import Any

import attrs

from tms_schedule.clinic import ClinicCalendar
from tms_schedule.course.authorization import Authorization, AuthorizationReport
from tms_schedule.course.changes import Changes, diff
from tms_schedule.course.milestones import MilestoneRules, annotate
from tms_schedule.course.record import Record, apply_record
from tms_schedule.course.replan import POLICIES, gap_warnings, replan_schedule, stretch_warning
from tms_schedule.errors import CourseError
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = ["Course", "Revision"]


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
            current = apply_record(self.plan, current, record)
        object.__setattr__(self, "schedule", annotate(self.plan, current, self.milestone_rules))

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
        apply_record(self.plan, self.schedule, record, check=True)
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
        schedule, warnings = replan_schedule(self, start, policy, min_gap, extra_per_week)
        warnings += gap_warnings(schedule, gap_limit)
        warnings += stretch_warning(self, schedule)
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
        return diff(before, self.schedule, self.records)

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
        """The course as a JSON document with a schema version (see :mod:`tms_schedule.course.file`)."""
        from tms_schedule.course.file import course_to_json

        return course_to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> Course:
        """Read a document written by :meth:`to_json`; anything else is refused."""
        from tms_schedule.course.file import course_from_json

        return course_from_json(text)

    def save(self, path: Any) -> None:
        """Write the course to ``path`` atomically: never a half-written file."""
        from tms_schedule.course.file import save_course

        save_course(self, path)

    @classmethod
    def load(cls, path: Any) -> Course:
        """Read a course file written by :meth:`save`."""
        from tms_schedule.course.file import load_course

        return load_course(path)
