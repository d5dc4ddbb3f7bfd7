"""Calendar UIDs: one-way, keyed functions of the course id and the session number.

RFC 7986 says a UID must not hold identifying data, so it is an HMAC-SHA256 of the course id
and session number, written as a UUID (version 8, RFC 9562). The same inputs always give
the same UID, so a re-exported file updates events instead of duplicating them. Without the
clinic's own key, anyone who can guess a course id can check it against a UID: clinics that
use guessable ids give a ``uid_key``.
"""

from __future__ import annotations

import functools
import hmac

__all__ = [
    "DEFAULT_UID_KEY",
    "alarm_uid",
    "course_uid",
    "key_id",
    "session_uid",
    "uid_key_bytes",
]

#: The key used when the clinic gives none (public: it hides nothing from a guesser).
DEFAULT_UID_KEY = b"tms_schedule session uid v1"


def uid_key_bytes(key: str | bytes | None) -> bytes:
    """The HMAC key for a clinic's ``uid_key`` (the default key when it has none)."""
    if isinstance(key, str):
        return key.encode("utf-8")
    return key or DEFAULT_UID_KEY


def key_id(key: str | bytes | None) -> str:
    """A short public name of a UID key, kept with a course so every later export uses the
    same key: ``default`` without one, else ``k`` and 12 hex digits (the key cannot be read
    back from it).

    >>> key_id(None), key_id("a long clinic secret") == key_id("a long clinic secret")
    ('default', True)
    """
    raw = uid_key_bytes(key)
    if raw == DEFAULT_UID_KEY:
        return "default"
    return "k" + hmac.digest(raw, b"tms_schedule uid key id", "sha256")[:6].hex()


def _uuid8(key: bytes, message: str) -> str:
    """The first 128 bits of HMAC-SHA256 written as a version 8 UUID (RFC 9562)."""
    digest = bytearray(hmac.digest(key, message.encode("utf-8"), "sha256")[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8: custom
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def session_uid(course_id: str, number: int, key: str | bytes | None = None) -> str:
    """The UID of session ``number`` of a course: a one-way function of both, keyed.

    The same course id, number and key always give the same UID; nothing about the course
    can be read back from it. It has the form of a UUID (version 8, RFC 9562).

    >>> session_uid("c-1", 1) == session_uid("c-1", 1) != session_uid("c-1", 2)
    True
    >>> import uuid
    >>> uuid.UUID(session_uid("c-1", 1)).version
    8
    """
    if (
        type(course_id) is str
        and type(number) is int
        and (key is None or type(key) in (str, bytes))
    ):
        return _session_uid(course_id, number, key)
    return _uuid8(uid_key_bytes(key), f"{course_id}\x00{number}")


# A course's documents give every session its UID, in every revision, each time one is read
# or written (a closure re-planning forty courses asks for nearly 3,000, each an HMAC): the
# same course id, number and key always give the same UID, so the latest are remembered.
@functools.lru_cache(maxsize=8192, typed=True)
def _session_uid(course_id: str, number: int, key: str | bytes | None) -> str:
    return _uuid8(uid_key_bytes(key), f"{course_id}\x00{number}")


def course_uid(course_id: str, key: str | bytes | None = None) -> str:
    """An id for the course as a whole (its FHIR CarePlan), derived like a session's UID.

    It never equals a session's UID of the same course, and reveals the course id no more.

    >>> course_uid("c-1") == course_uid("c-1") != session_uid("c-1", 1)
    True
    """
    return _uuid8(uid_key_bytes(key), f"{course_id}\x00course")


def alarm_uid(event_uid: str, index: int, key: str | bytes | None = None) -> str:
    """The UID of an event's ``index``-th reminder (RFC 9074), stable across exports."""
    return _uuid8(uid_key_bytes(key), f"{event_uid}\x00alarm\x00{index}")
