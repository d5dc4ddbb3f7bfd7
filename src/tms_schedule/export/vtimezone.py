"""VTIMEZONE components that Outlook, Apple, Google and Thunderbird all read the same way.

Outlook reduces a VTIMEZONE to one yearly rule pair and ignores RDATE; Thunderbird's ical.js
reads only the first value of an RDATE list. So the zone is written in RRULE form — one
STANDARD and one DAYLIGHT observance, each with ``RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=..`` and
its DTSTART in TZOFFSETFROM local time (RFC 5545 §3.6.5) — built from :mod:`zoneinfo` over
the years a course spans, and checked to reproduce every transition zoneinfo knows in that
span (one year either side included). A zone whose transitions no yearly rule reproduces
falls back to icalendar's own ``Timezone.from_tzinfo`` for the same span; exporting in UTC
avoids VTIMEZONE altogether. A zone without transitions gets a single STANDARD observance.

Built components are cached per (zone, first year, last year).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import zoneinfo
from typing import NamedTuple

__all__ = ["Transition", "transitions", "vtimezone", "yearly_rules"]

_UTC = dt.UTC
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Transition(NamedTuple):
    """One change of a zone's UTC offset."""

    utc: dt.datetime
    offset_from: dt.timedelta
    offset_to: dt.timedelta
    name: str
    is_dst: bool

    @property
    def onset(self) -> dt.datetime:
        """The local wall time of the change in the offset before it (naive), as RFC 5545 wants."""
        return (self.utc + self.offset_from).replace(tzinfo=None)


class Rule(NamedTuple):
    """A yearly rule: the first onset and the BYMONTH/BYDAY that repeat it."""

    transition: Transition
    month: int
    byday: str


def transitions(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Every offset change of ``zone`` from the start of ``first_year`` to the end of ``last_year``."""
    step = dt.timedelta(hours=6)
    moment = dt.datetime(first_year, 1, 1, tzinfo=_UTC)
    end = dt.datetime(last_year + 1, 1, 1, tzinfo=_UTC)
    before = moment.astimezone(zone).utcoffset()
    found = []
    while moment < end:
        following = moment + step
        after = following.astimezone(zone).utcoffset()
        if after != before:
            # Bisect in whole seconds: zone data has no finer transitions.
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if dt.datetime.fromtimestamp(middle, _UTC).astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            local = dt.datetime.fromtimestamp(high, _UTC).astimezone(zone)
            assert before is not None
            assert after is not None
            found.append(
                Transition(
                    local.astimezone(_UTC), before, after, local.tzname() or "", bool(local.dst())
                )
            )
        moment, before = following, after
    return found


def yearly_rules(found: list[Transition], first_year: int, last_year: int) -> list[Rule] | None:
    """One yearly rule per kind of transition, or ``None`` when no such rules reproduce them."""
    groups: dict[tuple[dt.timedelta, dt.timedelta, str, bool], list[Transition]] = {}
    for t in found:
        groups.setdefault((t.offset_from, t.offset_to, t.name, t.is_dst), []).append(t)
    if len(groups) > 2:
        return None
    rules = []
    for group in groups.values():
        onsets = [t.onset for t in group]
        first = onsets[0]
        if [o.year for o in onsets] != list(range(first_year, last_year + 1)):
            return None  # a year without the change, or two in one year
        if any(
            (o.month, o.time(), o.weekday()) != (first.month, first.time(), first.weekday())
            for o in onsets
        ):
            return None
        nths = {(o.day - 1) // 7 + 1 for o in onsets}
        lasts = {o.day + 7 > calendar.monthrange(o.year, o.month)[1] for o in onsets}
        weekday = _WEEKDAYS[first.weekday()]
        if len(nths) == 1 and next(iter(nths)) <= 4:
            byday = f"{next(iter(nths))}{weekday}"
        elif lasts == {True}:
            byday = f"-1{weekday}"
        else:
            return None
        rule = Rule(group[0], first.month, byday)
        if _expand(rule, last_year) != onsets:
            return None
        rules.append(rule)
    return rules


def _expand(rule: Rule, last_year: int) -> list[dt.datetime]:
    """The onsets the rule gives from its DTSTART to the end of ``last_year`` (RFC 5545 rules)."""
    from dateutil.rrule import YEARLY, rrule, weekday

    start = rule.transition.onset
    n, code = int(rule.byday[:-2]), rule.byday[-2:]
    day = weekday(_WEEKDAYS.index(code))(n)
    until = dt.datetime(last_year, 12, 31, 23, 59, 59)
    return list(rrule(YEARLY, dtstart=start, bymonth=rule.month, byweekday=day, until=until))


@functools.lru_cache(maxsize=256)
def vtimezone(zone_key: str, first_year: int, last_year: int) -> tuple[bytes, bool]:
    """The VTIMEZONE for ``zone_key`` covering the years given, as CRLF bytes.

    Returns the bytes and whether the RRULE form was used (``False``: icalendar's fallback).
    """
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

    zone = zoneinfo.ZoneInfo(zone_key)
    span = (first_year - 1, last_year + 1)
    found = transitions(zone, *span)
    component = Timezone()
    component.add("TZID", zone_key)
    if not found:
        moment = dt.datetime(first_year, 1, 1, tzinfo=zone)
        standard = TimezoneStandard()
        standard.add("DTSTART", dt.datetime(1970, 1, 1))
        standard.add("TZOFFSETFROM", moment.utcoffset())
        standard.add("TZOFFSETTO", moment.utcoffset())
        standard.add("TZNAME", moment.tzname() or zone_key)
        component.add_component(standard)
        return component.to_ical(), True
    rules = yearly_rules(found, *span)
    if rules is None:
        fallback = Timezone.from_tzinfo(
            zone,
            tzid=zone_key,
            first_date=dt.date(span[0], 1, 1),
            last_date=dt.date(span[1], 12, 31),
        )
        return fallback.to_ical(), False
    for rule in sorted(rules, key=lambda r: r.transition.is_dst):
        t = rule.transition
        part = TimezoneDaylight() if t.is_dst else TimezoneStandard()
        part.add("DTSTART", t.onset)
        part.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": rule.month, "BYDAY": rule.byday})
        part.add("TZOFFSETFROM", t.offset_from)
        part.add("TZOFFSETTO", t.offset_to)
        part.add("TZNAME", t.name)
        component.add_component(part)
    return component.to_ical(), True
