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
   next phase's sessions on or before its new end move: in a taper or continuation to a
   free day later in the same week when the week has one (the week keeps its count);
   otherwise to the end of their phase, by the policy (the sessions after them keep their
   times: one missed session never moves a whole taper).
5. A phase that now has more sessions than it delivers (a voided miss) gives up its last
   planned ones that are not recorded, even past ones.

6. An accelerated block of consecutive days (a plan with ``blocks="whole"``) is not broken
   silently: a re-plan that would leave its days no longer one after another (a closure on
   its third day) raises :class:`~tms_schedule.errors.BlockBreakError` and is asked again
   with the clinician's choice, ``block``: ``"continue"`` (as above, on the next open days,
   with a warning recorded) or ``"restart"`` (the block's sessions to come together again,
   on the first consecutive days from the moment that hold them all; those given stay).

So the same re-plan run twice changes nothing, and a clinic closure gives the same times as
recording the same day missed with cause ``clinic``, whatever day the re-plan starts from.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, KeysView, Sequence
from typing import Literal, NamedTuple

import attrs

from tms_schedule._time import add_elapsed, resolve_wall_time
from tms_schedule.clinic import ClinicCalendar
from tms_schedule.course.record import bump_positions
from tms_schedule.errors import BlockBreakError, BlockSplitError, CourseError
from tms_schedule.phase import Accelerated, Daily, Periodic, Phase, Taper, Weekly
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session, SkippedDay

__all__ = [
    "BLOCK_CHOICES",
    "POLICIES",
    "Availability",
    "Bookable",
    "Free",
    "Replanned",
    "Unavailable",
    "gap_warnings",
    "replan_schedule",
    "skipped_days",
]

#: Catch-up policies for re-planning: ``extend`` (missed sessions go to the end of their
#: phase and the course gets longer), ``double`` (a second session on a later day),
#: ``extra-day`` (the clinic's catch-up days first).
POLICIES = ("extend", "double", "extra-day")
#: What a clinician chooses when a re-plan would break an accelerated block's consecutive
#: days: ``continue`` on the next open days (a warning is recorded), or ``restart`` the
#: block's sessions to come on the first consecutive days that hold them.
BLOCK_CHOICES = BlockBreakError.choices

_DAY = dt.timedelta(days=1)
_UTC = dt.UTC
_Slot = tuple[dt.datetime, dt.datetime]


class Free(NamedTuple):
    """The answer of :data:`Bookable`: a chair can hold the session then."""


class Unavailable(NamedTuple):
    """The answer of :data:`Bookable`: no chair can hold the session then, and why
    ("every chair that can run it is booked then", "Chair 2 out: coil repair")."""

    reason: str


