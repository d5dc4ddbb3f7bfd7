"""The desk's form fields read strictly: each bad value is a :class:`FieldError` naming the
field as the page labels it, and what is allowed.

The checks are the library's own (:func:`tms_schedule._time.as_date`,
:func:`~tms_schedule._time.as_time`, :func:`tms_schedule._validate.int_in_range`,
:func:`~tms_schedule._validate.check_text`), so the desk accepts what the command line and
the files accept, and a value refused here would be refused there in the same words. The
desk only reads a form's text first: it strips it, and takes the ways people type a time
(``9.00``, ``9h00``, ``0900``) as ``9:00``.

>>> date_field({"start": "2026-13-01"}, "start", "Earliest start")
Traceback (most recent call last):
...
tms_schedule.desk.forms.FieldError: Earliest start: must be a date written YYYY-MM-DD, got '2026-13-01'
>>> time_field({"at": "9.30"}, "at", "Time")
datetime.time(9, 30)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from tms_schedule._time import as_date, as_time
from tms_schedule._validate import check_text, int_in_range
from tms_schedule.errors import InvalidInputError

__all__ = [
    "FieldError",
    "choice_field",
    "date_field",
    "int_field",
    "text_field",
    "time_field",
]

# The other ways a person types a time of day: 9.30, 9h30, 0930 (9:30 is the library's).
_TIME = re.compile(r"([01]?\d|2[0-3])[.h]?([0-5]\d)")
_NUMBER = re.compile(r"-?\d{1,9}")
_T = TypeVar("_T")


class FieldError(InvalidInputError):
    """A form field's value refused: ``field`` is its name in the form, ``label`` what the
    page calls it, ``message`` what is wrong (the text after the label)."""

    def __init__(self, field: str, label: str, message: str) -> None:
        super().__init__(f"{label}: {message}", field=field)
        self.label = label
        self.message = message


def _checked(name: str, label: str, check: Callable[[], _T]) -> _T:
    """``check()``'s answer; its refusal (which names ``label``) as the form's field."""
    try:
        return check()
    except InvalidInputError as error:
        text = str(error)
        message = text[len(label) + 2 :] if text.startswith(f"{label}: ") else text
        raise FieldError(name, label, message) from None


def text_field(
    form: Mapping[str, str],
    name: str,
    label: str,
    *,
    required: bool = True,
    limit: int = 200,
    lines: bool = False,
) -> str:
    """The field's text, stripped (a text area's line breaks as line feeds); refused when
    empty (if required), too long or holding control characters."""
    value = (form.get(name) or "").strip().replace("\r\n", "\n")
    if required and not value:
        raise FieldError(name, label, "must not be empty")
    return _checked(
        name,
        label,
        lambda: check_text(value, label, InvalidInputError, limit=limit, lines=lines, blank=True),
    )


def date_field(form: Mapping[str, str], name: str, label: str) -> dt.date:
    """A date written 2026-11-16 (what a browser's date field sends)."""
    value = (form.get(name) or "").strip()
    return _checked(name, label, lambda: as_date(value, label))


def time_field(form: Mapping[str, str], name: str, label: str) -> dt.time:
    """A time of day: 09:00, 9:00, 0900, 9.00 or 9h00."""
    value = (form.get(name) or "").strip()
    other = _TIME.fullmatch(value)
    if other is not None:
        value = f"{other[1]}:{other[2]}"
    return _checked(name, label, lambda: as_time(value, label))


def int_field(form: Mapping[str, str], name: str, label: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``."""
    value = (form.get(name) or "").strip()
    number: object = int(value) if _NUMBER.fullmatch(value) else value
    return _checked(name, label, lambda: int_in_range(number, label, low, high))


def choice_field(form: Mapping[str, str], name: str, label: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    value = (form.get(name) or "").strip()
    if value not in choices:
        shown = f"{value[:40]!r}" if value else "nothing"
        raise FieldError(name, label, f"must be one of {', '.join(choices)}, got {shown}")
    return value
