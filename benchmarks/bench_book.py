"""The clinic's book: offers for a new course and a clinic-wide closure, beside naive code.

Usage: ``python benchmarks/bench_book.py [--quick]``

The book is :mod:`busy_clinic`'s: four chairs, sixty courses running (about 1,800
sessions still to come), booked by the book's own offers.

* offers: a new ``standard-10hz`` course (36 sessions) from Monday at 14:00 give or take 60
  minutes, 10 start dates, every 10 minutes, every chair. Baseline: what one writes first:
  for every start date, time and chair, expand the plan and check each session against
  every booking in the book.
* closure: a snow day on a Tuesday, every course that day re-planned inside the chairs'
  free time (about 40 courses). Baseline: each course that day planned again from scratch
  around the closure (a new expansion from its first session to come) and checked against
  every booking, without keeping anyone's times.
* the book file: loading the whole book from its SQLite file, and one change (a session
  recorded) as ``tms-schedule book record`` makes it (see ``bench_store.py`` for the store
  at the scale of years of courses and of a network).

Targets (issue 9): offers under 20 ms and at least 20 times the baseline; the closure
under 200 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import attrs

from busy_clinic import NOW, busy_book, future_sessions
from tms_schedule import Closure, Plan
from tms_schedule.book import Book, Booked
from tms_schedule.book.occupancy import minute

_DAY = dt.timedelta(days=1)


def naive_offers(book: Book, protocol: str, earliest: dt.date, at: dt.time) -> int:
    """Count the (date, time, chair) candidates that hold every session, the plain way."""
    bookings = [
        (chair, minute(s.start), minute(s.end))
        for booked in book.courses
        for s in booked.course.schedule.sessions
        if s.status in ("scheduled", "attended")
        for number, chair in booked.seats
        if number == s.number
    ]
    fits = 0
    day = earliest
    starts = 0
    while starts < 10:
        if book.clinic.day(day).hours is None:
            day += _DAY
            continue
        starts += 1
        for shift in range(-60, 61, 10):
            time_of_day = (dt.datetime.combine(day, at) + dt.timedelta(minutes=shift)).time()
            try:
                sessions = Plan(protocol, book.clinic, day, time_of_day, "x").expand().sessions
            except ValueError:
                continue
            for chair in book.chairs:
                turn = int(chair.turnover.total_seconds()) // 60
                if all(
                    not (
                        c == chair.id and b0 - turn < minute(s.end) and minute(s.start) < b1 + turn
                    )
                    for s in sessions
                    for c, b0, b1 in bookings
                ):
                    fits += 1
        day += _DAY
    return fits


def naive_closure(book: Book, day: dt.date) -> int:
    """Plan each course of ``day`` again from scratch around the closure; count them."""
    clinic = attrs.evolve(book.clinic, closures=(*book.clinic.closures, Closure(day)))
    bookings = [
        (minute(s.start), minute(s.end))
        for booked in book.courses
        for s in booked.course.schedule.sessions
        if s.status == "scheduled"
    ]
    count = clashes = 0
    for booked in book.courses:
        course = booked.course
        if not any(s.date == day and s.status == "scheduled" for s in course.schedule.sessions):
            continue
        to_come = [s for s in course.schedule.sessions if s.status == "scheduled"]
        plan = attrs.evolve(course.plan, clinic=clinic, start=to_come[0].date)
        sessions = plan.expand().sessions[: len(to_come)]
        clashes += sum(
            1
            for s in sessions
            for b0, b1 in bookings
            if b0 < minute(s.end) and minute(s.start) < b1
        )
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    number, repeat = (3, 3) if args.quick else (10, 5)

    began = time.perf_counter()
    book = busy_book()
    print(
        f"busy clinic: {len(book.chairs)} chairs, {len(book.courses)} courses,"
        f" {future_sessions(book)} sessions to come (built in {time.perf_counter() - began:.1f} s)"
    )

    def best(func: Any, times: int = number) -> float:
        return min(timeit.repeat(func, number=times, repeat=repeat)) / times

    monday = NOW.date()

    def cold() -> Book:  # as a command loads it: nothing worked out yet
        return attrs.evolve(book, courses=tuple(Booked(b.course, b.seats) for b in book.courses))

    ours = best(lambda: cold().offers("standard-10hz", monday, "14:00"))
    warm = best(lambda: book.offers("standard-10hz", monday, "14:00"))
    offers = book.offers("standard-10hz", monday, "14:00")
    began = time.perf_counter()
    fits = naive_offers(book, "standard-10hz", monday, dt.time(14))
    theirs = time.perf_counter() - began
    print("offers for a new standard-10hz course, 14:00 give or take 60 minutes, 10 start dates")
    print(f"  tms_schedule, book just loaded       {ours * 1e3:9.1f} ms   (target: 20 ms)")
    print(f"  tms_schedule, book kept in memory    {warm * 1e3:9.1f} ms")
    print(
        f"  baseline: expand and scan           {theirs * 1e3:9.1f} ms   ({theirs / ours:.0f} x;"
        " target: 20 x)"
    )
    print(f"  best offer: {offers[0].describe(book.chair_names())}  [{fits} exact fits naive]")

    tuesday = monday + _DAY * 8
    ours = best(lambda: cold().enter_closure(tuesday, reason="Snow day", now=NOW), times=1)
    _, report = book.enter_closure(tuesday, reason="Snow day", now=NOW)
    began = time.perf_counter()
    naive_closure(book, tuesday)
    theirs = time.perf_counter() - began
    print(f"a snow day on {tuesday}: {len(report.courses)} courses re-planned inside free chairs")
    print(f"  tms_schedule                         {ours * 1e3:9.1f} ms   (target: 200 ms)")
    print(f"  baseline: plan each again, no chairs {theirs * 1e3:9.1f} ms")

    from tms_schedule.book.store import BookStore

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        store = BookStore.create(path, b'timezone = "America/Denver"\n[[chairs]]\nid = "c1"\n')
        with store.change(whole=True, now=NOW, actor="bench", action="setup") as change:
            change.book = book
        load = best(store.load, times=1)
        course_id = book.courses[0].course_id

        def record() -> None:
            with store.change(courses=[course_id], now=NOW, actor="bench") as change:
                course = change.book.course(course_id)
                upcoming = next(s for s in course.schedule.sessions if s.status == "scheduled")
                change.book = change.book.update(course.cancelled(upcoming.number))

        change_time = best(record, times=1)
        store.close()
    print("the book's file (SQLite, WAL)")
    print(f"  load the whole book                  {load * 1e3:9.1f} ms")
    print(f"  one change (a session cancelled)     {change_time * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
