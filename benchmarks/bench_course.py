"""Re-planning speed beside re-expanding from scratch, in one run.

Usage: ``python benchmarks/bench_course.py [--quick]``

* re-plan: a ``standard-10hz`` course (36 sessions, US-CO holidays) with 3 sessions
  attended and 5 missed, re-planned from the next day under each policy.
* baseline: expanding the whole plan again from scratch (what a re-plan must beat to be
  worth keeping sessions' identities, SEQUENCE and history).
* round trip: saving the course to JSON and reading it back (records replayed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import timeit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    number, repeat = (20, 3) if args.quick else (200, 5)

    import tms_schedule as tms

    clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
    plan = tms.Plan("standard-10hz", clinic, dt.date(2026, 11, 16), dt.time(9), "bench-1")
    course = tms.Course.start(plan)
    for n in (1, 2, 3):
        course = course.attended(n)
    for n in (4, 5, 6, 7, 8):
        course = course.missed(n, "patient")
    start = dt.date(2026, 11, 25)

    def best(func: object) -> float:
        return min(timeit.repeat(func, number=number, repeat=repeat)) / number  # type: ignore[arg-type]

    scratch = best(plan.expand)
    print("re-plan standard-10hz after 3 attended and 5 missed sessions (US-CO holidays)")
    print(f"  baseline: expand the plan from scratch  {scratch * 1e6:10.1f} us")
    for policy in tms.course.POLICIES:
        took = best(lambda p=policy: course.replan(start, p))
        print(
            f"  re-plan, {policy:<9}                    {took * 1e6:10.1f} us  ({took / scratch:.1f} x)"
        )
    text = course.replan(start).to_json()
    print(
        f"  save to JSON                            {best(lambda: course.to_json()) * 1e6:10.1f} us"
    )
    print(
        f"  load from JSON (records replayed)       {best(lambda: tms.Course.from_json(text)) * 1e6:10.1f} us"
    )


if __name__ == "__main__":
    main()
