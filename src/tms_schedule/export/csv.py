"""CSV export: one row per session, with stable, documented columns.

============== ===============================================================
column         meaning
============== ===============================================================
course_id      the caller's opaque course id
number         position in the course, from 1
phase          protocol phase name (acute, taper, ...)
phase_number   position within the phase, from 1
date           local date, YYYY-MM-DD
start          local start time, HH:MM
end            local end time, HH:MM
timezone       the clinic's IANA zone
start_utc      the start instant in UTC, YYYY-MM-DDTHH:MM:SSZ
uid            the session's calendar UID (the same as in the .ics file)
status         scheduled, attended, missed or cancelled
sequence       the revision counter (iCalendar SEQUENCE)
cpt            the billing code, when a course assigns one (90867, 90868, 90869)
milestones     what is due at the session, separated by "; " (e.g. PHQ-9 due)
============== ===============================================================

Columns may be added at the end later; these keep their names, order and meaning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from tms_schedule.export.uid import session_uid
from tms_schedule.schedule import Schedule

__all__ = ["CSV_COLUMNS", "schedule_to_csv"]

CSV_COLUMNS = (
    "course_id",
    "number",
    "phase",
    "phase_number",
    "date",
    "start",
    "end",
    "timezone",
    "start_utc",
    "uid",
    "status",
    "sequence",
    "cpt",
    "milestones",
)


def schedule_to_csv(schedule: Schedule, *, uid_key: str | bytes | None = None) -> str:
    """The schedule as CSV text with a header row and ``\\r\\n`` line ends (RFC 4180).

    ``uid_key`` is the clinic's UID secret, as given to the calendar export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for s in schedule.sessions:
        writer.writerow(
            (
                schedule.course_id,
                s.number,
                s.phase,
                s.phase_number,
                s.start.date().isoformat(),
                f"{s.start:%H:%M}",
                f"{s.end:%H:%M}",
                schedule.timezone,
                s.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                session_uid(schedule.course_id, s.number, uid_key),
                s.status,
                s.sequence,
                s.cpt or "",
                "; ".join(s.milestones),
            )
        )
    return buffer.getvalue()
