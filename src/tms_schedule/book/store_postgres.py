"""The book's store in PostgreSQL: several computers, several clinics, one database.

:class:`PostgresEngine` is what :class:`~tms_schedule.book.store.BookStore` asks of an
engine, over psycopg 3 (``pip install 'tms_schedule[postgres]'``). The book's tables live
in the schema ``tms_schedule`` of the database the address names; every row carries its
site, so clinics share the database without seeing each other's rows.

* A change is one transaction at READ COMMITTED whose first statement raises its site's
  version, which locks the site's row: the site's other writers wait for it (so the staff
  limit, which no constraint can express, holds under concurrent writers), and other sites
  never do.
* A reader's transaction is REPEATABLE READ, READ ONLY: the rows of one view come from one
  moment.
* Double booking is refused by an exclusion constraint (see ``sql/postgresql/4.sql``):
  SQLSTATE 23P01 becomes :class:`~tms_schedule.errors.BookingConflictError`.
* ``lock_timeout`` is the store's timeout: a writer kept waiting longer hears "busy".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from tms_schedule.errors import BookingConflictError, StoreError

__all__ = ["SCHEMA_NAME", "PostgresEngine"]

#: The PostgreSQL schema (namespace) that holds the book's tables.
SCHEMA_NAME = "tms_schedule"


class PostgresEngine:
    """One connection to a PostgreSQL database holding books (see the module).

    Args:
        conninfo: the ``postgresql://`` address, without the site.
        shown: the address as messages show it (no password).
        timeout: seconds a writer waits for another before it hears "busy".
        create: make the schema if the database has none yet.
    """

    kind = "postgresql"

    def __init__(
        self, conninfo: str, shown: str, *, timeout: float = 10.0, create: bool = False
    ) -> None:
        self.shown = shown
        self.timeout = timeout
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"{shown}: a book in PostgreSQL needs the psycopg driver: pip install"
                " 'tms_schedule[postgres]'"
            ) from None
        self._psycopg = psycopg
        try:
            self._db = psycopg.connect(
                conninfo,
                autocommit=True,
                connect_timeout=max(1, int(timeout)),
                application_name="tms_schedule",
            )
        except psycopg.Error as error:
            raise StoreError(f"{shown}: cannot connect ({_first_line(error)})") from None
        # The statements of the open transaction not sent yet (BEGIN, and writes whose rows
        # nobody waits for: see run_many), each with the parameters of each run.
        self._waiting: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._open = False  # inside a transaction begun by begin()
        self._pipelines = psycopg.Pipeline.is_supported()  # (libpq 14 and later)
        # The tables :meth:`schema` just found, for :meth:`tables` (``None``: ask again).
        self._tables: set[str] | None = None
        # The settings in one round trip: a command's store lives for one action, and on
        # a network each statement waits for the server once.
        settings = [
            f"SET lock_timeout = {max(1, int(timeout * 1000))}",
            "SET statement_timeout = 0",
            f"SET search_path TO {SCHEMA_NAME}, public",
        ]
        if create:
            settings.insert(0, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA_NAME}")
        try:
            self.script("; ".join(settings))
        except BaseException:
            self._db.close()
            raise

    # -- what the store asks -------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` marks its parameters, as in SQLite); its rows."""
        try:
            if self._waiting:
                cursor = self._send(_dialect(sql), tuple(params))
            else:
                cursor = self._db.execute(_dialect(sql), tuple(params), prepare=False)
            return list(cursor.fetchall()) if cursor.description is not None else []
        except self._psycopg.Error as error:
            raise self.failed(error) from None

    def run_many(
        self, sql: str, rows: Iterable[Sequence[Any]], *, together: str | None = None
    ) -> None:
        """Run one statement for each of ``rows``, or ``together`` once for them all (each
        of its parameters an array: one column of the rows). Inside a transaction they go
        with the next statement that waits for the server (a refusal is raised there, or by
        :meth:`commit`), so a change's writes cost one round trip, not one each."""
        kept = [tuple(row) for row in rows]
        if not kept:
            return
        work = (_dialect(sql), kept)
        if together is not None:
            work = (_dialect(together), [tuple(list(column) for column in zip(*kept, strict=True))])
        if self._open and self._pipelines:
            self._waiting.append(work)
            return
        try:
            self._execute(*work)
        except self._psycopg.Error as error:
            raise self.failed(error) from None

    def script(self, sql: str) -> None:
        """Run a migration file inside the open transaction (one call: PostgreSQL takes
        several statements at once when they have no parameters)."""
        self._tables = None
        try:
            if self._waiting:
                self._send()
            self._db.execute(sql.replace("%", "%%"), prepare=False)
        except self._psycopg.Error as error:
            raise self.failed(error) from None

    def begin(self, *, write: bool, migrate: bool = False) -> None:
        """Start a transaction: its BEGIN goes with its first statement."""
        sql = (
            "BEGIN ISOLATION LEVEL READ COMMITTED"
            if write
            else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        )
        self._open = True
        if self._pipelines:
            self._waiting.append((sql, [()]))
        else:
            self.run(sql)

    def commit(self) -> None:
        """Commit, with the writes still waiting to be sent."""
        self._open = False
        try:
            if self._waiting:
                self._send("COMMIT", None)
            else:
                self._db.execute("COMMIT", prepare=False)
        except self._psycopg.Error as error:
            raise self.failed(error) from None

    def rollback(self) -> None:
        self._open = False
        self._waiting = []  # (never sent: nothing of them to take back)
        if self._db.closed:
            return
        status = self._db.info.transaction_status
        if status != self._psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(self._psycopg.Error):
                self._db.execute("ROLLBACK")

    def _send(self, sql: str | None = None, params: tuple[Any, ...] | None = None) -> Any:
        """Send the statements waiting, then ``sql`` (if any), in one pipeline: one round
        trip. The first error among them is raised; ``sql``'s cursor is returned."""
        waiting, self._waiting = self._waiting, []
        cursor = None
        with self._db.pipeline():
            for text, rows in waiting:
                self._execute(text, rows)
            if sql is not None:
                cursor = self._db.execute(sql, params, prepare=False)
        return cursor

    def _execute(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` once for each of ``rows`` (with no rows back)."""
        if len(rows) == 1:
            self._db.execute(sql, rows[0], prepare=False)
            return
        with self._db.cursor() as cursor:
            cursor.executemany(sql, rows)

    def close(self) -> None:
        self._waiting = []
        self._db.close()

    def schema(self) -> int:
        """The schema version of the database's books (0: none yet)."""
        self._tables = self._find_tables()
        if "schema_version" not in self._tables:
            return 0
        found = self.run("SELECT version FROM schema_version")
        return int(found[0][0]) if found else 0

    def set_schema(self, version: int) -> None:
        self._tables = None
        self.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        self.run("DELETE FROM schema_version")
        self.run("INSERT INTO schema_version VALUES (?)", (int(version),))

    def tables(self) -> set[str]:
        """The tables of the schema (as the :meth:`schema` call just before saw them, when
        nothing changed them since: opening a book asks both, one after the other)."""
        tables, self._tables = self._tables, None
        return tables if tables is not None else self._find_tables()

    def _find_tables(self) -> set[str]:
        # (the system catalog: information_schema's views cost a few milliseconds to plan
        # in every new connection)
        rows = self.run(
            "SELECT relname FROM pg_catalog.pg_class WHERE relnamespace ="
            " to_regnamespace(?) AND relkind IN ('r', 'p')",
            (SCHEMA_NAME,),
        )
        return {row[0] for row in rows}

    def lock_schema(self) -> None:
        """Make concurrent first openers of a database migrate it one at a time."""
        self.run("SELECT pg_advisory_xact_lock(?)", (0x544D5342,))

    # -- errors ----------------------------------------------------------------------------------

    def failed(self, error: Exception) -> StoreError | BookingConflictError:
        """The library's error for a PostgreSQL one, in one line."""
        state = getattr(error, "sqlstate", None)
        text = _first_line(error)
        if state == "23P01":  # exclusion_violation
            return BookingConflictError(
                "not saved: the database refuses two sessions on one chair at once"
            )
        if state in ("55P03", "40P01", "57014"):  # lock timeout, deadlock, cancelled
            return StoreError(
                f"{self.shown}: busy: another terminal kept it for more than"
                f" {self.timeout:g} s; try again"
            )
        if state == "42501":
            return StoreError(f"{self.shown}: this database user may not do that ({text})")
        if (state is not None and state.startswith("08")) or self._db.closed:
            return StoreError(f"{self.shown}: the connection was lost ({text}); try again")
        if state == "42P01":
            return StoreError(f"{self.shown}: holds no book, or a damaged one ({text})")
        return StoreError(f"{self.shown}: {text}")


def _dialect(sql: str) -> str:
    """SQLite's ``?`` parameter marks as psycopg's ``%s`` (the store's SQL has no ``?``
    nor ``%`` of its own)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
