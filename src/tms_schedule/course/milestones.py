"""Milestones and billing codes: what is due at each session of a course.

:class:`MilestoneRules` says when motor threshold is re-determined, when the rating scale is
due and which CPT code each session bills; :func:`annotate` puts them on a schedule.
"""

from __future__ import annotations

from typing import Literal

import attrs

from tms_schedule.errors import CourseError
from tms_schedule.plan import Plan
from tms_schedule.schedule import Schedule

__all__ = ["MilestoneRules", "annotate"]


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


def annotate(plan: Plan, schedule: Schedule, rules: MilestoneRules) -> Schedule:
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
        s.evolve(cpt=codes.get(s.number), milestones=tuple(notes.get(s.number, ())))
        if s.active
        else s
        for s in schedule.sessions
    )
    return attrs.evolve(schedule, sessions=sessions)
