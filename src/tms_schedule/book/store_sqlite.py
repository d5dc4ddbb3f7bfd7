"""The book's store in one SQLite file: the embedded engine, one file on one computer.

:class:`SqliteEngine` is what :class:`~tms_schedule.book.store.BookStore` asks of an engine
(run a statement, begin, commit, the schema's version) for a file. It keeps the file in WAL
mode (a reader never waits for the writer), writes with ``synchronous = FULL``, lets one
writer in at a time (``BEGIN IMMEDIATE``; the others wait up to the timeout, then hear
"busy"), and turns every SQLite error into the library's own, in one line.

SQLite's WAL "does not work over a network filesystem" (its own documentation): a book on
NFS or SMB/CIFS would lose changes or corrupt itself the day two computers write at once,
so such a path is refused, with the alternatives named.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tms_schedule._files import shown_path
from tms_schedule.errors import BookingConflictError, StoreError

__all__ = ["APPLICATION_ID", "NETWORK_FILE_SYSTEMS", "SqliteEngine", "network_file_system"]

#: ``PRAGMA application_id`` of a book: "TMSB", so other SQLite files are told apart.
APPLICATION_ID = 0x544D5342
#: File system types (as /proc/self/mountinfo names them) a book is never kept on.
NETWORK_FILE_SYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.cephfs",
        "fuse.s3fs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.davfs2",
    }
)
_MOUNTINFO = Path("/proc/self/mountinfo")


def network_file_system(path: str | os.PathLike[str], mountinfo: str | None = None) -> str | None:
    """The type of the network file system ``path`` lies on (``nfs4``, ``cifs``, ...), or
    ``None`` for a local disk (or where the mounts cannot be read: not Linux).

    ``mountinfo``: the text of ``/proc/self/mountinfo`` (read when not given).

    >>> info = "36 25 0:32 / /srv/share rw - nfs4 server:/export rw\\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\\n"
    >>> network_file_system("/srv/share/book.db", info), network_file_system("/home/a/book.db", info)
    ('nfs4', None)
    """
    if mountinfo is None:
        try:
            mountinfo = _MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    where = os.path.realpath(os.path.dirname(os.path.abspath(path)) or ".")
    best: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if "-" not in fields or len(fields) < 5:
            continue
        point = _unescape(fields[4])
        kind = fields[fields.index("-") + 1] if fields.index("-") + 1 < len(fields) else ""
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), kind)
    if best is None:
        return None
    return best[1] if best[1] in NETWORK_FILE_SYSTEMS else None


def _unescape(text: str) -> str:
    """mountinfo writes a space in a path as ``\\040`` (and tab, newline, backslash alike)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(code, char)
    return text


