"""Room for more courses as staff read it: the answer in a line, then each course that
fits with its time, chairs and trade-offs. What fits is worked out in
:mod:`tms_schedule.book.room`.
"""

from __future__ import annotations

from collections.abc import Mapping

from tms_schedule._dates import short_day
from tms_schedule.book.room import Room

__all__ = ["room_text"]


def room_text(room: Room, chair_names: Mapping[str, str] | None = None) -> str:
    """One line of the answer, then each course: its time, chairs (by their names in
    ``chair_names``, else their ids) and trade-offs."""
    names = chair_names or {}
    start, end = room.window
    when = f"start on {short_day(room.start_date)} between {start:%H:%M} and {end:%H:%M}"
    if not room.offers:
        why = room.closed or "no chair is free at one time for every session"
        lines = [f"No more courses of {room.protocol_id} can {when}: {why}."]
    else:
        more = "At least " if room.stopped else ""
        noun = "course" if room.count == 1 else "courses"
        lines = [f"{more}{room.count} more {noun} of {room.protocol_id} can {when}:"]
    for number, offer in enumerate(room.offers, start=1):
        chairs = [names.get(c, c) for c in offer.chairs()]
        text = f"{number:>3}. {offer.schedule.first.start:%H:%M} on {chairs[0]}"
        if len(chairs) > 1:
            text += f" (and {', '.join(chairs[1:])})"
        if offer.tradeoffs:
            text += ": " + "; ".join(offer.tradeoffs)
        lines.append(text)
    return "\n".join(lines) + "\n"
