"""Small validators shared by the attrs classes: each error names the field and the bounds."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

import attrs

from tms_schedule.errors import TmsScheduleError


def field_name(instance: object, attribute: attrs.Attribute[Any]) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


def int_between(
    low: int, high: int, error: type[TmsScheduleError]
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: an int (not a bool) from ``low`` to ``high`` inclusive."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise error(
                f"{field_name(instance, attribute)}: must be a whole number from {low} to {high},"
                f" got {value!r}"
            )

    return check


def duration_between(
    low: dt.timedelta, high: dt.timedelta, error: type[TmsScheduleError]
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator: a timedelta from ``low`` to ``high`` inclusive."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, dt.timedelta) or not low <= value <= high:
            raise error(
                f"{field_name(instance, attribute)}: must be a duration from {minutes(low)} to"
                f" {minutes(high)}, got {value!r}"
            )

    return check


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
