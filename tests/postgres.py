"""A throwaway PostgreSQL cluster for the store's tests.

:func:`cluster` makes one with the distribution's own ``initdb`` and ``pg_ctl`` (Debian:
``/usr/lib/postgresql/*/bin``, installed by ``bash .ci/install-postgres``), in a temporary
folder, listening on a Unix socket there and on no TCP port, run as an unprivileged user
(``nobody`` when the tests run as root, as CI does), fast and unsafe (no fsync: it is thrown
away). It is stopped and removed when the tests end; nothing is left running.

Locally a missing PostgreSQL is a skip that says how to get it; under ``CI=true`` it is a
failure, so CI never passes by skipping the store's PostgreSQL half.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_HOW = "bash .ci/install-postgres (as root) installs it, and pip install '.[postgres]' the driver"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def missing() -> str | None:
    """What is missing to run PostgreSQL here, or ``None``."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed"
    if _binaries() is None:
        return "PostgreSQL's server (initdb, pg_ctl) is not installed"
    return None


def require() -> None:
    """Skip (fail under CI=true) unless a cluster can be made."""
    why = missing()
    if why is None:
        return
    if _in_ci():
        pytest.fail(f"{why}, and CI is set, so this is a failure rather than a skip: {_HOW}")
    pytest.skip(f"{why}: {_HOW}")


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextmanager
def cluster() -> Iterator[str]:
    """A running cluster; yields a ``postgresql://`` address of its database ``tms``."""
    binaries = _binaries()
    assert binaries is not None
    folder = Path(tempfile.mkdtemp(prefix="tms-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    data, log = folder / "data", folder / "log"

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, cwd=folder, timeout=120)

    try:
        run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "tms", "--no-sync")
        options = (
            f"-k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=100"
        )
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        try:
            address = f"postgresql://tms@/postgres?host={folder}"
            import psycopg

            with psycopg.connect(address, autocommit=True) as db:
                db.execute("CREATE DATABASE tms")
            yield f"postgresql://tms@/tms?host={folder}"
        finally:
            subprocess.run(
                [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                cwd=folder,
                timeout=60,
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_site(address: str) -> str:
    """An address naming a site no other test uses (sites partition one database)."""
    return f"{address}&site=t{uuid.uuid4().hex[:12]}"


def fresh_database(address: str) -> str:
    """The address of a new, empty database of the cluster at ``address`` (for what a
    site cannot hold alone: a database of another schema version)."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(address, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    base, _, query = address.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"
