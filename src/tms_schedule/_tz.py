"""Where a zone's UTC offset changes: the only days wall-clock arithmetic needs care."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo


@functools.lru_cache(maxsize=512)
def offset_change_days(zone: zoneinfo.ZoneInfo, year: int) -> frozenset[dt.date]:
    """The local dates of ``year`` on which the zone's UTC offset may change.

    A day is listed when the offset at its midnight differs from the next midnight's; the
    day after is listed too, so a change at midnight itself is caught from either side.
    Cached per (zone, year): zones are singletons per key, so the key is clear.
    """
    result: set[dt.date] = set()
    day = dt.date(year, 1, 1)
    offset = dt.datetime.combine(day, dt.time(0), tzinfo=zone).utcoffset()
    while day.year == year:
        following = day + dt.timedelta(days=1)
        next_offset = dt.datetime.combine(following, dt.time(0), tzinfo=zone).utcoffset()
        if next_offset != offset:
            result.update((day, following))
        day, offset = following, next_offset
    return frozenset(result)
