"""One patient's courses: linked by ``follows``, they never run at the same time.

A course runs from its first session that takes place (attended or to come) to its last.
Two courses of one patient overlap when those spans meet; :func:`clash` says on which days,
and :func:`check_apart` refuses a set of courses where any two overlap, naming the dates.
A rescue course started during maintenance supersedes it: the maintenance ends (its
boosters from the rescue's first day cancelled, with the reason), and a new maintenance
course may resume the boosters it did not give after the rescue
(:meth:`Course.supersede() <tms_schedule.course.lifecycle.Course.supersede>`,
:meth:`Course.resume() <tms_schedule.course.lifecycle.Course.resume>`).

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Plan
>>> from tms_schedule.schedule import Schedule
>>> clinic = ClinicCalendar("UTC")
>>> first = Plan("1hz-right", clinic, "2026-03-02", "09:00", "a").expand()
>>> second = Plan("1hz-right", clinic, "2026-03-12", "09:00", "b").expand()
>>> [d.isoformat() for d in clash(first, second)]
['2026-03-12', '2026-03-13']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from tms_schedule.errors import CourseError
from tms_schedule.schedule import Schedule

__all__ = ["check_apart", "clash", "span"]


def span(schedule: Schedule) -> tuple[dt.datetime, dt.datetime] | None:
    """From the start of the first session that takes place to the end of the last."""
    active = schedule.active_sessions()
    if not active:
        return None
    return active[0].start, max(s.end for s in active)


def clash(one: Schedule, other: Schedule) -> list[dt.date]:
    """The days on which either course has a session inside the time both run (empty:
    they do not overlap)."""
    a, b = span(one), span(other)
    if a is None or b is None:
        return []
    start, end = max(a[0], b[0]), min(a[1], b[1])
    if start >= end:
        return []
    return sorted(
        {
            s.date
            for schedule in (one, other)
            for s in schedule.active_sessions()
            if s.end > start and s.start < end
        }
    )


def dates_text(days: Sequence[dt.date], limit: int = 6) -> str:
    """``2026-12-01, 2026-12-02 and 3 more``."""
    shown = ", ".join(d.isoformat() for d in days[:limit])
    return shown + (f" and {len(days) - limit} more" if len(days) > limit else "")


def check_apart(schedules: Iterable[Schedule]) -> None:
    """Refuse (:class:`CourseError`) courses of one patient of which two overlap, naming
    both and the dates that clash."""
    listed = list(schedules)
    for i, one in enumerate(listed):
        for other in listed[i + 1 :]:
            days = clash(one, other)
            if days:
                raise CourseError(
                    f"courses: {one.course_id} and {other.course_id} overlap; one patient's"
                    f" courses never run at the same time (sessions on {dates_text(days)})"
                )


__all__ += ["dates_text"]
