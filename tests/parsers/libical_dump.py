"""Parse an .ics file with libical and print what it understood as one JSON object.

Runs under Debian's /usr/bin/python3 (python3-gi + gir1.2-ical-3.0), not the
project virtualenv: PyGObject and the typelib come from apt, not PyPI.

Usage: /usr/bin/python3 libical_dump.py [file.ics]   (stdin when no file given)
Exit status: 0 with JSON on stdout, or 1 with the error on stderr.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import gi  # type: ignore[import-not-found, unused-ignore]  # apt package, not in the venv

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # type: ignore[import-not-found, unused-ignore]  # noqa: E402

Kind = ICalGLib.ComponentKind
Prop = ICalGLib.PropertyKind
UTC = ICalGLib.Timezone.get_utc_timezone()


class DumpError(Exception):
    """The input is not one parseable VCALENDAR."""


def children(comp: Any, kind: Any) -> list[Any]:
    """Direct subcomponents of one kind, in file order."""
    found = []
    child = comp.get_first_component(kind)
    while child is not None:
        found.append(child)
        child = comp.get_next_component(kind)
    return found


def props(comp: Any, kind: Any) -> list[Any]:
    """Properties of one kind on this component, in file order."""
    found = []
    prop = comp.get_first_property(kind)
    while prop is not None:
        found.append(prop)
        prop = comp.get_next_property(kind)
    return found


def error_texts(comp: Any) -> list[str]:
    """X-LIC-ERROR texts in the whole tree (what count_errors() counts)."""
    texts = [str(p.get_xlicerror()) for p in props(comp, Prop.XLICERROR_PROPERTY)]
    for child in children(comp, Kind.ANY_COMPONENT):
        texts.extend(error_texts(child))
    return texts


def new_items(before: list[str], after: list[str]) -> list[str]:
    """Items of ``after`` not accounted for by ``before`` (a multiset difference)."""
    left = Counter(before)
    added = []
    for item in after:
        if left[item]:
            left[item] -= 1
        else:
            added.append(item)
    return added


def iso_utc(time: Any) -> str:
    """Whole seconds with "Z": the same form icaljs_dump.mjs prints."""
    return (
        f"{time.get_year():04d}-{time.get_month():02d}-{time.get_day():02d}"
        f"T{time.get_hour():02d}:{time.get_minute():02d}:{time.get_second():02d}Z"
    )


def tzid_of(comp: Any, kind: Any) -> str | None:
    prop = comp.get_first_property(kind)
    return None if prop is None else prop.get_parameter_as_string("TZID")


def instant(cal: Any, time: Any, tzid: str | None) -> str | None:
    """The UTC instant libical computes, using only the file's VTIMEZONEs.

    Component.get_dtstart() quietly falls back to libical's built-in zone
    (TZID "/freeassociation.sourceforge.net/<tzid>") when the file lacks the
    VTIMEZONE, which would hide a broken export; so the zone is set explicitly
    from the VCALENDAR and an unknown TZID gives None.
    """
    if time is None or time.is_null_time():
        return None
    if tzid is not None:
        zone = cal.get_timezone(tzid)
        if zone is None:
            return None
        time.set_timezone(zone)  # in place
    # Dates and floating times come back unchanged, i.e. read as UTC, which
    # matches icaljs_dump.mjs running with TZ=UTC.
    return iso_utc(time.convert_to_zone(UTC))


def text(comp: Any, kind: Any) -> str | None:
    """A TEXT property's decoded value, or None when absent."""
    prop = comp.get_first_property(kind)
    if prop is None:
        return None
    value = prop.get_value()  # None for an empty value such as "LOCATION:"
    return "" if value is None else str(value.get_text())


def dump_alarm(alarm: Any) -> dict[str, Any]:
    trigger_prop = alarm.get_first_property(Prop.TRIGGER_PROPERTY)
    trigger: str | None = None
    if trigger_prop is not None:
        value = trigger_prop.get_trigger()
        when = value.get_time()
        # An absolute trigger (VALUE=DATE-TIME) is UTC by RFC 5545 3.8.6.3.
        trigger = value.get_duration().as_ical_string() if when.is_null_time() else iso_utc(when)
    action = alarm.get_first_property(Prop.ACTION_PROPERTY)
    return {
        "uid": text(alarm, Prop.UID_PROPERTY),
        "action": None if action is None else action.get_value_as_string(),
        "trigger": trigger,
        "description": text(alarm, Prop.DESCRIPTION_PROPERTY),
    }


