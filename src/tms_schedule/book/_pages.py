"""What the book's views share: durations in words, spreadsheet-safe cells, and the frame
of a printable page (self-contained HTML, print CSS for A4 and Letter, a foot on every
printed page).

The rules are the handout's (:mod:`tms_schedule.export.html`): no script, font, image or
style to fetch, every text escaped, English names from fixed tables, the same input
giving the same string.
"""

from __future__ import annotations

import datetime as dt

import markupsafe

from tms_schedule._dates import MONTH_ABBR

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"); the same
# list as the course export's (tms_schedule.export.csv).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DASH = "\N{EN DASH}"
DOT = " \N{MIDDLE DOT} "

#: The frame every page of the book shares: paper, fonts, the page's width, headings.
BASE_CSS = """\
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
@media screen and (max-width: 599.98px) { body { padding: 4mm 3mm; } }
h1 { font-size: 16pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
p, ul { margin: 0 0 2mm; }
.meta, .issued { font-size: 9pt; }
.t, .nw { white-space: nowrap; }
"""


def escape(text: str) -> str:
    """Text for HTML, quotes included."""
    return str(markupsafe.escape(text))


def words(text: str) -> str:
    """Text for HTML whose lines may break between words but never inside one: a browser
    would otherwise break "re-determination" or "theta-burst" at its hyphen.

    >>> words("Motor threshold re-determination")
    'Motor threshold <span class="nw">re-determination</span>'
    """
    return " ".join(
        f'<span class="nw">{escape(word)}</span>' if "-" in word else escape(word)
        for word in text.split(" ")
    )


def spreadsheet_text(value: str) -> str:
    """A text cell a spreadsheet shows rather than runs: one that starts like a formula
    gets a single quote in front, as the course export does.

    >>> spreadsheet_text("=1+2"), spreadsheet_text("c-1")
    ("'=1+2", 'c-1')
    """
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def length(minutes: int) -> str:
    """``1 h 25 min``, ``40 min``, ``2 h``.

    >>> length(85), length(40), length(120), length(0)
    ('1 h 25 min', '40 min', '2 h', '0 min')
    """
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def clock(minutes: int) -> str:
    """Chair time as hours and minutes: ``38:20`` (``1,250:05`` past a thousand hours).

    >>> clock(2300), clock(5), clock(75005)
    ('38:20', '0:05', '1,250:05')
    """
    hours, rest = divmod(minutes, 60)
    return f"{hours:,}:{rest:02d}"


def percent(part: int, whole: int) -> str:
    """``40%``, rounded down so that a nearly full hour never reads 100% (``-`` with
    nothing open).

    >>> percent(1, 3), percent(599, 600), percent(600, 600), percent(0, 0)
    ('33%', '99%', '100%', '-')
    """
    if whole <= 0:
        return "-"
    return f"{part * 100 // whole}%"


def span(start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
    """``09:00-09:40`` (a hyphen, for text and CSV)."""
    return f"{start:%H:%M}-{end:%H:%M}"


def html_span(start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
    """``09:00\N{EN DASH}09:40``, never broken at the dash."""
    return f'<span class="t">{start:%H:%M}{DASH}{end:%H:%M}</span>'


def stamp_text(issued: dt.date | None) -> str:
    """``Issued 16 Nov 2026 07:45`` (a date and time) or ``Issued 16 Nov 2026``; empty
    without one. The library reads no clock: the caller says when."""
    if issued is None:
        return ""
    day = f"Issued {issued.day} {MONTH_ABBR[issued.month - 1]} {issued.year}"
    return day + (f" {issued:%H:%M}" if isinstance(issued, dt.datetime) else "")


def css_string(text: str) -> str:
    """A quoted CSS string with anything but ASCII letters and digits escaped, so no text
    can end the string, the rule or the style element."""
    escaped = (c if c.isascii() and c.isalnum() else f"\\{ord(c):06x}" for c in text)
    return '"' + "".join(escaped) + '"'


def document(title: str, css: str, body: list[str], foot: str, stamp: str) -> str:
    """A whole page: the head (no fetch, no script), ``css``, and ``body`` lines; every
    printed page has ``foot`` on its left and the stamp and page number on its right."""
    right = f"{css_string(stamp + DOT)} " if stamp else ""
    box = "font-family: Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif;"
    box += " font-size: 8pt;"
    page_foot = (
        "@page {\n"
        f"  @bottom-left {{ content: {css_string(foot)}; {box} }}\n"
        f'  @bottom-right {{ content: {right}"Page " counter(page) " of " counter(pages);'
        f" {box} text-align: right; }}\n"
        "}\n"
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing on the page loads or runs anything, whatever the text fields hold.
        '<meta http-equiv="Content-Security-Policy"'
        " content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>\n{BASE_CSS}{css}{page_foot}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"
