"""Offers: the best few ways to book a whole new course into the clinic's chairs.

The front desk asks for a protocol, the earliest start, a preferred time with a window
("09:00, give or take an hour") and perhaps a chair. For each start date (the first
``dates`` days a plan can start on) the plan is expanded once; for every day of the course
and every chair that can run it, one bit mask says which shifts of the day's sessions
(every ``step`` minutes across the window) fit the chair's free stretches (a
:class:`_Grid`). The search then tries named strategies over those masks
(:data:`STRATEGIES`), each a way of choosing a time and a chair for every day:

1. *one time, one chair*: the same time and chair every day (nothing to trade off but the
   start and the time);
2. *one time, chairs change*: the same time, the chair changing on as few days as
   possible;
3. *one chair, times change*: one chair, the time changing on as few days and by as few
   minutes as possible;
4. *both change*: each day its nearest time, on the chair used the day before where it
   can; tried only when none of the others holds the course.

One cost model (:class:`CostModel`) prices every trade-off, in "tens of minutes off the
preferred time": a day later, ten minutes off, a day at another time, a changed chair, the
preferred chair missed. The strategies choose between their own candidates with it, and
every offer is ranked by it and says what it trades off, in words. The search is
deterministic: the same book and question give the same offers. Taking an offer
(:meth:`Book.take <tms_schedule.book.Book.take>`) books exactly it, or fails if the book
changed meanwhile.

Given ``now``, no offer starts before it: an earliest date in the past is refused (a wrong
year, most often), and today's times that have passed are not offered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import attrs

from tms_schedule._dates import short_day
from tms_schedule.book.chairs import Chair
from tms_schedule.book.occupancy import Occupancy, block_phases, minute
from tms_schedule.errors import BlockSplitError, BookError, NoOfferError, TmsScheduleError
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = ["STRATEGIES", "CostModel", "Offer", "Strategy", "find_moves", "find_offers"]

#: A placeholder course id while an offer is not taken.
OFFER_COURSE = "offer"


@attrs.frozen
class CostModel:
    """What each trade-off of an offer costs, in one unit: ten minutes off the preferred
    time costs 1. Every offer is ranked by it (lower is better), and the strategies choose
    between their own candidates by it too.

    Attributes:
        day_later: a start one day after the earliest date.
        ten_minutes: ten minutes between the time asked for and the offer's.
        time_day: one day at another time than the offer's own (besides its minutes).
        chair_change: a chair change from one day to the next.
        not_preferred: the chair asked for missed on every day (a share of it for some).

    >>> CostModel().day_at(30)  # one day 30 minutes off the offer's time
    4.5
    """

    day_later: float = 3.0
    ten_minutes: float = 1.0
    time_day: float = 1.5
    chair_change: float = 1.0
    not_preferred: float = 2.0

    def minutes_off(self, minutes: int) -> float:
        """``minutes`` away from a time (either way)."""
        return self.ten_minutes * abs(minutes) / 10

    def day_at(self, minutes: int) -> float:
        """One day ``minutes`` away from the offer's time (0: none)."""
        return self.time_day + self.minutes_off(minutes) if minutes else 0.0

    def judge(
        self, question: _Question, start: dt.date, minutes: Sequence[int], seats: Sequence[str]
    ) -> tuple[int, float, tuple[str, ...]]:
        """An offer's main shift (the most common one), its cost and its trade-offs in
        words, from its start and each day's shift (minutes from the time asked for) and
        chair."""
        counts: dict[int, int] = {}
        for m in minutes:
            counts[m] = counts.get(m, 0) + 1
        main = max(counts, key=lambda m: (counts[m], -abs(m), -m))
        tradeoffs: list[str] = []
        cost = 0.0
        later = (start - question.earliest).days
        if later:
            tradeoffs.append(
                f"starts {short_day(start)}, {later} day{_s(later)} after the earliest date"
            )
            cost += self.day_later * later
        if main:
            tradeoffs.append(
                f"at {_shifted(question.at, main):%H:%M} instead of {question.at:%H:%M}"
            )
            cost += self.minutes_off(main)
        off = [m for m in minutes if m != main]
        if off:
            spread = max(abs(m - main) for m in off)
            tradeoffs.append(
                f"the time differs on {len(off)} day{_s(len(off))} (by up to {spread} minutes)"
            )
            cost += sum(self.day_at(m - main) for m in off)
        changes = sum(1 for a, b in itertools.pairwise(seats) if a != b)
        if changes:
            tradeoffs.append(f"changes chair on {changes} day{_s(changes)}")
            cost += self.chair_change * changes
        if question.chair is not None:
            elsewhere = sum(1 for c in seats if c != question.chair)
            if elsewhere:
                tradeoffs.append(
                    f"not on {question.chair} on {elsewhere} day{_s(elsewhere)}"
                    if elsewhere < len(seats)
                    else f"not on {question.chair}"
                )
                cost += self.not_preferred * (elsewhere / len(seats))
        return main, round(cost, 3), tuple(tradeoffs)


