"""The clinic's book: chairs shared by many courses (see :mod:`tms_schedule.book.book`)."""

from __future__ import annotations

from tms_schedule.book.book import Book, Booked, BookEvent, EventReport, Rebooked
from tms_schedule.book.chairs import Chair, Outage, StaffLimit
from tms_schedule.book.offers import Offer

__all__ = [
    "Book",
    "BookEvent",
    "Booked",
    "Chair",
    "EventReport",
    "Offer",
    "Outage",
    "Rebooked",
    "StaffLimit",
]
