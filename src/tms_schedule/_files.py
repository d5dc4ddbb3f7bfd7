"""Writing files so that nothing is half-written, lost or silently replaced.

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
import tempfile
from pathlib import Path

from tms_schedule.errors import FileWriteError

__all__ = ["write_file"]


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


def _why(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__