#: The cost model offers are ranked by.
COSTS = CostModel()


@attrs.frozen
class Offer:
    """One way to book the course.

    Attributes:
        plan: the plan (placeholder course id ``offer``) at the start date and main time.
        schedule: every session, at the time this offer books it.
        seats: the chair of each session, by session number.
        tradeoffs: what it gives up, in words (empty: exactly as asked).
        cost: the rank (lower is better).
        key: a short fingerprint of the offer, for taking it later.
    """

    plan: Plan
    schedule: Schedule
    seats: tuple[tuple[int, str], ...]
    tradeoffs: tuple[str, ...]
    cost: float
    key: str

    @property
    def start(self) -> dt.date:
        """The day of the first session."""
        return self.schedule.first.start.astimezone(self.plan.clinic.zone).date()

    @property
    def at(self) -> dt.time:
        return self.plan.at

    def chairs(self) -> list[str]:
        """The chairs it uses, most used first."""
        counts: dict[str, int] = {}
        for _, chair in self.seats:
            counts[chair] = counts.get(chair, 0) + 1
        return sorted(counts, key=lambda c: (-counts[c], c))

    def describe(self, chair_names: dict[str, str] | None = None) -> str:
        """One line: when it starts, when and where, what it trades off."""
        names = chair_names or {}
        chairs = self.chairs()
        where = names.get(chairs[0], chairs[0]) + (
            f" (and {', '.join(names.get(c, c) for c in chairs[1:])})" if len(chairs) > 1 else ""
        )
        last = self.schedule.last
        text = (
            f"from {short_day(self.start)} at {self.at:%H:%M} on {where},"
            f" {len(self.schedule)} sessions to {short_day(last.date)}"
        )
        return text + (": " + "; ".join(self.tradeoffs) if self.tradeoffs else ": as asked")


@attrs.frozen
class _Question:
    protocol: Protocol
    earliest: dt.date
    at: dt.time
    window: int
    step: int
    chair: str | None
    dates: int
    count: int
    #: The first minute a session may start at (now), and its local day.
    not_before: int | None = None
    today: dt.date | None = None
    costs: CostModel = COSTS


def find_offers(
    occupancy: Occupancy,
    protocol: Protocol,
    earliest: dt.date,
    at: dt.time,
    *,
    window: int = 60,
    step: int = 10,
    chair: str | None = None,
    dates: int = 10,
    count: int = 3,
    now: dt.datetime | None = None,
) -> tuple[Offer, ...]:
    """The best ``count`` offers (see the module); none raises :class:`NoOfferError`.

    With ``now``, an ``earliest`` before its day raises :class:`BookError`, and no session
    of an offer starts before it."""
    question = _Question(protocol, earliest, at, window, step, chair, dates, count)
    if now is not None:
        today = now.astimezone(occupancy.clinic.zone).date()
        if earliest < today:
            raise BookError(
                f"earliest: {earliest} is before today ({today}); a course cannot start in"
                " the past (a wrong year?)"
            )
        question = attrs.evolve(question, not_before=minute(now), today=today)
    able = _able_chairs(occupancy, question)
    starts = _start_dates(occupancy, question)
    if not starts:
        raise NoOfferError(
            f"no start date from {earliest} can hold {protocol.id} at {at:%H:%M} give or take"
            f" {window} minutes: {_why_no_plan(occupancy, question)}",
            (),
        )
    masks_seen: dict[tuple[str, dt.date, tuple[tuple[int, int], ...]], int] = {}
    candidates = [
        draft
        for plan in starts
        for draft in _offers_on(occupancy, question, plan, able, masks_seen)
    ]
    if not candidates:
        later = _next_dates(occupancy, question, starts, able)
        hint = (
            f"; the first start dates that could hold it: {', '.join(map(str, later))}"
            if later
            else ""
        )
        raise NoOfferError(
            f"no chair holds every session of {protocol.id} at {at:%H:%M} give or take"
            f" {window} minutes for a start {starts[0].start} to {starts[-1].start}{hint}",
            later,
        )
    # Only the offers shown are written out in full.
    return tuple(draft.build() for draft in _shown(candidates, count))


