"""JSON and CSV exports of a schedule: stable columns, lossless round trip, strict loader."""

from __future__ import annotations

import copy
import csv
import io
import json

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from cases import expand_or_skip
from strategies import plans
from tms_schedule import ClinicCalendar, Plan, ScheduleFormatError
from tms_schedule.export.csv import CSV_COLUMNS
from tms_schedule.export.json import (
    schedule_from_data,
    schedule_from_json,
    schedule_to_dict,
    schedules_from_data,
)
from tms_schedule.export.uid import session_uid

SCHEDULE = Plan(
    "standard-10hz",
    ClinicCalendar("America/Denver", holidays="US-CO"),
    "2026-11-16",
    "09:00",
    "c-1",
).expand()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_json_round_trip_is_lossless(plan: Plan) -> None:
    schedule = expand_or_skip(plan)
    again = schedule_from_json(schedule.to_json())
    assert again == schedule
    assert [s.start.tzinfo for s in again] == [s.start.tzinfo for s in schedule]
    assert again.to_json() == schedule.to_json()


def test_revisions_read_together_are_each_read_as_alone_and_each_checked() -> None:
    # A course's revisions share most sessions: each is read once, and checked once.
    moved = [s.evolve(start=s.start.replace(hour=10), end=s.end.replace(hour=10)) for s in SCHEDULE]
    later = attrs.evolve(SCHEDULE, sessions=(*SCHEDULE.sessions[:20], *moved[20:]))
    documents = [schedule_to_dict(SCHEDULE), schedule_to_dict(later)]
    together = schedules_from_data(documents)
    assert together == (SCHEDULE, later)
    assert together == tuple(schedule_from_data(d) for d in documents)
    assert together[1].sessions[5] is together[0].sessions[5]
    assert together[1].sessions[25] is not together[0].sessions[25]
    for field, value, message in [
        ("end", documents[1]["sessions"][3]["start"], r"sessions\[3\]\.end: must be after start"),
        ("sequence", True, r"sessions\[3\]\.sequence: must be int, got True"),
        ("number", 4.0, r"sessions\[3\]\.number: must be int, got 4\.0"),
        ("milestones", [1], r"sessions\[3\]\.milestones: must be a list of strings"),
    ]:
        damaged = copy.deepcopy(documents)
        damaged[1]["sessions"][3][field] = value  # the first revision's stays as it was
        with pytest.raises(ScheduleFormatError, match=message):
            schedules_from_data(damaged)
    with pytest.raises(ScheduleFormatError, match="schedule: must be a JSON object"):
        schedules_from_data([documents[0], []])


