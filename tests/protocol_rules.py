"""One test base for every built-in protocol: the design's rules of expansion, and the
protocol's golden answer files.

As a calendar library checks each exchange with one shared base and a file of answers per
exchange, each built-in protocol has a class in ``tests/test_protocols.py`` that names it
(and, where its golden course starts elsewhere, the start): the base runs the rules the
design says the expansion must keep (``design.md``, "Rules the expansion must keep", 1 to 7)
on it, and compares its course for the golden clinic with ``tests/golden/plans/<id>.json``
and ``.txt``, reviewed by eye against the protocol's sources. After a deliberate change,
regenerate the answers with::

    TMS_SCHEDULE_REGENERATE=1 python -m pytest tests/test_protocols.py

and review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from cases import CLINIC, golden_start
from tms_schedule import (
    Accelerated,
    BlockSplitError,
    ClinicCalendar,
    Closure,
    HolidayDataError,
    InvalidPlanError,
    NoOpenDayError,
    Periodic,
    Plan,
    Protocol,
    Schedule,
    Taper,
    Weekly,
    get_protocol,
)

ANSWERS = Path(__file__).parent / "golden" / "plans"
REGENERATE = os.environ.get("TMS_SCHEDULE_REGENERATE") == "1"
UTC = dt.UTC
#: Denver's clocks go back on 1 November 2026: a course that starts on 19 October runs
#: across the change.
BEFORE_FALL_BACK = dt.date(2026, 10, 19)


def same_day_break(protocol: Protocol, phase: str) -> dt.timedelta | None:
    """The least break between two sessions of ``phase`` on one day (``None``: one a day)."""
    found = next(p for p in protocol.phases if p.name == phase)
    if isinstance(found, Accelerated) or (
        isinstance(found, Periodic) and found.cluster_sessions > found.cluster_days
    ):
        return found.interval
    return None


def blocks_of_days(protocol: Protocol) -> bool:
    """Whether the protocol has a block of consecutive days a closed day could split."""
    return any(isinstance(p, Accelerated) and p.consecutive for p in protocol.phases)


def clusters_of_days(protocol: Protocol) -> bool:
    """Whether the protocol's sessions come in clusters over consecutive days."""
    return any(isinstance(p, Periodic) and p.cluster_days > 1 for p in protocol.phases)


