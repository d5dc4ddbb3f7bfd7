"""The book's store at the scale of years of courses and of a network, beside the old way.

Usage: ``python benchmarks/bench_store.py [--quick]``

The clinic is :mod:`busy_clinic`'s (four chairs, sixty courses running), with a history of
ended courses before them: 100, 1,000 and 10,000 courses in all on SQLite (``--quick``: 100
and 1,000), and a network of 50 sites of 1,000 courses each on PostgreSQL (``--quick``: 4
sites of 100), on a throwaway cluster the benchmark starts (as the tests do) and stops.

History courses are real ``standard-10hz`` courses (28 of them, at seven times on four chairs),
copied back in time by whole multiples of twelve weeks (the same weekdays) with their session
rows, written straight into the tables: a clinic's years, made in seconds. The history is
built once and kept in the temporary folder, under a key made of this generator's version,
the schema and what the library writes for the 28 templates (a library that writes other
rows builds it again); each run copies it and books the sixty running courses afresh.

The courses the benchmark books for itself are frozen out of the garbage collector's rounds
(``gc.freeze``), which would otherwise walk them inside whichever action they fell in.

Each front-desk action is timed as the command line makes it (a new store each time, the
calendar and course parsed afresh: *cold*) and as the front desk makes it (one store kept
open, which reuses what has not changed: *warm*), in wall-clock time and in this process's
processor time (on a machine shared with other work, the second says what the action
costs); beside each, the statements it sends to the database:

* a record: a session of a running course cancelled (``book record``);
* taking an offer: a new course booked from an offer made just before (``book take``);
* the day sheet of a busy day (``book day``);
* a snow day: a closure that re-plans every course with a session that day (about 40).

Baseline: what the store did before, in one hand-written function: read every course's
document and parse it, each with its own clinic calendar, to build the whole book. It is
timed at the smaller sizes and, past 1,000 courses, from a sample of 500 (marked "*").

Targets (issue 15): each front-desk action under 30 ms median on both engines, and at
10,000 courses no more than 1.5 times its time at 100; the snow day under 300 ms; a writer
on one site not held up by a long transaction on another site.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from busy_clinic import CHAIRS, CLINIC, NOW, busy_book
from tms_schedule import Course, Plan
from tms_schedule.book import Book
from tms_schedule.book.store import _COPIED, SCHEMA, BookStore, _document, _session_rows
from tms_schedule.course.codec import checksum, course_from_json

SETTINGS = b"""timezone = "America/Denver"
hours = "07:00-19:00"
[holidays]
country = "US-CO"
""" + b"".join(f'[[chairs]]\nid = "{c.id}"\nlabel = "{c.label}"\n'.encode() for c in CHAIRS)
#: Raised when the history's making changes in a way the key below would not see.
GENERATOR = 2
_TIMES = ("07:00", "08:40", "10:20", "12:00", "13:40", "15:20", "17:00")
_WEEKS = dt.timedelta(weeks=12)
_ACTIVE = 60
_CACHE = Path(tempfile.gettempdir()) / "tms-bench-store"
_TUESDAY = NOW.date() + dt.timedelta(days=8)


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
            out.append((json.loads(_document(course)), rows, str(course.progress())))
    return out


def _key(templates: list[tuple[dict[str, Any], list[tuple[Any, ...]], str]]) -> str:
    """The history's key: the generator, the schema, and what the library writes."""
    digest = hashlib.sha256(f"{GENERATOR} {SCHEMA}".encode())
    digest.update(json.dumps(templates, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


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


def _history(store: BookStore, count: int, templates: list[Any]) -> None:
    """``count`` ended courses into the store's site, with their rows, in bulk."""
    db, site = store._db, store.site
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
        db.run(
            "INSERT INTO courses (site, course_id, booked_order, own_calendar, protocol,"
            " protocol_name, follows, plan_start, first_day, last_day, progress, stamp) VALUES"
            " (?, ?, ?, 0, 'standard-10hz', ?, NULL, ?, ?, ?, ?, 0)",
            (
                site,
                course_id,
                k + 1 - count - 1,  # before every course booked later
                "Standard 10 Hz rTMS (left DLPFC) with taper",
                document["plan"]["start"],
                shifted[0][5],
                shifted[-1][5],
                progress,
            ),
        )
        db.run(
            "INSERT INTO documents (site, course_id, document) VALUES (?, ?, ?)",
            (site, course_id, json.dumps(document, ensure_ascii=False, separators=(",", ":"))),
        )
        db.run_many(f"INSERT INTO sessions VALUES ({', '.join('?' * 16)})", shifted)
    db.commit()


def history_book(count: int) -> Path:
    """A book file with ``count`` ended courses (made once, then kept: see the module)."""
    templates = _templates()
    path = _CACHE / f"history-{count}-{_key(templates)}.db"
    if path.exists():
        return path
    _CACHE.mkdir(exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    with BookStore.create(building, SETTINGS) as store:
        _history(store, count, templates)
        store._db.run("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(building, path)
    return path


def sqlite_book(total: int, running: Book, folder: Path) -> Path:
    """A new book file in ``folder``: the history, and the running courses booked in it."""
    path = folder / f"book-{total}.db"
    shutil.copyfile(history_book(total - _ACTIVE), path)
    first = min(s.date for b in running.courses for s in b.course.schedule.sessions)
    with (
        BookStore(path) as store,
        store.change(since=first, now=NOW, actor="bench", action="setup") as change,
    ):
        change.book = attrs.evolve(change.book, courses=running.courses)
    return path


def _copy(path: Path, folder: Path) -> str:
    target = folder / f"copy-{time.monotonic_ns()}.db"
    shutil.copyfile(path, target)
    return str(target)


# -- timing -----------------------------------------------------------------------------------


#: An action's median wall-clock and processor seconds, median statements sent, and its
#: fastest and slowest wall-clock seconds.
Figures = tuple[float, float, int, float, float]


class Timed:
    """Wall-clock and processor time, and the statements sent, of one action's runs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.statements: list[int] = []

    @contextlib.contextmanager
    def run(self, counter: list[int]) -> Iterator[None]:
        counter[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        self.statements.append(counter[0])

    def figures(self) -> Figures:
        return (
            statistics.median(self.wall),
            statistics.median(self.cpu),
            int(statistics.median(self.statements)),
            min(self.wall),
            max(self.wall),
        )


def _counting(store: BookStore, counter: list[int]) -> BookStore:
    """The store, its statements counted in ``counter``."""
    db = store._db
    run, run_many = db.run, db.run_many

    def counted_run(sql: str, params: Any = ()) -> Any:
        counter[0] += 1
        return run(sql, params)

    def counted_many(sql: str, rows: Any, **options: Any) -> Any:
        counter[0] += 1
        return run_many(sql, rows, **options)

    db.run = counted_run  # type: ignore[method-assign]
    db.run_many = counted_many  # type: ignore[method-assign]
    return store


class Desk:
    """The front-desk actions on one store (``warm``) or a new store each time (cold)."""

    def __init__(self, location: str, warm: bool) -> None:
        self.location = location
        self.counter = [0]
        self.kept = _counting(BookStore(location), self.counter) if warm else None
        with self.store() as store:
            lines = store.courses()
        self.running = sorted(
            line.course_id for line in lines if not line.course_id.startswith("h-")
        )
        self.turn = 0

    @contextlib.contextmanager
    def store(self) -> Iterator[BookStore]:
        if self.kept is not None:
            yield self.kept
            return
        with BookStore(self.location) as store:
            yield _counting(store, self.counter)

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


def desk_figures(locations: dict[Any, str], times: int) -> dict[Any, dict[str, Figures]]:
    """Each front-desk action's medians, cold and warm (after two untimed runs each), on
    each book of ``locations``: their runs taken in turn, so that a machine that grows
    faster or slower meanwhile (a shared one does) weighs on every book alike."""
    figures: dict[Any, dict[str, Figures]] = {key: {} for key in locations}
    for warm in (False, True):
        desks = {key: Desk(location, warm) for key, location in locations.items()}
        label = "warm" if warm else "cold"
        for name in ("record", "day sheet", "take"):
            timed = {key: Timed() for key in locations}
            for k in range(times + 2):
                for key, desk in desks.items():
                    action: Callable[[], None]
                    if name == "take":  # each offer made just before it is taken, untimed
                        action = functools.partial(desk.take, desk.offer())
                    else:
                        action = desk.record if name == "record" else desk.day_sheet
                    with timed[key].run(desk.counter) if k >= 2 else contextlib.nullcontext():
                        action()
            for key in locations:
                figures[key][f"{name} {label}"] = timed[key].figures()
        for desk in desks.values():
            desk.close()
    return figures


def snow_day(location: str, warm: bool) -> tuple[float, float, int, int]:
    """A closure of a busy Tuesday (every course with a session then re-planned): wall and
    processor seconds, statements, courses re-planned. Warm: the store has read that day's
    courses before (as the front desk's has, having shown them)."""
    counter = [0]
    with BookStore(location) as store:
        if warm:
            store.window(courses=[r.course_id for r in store.sessions(_TUESDAY)])
        _counting(store, counter)
        timed = Timed()
        with (
            timed.run(counter),
            store.change(
                days=(_TUESDAY, _TUESDAY), events=True, now=NOW, actor="bench", action="closure"
            ) as change,
        ):
            change.book, report = change.book.enter_closure(_TUESDAY, reason="Snow day", now=NOW)
    wall, cpu, statements, _, _ = timed.figures()
    return wall, cpu, statements, len(report.courses)


def baseline_load(location: str, sample: int | None) -> tuple[float, bool]:
    """What the store did before: every course document read and parsed, each with its own
    calendar, to build the whole book (timed on ``sample`` courses and scaled, if given)."""
    with BookStore(location) as store:
        rows = store._db.run("SELECT document FROM documents WHERE site = ?", (store.site,))
    total = len(rows)
    taken = rows if sample is None or sample >= total else rows[:sample]
    began = time.perf_counter()
    for (document,) in taken:
        course_from_json(document)
    spent = time.perf_counter() - began
    return spent * total / len(taken), len(taken) < total


def _snow_days(makers: dict[Any, Callable[[], str]], times: int) -> dict[Any, dict[str, Figures]]:
    """The snow day ``times`` cold and warm on a fresh copy of each book (``makers``), the
    books taken in turn (see :func:`desk_figures`)."""
    out: dict[Any, dict[str, Figures]] = {key: {} for key in makers}
    for warm in (False, True):
        runs: dict[Any, list[tuple[float, float, int, int]]] = {key: [] for key in makers}
        for _ in range(times):
            for key, make in makers.items():
                runs[key].append(snow_day(make(), warm))
        for key, found in runs.items():
            out[key][f"snow day {'warm' if warm else 'cold'}"] = (
                statistics.median(r[0] for r in found),
                statistics.median(r[1] for r in found),
                int(statistics.median(r[2] for r in found)),
                min(r[0] for r in found),
                max(r[0] for r in found),
            )
            out[key]["snow day courses"] = (0.0, 0.0, found[0][3], 0.0, 0.0)
    return out


def run_sqlite(sizes: list[int], times: int, folder: Path, running: Book) -> dict[int, Any]:
    results: dict[int, Any] = {}
    sources: dict[int, Path] = {}
    for total in sizes:
        began = time.perf_counter()
        sources[total] = sqlite_book(total, running, folder)
        results[total] = {"built": time.perf_counter() - began}
    for total, figures in desk_figures(
        {total: _copy(source, folder) for total, source in sources.items()}, times
    ).items():
        results[total].update(figures)
    makers = {
        total: (lambda source=source: _copy(source, folder)) for total, source in sources.items()
    }
    for total, figures in _snow_days(makers, max(3, times // 3)).items():
        results[total].update(figures)
    for total, source in sources.items():
        results[total]["baseline"] = baseline_load(str(source), None if total <= 1000 else 500)
        source.unlink()
    return results


def run_postgres(
    sites: int, per_site: int, times: int, folder: Path, running: Book
) -> dict[str, Any] | None:
    import postgres

    why = postgres.missing()
    if why is not None:
        print(f"PostgreSQL: not run ({why}; bash .ci/install-postgres)")
        return None
    figures: dict[str, Any] = {}
    with postgres.cluster() as address:
        began = time.perf_counter()
        source = sqlite_book(per_site, running, folder)
        with BookStore(source) as book:
            book.backup(f"{address}&site=s00")
        import psycopg

        with psycopg.connect(address, autocommit=True) as db:
            # A bulk load: the double-booking guard is made again once, over every row.
            db.execute("SET search_path TO tms_schedule")
            (guard,) = db.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname ="
                " 'one_session_per_chair'"
            ).fetchone()
            db.execute("ALTER TABLE sessions DROP CONSTRAINT one_session_per_chair")
            for k in range(1, sites):
                for table, columns, _ in _COPIED:
                    rest = columns.split(", ", 1)[1]
                    db.execute(
                        f"INSERT INTO {table} ({columns}) SELECT %s, {rest} FROM {table}"
                        " WHERE site = 's00'",
                        (f"s{k:02}",),
                    )
            db.execute(f"ALTER TABLE sessions ADD CONSTRAINT one_session_per_chair {guard}")
            db.execute("VACUUM ANALYZE")
        figures["built"] = time.perf_counter() - began
        location = f"{address}&site=s01"
        figures.update(desk_figures({"site": location}, times)["site"])
        spare = iter(range(2, sites))  # sites the snow days may close
        figures.update(
            _snow_days(
                {"site": lambda: f"{address}&site=s{next(spare):02}"}, min(max(1, times // 3), 4)
            )["site"]
        )
        figures["baseline"] = baseline_load(location, None)
        figures.update(_isolation(address, times))
    return figures


def _isolation(address: str, times: int) -> dict[str, Any]:
    """A record on site s01 while site s00's change holds its transaction (and its site's
    lock) open, beside the same record with nobody else writing; and one on s00 itself,
    which waits for the long change (held for a second) to end."""
    quiet = Desk(f"{address}&site=s01", warm=True)
    alone = Timed()
    for _ in range(times):
        with alone.run(quiet.counter):
            quiet.record()
    holding, release = threading.Event(), threading.Event()

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
    during = Timed()
    for _ in range(times):
        with during.run(quiet.counter):
            quiet.record()
    same = Desk(f"{address}&site=s00", warm=True)
    threading.Timer(1.0, release.set).start()
    waited = Timed()
    with waited.run(same.counter):
        same.record()
    thread.join()
    quiet.close()
    same.close()
    return {
        "record, other site quiet": alone.figures(),
        "record, other site in a long change": during.figures(),
        "record, same site in a 1 s change": waited.figures(),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def _cell(figures: Figures) -> str:
    wall, cpu, statements, fastest, slowest = figures
    return f"{_ms(wall)} [{_ms(fastest)}-{_ms(slowest)}] / {_ms(cpu)} ({statements})"


_ROWS = [
    "record cold",
    "record warm",
    "take cold",
    "take warm",
    "day sheet cold",
    "day sheet warm",
    "snow day cold",
    "snow day warm",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller books (for CI)")
    args = parser.parse_args()
    sizes = [100, 1000] if args.quick else [100, 1000, 10000]
    times = 3 if args.quick else 15
    sites, per_site = (4, 100) if args.quick else (50, 1000)
    began = time.perf_counter()
    running = busy_book(_ACTIVE)
    print(f"(the {_ACTIVE} running courses booked in {time.perf_counter() - began:.1f} s)")
    # The benchmark's own courses (booked above, some 60,000 objects) are left out of the
    # garbage collector's rounds: a command or a server holds its store, not these, and
    # a full round through them, falling inside a timed action, was counted against it.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as folder:
        results = run_sqlite(sizes, times, Path(folder), running)
        network = run_postgres(sites, per_site, times, Path(folder), running)
    print(
        "SQLite, a 4-chair clinic (60 courses running): ms, wall median [fastest-slowest]"
        " / processor median (statements)"
    )
    print("  courses in the book  " + "".join(f"{n:>38,}" for n in sizes))
    for row in _ROWS:
        print(f"  {row:<20} " + "".join(_cell(results[n][row]).rjust(38) for n in sizes))
    print(
        f"  {'(snow day: courses)':<20} "
        + "".join(f"{results[n]['snow day courses'][2]:>38}" for n in sizes)
    )
    print(
        f"  {'baseline: load all':<20} "
        + "".join(
            (_ms(results[n]["baseline"][0]) + ("*" if results[n]["baseline"][1] else "")).rjust(38)
            for n in sizes
        )
    )
    print(
        f"  {'(history built, s)':<20} " + "".join(f"{results[n]['built']:>38.1f}" for n in sizes)
    )
    largest, smallest = sizes[-1], sizes[0]
    print(f"  at {largest:,} / at {smallest} (wall, processor; target: at most 1.5):")
    for row in _ROWS:
        wall = results[largest][row][0] / results[smallest][row][0]
        cpu = results[largest][row][1] / results[smallest][row][1]
        print(f"    {row:<20} {wall:5.2f} {cpu:5.2f}")
    print(
        "  * estimated from 500 courses. Targets: each action under 30 ms, the snow day under"
        " 300 ms"
    )
    if network is not None:
        print(
            f"PostgreSQL, {sites} sites of {per_site:,} courses (built in {network['built']:.0f} s):"
            " ms, wall median [fastest-slowest] / processor median of this process (statements)"
        )
        for row in [*_ROWS, *(k for k in network if k.startswith("record,"))]:
            print(f"  {row:<36}{_cell(network[row]).rjust(38)}")
        print(f"  {'(snow day: courses)':<36}{network['snow day courses'][2]:>38}")
        print(f"  {'baseline: load one site':<36}{_ms(network['baseline'][0]).rjust(38)}")


if __name__ == "__main__":
    main()
