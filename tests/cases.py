"""What several test files share: the golden clinic and starts, the one way to expand a
random plan that a documented refusal may stop, and schedules with sessions recorded."""

from __future__ import annotations

import datetime as dt

import attrs
from hypothesis import assume

from tms_schedule import (
    BlockSplitError,
    ClinicCalendar,
    HolidayDataError,
    InvalidPlanError,
    NoOpenDayError,
    Plan,
    Schedule,
)

#: The clinic every golden file and per-protocol test uses.
CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
# An SNT block from 16 or 23 November would be split by Thanksgiving: SNT starts on the 30th.
STARTS = {"snt": (dt.date(2026, 11, 30), dt.time(8))}
#: The refusals a random plan may meet: a time that never fits, a split block, no open day.
EXPECTED = (BlockSplitError, InvalidPlanError, NoOpenDayError, HolidayDataError)


def golden_start(protocol_id: str) -> tuple[dt.date, dt.time]:
    """The start date and time of a protocol's golden course."""
    return STARTS.get(protocol_id, (dt.date(2026, 11, 16), dt.time(9)))


def expand_or_skip(plan: Plan) -> Schedule:
    """Expand; a documented refusal (time does not fit, block split, no open day) is fine."""
    try:
        return plan.expand()
    except EXPECTED as error:
        assume(False)
        raise AssertionError from error


def recorded(schedule: Schedule, **statuses: list[int]) -> Schedule:
    """``schedule`` with the sessions at the given indexes attended, missed or cancelled
    (``recorded(s, missed=[1, 2])``), as a course records them: built directly, so views
    are tested apart from the course's rules."""
    sessions = list(schedule.sessions)
    for status, indexes in statuses.items():
        for i in indexes:
            sessions[i] = sessions[i].evolve(status=status, sequence=1)
    return attrs.evolve(schedule, sessions=tuple(sessions))
