"""Read exported .ics bytes back with two parsers that share no code with us.

ical.js (Thunderbird's parser, via Node) and libical (Evolution's, via
Debian's system Python and GObject introspection) each print what they
understood as JSON; see tests/parsers/README.md for the shape and setup.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypedDict, cast

import pytest

PARSERS_DIR = Path(__file__).resolve().parent / "parsers"
ICALJS_SCRIPT = PARSERS_DIR / "icaljs_dump.mjs"
LIBICAL_SCRIPT = PARSERS_DIR / "libical_dump.py"
ICALJS_VERSION = "2.2.1"
# Debian's interpreter on purpose: python3-gi and the ICalGLib typelib are apt
# packages and are not importable from the project's virtualenv.
SYSTEM_PYTHON = Path("/usr/bin/python3")
INSTALL_ICALJS = "`.ci/install-parsers` (as root), or `npm ci` in tests/parsers"
INSTALL_LIBICAL = (
    "`.ci/install-parsers` (as root), or `apt-get install gir1.2-ical-3.0 python3-gi python3`"
)
TIMEOUT_SECONDS = 60


class ParsedAlarm(TypedDict):
    uid: str | None
    action: str | None
    trigger: str | None  # "-PT15M", or "YYYY-MM-DDTHH:MM:SSZ" for an absolute trigger
    description: str | None


class ParsedEvent(TypedDict):
    uid: str | None
    summary: str | None
    description: str | None
    location: str | None
    status: str | None
    transp: str | None  # "OPAQUE" or "TRANSPARENT"
    sequence: int | None
    tzid: str | None
    all_day: bool | None
    start_utc: str | None  # None also when the TZID has no VTIMEZONE in the file
    end_utc: str | None
    dtstamp_utc: str | None
    alarms: list[ParsedAlarm]


class ParsedCalendar(TypedDict):
    parser: str
    calendar: dict[str, str | None]
    timezones: list[str]
    missing_tzids: list[str]
    events: list[ParsedEvent]


class LibicalCalendar(ParsedCalendar):
    restriction_ok: bool
    restriction_errors: list[str]
    error_count: int
    errors: list[str]


class ParserRejected(AssertionError):
    """The parser could not read the file at all (it exited non-zero)."""

    def __init__(self, parser: str, stderr: str) -> None:
        super().__init__(f"{parser} rejected the calendar: {stderr.strip()}")
        self.stderr = stderr


def utc_iso(moment: datetime) -> str:
    """Format an aware datetime the way both dump scripts print instants."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(missing: str, install: str) -> NoReturn:
    # Locally a missing parser is a skip; in CI it must not silently pass.
    if _in_ci():
        pytest.fail(
            f"{missing}, and CI is set, so this is a failure rather than a skip. "
            f"`.ci/run` installs both parsers with `.ci/install-parsers`.",
            pytrace=False,
        )
    pytest.skip(f"{missing}; install with {install}")


@functools.cache
def _icaljs_problem() -> str | None:
    if shutil.which("node") is None:
        return "ical.js check needs `node` (Node.js 20) on PATH"
    manifest = PARSERS_DIR / "node_modules" / "ical.js" / "package.json"
    if not manifest.is_file():
        return "ical.js is not installed in tests/parsers/node_modules"
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    if version != ICALJS_VERSION:
        # A stale node_modules would test against the wrong parser.
        return f"tests/parsers has ical.js {version}, expected {ICALJS_VERSION}"
    return None


@functools.cache
def _libical_problem() -> str | None:
    if not SYSTEM_PYTHON.is_file():
        return f"libical check needs Debian's {SYSTEM_PYTHON} (apt package python3)"
    probe = "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib"
    result = subprocess.run(
        [str(SYSTEM_PYTHON), "-I", "-c", probe],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        return (
            f"{SYSTEM_PYTHON} cannot import ICalGLib 3.0 "
            "(apt packages gir1.2-ical-3.0 and python3-gi)"
        )
    return None


def require_icaljs() -> None:
    """Skip the test (fail it under CI=true) unless ical.js can run."""
    problem = _icaljs_problem()
    if problem is not None:
        _unavailable(problem, INSTALL_ICALJS)


def require_libical() -> None:
    """Skip the test (fail it under CI=true) unless libical can run."""
    problem = _libical_problem()
    if problem is not None:
        _unavailable(problem, INSTALL_LIBICAL)


def _run_dump(parser: str, command: list[str], ics: bytes, cwd: Path) -> str:
    # A file, not stdin: the bytes reach the parser exactly as written, the
    # way a calendar client opens a downloaded .ics.
    with tempfile.TemporaryDirectory(prefix="tms-ics-") as scratch:
        path = Path(scratch) / "export.ics"
        path.write_bytes(ics)
        result = subprocess.run(
            [*command, str(path)],
            cwd=cwd,
            capture_output=True,
            encoding="utf-8",
            timeout=TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "TZ": "UTC"},
        )
    if result.returncode != 0:
        raise ParserRejected(parser, result.stderr or f"exit status {result.returncode}")
    return result.stdout


def icaljs_read(ics: bytes) -> ParsedCalendar:
    """What ical.js 2.2.1 reads from ``ics``; skips (or fails in CI) if unavailable."""
    require_icaljs()
    # cwd is tests/parsers so Node resolves its node_modules there.
    out = _run_dump("ical.js", ["node", str(ICALJS_SCRIPT)], ics, PARSERS_DIR)
    return cast(ParsedCalendar, json.loads(out))


def libical_read(ics: bytes) -> LibicalCalendar:
    """What libical 3 reads from ``ics``; skips (or fails in CI) if unavailable."""
    require_libical()
    # -I: keep the virtualenv's PYTHONPATH/PYTHONHOME away from system Python.
    command = [str(SYSTEM_PYTHON), "-I", str(LIBICAL_SCRIPT)]
    out = _run_dump("libical", command, ics, PARSERS_DIR)
    return cast(LibicalCalendar, json.loads(out))
