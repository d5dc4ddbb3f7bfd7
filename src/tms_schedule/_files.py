"""Reading and writing files: nothing read without bounds, nothing half-written, lost or
silently replaced.

Every settings or key file tms_schedule reads goes through :func:`read_file`: only a regular
file is read (a directory, a device such as ``/dev/zero`` or a pipe is refused, and opening
never waits on a pipe), and at most ``limit`` bytes of it.

Every file tms_schedule writes (course files, calendar files, CSV, JSON, handouts) goes
through :func:`write_file`:

* the bytes go to a temporary file beside the target, are flushed to disk, and replace the
  target in one step (``os.replace``): a full disk, a crash or a kill leaves the old file
  whole, and the temporary file is removed on every failure;
* a symbolic link is written through to the file it points to, so the link stays a link;
* an existing file keeps its permission bits and, where the system allows, its owner and
  group; a read-only file (no write bit for its owner) is refused, not replaced;
* with ``overwrite=False`` an existing file is refused: the new file appears only if no file
  of that name existed a moment before (a hard link makes the check and the write one step).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tms_schedule.errors import FileWriteError

__all__ = ["Staged", "locked", "read_file", "shown_path", "staged", "write_file"]


def read_file(
    path: str | os.PathLike[str],
    *,
    limit: int,
    error: type[ValueError],
    what: str = "file",
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Anything else raises ``error`` naming the file: missing, unreadable, a directory, not a
    regular file, or larger than ``limit`` (checked as it is read, so a file that grows
    or lies about its size is still refused).

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.toml").write_bytes(b"x = 1")
    >>> read_file(folder / "a.toml", limit=100, error=ValueError)
    b'x = 1'
    >>> read_file(folder, limit=100, error=ValueError, what="TOML file")
    Traceback (most recent call last):
    ...
    ValueError: ...: is a directory, not a TOML file
    """
    shown = shown_path(path)
    flags = os.O_RDONLY
    for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"):  # never wait on a pipe or take a tty
        flags |= getattr(os, name, 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{shown}: no such file") from None
    except NotADirectoryError:
        raise error(f"{shown}: no such file (a part of the path is not a folder)") from None
    except IsADirectoryError:
        raise error(f"{shown}: is a directory, not a {what}") from None
    except PermissionError:
        raise error(f"{shown}: cannot be read (permission denied)") from None
    except (OSError, ValueError) as problem:  # ValueError: a NUL byte in the name
        raise error(f"{shown}: cannot be read ({_why(problem)})") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise error(f"{shown}: is a directory, not a {what}")
        if not stat.S_ISREG(mode):
            raise error(f"{shown}: is not a regular file (a device, pipe or socket); give a {what}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as problem:
        raise error(f"{shown}: cannot be read ({_why(problem)})") from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise error(f"{shown}: is larger than {_size(limit)}; not a {what}")
    return b"".join(chunks)


def shown_path(path: str | os.PathLike[str]) -> str:
    """A file name as a message shows it: bytes that are not UTF-8 written as ``\\xe9``,
    and a name too long to read cut in the middle.

    >>> shown_path("caf\\udce9.toml")
    'caf\\\\xe9.toml'
    """
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:  # a surrogate no system name holds (only \udc80-\udcff do)
        raw = os.fspath(path).encode("utf-8", "surrogatepass")
    text = raw.decode("utf-8", "backslashreplace")
    return text if len(text) <= 160 else f"{text[:100]}...{text[-40:]}"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def write_file(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically; returns the file written (links followed).

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_file(folder / "a.txt", b"one").read_bytes()
    b'one'
    >>> write_file(folder / "a.txt", b"two", overwrite=False)
    Traceback (most recent call last):
    ...
    tms_schedule.errors.FileWriteError: ...a.txt: exists already; ...
    """
    target = Path(os.path.realpath(path))
    shown = Path(path)
    try:
        existing: os.stat_result | None = target.stat()
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise FileWriteError(f"{shown}: cannot write there ({_why(error)})") from None
    if existing is not None:
        if not overwrite:
            raise FileWriteError(
                f"{shown}: exists already; choose another name, or replace it on purpose"
            )
        if not stat.S_ISREG(existing.st_mode):
            raise FileWriteError(f"{shown}: is not a regular file; give a file name")
        if not existing.st_mode & stat.S_IWUSR:
            raise FileWriteError(f"{shown}: is read-only; it was left as it is")
    try:
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise FileWriteError(f"{shown}: cannot write there ({_why(error)})") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _keep_attributes(temporary, existing)
        if overwrite:
            os.replace(temporary, target)
        else:
            _create(temporary, target, shown)
    except OSError as error:
        _remove(temporary)
        state = "the file is as it was" if existing is not None else "nothing was written"
        raise FileWriteError(f"{shown}: not written ({_why(error)}); {state}") from None
    except BaseException:
        _remove(temporary)
        raise
    _sync_directory(target.parent)
    return target


class Staged:
    """Files written into a hidden folder beside their place, put in place together by
    :meth:`publish` (see :func:`staged`)."""

    def __init__(self, folder: Path, temporary: Path) -> None:
        self.folder = folder
        self._temporary = temporary
        self.names: list[str] = []

    def write(self, name: str, data: bytes) -> None:
        """Write ``data`` as ``name`` into the hidden folder (whole and on disk, or
        :class:`FileWriteError`)."""
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise FileWriteError(f"{name!r}: a file name, not a path")
        write_file(self._temporary / name, data)
        self.names.append(name)

    def publish(self) -> list[str]:
        """Move every file written into its place (each a rename within one file system);
        returns the names that could not be moved (and stay in the hidden folder)."""
        failed = []
        for name in self.names:
            try:
                os.replace(self._temporary / name, self.folder / name)
            except OSError:
                failed.append(name)
        _sync_directory(self.folder)
        if not failed:
            _remove_tree(self._temporary)
        return failed


@contextlib.contextmanager
def staged(folder: str | os.PathLike[str]) -> Iterator[Staged]:
    """Write several files into ``folder`` all or none: each goes first into a hidden
    folder inside it; if the block raises (a full disk, a change refused), the hidden
    folder is removed and ``folder`` is as it was. Call :meth:`Staged.publish` once the
    rest of the work is done (a database committed) to put them in place.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with staged(folder) as files:
    ...     files.write("c-1.ics", b"BEGIN:VCALENDAR")
    >>> files.publish(), sorted(p.name for p in folder.iterdir())
    ([], ['c-1.ics'])
    """
    place = Path(folder)
    try:
        temporary = Path(tempfile.mkdtemp(dir=place, prefix=".staged-"))
    except OSError as error:
        raise FileWriteError(f"{shown_path(place)}: cannot write there ({_why(error)})") from None
    files = Staged(place, temporary)
    try:
        yield files
    except BaseException:
        _remove_tree(temporary)
        raise


def _remove_tree(folder: Path) -> None:
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            entry.unlink()
        folder.rmdir()


def _keep_attributes(temporary: str, existing: os.stat_result | None) -> None:
    """The mode (and owner, group) of the file replaced, or the usual ones for a new file."""
    if existing is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        return
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "chown"):
        for owner, group in ((existing.st_uid, existing.st_gid), (-1, existing.st_gid)):
            try:
                os.chown(temporary, owner, group)
                break
            except OSError:
                continue  # not allowed to give the file away: keep at least its group


def _create(temporary: str, target: Path, shown: Path) -> None:
    """Put the temporary file at ``target`` only if nothing is there, in one step."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise FileWriteError(
            f"{shown}: exists already; choose another name, or replace it on purpose"
        ) from None
    except OSError:
        # No hard links here (some network and FAT file systems): check, then rename.
        if target.exists():
            raise FileWriteError(
                f"{shown}: exists already; choose another name, or replace it on purpose"
            ) from None
        os.replace(temporary, target)
        return
    _remove(temporary)


def _sync_directory(folder: Path) -> None:
    """Make the rename itself durable where the system allows it."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)


def _why(error: OSError | ValueError) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of ``path``: ``.NAME.lock`` beside the file (links followed)."""
    target = Path(os.path.realpath(path))
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def locked(
    path: str | os.PathLike[str],
    *,
    error: type[ValueError],
    timeout: float = 10.0,
    busy: str = "another tms-schedule is changing it",
) -> Iterator[None]:
    """Hold the lock of ``path`` for a read-change-write: another process asking for it
    waits (up to ``timeout`` seconds, then ``error`` says the file is busy).

    The lock is a file beside ``path`` (:func:`lock_path`), never removed: removing one
    while another process waits on it would let a third one in.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "feeds.toml"
    >>> with locked(target, error=ValueError):
    ...     _ = write_file(target, b"x = 1")
    >>> lock_path(target).name
    '.feeds.toml.lock'
    """
    lock = lock_path(path)
    shown = shown_path(path)
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as problem:
        raise error(f"{shown}: cannot write there ({_why(problem)})") from None
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(descriptor):
            if time.monotonic() >= deadline:
                raise error(f"{shown}: busy: {busy} (waited {timeout:g} s); try again in a moment")
            time.sleep(0.02)
        try:
            yield
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)


if sys.platform == "win32":  # pragma: no cover - the tests run on POSIX
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