def find_moves(
    occupancy: Occupancy,
    plan: Plan,
    sessions: Sequence[Session],
    at: dt.time,
    *,
    window: int = 0,
    step: int = 10,
    chair: str | None = None,
    count: int = 3,
    now: dt.datetime | None = None,
) -> tuple[Offer, ...]:
    """The best ``count`` ways to move ``sessions`` (a course's, from a date on; not in
    ``occupancy``) to ``at`` on their own days, give or take ``window`` minutes: the same
    strategies and cost model as a new course's offers (see the module). Each offer holds
    the sessions it moves, at their new times, with the chair of each; its plan is
    ``plan`` at the offer's time. None raises :class:`NoOfferError`, naming the first day
    no chair can hold."""
    zone = occupancy.clinic.zone
    asked = _moved_to(sessions, at, zone)
    if not asked:
        raise NoOfferError("start: the course has no session to come from then", ())
    first_day = asked[0].start.astimezone(zone).date()
    question = _Question(plan.protocol, first_day, at, window, step, chair, 1, count)
    if now is not None:
        question = attrs.evolve(question, not_before=minute(now), today=now.astimezone(zone).date())
    able = _able_chairs(occupancy, question)
    moved_plan = _at_time(plan, at)
    schedule = Schedule(plan.course_id, plan.protocol.id, plan.clinic.timezone, tuple(asked))
    grid = _grid(occupancy, question, moved_plan, schedule, able, {}, fresh=False)
    if grid is None:
        raise NoOfferError(
            f"no chair holds course {plan.course_id}'s sessions from {first_day} at {at:%H:%M}"
            f" give or take {window} minutes: {_first_full_day(occupancy, question, moved_plan, schedule, able)}",
            (),
        )
    drafts = [_Draft.judged(question, grid, choice) for choice in _choices(grid, question.costs)]
    return tuple(draft.build() for draft in _shown(drafts, count))


def _at_time(plan: Plan, at: dt.time) -> Plan:
    """A course's plan at another time of day, for an offer that moves its sessions: its
    first visit as long as a regular session where the longer one would not fit then (the
    sessions moved say what fits; the plan only names the time)."""
    try:
        return attrs.evolve(plan, at=at)
    except TmsScheduleError:
        regular = attrs.evolve(plan.protocol, first_session=plan.protocol.session)
        return attrs.evolve(plan, protocol=regular, at=at)


def _moved_to(sessions: Sequence[Session], at: dt.time, zone: Any) -> list[Session]:
    """``sessions`` on their own days, each day's first one at ``at`` and the day's
    others as far after it as they were."""
    moved: list[Session] = []
    first_of: dict[dt.date, dt.datetime] = {}
    for session in sorted(sessions, key=lambda s: s.start.astimezone(dt.UTC)):
        day = session.start.astimezone(zone).date()
        if day not in first_of:
            first_of[day] = session.start
        # Elapsed time from the day's first session, in UTC: a DST day keeps its spacing.
        offset = session.start.astimezone(dt.UTC) - first_of[day].astimezone(dt.UTC)
        start = dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC) + offset
        length = session.end.astimezone(dt.UTC) - session.start.astimezone(dt.UTC)
        moved.append(
            session.evolve(start=start.astimezone(zone), end=(start + length).astimezone(zone))
        )
    return moved