#: What a :data:`Bookable` answers about a time.
Availability = Free | Unavailable
#: The clinic book's check of a time, which a re-plan asks before it keeps or places a
#: session: ``bookable(start, end)`` is :class:`Free` when a chair can hold a session from
#: ``start`` to ``end``, else :class:`Unavailable` with the reason.
Bookable = Callable[[dt.datetime, dt.datetime], Availability]
#: How many times a placement is tried again around days the book cannot hold.
_BOOK_TRIES = 200
#: The times of a day tried for a session the book cannot hold at its own.
_STEP = dt.timedelta(minutes=5)


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
    block: str | None = None,
) -> Replanned:
    """The course's sessions repaired under ``policy`` from ``moment`` on (see the module).

    ``bookable`` is the clinic book's check of a time (see :data:`Bookable`): a session the
    book can no longer hold moves like one on a closed day, and what is placed goes only
    where the book has room. ``block`` is the clinician's choice when the re-plan would
    break an accelerated block's consecutive days (see :data:`BLOCK_CHOICES`).

    Raises:
        BlockBreakError: the re-plan would break a block's consecutive days and ``block``
            says nothing.
        CourseError: the clinic's book has no room for what a phase owes.
        NoOpenDayError: no open day ahead within the search horizon.
    """
    if block is not None and block not in BLOCK_CHOICES:
        raise CourseError(f"block: must be one of {', '.join(BLOCK_CHOICES)}, got {block!r}")
    options = (plan, current, moment, policy, min_gap, extra_per_week, bookable)
    result = _Repair(*options).run()
    broken = _broken_blocks(plan, current, result.schedule)
    if not broken:
        return result
    if block is None:
        name, days = broken[0]
        raise BlockBreakError(
            f"block: the re-plan would break the {name} phase's consecutive days"
            f" ({_days(days)}); choose 'continue' (on the next open days, with a warning"
            " recorded) or 'restart' (its sessions to come together again on the first"
            " consecutive days that hold them)",
            name,
        )
    if block == "restart":
        result = _Repair(*options, restart=frozenset(name for name, _ in broken)).run()
        said = "its sessions to come restarted on consecutive days from {first}"
    else:
        said = "continued on the next open days"
    warnings = [
        f"the {name} phase's consecutive days are broken ({_days(days)}):"
        f" {said.format(first=_first_to_come(result.schedule, name, moment))},"
        " as the clinician chose"
        for name, days in broken
    ]
    return attrs.evolve(result, warnings=(*result.warnings, *warnings))


def _broken_blocks(
    plan: Plan, before: Schedule, after: Schedule
) -> list[tuple[str, list[dt.date]]]:
    """The accelerated phases kept whole (``blocks="whole"``) whose days followed one
    another before and do not after, with their days after. A day counts when it holds a
    session of the phase that is not cancelled (a missed day was still one of the block's)."""
    if plan.blocks != "whole":
        return []
    broken = []
    for phase in plan.protocol.phases:
        if not (isinstance(phase, Accelerated) and phase.consecutive):
            continue
        was = sorted({s.date for s in before if s.phase == phase.name and s.status != "cancelled"})
        now = sorted({s.date for s in after if s.phase == phase.name and s.status != "cancelled"})
        if _one_after_another(was) and not _one_after_another(now):
            broken.append((phase.name, now))
    return broken


def _one_after_another(days: list[dt.date]) -> bool:
    return all(b - a == _DAY for a, b in itertools.pairwise(days))


def _days(days: list[dt.date]) -> str:
    return ", ".join(day.isoformat() for day in days)


def _first_to_come(schedule: Schedule, phase: str, moment: dt.datetime) -> str:
    dates = [s.date for s in schedule if s.phase == phase and s.active and s.start >= moment]
    return min(dates).isoformat() if dates else "now"


