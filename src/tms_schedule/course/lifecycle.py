"""Course: a plan plus what happened — attendance, misses, moves, re-plans, billing, insurance.

A :class:`Course` is immutable: every recording returns a new course, and an impossible one
(attending a session twice, attending one that has not started yet, a session that does not
exist) raises :class:`~tms_schedule.errors.CourseError` and leaves the course as it was. What
was recorded is never lost: records are only appended (a wrong one is voided with a reason),
and each re-plan is kept as a :class:`Revision`.

Session numbers are identities: a session keeps its number (and so its calendar UID) when
it moves; a session added by a re-plan gets a new number. The course's current state is
:attr:`Course.schedule`; what changed since a revision is :meth:`Course.changes_since`. The
library reads no clock: the caller says what time it is (``now``) where it matters.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
>>> now = dt.datetime(2026, 11, 18, 8, tzinfo=clinic.zone)
>>> course = Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1"))
>>> course = course.attended(1, now=now).missed(2, "patient", now=now).replan(now)
>>> print(course.schedule.progress())
36 sessions: 1 delivered, 35 to come; 1 missed (made up)
>>> print(course.changes_since().to_text().splitlines()[-1])
Session 37 added on Wed 30 Dec 2026 09:00
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import attrs

from tms_schedule._conveniences import provided
from tms_schedule._memo import ByIdentity
from tms_schedule._time import MomentInput, as_moment
from tms_schedule._validate import int_in_range, is_whole
from tms_schedule.clinic import ClinicCalendar
from tms_schedule.course.authorization import Authorization, AuthorizationReport, Extension
from tms_schedule.course.changes import Changes, diff
from tms_schedule.course.decisions import Ending, check_staged, judge, retuned
from tms_schedule.course.linked import clash, dates_text
from tms_schedule.course.milestones import FollowUp, MilestoneRules, annotate, follow_ups
from tms_schedule.course.ratings import SCALES, Rating, RatingOutcome, Scale, outcome
from tms_schedule.course.record import Record, apply_record, check_text, replay
from tms_schedule.course.replan import (
    POLICIES,
    Bookable,
    Free,
    Replanned,
    gap_warnings,
    replan_schedule,
    skipped_days,
    stretch_warning,
)
from tms_schedule.errors import CourseError
from tms_schedule.export.uid import key_id
from tms_schedule.phase import Periodic
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Progress, Schedule, Session

__all__ = ["Course", "Revision", "follow_relation"]


def follow_relation(protocol: Protocol, relation: str | None = None) -> str:
    """How a course of ``protocol`` follows another: ``relation`` checked, or by default
    ``maintenance`` for a protocol of boosters only, else ``continuation``."""
    if relation is None:
        boosters = all(isinstance(p, Periodic) for p in protocol.phases)
        return "maintenance" if boosters else "continuation"
    if relation not in ("maintenance", "rescue", "continuation"):
        raise CourseError(
            f"relation: must be maintenance, rescue or continuation, got {relation!r}"
        )
    return relation


@attrs.frozen
class Revision:
    """The course's sessions as one re-plan left them (revision 0: the plan as expanded).

    Attributes:
        number: 0 for the original plan, then 1, 2, ...
        schedule: the sessions, with their states and SEQUENCE, as of this revision.
        records: how many records had been entered when it was made.
        policy: the catch-up policy of the re-plan (``None`` for revision 0).
        start: the moment the re-plan started from: nothing was booked before it.
        warnings: what the front desk should look at (long gaps, a stretched course).
        removed: the sessions this re-plan took out of the plan (a phase that had more
            sessions than it delivers); they show as cancelled.
        reasons: why each session this re-plan moved had to move, by session number.
    """

    number: int
    schedule: Schedule
    records: int = 0
    policy: str | None = None
    start: dt.datetime | None = None
    warnings: tuple[str, ...] = ()
    removed: tuple[int, ...] = ()
    reasons: tuple[tuple[int, str], ...] = ()


def _shifted(plan: Plan, expanded: Schedule, schedule: Schedule) -> Schedule:
    """``schedule`` checked as the plan's sessions with each day moved within the day."""
    if not isinstance(schedule, Schedule):
        raise CourseError(f"schedule: must be a Schedule, got {schedule!r}")
    if len(schedule.sessions) != len(expanded.sessions):
        raise CourseError(
            f"schedule: must hold the plan's {len(expanded.sessions)} sessions, got"
            f" {len(schedule.sessions)}"
        )
    shifts: dict[dt.date, dt.timedelta] = {}
    clinic = plan.clinic
    for planned, given in zip(expanded.sessions, schedule.sessions, strict=True):
        if (planned.number, planned.phase, planned.phase_number) != (
            given.number,
            given.phase,
            given.phase_number,
        ) or given.status != "scheduled":
            raise CourseError(
                f"schedule: session {given.number} is not the plan's session {planned.number}"
                f" ({planned.phase} {planned.phase_number}), to come"
            )
        shift = given.start.astimezone(dt.UTC) - planned.start.astimezone(dt.UTC)
        if (
            given.date != planned.date
            or given.duration != planned.duration
            or shifts.setdefault(planned.date, shift) != shift
            or not clinic.holds(given.start, given.end)
        ):
            raise CourseError(
                f"schedule: session {given.number} must stay on {planned.date}, as long as"
                " planned, inside the day's hours, and move with the other sessions of its day"
            )
    return attrs.evolve(
        expanded,
        sessions=tuple(
            s.evolve(start=g.start.astimezone(clinic.zone), end=g.end.astimezone(clinic.zone))
            for s, g in zip(expanded.sessions, schedule.sessions, strict=True)
        ),
    )


def _moment(value: Any, clinic: ClinicCalendar, field: str) -> dt.datetime:
    """A moment as every entry point takes one (a date: the start of that day in the
    clinic's zone), or a :class:`CourseError` naming ``field``."""
    return as_moment(value, field, clinic.zone, CourseError)


