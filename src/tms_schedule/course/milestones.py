"""Milestones and billing codes: what is due at each session of a course, and after it.

:class:`MilestoneRules` says when motor threshold is re-determined, when the rating scale is
due and which CPT code each session bills; :func:`annotate` puts them on a schedule, and
:func:`follow_ups` dates the ratings due after the last session.

Ratings are due by the calendar as well as by the session count. PHQ-9 asks about the last
two weeks, so rating it again within days measures the same days twice: a rating falls due
at every ``rating_every``-th session only once ``rating_min_days`` (7) have passed since the
last one. A course of ten sessions a day (SNT) therefore has its baseline and its end of
course, not a rating every few hours. The last session of the course always has a rating
("end of taper", or "end of course" when its phase is not one named in
``rating_at_end_of``); it absorbs a regular rating due within ``rating_min_days`` before
it (the scale is not rated at session 35 and again four days later at session 36), and
follow-up ratings after the course are part of the plan: for
SNT one and four weeks after, as the SNT trial assessed (the protocol says; the rules may
override).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from tms_schedule._validate import check_text
from tms_schedule.course.authorization import Authorization
from tms_schedule.errors import CourseError
from tms_schedule.plan import Plan
from tms_schedule.schedule import Schedule, Session

__all__ = ["FollowUp", "MilestoneRules", "annotate", "follow_ups"]


def _weeks(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class MilestoneRules:
    """When motor threshold is re-determined and the rating scale is due; the billing codes.

    Args:
        scale: the rating scale's name (PHQ-9 by default; the same scale throughout).
        rating_every: ``"weekly"`` (the first session of each week) or every N-th session.
        rating_min_days: a rating is not due again within this many days of the last one.
        rating_at_end_of: phases whose last session has a rating due (end of acute, taper);
            the course's last session has one whatever its phase.
        follow_up_weeks: weeks after the last session at which a follow-up rating is due;
            ``None`` takes the protocol's (SNT: 1 and 4), ``()`` none.
        motor_threshold: ``"weekly"`` or every N-th session: re-determination (CPT 90869).
        initial_code / subsequent_code / redetermination_code: the CPT codes.
    """

    scale: str = "PHQ-9"
    rating_every: int | Literal["weekly"] = 5
    rating_min_days: int = 7
    rating_at_end_of: tuple[str, ...] = attrs.field(default=("acute", "taper"), converter=_weeks)
    follow_up_weeks: tuple[int, ...] | None = attrs.field(default=None, converter=_weeks)
    motor_threshold: int | Literal["weekly"] = "weekly"
    initial_code: str = "90867"
    subsequent_code: str = "90868"
    redetermination_code: str = "90869"

    def __attrs_post_init__(self) -> None:
        # Texts go onto every session (a code, "PHQ-9 due"): held to the one rule for text.
        check_text(self.scale, "scale", CourseError, limit=40)
        for name in ("initial_code", "subsequent_code", "redetermination_code"):
            check_text(getattr(self, name), name, CourseError, limit=20)
        if not isinstance(self.rating_at_end_of, tuple):
            raise CourseError(
                f"rating_at_end_of: must be phase names, got {self.rating_at_end_of!r}"
            )
        for phase in self.rating_at_end_of:
            check_text(phase, "rating_at_end_of", CourseError, limit=40)
        for name in ("rating_every", "motor_threshold"):
            value = getattr(self, name)
            if value != "weekly" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50
            ):
                raise CourseError(
                    f"{name}: must be 'weekly' or a whole number from 1 to 50, got {value!r}"
                )
        if (
            isinstance(self.rating_min_days, bool)
            or not isinstance(self.rating_min_days, int)
            or not 0 <= self.rating_min_days <= 60
        ):
            raise CourseError(
                f"rating_min_days: must be a whole number from 0 to 60, got {self.rating_min_days!r}"
            )
        if self.follow_up_weeks is not None and (
            not isinstance(self.follow_up_weeks, tuple)
            or not all(
                isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 104
                for w in self.follow_up_weeks
            )
        ):
            raise CourseError(
                "follow_up_weeks: must be whole numbers of weeks from 1 to 104,"
                f" got {self.follow_up_weeks!r}"
            )


@attrs.frozen
class FollowUp:
    """A rating due after the course: its date and what it is."""

    date: dt.date
    text: str

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.text}"


def annotate(
    plan: Plan,
    schedule: Schedule,
    rules: MilestoneRules,
    authorization: Authorization | None = None,
) -> Schedule:
    """The schedule with billing codes and milestones on its active sessions.

    A rating the course cannot do without (the end of the course, a staged authorization's
    decision) absorbs a regular one due within ``rating_min_days`` before it, so the scale
    is never rated twice within the spacing; the baseline is never absorbed. With a staged
    ``authorization`` whose decision is still to come, the decision session is marked, and
    ``warn_sessions`` before it the front desk is told that a rating and a renewal request
    are due.
    """
    active = schedule.active_sessions()
    if not active:
        return schedule
    notes: dict[int, list[str]] = {s.number: [] for s in active}
    codes: dict[int, str] = {}
    last_in_phase = {s.phase: s.number for s in active}
    seen_weeks = {active[0].date.isocalendar()[:2]}
    min_gap = dt.timedelta(days=rules.rating_min_days)
    staged = authorization.staged if authorization and authorization.decision_due else None
    decision_at = staged.sessions if staged else None
    warn_at = staged.sessions - staged.warn_sessions if staged and staged.warn_sessions else None
    # The latest rating placed: its day and (for one that may be absorbed) where its note is.
    last_rating = active[0].date
    absorbable: tuple[int, str] | None = None

    def rate(session: Session, text: str, *, anchored: bool) -> None:
        nonlocal last_rating, absorbable
        if anchored and absorbable is not None and session.date - last_rating < min_gap:
            number, note = absorbable
            notes[number].remove(note)  # the anchored rating takes its place
        notes[session.number].append(text)
        last_rating = session.date
        absorbable = (session.number, text)

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
        if k == warn_at:
            notes[s.number].append(
                f"Renewal request and {rules.scale} due before the authorization decision"
                f" at session {decision_at}"
            )
        due = new_week if rules.rating_every == "weekly" else k % rules.rating_every == 0
        rested = s.date - last_rating >= min_gap
        if k == decision_at:
            rate(s, f"{rules.scale} due (authorization decision)", anchored=True)
            notes[s.number].append("Authorization decision: apply it with this rating")
            continue
        if k == len(active):
            ending = s.phase if s.phase in rules.rating_at_end_of else "course"
            if s.date != last_rating:
                rate(s, f"{rules.scale} due (end of {ending})", anchored=True)
            continue
        end_of = [p for p in rules.rating_at_end_of if last_in_phase.get(p) == s.number]
        if end_of and rested:
            rate(s, f"{rules.scale} due (end of {end_of[0]})", anchored=False)
        elif due and rested:
            rate(s, f"{rules.scale} due", anchored=False)
    sessions = tuple(
        s.evolve(cpt=codes.get(s.number), milestones=tuple(notes.get(s.number, ())))
        if s.active
        else s
        for s in schedule.sessions
    )
    return attrs.evolve(schedule, sessions=sessions)


def follow_ups(plan: Plan, schedule: Schedule, rules: MilestoneRules) -> tuple[FollowUp, ...]:
    """The ratings due after the course's last session: the rules' weeks, or the protocol's."""
    active = schedule.active_sessions()
    if not active:
        return ()
    weeks = rules.follow_up_weeks
    if weeks is None:
        weeks = plan.protocol.follow_up_weeks
    last = active[-1].date
    return tuple(
        FollowUp(
            last + dt.timedelta(weeks=w),
            f"{rules.scale} follow-up, {w} week{'s' if w != 1 else ''} after the course",
        )
        for w in sorted(set(weeks))
    )
