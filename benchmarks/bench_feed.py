"""Feed serving speed beside the plain .ics export of the same course, in one run.

Usage: ``python benchmarks/bench_feed.py [--quick]``

* baseline: ``Schedule.to_ics`` of a 36-session ``standard-10hz`` course (America/Denver,
  two reminders per session), the VTIMEZONE cached: the course's own calendar file.
* uncached: ``Feed.respond`` of the same course (window, DTSTAMP from the course, the
  calendar, its ETag). Target: under the baseline plus 20%.
* cached: ``FeedCache.respond`` for the same course objects, and the same with the client's
  If-None-Match (a 304). Target: well under 1 ms.
* server, cached: one GET through the WSGI application of ``tms-schedule serve`` over a
  folder of course files (token look-up, the folder checked for changes, the cache), in
  process, without the network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import timeit
from pathlib import Path

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def per_call(function: object, number: int, repeat: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for CI)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    number = 20 if args.quick else 200

    import tms_schedule as tms
    from tms_schedule.delivery.feed import Feed, FeedCache, FeedKey
    from tms_schedule.delivery.server import FeedApp
    from tms_schedule.delivery.sources import FolderSource

    clinic = tms.ClinicCalendar("America/Denver", holidays="US-CO")
    course = tms.Course.start(tms.Plan("standard-10hz", clinic, "2026-11-16", "09:00", "bench-1"))
    schedule = course.schedule
    feed = Feed("bench-1", [course])
    schedule.to_ics(stamp=NOW)  # the first file builds the VTIMEZONE; later ones reuse it

    baseline = per_call(lambda: schedule.to_ics(stamp=NOW), number, repeat)
    uncached = per_call(lambda: feed.respond(now=NOW), number, repeat)
    cache = FeedCache()
    etag = cache.respond(feed, now=NOW).etag
    cached = per_call(lambda: cache.respond(feed, now=NOW), number * 20, repeat)
    not_modified = per_call(
        lambda: cache.respond(feed, now=NOW, if_none_match=etag), number * 20, repeat
    )

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        course.save(folder / "bench-1.json")
        key = FeedKey(b"a benchmark feed secret of 32 bytes or more")
        app = FeedApp(FolderSource(folder), key, clock=lambda: NOW)
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/feeds/{key.token('bench-1', 1)}.ics"}

        def get() -> None:
            b"".join(app(dict(environ), lambda status, headers: None))

        get()
        served = per_call(get, number * 10, repeat)

    print("serve a feed of standard-10hz (36 sessions, 2 reminders each, America/Denver)")
    print(f"  baseline: the course's .ics export      {baseline * 1e3:8.3f} ms")
    print(
        f"  feed, uncached                          {uncached * 1e3:8.3f} ms"
        f"   ({uncached / baseline:.2f} x baseline; target: under 1.20 x)"
    )
    print(f"  feed, cached                            {cached * 1e3:8.3f} ms   (target: < 1 ms)")
    print(f"  feed, cached, 304 Not Modified          {not_modified * 1e3:8.3f} ms")
    print(f"  server app, cached GET (folder store)   {served * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()
