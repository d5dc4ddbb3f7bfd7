"""Printable handout: the appointments as month grids, for the front desk to print or send.

What the page holds, and why:

* one self-contained HTML5 document: inline CSS, no scripts, no fonts, images or styles to
  fetch (a Content-Security-Policy says so too), so it looks the same opened from a mail,
  a browser or a USB stick, and prints the same;
* neutral text, as in the calendar files: "Your appointments", the clinic's name and contact
  details; no protocol, phase or treatment word unless the clinic writes it into ``title``
  or ``description`` itself (a handout left on a desk or a fridge is read by others);
* the number of appointments and the first and last date, then one month grid per month
  the course touches (weeks from Monday): each appointment day marked with its time, or
  with the count and the span on days of many sessions; days passed over marked and
  explained below the grids; cancelled sessions struck through and labelled;
* every appointment day again as a list, so each date is in the text itself (for screen
  readers, mail previews, and people who read lists more easily than grids);
* print CSS for both A4 and US Letter without forcing either: 12 mm margins, a column
  186 mm wide (A4's width less margins) and grids sized so that two months fit in Letter's
  255 mm of height; a month never splits across pages; marks read in black and white
  (borders and words, not colour alone);
* English names from fixed tables and every text HTML-escaped; the same input always gives
  the same string.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from tms_schedule._dates import (
    WEEKDAY_ABBR,
    WEEKDAY_FULL,
    long_day,
    month_title,
    month_weeks,
    months,
    short_day,
)
from tms_schedule.export.options import CalendarOptions
from tms_schedule.schedule import Schedule, Session

__all__ = ["schedule_to_html"]

# Up to this many sessions a day are listed one by one; more read as "10 appointments".
_LISTED_PER_DAY = 3
_DASH = "\N{EN DASH}"

_CSS = """\
@page { margin: 12mm; }
* { box-sizing: border-box; }
html {
  color: #000; background: #fff;
  font-family: Arial, Helvetica, "Liberation Sans", "DejaVu Sans", sans-serif;
  font-size: 10pt; line-height: 1.3;
  -webkit-print-color-adjust: exact; print-color-adjust: exact;
}
/* 186 mm: A4's 210 mm less the margins; Letter (216 mm) is wider. */
body { margin: 0 auto; max-width: 186mm; }
@media screen { body { padding: 8mm 4mm; } }
h1 { font-size: 18pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 0 0 1mm; }
p, ul, address { margin: 0 0 2mm; }
address { font-style: normal; }
address span { margin-right: 5mm; white-space: nowrap; }
a { color: inherit; }
.title { font-size: 12pt; }
.notes { white-space: pre-line; }
.summary { font-size: 11pt; margin-bottom: 1.5mm; }
.legend { list-style: none; padding: 0; font-size: 9pt; }
.legend li { display: inline-block; margin-right: 6mm; }
.key {
  display: inline-block; width: 6mm; height: 4.5mm; vertical-align: middle;
  border: 0.25mm solid #888; font-size: 7pt; font-weight: bold; text-align: center;
}
.key.appt { border: 0.7mm solid #000; background: #eee; }
.key.skip { border: 0.4mm dashed #000; }
/* Two grids of six weeks and the page heading fit in Letter's 255 mm of height. */
.month { break-inside: avoid; page-break-inside: avoid; margin: 3mm 0 0; }
.month table { width: 100%; table-layout: fixed; border-collapse: separate; border-spacing: 0.8mm; }
.month th { font-size: 9pt; text-align: left; padding: 0 1mm; }
.month td {
  height: 13.5mm; vertical-align: top; padding: 0.6mm 1mm;
  border: 0.25mm solid #999; font-size: 8.5pt; line-height: 1.2; overflow-wrap: anywhere;
}
.month td.out { border: 0; }
.month td.appt { border: 0.7mm solid #000; background: #eee; font-weight: bold; }
.month td.skip { border: 0.4mm dashed #000; font-style: italic; }
.month td.skip .num { font-style: normal; }
.num { display: block; font-size: 10pt; font-weight: bold; }
.month .many { font-size: 7.5pt; font-weight: normal; }
.month td.weekend .num { font-weight: normal; }
.note { font-style: italic; }
s { text-decoration-thickness: 0.3mm; }
.after { margin-top: 4mm; }
.after h2 { break-after: avoid; page-break-after: avoid; }
.skipped { list-style: none; padding: 0; }
.skipped li { break-inside: avoid; }
.days { columns: 3; column-gap: 6mm; list-style: none; padding: 0; font-size: 9pt; }
.days li { break-inside: avoid; }
.date { font-weight: bold; margin-right: 1.5mm; }
.date, .part { white-space: nowrap; }
"""


def schedule_to_html(schedule: Schedule, options: CalendarOptions | None = None) -> str:
    """The schedule as a printable handout: one HTML5 page, self-contained.

    Args:
        schedule: the sessions to show; cancelled ones are struck through.
        options: the clinic's name, contact details, and its own ``title`` and
            ``description`` (the same :class:`~tms_schedule.export.options.CalendarOptions` as the
            calendar files); default: neutral text and no contact details.

    >>> from tms_schedule import ClinicCalendar, Plan
    >>> schedule = Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1").expand()
    >>> page = schedule_to_html(schedule, CalendarOptions(clinic_name="Example Clinic"))
    >>> page.startswith("<!DOCTYPE html>"), "Your appointments \N{EM DASH} Example Clinic" in page
    (True, True)
    >>> page.count('<section class="month"'), "30 appointments" in page
    (2, True)
    """
    options = options or CalendarOptions()
    heading = "Your appointments"
    if options.clinic_name:
        heading += f" \N{EM DASH} {options.clinic_name}"
    by_day: dict[dt.date, list[Session]] = {}
    for session in schedule.sessions:
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
        f"<style>\n{_CSS}</style>",
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
    out.append("</header>")
    out.append(_summary(schedule))
    if by_day or skipped:
        out.append(_legend(skipped, any(s.status == "cancelled" for s in schedule.sessions)))
    for year, month in months([*by_day, *skipped]):
        out += _month(year, month, by_day, skipped)
    if skipped:
        out += _day_list(
            "Days skipped", "skipped", {day: _e(reason) for day, reason in skipped.items()}
        )
    if by_day:
        out += _day_list(
            "Every appointment", "days", {day: _describe(s) for day, s in by_day.items()}
        )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _day_list(title: str, css_class: str, lines: dict[dt.date, str]) -> list[str]:
    """A titled list of days, each with its (already escaped) line."""
    return [
        '<section class="after">',
        f"<h2>{title}</h2>",
        f'<ul class="{css_class}">',
        *(
            f'<li><span class="date">{short_day(day)}</span> {line}</li>'
            for day, line in lines.items()
        ),
        "</ul>",
        "</section>",
    ]


def _summary(schedule: Schedule) -> str:
    kept = [s for s in schedule.sessions if s.status != "cancelled"]
    if not kept:
        return '<p class="summary">No appointments.</p>'
    first, last = kept[0].start.date(), kept[-1].start.date()
    when = (
        f"on {long_day(first)}" if first == last else f"from {long_day(first)} to {long_day(last)}"
    )
    cancelled = len(schedule.sessions) - len(kept)
    struck = (
        f" {_count(cancelled, 'cancelled appointment')} {'is' if cancelled == 1 else 'are'}"
        " struck through."
        if cancelled
        else ""
    )
    return (
        f'<p class="summary"><strong>{_count(len(kept), "appointment")}</strong> {when}.'
        f" Times are the clinic's local time ({_e(schedule.timezone)}).{struck}</p>"
    )


def _legend(skipped: dict[dt.date, str], cancelled: bool) -> str:
    items = ['<li><span class="key appt"></span> appointment, with its time</li>']
    if skipped:
        items.append(
            '<li><span class="key skip"></span> no appointment: see \u201cDays skipped\u201d below</li>'
        )
    if cancelled:
        items.append("<li><s>09:00</s> cancelled</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


def _month(
    year: int, month: int, by_day: dict[dt.date, list[Session]], skipped: dict[dt.date, str]
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
            sessions = by_day.get(day, [])
            lines = _describe_cell(sessions)
            if any(s.status != "cancelled" for s in sessions):
                classes.append("appt")
            elif day in skipped and not sessions:
                classes.append("skip")
                lines = ["no appointment"]
            attribute = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(
                f'<td{attribute}><time class="num" datetime="{day.isoformat()}">{day.day}</time>'
                f"{'<br>'.join(lines)}</td>"
            )
        out.append(f"<tr>{''.join(cells)}</tr>")
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _describe_cell(sessions: Sequence[Session]) -> list[str]:
    """The lines of a grid cell: each session's time, or the count and span of many."""
    if len(sessions) <= _LISTED_PER_DAY:
        return [_session(s, cell=True) for s in sessions]
    summary, cancelled = _many(sessions)
    return [*summary, *cancelled]


def _describe(sessions: Sequence[Session]) -> str:
    """A day in the list: each session's time, or the count and span of many."""
    if len(sessions) <= _LISTED_PER_DAY:
        parts = [_session(s) for s in sessions]
    else:
        summary, cancelled = _many(sessions)
        parts = [", ".join(summary)] if summary else []
        parts += cancelled
    # A line breaks between the parts, never inside one.
    return ", ".join(f'<span class="part">{part}</span>' for part in parts)


def _many(sessions: Sequence[Session]) -> tuple[list[str], list[str]]:
    """A day of many sessions: the count and the span of those kept, and the cancelled count."""
    kept = [s for s in sessions if s.status != "cancelled"]
    summary = (
        [
            f'<span class="many">{_count(len(kept), "appointment")}</span>',
            f"{kept[0].start:%H:%M}{_DASH}{max(s.end for s in kept):%H:%M}",
        ]
        if kept
        else []
    )
    dropped = len(sessions) - len(kept)
    return summary, [f'<span class="note">{dropped} cancelled</span>'] if dropped else []


def _session(session: Session, *, cell: bool = False) -> str:
    time = f"{session.start:%H:%M}{_DASH}{session.end:%H:%M}"
    # A cell is narrow: the label goes on its own line there.
    sep = "<br>" if cell else " "
    if session.status == "cancelled":
        return f'<s>{time}</s>{sep}<span class="note">cancelled</span>'
    if session.status == "missed":
        return f'{time}{sep}<span class="note">missed</span>'
    return time


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
