"""Re-planning: the course repaired after misses, cancellations and closures, changing as
little as the event requires.

The rules (the design page states them too):

1. Sessions that were recorded (attended, missed, cancelled) never change.
2. A planned session keeps its time unless it can no longer happen then: its day is closed
   now (a closure, a holiday), its time is outside the day's hours, another session of the
   course is booked then (a voided record put it back), or the clinic's book has no chair
   for it. Such a session moves, keeping its number and calendar UID. A session planned
   before the re-plan's moment that can still have happened stays as it is, waiting to be
   recorded.
3. Each phase gets its full count back. What it owes (misses, cancellations, sessions that
   had to move) is placed by the catch-up policy, never before the re-plan's moment and
   never on a day that holds a recorded session (attended, missed or cancelled) or another
   session of the course:

   * ``extend``: at the end of the phase, where its cadence goes on: the next days after
     its last session (one a day, or the day's count for accelerated days), the weeks after
     its last week (a taper or continuation, at the last week's count a week), or further
     occurrences (maintenance);
   * ``double``: a second session on a later day of a daily phase, at least ``min_gap``
     after that day's session, one extra a day and at most ``extra_per_week`` a week, never
     on the first visit's day; the rest as ``extend``;
   * ``extra-day``: the clinic's catch-up days inside the daily phase; the rest as
     ``extend``.

4. Phases stay in order. Where a phase now ends later than the next one began, only the
   next phase's sessions before its new end move: in a taper or continuation to a free day
   later in the same week when the week has one (nothing else moves); when it has none, the
   taper or continuation is laid out again by its cadence from the day after, keeping its
   weekly counts. Sessions of other phases in the way go to the end of their phase.
5. A phase that now has more sessions than it delivers (a voided miss) gives up its last
   planned ones that are not recorded, even past ones.

So the same re-plan run twice changes nothing, and a clinic closure gives the same times as
recording the same day missed with cause ``clinic``, whatever day the re-plan starts from.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Sequence

import attrs

from tms_schedule.clinic import ClinicCalendar
from tms_schedule.course.record import bump_positions
from tms_schedule.errors import CourseError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session, SkippedDay

__all__ = ["POLICIES", "Bookable", "Replanned", "gap_warnings", "replan_schedule", "skipped_days"]

#: Catch-up policies for re-planning: ``extend`` (missed sessions go to the end of their
#: phase and the course gets longer), ``double`` (a second session on a later day),
#: ``extra-day`` (the clinic's catch-up days first).
POLICIES = ("extend", "double", "extra-day")

_DAY = dt.timedelta(days=1)
_UTC = dt.UTC
_Slot = tuple[dt.datetime, dt.datetime]
#: Why a time cannot be booked (every chair that could run it is taken or out), or
#: ``None``: the check the clinic's book gives a re-plan.
Bookable = Callable[[dt.datetime, dt.datetime], str | None]
#: How many times a placement is tried again around days the book cannot hold.
_BOOK_TRIES = 200


@attrs.frozen
class Replanned:
    """What a re-plan gives: the new sessions and what the revision keeps about them.

    Attributes:
        schedule: the sessions after the re-plan.
        removed: the sessions the plan took out (cancelled by the re-plan, not by a record).
        reasons: why each session that moved had to move, by session number.
        warnings: what the front desk should look at.
    """

    schedule: Schedule
    removed: tuple[int, ...] = ()
    reasons: tuple[tuple[int, str], ...] = ()
    warnings: tuple[str, ...] = ()


def replan_schedule(
    plan: Plan,
    current: Schedule,
    moment: dt.datetime,
    policy: str,
    *,
    min_gap: dt.timedelta = dt.timedelta(hours=6),
    extra_per_week: int = 2,
    bookable: Bookable | None = None,
) -> Replanned:
    """The course's sessions repaired under ``policy`` from ``moment`` on (see the module).

    ``bookable`` is the clinic book's check of a time (see :data:`Bookable`): a session the
    book can no longer hold moves like one on a closed day, and what is placed goes only
    where the book has room.
    """
    return _Repair(plan, current, moment, policy, min_gap, extra_per_week, bookable).run()


class _Repair:
    """One re-plan: which sessions keep their time, what each phase owes, where it goes."""

    def __init__(
        self,
        plan: Plan,
        current: Schedule,
        moment: dt.datetime,
        policy: str,
        min_gap: dt.timedelta,
        extra_per_week: int,
        bookable: Bookable | None = None,
    ) -> None:
        self.plan = plan
        self.bookable = bookable
        self.clinic: ClinicCalendar = plan.clinic
        self.protocol: Protocol = plan.protocol
        self.current = current
        self.moment = moment
        self.policy = policy
        self.min_gap = min_gap
        self.extra_per_week = extra_per_week
        self.kept: dict[int, Session] = {}  # planned sessions that keep their time
        self.moving: dict[str, list[Session]] = {p.name: [] for p in self.protocol.phases}
        self.reasons: dict[int, str] = {}
        self.removed: list[int] = []
        self.placed: dict[int, _Slot] = {}  # moved sessions' new times
        self.added: list[tuple[str, _Slot]] = []
        self.warnings: list[str] = []
        self.phase_of = {s.number: s.phase for s in current.sessions}
        self.current_numbers = {s.number for s in current.sessions}
        self.sequences = {s.number: s.sequence for s in current.sessions}
        self.order = {phase.name: i for i, phase in enumerate(self.protocol.phases)}

    # -- the steps ---------------------------------------------------------------------------------

    def run(self) -> Replanned:
        held = _Held(s for s in self.current.sessions if s.status == "attended")
        for session in sorted(self.current.sessions, key=lambda s: (s.sequence > 0, s.number)):
            if session.status != "scheduled":
                continue
            why = self._cannot_stay(session) or held.clash(session)
            if why is None:
                self.kept[session.number] = session
                held.add(session)
            else:
                self.moving[session.phase].append(session)
                self.reasons[session.number] = why
        owed = self._owed()
        self._give_up_surplus(owed)
        boundary: tuple[dt.datetime, str] | None = None  # where the phases so far end
        for phase in self.protocol.phases:
            if boundary is not None:
                owed[phase.name] = self._make_way(phase, *boundary, owed[phase.name])
            self._place(phase, owed[phase.name])
            end = self._phase_end(phase.name)
            if end is not None and (boundary is None or end > boundary[0]):
                boundary = (end, phase.name)
        return self._result()

    def _cannot_stay(self, session: Session) -> str | None:
        """Why a planned session cannot keep its time, or ``None`` when it can."""
        day = self.clinic.day(session.date)
        if day.hours is None:
            return self.clinic.closure_reason(session.date) or "the clinic is closed"
        if (
            session.end.date() != session.date
            or session.start.time() < day.hours.opens
            or session.end.time() > day.hours.closes
        ):
            return f"outside the opening hours ({day.hours})"
        if self.bookable is not None:
            return self.bookable(session.start, session.end)
        return None

    def _owed(self) -> dict[str, int]:
        """Sessions each phase still needs planned: its count less those attended or kept."""
        active = {phase.name: 0 for phase in self.protocol.phases}
        for session in self.current.sessions:
            if session.status == "attended" or session.number in self.kept:
                active[session.phase] = active.get(session.phase, 0) + 1
        return {phase.name: phase.total - active[phase.name] for phase in self.protocol.phases}

    def _give_up_surplus(self, owed: dict[str, int]) -> None:
        """A phase with more sessions than it delivers gives up its last planned ones."""
        for name, count in owed.items():
            if count >= 0:
                continue
            # The last planned ones go, to come or not yet recorded (a voided miss's make-up
            # that is past by now did not happen: the session it made up did).
            later = sorted(
                (s for s in self.kept.values() if s.phase == name),
                key=lambda s: s.start,
                reverse=True,
            )
            for session in later[:-count]:
                del self.kept[session.number]
                self.removed.append(session.number)
                self.reasons[session.number] = f"the {name} phase has all its sessions"
            owed[name] = 0

    def _place(self, phase: Phase, owed: int) -> None:
        """Place what ``phase`` owes, by the policy; its moving sessions take slots first."""
        if owed <= 0 and not self.moving[phase.name]:
            return
        slots: list[_Slot] = []
        left = owed
        if isinstance(phase, Daily) and self.policy == "double":
            slots += self._doubles(phase, left)
        elif isinstance(phase, Daily) and self.policy == "extra-day":
            slots += self._catch_up_days(phase, left)
        if self.policy != "extend" and isinstance(phase, Daily) and len(slots) < left:
            self.warnings.append(
                f"{left - len(slots)} session(s) of the {phase.name} phase could not be caught"
                f" up by the {self.policy} policy and go to the end of the phase"
            )
        left -= len(slots)
        if left > 0:
            slots += self._extend(phase, left, slots)
        moving = sorted(self.moving[phase.name], key=lambda s: s.start.astimezone(_UTC))
        slots.sort(key=lambda slot: slot[0].astimezone(_UTC))
        for session, slot in itertools.zip_longest(moving, slots):
            if slot is None:
                self.removed.append(session.number)
            elif session is None:
                self.added.append((phase.name, slot))
            else:
                self.placed[session.number] = slot
        self.moving[phase.name] = []

    def _make_way(self, later: Phase, end: dt.datetime, before: str, owed: int) -> int:
        """Move the sessions of a phase that now fall on or before the day ``end`` the
        phases before it end (the last of them ``before``); returns what the phase owes
        then (it owed ``owed``).

        A taper or continuation moves a session in the way to a free day later in its own
        week, so the week keeps its count and nothing else moves. When its week has no such
        day, the phase keeps its weekly counts: it is laid out again by its cadence from the
        day after ``end`` (its sessions that come out at the same times do not move). Any
        other phase moves only the sessions in the way, to its end.
        """
        last_day = end.astimezone(self.clinic.zone).date()
        future = sorted(
            (s for s in self.kept.values() if s.phase == later.name and s.start >= self.moment),
            key=lambda s: s.start,
        )
        in_the_way = [s for s in future if s.date <= last_day]
        if not in_the_way:
            return owed
        why = f"the {before} phase now ends on {last_day}"
        if not _per_week(later):
            for session in in_the_way:
                del self.kept[session.number]
                self.moving[later.name].append(session)
                self.reasons[session.number] = why
            return owed + len(in_the_way)
        # Each to a free day later in its week, if every one of them finds one.
        for session in in_the_way:
            del self.kept[session.number]
        slots: dict[int, _Slot] = {}
        for session in in_the_way:
            slot = self._later_in_week(session, last_day, {s[0].date() for s in slots.values()})
            if slot is None:
                break
            slots[session.number] = slot
        if len(slots) == len(in_the_way):
            for number, slot in slots.items():
                self.placed[number] = slot
                self.reasons[number] = why
            return owed
        # Otherwise the phase again, by its cadence, from the day after.
        done = sum(
            1
            for s in self.current.sessions
            if s.phase == later.name
            and (s.status == "attended" or (s.number in self.kept and s.start < self.moment))
        )
        for session in future:
            self.kept.pop(session.number, None)
        relaid = self._relay(later, done, last_day + _DAY)
        for session, slot in itertools.zip_longest(future, relaid):
            if slot is None:
                self.moving[later.name].append(session)
                self.reasons[session.number] = why
            elif session is None:
                self.added.append((later.name, slot))
            elif slot == (session.start, session.end):
                self.kept[session.number] = session
                self.reasons.pop(session.number, None)
            else:
                self.placed[session.number] = slot
                self.reasons[session.number] = why
        # The cadence laid out all the phase still delivers, what it owed included.
        return max(later.total - done - len(relaid), 0)

    def _relay(self, phase: Phase, done: int, start: dt.date) -> list[_Slot]:
        """A weekly phase's remaining sessions laid out again by its cadence from ``start``."""
        assert isinstance(phase, Taper | Weekly)
        counts = list(phase.per_week if isinstance(phase, Taper) else phase.counts)
        while done and counts:
            used = min(done, counts[0])
            counts[0] -= used
            done -= used
            if counts[0] == 0:
                counts.pop(0)
        if not counts:
            return []
        return self._expand(Taper(tuple(counts), name=phase.name), start, phase)

    def _later_in_week(self, session: Session, after: dt.date, also: set[dt.date]) -> _Slot | None:
        """A free day after ``after`` in ``session``'s own week, at its time of day."""
        taken = self._taken() | also
        zone = self.clinic.zone
        day = after + _DAY
        sunday = session.date + dt.timedelta(days=6 - session.date.weekday())
        while day <= sunday:
            calendar_day = self.clinic.day(day)
            if (
                day not in taken
                and calendar_day.hours is not None
                and not calendar_day.catch_up_only
            ):
                wall = session.start.astimezone(zone).time()
                start = (
                    dt.datetime.combine(day, wall, tzinfo=zone).astimezone(_UTC).astimezone(zone)
                )
                end = (start.astimezone(_UTC) + session.duration).astimezone(zone)
                hours = calendar_day.hours
                if (
                    start >= self.moment
                    and start.date() == day == end.date()
                    and start.time() >= hours.opens
                    and end.time() <= hours.closes
                    and self._has_room(start, end)
                ):
                    return (start, end)
            day += _DAY
        return None

    # -- where sessions go --------------------------------------------------------------------------

    def _taken(self, phase: Phase | None = None) -> set[dt.date]:
        """Days that hold a recorded session or a session that keeps or got its time. For
        a ``phase`` being extended, the sessions of later phases do not count: they make
        way for it (the phases stay in order)."""
        last = self.order[phase.name] if phase is not None else len(self.order)
        # A recorded session's day, cancelled ones included: the patient said no to it.
        days = {s.date for s in self.current.sessions if s.status != "scheduled"}
        days |= {s.date for s in self.kept.values() if self.order[s.phase] <= last}
        days |= {slot[0].date() for slot in self.placed.values()}
        days |= {slot[0].date() for _, slot in self.added}
        return days

    def _phase_sessions(self, name: str) -> list[_Slot]:
        """The times of a phase's sessions that count now: attended, kept, placed, added."""
        times = [
            (s.start, s.end)
            for s in self.current.sessions
            if s.phase == name and (s.status == "attended" or s.number in self.kept)
        ]
        times += [slot for number, slot in self.placed.items() if self.phase_of[number] == name]
        times += [slot for phase, slot in self.added if phase == name]
        return sorted(times, key=lambda slot: slot[0].astimezone(_UTC))

    def _phase_end(self, name: str) -> dt.datetime | None:
        times = self._phase_sessions(name)
        return max((end for _, end in times), key=lambda t: t.astimezone(_UTC), default=None)

    def _extend(self, phase: Phase, count: int, chosen: Sequence[_Slot]) -> list[_Slot]:
        """``count`` sessions where the phase's cadence goes on after its last session."""
        times = [*self._phase_sessions(phase.name), *chosen]
        last = max((start for start, _ in times), default=None)
        remainder, start = _going_on(phase, count, last.date() if last else None)
        after = self._previous_end(phase)  # the phases before it end first
        if start is None:
            start = after or self.plan.start
        elif after is not None and start < after:
            start = after
        return self._expand(remainder, start, phase, {slot[0].date() for slot in chosen})[:count]

    def _expand(
        self, cadence: Phase, start: dt.date, phase: Phase, also: set[dt.date] | None = None
    ) -> list[_Slot]:
        """The sessions ``cadence`` books from ``start`` on, around the course's other
        sessions (those of ``phase`` and before it, and ``also``), never before the moment."""
        start = max(start, self.moment.astimezone(self.clinic.zone).date())
        first = not any(
            s.status == "attended" or s.number in self.kept for s in self.current.sessions
        )
        protocol = attrs.evolve(
            self.protocol,
            phases=(cadence,),
            first_session=self.protocol.first_session if first else self.protocol.session,
            optional_phases=frozenset(),
            acute_range=None,
        )
        sub = attrs.evolve(self.plan, protocol=protocol, start=start, blocks="split")
        taken = self._taken(phase) | (also or set())
        for _ in range(_BOOK_TRIES):
            sessions = sub.expand(avoid=taken, not_before=self.moment).sessions
            full = {s.date for s in sessions if not self._has_room(s.start, s.end)}
            if not full:
                break
            taken |= full  # the book has no room then: around those days
        else:
            raise CourseError(
                f"the clinic's book has no room for the {phase.name} phase's sessions within"
                f" {_BOOK_TRIES} open days after {start}"
            )
        return [(s.start, s.end) for s in sessions]

    def _has_room(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.bookable is None or self.bookable(start, end) is None

    def _previous_end(self, phase: Phase) -> dt.date | None:
        """The day after the phases before this one end (the latest of them), if any has a
        session."""
        phases = self.protocol.phases
        index = next(i for i, p in enumerate(phases) if p.name == phase.name)
        ends = [self._phase_end(earlier.name) for earlier in phases[:index]]
        latest = max(
            (e for e in ends if e is not None), key=lambda t: t.astimezone(_UTC), default=None
        )
        return latest.astimezone(self.clinic.zone).date() + _DAY if latest else None

    def _doubles(self, phase: Daily, count: int) -> list[_Slot]:
        """Second sessions on later days of the phase, ``min_gap`` after the day's session."""
        days: dict[dt.date, list[_Slot]] = {}
        for start, end in self._phase_sessions(phase.name):
            days.setdefault(start.date(), []).append((start, end))
        per_week: dict[tuple[int, int], int] = {}
        for day, times in days.items():
            if len(times) > 1:
                week = day.isocalendar()[:2]
                per_week[week] = per_week.get(week, 0) + 1
        length = self.protocol.session
        zone = self.clinic.zone
        slots: list[_Slot] = []
        # Never on the first visit's day: mapping and motor threshold take that visit.
        first_visit = min(
            (s.date for s in self.current.sessions if s.status == "attended"),
            default=min((s.date for s in self.kept.values()), default=None),
        )
        for day, times in sorted(days.items()):
            if len(slots) == count:
                break
            week = day.isocalendar()[:2]
            if (
                len(times) != 1
                or per_week.get(week, 0) >= self.extra_per_week
                or day == first_visit
            ):
                continue
            start = (times[0][1].astimezone(_UTC) + self.min_gap).astimezone(zone)
            end = (start.astimezone(_UTC) + length).astimezone(zone)
            hours = self.clinic.hours_on(day)
            if (
                start < self.moment
                or hours is None
                or end.date() != day
                or start.time() < hours.opens
                or end.time() > hours.closes
                or not self._has_room(start, end)
            ):
                continue
            slots.append((start, end))
            per_week[week] = per_week.get(week, 0) + 1
        return slots

    def _catch_up_days(self, phase: Daily, count: int) -> list[_Slot]:
        """The clinic's catch-up days inside the phase, from the moment on."""
        times = self._phase_sessions(phase.name)
        if not times:
            return []
        last = times[-1][0].date()
        taken = self._taken()
        slots: list[_Slot] = []
        for day in sorted(self.clinic.catch_up_days):
            if len(slots) == count:
                break
            if day in taken or not self.moment.astimezone(self.clinic.zone).date() <= day <= last:
                continue
            slot = self._one_session_on(day)
            if slot is not None:
                slots.append(slot)
        return slots

    def _one_session_on(self, day: dt.date) -> _Slot | None:
        """One regular session on ``day`` at the plan's time, if the day's hours hold it
        (a catch-up day included) and it starts no earlier than the moment."""
        hours = self.clinic.hours_on(day)
        if hours is None:
            return None
        zone = self.clinic.zone
        # The plan's DST rule: a wall time that does not exist moves forward by the gap.
        start = dt.datetime.combine(day, self.plan.at, tzinfo=zone).astimezone(_UTC)
        end = (start + self.protocol.session).astimezone(zone)
        start = start.astimezone(zone)
        if (
            start < self.moment
            or start.date() != day
            or end.date() != day
            or start.time() < hours.opens
            or end.time() > hours.closes
            or not self._has_room(start, end)
        ):
            return None
        return (start, end)

    # -- the result ----------------------------------------------------------------------------------

    def _first_visit(self, sessions: list[Session]) -> list[Session]:
        """Until a session is attended, the first one to come is the long first visit
        (mapping and motor threshold) and the others are regular: a missed or moved first
        session hands that visit on to the next."""
        first_length, length = self.protocol.first_session, self.protocol.session
        if first_length == length or any(s.status == "attended" for s in sessions):
            return sessions
        active = [s for s in sessions if s.status == "scheduled"]
        if not active:
            return sessions
        first = active[0]
        if first.start < self.moment:
            return sessions  # the first visit is past, waiting to be recorded: as it was
        out = []
        for session in sessions:
            want = first_length if session is first else length
            if (
                session.status == "scheduled"
                and session.duration != want
                and session.start >= self.moment
            ):
                end = (session.start.astimezone(_UTC) + want).astimezone(self.clinic.zone)
                if want == length or _first_visit_fits(self, session, end, sessions):
                    was = self.sequences.get(session.number, -1)
                    session = session.evolve(end=end, sequence=max(session.sequence, was + 1))
                    if session.number in self.current_numbers:
                        self.reasons.setdefault(
                            session.number,
                            "the first visit (mapping and motor threshold)"
                            if want == first_length
                            else "no longer the first visit",
                        )
                        self.placed.setdefault(session.number, (session.start, session.end))
                else:
                    self.warnings.append(
                        f"session {session.number} on {session.date} is now the first visit,"
                        f" which the protocol gives {int(first_length.total_seconds() // 60)}"
                        " minutes (mapping and motor threshold), but its day cannot hold"
                        " that; book the mapping visit separately"
                    )
            out.append(session)
        return out

    def _result(self) -> Replanned:
        sessions: list[Session] = []
        for session in self.current.sessions:
            if session.number in self.placed:
                start, end = self.placed[session.number]
                changed = (start, end) != (session.start, session.end)
                session = session.evolve(start=start, end=end, sequence=session.sequence + changed)
                if not changed:
                    self.reasons.pop(session.number, None)
            elif session.number in self.removed:
                session = session.evolve(status="cancelled", sequence=session.sequence + 1)
            sessions.append(session)
        number = max((s.number for s in self.current.sessions), default=0)
        for phase, (start, end) in sorted(self.added, key=lambda a: a[1][0].astimezone(_UTC)):
            number += 1
            sessions.append(Session(number, phase, 0, start, end))
        sessions.sort(key=lambda s: (s.start.astimezone(_UTC), s.number))
        sessions = self._first_visit(sessions)
        sessions = _numbered_in_phase(sessions)
        after = bump_positions(self.current, attrs.evolve(self.current, sessions=tuple(sessions)))
        after = attrs.evolve(after, skipped=skipped_days(self.plan, after, self.current.skipped))
        reasons = tuple(
            sorted(
                (n, why) for n, why in self.reasons.items() if n in self.placed or n in self.removed
            )
        )
        return Replanned(after, tuple(sorted(self.removed)), reasons, tuple(self.warnings))


def _first_visit_fits(
    repair: _Repair, session: Session, end: dt.datetime, others: list[Session]
) -> bool:
    """Whether ``session`` can run until ``end`` (its day's hours, the course's next
    session that day, the clinic's book)."""
    hours = repair.clinic.hours_on(session.date)
    if hours is None or end.date() != session.date or end.time() > hours.closes:
        return False
    later = [
        o.start
        for o in others
        if o.number != session.number
        and o.active
        and o.date == session.date
        and o.start > session.start
    ]
    if later and min(later, key=lambda t: t.astimezone(_UTC)).astimezone(_UTC) < end.astimezone(
        _UTC
    ):
        return False
    return repair._has_room(session.start, end)


class _Held:
    """The sessions that keep their times, by start, to find one a session would overlap
    (a voided record can put a session back where another one is now)."""

    def __init__(self, sessions: Iterable[Session]) -> None:
        self.spans: list[tuple[dt.datetime, dt.datetime, int]] = []
        for session in sessions:
            self.add(session)

    def add(self, session: Session) -> None:
        span = (session.start.astimezone(_UTC), session.end.astimezone(_UTC), session.number)
        bisect.insort(self.spans, span)

    def clash(self, session: Session) -> str | None:
        start, end = session.start.astimezone(_UTC), session.end.astimezone(_UTC)
        at = bisect.bisect_left(self.spans, (start,))
        for other_start, other_end, number in self.spans[max(at - 1, 0) : at + 1]:
            if other_start < end and start < other_end:
                return f"session {number} is booked then"
        return None


def _numbered_in_phase(sessions: list[Session]) -> list[Session]:
    """Each session that counts gets its position within its phase, in order of time."""
    counters: dict[str, int] = {}
    numbered = []
    for session in sessions:
        if session.active:
            counters[session.phase] = counters.get(session.phase, 0) + 1
            if session.phase_number != counters[session.phase]:
                session = session.evolve(phase_number=counters[session.phase])
        numbered.append(session)
    return numbered


def _per_week(phase: Phase) -> bool:
    return isinstance(phase, Taper | Weekly)


def _going_on(phase: Phase, count: int, last: dt.date | None) -> tuple[Phase, dt.date | None]:
    """The phase's cadence for ``count`` more sessions, and the first day it may use: the
    day after its last session, or for a weekly cadence the Monday after its last week."""
    match phase:
        case Daily():
            return Daily(count, name=phase.name), last + _DAY if last else None
        case Taper() | Weekly():
            weekly = phase.per_week[-1] if isinstance(phase, Taper) else phase.per_week
            counts = [weekly] * (count // weekly) + ([count % weekly] if count % weekly else [])
            monday = last + dt.timedelta(days=7 - last.weekday()) if last else None
            return Taper(tuple(counts), name=phase.name), monday
        case Accelerated():
            per_day = min(phase.per_day, count)
            days = math.ceil(count / per_day)
            return (
                Accelerated(per_day, days, phase.interval, consecutive=False, name=phase.name),
                last + _DAY if last else None,
            )
        case Periodic():
            occurrences = math.ceil(count / phase.cluster_sessions)
            going_on = attrs.evolve(phase, occurrences=occurrences)
            period = dt.timedelta(weeks=phase.every_weeks)
            return going_on, last + period if last else None
    raise AssertionError(phase)


def skipped_days(
    plan: Plan, schedule: Schedule, earlier: Iterable[SkippedDay] = ()
) -> tuple[SkippedDay, ...]:
    """The days a course goes around now: the holidays and closures that shut an open
    weekday between its first and last session (with the phase of the session after it),
    and the days passed over before (``earlier``) that are still closed and inside it."""
    active = [s for s in schedule.sessions if s.active]
    if not active:
        return ()
    first, last = active[0].date, active[-1].date
    clinic = plan.clinic
    # A day passed over for a closure that is gone (an undone closure, an extra open day)
    # is not passed over any more; one passed over for its hours still is.
    result = {
        d.date: d
        for d in earlier
        if first <= d.date <= last
        and not (clinic.is_open(d.date) and d.reason.endswith("clinic closed"))
    }
    dates = [s.date for s in active]
    for day, reason in clinic.closed_days(first, last):
        phase = active[bisect.bisect_left(dates, day)].phase
        result[day] = SkippedDay(day, reason, result[day].phase if day in result else phase)
    return tuple(result[d] for d in sorted(result))


def gap_warnings(schedule: Schedule, limit: dt.timedelta) -> list[str]:
    """A warning for each gap between sessions longer than ``limit``."""
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


def stretch_warning(first_planned: Schedule, schedule: Schedule) -> list[str]:
    """A warning when the course now ends more than a week after the plan first said."""
    active = schedule.active_sessions()
    planned = first_planned.active_sessions()
    if not active or not planned:
        return []
    late = (active[-1].date - planned[-1].date).days
    if late > 7:
        return [
            f"the course now ends on {active[-1].date}, {late} days after the planned end"
            f" ({planned[-1].date})"
        ]
    return []


__all__ += ["stretch_warning"]