def dump_event(cal: Any, event: Any) -> dict[str, Any]:
    start_tzid = tzid_of(event, Prop.DTSTART_PROPERTY)
    has_start = event.get_first_property(Prop.DTSTART_PROPERTY) is not None
    # Without DTEND libical derives the end from DTSTART (+ DURATION).
    has_dtend = event.get_first_property(Prop.DTEND_PROPERTY) is not None
    end_tzid = tzid_of(event, Prop.DTEND_PROPERTY) if has_dtend else start_tzid
    start = event.get_dtstart() if has_start else None
    end = event.get_dtend() if has_start else None
    status = event.get_first_property(Prop.STATUS_PROPERTY)
    transp = event.get_first_property(Prop.TRANSP_PROPERTY)
    sequence = event.get_first_property(Prop.SEQUENCE_PROPERTY)
    dtstamp = event.get_first_property(Prop.DTSTAMP_PROPERTY)
    return {
        "uid": text(event, Prop.UID_PROPERTY),
        "summary": text(event, Prop.SUMMARY_PROPERTY),
        "description": text(event, Prop.DESCRIPTION_PROPERTY),
        "location": text(event, Prop.LOCATION_PROPERTY),
        "status": None if status is None else status.get_value_as_string(),
        "transp": None if transp is None else transp.get_value_as_string(),
        "sequence": None if sequence is None else int(sequence.get_sequence()),
        "tzid": start_tzid,
        "all_day": None if start is None else bool(start.is_date()),
        "start_utc": instant(cal, start, start_tzid),
        "end_utc": instant(cal, end, end_tzid),
        "dtstamp_utc": None if dtstamp is None else instant(cal, dtstamp.get_dtstamp(), None),
        "alarms": [dump_alarm(a) for a in children(event, Kind.VALARM_COMPONENT)],
    }


def calendar_props(cal: Any) -> dict[str, str | None]:
    out: dict[str, str | None] = {
        "VERSION": None,
        "PRODID": None,
        "METHOD": None,
        "NAME": text(cal, Prop.NAME_PROPERTY),
        "X-WR-CALNAME": None,
    }
    if (prop := cal.get_first_property(Prop.VERSION_PROPERTY)) is not None:
        out["VERSION"] = prop.get_version()
    out["PRODID"] = text(cal, Prop.PRODID_PROPERTY)
    if (prop := cal.get_first_property(Prop.METHOD_PROPERTY)) is not None:
        out["METHOD"] = prop.get_value_as_string()
    for prop in props(cal, Prop.X_PROPERTY):
        if prop.get_x_name().upper() == "X-WR-CALNAME":
            out["X-WR-CALNAME"] = prop.get_x()
            break
    return out


def dump(source: str) -> dict[str, Any]:
    try:
        cal = ICalGLib.Component.new_from_string(source)
    except TypeError as exc:
        # The GI binding raises "constructor returned NULL" instead of
        # returning None when libical cannot build a component at all.
        raise DumpError(f"libical could not parse the input ({exc})") from exc
    if cal is None:
        raise DumpError("libical could not parse the input")
    kind = ICalGLib.Component.kind_to_string(cal.isa())
    if kind != "VCALENDAR":
        # Several top-level components come back wrapped in an XROOT.
        raise DumpError(f"top-level component is {kind}, expected one VCALENDAR")

    # Parse errors first: check_restrictions() adds X-LIC-ERRORs of its own.
    errors = error_texts(cal)
    error_count = int(cal.count_errors())
    restriction_ok = bool(cal.check_restrictions())
    restriction_errors = new_items(errors, error_texts(cal))

    # Sorted: libical does not keep the VTIMEZONEs in file order.
    timezones = sorted(
        str(prop.get_tzid())
        for vtimezone in children(cal, Kind.VTIMEZONE_COMPONENT)
        if (prop := vtimezone.get_first_property(Prop.TZID_PROPERTY)) is not None
    )
    events = children(cal, Kind.VEVENT_COMPONENT)
    missing = {
        tzid
        for event in events
        for kind_ in (Prop.DTSTART_PROPERTY, Prop.DTEND_PROPERTY)
        if (tzid := tzid_of(event, kind_)) is not None and cal.get_timezone(tzid) is None
    }
    return {
        "parser": "libical",
        "calendar": calendar_props(cal),
        "timezones": timezones,
        "missing_tzids": sorted(missing),
        "events": [dump_event(cal, e) for e in events],
        "restriction_ok": restriction_ok,
        "restriction_errors": restriction_errors,
        "error_count": error_count,
        "errors": errors,
    }


def main(argv: list[str]) -> int:
    try:
        if len(argv) > 1 and argv[1] != "-":
            with open(argv[1], encoding="utf-8") as handle:
                source = handle.read()
        else:
            source = sys.stdin.read()
        result = dump(source)
    except (DumpError, OSError, UnicodeDecodeError) as exc:
        # One line: it ends up verbatim in a pytest failure message.
        print(f"libical: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