def _first_full_day(
    occupancy: Occupancy, question: _Question, plan: Plan, schedule: Schedule, able: Sequence[Chair]
) -> str:
    """The first day of ``schedule`` that no chair holds at any time of the window, in
    words."""
    zone = occupancy.clinic.zone
    days: dict[dt.date, list[Session]] = {}
    for session in schedule.sessions:
        days.setdefault(session.start.astimezone(zone).date(), []).append(session)
    for day, sessions in days.items():
        one = attrs.evolve(schedule, sessions=tuple(sessions))
        if _grid(occupancy, question, plan, one, able, {}, fresh=False) is None:
            return f"no chair that runs {plan.protocol.id} is free on {short_day(day)}"
    return "no chair is free then"


def _able_chairs(occupancy: Occupancy, question: _Question) -> list[Chair]:
    """The chairs that can run the protocol; none, or a chair asked for that cannot, is
    refused."""
    protocol, chair = question.protocol, question.chair
    able = occupancy.able(protocol)
    if not able:
        raise NoOfferError(
            f"protocol: no chair runs {protocol.id} (it needs"
            f" {', '.join(sorted(protocol.requires))}); chairs run:"
            f" {', '.join(sorted({t for c in occupancy.chairs.values() for t in c.runs}))}"
        )
    if chair is not None:
        if chair not in occupancy.chairs:
            raise NoOfferError(
                f"chair: no chair {chair!r}; chairs: {', '.join(sorted(occupancy.chairs))}"
            )
        if not occupancy.chairs[chair].can_run(protocol):
            raise NoOfferError(f"chair: {chair} cannot run {protocol.id}")
    return list(able)


def _shown(candidates: list[_Draft], count: int) -> list[_Draft]:
    """The ``count`` offers shown, by rank: the best, the earliest start and the best
    offer with no trade-off but its start lead, when they exist."""
    ranked = sorted(candidates, key=_Draft.rank)
    earliest = min(candidates, key=lambda d: (d.grid.start, *d.rank()))
    exact = [d for d in ranked if all(t.startswith("starts ") for t in d.tradeoffs)]
    chosen: list[_Draft] = []
    for draft in [*ranked[:1], earliest, *exact[:1], *ranked]:
        if draft not in chosen:
            chosen.append(draft)
        if len(chosen) == count:
            break
    return sorted(chosen, key=_Draft.rank)


def _start_dates(occupancy: Occupancy, question: _Question) -> list[Plan]:
    """Plans at the first ``dates`` days a course can start on (their sessions expanded)."""
    plans: list[Plan] = []
    day = question.earliest
    tries = 0
    while len(plans) < question.dates and tries < 366:
        tries += 1
        clinic_day = occupancy.clinic.day(day)
        if clinic_day.hours is None or clinic_day.catch_up_only:
            day += dt.timedelta(days=1)
            continue
        try:
            plan = _plan_in_window(occupancy, question, day)
        except BlockSplitError as error:
            if error.next_start is None:
                break
            day = max(error.next_start, day + dt.timedelta(days=1))
            continue
        except TmsScheduleError:
            day += dt.timedelta(days=1)
            continue
        if plan.start != day:  # the course's first day is later (a cluster's two days)
            if plans and plans[-1].start >= plan.start:
                day += dt.timedelta(days=1)
                continue  # offered already
            day = plan.start
        plans.append(plan)
        day += dt.timedelta(days=1)
    return plans


def _why_no_plan(occupancy: Occupancy, question: _Question) -> str:
    """What the plan at the earliest open day says is wrong with the asked time."""
    day = question.earliest
    for _ in range(366):
        clinic_day = occupancy.clinic.day(day)
        if clinic_day.hours is not None and not clinic_day.catch_up_only:
            try:
                _plan_in_window(occupancy, question, day)
            except TmsScheduleError as error:
                return str(error)
            break
        day += dt.timedelta(days=1)
    return "the clinic has no open day for it within a year"


