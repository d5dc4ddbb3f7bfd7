"""The day sheet as staff read it: a printable page (``templates/day_sheet.html``), text
for a terminal and CSV for a spreadsheet. What is on it is worked out in
:mod:`tms_schedule.book.sheet`.

The page is one self-contained HTML5 document: one table for the day, a block of rows per
chair, so columns line up from chair to chair and the column heads repeat on each printed
page; A4 and Letter portrait alike (12 mm margins, 186 mm wide). On a phone each session
is a short block instead of a row.
"""

from __future__ import annotations

import datetime as dt
import textwrap

from tms_schedule._dates import short_day
from tms_schedule.book.chairs import Chair
from tms_schedule.book.sheet import DaySheet, SheetSession
from tms_schedule.export.csv import csv_text
from tms_schedule.pages import render
from tms_schedule.pages._format import (
    STAFF_ONLY,
    check_page_arguments,
    count,
    duration,
    span,
)

__all__ = ["SHEET_CSV_COLUMNS", "day_sheet_csv", "day_sheet_html", "day_sheet_text"]

#: The columns of :func:`day_sheet_csv`, in order (see the function).
SHEET_CSV_COLUMNS = (
    "date",
    "chair",
    "chair_label",
    "start",
    "end",
    "timezone",
    "course_id",
    "protocol_id",
    "phase",
    "number",
    "place",
    "of",
    "status",
    "cpt",
    "milestones",
)


def day_sheet_html(
    sheet: DaySheet, *, clinic_name: str | None = None, issued: dt.date | None = None
) -> str:
    """The sheet as a printable page (see the module).

    Args:
        sheet: the day.
        clinic_name: printed in the heading and at the foot of every page.
        issued: when the sheet was printed (a date, or a date and time): the sheet is out
            of date once the book changes, so the time is worth printing. The library
            reads no clock: the caller gives it.

    Raises:
        BookError: ``issued`` is not a date, or ``clinic_name`` not a text.
    """
    check_page_arguments(clinic_name, issued)
    return render("day_sheet.html", sheet=sheet, clinic_name=clinic_name, issued=issued)


def day_sheet_csv(sheet: DaySheet) -> str:
    """One row per session, with a header row and ``\\r\\n`` line ends (RFC 4180).

    =========== =================================================================
    column      meaning
    =========== =================================================================
    date        the day, YYYY-MM-DD
    chair       the chair's id; empty for a session without a chair
    chair_label what people call the chair ("Chair 2")
    start       local start time, HH:MM
    end         local end time, HH:MM
    timezone    the clinic's IANA zone
    course_id   the caller's opaque course id
    protocol_id the course's protocol
    phase       the protocol phase (acute, taper, ...)
    number      the session's number in the course
    place       its place among the sessions that count (12th of 36); empty for a
                missed or cancelled session
    of          the sessions the course delivers (36)
    status      scheduled, attended, missed or cancelled
    cpt         the billing code, when the course assigns one
    milestones  what is due at the session, separated by "; "
    =========== =================================================================

    Rows go chair by chair (in the book's order) and by start, then the sessions
    without a chair. Columns may be added at the end later; these keep their names,
    order and meaning. A text cell that a spreadsheet would run as a formula (it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a single quote in
    front, as in the course export (:mod:`tms_schedule.export.csv`).
    """
    labels = {entry.chair.id: entry.chair.name for entry in sheet.chairs}
    return csv_text(
        SHEET_CSV_COLUMNS,
        (
            (
                sheet.date.isoformat(),
                s.chair or "",
                labels.get(s.chair, "") if s.chair else "",
                f"{s.start:%H:%M}",
                f"{s.end:%H:%M}",
                sheet.timezone,
                s.course_id,
                s.protocol_id,
                s.phase,
                s.number,
                "" if s.place is None else s.place,
                s.of,
                s.status,
                s.cpt or "",
                "; ".join(s.milestones),
            )
            for s in sheet.sessions()
        ),
    )


# -- text ---------------------------------------------------------------------------------------

_WIDTH = 80
_INDENT = " " * 15  # under the course id, after "  09:00-09:40  "
_PLACE = len("session 123: 123rd of 123")


