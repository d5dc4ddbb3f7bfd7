"""The clinic's book: chairs shared by many courses (see :mod:`tms_schedule.book.book`).

The names load on first use, so reading a clinic file's chairs does not load the booking.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__all__ = [
    "Book",
    "BookChange",
    "BookError",
    "BookEvent",
    "BookStore",
    "Booked",
    "BookingConflictError",
    "Chair",
    "ChairDay",
    "ChangedMeanwhileError",
    "DaySheet",
    "DayUsage",
    "EventReport",
    "NoOfferError",
    "Offer",
    "Outage",
    "Rebooked",
    "Room",
    "Seated",
    "SheetSession",
    "SlotUsage",
    "StaffLimit",
    "StoreError",
    "Usage",
    "WeekUsage",
]

_WHERE = {  # the module of the package (or, dotted, of the library) that defines each name
    "Book": "book",
    "BookChange": "store",
    "BookStore": "store",
    "BookError": "tms_schedule.errors",
    "BookingConflictError": "tms_schedule.errors",
    "ChangedMeanwhileError": "tms_schedule.errors",
    "NoOfferError": "tms_schedule.errors",
    "StoreError": "tms_schedule.errors",
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
    from tms_schedule.book.store import BookChange, BookStore
    from tms_schedule.book.usage import DayUsage, SlotUsage, Usage, WeekUsage
    from tms_schedule.errors import (
        BookError,
        BookingConflictError,
        ChangedMeanwhileError,
        NoOfferError,
        StoreError,
    )
else:

    def __getattr__(name: str) -> Any:
        module = _WHERE.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        where = module if "." in module else f"tms_schedule.book.{module}"
        return getattr(importlib.import_module(where), name)

    def __dir__() -> list[str]:
        """What the package exports and its public modules, not the names it uses itself."""
        return sorted(set(__all__) | _public_modules())


def _public_modules() -> set[str]:
    return {n for n in globals() if not n.startswith("_") and f"{__name__}.{n}" in sys.modules}
