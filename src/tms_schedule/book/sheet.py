"""The day sheet: what each chair does on one day, for the clinic's staff.

For a date, each chair's timeline in order: its sessions (start and end, course id,
protocol, the session's number and its place in the course, "12 of 36", its status, the
milestones due at it and its billing code), the stretches when it is free, and the
stretches when it is out (an outage) or its service day. A day the clinic is closed is
said plainly, with the reason. Sessions the book holds on that day without a chair
(missed and cancelled ones give their chair back) are listed after the chairs, so the
sheet lists every session the book has on the day, once.

*Free* means a new session could sit there: the chair's opening hours less its sessions
(with its turnover after and before each), its outages, and the moments when the clinic's
limit of sessions at once is reached. Between the sessions of an accelerated or cluster
day the chair stays that course's (the patient waits in it), so it is not free.

The sheet is for staff: it names protocols and session numbers, and it says nothing about a
patient beyond the course id, which the caller keeps opaque.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> from tms_schedule.book import Book, Chair
>>> clinic = ClinicCalendar("America/Denver")
>>> book = Book(clinic, (Chair("c1", "Chair 1"), Chair("c2", "Chair 2")))
>>> book = book.add(Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1")))
>>> sheet = book.day_sheet("2026-11-17")
>>> [(s.chair, f"{s.start:%H:%M}", s.course_id, s.position, s.cpt) for s in sheet.sessions()]
[('c1', '09:00', 'c-1', '2 of 36', '90868')]
>>> [f"{a:%H:%M}-{b:%H:%M}" for a, b in sheet.chair("c1").free]
['08:00-08:55', '09:45-18:00']
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

import attrs

from tms_schedule._dates import long_day, short_day
from tms_schedule.book._held import OCCUPYING, Seated, holds, seated
from tms_schedule.book._pages import (
    DOT,
    document,
    escape,
    html_span,
    length,
    span,
    spreadsheet_text,
    stamp_text,
    words,
)
from tms_schedule.book.chairs import Chair, StaffLimit
from tms_schedule.book.occupancy import Booking, Occupancy, minute
from tms_schedule.clinic import OpeningHours
from tms_schedule.errors import BookError

if TYPE_CHECKING:
    from tms_schedule.book.book import Book

__all__ = ["SHEET_CSV_COLUMNS", "ChairDay", "DaySheet", "SheetSession", "Stretch", "day_sheet"]

#: The columns of :meth:`DaySheet.to_csv`, in order (see the method).
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


@attrs.frozen
class SheetSession:
    """One session on the day sheet.

    Attributes:
        chair: the chair's id; ``None`` for a session without one (missed, cancelled).
        start: the local start, in the clinic's zone.
        end: the local end.
        course_id: the course's opaque id.
        protocol_id: the course's protocol.
        phase: the protocol phase (``acute``, ``taper``, ...).
        number: the session's number in the course (as the course's records name it).
        place: its place among the course's sessions that count (attended or to come), in
            time order: 12 in "12 of 36"; ``None`` for a missed or cancelled session.
        of: the sessions the course delivers (36 in "12 of 36").
        status: ``scheduled``, ``attended``, ``missed`` or ``cancelled``.
        cpt: the billing code, when the course assigns one.
        milestones: what is due at the session (mapping and motor threshold, motor
            threshold re-determination, a rating), as the course computes them.
    """

    chair: str | None
    start: dt.datetime
    end: dt.datetime
    course_id: str
    protocol_id: str
    phase: str
    number: int
    place: int | None
    of: int
    status: str
    cpt: str | None = None
    milestones: tuple[str, ...] = ()

    @property
    def position(self) -> str:
        """``12 of 36``; ``session 2`` for one that does not count (missed, cancelled)."""
        if self.place is None:
            return f"session {self.number}"
        return f"{self.place} of {self.of}"


class Stretch(NamedTuple):
    """One entry of a chair's timeline: a ``session``; a ``free`` stretch; an ``out``
    stretch (an outage, with its reason); or a ``held`` one, an accelerated or cluster day
    that keeps the chair from its first session to its last (``reason``: the course id;
    its sessions are entries of their own)."""

    start: dt.datetime
    end: dt.datetime
    kind: str
    session: SheetSession | None = None
    reason: str | None = None

    @property
    def minutes(self) -> int:
        return (minute(self.end) - minute(self.start)) if self.end > self.start else 0


# Where entries that start together go: what stops the chair first.
_KIND_ORDER = {"out": 0, "held": 1, "session": 2, "free": 3}


@attrs.frozen
class ChairDay:
    """One chair's day.

    Attributes:
        chair: the chair.
        sessions: its sessions, by start.
        free: the stretches a new session could sit in (see the module), by start.
        outages: the stretches it is out (its own outages and the clinic's), clipped to
            the opening hours, as ``Stretch`` entries of kind ``out``.
        service: the reason it is out all day (its service day), or ``None``.
        held: the accelerated or cluster days of several sessions that keep it from their
            first session to their last, as ``Stretch`` entries of kind ``held``.
    """

    chair: Chair
    sessions: tuple[SheetSession, ...]
    free: tuple[tuple[dt.datetime, dt.datetime], ...]
    outages: tuple[Stretch, ...] = ()
    service: str | None = None
    held: tuple[Stretch, ...] = ()

    def timeline(self) -> list[Stretch]:
        """Sessions, free stretches, outages and held days together, in time order."""
        entries = [Stretch(s.start, s.end, "session", session=s) for s in self.sessions]
        entries += [Stretch(a, b, "free") for a, b in self.free]
        entries += self.outages
        entries += self.held
        return sorted(entries, key=lambda e: (e.start, _KIND_ORDER[e.kind], e.end))

    @property
    def free_minutes(self) -> int:
        return sum(minute(b) - minute(a) for a, b in self.free)


@attrs.frozen
class DaySheet:
    """What each chair does on one day (see the module).

    Attributes:
        date: the day.
        timezone: the clinic's IANA zone; every time is local to it.
        hours: the clinic's opening hours that day; ``None`` when it is closed.
        closed: why the clinic is closed (the holiday or closure, or "closed on
            Saturdays"); ``None`` when it is open.
        chairs: each chair's day, in the book's order of chairs.
        unseated: the day's sessions without a chair (missed, cancelled), by start.
        at_limit: the stretches when the clinic's limit of sessions at once is reached (no
            chair is free then, whatever it holds).
        protocols: the protocols of the day's sessions: (id, name), by id.
    """

    date: dt.date
    timezone: str
    hours: OpeningHours | None
    closed: str | None
    chairs: tuple[ChairDay, ...]
    unseated: tuple[SheetSession, ...] = ()
    at_limit: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    protocols: tuple[tuple[str, str], ...] = ()

    def sessions(self) -> tuple[SheetSession, ...]:
        """Every session on the sheet: chair by chair, then those without a chair."""
        return tuple(s for chair in self.chairs for s in chair.sessions) + self.unseated

    def chair(self, chair_id: str) -> ChairDay:
        """The day of the chair with this id."""
        for entry in self.chairs:
            if entry.chair.id == chair_id:
                return entry
        known = ", ".join(entry.chair.id for entry in self.chairs)
        raise BookError(f"chair: no chair {chair_id!r}; chairs: {known}")

    def closed_text(self) -> str | None:
        """``The clinic is closed: Thanksgiving Day.`` or ``The clinic is closed on
        Saturdays.``; ``None`` when it is open."""
        if self.closed is None:
            return None
        if self.closed.startswith("closed on "):
            return f"The clinic is {self.closed}."
        return f"The clinic is closed: {self.closed.replace(': clinic closed', '')}."

    # -- renderings ----------------------------------------------------------------------------

    def to_text(self) -> str:
        """The sheet as text for a terminal: every line fits 80 columns.

        Each chair's timeline in order, a session on one line (time, course id, protocol,
        place in the course, status, billing code) and what is due at it on the next;
        free stretches with their length; outages with their reason.
        """
        return _text(self)

    def to_csv(self) -> str:
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
        place       its place among the sessions that count (12 of 36); empty for a
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
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(SHEET_CSV_COLUMNS)
        labels = {entry.chair.id: entry.chair.name for entry in self.chairs}
        for s in self.sessions():
            row = (
                self.date.isoformat(),
                s.chair or "",
                labels.get(s.chair, "") if s.chair else "",
                f"{s.start:%H:%M}",
                f"{s.end:%H:%M}",
                self.timezone,
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
            writer.writerow(tuple(spreadsheet_text(v) if isinstance(v, str) else v for v in row))
        return buffer.getvalue()

    def to_html(self, *, clinic_name: str | None = None, issued: dt.date | None = None) -> str:
        """The sheet as a printable page: one self-contained HTML5 document.

        Args:
            clinic_name: printed in the heading and at the foot of every page.
            issued: when the sheet was printed (a date, or a date and time): the sheet is
                out of date once the book changes, so the time is worth printing. The
                library reads no clock: the caller gives it.

        One table for the day, a block of rows per chair, so columns line up from chair
        to chair and the column heads repeat on each printed page; A4 and Letter portrait
        alike (12 mm margins, 186 mm wide). On a phone each session is a short block
        instead of a row.
        """
        return _html(self, clinic_name, issued)


def day_sheet(book: Book, day: dt.date) -> DaySheet:
    """The day sheet of ``day`` (see :meth:`Book.day_sheet <tms_schedule.book.Book.day_sheet>`)."""
    clinic = book.clinic
    zone = clinic.zone
    entries = list(seated(book, day, day))
    held = list(holds(entries))
    # The chair holds that span several sessions: accelerated and cluster days.
    singles = {
        (e.chair, e.booked.course_id, minute(e.session.start), minute(e.session.end))
        for e in entries
    }
    blocks = sorted(
        (b for _, b in held if (b.chair, b.course, b.start, b.end) not in singles),
        key=lambda b: (b.start, b.course),
    )
    occupancy = Occupancy(clinic, book.chairs, book.limits, book.outages, held)
    hours = clinic.day(day).hours
    rows = _rows(entries)
    by_chair: dict[str | None, list[SheetSession]] = {}
    for row in rows:
        by_chair.setdefault(row.chair, []).append(row)
    chairs = []
    for chair in book.chairs:
        service = chair.closed_on(day)
        outages: list[Stretch] = []
        if hours is not None and service is None:
            opens = dt.datetime.combine(day, hours.opens, tzinfo=zone)
            closes = dt.datetime.combine(day, hours.closes, tzinfo=zone)
            for outage in book.outages:
                if outage.chair not in (None, chair.id):
                    continue
                start, end = max(outage.start, opens), min(outage.end, closes)
                if start < end:
                    outages.append(
                        Stretch(
                            start.astimezone(zone),
                            end.astimezone(zone),
                            "out",
                            reason=outage.reason,
                        )
                    )
        outages.sort(key=lambda o: (o.start, o.end, o.reason or ""))
        free = tuple((_local(a, zone), _local(b, zone)) for a, b in occupancy.gaps(chair, day))
        kept = tuple(
            Stretch(_local(b.start, zone), _local(b.end, zone), "held", reason=b.course)
            for b in blocks
            if b.chair == chair.id
        )
        chairs.append(
            ChairDay(
                chair,
                tuple(by_chair.get(chair.id, ())),
                free,
                tuple(outages),
                service,
                kept,
            )
        )
    protocols = sorted(
        {(b.course.plan.protocol.id, b.course.plan.protocol.name) for _, b, _, _ in entries}
    )
    return DaySheet(
        date=day,
        timezone=clinic.timezone,
        hours=hours,
        closed=None if hours is not None else clinic.closure_reason(day),
        chairs=tuple(chairs),
        unseated=tuple(by_chair.get(None, ())),
        at_limit=tuple(
            (_local(a, zone), _local(b, zone)) for a, b in _at_limit(book.limits, day, held, zone)
        ),
        protocols=tuple(protocols),
    )


def _rows(entries: list[Seated]) -> list[SheetSession]:
    """The sheet's sessions, by chair order later; here by start, course and number."""
    places: dict[str, dict[int, int]] = {}
    targets: dict[str, int] = {}
    rows = []
    for _, booked, session, chair in entries:
        course = booked.course
        if course.course_id not in places:
            counted = sorted(
                (s for s in course.schedule.sessions if s.status in OCCUPYING),
                key=lambda s: (s.start.astimezone(dt.UTC), s.number),
            )
            places[course.course_id] = {s.number: k for k, s in enumerate(counted, start=1)}
            targets[course.course_id] = course.schedule.progress().target
        rows.append(
            SheetSession(
                chair=chair,
                start=session.start,
                end=session.end,
                course_id=course.course_id,
                protocol_id=course.plan.protocol.id,
                phase=session.phase,
                number=session.number,
                place=places[course.course_id].get(session.number)
                if session.status in OCCUPYING
                else None,
                of=targets[course.course_id],
                status=session.status,
                cpt=session.cpt,
                milestones=session.milestones,
            )
        )
    rows.sort(key=lambda r: (r.start.astimezone(dt.UTC), r.course_id, r.number))
    return rows