def day_sheet_text(sheet: DaySheet) -> str:
    """The sheet as text for a terminal: every line fits 80 columns.

    The title, then that it is for the clinic's staff only; each chair's timeline in
    order, a session on one line (time, course id, protocol, the session's number and
    place, status, billing code) and what is due at it on the next; free stretches with
    their length; outages with their reason.
    """
    sessions = sheet.sessions()
    lines = [f"Day sheet - {short_day(sheet.date)}", STAFF_ONLY, *_opening_lines(sheet)]
    widths = (
        max((len(s.course_id) for s in sessions), default=0),
        max((len(s.protocol_id) for s in sessions), default=0),
        # "session 13: 12th of 36" sets the column; a make-up's longer words do not widen
        # every row past 80 columns, only its own row wraps.
        max((len(s.position) for s in sessions if len(s.position) <= _PLACE), default=0),
    )
    for entry in sheet.chairs:
        if sheet.hours is None and not entry.sessions:
            continue
        lines.append("")
        if entry.service is not None:
            lines += _wrap(f"{_chair_title(entry.chair)} - out all day: {entry.service}", "  ")
        else:
            lines += _wrap(_chair_title(entry.chair), "  ")
        for stretch in entry.timeline():
            when = f"  {span(stretch.start, stretch.end)}  "
            if stretch.kind == "free":
                lines.append(f"{when}free, {duration(stretch.minutes)}")
            elif stretch.kind == "out":
                lines += _wrap(f"{when}out: {stretch.reason}")
            elif stretch.kind == "held":
                lines += _wrap(f"{when}{stretch.reason} keeps the chair from first to last session")
            else:
                assert stretch.session is not None
                lines += _session_lines(stretch.session, widths)
        if entry.service is None and not entry.timeline():
            lines.append("  no time free")
    if sheet.unseated:
        lines += ["", "Without a chair"]
        for session in sheet.unseated:
            lines += _session_lines(session, widths)
    if sheet.hours is None and not sessions:
        lines += ["", "No session."]
    return "\n".join(lines) + "\n"


def _opening_lines(sheet: DaySheet) -> list[str]:
    """The hours (or why the clinic is closed), the counts, the limit and the protocols."""
    counts = f"{count(len(sheet.chairs), 'chair')}, {count(len(sheet.sessions()), 'session')}"
    if sheet.hours is not None:
        lines = _wrap(f"Open {sheet.hours}; {counts}; times in {sheet.timezone}", "  ")
    else:
        lines = [sheet.closed_text() or "", *_wrap(f"{counts}; times in {sheet.timezone}", "  ")]
    if sheet.at_limit:
        stretches = ", ".join(span(a, b) for a, b in sheet.at_limit)
        lines += _wrap(
            f"At the clinic's limit of sessions at once (no chair free): {stretches}", "  "
        )
    if sheet.protocols:
        lines.append("Protocols:")
        width = max(len(pid) for pid, _ in sheet.protocols)
        for pid, name in sheet.protocols:
            lines += _wrap(f"  {pid:<{width}}  {name}", " " * (width + 4))
    return lines


def _chair_title(chair: Chair) -> str:
    name = chair.name if chair.label is None else f"{chair.name} ({chair.id})"
    return f"{name} - runs {', '.join(sorted(chair.runs))}" if chair.runs else name


def _wrap(line: str, indent: str = _INDENT) -> list[str]:
    if len(line) <= _WIDTH:
        return [line]
    return textwrap.wrap(line, width=_WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def _session_lines(session: SheetSession, widths: tuple[int, int, int]) -> list[str]:
    course, protocol, place = widths
    line = (
        f"  {span(session.start, session.end)}  {session.course_id:<{course}}"
        f"  {session.protocol_id:<{protocol}}  {session.position:<{place}}"
        f"  {session.status:<9}  {session.cpt or ''}"
    ).rstrip()
    if len(line) > _WIDTH:  # a long course id: the same fields, wrapped
        line = "  ".join(
            part
            for part in (
                f"  {span(session.start, session.end)}",
                session.course_id,
                session.protocol_id,
                session.position,
                session.status,
                session.cpt or "",
            )
            if part
        )
    lines = _wrap(line)
    if session.milestones:
        lines += textwrap.wrap(
            "; ".join(session.milestones),
            width=_WIDTH,
            initial_indent=_INDENT,
            subsequent_indent=_INDENT,
            break_on_hyphens=False,
        )
    return lines
