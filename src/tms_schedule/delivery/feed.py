"""Subscription feeds: all of a patient's courses at one secret, revocable address.

A patient who subscribes to a feed (``webcal://`` or ``https://`` in their calendar app)
sees every change the clinic makes, without importing a new file: the app fetches the feed
again from time to time and applies what changed. This module makes what such an address
serves; it opens no connection and reads no clock (``now`` is an argument). The small
server of ``tms-schedule serve`` (:mod:`tms_schedule.delivery.server`) is built on it, and
clinic software with its own web server calls it the same way.

What a feed holds, and why:

* **All of a patient's courses in one calendar**: the acute course and the maintenance or
  rescue courses that follow it (:attr:`Course.follows <tms_schedule.Course.follows>`),
  from :attr:`Feed.past_days` days back (default 30) to the end. :func:`patient_courses`
  groups a clinic's courses that way.
* **The same events as the courses' own calendar files**: written by
  :func:`~tms_schedule.export.ics.schedules_to_ics`, with the same UIDs, titles, reminders
  and VTIMEZONE, from the same :class:`~tms_schedule.export.options.CalendarOptions`
  (and so the same ``uid_key``).
* **Cancelled and missed sessions kept** as ``STATUS:CANCELLED`` by default, titled
  "Cancelled: Appointment": Apple Calendar strikes them through and other apps show the
  title, so a patient who remembers the old time learns it is off. Google Calendar deletes
  cancelled events from subscriptions either way. ``cancelled="drop"`` leaves them out, and
  every app then removes the event.
* **Refresh hints**: ``REFRESH-INTERVAL;VALUE=DURATION`` (RFC 7986) and
  ``X-PUBLISHED-TTL``, default 12 hours. Apps are free to ignore them and most do (see the
  delivery page of the documentation for how often each app really fetches).
* **DTSTAMP and Last-Modified from the course data**: the time of the last change the
  courses record (or :attr:`Feed.modified`, which a store that knows better gives), never
  the time of the request, so the same courses give the same bytes and the same strong
  ETag, and a client that asks again with ``If-None-Match`` gets 304 Not Modified.
* **A size limit**, by default 1,000,000 bytes (Google Calendar stops reading subscribed
  calendars of about 1 MB): a larger feed raises :class:`~tms_schedule.errors.FeedTooLargeError`
  naming the feed and the limit rather than being served to apps that would drop it.

Tokens (:class:`FeedKey`): a feed's address carries ``f1_`` and 43 characters, the
HMAC-SHA256 of the feed's id and version keyed with the clinic's feed secret, in base64url.
Nothing in it can be read back, the course id included; without the secret none can be
made; raising the feed's version (:meth:`Feed.revoked`) revokes the old address and gives
the new one in one step. :class:`TokenIndex` finds the feed of a token with one SHA-256
and one constant-time comparison (:func:`hmac.compare_digest`), whether the token is right,
wrong, unknown or revoked.

>>> import datetime as dt
>>> from tms_schedule import ClinicCalendar, Course, Plan
>>> clinic = ClinicCalendar("America/Denver", holidays="US-CO")
>>> acute = Course.start(Plan("standard-10hz", clinic, "2026-11-16", "09:00", "c-1"))
>>> feed = Feed("c-1", [acute, acute.next_course("maintenance", "c-1-m")])
>>> now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
>>> response = feed.respond(now=now)
>>> response.status, response.body.count(b"BEGIN:VEVENT")
(200, 47)
>>> feed.respond(now=now, if_none_match=response.etag).status
304
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import email.utils
import hashlib
import hmac
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import attrs

from tms_schedule._files import read_file
from tms_schedule._validate import int_in_range, is_whole
from tms_schedule.errors import FeedError, FeedTooLargeError, TmsScheduleError
from tms_schedule.export.ics import schedules_to_ics
from tms_schedule.export.options import CalendarOptions
from tms_schedule.schedule import Schedule, Session

if TYPE_CHECKING:
    from tms_schedule.course import Course

__all__ = [
    "CANCELLED_CHOICES",
    "DEFAULT_PAST_DAYS",
    "DEFAULT_REFRESH",
    "GOOGLE_LIMIT",
    "MIN_SECRET_BYTES",
    "TOKEN_PREFIX",
    "Feed",
    "FeedCache",
    "FeedKey",
    "FeedResponse",
    "TokenIndex",
    "patient_courses",
]

#: Sessions that ended up to this many days ago stay in a feed.
DEFAULT_PAST_DAYS = 30
#: The refresh hint a feed carries (REFRESH-INTERVAL and X-PUBLISHED-TTL).
DEFAULT_REFRESH = dt.timedelta(hours=12)
#: The size Google Calendar is reported to read from a subscribed calendar (about 1 MB).
GOOGLE_LIMIT = 1_000_000
#: What a feed does with sessions that will not take place (cancelled or missed).
CANCELLED_CHOICES = ("keep", "drop")
#: The least length of a clinic's feed secret (256 bits).
MIN_SECRET_BYTES = 32
#: What every token starts with: the token format (a later one can be told apart).
TOKEN_PREFIX = "f1_"
_TOKEN_LABEL = b"tms_schedule feed token v1"
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # base64url of 32 bytes, unpadded
_SECRET_FILE_LIMIT = 4096
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# -- tokens --------------------------------------------------------------------------------------


def _secret(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _check_secret(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bytes) or len(value) < MIN_SECRET_BYTES:
        raise FeedError(
            f"secret: must be at least {MIN_SECRET_BYTES} bytes of random data (for example"
            " the output of `openssl rand -base64 48`), kept in a file only the server reads"
        )


@attrs.frozen
class FeedKey:
    """The clinic's feed secret: makes and checks the tokens of feed addresses.

    Keep the secret in a file readable only by the feed server (:meth:`from_file`), apart
    from the UID key: a new feed secret revokes every feed at once, while a new UID key
    would give every event a new UID (and patients duplicates).

    >>> key = FeedKey(b"0123456789abcdef0123456789abcdef")
    >>> token = key.token("c-1", 1)
    >>> token.startswith("f1_"), len(token), "c-1" in token
    (True, 46, False)
    >>> key.verify(token, "c-1", 1), key.verify(token, "c-1", 2)
    (True, False)
    """

    secret: bytes = attrs.field(converter=_secret, validator=_check_secret, repr=False)

    @classmethod
    def from_file(cls, path: str | Path) -> FeedKey:
        """The key a secret file holds: its first line, without the line break."""
        data = read_file(path, limit=_SECRET_FILE_LIMIT, error=FeedError, what="secret file")
        secret = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].removesuffix(b"\r")
        if len(secret.strip()) < MIN_SECRET_BYTES:
            raise FeedError(
                f"secret: the file {Path(path).name} must hold a secret of at least"
                f" {MIN_SECRET_BYTES} bytes on its first line (for example the output of"
                f" `openssl rand -base64 48`), got {len(secret.strip())}"
            )
        return cls(secret)

    def token(self, feed_id: str, version: int) -> str:
        """The token of version ``version`` of feed ``feed_id``."""
        _check_feed_id(feed_id)
        _check_version(version)
        return self._token(feed_id, version)

    def _token(self, feed_id: str, version: int) -> str:
        message = b"\x00".join((_TOKEN_LABEL, feed_id.encode("utf-8"), b"%d" % version))
        digest = hmac.digest(self.secret, message, "sha256")
        return TOKEN_PREFIX + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def verify(self, token: object, feed_id: str, version: int) -> bool:
        """Whether ``token`` is the token of that feed and version (constant time)."""
        expected = self.token(feed_id, version).encode("ascii")
        return hmac.compare_digest(expected, _token_bytes(token))

    def index(self, feeds: Mapping[str, int]) -> TokenIndex:
        """A :class:`TokenIndex` of ``feeds`` (each feed id with its current version)."""
        return TokenIndex(self, feeds)


def _token_bytes(token: object) -> bytes:
    """The token as bytes to compare; anything that cannot be one compares as nothing."""
    if not isinstance(token, str) or len(token) > 4 * _TOKEN_LENGTH:
        return b""
    return token.encode("utf-8", "surrogatepass")


class TokenIndex:
    """Finds the feed of a token among a clinic's feeds, without storing any token.

    Each request costs one SHA-256 of the token, a dictionary look-up and one
    :func:`hmac.compare_digest`, the same work for a right, wrong, unknown or revoked token
    (a miss is compared with a decoy), so the time taken says nothing about how close a
    guess was. Only the current version of each feed is in the index: an old token is
    unknown.

    >>> key = FeedKey(b"0123456789abcdef0123456789abcdef")
    >>> index = key.index({"c-1": 2, "c-7": 1})
    >>> index.find(key.token("c-1", 2)), index.find(key.token("c-1", 1)), index.find("f1_x")
    ('c-1', None, None)
    """

    def __init__(self, key: FeedKey, feeds: Mapping[str, int]) -> None:
        self._by_digest: dict[bytes, tuple[str, bytes]] = {}
        for feed_id, version in feeds.items():
            token = key.token(feed_id, version).encode("ascii")
            self._by_digest[hashlib.sha256(token).digest()] = (feed_id, token)
        # Compared with on a miss, so a miss costs what a hit does; no feed has this id.
        self._decoy = key._token("\x00decoy", 0).encode("ascii")

    def __len__(self) -> int:
        return len(self._by_digest)

    def find(self, token: object) -> str | None:
        """The id of the feed whose current token is ``token``, or ``None``."""
        given = _token_bytes(token)
        found = self._by_digest.get(hashlib.sha256(given).digest())
        expected = found[1] if found is not None else self._decoy
        same = hmac.compare_digest(expected, given)
        return found[0] if found is not None and same else None


# -- feeds ---------------------------------------------------------------------------------------


def _check_feed_id(value: Any) -> None:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 128
        or not value.isprintable()
        or value != value.strip()
    ):
        raise FeedError(
            f"feed_id: must be 1 to 128 printable characters, not starting or ending with a"
            f" space, got {value!r}"
        )


def _check_version(value: Any) -> None:
    int_in_range(value, "version", 1, 10**9, FeedError)


def _feed_id(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _check_feed_id(value)


def _version(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    _check_version(value)


def _courses(value: Any) -> tuple[Any, ...]:
    if isinstance(value, Schedule) or not isinstance(value, Iterable):
        value = [value]
    return tuple(value)


def _check_courses(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value:
        raise FeedError("courses: a feed holds at least one course")
    ids = []
    for course in value:
        schedule = _schedule(course)
        ids.append(schedule.course_id)
    if len(set(ids)) != len(ids):
        raise FeedError(f"courses: each course once, got {', '.join(ids)}")


def _schedule(course: Any) -> Schedule:
    schedule = course if isinstance(course, Schedule) else getattr(course, "schedule", None)
    if not isinstance(schedule, Schedule):
        raise FeedError(f"courses: each must be a Course or a Schedule, got {course!r}")
    return schedule


def _past_days(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    int_in_range(value, "past_days", 0, 3660, FeedError)


def _cancelled(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in CANCELLED_CHOICES:
        raise FeedError(f"cancelled: must be 'keep' or 'drop', got {value!r}")


def _refresh(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dt.timedelta) or not (
        dt.timedelta(hours=1) <= value <= dt.timedelta(days=7)
    ):
        raise FeedError(f"refresh: must be a duration from 1 hour to 7 days, got {value!r}")


def _max_bytes(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not is_whole(value) or value < 10_000):
        raise FeedError(
            f"max_bytes: must be a number of bytes from 10000, or None for no limit, got {value!r}"
        )


def _options(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, CalendarOptions):
        raise FeedError(f"options: must be CalendarOptions, got {value!r}")


def _modified(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
        raise FeedError(f"modified: must be a timezone-aware datetime or None, got {value!r}")


@attrs.frozen
class Feed:
    """One patient's feed: their courses, and the choices for what the feed shows.

    Args:
        feed_id: the clinic's id for the feed (in a folder of course files, the id of the
            patient's first course). It is never shown: tokens are derived from it.
        courses: the patient's courses (:class:`~tms_schedule.Course` or
            :class:`~tms_schedule.Schedule`), written in this order.
        version: raised by :meth:`revoked` to revoke the feed's address.
        past_days: sessions that ended up to this many days before ``now`` (a whole day in
            the clinic's zone) stay in the feed; older ones are left out.
        cancelled: ``"keep"`` (the default) writes cancelled and missed sessions as
            ``STATUS:CANCELLED``; ``"drop"`` leaves them out.
        refresh: the refresh hint (REFRESH-INTERVAL, X-PUBLISHED-TTL), 1 hour to 7 days.
        max_bytes: the largest feed served (default :data:`GOOGLE_LIMIT`); ``None`` for none.
        options: the clinic's calendar choices, the same as for its calendar files (the
            ``uid_key`` above all: with another one every UID would differ).
        modified: when the courses last changed, when the caller knows (a database's
            update time, a file's); otherwise the latest time the courses record.
    """

    feed_id: str = attrs.field(validator=_feed_id)
    courses: tuple[Course | Schedule, ...] = attrs.field(
        converter=_courses, validator=_check_courses, eq=False
    )
    version: int = attrs.field(default=1, validator=_version)
    past_days: int = attrs.field(default=DEFAULT_PAST_DAYS, validator=_past_days)
    cancelled: Literal["keep", "drop"] = attrs.field(default="keep", validator=_cancelled)
    refresh: dt.timedelta = attrs.field(default=DEFAULT_REFRESH, validator=_refresh)
    max_bytes: int | None = attrs.field(default=GOOGLE_LIMIT, validator=_max_bytes)
    options: CalendarOptions = attrs.field(factory=CalendarOptions, validator=_options)
    modified: dt.datetime | None = attrs.field(default=None, validator=_modified)

    def __attrs_post_init__(self) -> None:
        for course in self.courses:  # another UID key would change every event's id
            if hasattr(course, "check_uid_key"):
                try:
                    course.check_uid_key(self.options.uid_key)
                except TmsScheduleError as error:
                    raise FeedError(f"feed {self.feed_id}: {error}") from None

    def revoked(self) -> Feed:
        """The feed with its version raised: the old address stops working, and
        ``key.token(feed.feed_id, feed.version)`` is the new one. Store the new version."""
        return attrs.evolve(self, version=self.version + 1)

    def token(self, key: FeedKey) -> str:
        """This version's token (see :class:`FeedKey`)."""
        return key.token(self.feed_id, self.version)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The courses' schedules, in order."""
        return tuple(_schedule(course) for course in self.courses)

    def last_modified(self) -> dt.datetime:
        """When the courses last changed, to the second, in UTC: :attr:`modified` when
        given, else the latest record or re-plan time the courses hold (the Unix epoch
        for courses with neither: nothing has changed since they were planned)."""
        moment = self.modified
        if moment is None:
            times = [_EPOCH]
            for course in self.courses:
                times += [r.recorded for r in getattr(course, "records", ()) if r.recorded]
                times += [r.start for r in getattr(course, "revisions", ()) if r.start]
            moment = max(t.astimezone(dt.UTC) for t in times)
        return moment.astimezone(dt.UTC).replace(microsecond=0)

    def window(self, now: dt.datetime) -> tuple[dt.date, ...]:
        """The first day kept, for each course (its clinic's date ``past_days`` before now)."""
        _check_now(now)
        zones: dict[str, dt.date] = {}
        for schedule in self.schedules:
            if schedule.timezone not in zones:
                local = now.astimezone(ZoneInfo(schedule.timezone)).date()
                zones[schedule.timezone] = local - dt.timedelta(days=self.past_days)
        return tuple(zones[s.timezone] for s in self.schedules)

    def calendar(self, *, now: dt.datetime) -> bytes:
        """The feed's iCalendar bytes as of ``now`` (which only decides the oldest day kept).

        Raises:
            FeedTooLargeError: the feed is over :attr:`max_bytes`.
        """
        return self._calendar(self.window(now))

    def _calendar(self, window: tuple[dt.date, ...]) -> bytes:
        first = {s.course_id: day for s, day in zip(self.schedules, window, strict=True)}
        dropped = self.cancelled == "drop"

        def keep(schedule: Schedule, session: Session) -> bool:
            return session.end.date() >= first[schedule.course_id] and (
                session.active or not dropped
            )

        options = attrs.evolve(self.options, refresh=self.refresh)
        data = schedules_to_ics(self.schedules, options, stamp=self.last_modified(), keep=keep)
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise FeedTooLargeError(self.feed_id, len(data), self.max_bytes)
        return data

    def respond(
        self,
        *,
        now: dt.datetime,
        if_none_match: str | None = None,
        if_modified_since: str | None = None,
    ) -> FeedResponse:
        """What to answer a request for the feed: 200 with the calendar, or 304.

        Args:
            now: the time of the request (the clinic's clock; timezone-aware).
            if_none_match: the request's If-None-Match header, if any.
            if_modified_since: the request's If-Modified-Since header, if any (used only
                without If-None-Match, as RFC 9110 says).
        """
        body = self.calendar(now=now)
        return FeedResponse(200, body, _etag(body), self.last_modified()).answer(
            now=now, if_none_match=if_none_match, if_modified_since=if_modified_since
        )


def _check_now(now: Any) -> None:
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise FeedError(f"now: must be a timezone-aware datetime (the clock), got {now!r}")


def _etag(body: bytes) -> str:
    """A strong ETag: 128 bits of the body's SHA-256, so any change of a byte changes it."""
    digest = hashlib.sha256(body).digest()[:16]
    return '"' + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=") + '"'


@attrs.frozen
class FeedResponse:
    """An answer to a feed request: the status, the body and the headers to send.

    Attributes:
        status: 200, or 304 (Not Modified: the client's copy is current; no body).
        body: the calendar (empty for 304). A HEAD request sends the headers only.
        etag: the strong ETag of the calendar.
        last_modified: when the courses last changed (UTC, whole seconds).
    """

    status: int
    body: bytes = attrs.field(repr=False)
    etag: str
    last_modified: dt.datetime

    #: Content type of a feed.
    CONTENT_TYPE = "text/calendar; charset=utf-8"
    #: Clients may keep a copy but must ask (cheaply, with If-None-Match) before using it;
    #: shared caches (a proxy, a CDN) keep nothing: the feed is one patient's appointments.
    CACHE_CONTROL = "private, no-cache"

    @property
    def headers(self) -> list[tuple[str, str]]:
        """The response headers (RFC 9110 names), Content-Length included for 200."""
        headers = [
            ("Content-Type", self.CONTENT_TYPE),
            ("ETag", self.etag),
            ("Last-Modified", email.utils.format_datetime(self.last_modified, usegmt=True)),
            ("Cache-Control", self.CACHE_CONTROL),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if self.status == 200:
            headers += [
                ("Content-Disposition", 'inline; filename="appointments.ics"'),
                ("Content-Length", str(len(self.body))),
            ]
        return headers

    def answer(
        self,
        *,
        now: dt.datetime,
        if_none_match: str | None = None,
        if_modified_since: str | None = None,
    ) -> FeedResponse:
        """This response as the answer to a request with these conditions: 304 when the
        client's copy is current (RFC 9110 §13.2.2), else this response.

        Last-Modified is never later than ``now`` (RFC 9110 §8.8.2.1).
        """
        _check_now(now)
        response = self
        clock = now.astimezone(dt.UTC).replace(microsecond=0)
        if self.last_modified > clock:
            response = attrs.evolve(self, last_modified=clock)
        if _not_modified(response, if_none_match, if_modified_since):
            return attrs.evolve(response, status=304, body=b"")
        return response


def _not_modified(
    response: FeedResponse, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    if if_none_match is not None:
        # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or response.etag in tags
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # an invalid date is ignored (RFC 9110 §13.1.3)
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return response.last_modified <= since
    return False


class FeedCache:
    """Feeds already written, served again without writing them (about a microsecond).

    An entry is used only for the very course objects it was made from: a course that
    changed is a new object (courses are immutable), so a changed course misses the cache
    and its feed is written again. A changed version, choice or day of the window misses
    too. :meth:`invalidate` drops entries by hand; the oldest entries go past ``size``.
    Safe to share between the threads of a server.

    >>> import datetime as dt
    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> course = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> cache, now = FeedCache(), dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    >>> first = cache.respond(Feed("c-1", [course]), now=now)
    >>> cache.respond(Feed("c-1", [course]), now=now) is first, cache.hits
    (True, 1)
    """

    def __init__(self, size: int = 1024) -> None:
        if not is_whole(size) or size < 1:
            raise FeedError(f"size: must be a whole number from 1, got {size!r}")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: collections.OrderedDict[str, _Entry] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def respond(
        self,
        feed: Feed,
        *,
        now: dt.datetime,
        if_none_match: str | None = None,
        if_modified_since: str | None = None,
    ) -> FeedResponse:
        """As :meth:`Feed.respond`, from the cache when the feed has not changed."""
        window = feed.window(now)
        with self._lock:
            entry = self._entries.get(feed.feed_id)
            if entry is not None and entry.serves(feed, window):
                self._entries.move_to_end(feed.feed_id)
                self.hits += 1
                response = entry.response
            else:
                response = None
        if response is None:
            body = feed._calendar(window)
            response = FeedResponse(200, body, _etag(body), feed.last_modified())
            with self._lock:
                self.misses += 1
                self._entries[feed.feed_id] = _Entry(feed, window, response)
                self._entries.move_to_end(feed.feed_id)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return response.answer(
            now=now, if_none_match=if_none_match, if_modified_since=if_modified_since
        )

    def invalidate(self, feed_id: str | None = None) -> None:
        """Forget the feed ``feed_id`` (every feed when ``None``)."""
        with self._lock:
            if feed_id is None:
                self._entries.clear()
            else:
                self._entries.pop(feed_id, None)


@attrs.frozen
class _Entry:
    feed: Feed
    window: tuple[dt.date, ...]
    response: FeedResponse

    def serves(self, feed: Feed, window: tuple[dt.date, ...]) -> bool:
        return (
            self.window == window
            and self.feed == feed  # id, version, choices, options, modified
            and len(self.feed.courses) == len(feed.courses)
            and all(a is b for a, b in zip(self.feed.courses, feed.courses, strict=True))
        )


def patient_courses(
    courses: Iterable[Course], problems: list[str] | None = None
) -> dict[str, list[Course]]:
    """Courses grouped by patient: each first course with the courses that follow it.

    A course that follows another (:attr:`Course.follows <tms_schedule.Course.follows>`:
    maintenance, continuation, rescue) belongs with it, and so on down the line. The key is
    the id of the first course, which serves as the feed's id; each list is in the order the
    courses start. A course whose ``follows`` names a course not given starts its own group.

    Two courses with one id, and courses that follow each other round a circle (or a course
    that follows itself), cannot be put in a feed: without ``problems`` they raise
    :class:`~tms_schedule.errors.FeedError`; with it, they are left out, each said in one
    line appended to ``problems``, and every other course is grouped as usual.

    >>> from tms_schedule import ClinicCalendar, Course, Plan
    >>> acute = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "09:00", "c-1"))
    >>> other = Course.start(Plan("itbs", ClinicCalendar("Europe/Berlin"), "2026-11-16", "10:00", "c-2"))
    >>> groups = patient_courses([acute.next_course("maintenance", "c-1-m"), other, acute])
    >>> {key: [c.course_id for c in group] for key, group in groups.items()}
    {'c-1': ['c-1', 'c-1-m'], 'c-2': ['c-2']}
    """
    found: list[str] = []
    by_id: dict[str, Course] = {}
    twice: set[str] = set()
    for course in courses:
        if course.course_id in by_id:
            twice.add(course.course_id)
            found.append(f"courses: two courses have the id {course.course_id}; both left out")
        by_id[course.course_id] = course
    for course_id in twice:
        del by_id[course_id]

    def root(course: Course) -> str | None:
        seen = [course.course_id]
        while course.follows is not None and course.follows in by_id:
            course = by_id[course.follows]
            if course.course_id in seen:
                return None
            seen.append(course.course_id)
        return course.course_id

    groups: dict[str, list[Course]] = {}
    for course in by_id.values():
        first = root(course)
        if first is None:
            found.append(
                f"courses: course {course.course_id} follows itself; left out"
                if course.follows == course.course_id
                else f"courses: course {course.course_id} follows courses that follow each"
                " other round a circle; left out"
            )
            continue
        groups.setdefault(first, []).append(course)
    if found and problems is None:
        raise FeedError(found[0].removesuffix("; both left out").removesuffix("; left out"))
    if problems is not None:
        problems.extend(found)
    for group in groups.values():
        group.sort(key=lambda c: (c.follows is not None, c.plan.start, c.course_id))
    return dict(sorted(groups.items()))
