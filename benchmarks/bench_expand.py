"""Expansion speed beside a hand-written baseline, in one run.

Usage: ``python benchmarks/bench_expand.py [--quick]``

* tms_schedule: ``Plan.expand()`` of ``standard-10hz`` (36 sessions, US-CO holidays) with the
  clinic calendar built once, as clinic software would hold it.
* baseline: what a developer writes by hand: a ``holidays`` object built per plan, a
  dateutil ``rrule`` of weekdays, and a list of (start, end) datetimes until 36 sessions
  (no taper spreading, no hours, no DST rule: less work than the library does).

Also reports whether ``import tms_schedule`` imports icalendar (it must not) and the
import time. Timings are reported, not asserted: they depend on the machine. The targets
(docs/design.md): at least 10 times the baseline, and an import under 60 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import timeit
import zoneinfo


def best_per_call(func: object, number: int, repeat: int) -> float:
    times = timeit.repeat(func, number=number, repeat=repeat)  # type: ignore[arg-type]
    return min(times) / number


def baseline(
    start: dt.date, at: dt.time, zone: zoneinfo.ZoneInfo
) -> list[tuple[dt.datetime, dt.datetime]]:
    import holidays
    from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, rrule

    closed = holidays.country_holidays("US", subdiv="CO", years=[start.year, start.year + 1])
    sessions = []
    for day in rrule(DAILY, dtstart=dt.datetime.combine(start, at), byweekday=(MO, TU, WE, TH, FR)):
        if day.date() in closed:
            continue
        begin = day.replace(tzinfo=zone)
        sessions.append((begin, begin + dt.timedelta(minutes=40)))
        if len(sessions) == 36:
            break
    return sessions


def import_facts() -> tuple[bool, float]:
    code = "import sys, time; t = time.perf_counter(); import tms_schedule; print(time.perf_counter() - t); print('icalendar' in sys.modules)"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(5)
    ]
    return runs[0][1] == "True", statistics.median(float(r[0]) for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    number, repeat = (200, 3) if args.quick else (2000, 7)

    import tms_schedule as tms

    zone = zoneinfo.ZoneInfo("America/Denver")
    start, at = dt.date(2026, 11, 16), dt.time(9)
    clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
    plan = tms.Plan("standard-10hz", clinic, start, at, "bench-1")
    plan.expand()  # warm the per-year holiday cache, as a long-lived clinic object would be

    ours = best_per_call(plan.expand, number, repeat)
    theirs = best_per_call(lambda: baseline(start, at, zone), max(number // 10, 20), repeat)
    cold = best_per_call(
        lambda: tms.Plan(
            "standard-10hz", tms.ClinicCalendar("America/Denver", holidays="US-CO"), start, at, "b"
        ).expand(),
        max(number // 20, 10),
        repeat,
    )
    many = best_per_call(
        lambda: [
            tms.Plan(
                "standard-10hz", clinic, start + dt.timedelta(days=i % 300), at, f"c-{i}"
            ).expand()
            for i in range(1000)
        ],
        1,
        max(repeat // 2, 2),
    )
    icalendar_loaded, import_seconds = import_facts()

    print("expand standard-10hz (36 sessions, US-CO holidays)")
    print(f"  tms_schedule, clinic built once     {ours * 1e6:10.1f} us per course")
    print(f"  baseline (holidays per plan + rrule) {theirs * 1e6:10.1f} us per course")
    print(f"  ratio baseline / tms_schedule        {theirs / ours:10.1f} x   (target: 10 x)")
    print(f"  tms_schedule, clinic built per plan  {cold * 1e6:10.1f} us per course")
    print(f"  1,000 courses, one clinic            {many * 1e3:10.1f} ms")
    print(
        f"import tms_schedule                    {import_seconds * 1e3:10.1f} ms   (target: 60 ms)"
    )
    print(f"  icalendar imported by it             {'yes' if icalendar_loaded else 'no'}")


if __name__ == "__main__":
    main()
