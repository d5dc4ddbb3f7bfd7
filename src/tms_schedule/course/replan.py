"""Re-planning: the remaining sessions planned again under a catch-up policy.

``extend`` puts missed sessions at the end of their phase, ``double`` books a second session
on a later day, ``extra-day`` uses the clinic's catch-up days. Each phase gets its full count
back; sessions keep their numbers (and so their calendar UIDs) when they move.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from tms_schedule.clinic import Closure
from tms_schedule.errors import BlockSplitError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import Plan
from tms_schedule.schedule import Schedule, Session

if TYPE_CHECKING:
    from tms_schedule.course.lifecycle import Course

__all__ = ["POLICIES", "gap_warnings", "replan_schedule", "stretch_warning"]

#: Catch-up policies for re-planning: ``extend`` (missed sessions go to the end of their
#: phase and the course gets longer), ``double`` (a second session on a later day),
#: ``extra-day`` (the clinic's catch-up days first).
POLICIES = ("extend", "double", "extra-day")

_DAY = dt.timedelta(days=1)


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


def replan_schedule(
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
                placed.append(old.evolve(start=start, end=end, sequence=old.sequence + changed))
            else:
                placed.append(Session(next_number, phase, 0, start, end))
                next_number += 1
        leftovers += sessions[len(slots) :]
    placed += [s.evolve(status="cancelled", sequence=s.sequence + 1) for s in leftovers]
    placed.sort(key=lambda s: (s.start.astimezone(dt.UTC), s.number))
    counters = dict(done)
    numbered = []
    for s in placed:
        if s.status == "scheduled" and s not in fixed:
            counters[s.phase] = counters.get(s.phase, 0) + 1
            s = s.evolve(phase_number=counters[s.phase])
        numbered.append(_plain(s))
    return attrs.evolve(current, sessions=tuple(numbered))


def _plain(session: Session) -> Session:
    """Milestones are recomputed from the course; revisions keep sessions without them."""
    if session.cpt is None and not session.milestones:
        return session
    return session.evolve(cpt=None, milestones=())


def gap_warnings(schedule: Schedule, limit: dt.timedelta) -> list[str]:
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


def stretch_warning(course: Course, schedule: Schedule) -> list[str]:
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