class _Ledger:
    """What a re-plan has decided so far, session by session: which planned sessions keep
    their times, which must move and why, where the moved ones go, which are added and
    which are taken out. Its methods are the only way to change it, so each decision takes
    a session from one state to the next in one place.
    """

    def __init__(self, phases: Iterable[str]) -> None:
        self._kept: dict[int, Session] = {}  # planned sessions that keep their time
        self._moving: dict[str, list[Session]] = {name: [] for name in phases}
        self._reasons: dict[int, str] = {}  # why each session that moves must move
        self._removed: list[int] = []  # taken out by the re-plan
        self._placed: dict[int, _Slot] = {}  # moved sessions' new times
        self._added: list[tuple[str, _Slot]] = []  # new sessions, by phase

    # -- deciding --------------------------------------------------------------------------------

    def keep(self, session: Session) -> None:
        """``session`` keeps its time: there is nothing to explain."""
        self._kept[session.number] = session
        self._reasons.pop(session.number, None)

    def release(self, session: Session) -> None:
        """``session`` no longer keeps its time (nor one it was given); where it goes is
        decided next."""
        self._kept.pop(session.number, None)
        self._placed.pop(session.number, None)

    def retime(self, session: Session, slot: _Slot, why: str) -> None:
        """``session`` keeps its day, at another time (``slot``): it counts as kept."""
        self._kept[session.number] = session.evolve(start=slot[0], end=slot[1])
        self._placed[session.number] = slot
        self._reasons[session.number] = why

    def must_move(self, session: Session, why: str) -> None:
        """``session`` cannot keep its time: it waits for a slot of its phase."""
        self.release(session)
        self._moving[session.phase].append(session)
        self._reasons[session.number] = why

    def give_up(self, session: Session, why: str) -> None:
        """``session`` is taken out of the plan (its phase has all its sessions)."""
        self.release(session)
        self._removed.append(session.number)
        self._reasons[session.number] = why

    def place(self, number: int, slot: _Slot, why: str | None = None) -> None:
        """Session ``number`` moves to ``slot`` (because ``why``, when a new reason)."""
        self._placed[number] = slot
        if why is not None:
            self._reasons[number] = why

    def add(self, phase: str, slot: _Slot) -> None:
        """A new session of ``phase`` at ``slot``."""
        self._added.append((phase, slot))

    def settle(self, phase: str, slots: list[_Slot]) -> None:
        """The sessions of ``phase`` waiting to move take ``slots`` in order of time; slots
        left over are new sessions, and sessions left over are taken out."""
        moving = sorted(self._moving[phase], key=lambda s: s.start.astimezone(_UTC))
        for session, slot in itertools.zip_longest(moving, slots):
            if slot is None:
                self._removed.append(session.number)
            elif session is None:
                self.add(phase, slot)
            else:
                self.place(session.number, slot)
        self._moving[phase] = []

    def unmoved(self, number: int) -> None:
        """Session ``number`` was placed where it already was: there is nothing to explain."""
        self._reasons.pop(number, None)

    def resized(self, number: int, slot: _Slot, why: str) -> None:
        """Session ``number`` keeps its start but not its length (the first visit, handed
        on); a reason it moved for comes first."""
        self._reasons.setdefault(number, why)
        self._placed.setdefault(number, slot)

    # -- reading ---------------------------------------------------------------------------------

    def is_kept(self, number: int) -> bool:
        return number in self._kept

    def kept_numbers(self) -> KeysView[int]:
        """The numbers of the sessions that keep their time (a view: it follows the ledger)."""
        return self._kept.keys()

    def kept(self, phase: str | None = None) -> list[Session]:
        """The sessions that keep their time or day (those of ``phase``), at their times."""
        return [s for s in self._kept.values() if phase is None or s.phase == phase]

    def is_moving(self, phase: str) -> bool:
        """Whether sessions of ``phase`` wait for a slot."""
        return bool(self._moving[phase])

    def placed_at(self, number: int) -> _Slot | None:
        return self._placed.get(number)

    def placed(self) -> Iterator[tuple[int, _Slot]]:
        return iter(self._placed.items())

    def added(self, phase: str | None = None) -> list[_Slot]:
        """The new sessions' times (those of ``phase``)."""
        return [slot for name, slot in self._added if phase is None or name == phase]

    def added_in_order(self) -> list[tuple[str, _Slot]]:
        """The new sessions with their phases, in order of time."""
        return sorted(self._added, key=lambda a: a[1][0].astimezone(_UTC))

    def is_removed(self, number: int) -> bool:
        return number in self._removed

    def removed(self) -> tuple[int, ...]:
        return tuple(sorted(self._removed))

    def reasons(self) -> tuple[tuple[int, str], ...]:
        """Why each session that moved or was taken out had to, by number."""
        return tuple(
            sorted(
                (n, why)
                for n, why in self._reasons.items()
                if n in self._placed or n in self._removed
            )
        )


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
        restart: frozenset[str] = frozenset(),
    ) -> None:
        self.plan = plan
        self.restart = restart  # accelerated phases whose sessions to come start again
        self.bookable = bookable
        self.clinic: ClinicCalendar = plan.clinic
        self.protocol: Protocol = plan.protocol
        self.current = current
        self.moment = moment
        self.policy = policy
        self.min_gap = min_gap
        self.extra_per_week = extra_per_week
        self.ledger = _Ledger(p.name for p in self.protocol.phases)
        self.warnings: list[str] = []
        self.phase_of = {s.number: s.phase for s in current.sessions}
        self.current_numbers = {s.number for s in current.sessions}
        self.sequences = {s.number: s.sequence for s in current.sessions}
        self.order = {phase.name: i for i, phase in enumerate(self.protocol.phases)}
        # Phases whose days hold several sessions kept together (their spacing is the rule).
        self.blocks = {
            phase.name
            for phase in self.protocol.phases
            if isinstance(phase, Accelerated)
            or (isinstance(phase, Periodic) and phase.cluster_sessions > phase.cluster_days)
        }

    # -- the steps ---------------------------------------------------------------------------------

    def run(self) -> Replanned:
        self._keep_what_can_stay()  # rules 1 and 2
        owed = self._owed()
        self._give_up_surplus(owed)  # rule 5
        self._place_in_phase_order(owed)  # rules 3 and 4
        return self._result()

    def _keep_what_can_stay(self) -> None:
        """Each planned session keeps its time unless it cannot (see :meth:`_cannot_stay`,
        or another session of the course is booked then); sessions moved before keep theirs
        last, so a voided record's session is the one that moves."""
        held = _Held(s for s in self.current.sessions if s.status == "attended")
        for session in sorted(self.current.sessions, key=lambda s: (s.sequence > 0, s.number)):
            if session.status != "scheduled":
                continue
            if session.phase in self.restart and session.start >= self.moment:
                again = f"the {session.phase} block starts again on consecutive days"
                self.ledger.must_move(session, again)
                continue
            why = self._cannot_stay(session) or held.clash(session)
            if why is None:
                self.ledger.keep(session)
                held.add(session)
                continue
            slot = self._same_day(session, held) if self._only_the_book(session) else None
            if slot is None:
                self.ledger.must_move(session, why)
            else:  # the same day on another chair or at another time, before another day
                moved = session.evolve(start=slot[0], end=slot[1])
                self.ledger.retime(session, slot, f"{why}; the same day at {_hhmm(slot[0])}")
                held.add(moved)

    def _place_in_phase_order(self, owed: dict[str, int]) -> None:
        """Phase by phase, what each owes is placed after the phases before it end, and
        its sessions in their way make way first."""
        boundary: tuple[dt.datetime, str] | None = None  # where the phases so far end
        for phase in self.protocol.phases:
            if boundary is not None:
                owed[phase.name] = self._make_way(phase, *boundary, owed[phase.name])
            self._place(phase, owed[phase.name])
            end = self._phase_end(phase.name)
            if end is not None and (boundary is None or end > boundary[0]):
                boundary = (end, phase.name)

    def _cannot_stay(self, session: Session) -> str | None:
        """Why a planned session cannot keep its time, or ``None`` when it can."""
        day = self.clinic.day(session.date)
        if day.hours is None:
            return self.clinic.closure_reason(session.date) or "the clinic is closed"
        if not day.hours.holds(session.start, session.end):
            return f"outside the opening hours ({day.hours})"
        if self.bookable is not None:
            answer = self.bookable(session.start, session.end)
            if isinstance(answer, Unavailable):
                return answer.reason
        return None

    def _only_the_book(self, session: Session) -> bool:
        """Whether only the book keeps ``session`` from its time: its day is open, its
        time inside the hours, it is the course's one session that day, and not of a
        block of sessions (an accelerated or cluster day keeps its spacing)."""
        if self.bookable is None or session.phase in self.blocks:
            return False
        day = self.clinic.day(session.date)
        if day.hours is None or not day.hours.holds(session.start, session.end):
            return False
        return not any(
            s.active and s.number != session.number and s.date == session.date
            for s in self.current.sessions
        )

    def _same_day(self, session: Session, held: _Held | None = None) -> _Slot | None:
        """The time nearest ``session``'s on its own day that the book can hold, inside
        the day's hours and not before the moment (and clear of ``held``)."""
        return self._free_time_on(session.date, session.start, session.duration, held)

    def _free_time_on(
        self, day: dt.date, wanted: dt.datetime, length: dt.timedelta, held: _Held | None = None
    ) -> _Slot | None:
        """The start nearest ``wanted`` on ``day`` (every five minutes) where a session of
        ``length`` fits the hours and the book has room, not before the moment."""
        hours = self.clinic.day(day).hours
        if hours is None or self.bookable is None:
            return None
        zone = self.clinic.zone
        opens = resolve_wall_time(day, hours.opens, zone).astimezone(_UTC)
        closes = resolve_wall_time(day, hours.closes, zone).astimezone(_UTC)
        steps = int((closes - opens) / _STEP)
        starts = sorted(
            (opens + k * _STEP for k in range(steps + 1)),
            key=lambda t: (abs(t - wanted.astimezone(_UTC)), t),
        )
        for start in starts:
            begin = start.astimezone(zone)
            end = add_elapsed(begin, length, zone)
            if (
                begin >= self.moment
                and hours.holds(begin, end)
                and self._has_room(begin, end)
                and (held is None or held.clash(Session(0, "", 0, begin, end)) is None)
            ):
                return (begin, end)
        return None

    def _owed(self) -> dict[str, int]:
        """Sessions each phase still needs planned: its count less those attended or kept."""
        active = {phase.name: 0 for phase in self.protocol.phases}
        kept = self.ledger.kept_numbers()
        for session in self.current.sessions:
            if session.status == "attended" or session.number in kept:
                active[session.phase] = active.get(session.phase, 0) + 1
        return {phase.name: phase.total - active[phase.name] for phase in self.protocol.phases}

    def _give_up_surplus(self, owed: dict[str, int]) -> None:
        """A phase with more sessions than it delivers gives up its last planned ones."""
        for name, count in owed.items():
            if count >= 0:
                continue
            # The last planned ones go, to come or not yet recorded (a voided miss's make-up
            # that is past by now did not happen: the session it made up did).
            later = sorted(self.ledger.kept(name), key=lambda s: s.start, reverse=True)
            for session in later[:-count]:
                self.ledger.give_up(session, f"the {name} phase has all its sessions")
            owed[name] = 0

    def _place(self, phase: Phase, owed: int) -> None:
        """Place what ``phase`` owes, by the policy; its moving sessions take slots first."""
        if owed <= 0 and not self.ledger.is_moving(phase.name):
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
        if left > 0 and phase.name in self.restart:
            assert isinstance(phase, Accelerated)
            slots += self._block_again(phase, left)
        elif left > 0:
            slots += self._extend(phase, left, slots)
        slots.sort(key=lambda slot: slot[0].astimezone(_UTC))
        self.ledger.settle(phase.name, slots)

    def _make_way(self, later: Phase, end: dt.datetime, before: str, owed: int) -> int:
        """Move the sessions of a phase that now fall on or before the day ``end`` the
        phases before it end (the last of them ``before``); returns what the phase owes
        then (it owed ``owed``).

        Only the sessions in the way move. A taper or continuation moves each to a free day
        later in its own week where the week has one (the week keeps its count); every
        other session in the way goes to the end of its phase, by the policy, like any
        session that had to move.
        """
        last_day = end.astimezone(self.clinic.zone).date()
        in_the_way = sorted(
            (
                s
                for s in self.ledger.kept(later.name)
                if s.start >= self.moment and s.date <= last_day
            ),
            key=lambda s: s.start,
        )
        if not in_the_way:
            return owed
        why = f"the {before} phase now ends on {last_day}"
        if _per_week(later):
            in_the_way = self._later_in_their_week(in_the_way, last_day, why)
        for session in in_the_way:
            self.ledger.must_move(session, why)
        return owed + len(in_the_way)

    def _later_in_their_week(
        self, sessions: list[Session], after: dt.date, why: str
    ) -> list[Session]:
        """Each of ``sessions`` (of a taper or continuation) to a free day after ``after``
        in its own week where there is one; returns those that found none."""
        for session in sessions:
            self.ledger.release(session)
        also: set[dt.date] = set()
        left = []
        for session in sessions:
            slot = self._later_in_week(session, after, also)
            if slot is None:
                left.append(session)
            else:
                self.ledger.place(session.number, slot, why)
                also.add(slot[0].date())
        return left

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
                start = resolve_wall_time(day, session.start.astimezone(zone).time(), zone)
                end = add_elapsed(start, session.duration, zone)
                if (
                    start >= self.moment
                    and start.date() == day
                    and calendar_day.hours.holds(start, end)
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
        days |= {s.date for s in self.ledger.kept() if self.order[s.phase] <= last}
        days |= {slot[0].date() for _, slot in self.ledger.placed()}
        days |= {slot[0].date() for slot in self.ledger.added()}
        return days

    def _phase_sessions(self, name: str) -> list[_Slot]:
        """The times of a phase's sessions that count now: attended, kept, placed, added."""
        kept = self.ledger.kept_numbers()
        times = [
            (s.start, s.end)
            for s in self.current.sessions
            if s.phase == name
            and (s.status == "attended" or s.number in kept)
            and self.ledger.placed_at(s.number) is None  # kept at another time: below
        ]
        times += [slot for number, slot in self.ledger.placed() if self.phase_of[number] == name]
        times += self.ledger.added(name)
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

    def _block_again(self, phase: Accelerated, count: int) -> list[_Slot]:
        """``count`` sessions of an accelerated block on consecutive days again: the first
        run of days from the moment (after the phases before it) that holds them all and
        where the book has room."""
        per_day = min(phase.per_day, count)
        cadence = Accelerated(per_day, math.ceil(count / per_day), phase.interval, name=phase.name)
        start = max(
            self._previous_end(phase) or self.plan.start,
            self.moment.astimezone(self.clinic.zone).date(),
        )
        taken = self._taken(phase)
        for _ in range(_BOOK_TRIES):
            try:
                sessions = (
                    self._sub_plan(cadence, start, "whole")
                    .expand(avoid=taken, not_before=self.moment)
                    .sessions
                )
            except BlockSplitError as error:
                if error.next_start is None:
                    raise
                start = error.next_start
                continue
            full = {s.date for s in sessions if not self._has_room(s.start, s.end)}
            if not full:
                return [(s.start, s.end) for s in sessions][:count]
            taken |= full
        raise CourseError(
            f"the clinic's book has no room for the {phase.name} block on consecutive days"
            f" within {_BOOK_TRIES} tries after {start}"
        )

    def _sub_plan(self, cadence: Phase, start: dt.date, blocks: Literal["whole", "split"]) -> Plan:
        """The course's plan for one ``cadence`` from ``start`` (a re-plan's placements)."""
        kept = self.ledger.kept_numbers()
        first = not any(s.status == "attended" or s.number in kept for s in self.current.sessions)
        protocol = attrs.evolve(
            self.protocol,
            phases=(cadence,),
            first_session=self.protocol.first_session if first else self.protocol.session,
            optional_phases=frozenset(),
            acute_range=None,
        )
        return attrs.evolve(self.plan, protocol=protocol, start=start, blocks=blocks)

    def _expand(
        self, cadence: Phase, start: dt.date, phase: Phase, also: set[dt.date] | None = None
    ) -> list[_Slot]:
        """The sessions ``cadence`` books from ``start`` on, around the course's other
        sessions (those of ``phase`` and before it, and ``also``), never before the moment."""
        start = max(start, self.moment.astimezone(self.clinic.zone).date())
        sub = self._sub_plan(cadence, start, "split")
        taken = self._taken(phase) | (also or set())
        for _ in range(_BOOK_TRIES):
            sessions = sub.expand(avoid=taken, not_before=self.moment).sessions
            slots, full = self._booked_on_their_days(sessions)
            if not full:
                return slots
            taken |= full  # the book has no room then: around those days
        raise CourseError(
            f"the clinic's book has no room for the {phase.name} phase's sessions within"
            f" {_BOOK_TRIES} open days after {start}"
        )

    def _booked_on_their_days(
        self, sessions: Sequence[Session]
    ) -> tuple[list[_Slot], set[dt.date]]:
        """The times of ``sessions`` where the book has room: a day's one session at
        another time of its day where its own is taken (the same day before another day);
        and the days the book cannot hold."""
        per_day: dict[dt.date, int] = {}
        for session in sessions:
            per_day[session.date] = per_day.get(session.date, 0) + 1
        slots: list[_Slot] = []
        full: set[dt.date] = set()
        for session in sessions:
            if self._has_room(session.start, session.end):
                slots.append((session.start, session.end))
                continue
            other = None
            if per_day[session.date] == 1 and session.phase not in self.blocks:
                other = self._free_time_on(session.date, session.start, session.duration)
            if other is None:
                full.add(session.date)
            else:
                slots.append(other)
        return slots, full

    def _has_room(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.bookable is None or isinstance(self.bookable(start, end), Free)

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
            default=min((s.date for s in self.ledger.kept()), default=None),
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
            start = add_elapsed(times[0][1], self.min_gap, zone)
            end = add_elapsed(start, length, zone)
            if (
                start < self.moment
                or start.date() != day
                or not self.clinic.holds(start, end)
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
        zone = self.clinic.zone
        start = resolve_wall_time(day, self.plan.at, zone)
        end = add_elapsed(start, self.protocol.session, zone)
        if (
            start < self.moment
            or start.date() != day
            or not self.clinic.holds(start, end)
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
                end = add_elapsed(session.start, want, self.clinic.zone)
                if want == length or _first_visit_fits(self, session, end, sessions):
                    was = self.sequences.get(session.number, -1)
                    session = session.evolve(end=end, sequence=max(session.sequence, was + 1))
                    if session.number in self.current_numbers:
                        self.ledger.resized(
                            session.number,
                            (session.start, session.end),
                            "the first visit (mapping and motor threshold)"
                            if want == first_length
                            else "no longer the first visit",
                        )
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
            slot = self.ledger.placed_at(session.number)
            if slot is not None:
                start, end = slot
                changed = (start, end) != (session.start, session.end)
                session = session.evolve(start=start, end=end, sequence=session.sequence + changed)
                if not changed:
                    self.ledger.unmoved(session.number)
            elif self.ledger.is_removed(session.number):
                session = session.evolve(status="cancelled", sequence=session.sequence + 1)
            sessions.append(session)
        number = max((s.number for s in self.current.sessions), default=0)
        for phase, (start, end) in self.ledger.added_in_order():
            number += 1
            sessions.append(Session(number, phase, 0, start, end))
        sessions.sort(key=lambda s: (s.start.astimezone(_UTC), s.number))
        sessions = self._first_visit(sessions)
        sessions = _numbered_in_phase(sessions)
        after = bump_positions(self.current, attrs.evolve(self.current, sessions=tuple(sessions)))
        after = attrs.evolve(after, skipped=skipped_days(self.plan, after, self.current.skipped))
        return Replanned(after, self.ledger.removed(), self.ledger.reasons(), tuple(self.warnings))


def _first_visit_fits(
    repair: _Repair, session: Session, end: dt.datetime, others: list[Session]
) -> bool:
    """Whether ``session`` can run until ``end`` (its day's hours, the course's next
    session that day, the clinic's book)."""
    if not repair.clinic.holds(session.start, end):
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


def _hhmm(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


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