def _now(value: Any, clinic: ClinicCalendar) -> dt.datetime | None:
    return None if value is None else _moment(value, clinic, "now")


def _undoable(
    state: Schedule, earlier: dict[int, Session], target: Revision
) -> tuple[dict[int, Session], set[int]]:
    """What re-plan ``target`` did that is still as it left it: the sessions it moved or
    took out, with their times before it (``earlier``), and the sessions it added."""
    made = {s.number: s for s in target.schedule.sessions}
    back: dict[int, Session] = {}
    gone: set[int] = set()
    for session in state.sessions:
        before, then = earlier.get(session.number), made.get(session.number)
        if then is None or (session.start, session.end) != (then.start, then.end):
            continue  # not made by that re-plan, or changed since
        if before is None:
            if session.status == "scheduled":
                gone.add(session.number)  # added by it: out again
            continue
        moved = session.status == "scheduled" and (before.start, before.end) != (
            then.start,
            then.end,
        )
        taken_out = session.status == "cancelled" and session.number in target.removed
        if before.status == "scheduled" and (moved or taken_out):
            back[session.number] = before
    return back, gone


def _has_original(revisions: tuple[Revision, ...]) -> None:
    if not revisions:
        raise CourseError("revisions: a course has at least its original plan")


def _replayed(plan: Plan, revisions: tuple[Revision, ...], records: tuple[Record, ...]) -> Schedule:
    """The course's state from its latest revision and the records since (see
    :func:`~tms_schedule.course.record.replay`)."""
    _has_original(revisions)  # checked here too: the state is worked out before validators run
    latest = revisions[-1]
    removed: set[int] = set()
    for revision in revisions:  # taken out, unless a later revision (an undo) put back
        removed |= set(revision.removed)
        removed -= {s.number for s in revision.schedule.sessions if s.status == "scheduled"}
    return replay(plan, latest.schedule, removed, records, latest.records)


# The sessions with their milestones, by the state they were worked out from, and the rules
# and authorization they followed: a course under a new clinic calendar, a closure's, keeps
# its state and so its milestones (only the days it goes around change).
_MILESTONED: ByIdentity[
    Schedule, tuple[MilestoneRules, Authorization | None, tuple[Session, ...]]
] = ByIdentity(512)


def _with_milestones(
    plan: Plan,
    current: Schedule,
    state: Schedule,
    rules: MilestoneRules,
    authorization: Authorization | None,
) -> Schedule:
    """``current`` (``state`` and the days it goes around) annotated (see
    :func:`~tms_schedule.course.milestones.annotate`), as worked out before for ``state``
    under the same rules and authorization."""
    known = _MILESTONED.get(state)
    if known is not None and known[0] == rules and known[1] == authorization:
        return attrs.evolve(current, sessions=known[2])
    annotated = annotate(plan, current, rules, authorization)
    _MILESTONED.put(state, (rules, authorization, annotated.sessions))
    return annotated