def test_csv_has_the_documented_columns_one_row_per_session() -> None:
    rows = list(csv.DictReader(io.StringIO(SCHEDULE.to_csv())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 36
    assert rows[0] == {
        "course_id": "c-1",
        "number": "1",
        "phase": "acute",
        "phase_number": "1",
        "date": "2026-11-16",
        "start": "09:00",
        "end": "10:30",
        "timezone": "America/Denver",
        "start_utc": "2026-11-16T16:00:00Z",
        "uid": session_uid("c-1", 1),
        "status": "scheduled",
        "sequence": "0",
        "cpt": "",
        "milestones": "",
    }
    assert SCHEDULE.to_csv().count("\r\n") == 37


def _doc(**changes: object) -> str:
    data = json.loads(SCHEDULE.to_json())
    data.update(changes)
    return json.dumps(data)


def _session(**changes: object) -> str:
    data = json.loads(SCHEDULE.to_json())
    data["sessions"][3].update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "schedule: not valid JSON"),
        ('{"n": ' + "9" * 5000 + "}", "schedule: not valid JSON .*a number longer than 4300"),
        (b'{"n": "\xe9"}', "schedule: not valid JSON .*: not UTF-8 text"),
        ("[]", "schedule: must be a JSON object"),
        (json.dumps({"hello": 1}), "format: must be 'tms_schedule/schedule'"),
        (_doc(version=2), "version: this tms_schedule reads version 1, got 2"),
        (_doc(timezone="Mars/Base"), "timezone: unknown IANA timezone"),
        (_doc(sessions="many"), "schedule.sessions: must be list"),
        (_session(start="yesterday"), r"sessions\[3\].start: must be ISO 8601"),
        (_session(start="2026-11-19T09:00:00"), r"sessions\[3\].start: must carry a UTC offset"),
        (
            _session(start="2026-11-19T09:00:00+01:00"),
            r"sessions\[3\].start: offset \+0100 does not match",
        ),
        (
            _session(number=2),
            r"sessions\[3\].number: must be a whole number from 1 to 100000 not used before, got 2",
        ),
        (
            _session(start="2026-11-02T09:00:00-07:00", end="2026-11-02T09:40:00-07:00"),
            r"sessions\[3\].start: sessions must be in order",
        ),
        (_session(cpt=90868), r"sessions\[3\].cpt: must be a string or null"),
        (
            _session(status="maybe"),
            r"sessions\[3\].status: must be one of scheduled, attended, missed, cancelled",
        ),
        (_session(end="2026-11-19T08:00:00-07:00"), r"sessions\[3\].end: must be after start"),
        (_session(sequence=True), r"sessions\[3\].sequence: must be int"),
        (_session(sequence=-1), r"sessions\[3\].sequence: must be a whole number from 0 to"),
        (_session(sequence=2**31), r"sessions\[3\].sequence: must be a whole number from 0 to"),
        (_session(phase_number=0), r"sessions\[3\].phase_number: must be a whole number from 1"),
        (_session(phase_number=-3), r"sessions\[3\].phase_number: must be a whole number from 1"),
        (_session(number=-4), r"sessions\[3\].number: must be a whole number from 1"),
        (_session(phase="acute\x1b[2J"), r"sessions\[3\].phase: must be one line of text"),
        (_session(milestones=["PHQ-9\ndue"]), r"sessions\[3\].milestones\[0\]: must be one line"),
        (_doc(timezone="localtime"), "timezone: unknown IANA timezone 'localtime'"),
        (_doc(course_id="c-1 "), "schedule.course_id: must be 1 to 128 printable ASCII"),
        (_doc(protocol="itbs\x1b]0;x\x07"), "schedule.protocol: must be one line of text"),
    ],
)
def test_a_malformed_or_foreign_document_is_refused_whole(text: str, message: str) -> None:
    with pytest.raises(ScheduleFormatError, match=message):
        schedule_from_json(text)


def test_truncated_document_is_refused() -> None:
    text = SCHEDULE.to_json()
    with pytest.raises(ScheduleFormatError):
        schedule_from_json(text[: len(text) // 2])


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_text_cells_a_spreadsheet_would_run_are_neutralised(start: str) -> None:
    """OWASP's rule: a cell starting like a formula gets a single quote in front, whichever
    column it is in; the numbers and times are left as they are."""
    session = SCHEDULE.first._replace(
        phase=f"{start}phase", cpt=f"{start}90868", milestones=(f"{start}HYPERLINK(x)", "later")
    )
    schedule = attrs.evolve(SCHEDULE, course_id=f"{start}c-1", sessions=(session,))
    (row,) = csv.DictReader(io.StringIO(schedule.to_csv()))
    assert row["course_id"] == f"'{start}c-1"
    assert row["phase"] == f"'{start}phase"
    assert row["cpt"] == f"'{start}90868"
    assert row["milestones"] == f"'{start}HYPERLINK(x); later"
    assert row["uid"] == session_uid(f"{start}c-1", 1)  # of the id itself
    assert (row["number"], row["sequence"], row["start"]) == ("1", "0", "09:00")


def test_csv_leaves_plain_text_alone() -> None:
    (row, *_) = csv.DictReader(io.StringIO(SCHEDULE.to_csv()))
    assert row["course_id"] == "c-1" and row["phase"] == "acute"
