"""The desk's form fields read strictly: each bad value is a :class:`FieldError` naming the
field as the page labels it, and what is allowed.

>>> date_field({"start": "2026-13-01"}, "start", "Earliest start")
Traceback (most recent call last):
...
tms_schedule.desk.forms.FieldError: Earliest start: must be a date such as 2026-11-16, got '2026-13-01'
>>> time_field({"at": "9:30"}, "at", "Time")
datetime.time(9, 30)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

__all__ = [
    "FieldError",
    "choice_field",
    "date_field",
    "int_field",
    "text_field",
    "time_field",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_TIME = re.compile(r"([01]?\d|2[0-3])[:.h]?([0-5]\d)")


class FieldError(ValueError):
    """A form field's value refused: ``field`` is its name in the form, ``label`` what the
    page calls it."""

    def __init__(self, field: str, label: str, message: str) -> None:
        super().__init__(f"{label}: {message}")
        self.field = field
        self.label = label
        self.message = message


def text_field(
    form: Mapping[str, str],
    name: str,
    label: str,
    *,
    required: bool = True,
    limit: int = 200,
    lines: bool = False,
) -> str:
    """The field's text, stripped; refused when empty (if required), too long or holding
    control characters."""
    value = (form.get(name) or "").strip()
    if required and not value:
        raise FieldError(name, label, "must not be empty")
    if len(value) > limit:
        raise FieldError(name, label, f"at most {limit} characters, got {len(value)}")
    checked = value.replace("\n", "").replace("\r", "") if lines else value
    if _CONTROL.search(checked) or (not lines and any(c in value for c in "\t\n\r")):
        raise FieldError(name, label, "must be plain text on one line, without tabs")
    return value


def date_field(form: Mapping[str, str], name: str, label: str) -> dt.date:
    """A date written 2026-11-16 (what a browser's date field sends)."""
    value = (form.get(name) or "").strip()
    if not value:
        raise FieldError(name, label, "must be a date such as 2026-11-16")
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(
            name, label, f"must be a date such as 2026-11-16, got {value[:40]!r}"
        ) from None


def time_field(form: Mapping[str, str], name: str, label: str) -> dt.time:
    """A time of day: 09:00, 9:00, 0900 or 9.00."""
    value = (form.get(name) or "").strip()
    found = _TIME.fullmatch(value)
    if found is None:
        raise FieldError(name, label, f"must be a time such as 09:00, got {value[:40]!r}")
    return dt.time(int(found[1]), int(found[2]))


def int_field(form: Mapping[str, str], name: str, label: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``."""
    value = (form.get(name) or "").strip()
    if not re.fullmatch(r"-?\d{1,6}", value) or not low <= int(value) <= high:
        raise FieldError(
            name, label, f"must be a whole number from {low} to {high}, got {value[:40]!r}"
        )
    return int(value)


def choice_field(form: Mapping[str, str], name: str, label: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    value = (form.get(name) or "").strip()
    if value not in choices:
        shown = f"{value[:40]!r}" if value else "nothing"
        raise FieldError(name, label, f"must be one of {', '.join(choices)}, got {shown}")
    return value