@attrs.frozen(repr=False)
class Course:
    """A plan and everything that happened to it.

    Build one with :meth:`Course.start`; record with :meth:`attended`, :meth:`missed`,
    :meth:`cancelled` and :meth:`moved`; take a wrong record back with :meth:`void`;
    re-plan with :meth:`replan`. Each returns a new course.

    ``uid_key_id`` names the UID key its calendar ids were made with
    (:func:`tms_schedule.export.uid.key_id`): exports with another key are refused, since
    they would change every id the patient's calendar knows. ``None``: not recorded.
    """

    plan: Plan
    revisions: tuple[Revision, ...] = attrs.field(validator=lambda _, __, v: _has_original(v))
    records: tuple[Record, ...] = ()
    authorization: Authorization | None = None
    milestone_rules: MilestoneRules = attrs.Factory(MilestoneRules)
    follows: str | None = None
    relation: str | None = None
    uid_key_id: str | None = None
    ratings: tuple[Rating, ...] = ()
    ended: Ending | None = None
    # The state the records give (without milestones), carried from course to course so a
    # recording costs one step, not a replay of the history; replayed when not given.
    _state: Schedule = attrs.field(
        default=attrs.Factory(
            lambda self: _replayed(self.plan, self.revisions, self.records), True
        ),
        alias="_state",
        eq=False,
        repr=False,
    )
    # The checksum of the file the course was read from or last saved to: a later save
    # over that file replaces it freely only while it is still that file.
    _origin: str | None = attrs.field(default=None, alias="_origin", eq=False, repr=False)
    #: The sessions now, with the days they go around and their milestones.
    schedule: Schedule = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda self: self._current(), takes_self=True),
    )

    def __attrs_post_init__(self) -> None:
        if self.follows is not None and self.follows == self.plan.course_id:
            raise CourseError(f"follows: course {self.follows} cannot follow itself")

    def _current(self) -> Schedule:
        state = self._state
        current = attrs.evolve(state, skipped=skipped_days(self.plan, state, state.skipped))
        return _with_milestones(self.plan, current, state, self.milestone_rules, self.authorization)

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
        schedule: Schedule | None = None,
        uid_key_id: str | None = None,
    ) -> Course:
        """A new course: the plan expanded as revision 0.

        ``schedule`` books the plan's sessions at other times of their days (an offer of
        the clinic's book, where the usual time is taken on some days): the same sessions
        on the same days, each day's sessions earlier or later by the same amount and
        inside the day's opening hours. Anything else raises :class:`CourseError`.

        Raises:
            CourseError: ``schedule`` is not the plan's sessions moved within their days.
            InvalidPlanError: (and the other expansion errors) the plan cannot be expanded.
        """
        expanded = plan.expand()
        if schedule is not None:
            expanded = _shifted(plan, expanded, schedule)
        return cls(
            plan=plan,
            revisions=(Revision(0, expanded),),
            authorization=authorization,
            milestone_rules=milestone_rules or MilestoneRules(),
            follows=follows,
            relation=relation,
            uid_key_id=uid_key_id,
        )

    def __repr__(self) -> str:
        records = len(self.records)
        return (
            f"<Course {self.course_id} ({self.plan.protocol.id}): revision"
            f" {self.revision.number}, {records} record{'' if records == 1 else 's'}>"
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

    def record(self, record: Record, *, now: MomentInput | None = None) -> Course:
        """The course with ``record`` appended; an impossible record raises :class:`CourseError`.

        ``now`` is the current time: attendance and misses are refused for a session that
        has not started yet.

        Raises:
            CourseError: a record that cannot be right; the course is left unchanged.
        """
        if not isinstance(record, Record):
            raise CourseError(f"record: must be a Record, got {record!r}")
        now = _now(now, self.plan.clinic)
        if record.kind == "void":
            number = record.voids + 1 if record.voids is not None else 0
            return self.void(number, record.note or "", now=record.recorded or now)
        state = apply_record(self.plan, self._state, record, check=True, now=now)
        return attrs.evolve(self, records=(*self.records, record), _state=state)

    def attended(
        self,
        session: int,
        at: MomentInput | None = None,
        note: str | None = None,
        *,
        now: MomentInput,
    ) -> Course:
        """Record that ``session`` was attended (``at``: when; default its planned start).

        ``now`` is the current time: a session that has not started by then is refused
        (a typo for another session number, say).

        Raises:
            CourseError: no such session, one recorded already, one that has not started by
                ``now``, or ``at`` on another day.
        """
        now = _moment(now, self.plan.clinic, "now")
        when = None if at is None else _moment(at, self.plan.clinic, "at")
        return self.record(Record("attended", session, when, None, note, recorded=now), now=now)

    def missed(
        self, session: int, cause: str, note: str | None = None, *, now: MomentInput
    ) -> Course:
        """Record that ``session`` was missed, and why: ``patient``, ``clinic``, ``device``
        or ``other`` (the cause matters to insurers and statistics, so it has no default).
        A session that has not started by ``now`` cannot be missed yet: cancel it instead.

        Raises:
            CourseError: no such session, one recorded already, a cause not in
                :data:`~tms_schedule.course.record.CAUSES`, or a session that has not started.
        """
        now = _moment(now, self.plan.clinic, "now")
        return self.record(Record("missed", session, None, cause, note, recorded=now), now=now)

    def cancelled(
        self, session: int, note: str | None = None, *, now: MomentInput | None = None
    ) -> Course:
        """Record that ``session`` will not happen (a re-plan makes it up).

        Raises:
            CourseError: no such session, or one recorded already.
        """
        now = _now(now, self.plan.clinic)
        return self.record(Record("cancelled", session, None, None, note, recorded=now), now=now)

    def moved(
        self,
        session: int,
        to: MomentInput,
        note: str | None = None,
        *,
        now: MomentInput | None = None,
    ) -> Course:
        """Record that ``session`` moves to start at ``to``; its length stays.

        Raises:
            CourseError: no such session, one recorded already, or a time the clinic cannot
                hold it at (a closed day, outside the hours, on another session's day).
        """
        now = _now(now, self.plan.clinic)
        to = _moment(to, self.plan.clinic, "to")
        return self.record(Record("moved", session, to, None, note, recorded=now), now=now)

    def void(self, record: int, reason: str, *, now: MomentInput | None = None) -> Course:
        """Take back record number ``record`` (from 1, in the order entered), with a reason.

        The record stays in the history, marked void; the session is as if it had not been
        entered (a voided attendance or miss makes the session planned again, and the next
        re-plan gives back what a voided miss had made up). A move can be voided only
        until a re-plan has built on it: after that, record a new move.

        Raises:
            CourseError: no such record, a void, one voided already, or a move a re-plan or a
                later move has built on.
        """
        now = _now(now, self.plan.clinic)
        index = self._record_index(record)
        target = self.records[index]
        if target.kind == "void":
            raise CourseError(f"record: record {record} is itself a void; it cannot be voided")
        if any(r.kind == "void" and r.voids == index for r in self.records):
            raise CourseError(f"record: record {record} is voided already")
        if target.kind == "moved" and index < self.revision.records:
            raise CourseError(
                f"record: record {record} (session {target.session} moved) was used by"
                f" re-plan {self.revision.number}; record a new move instead"
            )
        if target.kind == "moved":
            voided = {r.voids for r in self.records if r.kind == "void"}
            later = [
                i + 1
                for i, r in enumerate(self.records[index + 1 :], start=index + 1)
                if r.kind == "moved" and r.session == target.session and i not in voided
            ]
            if later:
                raise CourseError(
                    f"record: session {target.session} was moved again since (record"
                    f" {later[-1]}); void that move first"
                )
            session = next(s for s in self.schedule if s.number == target.session)
            if session.status != "scheduled":
                raise CourseError(
                    f"record: session {target.session} was recorded {session.status} at its"
                    " new time since; void that record first"
                )
        check_text(reason, "reason")
        void = Record("void", target.session, note=reason, recorded=now, voids=index)
        records = (*self.records, void)
        return attrs.evolve(
            self, records=records, _state=_replayed(self.plan, self.revisions, records)
        )

    def void_latest(self, session: int, reason: str, *, now: MomentInput | None = None) -> Course:
        """Void the latest record of ``session`` that still counts (see :meth:`void`).

        Raises:
            CourseError: the session has no record left to void.
        """
        voided = {r.voids for r in self.records if r.kind == "void"}
        for index in range(len(self.records) - 1, -1, -1):
            record = self.records[index]
            if record.session == session and record.kind != "void" and index not in voided:
                return self.void(index + 1, reason, now=now)
        gone = [
            i + 1
            for i in sorted(v for v in voided if v is not None)
            if self.records[i].session == session
        ]
        if gone:
            raise CourseError(
                f"session: session {session} has no record left to void (record"
                f" {', '.join(map(str, gone))} voided already)"
            )
        raise CourseError(f"session: session {session} has no record to void")

    def _record_index(self, number: int) -> int:
        if not is_whole(number):
            raise CourseError(f"record: must be a record number, got {number!r}")
        if not 1 <= number <= len(self.records):
            raise CourseError(
                f"record: must be from 1 to {len(self.records)} (the course's records),"
                f" got {number}"
                if self.records
                else "record: the course has no records yet"
            )
        return number - 1

    def with_clinic(self, clinic: ClinicCalendar) -> Course:
        """The course under an updated clinic calendar (a closure announced, a makeup day).

        Nothing moves until the next :meth:`replan`, which plans around the new calendar.

        Raises:
            CourseError: not a clinic calendar, or one in another timezone.
        """
        if not isinstance(clinic, ClinicCalendar):
            raise CourseError(f"clinic: must be a ClinicCalendar, got {clinic!r}")
        if clinic.timezone != self.plan.clinic.timezone:
            raise CourseError(
                f"clinic: the timezone must stay {self.plan.clinic.timezone}, got {clinic.timezone}"
            )
        return attrs.evolve(self, plan=attrs.evolve(self.plan, clinic=clinic))

    def authorize(self, authorization: Authorization | None) -> Course:
        """The course with this insurance authorization (``None`` removes it).

        A staged authorization (:class:`~tms_schedule.course.authorization.StagedAuthorization`)
        needs a protocol of its sessions, daily, optionally then a taper: its decision
        re-plans what follows them (:meth:`decide`).
        """
        if authorization is not None and authorization.decision_due:
            assert authorization.staged is not None
            check_staged(self.plan.protocol, authorization.staged)
        return attrs.evolve(self, authorization=authorization)

    def extend_authorization(
        self, sessions: int, until: dt.date | None = None, note: str | None = None
    ) -> Course:
        """The course with an extension added to its authorization.

        Raises:
            CourseError: the course has no authorization to extend.
        """
        if self.authorization is None:
            raise CourseError("authorization: the course has none to extend; authorize it first")
        return self.authorize(self.authorization.extend(sessions, until, note))

    # -- re-planning ---------------------------------------------------------------------------

    def replan(
        self,
        start: MomentInput,
        policy: str = "extend",
        *,
        min_gap: dt.timedelta = dt.timedelta(hours=6),
        extra_per_week: int = 2,
        gap_limit: dt.timedelta = dt.timedelta(days=14),
        within_authorization: bool = False,
        bookable: Bookable | None = None,
        block: str | None = None,
    ) -> Course:
        """Re-plan what the course owes, changing as little as the event requires.

        Recorded sessions never change; a planned session keeps its time unless its day is
        now closed or its time outside the hours; what each phase owes goes where the
        policy says, never before ``start`` (see :mod:`tms_schedule.course.replan`). When
        nothing needs to change, the course is returned as it is: no new revision.

        Args:
            start: the moment the re-plan starts from (a date: the start of that day in the
                clinic's zone). Clinic software passes now; a clinic entering a past course
                late passes the day it re-planned. Before the course's first day, the re-plan
                starts from that day.
            policy: ``extend`` (what is owed goes to the end of its phase; the course gets
                longer), ``double`` (a second session on a later day of a daily phase, at
                least ``min_gap`` after the first, at most one extra a day and
                ``extra_per_week`` a week; the rest to the end), or ``extra-day`` (the
                clinic's catch-up days first, then the end).
            min_gap: the least time from the end of a day's session to its second one.
                No TMS source sets one; 6 hours follows radiotherapy's twice-daily rule.
            extra_per_week: the most second sessions in one calendar week.
            gap_limit: a gap between sessions longer than this is reported as a warning.
            within_authorization: refuse (with :class:`CourseError`) a re-plan that puts a
                session beyond the authorization's count or dates.
            bookable: the clinic book's check of a time (:data:`~tms_schedule.course.replan.Bookable`:
                :class:`~tms_schedule.course.replan.Free`, or
                :class:`~tms_schedule.course.replan.Unavailable` and why);
                :meth:`tms_schedule.book.Book.replan` passes it, so sessions go only where a
                chair is free.
            block: the clinician's choice when the re-plan would break an accelerated
                block's consecutive days: ``"continue"`` on the next open days (a warning is
                recorded in the revision) or ``"restart"`` the block's sessions to come on
                the first consecutive days that hold them. Without it such a re-plan raises
                :class:`~tms_schedule.errors.BlockBreakError`, which names the days.

        Raises:
            BlockBreakError: the re-plan would break a block's consecutive days and
                ``block`` says nothing (nothing changed).
            CourseError: a policy or bound outside what is allowed, ``start`` not a moment,
                no room in the clinic's book, or (``within_authorization``) sessions outside the
                authorization.
            NoOpenDayError: no open day ahead within the search horizon for what is owed.
        """
        if policy not in POLICIES:
            raise CourseError(f"policy: must be one of {', '.join(POLICIES)}, got {policy!r}")
        if self.ended is not None:
            return self  # an ended course owes nothing: what it did not deliver is not made up
        # Before the course starts nothing can be booked anyway: from its first day then.
        moment = max(
            _moment(start, self.plan.clinic, "start"),
            dt.datetime.combine(self.plan.start, dt.time(), tzinfo=self.plan.clinic.zone),
        )
        int_in_range(extra_per_week, "extra_per_week", 1, 5, CourseError)
        if not isinstance(min_gap, dt.timedelta) or not (
            dt.timedelta(0) <= min_gap <= dt.timedelta(hours=12)
        ):
            raise CourseError(f"min_gap: must be from 0 to 12 hours, got {min_gap}")
        if not isinstance(gap_limit, dt.timedelta) or not (
            dt.timedelta(days=1) <= gap_limit <= dt.timedelta(days=365)
        ):
            raise CourseError(f"gap_limit: must be from 1 to 365 days, got {gap_limit}")
        result = replan_schedule(
            self.plan,
            self._state,
            moment,
            policy,
            min_gap=min_gap,
            extra_per_week=extra_per_week,
            bookable=bookable,
            block=block,
        )
        if result.schedule.sessions == self._state.sessions:
            return self  # nothing to change: no new revision
        warnings = [
            *result.warnings,
            *gap_warnings(result.schedule, gap_limit),
            *stretch_warning(self.revisions[0].schedule, result.schedule),
        ]
        revision = Revision(
            len(self.revisions),
            result.schedule,
            len(self.records),
            policy,
            moment,
            tuple(warnings),
            result.removed,
            result.reasons,
        )
        course = attrs.evolve(self, revisions=(*self.revisions, revision), _state=result.schedule)
        if within_authorization and course.authorization is not None:
            report = course.check_authorization()
            if not report.ok:
                outside = {s.number for s in (*report.beyond_count, *report.outside_window)}
                raise CourseError(
                    f"authorization: the re-plan puts {len(outside)} session(s) outside the"
                    f" authorization ({report.approved} sessions until {report.until});"
                    " add an extension, or re-plan without keeping to it"
                )
        return course

    def undo_revision(
        self,
        revision: int,
        start: MomentInput,
        *,
        bookable: Bookable | None = None,
    ) -> Course:
        """Take back what re-plan ``revision`` did (after a closure entered by mistake):
        sessions it moved go back to their earlier times, sessions it added go, sessions it
        took out come back, as far as the course and the clinic allow now.

        A session goes back only if it is still planned where that re-plan put it, its
        earlier time is not before ``start``, falls on an open day inside the hours, shares
        its day with no session it did not share it with then, and (with ``bookable``, the
        clinic book's check) has a free chair; and only with every session that re-plan
        moved from an earlier time (what a re-plan moves for a session before it cannot
        come back without it: an undo never leaves an order a re-plan could not give, a
        taper session after the course's last). The course is then re-planned under
        ``extend`` from ``start`` so it keeps its count and its phases stay in order. The
        result is a new revision with policy ``undo``; with nothing to take back, the course
        is returned as it is.

        Raises:
            CourseError: ``revision`` is not a re-plan of the course, or ``start`` not a moment.
        """
        if not is_whole(revision) or revision < 1:
            raise CourseError(f"revision: must be a re-plan (1 or later) to undo, got {revision!r}")
        target = self._revision(revision)
        if target.policy in ("end", "decision"):
            raise CourseError(
                f"revision: revision {revision} {'ended' if target.policy == 'end' else 'decided'}"
                " the course; a clinical decision is not undone by an undo (start a new course"
                " instead)"
            )
        if self.ended is not None:
            return self  # an ended course gets nothing back: what it did not give is not owed
        moment = _moment(start, self.plan.clinic, "start")
        state = self._state
        earlier = {s.number: s for s in self.revisions[revision - 1].schedule.sessions}
        back, gone = _undoable(state, earlier, target)
        reverted = self._reverted(state, back, gone, earlier, moment, bookable)
        if reverted.sessions == state.sessions:
            return self
        # What comes back rejoins its block; what cannot, stays where the event put it.
        result = replan_schedule(
            self.plan, reverted, moment, "extend", bookable=bookable, block="continue"
        )
        undone = self._undo_made(state, result, moment, revision)
        return attrs.evolve(self, revisions=(*self.revisions, undone), _state=result.schedule)

    def _reverted(
        self,
        state: Schedule,
        back: dict[int, Session],
        gone: set[int],
        earlier: dict[int, Session],
        moment: dt.datetime,
        bookable: Bookable | None,
    ) -> Schedule:
        """``state`` with the sessions of ``back`` at their earlier times, in the order of
        those times, up to the first that cannot go back (before ``moment``, or it no longer
        fits): the ones after it stay where they are, since the re-plan moved them for the
        ones before (a phase that ends later pushes the next one on), and taking them back
        alone would scramble the course. The sessions of ``gone`` are cancelled when all of
        ``back`` went back."""
        zone = self.plan.clinic.zone
        going: dict[int, Session] = {}
        in_order = sorted(
            back.items(), key=lambda item: (item[1].start.astimezone(dt.UTC), item[0])
        )
        for number, before in in_order:
            if before.start < moment or not self._fits(before, bookable, state, going, earlier):
                break
            going[number] = before
        whole = len(going) == len(back)
        sessions = []
        for session in state.sessions:
            then = going.get(session.number)
            if then is not None:
                session = session.evolve(
                    start=then.start.astimezone(zone),
                    end=then.end.astimezone(zone),
                    status="scheduled",
                    sequence=session.sequence + 1,
                )
            elif whole and session.number in gone:
                session = session.evolve(status="cancelled", sequence=session.sequence + 1)
            sessions.append(session)
        sessions.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
        return attrs.evolve(state, sessions=tuple(sessions))

    def _undo_made(
        self, state: Schedule, result: Replanned, moment: dt.datetime, revision: int
    ) -> Revision:
        """The revision an undo makes: policy ``undo``, with what it took out and why each
        session changed."""
        was = {s.number: s for s in state.sessions}
        removed = tuple(
            sorted(
                s.number
                for s in result.schedule.sessions
                if s.status == "cancelled"
                and s.number in was
                and was[s.number].status == "scheduled"
            )
        )
        why = dict(result.reasons)
        reasons = tuple(
            sorted(
                (s.number, why.get(s.number, f"revision {revision} undone"))
                for s in result.schedule.sessions
                if s.number in was
                and (s.start, s.end, s.status)
                != (was[s.number].start, was[s.number].end, was[s.number].status)
            )
        )
        return Revision(
            len(self.revisions),
            result.schedule,
            len(self.records),
            "undo",
            moment,
            result.warnings,
            removed,
            reasons,
        )

    def _fits(
        self,
        session: Session,
        bookable: Bookable | None,
        state: Schedule,
        back: dict[int, Session],
        earlier: dict[int, Session],
    ) -> bool:
        """Whether ``session`` (an earlier time of a planned session) can be booked now,
        with the sessions of ``back`` gone back."""
        if not self.plan.clinic.holds(session.start, session.end):
            return False
        # The day holds no session it did not hold then (where each will be after the undo).
        for other in state.sessions:
            if other.number == session.number or not other.active:
                continue
            day = back[other.number].date if other.number in back else other.date
            if day == session.date and (
                other.number not in earlier or earlier[other.number].date != session.date
            ):
                return False
        return bookable is None or isinstance(bookable(session.start, session.end), Free)

    # -- ratings, decisions and an early end --------------------------------------------------

    def rate(
        self,
        score: int,
        *,
        now: dt.datetime,
        on: dt.date | None = None,
        scale: Scale | str | None = None,
        session: int | None = None,
        note: str | None = None,
    ) -> Course:
        """The course with a rating's score recorded (see :mod:`tms_schedule.course.ratings`).

        Args:
            score: the score, within the scale's range (PHQ-9: 0 to 27).
            now: the current time; a rating cannot be dated later.
            on: the day it was rated (default: the session's day, else today).
            scale: the scale (default: the milestone rules' scale); a name the library
                knows (PHQ-9) or one the course has rated on, or a :class:`Scale`.
            session: the session it was rated at, if any.
            note: free text for the clinic, never in calendar files.
        """
        zone = self.plan.clinic.zone
        if not isinstance(now, dt.datetime):
            raise CourseError(f"now: must be a date and time with its time zone, got {now!r}")
        _moment(now, self.plan.clinic, "now")
        known = {r.scale.name: r.scale for r in self.ratings}
        if scale is None:
            scale = self.milestone_rules.scale
        if isinstance(scale, str):
            found = known.get(scale) or SCALES.get(scale)
            if found is None:
                raise CourseError(
                    f"scale: {scale!r} is not a scale the library knows ({', '.join(SCALES)});"
                    " give it as a Scale with its range (the clinic file's [[scales]])"
                )
            scale = found
        if not isinstance(scale, Scale):
            raise CourseError(f"scale: must be a Scale or its name, got {scale!r}")
        if scale.name in known and known[scale.name] != scale:
            raise CourseError(
                f"scale: the course rates {scale.name} from {known[scale.name].low} to"
                f" {known[scale.name].high}; one scale keeps one range throughout a course"
            )
        if session is not None:
            match = [s for s in self.schedule.sessions if s.number == session]
            if not match:
                raise CourseError(f"session: the course has no session {session!r}")
            on = on or match[0].date
        today = now.astimezone(zone).date()
        on = on or today
        if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
            raise CourseError(f"on: must be a date, got {on!r}")
        if on > today:
            raise CourseError(
                f"on: {on} is later than today ({today}); a score is entered once rated"
            )
        rating = Rating(scale, score, on, session, note, now.astimezone(dt.UTC))
        return attrs.evolve(self, ratings=(*self.ratings, rating))

    def void_rating(self, number: int, reason: str, *, now: dt.datetime | None = None) -> Course:
        """Take back rating number ``number`` (from 1, in the order entered), with a reason;
        it stays in the history and counts for nothing."""
        if not is_whole(number):
            raise CourseError(f"rating: must be a rating number, got {number!r}")
        if not 1 <= number <= len(self.ratings):
            raise CourseError(
                f"rating: must be from 1 to {len(self.ratings)}, got {number}"
                if self.ratings
                else "rating: the course has no ratings"
            )
        target = self.ratings[number - 1]
        if target.voided is not None:
            raise CourseError(f"rating: rating {number} is voided already")
        check_text(reason, "reason")
        voided = attrs.evolve(target, voided=reason)
        ratings = (*self.ratings[: number - 1], voided, *self.ratings[number:])
        return attrs.evolve(self, ratings=ratings)

    def outcome(self, scale: str | None = None) -> RatingOutcome | None:
        """The latest rating of ``scale`` (default: the milestone rules' scale, else the
        first one rated) against its baseline; ``None`` without a rating."""
        names = {r.scale.name for r in self.ratings if r.voided is None}
        if scale is None:
            scale = self.milestone_rules.scale if self.milestone_rules.scale in names else None
        return outcome(self.ratings, scale)

    def end(
        self,
        reason: str,
        *,
        now: dt.datetime,
        start: dt.date | dt.datetime | None = None,
        superseded_by: str | None = None,
    ) -> Course:
        """End the course early, in one action: every session from ``start`` (default: now)
        on is cancelled with ``reason``, and nothing is made up afterwards.

        Sessions before ``start`` not recorded yet stay, to be recorded attended or
        missed. The cancellations form a revision (policy ``end``), so the history keeps
        them and each calendar gets its cancellations; :attr:`ended` says why.
        """
        if self.ended is not None:
            raise CourseError(
                f"course: {self.course_id} ended already ({self.ended.at:%Y-%m-%d}:"
                f" {self.ended.reason})"
            )
        check_text(reason, "reason")
        if not isinstance(now, dt.datetime):
            raise CourseError(f"now: must be a date and time with its time zone, got {now!r}")
        _moment(now, self.plan.clinic, "now")
        moment = _moment(now if start is None else start, self.plan.clinic, "start")
        ending = Ending(moment, reason, superseded_by)
        assert self._state is not None
        why = f"course ended: {reason}"
        removed = tuple(
            s.number for s in self._state.sessions if s.status == "scheduled" and s.start >= moment
        )
        sessions = tuple(
            s.evolve(status="cancelled", sequence=s.sequence + 1) if s.number in removed else s
            for s in self._state.sessions
        )
        state = attrs.evolve(self._state, sessions=sessions)
        revision = Revision(
            len(self.revisions),
            state,
            len(self.records),
            "end",
            moment,
            (),
            removed,
            tuple((n, why) for n in removed),
        )
        return attrs.evolve(self, revisions=(*self.revisions, revision), _state=state, ended=ending)

    def decide(
        self, *, now: dt.datetime, rating: int | None = None, bookable: Bookable | None = None
    ) -> Course:
        """Apply a staged authorization's decision with the rating that supports it.

        The latest rating of the course's scale (or rating number ``rating``) against the
        baseline gives the outcome: remission, the improvement the payer asks for, or
        otherwise. What that outcome continues with is approved (an extension of the
        authorization) and planned: the daily phase goes on for ``more`` sessions and the
        taper becomes the decision's, re-planned from ``now`` (``bookable``: the clinic
        book's check, as for :meth:`replan`); a stop ends the course after the decision
        session (:meth:`end`).
        """
        auth = self.authorization
        if auth is None or auth.staged is None:
            raise CourseError("authorization: the course has no staged authorization to decide")
        if auth.decision is not None:
            raise CourseError(
                f"authorization: decided already ({auth.decision.outcome}, {auth.decision.rating})"
            )
        staged = auth.staged
        decision, _ = judge(
            staged, self.ratings, self.milestone_rules.scale, now=now, rating=rating
        )
        going_on = staged.continuation(decision.outcome)
        note = f"{staged.name} decision: {decision.outcome}, {going_on.describe()}"
        decided = attrs.evolve(auth, decision=decision)
        if going_on.stop:
            active = self.schedule.active_sessions()
            at_decision = active[min(staged.sessions, len(active)) - 1]
            after = max(_moment(now, self.plan.clinic, "now"), at_decision.end)
            return attrs.evolve(self, authorization=decided).end(note, now=now, start=after)
        decided = attrs.evolve(
            decided,
            extensions=(*auth.extensions, Extension(going_on.sessions, None, note)),
        )
        protocol = retuned(self.plan.protocol, staged, going_on)
        assert self._state is not None
        state = attrs.evolve(self._state, target=protocol.total_sessions)
        course = attrs.evolve(
            self,
            plan=attrs.evolve(self.plan, protocol=protocol),
            authorization=decided,
            _state=state,
        )
        replanned = course.replan(now, bookable=bookable)
        if replanned is course:  # nothing moved: the new target is still kept in a revision
            revision = Revision(
                len(course.revisions),
                state,
                len(course.records),
                "decision",
                _moment(now, self.plan.clinic, "now"),
            )
            replanned = attrs.evolve(course, revisions=(*course.revisions, revision))
        return replanned

    # -- reading -------------------------------------------------------------------------------

    def changes_since(self, revision: int | None = None) -> Changes:
        """What changed between revision ``revision`` and now (default: the revision before
        the latest one, so a re-plan's own changes; revision 0 while there is no other).

        Raises:
            CourseError: no such revision.
        """
        if revision is None:
            revision = max(len(self.revisions) - 2, 0)
        before = self._revision(revision)
        reasons: dict[int, str] = {}
        for later in self.revisions[revision + 1 :]:
            reasons.update(later.reasons)
        return diff(before.schedule, self.schedule, self.records, reasons)

    def delivered(self) -> tuple[Session, ...]:
        """The attended sessions."""
        return tuple(s for s in self.schedule if s.status == "attended")

    def remaining(self) -> tuple[Session, ...]:
        """The sessions still to come."""
        return tuple(s for s in self.schedule if s.status == "scheduled")

    def progress(self) -> Progress:
        """Delivered, missed, cancelled and to come, against the course's target."""
        return self.schedule.progress()

    def follow_ups(self) -> tuple[FollowUp, ...]:
        """The ratings due after the last session (by the milestone rules)."""
        return follow_ups(self.plan, self.schedule, self.milestone_rules)

    def check_authorization(self) -> AuthorizationReport:
        """Each planned session beyond the approved count or outside the dates, and what remains.

        Raises:
            CourseError: the course has no authorization.
        """
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
            decision_due=(
                f"Decision due after session {active[auth.staged.sessions - 1].number}"
                f" ({auth.staged.name}): the sessions after it wait for it (course decide)"
                if auth.staged is not None
                and auth.decision is None
                and len(active) >= auth.staged.sessions
                else None
            ),
        )

    def to_ics(
        self,
        *,
        stamp: dt.datetime,
        options: Any = None,
        revision: int | None = None,
        **choices: Any,
    ) -> bytes:
        """The course's calendar file now (or as of ``revision``); see :meth:`Schedule.to_ics`.

        A UID key other than the one the course's ids were made with raises
        :class:`CourseError` (see ``uid_key_id``)."""
        key = choices.get("uid_key", getattr(options, "uid_key", None))
        self.check_uid_key(key)
        schedule = self.schedule if revision is None else self._revision(revision).schedule
        return schedule.to_ics(stamp=stamp, options=options, **choices)

    def check_uid_key(self, key: str | bytes | None) -> None:
        """Refuse (:class:`CourseError`) a UID key other than the course's own."""
        if self.uid_key_id is None or key_id(key) == self.uid_key_id:
            return
        if self.uid_key_id == "default":
            raise CourseError(
                f"uid_key: course {self.course_id}'s calendar ids were made without a UID key;"
                " export it without one (another key would change every id the patient's"
                " calendar knows)"
            )
        raise CourseError(
            f"uid_key: course {self.course_id}'s calendar ids were made with the clinic's UID"
            f" key {self.uid_key_id}; give that key (the clinic file that holds it): another"
            " would change every id the patient's calendar knows"
        )

    def revision_schedule(self, number: int) -> Schedule:
        """The sessions as revision ``number`` left them.

        Raises:
            CourseError: no such revision.
        """
        return self._revision(number).schedule

    def _revision(self, number: int) -> Revision:
        if not is_whole(number):
            raise CourseError(f"revision: must be a revision number, got {number!r}")
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
        relation: str | None = None,
        clinic: ClinicCalendar | None = None,
    ) -> Course:
        """A course that follows this one: maintenance after the taper, or a rescue course.

        ``start`` defaults to a week after this course's last session (maintenance) — give
        it for a rescue course, which starts when symptoms return. ``relation`` defaults to
        ``maintenance`` for a protocol of boosters only, else ``continuation``. A protocol
        that names no equipment (the maintenance protocols) takes this course's
        (:attr:`Protocol.requires`): the sessions run on the same coil.

        Raises:
            CourseError: a start before this course's end (but for a rescue course) or
                before its start, the same course id, or a relation not allowed.
        """
        plan = Plan(
            protocol, clinic or self.plan.clinic, self.plan.start, at or self.plan.at, course_id
        )
        relation = follow_relation(plan.protocol, relation)
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
        plan = attrs.evolve(plan, start=start)
        if not plan.protocol.requires and self.plan.protocol.requires:
            # Stimulation as in the patient's acute course: on the same equipment.
            same = attrs.evolve(plan.protocol, requires=self.plan.protocol.requires)
            plan = attrs.evolve(plan, protocol=same)
        if plan.course_id == self.course_id:
            raise CourseError(
                "course_id: a following course needs its own id (its calendar UIDs differ)"
            )
        following = Course.start(
            plan,
            milestone_rules=self.milestone_rules,
            follows=self.course_id,
            relation=relation,
            uid_key_id=self.uid_key_id,
        )
        days = clash(self.schedule, following.schedule)
        if days and not (relation == "rescue" and self.boosters_only):
            last = max(s.end for s in active).astimezone(self.plan.clinic.zone)
            raise CourseError(
                f"start: course {course_id} would overlap course {self.course_id}, which runs"
                f" until {last:%Y-%m-%d} (sessions on {dates_text(days)} clash); one patient's"
                f" courses never run at the same time: start it after {last:%Y-%m-%d}, or end"
                f" {self.course_id} first (Course.end)"
            )
        return following

    def rescue(
        self, protocol: Protocol | str, course_id: str, start: dt.date, at: dt.time | None = None
    ) -> Course:
        """A reintroduction course for a relapse, linked to this one.

        It may not overlap this course, except a maintenance course (boosters only), which
        the rescue supersedes: apply :meth:`supersede` to the maintenance with the rescue
        course, which cancels the boosters from the rescue's first day with the reason;
        :meth:`resume` gives the boosters not given back after the rescue, when asked.
        """
        return self.next_course(protocol, course_id, start=start, at=at, relation="rescue")

    @property
    def boosters_only(self) -> bool:
        """Whether the course is maintenance: boosters only (periodic phases)."""
        return all(isinstance(p, Periodic) for p in self.plan.protocol.phases)

    def supersede(self, rescue: Course, *, now: dt.datetime) -> Course:
        """This maintenance course, interrupted by ``rescue`` (a rescue course that follows
        it): its boosters from the rescue's first session on are cancelled, with the reason,
        and it ends (:attr:`ended` names the rescue course)."""
        if not isinstance(rescue, Course) or rescue.follows != self.course_id:
            raise CourseError(
                f"rescue: must be a rescue course that follows {self.course_id}"
                " (Course.rescue on this course)"
            )
        if not self.boosters_only:
            raise CourseError(
                f"course: {self.course_id} is not maintenance; a rescue supersedes maintenance"
                " only (end the course first: Course.end)"
            )
        active = rescue.schedule.active_sessions()
        if not active:
            raise CourseError(f"rescue: course {rescue.course_id} has no session to come")
        return self.end(
            f"superseded by rescue course {rescue.course_id}",
            now=now,
            start=active[0].start,
            superseded_by=rescue.course_id,
        )

    def resume(self, superseded: Course, course_id: str, *, start: dt.date | None = None) -> Course:
        """A maintenance course that gives, after this rescue course, the boosters
        ``superseded`` (the maintenance this rescue interrupted) did not give; it starts
        a week after this course's last session unless ``start`` says otherwise."""
        if (
            not isinstance(superseded, Course)
            or superseded.ended is None
            or superseded.ended.superseded_by != self.course_id
        ):
            raise CourseError(
                f"superseded: must be the maintenance course course {self.course_id} superseded"
                " (Course.supersede)"
            )
        end = superseded.revisions[-1]
        left: dict[str, int] = {}
        for number in end.removed:
            session = next(s for s in superseded.schedule.sessions if s.number == number)
            left[session.phase] = left.get(session.phase, 0) + 1
        phases = []
        for phase in superseded.plan.protocol.phases:
            assert isinstance(phase, Periodic)
            occurrences = -(-left.get(phase.name, 0) // phase.cluster_sessions)
            if occurrences:
                phases.append(attrs.evolve(phase, occurrences=occurrences))
        if not phases:
            raise CourseError(f"superseded: course {superseded.course_id} has no booster left")
        protocol = attrs.evolve(superseded.plan.protocol, phases=tuple(phases))
        return self.next_course(
            protocol, course_id, start=start, at=superseded.plan.at, relation="maintenance"
        )

    # -- persistence ---------------------------------------------------------------------------

    def to_json(self) -> str:
        """The course as a JSON document with a schema version (see :mod:`tms_schedule.course.codec`)."""
        return str(provided("course_to_json")(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Course:
        """Read a document written by :meth:`to_json`; anything else is refused."""
        course: Course = provided("course_from_json")(text)
        return course

    def save(
        self, path: str | Path, *, force: bool = False, key: str | bytes | None = None
    ) -> Course:
        """Write the course to ``path`` atomically, never losing what another terminal
        saved there, and return it as saved (keep using that one for later saves).

        A new file is created. An existing file is replaced when it is still the file this
        course was loaded from (or last saved to), or holds this same course with nothing
        this one lacks: the same calendar, authorization and rules, and its records and
        revisions the first ones here. Anything else — another course, records or a
        closure entered meanwhile elsewhere — is refused unless ``force`` is given.

        ``key``: the clinic's UID key, which seals the file (a course whose calendar ids
        are made with it is saved only with it); see :func:`tms_schedule.course.codec.checksum`.
        """
        saved: Course = provided("save_course")(self, path, force=force, key=key)
        return saved

    @classmethod
    def load(cls, path: str | Path, *, key: str | bytes | None = None) -> Course:
        """Read a course file written by :meth:`save` (a sealed one only with ``key``)."""
        course: Course = provided("load_course")(path, key=key)
        return course