def _plan_in_window(occupancy: Occupancy, question: _Question, day: dt.date) -> Plan:
    """The plan starting on ``day`` at the asked time, or, when that time cannot hold a
    day's sessions (ten accelerated sessions from 09:00 in a clinic that closes at 18:00),
    at the nearest time of the window that can; raises the asked time's error if none."""
    plan = Plan(question.protocol, occupancy.clinic, day, question.at, OFFER_COURSE)
    try:
        return _from_first_day(plan, plan.expand())
    except BlockSplitError:
        raise
    except TmsScheduleError as error:
        low, width = _shifts(question)
        nearest = sorted((low + k * question.step for k in range(width)), key=lambda m: (abs(m), m))
        asked = dt.datetime.combine(day, question.at)
        for shift in nearest[1:]:
            moment = asked + dt.timedelta(minutes=shift)
            if moment.date() != day:
                continue  # the window does not run past midnight
            other = attrs.evolve(plan, at=moment.time())
            try:
                return _from_first_day(other, other.expand())
            except TmsScheduleError:
                continue
        raise error from None


def _from_first_day(plan: Plan, schedule: Schedule) -> Plan:
    """The plan from the day its first session (of ``schedule``, the plan's own) falls on:
    an offer starts when the course does, and its later sessions count from there (a
    maintenance cluster needs two open days in a row, so a course asked for on a Friday
    starts on Monday)."""
    first = schedule.first.start.astimezone(plan.clinic.zone).date()
    if first == plan.start:
        return plan
    moved = attrs.evolve(plan, start=first)
    try:
        if moved.expand().first.start.astimezone(plan.clinic.zone).date() == first:
            return moved
    except TmsScheduleError:
        pass
    return plan


def _shifts(question: _Question) -> tuple[int, int]:
    """The lowest shift (minutes) and the number of shifts across the window."""
    steps = question.window // question.step
    return -steps * question.step, 2 * steps + 1


_Masks = dict[tuple[str, dt.date, tuple[tuple[int, int], ...]], int]


@attrs.frozen
class _Grid:
    """A start date's course as the strategies see it: for each day of the course and
    each chair that can run it, the bit mask of the shifts that fit (bit ``k``: the day's
    sessions moved by ``low + k * step`` minutes from the time asked for).

    Attributes:
        plan: the start date's plan.
        schedule: its sessions at the time asked for.
        days: the course's days, in order, with their sessions.
        masks: ``masks[d][c]``, day ``d``'s mask on chair ``c``.
        chairs: the chairs' ids, by index.
        low, step, width: the shifts (see :func:`_shifts`).
        order: the shifts' indices, the nearest to the time asked for first.
        chair_order: the chairs' indices, the chair asked for first.
        fresh: a new course's (its plan gives its sessions), not a course's sessions
            moved to another time.
    """

    plan: Plan
    schedule: Schedule
    days: tuple[tuple[dt.date, tuple[Session, ...]], ...]
    masks: tuple[tuple[int, ...], ...]
    chairs: tuple[str, ...]
    low: int
    step: int
    width: int
    order: tuple[int, ...]
    chair_order: tuple[int, ...]
    fresh: bool = True

    @property
    def start(self) -> dt.date:
        """The start the offer is judged by: a new course's plan's, or the first day a
        course's sessions move on."""
        return self.plan.start if self.fresh else self.days[0][0]

    def fitting(self, k: int) -> list[list[bool]]:
        """Per day, per chair: whether shift ``k`` fits."""
        bit = 1 << k
        return [[bool(m & bit) for m in row] for row in self.masks]

    def nearest(self, mask: int, main: int) -> int:
        """The shift in ``mask`` nearest to ``main`` (the earlier one on a tie)."""
        for distance in range(self.width):
            for k in (main - distance, main + distance):
                if 0 <= k < self.width and mask & (1 << k):
                    return k
        raise AssertionError("an empty mask")

    def minutes(self, k: int) -> int:
        """Shift ``k`` in minutes from the time asked for."""
        return self.low + k * self.step


def _offers_on(
    occupancy: Occupancy,
    question: _Question,
    plan: Plan,
    able: Sequence[Chair],
    masks_seen: _Masks | None = None,
) -> list[_Draft]:
    """The offers one start date gives: one from each strategy that holds the course."""
    schedule = _at_asked_time(plan, question, occupancy.clinic.zone)
    grid = _grid(
        occupancy, question, plan, schedule, able, {} if masks_seen is None else masks_seen
    )
    if grid is None:
        return []
    return [_Draft.judged(question, grid, choice) for choice in _choices(grid, question.costs)]