def _local(moment: int, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment * 60, tz=zone)


def _at_limit(
    limits: Iterable[StaffLimit], day: dt.date, held: list[tuple[dt.date, Booking]], zone: dt.tzinfo
) -> list[tuple[int, int]]:
    """The stretches of ``day`` (minutes) when a staff limit allows no further session, as
    the book's index works them out."""
    events: dict[int, int] = {}
    for _, booking in held:
        events[booking.start] = events.get(booking.start, 0) + 1
        events[booking.end] = events.get(booking.end, 0) - 1
    found: list[tuple[int, int]] = []
    for limit in limits:
        if not limit.applies(day):
            continue
        low, high = -(2**62), 2**62
        if limit.hours is not None:
            low = minute(dt.datetime.combine(day, limit.hours.opens, tzinfo=zone))
            high = minute(dt.datetime.combine(day, limit.hours.closes, tzinfo=zone))
        count, since = 0, None
        for moment in sorted(events):
            count += events[moment]
            if count >= limit.sessions and since is None:
                since = moment
            elif count < limit.sessions and since is not None:
                start, end = max(since, low), min(moment, high)
                if start < end:
                    found.append((start, end))
                since = None
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# -- text ---------------------------------------------------------------------------------------

_WIDTH = 80
_INDENT = " " * 15  # under the course id, after "  09:00-09:40  "


