"""Room for more courses as staff read it: the answer in a line, then each course that
fits with its time, chairs and trade-offs, as text or as a printable page
(``templates/room.html``, for the clinic's staff). What fits is worked out in
:mod:`tms_schedule.book.room`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from tms_schedule._dates import short_day
from tms_schedule.book.room import Room
from tms_schedule.pages import render
from tms_schedule.pages._format import check_page_arguments

__all__ = ["room_answer", "room_html", "room_text"]


def room_answer(room: Room) -> str:
    """The answer in one sentence: "3 more courses of standard-10hz can start on Mon 30 Nov
    2026 between 09:00 and 12:00:", or why none can."""
    start, end = room.window
    when = f"start on {short_day(room.start_date)} between {start:%H:%M} and {end:%H:%M}"
    if not room.offers:
        why = room.closed or "no chair is free at one time for every session"
        return f"No more courses of {room.protocol_id} can {when}: {why}."
    more = "At least " if room.stopped else ""
    noun = "course" if room.count == 1 else "courses"
    return f"{more}{room.count} more {noun} of {room.protocol_id} can {when}:"


def room_text(room: Room, chair_names: Mapping[str, str] | None = None) -> str:
    """The answer, then each course: its time, chairs (by their names in ``chair_names``,
    else their ids) and trade-offs."""
    names = chair_names or {}
    lines = [room_answer(room)]
    for number, offer in enumerate(room.offers, start=1):
        chairs = [names.get(c, c) for c in offer.chairs()]
        text = f"{number:>3}. {offer.schedule.first.start:%H:%M} on {chairs[0]}"
        if len(chairs) > 1:
            text += f" (and {', '.join(chairs[1:])})"
        if offer.tradeoffs:
            text += ": " + "; ".join(offer.tradeoffs)
        lines.append(text)
    return "\n".join(lines) + "\n"


def room_html(
    room: Room,
    chair_names: Mapping[str, str] | None = None,
    *,
    clinic_name: str | None = None,
    issued: dt.date | None = None,
) -> str:
    """The answer as a printable page for the clinic's staff: one self-contained HTML5
    document, A4 and Letter alike.

    Args:
        room: the answer.
        chair_names: each chair's name by id (``Book.chair_names()``); else their ids.
        clinic_name: printed under the heading and at the foot of every page.
        issued: when the page was printed (a date, or a date and time). The library reads
            no clock: the caller gives it.

    Raises:
        BookError: ``issued`` is not a date, or ``clinic_name`` not a text.
    """
    check_page_arguments(clinic_name, issued)
    return render(
        "room.html",
        room=room,
        answer=room_answer(room),
        chair_names=dict(chair_names or {}),
        clinic_name=clinic_name,
        issued=issued,
    )
