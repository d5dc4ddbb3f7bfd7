"""The clinic settings file (``clinic.toml``): calendar, holidays, closures and protocols.

A front desk keeps one file per clinic; every key is optional except ``timezone``::

    timezone = "America/Denver"
    open_weekdays = "Mon-Fri"          # or ["Mon", "Tue", ...]
    hours = "08:00-18:00"

    [weekday_hours]
    Fri = "08:00-13:00"

    [holidays]
    country = "US-CO"                  # ISO country code, optionally -SUBDIVISION
    open_on = ["Veterans Day"]        # or close_on = [...] (only these)
    observed = true
    language = "en_US"

    [[closures]]
    date = 2026-12-24                  # a single day...
    reason = "Staff training"

    [[closures]]
    from = 2026-12-28                  # ...or a range, both days included
    to = 2026-12-31
    reason = "Winter break"

    [[extra_open_days]]
    date = 2026-12-05
    hours = "09:00-13:00"
    reason = "Makeup Saturday"

    [calendar]                         # what calendar files say (all optional)
    clinic_name = "Example Clinic"
    location = "1 Main St, Denver"
    phone = "+1 303 555 0100"
    url = "https://clinic.example/visit"
    organizer = "desk@clinic.example"
    cannot_come = "Call 303 555 0100 a day ahead"  # the handout's line (default: call us)
    reminders = ["1d", "1h"]           # [] turns reminders off
    uid_key = "a clinic secret of 16+ characters"
    times = "tzid"                     # or "utc"
    refresh_hours = 12                 # only for a subscribed feed

    [[protocol]]                       # the clinic's own or tuned protocols
    id = "clinic-10hz"
    base = "standard-10hz"
    acute_sessions = 24

    [[chairs]]                         # the clinic's book (tms-schedule book ...)
    id = "c1"
    label = "Chair 1"
    runs = ["figure-8"]                # equipment: figure-8, h1, h7, h4, or your own tags
    turnover_minutes = 5               # between two patients (default 5)

    [[chairs.closures]]                # the chair's own service days
    date = 2026-12-07
    reason = "Coil service"

    [[staff_limits]]                   # at most this many sessions at once
    sessions = 2
    hours = "07:00-09:00"              # optional: only in these hours
    weekdays = "Mon-Fri"               # optional: only on these days

    [[scales]]                         # rating scales besides PHQ-9 (0-27, remission < 5)
    name = "HAM-D-17"
    low = 0
    high = 52
    remission_below = 8

    [[authorizations]]                 # a payer's staged authorization
    payer = "medicare-a57692"          # (Medicare's is built in under this id)
    name = "Medicare A57692 (LCD L37086)"
    sessions = 20                      # approved before the decision, at session 20
    warn_sessions = 5                  # the front desk is warned 5 sessions ahead
    remission = { taper = [2, 2, 1] }
    improved = { more = 10, taper = [3, 2, 1] }   # at least improvement_percent (25)
    otherwise = { stop = true }

Every error names the file, the key and what is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from tms_schedule._toml import TomlTable, load_toml, parse_toml
from tms_schedule.book.chairs import Chair, StaffLimit
from tms_schedule.catalogue import Catalogue, protocols_from_table
from tms_schedule.clinic import ClinicCalendar, Closure, ExtraOpenDay, parse_weekdays
from tms_schedule.course.authorization import StagedAuthorization, staged_from_table
from tms_schedule.course.ratings import SCALES, Scale, scales_from_table
from tms_schedule.errors import ConfigError, TmsScheduleError
from tms_schedule.export.options import CalendarOptions

__all__ = ["ClinicSettings", "clinic_from_table", "load_clinic", "settings_from_bytes"]

_TOP_KEYS = {
    "timezone",
    "open_weekdays",
    "hours",
    "weekday_hours",
    "holidays",
    "closures",
    "extra_open_days",
    "protocol",
    "search_horizon_days",
    "calendar",
    "chairs",
    "staff_limits",
    "scales",
    "authorizations",
}
_CALENDAR_KEYS = {
    "clinic_name": "str",
    "title": "str",
    "calendar_name": "str",
    "location": "str",
    "phone": "str",
    "url": "str",
    "organizer": "str",
    "description": "str",
    "cannot_come": "str",
    "session_numbers": "bool",
    "milestones": "bool",
    "reminders": "str-list",
    "uid_key": "str",
    "times": "str",
    "refresh_hours": "int",
}
_HOLIDAY_KEYS = {"country", "subdivision", "close_on", "open_on", "observed", "language"}


@attrs.frozen
class ClinicSettings:
    """What a clinic settings file holds: the calendar, protocols and calendar-file choices.

    ``catalogue`` is the built-in protocols plus the file's ``[[protocol]]`` tables;
    ``calendar_options`` the ``[calendar]`` table.
    """

    calendar: ClinicCalendar
    catalogue: Catalogue = attrs.Factory(Catalogue)
    calendar_options: CalendarOptions = attrs.Factory(CalendarOptions)
    path: str | None = None
    chairs: tuple[Chair, ...] = ()
    staff_limits: tuple[StaffLimit, ...] = ()
    scales: Mapping[str, Scale] = attrs.Factory(lambda: dict(SCALES))
    authorizations: Mapping[str, StagedAuthorization] = attrs.Factory(dict)


def load_clinic(path: str | Path) -> ClinicSettings:
    """Read a clinic settings file.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "clinic.toml").write_text('timezone = "Europe/Berlin"\\n')
    >>> load_clinic(folder / "clinic.toml").calendar.timezone
    'Europe/Berlin'
    """
    return settings_from_table(load_toml(path), str(path))


def settings_from_bytes(data: bytes, name: str) -> ClinicSettings:
    """A clinic settings document kept elsewhere (the book's database keeps its own);
    ``name`` stands for the file in error messages."""
    return settings_from_table(parse_toml(data, name), name)


def settings_from_table(table: TomlTable, name: str) -> ClinicSettings:
    """The settings a parsed settings document gives."""
    calendar = clinic_from_table(table)
    catalogue = Catalogue().with_protocols(protocols_from_table(table, Catalogue()))
    options = _calendar_options(table)
    chairs = tuple(_chairs(table))
    limits = tuple(_staff_limits(table))
    scales = scales_from_table(table)
    authorizations = staged_from_table(table)
    return ClinicSettings(
        calendar, catalogue, options, name, chairs, limits, scales, authorizations
    )


def _chairs(table: TomlTable) -> list[Chair]:
    result = []
    for i, raw in enumerate(_array(table, "chairs")):
        entry = table.child(f"chairs[{i}]", raw)
        entry.check_keys({"id", "label", "runs", "turnover_minutes", "closures"})
        closures = _closures(entry)
        turnover = entry.typed("turnover_minutes", "number")
        if turnover is not None and not 0 <= turnover <= 120:
            raise ConfigError(
                f"{entry.where('turnover_minutes')}: must be from 0 to 120 minutes, got {turnover}"
            )
        try:
            result.append(
                Chair(
                    entry.require("id", str),
                    entry.typed("label", "str"),
                    runs=tuple(entry.typed("runs", "str-list"))
                    if "runs" in entry
                    else ("figure-8",),
                    turnover=5 if turnover is None else turnover,
                    closures=tuple(closures),
                )
            )
        except TmsScheduleError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
    ids = [chair.id for chair in result]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(
            f"{table.where('chairs')}: each chair id once; given twice: {', '.join(twice)}"
        )
    return result


def _staff_limits(table: TomlTable) -> list[StaffLimit]:
    result = []
    for i, raw in enumerate(_array(table, "staff_limits")):
        entry = table.child(f"staff_limits[{i}]", raw)
        entry.check_keys({"sessions", "hours", "weekdays"})
        try:
            weekdays = (
                parse_weekdays(entry.get("weekdays"), "weekdays")
                if "weekdays" in entry
                else tuple(range(7))
            )
            result.append(
                StaffLimit(
                    entry.typed("sessions", "int", required=True),
                    entry.typed("hours", "str"),
                    weekdays,
                )
            )
        except ConfigError:
            raise
        except TmsScheduleError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
    return result


def _calendar_options(table: TomlTable) -> CalendarOptions:
    if "calendar" not in table:
        return CalendarOptions()
    section = table.child("calendar", table.get("calendar"))
    section.check_keys(_CALENDAR_KEYS)
    kwargs = {
        key: section.typed(key, kind) for key, kind in _CALENDAR_KEYS.items() if key in section
    }
    if "refresh_hours" in kwargs:  # for a subscribed feed: how often clients should refresh
        hours = kwargs.pop("refresh_hours")
        if not 1 <= hours <= 168:
            raise ConfigError(
                f"{section.where('refresh_hours')}: must be from 1 to 168, got {hours}"
            )
        kwargs["refresh"] = dt.timedelta(hours=hours)
    try:
        return CalendarOptions(**kwargs)
    except TmsScheduleError as error:
        raise ConfigError(f"{section.where()}: {error}") from None


def clinic_from_table(table: TomlTable) -> ClinicCalendar:
    """The :class:`ClinicCalendar` a settings document describes."""
    table.check_keys(_TOP_KEYS)
    kwargs: dict[str, Any] = {"timezone": table.require("timezone", str)}
    if "open_weekdays" in table:
        kwargs["open_weekdays"] = _field(table, "open_weekdays", (str, list))
    if "hours" in table:
        kwargs["hours"] = table.require("hours", str)
    if "weekday_hours" in table:
        kwargs["weekday_hours"] = table.child("weekday_hours", table.get("weekday_hours")).data
    if "search_horizon_days" in table:
        kwargs["search_horizon_days"] = table.typed("search_horizon_days", "int")
    if "holidays" in table:
        kwargs.update(_holidays(table.child("holidays", table.get("holidays"))))
    kwargs["closures"] = tuple(_closures(table))
    kwargs["extra_open_days"] = tuple(_extra_days(table))
    try:
        return ClinicCalendar(**kwargs)
    except TmsScheduleError as error:
        # The calendar names its own fields; the file has its own words for two of them.
        text = str(error)
        for field, key in (
            ("open_holidays:", "holidays.open_on:"),
            ("closing_holidays:", "holidays.close_on:"),
        ):
            if text.startswith(field):
                text = key + text.removeprefix(field)
        raise ConfigError(f"{table.where()}: {text}") from None


def _field(table: TomlTable, key: str, kinds: tuple[type, ...]) -> Any:
    value = table.get(key)
    if not isinstance(value, kinds):
        raise ConfigError(
            f"{table.where(key)}: must be a list of weekdays or a range like 'Mon-Fri'"
        )
    return value


def _holidays(section: TomlTable) -> dict[str, Any]:
    section.check_keys(_HOLIDAY_KEYS)
    country = section.require("country", str)
    if "subdivision" in section:
        if "-" in country:
            raise ConfigError(
                f"{section.where('subdivision')}: give the subdivision in country ('US-CO') or"
                " here, not both"
            )
        country = f"{country}-{section.require('subdivision', str)}"
    result: dict[str, Any] = {"holidays": country}
    if "close_on" in section and "open_on" in section:
        raise ConfigError(
            f"{section.where('close_on')}: give close_on (only these holidays close the clinic)"
            " or open_on (all but these), not both"
        )
    if "close_on" in section:
        result["closing_holidays"] = tuple(section.typed("close_on", "str-list"))
    if "open_on" in section:
        result["open_holidays"] = tuple(section.typed("open_on", "str-list"))
    if "observed" in section:
        result["observed"] = section.typed("observed", "bool")
    if "language" in section:
        result["holiday_language"] = section.require("language", str)
    return result


def _closures(table: TomlTable) -> list[Closure]:
    result = []
    for i, raw in enumerate(_array(table, "closures")):
        entry = table.child(f"closures[{i}]", raw)
        entry.check_keys({"date", "from", "to", "reason"})
        if "date" in entry and ("from" in entry or "to" in entry):
            raise ConfigError(f"{entry.where()}: give date (one day) or from and to, not both")
        if "date" in entry:
            start = end = entry.typed("date", "date", required=True)
        else:
            start = entry.typed("from", "date", required=True)
            end = entry.typed("to", "date", required=True)
        reason = entry.typed("reason", "str") or "Clinic closure"
        try:
            result.append(Closure(start, end, reason))
        except ConfigError:
            raise
        except TmsScheduleError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
    return result


def _extra_days(table: TomlTable) -> list[ExtraOpenDay]:
    result = []
    for i, raw in enumerate(_array(table, "extra_open_days")):
        entry = table.child(f"extra_open_days[{i}]", raw)
        entry.check_keys({"date", "hours", "reason", "catch_up_only"})
        try:
            result.append(
                ExtraOpenDay(
                    entry.typed("date", "date", required=True),
                    entry.typed("hours", "str"),
                    entry.typed("reason", "str") or "Extra open day",
                    bool(entry.typed("catch_up_only", "bool")),
                )
            )
        except ConfigError:
            raise
        except TmsScheduleError as error:
            raise ConfigError(f"{entry.where()}: {error}") from None
    return result


def _array(table: TomlTable, key: str) -> list[Any]:
    value = table.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{table.where(key)}: must be an array of tables written [[{key}]]")
    return value
