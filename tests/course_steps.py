"""A random day at the front desk for a course: the steps the property tests of recording
and re-planning take (``test_replan.py``, ``test_course.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import attrs
import pytest
from hypothesis import assume
from hypothesis import strategies as st

from tms_schedule import Closure, Course, CourseError, Plan, TmsScheduleError
from tms_schedule.course import POLICIES

# A step: (kind, which session, a policy, how many days the clock moves on first).
steps = st.lists(
    st.tuples(
        st.sampled_from(
            ["attended", "missed", "cancelled", "moved", "replan", "void", "close", "bad"]
        ),
        st.integers(0, 60),
        st.sampled_from(POLICIES),
        st.integers(0, 6),
    ),
    min_size=1,
    max_size=10,
)


def run_steps(
    plan: Plan,
    chosen: list[tuple[str, int, str, int]],
    on_replan: Callable[[Course, Course, dt.datetime, str], None] | None = None,
) -> list[Course]:
    """The course after each step the front desk takes (a refused one changes nothing);
    ``on_replan`` checks each re-plan against the course before it. A plan that cannot
    start is passed over (Hypothesis draws another)."""
    try:
        course = Course.start(plan)
    except TmsScheduleError:
        assume(False)  # a plan that cannot start (its documented refusals): another one
        raise
    now = dt.datetime.combine(plan.start, dt.time(0), tzinfo=plan.clinic.zone)
    history = [course]
    for kind, pick, policy, days in chosen:
        now += dt.timedelta(days=days)
        past = [s for s in course.remaining() if s.start <= now]
        future = [s for s in course.remaining() if s.start > now]
        before = course
        try:
            match kind:
                case "attended" | "missed" if past:
                    session = past[pick % len(past)]
                    if kind == "attended":
                        course = course.attended(session.number, now=now)
                    else:
                        course = course.missed(session.number, "clinic", now=now)
                case "cancelled" if future:
                    course = course.cancelled(future[pick % len(future)].number, now=now)
                case "moved" if future:
                    session = future[pick % len(future)]
                    course = course.moved(session.number, session.start + dt.timedelta(hours=1))
                case "replan":
                    course = course.replan(now, policy)
                    if on_replan is not None:
                        on_replan(before, course, now, policy)
                case "void" if course.records:
                    live = [
                        i + 1
                        for i, r in enumerate(course.records)
                        if r.kind != "void"
                        and not any(v.voids == i for v in course.records)
                        and not (r.kind == "moved" and i < course.revision.records)
                    ]
                    if live:
                        course = course.void(live[pick % len(live)], "entered by mistake")
                case "close" if future:
                    day = future[pick % len(future)].date
                    clinic = course.plan.clinic
                    closure = Closure(day, day, "Snow day")
                    course = course.with_clinic(
                        attrs.evolve(clinic, closures=(*clinic.closures, closure))
                    )
                case "bad":
                    with pytest.raises(TmsScheduleError):
                        course.attended(99_999, now=now)
                    assert course == before
        except CourseError:
            assert course == before  # refused, and nothing changed
            continue
        except TmsScheduleError:
            continue  # e.g. no open day left within the horizon for a re-plan
        history.append(course)
    return history