class ProtocolRules:
    """The rules every built-in protocol keeps. A subclass names ``protocol_id``; its golden
    course starts on the day and at the time :func:`cases.golden_start` gives."""

    protocol_id: ClassVar[str]

    # -- the courses the rules are checked on ----------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def protocol(cls) -> Protocol:
        return get_protocol(cls.protocol_id)

    @pytest.fixture(scope="class")
    @classmethod
    def plan(cls, protocol: Protocol) -> Plan:
        start, at = golden_start(cls.protocol_id)
        return Plan(protocol, CLINIC, start, at, f"golden-{cls.protocol_id}")

    @pytest.fixture(scope="class")
    @classmethod
    def schedule(cls, plan: Plan) -> Schedule:
        return plan.expand()

    @pytest.fixture(scope="class")
    @classmethod
    def across_dst(cls, plan: Plan) -> Schedule:
        """The course from a day that takes it across the end of daylight saving time."""
        start = BEFORE_FALL_BACK + (plan.start - dt.date(2026, 11, 16))
        return attrs.evolve(plan, start=start).expand()

    # -- the golden answers ------------------------------------------------------------------

    @pytest.mark.parametrize("fmt", ["json", "txt"])
    def test_the_course_is_its_golden_answer(self, schedule: Schedule, fmt: str) -> None:
        actual = schedule.to_json() if fmt == "json" else schedule.to_text()
        path = ANSWERS / f"{self.protocol_id}.{fmt}"
        if REGENERATE:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8", newline="\n")
        assert path.exists(), f"{path.name} is missing; regenerate with TMS_SCHEDULE_REGENERATE=1"
        assert actual == path.read_text(encoding="utf-8")

    # -- rule 1: count delivered sessions, never dates -------------------------------------------

    def test_1_every_session_is_delivered_and_numbered(
        self, protocol: Protocol, schedule: Schedule
    ) -> None:
        assert len(schedule) == protocol.total_sessions == schedule.target
        assert [s.number for s in schedule] == list(range(1, len(schedule) + 1))
        for phase in protocol.phases:
            numbers = [s.phase_number for s in schedule.in_phase(phase.name)]
            assert numbers == list(range(1, phase.total + 1)), phase.name

    def test_1_a_closed_day_moves_its_session_and_never_shortens_the_course(
        self, plan: Plan, schedule: Schedule, protocol: Protocol
    ) -> None:
        for session in (schedule.sessions[1], schedule.sessions[len(schedule) // 2]):
            closed = attrs.evolve(
                plan.clinic, closures=(*plan.clinic.closures, Closure(session.date, reason="Snow"))
            )
            try:
                later = attrs.evolve(plan, clinic=closed).expand()
            except BlockSplitError:
                assert blocks_of_days(protocol)  # refused whole, not shortened
                continue
            assert len(later) == len(schedule)
            assert session.date not in {s.date for s in later}
            assert any(
                d.date == session.date and d.reason == "Snow: clinic closed" for d in later.skipped
            )
            if not any(isinstance(p, Taper | Weekly) for p in protocol.phases):
                assert later.last.start >= schedule.last.start

    # -- rule 2: no session on a closed day, outside the hours, or too close --------------------

    def test_2_no_session_on_a_closed_day_or_outside_the_hours(self, schedule: Schedule) -> None:
        for session in schedule:
            hours = CLINIC.hours_on(session.date)
            assert hours is not None, f"session {session.number} on closed {session.date}"
            assert hours.holds(session.start, session.end), session

    def test_2_sessions_keep_the_breaks_their_phase_asks(
        self, protocol: Protocol, schedule: Schedule
    ) -> None:
        for before, after in itertools.pairwise(schedule.sessions):
            assert before.end.astimezone(UTC) <= after.start.astimezone(UTC)
            if before.date == after.date:
                gap = same_day_break(protocol, after.phase)
                assert gap is not None, f"two {after.phase} sessions on {after.date}"
                assert after.start.astimezone(UTC) - before.end.astimezone(UTC) >= gap

    def test_2_the_first_visit_is_the_long_one(
        self, protocol: Protocol, schedule: Schedule
    ) -> None:
        assert schedule.first.duration == protocol.first_session
        assert {s.duration for s in schedule.sessions[1:]} == {protocol.session}

    # -- rule 3: wall-clock time is kept across DST ------------------------------------------------

    def test_3_the_wall_clock_time_is_kept_across_the_change(
        self, across_dst: Schedule, plan: Plan
    ) -> None:
        firsts = {s.date: s for s in reversed(across_dst.sessions)}
        assert {s.start.time() for s in firsts.values()} == {plan.at}
        if across_dst.first.date < dt.date(2026, 11, 1) < across_dst.last.date:
            assert {s.start.utcoffset() for s in across_dst} == {
                dt.timedelta(hours=-6),
                dt.timedelta(hours=-7),
            }

    # -- rule 5: the same inputs give the same sessions and the same bytes ----------------------

    def test_5_expansion_is_deterministic(self, plan: Plan, schedule: Schedule) -> None:
        again = attrs.evolve(plan).expand()
        assert again == schedule
        assert again.to_json() == schedule.to_json()

    # -- rule 6: bad input fails fast, naming the field --------------------------------------------

    def test_6_a_time_that_never_fits_is_refused_naming_at(self, plan: Plan) -> None:
        with pytest.raises(InvalidPlanError) as refused:
            attrs.evolve(plan, at=dt.time(17, 55)).expand()
        assert refused.value.field == "at"

    def test_6_a_calendar_with_no_open_day_ahead_is_an_error_not_a_hang(self, plan: Plan) -> None:
        shut = ClinicCalendar(
            "America/Denver",
            closures=(Closure(dt.date(2026, 11, 1), dt.date(2029, 10, 31), "Renovation"),),
        )
        with pytest.raises(NoOpenDayError):
            attrs.evolve(plan, clinic=shut).expand()

    # -- rule 7: never past the years the holiday data covers -------------------------------------

    def test_7_a_course_past_the_holiday_data_is_refused(self, plan: Plan) -> None:
        span = CLINIC.holiday_span
        assert span is not None
        with pytest.raises(HolidayDataError, match="covers"):
            attrs.evolve(plan, start=dt.date(span[1], 12, 28)).expand()


# -- rule 4: blocks of consecutive days are not split unless asked ----------------------------


class BlockRules(ProtocolRules):
    """Rule 4 for a protocol with a block of consecutive accelerated days."""

    def test_4_a_block_of_days_is_not_split_unless_the_plan_asks(
        self, plan: Plan, protocol: Protocol
    ) -> None:
        # A block from the Monday of Thanksgiving week would run over the holiday.
        split_by_a_holiday = attrs.evolve(plan, start=dt.date(2026, 11, 23))
        with pytest.raises(BlockSplitError, match="Thanksgiving Day") as refused:
            split_by_a_holiday.expand()
        assert refused.value.field == "start" and refused.value.next_start is not None
        moved = attrs.evolve(plan, start=refused.value.next_start).expand()
        assert moved.first.date == refused.value.next_start
        split = attrs.evolve(split_by_a_holiday, blocks="split").expand()
        assert dt.date(2026, 11, 26) not in {s.date for s in split}
        assert len(split) == protocol.total_sessions


class ClusterRules(ProtocolRules):
    """Rule 4 for a protocol whose sessions come in clusters over consecutive days."""

    def test_4_a_cluster_keeps_its_days_together_around_a_closed_day(
        self, plan: Plan, schedule: Schedule, protocol: Protocol
    ) -> None:
        phase = next(p for p in protocol.phases if isinstance(p, Periodic) and p.cluster_days > 1)
        first = schedule.in_phase(phase.name)[: phase.cluster_sessions]
        days = sorted({s.date for s in first})
        assert days == [days[0] + dt.timedelta(days=k) for k in range(phase.cluster_days)]
        closed = attrs.evolve(
            plan.clinic, closures=(*plan.clinic.closures, Closure(days[-1], reason="Snow"))
        )
        moved = attrs.evolve(plan, clinic=closed).expand().in_phase(phase.name)
        again = sorted({s.date for s in moved[: phase.cluster_sessions]})
        assert days[-1] not in again
        assert again == [again[0] + dt.timedelta(days=k) for k in range(phase.cluster_days)]
