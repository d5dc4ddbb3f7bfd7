"""Offers: the best few ways to book a whole new course into the clinic's chairs.

The front desk asks for a protocol, the earliest start, a preferred time with a window
("09:00, give or take an hour") and perhaps a chair. For each start date (the first
``dates`` days a plan can start on) the plan is expanded once; for every day of the course
and every chair that can run it, one bit mask says which shifts of the day's sessions
(every ``step`` minutes across the window) fit the chair's free stretches. The choices are
then bit arithmetic:

1. one time and one chair for every day (nothing to trade off but the start and the time);
2. one time, the chair changing on some days (as few changes as possible);
3. one chair, the time changing on some days (as few days and minutes as possible);
4. both changing, when nothing else holds the course.

Each offer says what it trades off, in words, and holds its full schedule with the chair
of each session. Offers are ranked by a cost of those trade-offs (a day later, ten minutes
off the preferred time, a changed time or chair on one day, the preferred chair missed)
and the search is deterministic: the same book and question give the same offers.
Taking an offer (:meth:`Book.take <tms_schedule.book.Book.take>`) books exactly it, or
fails if the book changed meanwhile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from collections.abc import Sequence
from typing import Any

import attrs

from tms_schedule._dates import short_day
from tms_schedule.book.chairs import Chair
from tms_schedule.book.occupancy import Occupancy, block_phases, minute
from tms_schedule.errors import BlockSplitError, NoOfferError, TmsScheduleError
from tms_schedule.plan import Plan
from tms_schedule.protocol import Protocol
from tms_schedule.schedule import Schedule, Session

__all__ = ["Offer", "find_offers"]

#: A placeholder course id while an offer is not taken.
OFFER_COURSE = "offer"
# The cost of each trade-off, in "minutes of preferred time" (ten minutes off costs 1).
_COST_DAY_LATER = 3.0
_COST_TEN_MINUTES = 1.0
_COST_TIME_DAY = 1.5
_COST_CHAIR_CHANGE = 1.0
_COST_NOT_PREFERRED = 2.0


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
) -> tuple[Offer, ...]:
    """The best ``count`` offers (see the module); none raises :class:`NoOfferError`."""
    question = _Question(protocol, earliest, at, window, step, chair, dates, count)
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
    candidates: list[_Draft] = []
    starts = _start_dates(occupancy, question)
    masks_seen: dict[tuple[str, dt.date, tuple[tuple[int, int], ...]], int] = {}
    for plan in starts:
        candidates += _offers_on(occupancy, question, plan, able, masks_seen)
    if not starts:
        raise NoOfferError(
            f"no start date from {earliest} can hold {protocol.id} at {at:%H:%M} give or take"
            f" {window} minutes: {_why_no_plan(occupancy, question)}",
            (),
        )
    if not candidates:
        later = _next_dates(occupancy, question, starts, able)
        hint = (
            f"; the first start dates that could hold it: {', '.join(map(str, later))}"
            if later
            else ""
        )
        searched = f"{starts[0].start} to {starts[-1].start}" if starts else f"from {earliest}"
        raise NoOfferError(
            f"no chair holds every session of {protocol.id} at {at:%H:%M} give or take"
            f" {window} minutes for a start {searched}{hint}",
            later,
        )
    ranked = sorted(candidates, key=_Draft.rank)
    chosen: list[_Draft] = []
    # The earliest start and the offer with no trade-off lead, when they exist.
    earliest_offer = min(candidates, key=lambda d: (d.plan.start, *d.rank()))
    exact = [d for d in ranked if all(t.startswith("starts ") for t in d.tradeoffs)]
    for draft in [*ranked[:1], earliest_offer, *exact[:1], *ranked]:
        if draft not in chosen:
            chosen.append(draft)
        if len(chosen) == count:
            break
    # Only the offers shown are written out in full.
    return tuple(draft.build() for draft in sorted(chosen, key=_Draft.rank))


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


def _offers_on(
    occupancy: Occupancy,
    question: _Question,
    plan: Plan,
    able: Sequence[Chair],
    masks_seen: dict[tuple[str, dt.date, tuple[tuple[int, int], ...]], int] | None = None,
) -> list[_Draft]:
    if masks_seen is None:
        masks_seen = {}
    schedule = plan.expand()
    zone = occupancy.clinic.zone
    # A plan at another time of the window (see _plan_in_window) is read as the asked
    # time's, shifted: every shift counts from the asked time.
    offset = _minutes(plan.at) - _minutes(question.at)
    if offset:
        back = dt.timedelta(minutes=-offset)
        schedule = attrs.evolve(
            schedule,
            sessions=tuple(
                s.evolve(
                    start=(s.start.astimezone(dt.UTC) + back).astimezone(zone),
                    end=(s.end.astimezone(dt.UTC) + back).astimezone(zone),
                )
                for s in schedule.sessions
            ),
        )
    days: dict[dt.date, list[Session]] = {}
    for session in schedule.sessions:
        days.setdefault(session.start.astimezone(zone).date(), []).append(session)
    low, width = _shifts(question)
    order = sorted(
        range(width), key=lambda k: (abs(low + k * question.step), low + k * question.step)
    )
    chairs = [c.id for c in able]
    # masks[d][c]: the shifts of day d's sessions that fit chair c.
    masks: list[list[int]] = []
    blocks = block_phases(question.protocol)
    for day, sessions in days.items():
        spans = [(minute(s.start), minute(s.end)) for s in sessions]
        if len(spans) > 1 and any(s.phase in blocks for s in sessions):
            spans = [(spans[0][0], spans[-1][1])]  # the chair is the course's all those hours
        row = []
        for chair in able:  # start dates share most days: each day's masks worked out once
            key = (chair.id, day, tuple(spans))
            mask = masks_seen.get(key)
            if mask is None:
                mask = masks_seen[key] = occupancy.masks(
                    chair, day, spans, low, question.step, width
                )
            row.append(mask)
        if not any(row):
            return []  # a day no chair can hold at any time in the window
        masks.append(row)
    day_list = list(days)
    found: list[tuple[list[int], list[int]]] = []  # (shift index per day, chair index per day)
    preferred = chairs.index(question.chair) if question.chair in chairs else None
    chair_order = sorted(range(len(chairs)), key=lambda i: (i != preferred, i))
    # 1. One time, one chair.
    for k in order:
        bit = 1 << k
        for c in chair_order:
            if all(row[c] & bit for row in masks):
                found.append(([k] * len(masks), [c] * len(masks)))
                break
        if found:
            break
    # 2. One time, the chair changing as little as possible.
    for k in order:
        bit = 1 << k
        if all(any(m & bit for m in row) for row in masks):
            path = _fewest_changes([[bool(m & bit) for m in row] for row in masks], chair_order)
            found.append(([k] * len(masks), path))
            break
    # 3. One chair, the time changing on as few days as possible.
    best_three: tuple[float, list[int], list[int]] | None = None
    for c in chair_order:
        if not all(row[c] for row in masks):
            continue
        main = max(
            order, key=lambda k: (sum(1 for row in masks if row[c] & (1 << k)), -order.index(k))
        )
        shifts = [_nearest(row[c], main, width) for row in masks]
        cost = sum(abs(s - main) for s in shifts) + 100 * sum(1 for s in shifts if s != main)
        if best_three is None or cost < best_three[0]:
            best_three = (cost, shifts, [c] * len(masks))
    if best_three is not None:
        found.append((best_three[1], best_three[2]))
    # 4. Both changing: each day its nearest time on the chair used last where it can.
    if not found:
        shifts, seats = [], []
        last = chair_order[0]
        main = order[0]
        for row in masks:
            options = [c for c in [last, *chair_order] if row[c]]
            c = min(options, key=lambda c: (abs(_nearest(row[c], main, width) - main), c != last))
            shifts.append(_nearest(row[c], main, width))
            seats.append(c)
            last = c
        found.append((shifts, seats))
    return [
        _judge(question, plan, schedule, day_list, days, shifts, [chairs[c] for c in seats], low)
        for shifts, seats in found
    ]


def _fewest_changes(allowed: list[list[bool]], chair_order: list[int]) -> list[int]:
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
    return list(reversed(path))


def _nearest(mask: int, main: int, width: int) -> int:
    """The shift in ``mask`` nearest to ``main`` (the earlier one on a tie)."""
    for distance in range(width):
        for k in (main - distance, main + distance):
            if 0 <= k < width and mask & (1 << k):
                return k
    raise AssertionError("an empty mask")


@attrs.frozen(eq=False)
class _Draft:
    """An offer judged but not yet written out (its cost and trade-offs are all a ranking
    needs; only the offers shown are built in full)."""

    question: _Question
    plan: Plan
    schedule: Schedule
    day_list: list[dt.date]
    days: dict[dt.date, list[Session]]
    minutes: tuple[int, ...]
    seats: tuple[str, ...]
    main: int
    cost: float
    tradeoffs: tuple[str, ...]

    def rank(self) -> tuple[float, dt.date, tuple[int, ...], tuple[str, ...]]:
        return (self.cost, self.plan.start, self.minutes, self.seats)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Draft) and self.rank() == other.rank()

    def __hash__(self) -> int:
        return hash(self.rank())

    def build(self) -> Offer:
        plan, schedule, main = self.plan, self.schedule, self.main
        at = _shifted(self.question.at, main)
        zone = plan.clinic.zone
        moved: list[Session] = []
        seat_of: dict[int, str] = {}
        for day, shift, chair in zip(self.day_list, self.minutes, self.seats, strict=True):
            delta = dt.timedelta(minutes=shift)
            for session in self.days[day]:
                start = (session.start.astimezone(dt.UTC) + delta).astimezone(zone)
                end = (session.end.astimezone(dt.UTC) + delta).astimezone(zone)
                moved.append(session.evolve(start=start, end=end))
                seat_of[session.number] = chair
        moved.sort(key=lambda s: s.number)
        main_plan = attrs.evolve(plan, at=at)
        # The schedule as the plan at the main time gives it, each day shifted from there.
        try:
            base = main_plan.expand() if main else schedule
        except TmsScheduleError:  # the main time cannot hold every day (a long first visit)
            main_plan, base = plan, schedule
        base_times = {s.number: s for s in base.sessions}
        if len(base_times) != len(moved) or any(base_times[s.number].date != s.date for s in moved):
            main_plan, base = plan, schedule  # the main time changes the days: the asked one
        booked = attrs.evolve(base, sessions=tuple(moved))
        seat_pairs = tuple(sorted(seat_of.items()))
        key = _fingerprint(main_plan, booked, seat_pairs)
        return Offer(main_plan, booked, seat_pairs, self.tradeoffs, round(self.cost, 3), key)


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def _shifted(at: dt.time, minutes: int) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 3), at) + dt.timedelta(minutes=minutes)).time()


def _judge(
    question: _Question,
    plan: Plan,
    schedule: Schedule,
    day_list: list[dt.date],
    days: dict[dt.date, list[Session]],
    shifts: list[int],
    seats: list[str],
    low: int,
) -> _Draft:
    """What a booking trades off, and its cost."""
    minutes = [low + k * question.step for k in shifts]
    counts: dict[int, int] = {}
    for m in minutes:
        counts[m] = counts.get(m, 0) + 1
    main = max(counts, key=lambda m: (counts[m], -abs(m), -m))
    tradeoffs: list[str] = []
    cost = 0.0
    later = (plan.start - question.earliest).days
    if later:
        tradeoffs.append(_later_text(plan.start, later))
        cost += _COST_DAY_LATER * later
    if main:
        tradeoffs.append(f"at {_shifted(question.at, main):%H:%M} instead of {question.at:%H:%M}")
        cost += _COST_TEN_MINUTES * abs(main) / 10
    off = [m for m in minutes if m != main]
    if off:
        spread = max(abs(m - main) for m in off)
        tradeoffs.append(
            f"the time differs on {len(off)} day{'s' if len(off) != 1 else ''}"
            f" (by up to {spread} minutes)"
        )
        cost += _COST_TIME_DAY * len(off) + _COST_TEN_MINUTES * sum(abs(m - main) for m in off) / 10
    changes = sum(1 for a, b in itertools.pairwise(seats) if a != b)
    if changes:
        tradeoffs.append(f"changes chair on {changes} day{'s' if changes != 1 else ''}")
        cost += _COST_CHAIR_CHANGE * changes
    if question.chair is not None:
        elsewhere = sum(1 for c in seats if c != question.chair)
        if elsewhere:
            tradeoffs.append(
                f"not on {question.chair} on {elsewhere} day{'s' if elsewhere != 1 else ''}"
                if elsewhere < len(seats)
                else f"not on {question.chair}"
            )
            cost += _COST_NOT_PREFERRED * (1 if elsewhere == len(seats) else elsewhere / len(seats))
    return _Draft(
        question,
        plan,
        schedule,
        day_list,
        days,
        tuple(minutes),
        tuple(seats),
        main,
        round(cost, 3),
        tuple(tradeoffs),
    )


def _later_text(start: dt.date, days: int) -> str:
    return (
        f"starts {short_day(start)}, {days} day{'s' if days != 1 else ''} after the earliest date"
    )


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
