"""Printable handout: the appointments as month grids or a list, for the front desk to print
or send.

What the page holds, and why:

* one self-contained HTML5 document: inline CSS, no scripts, no fonts, images or styles to
  fetch (a Content-Security-Policy says so too), so it looks the same opened from a mail,
  a browser or a USB stick, and prints the same;
* neutral text, as in the calendar files: "Your appointments", the clinic's name and contact
  details, and what to do when the patient cannot come (the clinic's ``cannot_come`` line,
  or "If you cannot come, please call the clinic" with its phone number); no protocol, phase
  or treatment word unless the clinic writes it into ``title``, ``description`` or
  ``cannot_come`` itself (a handout left on a desk or a fridge is read by others);
* the date the page was issued and the course's revision, when the caller gives them (the
  library reads no clock), in the header and at the foot of every printed page, beside the
  clinic's name and "Page 2 of 3";
* the number of appointments (the course's target) and the first and last date; once
  anything is recorded, how many were attended, missed (and whether made up), cancelled
  and are still to come, the counts of :meth:`~tms_schedule.schedule.Schedule.progress`;
* month grids (weeks from Monday) when the appointments fill them: when the appointment
  days number at least eight for each month shown (about two a week). A sparser course is
  printed as a list alone rather than as pages of nearly empty grids: maintenance boosters
  a week or more apart, or an accelerated course of a few days of many sessions (whose
  list gives every time on one page). In a grid an appointment day shows
  its times, or the count and span of a day of many sessions; a day whose sessions were
  missed, one whose sessions are all cancelled and a day passed over each have their own
  mark, named in a legend; the days passed over are explained below the grids;
* every appointment day again as a list, with every session's time (ten on an accelerated
  day), so each date and time is in the text itself (for screen readers, mail previews, and
  people who read lists more easily than grids);
* a layout for phones: below 720 px the grid cells shrink to the day and its start times
  (on a day of many sessions, their count: "10\N{MULTIPLICATION SIGN}"), the list carries
  the rest, and no word is broken inside;
* print CSS for both A4 and US Letter without forcing either: 12 mm margins, a column
  186 mm wide (A4's width less margins) and grids sized so that two months fit in Letter's
  255 mm of height; a month never splits across pages; marks read in black and white
  (borders, hatching and words, not colour alone);
* English names from fixed tables and every text HTML-escaped (and CSS-escaped where it is
  printed at the foot of the page); the same input always gives the same string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import markupsafe

from tms_schedule._dates import (
    MONTH_ABBR,
    WEEKDAY_ABBR,
    WEEKDAY_FULL,
    long_day,
    month_title,
    month_weeks,
    months,
    short_day,
)
from tms_schedule.errors import InvalidCalendarOptionError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.text import day_marks
from tms_schedule.schedule import Progress, Schedule, Session

__all__ = ["schedule_to_html"]

# Up to this many sessions a day are shown one by one in a grid cell; more read as
# "10 appointments" and their span (the list below gives every time).
_LISTED_PER_DAY = 3
# Month grids when the appointment days average at least this many per month shown.
_GRID_DAYS_PER_MONTH = 8
_DASH = "\N{EN DASH}"
_DOT = " \N{MIDDLE DOT} "
# The grid's marks (see day_marks) as the cells' CSS classes.
_CELL_CLASS = {"session": "appt", "missed": "missed", "cancelled": "cancelled", "skipped": "skip"}

_CSS = """\
@page { margin: 12mm; }
* { box-sizing: border-box; }
html {
  color: #000; background: #fff;
  font-family: Arial, Helvetica, "Liberation Sans", "DejaVu Sans", sans-serif;
  font-size: 10pt; line-height: 1.3; overflow-wrap: break-word;
  -webkit-print-color-adjust: exact; print-color-adjust: exact;
}
/* 186 mm: A4's 210 mm less the margins; Letter (216 mm) is wider. */
body { margin: 0 auto; max-width: 186mm; }
@media screen { body { padding: 8mm 4mm; } }
h1 { font-size: 18pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 0 0 1mm; }
p, ul, address { margin: 0 0 2mm; }
address { font-style: normal; }
address span { display: inline-block; margin-right: 5mm; }
a { color: inherit; }
.title { font-size: 12pt; }
.notes, .cannot { white-space: pre-line; }
.cannot { font-weight: bold; }
.issued { font-size: 9pt; }
.summary { font-size: 11pt; margin-bottom: 1.5mm; }
.legend { list-style: none; padding: 0; font-size: 9pt; }
.legend li { display: inline-block; margin-right: 6mm; }
.key {
  display: inline-block; width: 6mm; height: 4.5mm; vertical-align: middle;
  border: 0.25mm solid #888;
}
.appt { border: 0.7mm solid #000; background: #eee; }
.missed {
  border: 0.7mm solid #000;
  background: repeating-linear-gradient(135deg, #fff 0 1.2mm, #bbb 1.2mm 1.5mm);
}
.skip { border: 0.4mm dashed #000; }
.key.appt, .key.missed { border-width: 0.5mm; }
/* Two grids of six weeks and the page heading fit in Letter's 255 mm of height. */
.month { break-inside: avoid; page-break-inside: avoid; margin: 3mm 0 0; }
.month table { width: 100%; table-layout: fixed; border-collapse: separate; border-spacing: 0.8mm; }
.month th { font-size: 9pt; text-align: left; padding: 0 1mm; }
.month td {
  height: 13.5mm; vertical-align: top; padding: 0.6mm 1mm;
  border: 0.25mm solid #999; font-size: 8.5pt; line-height: 1.2;
}
.month td.out { border: 0; }
.month td.appt { border: 0.7mm solid #000; font-weight: bold; }
.month td.missed { border: 0.7mm solid #000; }
.month td.skip { border: 0.4mm dashed #000; font-style: italic; }
.month td.skip .num { font-style: normal; }
.num { display: block; font-size: 10pt; font-weight: bold; }
.t, .date, .part { white-space: nowrap; }
.month .many { font-size: 7.5pt; font-weight: normal; }
.month td.weekend .num { font-weight: normal; }
.note { font-style: italic; }
s { text-decoration-thickness: 0.3mm; }
.narrow, .legend li.narrow { display: none; }
.after { margin-top: 4mm; }
.after h2 { break-after: avoid; page-break-after: avoid; }
.skipped { list-style: none; padding: 0; }
.skipped li { break-inside: avoid; }
/* Three columns on paper; one on a phone. */
.days { columns: 3 16em; column-gap: 6mm; list-style: none; padding: 0; font-size: 9pt; }
.days li { break-inside: avoid; }
/* Days of many sessions: one day a row, the times beside the date. */
.days.busy { columns: 1; }
.days.busy li { display: grid; grid-template-columns: 11em 1fr; }
.date { font-weight: bold; margin-right: 1.5mm; }
/* A phone: the cells keep the day and its start times, the list below the rest. */
@media screen and (max-width: 719.98px) {
  body { padding: 5mm 3mm; }
  h1 { font-size: 15pt; }
  .wide { display: none; }
  .narrow { display: inline; }
  .legend li.narrow { display: inline-block; }
  .month table { border-spacing: 0.6mm; }
  .month th { padding: 0 0.5mm; font-size: 8pt; }
  .month td { height: 11mm; padding: 0.4mm 0.6mm; font-size: 8pt; }
  .month td.appt { font-weight: normal; }
}
"""


def schedule_to_html(
    schedule: Schedule,
    options: CalendarOptions | None = None,
    *,
    issued: dt.date | None = None,
    revision: int | None = None,
) -> str:
    """The schedule as a printable handout: one HTML5 page, self-contained.

    Args:
        schedule: the sessions to show; missed and cancelled ones are marked.
        options: the clinic's name, contact details, ``cannot_come`` line, and its own
            ``title`` and ``description`` (the same
            :class:`~tms_schedule.export.options.CalendarOptions` as the calendar files);
            default: neutral text and no contact details.
        issued: the date the page is issued, printed in the header and on every page (the
            library reads no clock: the caller gives it); ``None`` prints no date.
        revision: the course revision the page shows, printed beside ``issued``.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> page = schedule_to_html(
    ...     schedule, CalendarOptions(clinic_name="Example Clinic"), issued=dt.date(2026, 11, 2)
    ... )
    >>> page.startswith("<!DOCTYPE html>"), "Your appointments \N{EM DASH} Example Clinic" in page
    (True, True)
    >>> page.count('<section class="month"'), "30 appointments" in page, "Issued 2 Nov 2026" in page
    (2, True, True)
    """
    options = options or CalendarOptions()
    heading = "Your appointments"
    if options.clinic_name:
        heading += f" \N{EM DASH} {options.clinic_name}"
    stamp = _issued(issued, revision)
    by_day: dict[dt.date, list[Session]] = {}
    for session in sorted(schedule.sessions, key=lambda s: (s.start.astimezone(dt.UTC), s.number)):
        by_day.setdefault(session.start.date(), []).append(session)
    skipped = {day.date: day.reason for day in schedule.skipped}

    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing on the page loads or runs anything, whatever the text fields hold.
        '<meta http-equiv="Content-Security-Policy"'
        " content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title>",
        f"<style>\n{_CSS}{_page_foot(heading, stamp)}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(heading)}</h1>",
    ]
    if options.title:
        out.append(f'<p class="title">{_e(options.title)}</p>')
    contact = [
        f"<span>{_e(options.location)}</span>" if options.location else "",
        f"<span>Phone: {_e(options.phone)}</span>" if options.phone else "",
        f'<span><a href="{_e(options.url)}">{_e(options.url)}</a></span>' if options.url else "",
    ]
    if any(contact):
        out.append(f"<address>{''.join(contact)}</address>")
    if options.description:
        out.append(f'<p class="notes">{_e(options.description)}</p>')
    out.append(f'<p class="cannot">{_cannot_come(options)}</p>')
    if stamp:
        out.append(f'<p class="issued">{_e(stamp)}</p>')
    out.append("</header>")
    out.append(_summary(schedule))
    # The most sessions a day, when some days have too many to show one by one in a cell.
    most = max((len(sessions) for sessions in by_day.values()), default=0)
    busy = most > _LISTED_PER_DAY
    appointments = _day_list(
        "Every appointment",
        "days busy" if busy else "days",
        {day: _describe(s) for day, s in by_day.items()},
    )
    passed_over = _day_list(
        "Days skipped", "skipped", {day: _e(reason) for day, reason in skipped.items()}
    )
    if _fills_grids(by_day):
        marks = day_marks(schedule)
        out.append(_legend(set(marks.values()), most if busy else None))
        for year, month in months(marks):
            out += _month(year, month, by_day, marks)
        # The days passed over explain the grid's marks, so they come right after it.
        out += passed_over + appointments
    else:
        out += appointments + passed_over
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _issued(issued: dt.date | None, revision: int | None) -> str:
    """``Issued 23 Nov 2026 · revision 2``, or what of it is given."""
    if issued is not None and not isinstance(issued, dt.date):
        raise InvalidCalendarOptionError(f"issued: must be a date, got {issued!r}")
    if revision is not None and (
        not isinstance(revision, int) or isinstance(revision, bool) or revision < 0
    ):
        raise InvalidCalendarOptionError(
            f"revision: must be a whole number from 0 up, got {revision!r}"
        )
    parts = []
    if issued is not None:
        parts.append(f"Issued {issued.day} {MONTH_ABBR[issued.month - 1]} {issued.year}")
    if revision is not None:
        parts.append(f"revision {revision}" if parts else f"Revision {revision}")
    return _DOT.join(parts)


def _page_foot(heading: str, stamp: str) -> str:
    """The foot of every printed page: the heading (with the clinic's name) on the left;
    the issue date and revision, and "Page 2 of 3", on the right."""
    right = f"{_css_string(stamp + _DOT)} " if stamp else ""
    box = "font-family: Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif;"
    box += " font-size: 8pt;"
    return (
        "@page {\n"
        f"  @bottom-left {{ content: {_css_string(heading)}; {box} }}\n"
        f'  @bottom-right {{ content: {right}"Page " counter(page) " of " counter(pages);'
        f" {box} text-align: right; }}\n"
        "}\n"
    )


def _css_string(text: str) -> str:
    """A quoted CSS string: anything but ASCII letters and digits escaped, so no text can end
    the string, the rule or the style element. Spaces too: a space right after an escape
    would be read as its end."""
    escaped = (c if c.isascii() and c.isalnum() else f"\\{ord(c):06x}" for c in text)
    return '"' + "".join(escaped) + '"'


def _cannot_come(options: CalendarOptions) -> str:
    """The clinic's line on what to do when the patient cannot come, or a neutral one (HTML)."""
    if options.cannot_come:
        return _e(options.cannot_come)
    # The number is kept on one line.
    on = f' on <span class="t">{_e(options.phone)}</span>' if options.phone else ""
    return f"If you cannot come, please call the clinic{on}."


def _fills_grids(by_day: dict[dt.date, list[Session]]) -> bool:
    """Whether the appointment days number at least eight for each month the grids would
    show (about two a week): then month grids are worth their space."""
    return bool(by_day) and len(by_day) >= _GRID_DAYS_PER_MONTH * len(months(by_day))


def _day_list(title: str, css_class: str, lines: dict[dt.date, str]) -> list[str]:
    """A titled list of days, each with its (already escaped) line; nothing when empty."""
    if not lines:
        return []
    return [
        '<section class="after">',
        f"<h2>{title}</h2>",
        f'<ul class="{css_class}">',
        *(
            f'<li><span class="date">{short_day(day)}</span> <span>{line}</span></li>'
            for day, line in lines.items()
        ),
        "</ul>",
        "</section>",
    ]


def _summary(schedule: Schedule) -> str:
    kept = [s for s in schedule.sessions if s.status != "cancelled"]
    if not kept:
        return '<p class="summary">No appointments.</p>'
    first = min(s.start for s in kept).date()
    last = max(s.start for s in kept).date()
    when = (
        f"on {long_day(first)}" if first == last else f"from {long_day(first)} to {long_day(last)}"
    )
    progress = schedule.progress()
    counts = ""
    if any(s.status != "scheduled" for s in schedule.sessions):
        counts = f": {_progress(progress)}"
    return (
        f'<p class="summary"><strong>{_count(progress.target, "appointment")}</strong>'
        f" {when}{counts}. Times are the clinic's local time ({_e(schedule.timezone)}).</p>"
    )


def _progress(progress: Progress) -> str:
    """The counts as :class:`~tms_schedule.schedule.Progress` says them, in the page's
    words: "2 attended, 34 to come; 3 missed (all made up)"."""
    return progress.describe("attended", advice=False)


def _legend(marks: set[str], many: int | None) -> str:
    """The marks the grids use; on a phone, also how a day of ``many`` sessions reads."""
    items = ['<li><span class="key appt"></span> appointment, with its time</li>']
    if many:
        items.append(
            f'<li class="narrow">{many}\N{MULTIPLICATION SIGN}: {many} appointments that day</li>'
        )
    if "missed" in marks:
        items.append('<li><span class="key missed"></span> missed</li>')
    if "cancelled" in marks:
        items.append("<li><s>09:00</s> cancelled</li>")
    if "skipped" in marks:
        items.append(
            '<li><span class="key skip"></span> no appointment: see \u201cDays skipped\u201d below</li>'
        )
    return f'<ul class="legend">{"".join(items)}</ul>'


def _month(
    year: int, month: int, by_day: dict[dt.date, list[Session]], marks: dict[dt.date, str]
) -> list[str]:
    title = month_title(year, month)
    out = [
        f'<section class="month" aria-label="{title}">',
        f"<h2>{title}</h2>",
        "<table>",
        "<thead><tr>"
        + "".join(
            f'<th scope="col" title="{full}">{abbr}</th>'
            for abbr, full in zip(WEEKDAY_ABBR, WEEKDAY_FULL, strict=True)
        )
        + "</tr></thead>",
        "<tbody>",
    ]
    for week in month_weeks(year, month):
        cells = []
        for day in week:
            if day is None:
                cells.append('<td class="out"></td>')
                continue
            classes = ["weekend"] if day.weekday() >= 5 else []
            mark = marks.get(day)
            if mark:
                classes.append(_CELL_CLASS[mark])
            attribute = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(
                f'<td{attribute}><time class="num" datetime="{day.isoformat()}">{day.day}</time>'
                f"{_cell(by_day.get(day, []), mark)}</td>"
            )
        out.append(f"<tr>{''.join(cells)}</tr>")
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _cell(sessions: Sequence[Session], mark: str | None) -> str:
    """A grid cell's text: in full (times and labels), and short for a phone's narrow cells
    (start times, or the count of a day of many sessions)."""
    if not sessions:
        return '<span class="note wide">no appointment</span>' if mark == "skipped" else ""
    if len(sessions) <= _LISTED_PER_DAY:
        wide = [_session(s, cell=True) for s in sessions]
        narrow = [_start(s) for s in sessions]
    else:
        active = [s for s in sessions if s.active]
        wide = (
            [
                f'<span class="many">{_count(len(active), "appointment")}</span>',
                _span(active[0].start, max(s.end for s in active)),
            ]
            if active
            else []
        )
        wide += [
            f'<span class="note">{count} {status}</span>'
            for status in ("missed", "cancelled")
            if (count := sum(1 for s in sessions if s.status == status))
        ]
        narrow = [f"{len(active)}\N{MULTIPLICATION SIGN}", _start(active[0])] if active else []
    return (
        f'<span class="wide">{"<br>".join(wide)}</span>'
        f'<span class="narrow">{"<br>".join(narrow)}</span>'
    )


def _describe(sessions: Sequence[Session]) -> str:
    """A day in the list: every session's time (and state), after the count on busy days."""
    # A line breaks between the parts, never inside one.
    if len(sessions) <= _LISTED_PER_DAY:
        return ", ".join(f'<span class="part">{_session(s)}</span>' for s in sessions)
    # A day of many: each start time, and when the day ends.
    starts = [f'<span class="part">{_start(s, label=True)}</span>' for s in sessions]
    active = [s for s in sessions if s.active]
    until = f" (until {max(s.end for s in active):%H:%M})" if active else ""
    return (
        f"{_count(len(starts), 'appointment')} at {', '.join(starts[:-1])} and {starts[-1]}{until}"
    )


def _session(session: Session, *, cell: bool = False) -> str:
    time = _span(session.start, session.end)
    # A cell is narrow: the label goes on its own line there.
    sep = "<br>" if cell else " "
    if session.status == "cancelled":
        return f'<s>{time}</s>{sep}<span class="note">cancelled</span>'
    if session.status == "missed":
        return f'{time}{sep}<span class="note">missed</span>'
    return time


def _start(session: Session, *, label: bool = False) -> str:
    """A session's start time, struck through if cancelled, and with ``label`` followed by
    "(missed)" or "(cancelled)"."""
    time = f'<span class="t">{session.start:%H:%M}</span>'
    if session.status == "cancelled":
        time = f"<s>{time}</s>"
    if label and not session.active:
        time += f' <span class="note">({session.status})</span>'
    return time


def _span(start: dt.datetime, end: dt.datetime) -> str:
    """``09:00\N{EN DASH}09:40``, never broken at the dash."""
    return f'<span class="t">{start:%H:%M}{_DASH}{end:%H:%M}</span>'


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _e(text: str) -> str:
    return str(markupsafe.escape(text))