def _grid(
    occupancy: Occupancy,
    question: _Question,
    plan: Plan,
    schedule: Schedule,
    able: Sequence[Chair],
    seen: _Masks,
    *,
    fresh: bool = True,
) -> _Grid | None:
    """The masks of ``schedule``'s days (see :class:`_Grid`; the sessions at the time
    asked for), or ``None`` when a day has no chair at any time of the window."""
    days: dict[dt.date, list[Session]] = {}
    for session in schedule.sessions:
        days.setdefault(session.start.astimezone(occupancy.clinic.zone).date(), []).append(session)
    low, width = _shifts(question)
    blocks = block_phases(question.protocol)
    masks: list[tuple[int, ...]] = []
    for day, sessions in days.items():
        spans = [(minute(s.start), minute(s.end)) for s in sessions]
        if len(spans) > 1 and any(s.phase in blocks for s in sessions):
            spans = [(spans[0][0], spans[-1][1])]  # the chair is the course's all those hours
        row = []
        for chair in able:  # start dates share most days: each day's masks worked out once
            key = (chair.id, day, tuple(spans))
            mask = seen.get(key)
            if mask is None:
                mask = seen[key] = occupancy.masks(chair, day, spans, low, question.step, width)
            row.append(mask)
        if day == question.today:
            row = [m & _not_before(question, spans[0][0], low, width) for m in row]
        if not any(row):
            return None  # a day no chair can hold at any time in the window
        masks.append(tuple(row))
    chairs = tuple(c.id for c in able)
    preferred = chairs.index(question.chair) if question.chair in chairs else None
    return _Grid(
        plan,
        schedule,
        tuple((day, tuple(sessions)) for day, sessions in days.items()),
        tuple(masks),
        chairs,
        low,
        question.step,
        width,
        tuple(sorted(range(width), key=lambda k: (abs(low + k * question.step), k))),
        tuple(sorted(range(len(chairs)), key=lambda i: (i != preferred, i))),
        fresh,
    )


def _at_asked_time(plan: Plan, question: _Question, zone: Any) -> Schedule:
    """The plan's sessions, read at the time asked for: a plan at another time of the
    window (see :func:`_plan_in_window`) is shifted back, so every shift counts from the
    time asked for."""
    schedule = plan.expand()
    offset = _minutes(plan.at) - _minutes(question.at)
    if not offset:
        return schedule
    back = dt.timedelta(minutes=-offset)
    return attrs.evolve(
        schedule,
        sessions=tuple(
            s.evolve(
                start=(s.start.astimezone(dt.UTC) + back).astimezone(zone),
                end=(s.end.astimezone(dt.UTC) + back).astimezone(zone),
            )
            for s in schedule.sessions
        ),
    )