def _chair_title(chair: Chair) -> str:
    name = chair.name if chair.label is None else f"{chair.name} ({chair.id})"
    return f"{name} - runs {', '.join(sorted(chair.runs))}" if chair.runs else name


def _wrap(line: str, indent: str = _INDENT) -> list[str]:
    if len(line) <= _WIDTH:
        return [line]
    return textwrap.wrap(line, width=_WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def _text(sheet: DaySheet) -> str:
    sessions = sheet.sessions()
    lines = [f"Day sheet - {short_day(sheet.date)}"]
    count = f"{len(sheet.chairs)} chair{'s' if len(sheet.chairs) != 1 else ''}"
    count += f", {len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    if sheet.hours is not None:
        lines += _wrap(f"Open {sheet.hours}; {count}; times in {sheet.timezone}", "  ")
    else:
        lines.append(sheet.closed_text() or "")
        lines += _wrap(f"{count}; times in {sheet.timezone}", "  ")
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
    widths = (
        max((len(s.course_id) for s in sessions), default=0),
        max((len(s.protocol_id) for s in sessions), default=0),
        max((len(s.position) for s in sessions), default=0),
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
                lines.append(f"{when}free, {length(stretch.minutes)}")
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


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """\
table { width: 100%; border-collapse: collapse; font-size: 9pt; }
thead th {
  text-align: left; font-size: 8.5pt; padding: 1mm 1.2mm; border-bottom: 0.5mm solid #000;
}
td { padding: 0.7mm 1.2mm; vertical-align: top; border-bottom: 0.25mm solid #999; }
tr, tbody { break-inside: avoid; page-break-inside: avoid; }
tbody th {
  text-align: left; font-size: 11pt; padding: 4mm 1.2mm 1mm; border-bottom: 0.5mm solid #000;
}
tbody tr.chair { break-after: avoid; page-break-after: avoid; }
tbody th .runs { font-size: 8.5pt; font-weight: normal; }
td.time, td.place, td.status, td.cpt, td.protocol { white-space: nowrap; }
td.course { font-weight: bold; overflow-wrap: anywhere; }
tr.attended td.status { font-weight: bold; }
tr.missed td, tr.cancelled td { font-style: italic; }
tr.missed td.time, tr.cancelled td.time { text-decoration: line-through; }
tr.free td { font-style: italic; color: #333; border-bottom-style: dotted; }
tr.held td { font-size: 8.5pt; border-bottom-style: dotted; }
/* The hatching on the row: a phone's rows are blocks, their cells only as wide as the text. */
tr.out { background: repeating-linear-gradient(135deg, #fff 0 1.2mm, #ccc 1.2mm 1.6mm); }
tr.out td { font-weight: bold; }
.closed { font-size: 12pt; font-weight: bold; border: 0.5mm solid #000; padding: 2mm; }
.protocols { font-size: 8.5pt; }
/* A phone: each session a short block instead of a row. */
@media screen and (max-width: 719.98px) {
  h1 { font-size: 14pt; }
  thead { display: none; }
  table, tbody, tr, td, th { display: block; }
  tbody tr { display: flex; flex-wrap: wrap; column-gap: 3mm; padding: 1.2mm 0;
    border-bottom: 0.25mm solid #999; }
  tbody tr.chair { border-bottom: 0.5mm solid #000; }
  td { padding: 0; border: 0; }
  td.due { flex-basis: 100%; }
  td.due:empty { display: none; }
  td.cpt:not(:empty)::before { content: "CPT "; }
  tr.free td, tr.out td { border: 0; }
  tbody th { padding: 3mm 0 0; border: 0; }
}
"""


def _html(sheet: DaySheet, clinic_name: str | None, issued: dt.date | None) -> str:
    if issued is not None and not isinstance(issued, dt.date):
        raise BookError(f"issued: must be a date or a date and time, got {issued!r}")
    if clinic_name is not None and not isinstance(clinic_name, str):
        raise BookError(f"clinic_name: must be a text, got {clinic_name!r}")
    title = f"Day sheet {short_day(sheet.date)}"
    foot = title + (f" \N{EM DASH} {clinic_name}" if clinic_name else "")
    stamp = stamp_text(issued)
    sessions = sheet.sessions()
    heading = f"Day sheet: {long_day(sheet.date)}"
    body = ["<header>", f"<h1>{escape(heading)}</h1>"]
    meta = [words(clinic_name)] if clinic_name else []
    if sheet.hours is not None:
        meta.append(f"open {html_span(sheet.hours.opens, sheet.hours.closes)}")
    meta.append(
        f"{len(sheet.chairs)} chair{'s' if len(sheet.chairs) != 1 else ''},"
        f" {len(sessions)} session{'s' if len(sessions) != 1 else ''}"
    )
    meta.append(f"times in {escape(sheet.timezone)}")
    body.append(f'<p class="meta">{DOT.join(meta)}</p>')
    if stamp:
        body.append(f'<p class="issued">{escape(stamp)}</p>')
    body.append("</header>")
    closed = sheet.closed_text()
    if closed:
        body.append(f'<p class="closed">{words(closed)}</p>')
    if sheet.at_limit:
        stretches = ", ".join(html_span(a, b) for a, b in sheet.at_limit)
        body.append(
            f"<p>At the clinic's limit of sessions at once (no chair free): {stretches}</p>"
        )
    if sheet.protocols:
        names = "; ".join(
            f'<span class="nw">{escape(pid)}</span>: {words(name)}' for pid, name in sheet.protocols
        )
        body.append(f'<p class="protocols">Protocols: {names}</p>')
    shown = [c for c in sheet.chairs if sheet.hours is not None or c.sessions]
    if shown or sheet.unseated:
        body += [
            "<table>",
            "<thead><tr>"
            + "".join(
                f'<th scope="col">{name}</th>'
                for name in ("Time", "Course", "Protocol", "Session", "Status", "Due", "CPT")
            )
            + "</tr></thead>",
        ]
        for entry in shown:
            body += _chair_rows(entry)
        if sheet.unseated:
            body += [
                '<tbody><tr class="chair"><th colspan="7" scope="rowgroup">'
                "Without a chair</th></tr>",
                *(_session_row(s) for s in sheet.unseated),
                "</tbody>",
            ]
        body.append("</table>")
    elif sheet.hours is None:
        body.append("<p>No session.</p>")
    return document(
        title + (f" \N{EM DASH} {clinic_name}" if clinic_name else ""), _CSS, body, foot, stamp
    )


def _chair_rows(entry: ChairDay) -> list[str]:
    chair = entry.chair
    name = words(chair.name)
    if chair.label is not None:
        name += f' <span class="runs">({escape(chair.id)})</span>'
    if chair.runs:
        name += f' <span class="runs">runs {escape(", ".join(sorted(chair.runs)))}</span>'
    rows = [f'<tbody><tr class="chair"><th colspan="7" scope="rowgroup">{name}</th></tr>']
    if entry.service is not None:
        rows.append(
            f'<tr class="out"><td colspan="7">Out all day: {words(entry.service)}</td></tr>'
        )
    timeline = entry.timeline()
    for stretch in timeline:
        when = f'<td class="time">{html_span(stretch.start, stretch.end)}</td>'
        if stretch.kind == "free":
            rows.append(
                f'<tr class="free">{when}<td colspan="6">free, {length(stretch.minutes)}</td></tr>'
            )
        elif stretch.kind == "held":
            rows.append(
                f'<tr class="held">{when}<td colspan="6">{escape(stretch.reason or "")} keeps'
                " the chair from first to last session</td></tr>"
            )
        elif stretch.kind == "out":
            rows.append(
                f'<tr class="out">{when}<td colspan="6">out: {words(stretch.reason or "")}</td></tr>'
            )
        else:
            assert stretch.session is not None
            rows.append(_session_row(stretch.session))
    if entry.service is None and not timeline:
        rows.append('<tr class="free"><td colspan="7">no time free</td></tr>')
    rows.append("</tbody>")
    return rows


def _session_row(session: SheetSession) -> str:
    due = "; ".join(words(m) for m in session.milestones)
    return (
        f'<tr class="session {escape(session.status)}">'
        f'<td class="time">{html_span(session.start, session.end)}</td>'
        f'<td class="course">{escape(session.course_id)}</td>'
        f'<td class="protocol">{escape(session.protocol_id)}</td>'
        f'<td class="place">{escape(session.position)}</td>'
        f'<td class="status">{escape(session.status)}</td>'
        f'<td class="due">{due}</td>'
        f'<td class="cpt">{escape(session.cpt or "")}</td>'
        "</tr>"
    )
