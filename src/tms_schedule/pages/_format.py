"""What the pages' templates share: words for dates, times, lengths and counts, and the
CSS string that puts a text at the foot of a printed page. Each is a Jinja2 filter
(:data:`FILTERS`) and a plain function the text and CSV renderings call.

Names come from fixed English tables (:mod:`tms_schedule._dates`), never the machine's
locale: the same input gives the same page anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from tms_schedule._dates import MONTH_ABBR, long_day, short_day

__all__ = [
    "FILTERS",
    "count",
    "css_string",
    "duration",
    "hm",
    "span",
    "spreadsheet_text",
    "stamp",
]

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"); the same
# list as the course export's (tms_schedule.export.csv).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def hm(moment: dt.datetime | dt.time) -> str:
    """``09:00``."""
    return f"{moment:%H:%M}"


def span(start: dt.datetime | dt.time, end: dt.datetime | dt.time) -> str:
    """``09:00-09:40`` (a hyphen, for text and CSV)."""
    return f"{start:%H:%M}-{end:%H:%M}"


def duration(minutes: int) -> str:
    """``1 h 25 min``, ``40 min``, ``2 h``.

    >>> duration(85), duration(40), duration(120), duration(0)
    ('1 h 25 min', '40 min', '2 h', '0 min')
    """
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def spreadsheet_text(value: str) -> str:
    """A text cell a spreadsheet shows rather than runs: one that starts like a formula
    gets a single quote in front, as the course export does.

    >>> spreadsheet_text("=1+2"), spreadsheet_text("c-1")
    ("'=1+2", 'c-1')
    """
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def count(number: int, noun: str) -> str:
    """``1 appointment``, ``36 appointments``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def stamp(issued: dt.date | None, revision: int | None = None) -> str:
    """When a page was issued: ``Issued 16 Nov 2026 07:45`` (a date and time), ``Issued
    16 Nov 2026`` (a date), then `` · revision 2`` when a revision is given; empty with
    neither. The library reads no clock: the caller says when.

    >>> stamp(dt.datetime(2026, 11, 16, 7, 45)), stamp(dt.date(2026, 11, 16), 2), stamp(None, 0)
    ('Issued 16 Nov 2026 07:45', 'Issued 16 Nov 2026 \\xb7 revision 2', 'Revision 0')
    """
    parts = []
    if issued is not None:
        day = f"Issued {issued.day} {MONTH_ABBR[issued.month - 1]} {issued.year}"
        parts.append(day + (f" {issued:%H:%M}" if isinstance(issued, dt.datetime) else ""))
    if revision is not None:
        parts.append(f"revision {revision}" if parts else f"Revision {revision}")
    return " \N{MIDDLE DOT} ".join(parts)


def css_string(text: str) -> Markup:
    """A quoted CSS string with anything but ASCII letters and digits escaped, so no text
    can end the string, the rule or the style element. Spaces too: a space right after an
    escape would be read as its end.

    >>> print(css_string("A&B </style>"))
    "A\\000026B\\000020\\00003c\\00002fstyle\\00003e"
    """
    escaped = (c if c.isascii() and c.isalnum() else f"\\{ord(c):06x}" for c in str(text))
    # Safe in HTML as it is: it holds letters, digits, backslashes and the quotes alone.
    return Markup('"' + "".join(escaped) + '"')


#: The filters every template may use, by name.
FILTERS: dict[str, Callable[..., Any]] = {
    "count": count,
    "css_string": css_string,
    "duration": duration,
    "hm": hm,
    "long_day": long_day,
    "short_day": short_day,
    "stamp": stamp,
}
