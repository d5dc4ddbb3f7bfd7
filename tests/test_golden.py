"""Golden calendar files: built-in protocols exported to ``.ics`` for a fixed clinic.

The files in ``tests/golden/ics/`` were reviewed by eye and read back by independent
parsers; they are kept as data. (Each protocol's expanded course is its golden answer,
checked with the design's rules in ``tests/test_protocols.py``.) After a deliberate change,
regenerate them with::

    TMS_SCHEDULE_REGENERATE=1 python -m pytest tests/test_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from cases import CLINIC
from tms_schedule import Plan

GOLDEN = Path(__file__).parent / "golden" / "plans"
REGENERATE = os.environ.get("TMS_SCHEDULE_REGENERATE") == "1"


ICS_CASES = {
    # protocol id: (start, time, options) — reviewed by eye, read back by ical.js and libical
    "standard-10hz": (
        "2026-10-19",
        "09:00",
        {
            "clinic_name": "Example Clinic",
            "organizer": "desk@clinic.example",
            "location": "1 Main St, Denver, CO",
        },
    ),
    "snt": ("2026-11-30", "08:00", {"reminders": ["1d"]}),
    "maintenance": (
        "2026-11-16",
        "09:00",
        {"phone": "+1 303 555 0100", "session_numbers": True, "uid_key": "example clinic secret"},
    ),
}


@pytest.mark.parametrize("protocol_id", list(ICS_CASES))
def test_ics_matches_its_golden_file(protocol_id: str) -> None:
    from tms_schedule.export.options import CalendarOptions

    start, at, options = ICS_CASES[protocol_id]
    schedule = Plan(protocol_id, CLINIC, start, at, f"golden-{protocol_id}").expand()
    actual = schedule.to_ics(
        stamp=dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC), options=CalendarOptions(**options)
    )
    path = GOLDEN.parent / "ics" / f"{protocol_id}.ics"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    assert path.exists(), f"{path.name} is missing; regenerate with TMS_SCHEDULE_REGENERATE=1"
    assert actual == path.read_bytes()
