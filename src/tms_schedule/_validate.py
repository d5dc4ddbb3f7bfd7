"""Small validators shared by the package: each error names the field and the bounds.

A field is named in the words of the person who gives it: the keyword of a function
(``start``), or for a field of a value class the class in words and the field (``closure
start``, ``daily phase sessions``), never a class name a reader would have to look up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from typing import Any, TypeGuard

import attrs

from tms_schedule.errors import InvalidInputError

__all__ = [
    "COURSE_ID",
    "check_course_id",
    "duration_between",
    "field_name",
    "int_between",
    "int_in_range",
    "is_whole",
    "minutes",
    "noun",
    "parse_json",
    "to_minutes",
]

#: A course id: printable ASCII, no space at either end (a copied id often brings one along,
#: and "c-1 " would give other calendar UIDs than "c-1"), matched whole so no line break
#: slips in at the end.
COURSE_ID = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?")
_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


def noun(instance: object) -> str:
    """What a value is, in words: a class's ``_noun``, else its name split into lower-case
    words (``ExtraOpenDay``: ``extra open day``)."""
    cls = type(instance)
    given = cls.__dict__.get("_noun")
    return given if isinstance(given, str) else _WORDS.sub(" ", cls.__name__).lower()


def field_name(instance: object, attribute: attrs.Attribute[Any]) -> str:
    """A value class's field in words: ``closure start``."""
    return f"{noun(instance)} {attribute.name}"


def is_whole(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is a whole number: an int, and not a bool (which Python counts as one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def int_in_range(
    value: Any, field: str, low: int, high: int, error: type[InvalidInputError] = InvalidInputError
) -> int:
    """``value`` if it is a whole number (not a bool) from ``low`` to ``high`` inclusive.

    >>> int_in_range(500, "window", 0, 240)
    Traceback (most recent call last):
    ...
    tms_schedule.errors.InvalidInputError: window: must be a whole number from 0 to 240, got 500

    Raises:
        InvalidInputError: (or ``error``) anything else, naming ``field`` and the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(
            f"{field}: must be a whole number from {low} to {high}, got {value!r}", field=field
        )
    return value


def int_between(
    low: int, high: int, error: type[InvalidInputError]
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: an int (not a bool) from ``low`` to ``high`` inclusive."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        int_in_range(value, field_name(instance, attribute), low, high, error)

    return check


def duration_between(
    low: dt.timedelta, high: dt.timedelta, error: type[InvalidInputError]
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: a timedelta from ``low`` to ``high`` inclusive."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, dt.timedelta) or not low <= value <= high:
            field = field_name(instance, attribute)
            raise error(
                f"{field}: must be a duration from {minutes(low)} to {minutes(high)}, got"
                f" {value!r}",
                field=field,
            )

    return check


def check_course_id(value: Any, field: str, error: type[InvalidInputError]) -> str:
    """``value`` if it is a course id (see :data:`COURSE_ID`).

    Raises:
        InvalidInputError: (or ``error``) anything else, naming ``field``.
    """
    if not isinstance(value, str) or not COURSE_ID.fullmatch(value):
        raise error(
            f"{field}: must be 1 to 128 printable ASCII characters, not starting or ending"
            " with a space (an opaque id, never a patient's name or record number),"
            f" got {value!r}",
            field=field,
        )
    return value


def to_minutes(value: Any) -> Any:
    """Converter: a number of minutes becomes a timedelta; anything else is left to the validator."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.timedelta(minutes=value)
        except (OverflowError, ValueError):  # beyond any duration, or not a number: refused
            return value
    return value


def minutes(value: dt.timedelta) -> str:
    total = value.total_seconds() / 60
    return f"{total:g} min"


def parse_json(text: str | bytes, error: type[ValueError], what: str) -> Any:
    """``json.loads`` whose every failure is ``error`` in words a reader acts on.

    >>> parse_json('{"n": ' + "9" * 5000 + "}", ValueError, "course")
    Traceback (most recent call last):
    ...
    ValueError: course: not valid JSON (truncated or corrupt?): a number longer than 4300 digits
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        why = f"{problem.msg} (line {problem.lineno}, column {problem.colno})"
    except UnicodeDecodeError:
        why = "not UTF-8 text"
    except RecursionError:
        why = "nested too deeply"
    except ValueError:  # the one other failure: an integer too long to convert
        why = f"a number longer than {sys.get_int_max_str_digits()} digits"
    raise error(f"{what}: not valid JSON (truncated or corrupt?): {why}")


# What no free text may hold, written or read: control characters (terminal escape codes,
# tab, the C1 range with U+0085), the line and paragraph separators U+2028 and U+2029, and
# lone surrogates (bytes that were not UTF-8: no file, database or e-mail can hold them).
# Text of several lines (a note, a description) may hold line feeds and tabs, nothing else.
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def check_text(
    value: Any,
    field: str,
    error: type[ValueError],
    *,
    limit: int = 200,
    lines: bool = False,
    blank: bool = False,
) -> str:
    """Free text someone typed (a reason, a note, a label, a name), checked the one way
    every writer and every loader checks it, so that what is accepted once reads back
    everywhere; returns it unchanged.

    One line of at most ``limit`` characters, or with ``lines`` several lines (line feeds
    and tabs allowed); never control characters, U+2028/U+2029 or undecodable bytes; not
    blank unless ``blank``. Anything else raises ``error`` naming ``field``.

    >>> check_text("Snow day", "reason", ValueError)
    'Snow day'
    >>> check_text("Snow\\tday", "reason", ValueError)
    Traceback (most recent call last):
    ...
    ValueError: reason: must be one line of text without control characters (no tab or line break), got 'Snow\\tday'
    """
    if not isinstance(value, str) or len(value) > limit or (not blank and not value.strip()):
        what = "a text" if blank else "a non-empty text"
        raise error(f"{field}: must be {what} of at most {limit} characters, got {_shown(value)}")
    if (_NOT_LINES if lines else _NOT_ONE_LINE).search(value):
        rule = (
            "must not contain control characters other than line breaks and tabs"
            if lines
            else "must be one line of text without control characters (no tab or line break)"
        )
        raise error(f"{field}: {rule}, got {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut in the middle when it is long."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:50]}...{text[-20:]}"