class SqliteEngine:
    """One open book file (see the module).

    Args:
        path: the file.
        timeout: seconds a writer waits for another before it hears "busy".
        threads: one connection that a server's threads share, each call under the
            caller's lock.
        create: make the file (it must not exist).
    """

    kind = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 10.0,
        threads: bool = False,
        create: bool = False,
    ) -> None:
        self.path = Path(path)
        self.shown = shown_path(path)
        self._migrating = False
        self.timeout = timeout
        network = network_file_system(self.path)
        if network is not None:
            raise StoreError(
                f"{self.shown}: is on a network file system ({network}); a book's SQLite file"
                " must be on this computer's own disk (SQLite's locking does not work over a"
                " network): keep it here and let the other computers use the front desk in a"
                " browser (tms-schedule desk), or keep the book in PostgreSQL"
                " (a postgresql:// address)"
            )
        if create:
            self._make_file()
        elif not self.path.is_file():
            raise StoreError(
                f"{self.shown}: no such book (make one with: tms-schedule book init"
                f" {self.shown} --clinic clinic.toml)"
            )
        try:
            self._db = sqlite3.connect(
                self.path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=not threads,
            )
        except sqlite3.Error as error:
            raise self.failed(error) from None
        try:
            self.run("PRAGMA foreign_keys = ON")
            self.run("PRAGMA synchronous = FULL")
            if create:
                self.run("PRAGMA journal_mode = WAL")
        except BaseException:
            self._db.close()
            raise

    def _make_file(self) -> None:
        try:
            handle = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
        except FileExistsError:
            raise StoreError(f"{self.shown}: exists already; a book is never replaced") from None
        except OSError as error:
            raise StoreError(f"{self.shown}: cannot be created ({error.strerror})") from None
        os.close(handle)

    # -- what the store asks -------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; its rows."""
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise self.failed(error) from None
        except UnicodeDecodeError:  # sqlite3 decodes each text as it fetches it
            raise StoreError(
                f"{self.shown}: is damaged (it holds text that is not UTF-8); restore it from a"
                " backup (tms-schedule book backup makes them)"
            ) from None

    def run_many(
        self, sql: str, rows: Iterable[Sequence[Any]], *, together: str | None = None
    ) -> None:
        """Run one statement for each of ``rows`` (SQLite has no arrays for ``together``;
        its statements cost no round trip)."""
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self.failed(error) from None

    def script(self, sql: str) -> None:
        """Run the statements of a migration file, inside the open transaction."""
        for statement in _statements(sql):
            self.run(statement)

    def begin(self, *, write: bool, migrate: bool = False) -> None:
        """Start a transaction: a writer waits for the file's other writer. A migration's
        runs with foreign keys off (SQLite changes a table's columns by making it again,
        which they would refuse) and checks them all before it commits."""
        if migrate:
            self.run("PRAGMA foreign_keys = OFF")  # (outside a transaction, or it is ignored)
            self._migrating = True
        self.run("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self) -> None:
        if self._migrating:
            broken = self.run("PRAGMA foreign_key_check")
            if broken:
                raise StoreError(
                    f"{self.shown}: the migration left rows without their course or site"
                    f" ({len(broken)} in {', '.join(sorted({row[0] for row in broken}))});"
                    " nothing was changed"
                )
        self.run("COMMIT")
        self._migrated()

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
        self._migrated()

    def _migrated(self) -> None:
        if self._migrating:
            self._migrating = False
            self.run("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self._db.close()

    def schema(self) -> int:
        """The schema version the file holds (0: none), refusing another application's file."""
        application = self.run("PRAGMA application_id")[0][0]
        version = int(self.run("PRAGMA user_version")[0][0])
        if application == 0 and version == 0 and not self.tables():
            return 0  # a new, empty file
        if application != APPLICATION_ID:
            raise StoreError(f"{self.shown}: is not a tms_schedule book (another SQLite file)")
        return version

    def set_schema(self, version: int) -> None:
        self.run(f"PRAGMA user_version = {int(version)}")
        self.run(f"PRAGMA application_id = {APPLICATION_ID}")

    def tables(self) -> set[str]:
        """The names of the file's tables."""
        return {row[0] for row in self.run("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def lock_schema(self) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` lets one writer in already."""

    def backup(self, target: sqlite3.Connection) -> None:
        """SQLite's online backup into ``target``: a consistent copy while others work on."""
        self._db.backup(target)

    # -- errors ----------------------------------------------------------------------------------

    def failed(self, error: sqlite3.Error) -> StoreError | BookingConflictError:
        """The library's error for a SQLite one: what happened, in words, in one line."""
        text = str(error)
        if "two sessions on one chair at once" in text:
            return BookingConflictError(
                "not saved: the database refuses two sessions on one chair at once"
            )
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{self.shown}: busy: another terminal kept it for more than"
                f" {self.timeout:g} s; try again"
            )
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"{self.shown}: cannot be written by this user (the file or its folder is"
                " read-only for them); ask for write permission on both, or work on a copy"
                " (tms-schedule book backup)"
            )
        if "unable to open" in text:
            return StoreError(
                f"{self.shown}: cannot be opened (this user may not read it, or its folder)"
            )
        if "not a database" in text or "encrypted" in text:
            return StoreError(f"{self.shown}: is not a book database (not SQLite)")
        if "malformed" in text or "corrupt" in text:
            return StoreError(
                f"{self.shown}: is damaged ({text}); restore it from a backup"
                " (tms-schedule book backup makes them)"
            )
        if "no such table" in text or "no such column" in text or "has no column" in text:
            return StoreError(
                f"{self.shown}: is not a tms_schedule book, or a damaged one ({text})"
            )
        if "disk is full" in text or "disk I/O" in text:
            return StoreError(f"{self.shown}: cannot be written ({text}); nothing was saved")
        return StoreError(f"{self.shown}: {text}")


def _statements(sql: str) -> list[str]:
    """The statements of a migration file (split where SQLite says one is complete)."""
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise StoreError(f"migration: a statement does not end: {current.strip()[:60]!r}")
    return statements
