"""The book's store at the scale of years of courses and of a network, beside the old way.

Usage: ``python benchmarks/bench_store.py [--quick]``

The clinic is :mod:`busy_clinic`'s (four chairs, sixty courses running), with a history of
ended courses before them: 100, 1,000 and 10,000 courses in all on SQLite (``--quick``: 100
and 1,000), and a network of 50 sites of 1,000 courses each on PostgreSQL (``--quick``: 5
sites), on a throwaway cluster the benchmark starts (as the tests do) and stops.

History courses are real ``standard-10hz`` courses (28 of them, at seven times on four chairs),
copied back in time by whole multiples of twelve weeks (the same weekdays) with their session
rows: a clinic's years, made in seconds. Books are built once and kept in the temporary
folder for the next run.

Each front-desk action is timed as the command line makes it (a new store each time, the
calendar and course parsed afresh: *cold*) and as the front desk makes it (one store kept
open, which reuses what has not changed: *warm*):

* a record: a session of a running course cancelled (``book record``);
* taking an offer: a new course booked from an offer made just before (``book take``);
* the day sheet of a busy day (``book day``);
* a snow day: a closure that re-plans every course with a session that day (about 40).

Baseline: what the store did before, in one hand-written function: read every course's
document and parse it, each with its own clinic calendar, to build the whole book. It is
timed at the smaller sizes and, past 1,000 courses, from a sample of 500 (marked "est.").

Targets (issue 15): each front-desk action under 30 ms median on both engines, and at
10,000 courses no more than 1.5 times its time at 100; the snow day under 300 ms; a writer
on one site not held up by a long transaction on another site.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from busy_clinic import CHAIRS, CLINIC, NOW, busy_book
from tms_schedule import Course, Plan
from tms_schedule.book.store import BookStore, _session_rows
from tms_schedule.course.codec import checksum, course_from_json, course_to_json

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

SETTINGS = b"""timezone = "America/Denver"
hours = "07:00-19:00"
[holidays]
country = "US-CO"
""" + b"".join(f'[[chairs]]\nid = "{c.id}"\nlabel = "{c.label}"\n'.encode() for c in CHAIRS)
_TIMES = ("07:00", "08:40", "10:20", "12:00", "13:40", "15:20", "17:00")
_WEEKS = dt.timedelta(weeks=12)
_ACTIVE = 60
_CACHE = Path(tempfile.gettempdir()) / "tms-bench-store"


# -- building books ---------------------------------------------------------------------------


def _templates() -> list[tuple[dict[str, Any], list[tuple[Any, ...]], str]]:
    """Twenty-eight ended courses (seven times on four chairs), their rows and progress."""
    from tms_schedule.book.book import Booked

    out = []
    start = dt.date(2026, 6, 1)  # ends long before the running courses begin
    for chair in CHAIRS:
        for at in _TIMES:
            course = Course.start(Plan("standard-10hz", CLINIC, start, at, "template"))
            seats = tuple((s.number, chair.id) for s in course.schedule.sessions)
            rows = _session_rows("default", Booked(course, seats), CLINIC.zone, 0)
            out.append((json.loads(course_to_json(course)), rows, str(course.progress())))
    return out


def _shift(value: Any, days: int) -> Any:
    """Every date and moment in a course document, ``days`` earlier at the same wall-clock
    time (with the clinic's offset of that day)."""
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            if len(value) == 10:
                return (dt.date.fromisoformat(value) - dt.timedelta(days=days)).isoformat()
            return _earlier(dt.datetime.fromisoformat(value), days).isoformat()
        except ValueError:
            return value
    return value


def _earlier(moment: dt.datetime, days: int) -> dt.datetime:
    local = moment.astimezone(CLINIC.zone)
    day = local.date() - dt.timedelta(days=days)
    return dt.datetime.combine(day, local.time(), tzinfo=CLINIC.zone)


def _minutes_earlier(minutes: int, days: int) -> int:
    moment = dt.datetime.fromtimestamp(minutes * 60, tz=dt.UTC)
    return int(_earlier(moment, days).timestamp()) // 60


def _history(store: BookStore, count: int, site: str) -> None:
    """``count`` ended courses into the store's site, with their rows, in bulk."""
    templates = _templates()
    db = store._db
    db.begin(write=True)
    for k in range(count):
        data, rows, progress = templates[k % len(templates)]
        generation = k // len(templates) + 1
        days = generation * _WEEKS.days
        course_id = f"h-{k:05}"
        document = _shift({**data, "course_id": course_id}, days)
        for revision in document["revisions"]:
            revision["schedule"]["course_id"] = course_id
        document["checksum"] = checksum(document)
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        shifted = [
            (
                site,
                course_id,
                *r[2:5],
                (dt.date.fromisoformat(r[5]) - dt.timedelta(days=days)).isoformat(),
                _minutes_earlier(r[6], days),
                _minutes_earlier(r[7], days),
                *r[8:15],
                0,
            )
            for r in rows
        ]
        order = k + 1
        db.run(
            "INSERT INTO courses VALUES (?, ?, ?, ?, 0, 'standard-10hz', ?, NULL, ?, ?, ?, ?, 0)",
            (
                site,
                course_id,
                order,
                text,
                "Standard 10 Hz rTMS (left DLPFC) with taper",
                document["plan"]["start"],
                shifted[0][5],
                shifted[-1][5],
                progress,
            ),
        )
        db.run_many(f"INSERT INTO sessions VALUES ({', '.join('?' * 16)})", shifted)
    db.run("UPDATE courses SET booked_order = booked_order - ? WHERE site = ?", (count + 1, site))
    db.commit()


def _active(store: BookStore) -> None:
    busy = busy_book(_ACTIVE)
    first = min(s.date for b in busy.courses for s in b.course.schedule.sessions)
    with store.change(since=first, now=NOW, actor="bench", action="setup") as change:
        change.book = attrs.evolve(change.book, courses=busy.courses)


def sqlite_book(history: int) -> Path:
    """A book file with ``history`` ended courses and the sixty running ones (cached)."""
    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]
    path = _CACHE / f"book-{history}-{key}.db"
    if path.exists():
        return path
    _CACHE.mkdir(exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    with BookStore.create(building, SETTINGS) as store:
        _history(store, history, store.site)
        _active(store)
        store._db.run("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(building, path)
    return path


# -- timing -----------------------------------------------------------------------------------


def _median(func: Callable[[], Any], times: int) -> float:
    runs = []
    for _ in range(times):
        began = time.perf_counter()
        func()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


class Desk:
    """The front-desk actions on one store (``warm``) or a new store each time (cold)."""

    def __init__(self, location: str, warm: bool) -> None:
        self.location = location
        self.kept = BookStore(location) if warm else None
        running = sorted(
            (line for line in self._open().courses() if not line.course_id.startswith("h-")),
            key=lambda line: line.course_id,
        )
        self.running = [line.course_id for line in running]
        self.turn = 0

    @contextlib.contextmanager
    def store(self) -> Iterator[BookStore]:
        if self.kept is not None:
            yield self.kept
            return
        with BookStore(self.location) as store:
            yield store

    def _open(self) -> BookStore:
        return self.kept or BookStore(self.location)

    def record(self) -> None:
        self.turn += 1
        course_id = self.running[self.turn % len(self.running)]
        with (
            self.store() as store,
            store.change(courses=[course_id], now=NOW, actor="bench", action="record") as change,
        ):
            course = change.book.course(course_id)
            upcoming = [s for s in course.schedule.sessions if s.status == "scheduled"]
            if upcoming:
                later = upcoming[len(upcoming) // 2]
                change.book = change.book.update(course.cancelled(later.number, now=NOW))

    def offer(self) -> str:
        self.turn += 1
        with self.store() as store:
            window = store.window(since=NOW.date())
            offers = window.offers("itbs", NOW.date(), "12:00", window=240, dates=30, count=1)
            store.save_offers(offers, now=NOW)
        return offers[0].key

    def take(self, key: str) -> None:
        self.turn += 1
        with self.store() as store:
            offer = store.offer(key)
            with store.change(since=offer.start, now=NOW, actor="bench", action="take") as change:
                change.book = change.book.take(
                    offer, f"new-{os.getpid()}-{self.turn}-{time.monotonic_ns()}"
                )

    def day_sheet(self) -> None:
        with self.store() as store:
            store.day_sheet(NOW.date() + dt.timedelta(days=1))

    def close(self) -> None:
        if self.kept is not None:
            self.kept.close()


def desk_figures(location: str, times: int) -> dict[str, float]:
    """The median of each front-desk action, cold and warm."""
    figures = {}
    for warm in (False, True):
        desk = Desk(location, warm)
        label = "warm" if warm else "cold"
        figures[f"record {label}"] = _median(desk.record, times)
        figures[f"offers {label}"] = _median(desk.offer, max(1, times // 2))
        taken = []
        for _ in range(times):  # each offer made just before it is taken, untimed
            key = desk.offer()
            began = time.perf_counter()
            desk.take(key)
            taken.append(time.perf_counter() - began)
        figures[f"take {label}"] = statistics.median(taken)
        figures[f"day sheet {label}"] = _median(desk.day_sheet, times)
        desk.close()
    return figures


def snow_day(location: str) -> tuple[float, int]:
    """A closure of a busy Tuesday (every course with a session then re-planned)."""
    tuesday = NOW.date() + dt.timedelta(days=8)
    with BookStore(location) as store:
        began = time.perf_counter()
        with store.change(
            days=(tuesday, tuesday), events=True, now=NOW, actor="bench", action="closure"
        ) as change:
            change.book, report = change.book.enter_closure(tuesday, reason="Snow day", now=NOW)
        return time.perf_counter() - began, len(report.courses)


def baseline_load(location: str, sample: int | None) -> tuple[float, bool]:
    """What the store did before: every course document read and parsed, each with its own
    calendar, to build the whole book (timed on ``sample`` courses and scaled, if given)."""
    with BookStore(location) as store:
        rows = store._db.run("SELECT document FROM courses WHERE site = ?", (store.site,))
    total = len(rows)
    taken = rows if sample is None or sample >= total else rows[:sample]
    began = time.perf_counter()
    for (document,) in taken:
        course_from_json(document)
    spent = time.perf_counter() - began
    return spent * total / len(taken), len(taken) < total


def _copy(path: Path, folder: Path) -> str:
    target = folder / f"copy-{time.monotonic_ns()}.db"
    shutil.copyfile(path, target)
    return str(target)


def run_sqlite(sizes: list[int], times: int, folder: Path) -> dict[int, dict[str, float]]:
    results: dict[int, dict[str, float]] = {}
    for total in sizes:
        began = time.perf_counter()
        source = sqlite_book(total - _ACTIVE)
        built = time.perf_counter() - began
        location = _copy(source, folder)
        figures: dict[str, float] = {}
        figures.update(desk_figures(location, times))
        snow = [snow_day(_copy(source, folder)) for _ in range(max(1, times // 3))]
        figures["snow day"] = statistics.median(s for s, _ in snow)
        figures["snow day courses"] = snow[0][1]
        load, estimated = baseline_load(location, None if total <= 1000 else 500)
        figures["baseline"] = load
        figures["baseline estimated"] = float(estimated)
        figures["built"] = built
        results[total] = figures
    return results


def run_postgres(sites: int, per_site: int, times: int, folder: Path) -> dict[str, float] | None:
    import postgres

    why = postgres.missing()
    if why is not None:
        print(f"PostgreSQL: not run ({why}; bash .ci/install-postgres)")
        return None
    figures: dict[str, float] = {}
    with postgres.cluster() as address:
        began = time.perf_counter()
        first = f"{address}&site=s00"
        source = sqlite_book(per_site - _ACTIVE)
        with BookStore(source) as book:
            book.backup(first)
        import psycopg

        with psycopg.connect(address, autocommit=True) as db:
            db.execute("SET search_path TO tms_schedule")
            for k in range(1, sites):
                site = f"s{k:02}"
                for table, columns, _ in _tables():
                    db.execute(
                        f"INSERT INTO {table} ({columns}) SELECT %s, {columns.split(', ', 1)[1]}"
                        f" FROM {table} WHERE site = 's00'",
                        (site,),
                    )
            db.execute("ANALYZE")
        figures["built"] = time.perf_counter() - began
        location = f"{address}&site=s{sites // 2:02}"
        figures.update(desk_figures(location, times))
        seconds, courses = snow_day(f"{address}&site=s{sites - 1:02}")
        figures["snow day"], figures["snow day courses"] = seconds, courses
        figures["baseline"], _ = baseline_load(location, None)
        figures.update(_isolation(address, times))
    return figures


def _tables() -> list[tuple[str, str, str]]:
    from tms_schedule.book.store import _COPIED

    return list(_COPIED)


def _isolation(address: str, times: int) -> dict[str, float]:
    """A record on one site while another site's change holds its transaction open for a
    second, beside the same record with nobody else writing."""
    quiet = Desk(f"{address}&site=s01", warm=True)
    alone = _median(quiet.record, times)
    holding = threading.Event()
    release = threading.Event()

    def long_change() -> None:
        with (
            BookStore(f"{address}&site=s00") as other,
            other.change(courses=[], since=NOW.date(), now=NOW, actor="bench", action="long"),
        ):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=long_change)
    thread.start()
    holding.wait(30)
    during = _median(quiet.record, times)
    release.set()
    thread.join()
    quiet.close()
    return {"record, other site quiet": alone, "record, other site in a long change": during}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller books (for CI)")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    times = 3 if args.quick else 15
    sites, per_site = (3, 100) if args.quick else (50, 1000)
    with tempfile.TemporaryDirectory() as folder:
        results = run_sqlite(sizes, times, Path(folder))
        network = run_postgres(sites, per_site, times, Path(folder))
    print("SQLite, a 4-chair clinic (60 courses running), median of each action")
    header = "  courses in the book      " + "".join(f"{n:>12,}" for n in sizes)
    print(header)
    rows = [
        "record cold",
        "record warm",
        "take cold",
        "take warm",
        "day sheet cold",
        "day sheet warm",
        "offers cold",
        "offers warm",
        "snow day",
    ]
    for row in rows:
        print(f"  {row:<24}" + "".join(_ms(results[n][row]).rjust(12) for n in sizes))
    print(
        f"  {'(snow day: courses)':<24}"
        + "".join(f"{int(results[n]['snow day courses']):>12}" for n in sizes)
    )
    print(
        f"  {'baseline: load all':<24}"
        + "".join(
            (_ms(results[n]["baseline"]) + ("*" if results[n]["baseline estimated"] else "")).rjust(
                12
            )
            for n in sizes
        )
    )
    largest = sizes[-1]
    for row in ("record cold", "take cold", "day sheet cold"):
        ratio = results[largest][row] / results[sizes[0]][row]
        print(f"  {row} at {largest:,} / at {sizes[0]}: {ratio:.2f} (target: at most 1.5)")
    print(
        "  * estimated from 500 courses; targets: each action under 30 ms, the snow day under 300 ms"
    )
    if network is not None:
        print(
            f"PostgreSQL, {sites} sites of {per_site:,} courses (built in {network['built']:.0f} s)"
        )
        for row in rows:
            print(f"  {row:<34}{_ms(network[row])}")
        print(f"  {'baseline: load one site':<34}{_ms(network['baseline'])}")
        print(f"  {'record, other site quiet':<34}{_ms(network['record, other site quiet'])}")
        print(
            f"  {'record, other site in a long change':<34}"
            f"{_ms(network['record, other site in a long change'])}"
        )


if __name__ == "__main__":
    main()
