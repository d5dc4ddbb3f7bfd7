"""What the pages' templates share: words for dates, times, lengths and counts, and the
CSS string that puts a text at the foot of a printed page. Each is a Jinja2 filter
(:data:`FILTERS`) and a plain function the text and CSV renderings call.

Names come from fixed English tables (:mod:`tms_schedule._dates`), never the machine's
locale: the same input gives the same page anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from markupsafe import Markup

from tms_schedule._dates import MONTH_ABBR, long_day, short_day
from tms_schedule.errors import BookError

__all__ = [
    "FILTERS",
    "STAFF_ONLY",
    "check_page_arguments",
    "clock",
    "count",
    "css_string",
    "day_month_year",
    "duration",
    "hm",
    "named",
    "number",
    "numbers",
    "percent",
    "span",
    "stamp",
]

#: What every page and report for the clinic's staff says under its title: it names
#: protocols, codes and session numbers, and a page left on a desk is read by others.
STAFF_ONLY = "For clinic staff only; not for patients."


def check_page_arguments(clinic_name: object, issued: object) -> None:
    """Refuse a clinic name that is not a text and an issue moment that is not a date (or
    a date and time), naming the field.

    Raises:
        BookError: either is not.
    """
    if issued is not None and not isinstance(issued, dt.date):
        raise BookError(f"issued: must be a date or a date and time, got {issued!r}")
    if clinic_name is not None and not isinstance(clinic_name, str):
        raise BookError(f"clinic_name: must be a text, got {clinic_name!r}")


def hm(moment: dt.datetime | dt.time) -> str:
    """``09:00``.

    >>> hm(dt.time(9, 5))
    '09:05'
    """
    # Not strftime: a page asks for hundreds, and the fields read ten times faster.
    return f"{moment.hour:02d}:{moment.minute:02d}"


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


def day_month_year(day: dt.date) -> str:
    """``16 Nov 2026``."""
    return f"{day.day} {MONTH_ABBR[day.month - 1]} {day.year}"


def named(key: str, names: Mapping[str, str]) -> str:
    """What ``names`` calls ``key`` (a chair's name by its id), else ``key`` itself."""
    return names.get(key, key)


def number(value: float) -> str:
    """A number in an SVG attribute: ``68``, ``44.3333`` (six significant digits)."""
    return f"{value:g}"


def numbers(sessions: Iterable[int]) -> str:
    """Sessions by the numbers ``record`` takes, in the order given: ``no. 12``, ``nos. 1-10``
    (a run), ``nos. 3 and 37``, ``nos. 3, 5 and 37``.

    >>> numbers([12]), numbers(range(1, 11)), numbers([3, 37]), numbers([3, 5, 37])
    ('no. 12', 'nos. 1\u201310', 'nos. 3 and 37', 'nos. 3, 5 and 37')
    """
    found = list(sessions)
    if len(found) == 1:
        return f"no. {found[0]}"
    if len(found) > 2 and found == list(range(found[0], found[0] + len(found))):
        return f"nos. {found[0]}\N{EN DASH}{found[-1]}"
    return f"nos. {', '.join(map(str, found[:-1]))} and {found[-1]}"


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
        day = f"Issued {day_month_year(issued)}"
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
    "clock": clock,
    "count": count,
    "day_month_year": day_month_year,
    "css_string": css_string,
    "duration": duration,
    "hm": hm,
    "long_day": long_day,
    "named": named,
    "number": number,
    "numbers": numbers,
    "percent": percent,
    "short_day": short_day,
    "stamp": stamp,
}
