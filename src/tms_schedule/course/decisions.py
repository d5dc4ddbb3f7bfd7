"""Clinical decisions on a course: a staged authorization's decision, and an early end.

:class:`Ending` is why and from when a course stopped before its last session (a patient
drops out, a payer's decision says stop, a rescue course supersedes the maintenance it
interrupts). :func:`judge` takes a staged authorization's decision from the ratings, and
:func:`retuned` gives the protocol the decision leaves the course with: the daily phase
made longer by ``more`` sessions and the taper the decision gives.
:meth:`Course.end() <tms_schedule.course.lifecycle.Course.end>` and
:meth:`Course.decide() <tms_schedule.course.lifecycle.Course.decide>` use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from tms_schedule.course.authorization import (
    Continuation,
    Decision,
    StagedAuthorization,
    outcome_name,
)
from tms_schedule.course.ratings import Rating, RatingOutcome, counting
from tms_schedule.errors import CourseError
from tms_schedule.phase import Daily, Taper
from tms_schedule.protocol import Protocol

__all__ = ["Ending", "check_staged", "judge", "retuned"]


@attrs.frozen
class Ending:
    """A course stopped before its last session.

    Attributes:
        at: the moment it ended from: no session from then on takes place.
        reason: why, in the clinic's words (kept in the history).
        superseded_by: the course that took its place (a rescue course), if any.
    """

    at: dt.datetime
    reason: str
    superseded_by: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.at, dt.datetime) or self.at.utcoffset() is None:
            raise CourseError(f"at: must be a date and time with its time zone, got {self.at!r}")
        if not isinstance(self.reason, str) or not self.reason.strip() or len(self.reason) > 1000:
            raise CourseError(
                "reason: say why the course ends (a patient moved away, a payer's decision),"
                " at most 1000 characters"
            )


def check_staged(protocol: Protocol, staged: StagedAuthorization) -> None:
    """Refuse a staged authorization the protocol cannot follow: it needs a daily phase of
    exactly the staged sessions, optionally followed by a taper, and nothing else."""
    phases = protocol.phases
    shape_ok = (
        isinstance(phases[0], Daily)
        and len(phases) <= 2
        and all(isinstance(p, Taper) for p in phases[1:])
    )
    if not shape_ok or phases[0].total != staged.sessions:
        raise CourseError(
            f"authorization: {staged.name} decides after {staged.sessions} sessions; the"
            f" course's protocol must be {staged.sessions} daily sessions, optionally then a"
            f" taper (such as medicare-20-5, or acute_sessions={staged.sessions}), got"
            f" {protocol.describe()!r}"
        )


def judge(
    staged: StagedAuthorization,
    ratings: Iterable[Rating],
    scale: str,
    *,
    now: dt.datetime,
    rating: int | None = None,
) -> tuple[Decision, RatingOutcome]:
    """The decision the ratings of ``scale`` give: the latest one (or rating number
    ``rating``, from 1 in the order entered) against the baseline."""
    entered = list(ratings)
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise CourseError(f"rating: must be a rating number, got {rating!r}")
        if not 1 <= rating <= len(entered):
            raise CourseError(
                f"rating: must be from 1 to {len(entered)} (the course's ratings), got {rating}"
                if entered
                else "rating: the course has no ratings yet; rate it first"
            )
        chosen = entered[rating - 1]
        if chosen.voided is not None:
            raise CourseError(f"rating: rating {rating} is voided ({chosen.voided})")
        scale = chosen.scale.name
    rated = counting(entered, scale)
    if len(rated) < 2:
        raise CourseError(
            f"rating: a decision needs a {scale} baseline and a later {scale} rating; the"
            f" course has {len(rated)}"
        )
    latest = chosen if rating is not None else rated[-1]
    if latest is rated[0]:
        raise CourseError(f"rating: rating {rating} is the baseline; give a later one")
    result = RatingOutcome(rated[0], latest)
    name = outcome_name(staged, result.remission, result.reduction)
    decision = Decision(name, str(latest), str(result), now)
    return decision, result


def retuned(protocol: Protocol, staged: StagedAuthorization, going_on: Continuation) -> Protocol:
    """The protocol after the decision: ``more`` daily sessions, then its taper."""
    check_staged(protocol, staged)
    acute = protocol.phases[0]
    assert isinstance(acute, Daily)
    name = protocol.phases[1].name if len(protocol.phases) > 1 else "taper"
    phases = (
        Daily(acute.sessions + going_on.more, name=acute.name),
        Taper(going_on.taper, name=name),
    )
    low, high = protocol.acute_range or (1, 200)
    acute_range = (min(low, phases[0].total), max(high, phases[0].total))
    return attrs.evolve(
        protocol,
        phases=phases,
        acute_range=acute_range if protocol.acute_range else None,
        optional_phases=protocol.optional_phases & {name},
    )
