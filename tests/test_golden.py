"""Golden files: every built-in protocol expanded for a fixed clinic from a fixed date.

The files in ``tests/golden/`` were reviewed by eye against reference/protocols.md and are
kept as data. After a deliberate change, regenerate them with::

    TMS_SCHEDULE_REGENERATE=1 python -m pytest tests/test_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from cases import CLINIC, golden_start
from tms_schedule import Plan, protocol_ids

GOLDEN = Path(__file__).parent / "golden" / "plans"
REGENERATE = os.environ.get("TMS_SCHEDULE_REGENERATE") == "1"


@pytest.mark.parametrize("protocol_id", protocol_ids())
@pytest.mark.parametrize("fmt", ["txt", "json"])
def test_builtin_protocol_matches_its_golden_file(protocol_id: str, fmt: str) -> None:
    start, at = golden_start(protocol_id)
    schedule = Plan(protocol_id, CLINIC, start, at, f"golden-{protocol_id}").expand()
    actual = schedule.to_text() if fmt == "txt" else schedule.to_json()
    path = GOLDEN / f"{protocol_id}.{fmt}"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
    assert path.exists(), f"{path.name} is missing; regenerate with TMS_SCHEDULE_REGENERATE=1"
    assert actual == path.read_text(encoding="utf-8")


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