def _not_before(question: _Question, first: int, low: int, width: int) -> int:
    """The shifts that start a day's first session (at minute ``first``) no earlier than
    now."""
    assert question.not_before is not None
    lowest = max(0, -((low - (question.not_before - first)) // question.step))
    return ((1 << width) - 1) >> lowest << lowest


# -- the strategies ---------------------------------------------------------------------------


class _Choice(NamedTuple):
    """A shift index and a chair index for each day of the course."""

    shifts: tuple[int, ...]
    seats: tuple[int, ...]


class Strategy(NamedTuple):
    """A named way of choosing a time and a chair for every day of a course.

    Attributes:
        name: what it keeps and what it changes, in words.
        choose: the choice it makes over a start date's masks, by the cost model, or
            ``None`` when it cannot hold the course.
        last_resort: tried only when no other strategy holds the course.
    """

    name: str
    choose: Callable[[_Grid, CostModel], _Choice | None]
    last_resort: bool = False


def _one_time_one_chair(grid: _Grid, costs: CostModel) -> _Choice | None:
    """The time nearest the one asked for that one chair holds every day (the chair asked
    for first)."""
    days = len(grid.masks)
    for k in grid.order:
        bit = 1 << k
        for c in grid.chair_order:
            if all(row[c] & bit for row in grid.masks):
                return _Choice((k,) * days, (c,) * days)
    return None


def _one_time_chairs_change(grid: _Grid, costs: CostModel) -> _Choice | None:
    """The time nearest the one asked for that some chair holds every day, on the chairs
    that change the least."""
    for k in grid.order:
        allowed = grid.fitting(k)
        if all(any(row) for row in allowed):
            return _Choice((k,) * len(allowed), _fewest_changes(allowed, grid.chair_order))
    return None


def _one_chair_times_change(grid: _Grid, costs: CostModel) -> _Choice | None:
    """On one chair, each day at its time nearest the chair's most common one: the chair
    whose days at other times cost the least."""
    best: tuple[float, _Choice] | None = None
    for c in grid.chair_order:
        if not all(row[c] for row in grid.masks):
            continue
        main = max(
            grid.order,
            key=lambda k: (sum(1 for row in grid.masks if row[c] & (1 << k)), -grid.order.index(k)),
        )
        shifts = tuple(grid.nearest(row[c], main) for row in grid.masks)
        cost = sum(costs.day_at(grid.step * (k - main)) for k in shifts)
        if best is None or cost < best[0]:
            best = (cost, _Choice(shifts, (c,) * len(shifts)))
    return None if best is None else best[1]


def _both_change(grid: _Grid, costs: CostModel) -> _Choice:
    """Day by day, the chair and time that cost the least from the time asked for and the
    chair of the day before."""
    shifts: list[int] = []
    seats: list[int] = []
    last = grid.chair_order[0]
    main = grid.order[0]
    for row in grid.masks:
        options = [(c, grid.nearest(row[c], main)) for c in grid.chair_order if row[c]]
        c, k = min(
            options,
            key=lambda o: (
                costs.day_at(grid.step * (o[1] - main))
                + (costs.chair_change if o[0] != last else 0.0),
                o[0] != last,
            ),
        )
        shifts.append(k)
        seats.append(c)
        last = c
    return _Choice(tuple(shifts), tuple(seats))


#: The search's strategies, in the order they are tried (see the module).
STRATEGIES: tuple[Strategy, ...] = (
    Strategy("one time, one chair", _one_time_one_chair),
    Strategy("one time, chairs change", _one_time_chairs_change),
    Strategy("one chair, times change", _one_chair_times_change),
    Strategy("both change", _both_change, last_resort=True),
)


def _choices(grid: _Grid, costs: CostModel) -> list[_Choice]:
    """What each strategy chooses; the last resorts only when no other holds the course."""
    found: list[_Choice] = []
    for strategy in STRATEGIES:
        if strategy.last_resort and found:
            continue
        choice = strategy.choose(grid, costs)
        if choice is not None:
            found.append(choice)
    return found


def _fewest_changes(allowed: list[list[bool]], chair_order: Sequence[int]) -> tuple[int, ...]:
    """A chair per day (allowed there) with the fewest changes; ties to the earlier chairs
    of ``chair_order``."""
    rank = {c: i for i, c in enumerate(chair_order)}
    size = len(allowed[0])
    inf = 10**9
    cost = [0 if allowed[0][c] else inf for c in range(size)]
    back: list[list[int]] = []
    for row in allowed[1:]:
        best = min(range(size), key=lambda c: (cost[c], rank[c]))
        new, came = [], []
        for c in range(size):
            if not row[c]:
                new.append(inf)
                came.append(c)
                continue
            stay, switch = cost[c], cost[best] + 1
            if stay <= switch:
                new.append(stay)
                came.append(c)
            else:
                new.append(switch)
                came.append(best)
        cost = new
        back.append(came)
    end = min(range(size), key=lambda c: (cost[c], rank[c]))
    path = [end]
    for came in reversed(back):
        path.append(came[path[-1]])
    return tuple(reversed(path))


# -- judging and writing out ---------------------------------------------------------------------


@attrs.frozen(eq=False)
class _Draft:
    """An offer judged but not yet written out (its cost and trade-offs are all a ranking
    needs; only the offers shown are built in full)."""

    question: _Question
    grid: _Grid
    minutes: tuple[int, ...]
    seats: tuple[str, ...]
    main: int
    cost: float
    tradeoffs: tuple[str, ...]

    @classmethod
    def judged(cls, question: _Question, grid: _Grid, choice: _Choice) -> _Draft:
        """``choice`` priced by the question's cost model."""
        minutes = tuple(grid.minutes(k) for k in choice.shifts)
        seats = tuple(grid.chairs[c] for c in choice.seats)
        main, cost, tradeoffs = question.costs.judge(question, grid.start, minutes, seats)
        return cls(question, grid, minutes, seats, main, cost, tradeoffs)

    @property
    def plan(self) -> Plan:
        return self.grid.plan

    def rank(self) -> tuple[float, dt.date, tuple[int, ...], tuple[str, ...]]:
        return (self.cost, self.grid.start, self.minutes, self.seats)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Draft) and self.rank() == other.rank()

    def __hash__(self) -> int:
        return hash(self.rank())

    def build(self) -> Offer:
        """The offer in full: each day's sessions at its shift, on its chair."""
        plan, schedule, main = self.plan, self.grid.schedule, self.main
        zone = plan.clinic.zone
        moved: list[Session] = []
        seat_of: dict[int, str] = {}
        for (_, sessions), shift, chair in zip(
            self.grid.days, self.minutes, self.seats, strict=True
        ):
            delta = dt.timedelta(minutes=shift)
            for session in sessions:
                start = (session.start.astimezone(dt.UTC) + delta).astimezone(zone)
                end = (session.end.astimezone(dt.UTC) + delta).astimezone(zone)
                moved.append(session.evolve(start=start, end=end))
                seat_of[session.number] = chair
        # A new course's numbers are in time order; a course's moved sessions, by time.
        moved.sort(key=lambda s: s.number if self.grid.fresh else (s.start, s.number))
        if self.grid.fresh:
            main_plan, base = self._main_plan(plan, schedule, main, moved)
        else:
            main_plan, base = _at_time(plan, _shifted(self.question.at, main)), schedule
        booked = attrs.evolve(base, sessions=tuple(moved))
        seat_pairs = tuple(sorted(seat_of.items()))
        key = _fingerprint(main_plan, booked, seat_pairs)
        return Offer(main_plan, booked, seat_pairs, self.tradeoffs, self.cost, key)

    def _main_plan(
        self, plan: Plan, schedule: Schedule, main: int, moved: list[Session]
    ) -> tuple[Plan, Schedule]:
        """The plan at the offer's main time and its schedule, each day shifted from there;
        the asked time's where the main time cannot hold every day (a long first visit)
        or changes the days."""
        main_plan = attrs.evolve(plan, at=_shifted(self.question.at, main))
        try:
            base = main_plan.expand() if main else schedule
        except TmsScheduleError:
            return plan, schedule
        base_times = {s.number: s for s in base.sessions}
        if len(base_times) != len(moved) or any(base_times[s.number].date != s.date for s in moved):
            return plan, schedule
        return main_plan, base


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def _shifted(at: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 3), at) + dt.timedelta(minutes=minutes)).time()


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _fingerprint(plan: Plan, schedule: Schedule, seats: tuple[tuple[int, str], ...]) -> str:
    data: Any = {
        "protocol": plan.protocol.id,
        "phases": [repr(p) for p in plan.protocol.phases],
        "sessions": [(s.number, s.start.isoformat(), s.end.isoformat()) for s in schedule],
        "seats": seats,
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _next_dates(
    occupancy: Occupancy, question: _Question, searched: list[Plan], able: Sequence[Chair]
) -> tuple[dt.date, ...]:
    """The first start dates after the searched ones that could hold the course (up to 3,
    within 120 days)."""
    after = (searched[-1].start if searched else question.earliest) + dt.timedelta(days=1)
    found: list[dt.date] = []
    limit = after + dt.timedelta(days=120)
    day = after
    while day <= limit and len(found) < 3:
        ahead = attrs.evolve(question, earliest=day, dates=1)
        plans = _start_dates(occupancy, ahead)
        if not plans:
            break
        if _offers_on(occupancy, question, plans[0], able):
            found.append(plans[0].start)
        day = plans[0].start + dt.timedelta(days=1)
    return tuple(found)
