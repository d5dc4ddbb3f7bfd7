"""Course record speed beside hand-written baselines, in one run.

Usage: ``python benchmarks/bench_course.py [--quick]``

* re-plan: a ``standard-10hz`` course (36 sessions, US-CO holidays) with 3 sessions
  attended and 5 missed, re-planned from the next day under each policy; then the same
  re-plan again (nothing changes, so it must be cheap). Baseline: expanding the whole plan
  again from scratch, the least a re-plan that re-expanded would cost.
* recording: 1,000 moves entered one by one on one course. Baseline: replaying the whole
  history for every new record (what recording did before it kept its state), which grows
  with the square of the records.
* closures: a clinic calendar with 1,000 overlapping three-year closures, built and asked
  for every day of the 13 years they cover. Baseline: checking each day against every
  closure.
* the course file: save and load with 1,000 records (checksum, records replayed), and one
  locked read-record-save as ``tms-schedule course record`` does it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(func: Callable[[], Any], number: int, repeat: int) -> float:
    """The best time of one call, in seconds."""
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number


def once(func: Callable[[], Any]) -> float:
    began = time.perf_counter()
    func()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    number, repeat = (10, 3) if args.quick else (100, 5)

    import tms_schedule as tms
    from tms_schedule.course.file import editing
    from tms_schedule.course.record import replay

    zone = "America/Denver"
    clinic = tms.ClinicCalendar(zone, holidays="US-CO")
    plan = tms.Plan("standard-10hz", clinic, dt.date(2026, 11, 16), dt.time(9), "bench-1")
    now = dt.datetime(2026, 11, 25, 18, tzinfo=clinic.zone)
    course = tms.Course.start(plan)
    for n in (1, 2, 3):
        course = course.attended(n, now=now)
    for n in (4, 5, 6, 7, 8):
        course = course.missed(n, "patient", now=now)
    start = dt.date(2026, 11, 26)

    scratch = best(plan.expand, number, repeat)
    print("re-plan standard-10hz after 3 attended and 5 missed sessions (US-CO holidays)")
    print(f"  baseline: expand the plan from scratch   {scratch * 1e3:9.2f} ms")
    for policy in tms.course.POLICIES:
        took = best(lambda p=policy: course.replan(start, p), number, repeat)  # type: ignore[misc]
        replanned = course.replan(start, policy)
        again = best(lambda r=replanned, p=policy: r.replan(start, p), number, repeat)  # type: ignore[misc]
        print(
            f"  re-plan, {policy:<9}                     {took * 1e3:9.2f} ms"
            f"  ({took / scratch:4.1f} x an expansion);  again, nothing to change {again * 1e3:6.2f} ms"
        )

    # Recording: 1,000 moves of one session between two times of its day, one by one.
    moves = 250 if args.quick else 1000
    fresh = tms.Course.start(plan)
    day = fresh.schedule.first.start.replace(day=20)  # Fri 20 Nov, session 5
    targets = [day.replace(hour=10 + k % 2) for k in range(moves)]

    def record_all() -> tms.Course:
        current = fresh
        for to in targets:
            current = current.moved(5, to)
        return current

    recorded = record_all()
    ours = once(record_all)
    records = recorded.records
    base = fresh.revisions[0]

    def baseline() -> None:  # replay everything for every record
        for k in range(1, len(records) + 1):
            replay(plan, base.schedule, base.removed, records[:k], 0)

    theirs = once(baseline)
    print(f"recording {moves:,} moves one by one")
    print(
        f"  tms_schedule                             {ours * 1e3:9.1f} ms  ({ours / moves * 1e6:.0f} us a record)"
    )
    print(
        f"  baseline: replay the history each time   {theirs * 1e3:9.1f} ms  ({theirs / ours:.0f} x)"
    )

    # Closures: 1,000 three-year closures, overlapping, from 2000 on.
    closures = tuple(
        tms.Closure(
            dt.date(2000, 1, 1) + dt.timedelta(days=3 * k),
            dt.date(2003, 1, 1) + dt.timedelta(days=3 * k),
            f"Closure {k}",
        )
        for k in range(1000)
    )
    first, last = closures[0].start, closures[-1].end
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]

    def ours_closures() -> int:
        calendar = tms.ClinicCalendar(zone, closures=closures)
        return sum(1 for d in days if calendar.day(d).hours is None)

    def naive_closures() -> int:
        return sum(1 for d in days if any(c.start <= d <= c.end for c in closures))

    assert ours_closures() == naive_closures()
    ours_c = once(ours_closures)
    naive_c = once(naive_closures)
    print(f"1,000 overlapping three-year closures, every day of {len(days):,} asked")
    print(f"  tms_schedule: build and ask              {ours_c * 1e3:9.1f} ms")
    print(
        f"  baseline: each day against each closure  {naive_c * 1e3:9.1f} ms  ({naive_c / ours_c:.0f} x)"
    )

    # The course file with 1,000 records.
    text = recorded.to_json()
    print(f"course file with {len(records):,} records ({len(text) // 1024} KiB)")
    print(
        f"  save to JSON                             {best(recorded.to_json, 1, repeat) * 1e3:9.1f} ms"
    )
    print(
        f"  load (checksum, records replayed)        {best(lambda: tms.Course.from_json(text), 1, repeat) * 1e3:9.1f} ms"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench-1.json"
        course.save(path)
        toggle = iter(range(10**6))

        def locked_record() -> None:
            with editing(path) as edit:
                hour = 10 + next(toggle) % 2
                edit.course = edit.course.moved(
                    20, edit.course.schedule.sessions[19].start.replace(hour=hour)
                )

        took = best(locked_record, number, repeat)
        print(
            f"  lock, load, record, save (course record) {took * 1e3:9.1f} ms  ({len(course.records)}+ records)"
        )


if __name__ == "__main__":
    main()
