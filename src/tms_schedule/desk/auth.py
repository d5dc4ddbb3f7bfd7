"""Who may do what at the desk, passwords, and failed sign-ins slowed down.

Roles decide what a person may do:

===========  ==========================================================================
right        roles
===========  ==========================================================================
``view``     every role: the day, courses, closures and call lists, the clinic at a glance
``record``   front-desk, technician, clinician, admin: attended, missed, a void
``book``     front-desk, clinician, admin: new courses, moves, re-plans, patient details,
             ending a course, the waiting list
``close``    front-desk, admin: closures and their undo
``users``    admin: the staff who may sign in
===========  ==========================================================================

Passwords are hashed with Argon2id (memory-hard; the argon2-cffi library's defaults, which
follow RFC 9106's recommendation); the hash string is all the book keeps.

>>> hashed = hash_password("correct horse battery")
>>> hashed.startswith("$argon2id$"), check_password(hashed, "correct horse battery")
(True, True)
>>> check_password(hashed, "wrong")
False
>>> may("technician", "record"), may("technician", "book")
(True, False)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tms_schedule.desk.port import ROLES

__all__ = [
    "MIN_PASSWORD",
    "RIGHTS",
    "ROLES",
    "Throttle",
    "check_password",
    "hash_password",
    "may",
    "password_problem",
]

#: Each right and the roles that have it (see the module).
RIGHTS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "record": frozenset({"front-desk", "technician", "clinician", "admin"}),
    "book": frozenset({"front-desk", "clinician", "admin"}),
    "close": frozenset({"front-desk", "admin"}),
    "users": frozenset({"admin"}),
}
#: The shortest password accepted.
MIN_PASSWORD = 10


def may(role: str, right: str) -> bool:
    """Whether ``role`` has ``right``."""
    return role in RIGHTS[right]


def _hasher() -> object:
    try:
        from argon2 import PasswordHasher
    except ImportError:
        from tms_schedule.errors import ConfigError

        raise ConfigError(
            "desk: needs argon2-cffi: install tms_schedule with the 'desk' extra"
            " (pip install '.[desk]' in a checkout)"
        ) from None
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``, as a string to keep."""
    return str(_hasher().hash(password))  # type: ignore[attr-defined]


def check_password(hashed: str, password: str) -> bool:
    """Whether ``password`` is the one ``hashed`` was made from."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(hashed, password))  # type: ignore[attr-defined]
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why ``password`` is refused, or ``None``."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters long"
    if len(password) > 1000:
        return "must be at most 1000 characters long"
    if password != password.strip():
        return "must not begin or end with a space"
    return None


class Throttle:
    """Failed sign-ins, counted per user name and per address: after a few, each further
    try must wait, longer each time (1, 2, 4, ... seconds, at most 5 minutes); a success
    clears the name's count.

    >>> now = [0.0]
    >>> throttle = Throttle(clock=lambda: now[0], free=2)
    >>> for _ in range(3):
    ...     throttle.failed("ana", "10.0.0.1")
    >>> throttle.wait("ana", "10.0.0.2")
    1
    >>> now[0] = 1.5
    >>> throttle.wait("ana", "10.0.0.2")
    0
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, free: int = 3) -> None:
        self._clock = clock
        self._free = free
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}

    def wait(self, name: str, address: str) -> int:
        """Seconds to wait before the next try for this name or from this address."""
        now = self._clock()
        with self._lock:
            waits = [self._until(key) - now for key in (f"n:{name.casefold()}", f"a:{address}")]
        return max(0, *(int(-(-w // 1)) for w in waits))

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) > 10000:  # forget the oldest rather than grow unbounded
                for key in sorted(self._failures, key=lambda k: self._failures[k][1])[:5000]:
                    del self._failures[key]
            for key in (f"n:{name.casefold()}", f"a:{address}"):
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n:{name.casefold()}", None)

    def _until(self, key: str) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        over = count - self._free
        if over <= 0:
            return 0.0
        return last + min(2.0 ** (over - 1), 300.0)
