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

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some also one that starts with a tab or a carriage return), so a course id, phase name, billing
code or milestone that starts that way (``=HYPERLINK(...)``) could run in the front desk's
spreadsheet. Such a text cell gets a single quote in front (``'=HYPERLINK(...)``), as OWASP
advises for CSV files; the spreadsheet shows the text instead of running it. The numbers,
dates and times are written as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from tms_schedule.export.uid import session_uid
from tms_schedule.schedule import Schedule, Session

__all__ = ["CSV_COLUMNS", "csv_text", "schedule_to_csv", "spreadsheet_text"]

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

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
    return csv_text(CSV_COLUMNS, (_row(schedule, s, uid_key) for s in schedule.sessions))


def _row(schedule: Schedule, s: Session, uid_key: str | bytes | None) -> tuple[str | int, ...]:
    return (
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


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> str:
    """``rows`` under ``header`` as CSV text with ``\\r\\n`` line ends (RFC 4180), every
    text cell that a spreadsheet would run made safe (:func:`spreadsheet_text`), whatever
    column it is in; numbers stay numbers. The day sheet's and chair time's CSV use it too.

    >>> csv_text(("id", "n"), [("=1+2", 3)])
    "id,n\\r\\n'=1+2,3\\r\\n"
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(tuple(spreadsheet_text(v) if isinstance(v, str) else v for v in row))
    return buffer.getvalue()


def spreadsheet_text(value: str) -> str:
    """A text cell a spreadsheet shows rather than runs (see the module's notes).

    >>> spreadsheet_text("=1+2"), spreadsheet_text("-c1"), spreadsheet_text("PHQ-9 due")
    ("'=1+2", "'-c1", 'PHQ-9 due')
    """
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value
