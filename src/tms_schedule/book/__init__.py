"""The clinic's book: chairs shared by many courses (see :mod:`tms_schedule.book.book`).

The names load on first use, so reading a clinic file's chairs does not load the booking.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Book",
    "BookEvent",
    "Booked",
    "Chair",
    "ChairDay",
    "DaySheet",
    "DayUsage",
    "EventReport",
    "Offer",
    "Outage",
    "Rebooked",
    "Room",
    "Seated",
    "SheetSession",
    "SlotUsage",
    "StaffLimit",
    "Usage",
    "WeekUsage",
]

_WHERE = {
    "Book": "book",
    "BookEvent": "book",
    "Booked": "book",
    "EventReport": "book",
    "Rebooked": "book",
    "Chair": "chairs",
    "Outage": "chairs",
    "StaffLimit": "chairs",
    "Offer": "offers",
    "ChairDay": "sheet",
    "DaySheet": "sheet",
    "SheetSession": "sheet",
    "DayUsage": "usage",
    "Room": "room",
    "Seated": "seated",
    "SlotUsage": "usage",
    "Usage": "usage",
    "WeekUsage": "usage",
}

if TYPE_CHECKING:
    from tms_schedule.book.book import Book, Booked, BookEvent, EventReport, Rebooked
    from tms_schedule.book.chairs import Chair, Outage, StaffLimit
    from tms_schedule.book.offers import Offer
    from tms_schedule.book.room import Room
    from tms_schedule.book.seated import Seated
    from tms_schedule.book.sheet import ChairDay, DaySheet, SheetSession
    from tms_schedule.book.usage import DayUsage, SlotUsage, Usage, WeekUsage
else:

    def __getattr__(name: str) -> Any:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"tms_schedule.book.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(__all__))
