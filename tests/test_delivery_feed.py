"""Subscription feeds: what a patient's calendar app fetches, and the address it fetches it at.

The feed holds all of a patient's courses with the UIDs of their own calendar files; it is
the same bytes (and so the same strong ETag) until a course changes; clients that ask again
with If-None-Match or If-Modified-Since get 304; tokens say nothing and are revoked by
raising the feed's version.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from pathlib import Path

import pytest

from independent_parsers import icaljs_read, libical_read, utc_iso
from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.delivery import feed as feed_module
from tms_schedule.delivery.feed import (
    DEFAULT_PAST_DAYS,
    GOOGLE_LIMIT,
    Feed,
    FeedCache,
    FeedKey,
    TokenIndex,
    patient_courses,
)
from tms_schedule.errors import FeedError, FeedTooLargeError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import key_id, session_uid

CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"
OPTIONS = CalendarOptions(clinic_name="Example Clinic", uid_key="a clinic uid key of 16+")
BEFORE = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)  # before the course starts
RECORDED = dt.datetime(2026, 11, 18, 16, tzinfo=dt.UTC)


def acute() -> Course:
    return Course.start(Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1"))


def event_uids(data: bytes) -> list[str]:
    """The events' UIDs (reminders have UIDs too)."""
    return [
        block.split("\r\n", 1)[0].removeprefix("UID:")
        for block in data.decode().split("BEGIN:VEVENT\r\n")[1:]
    ]


# -- what a feed holds ---------------------------------------------------------------------------


def test_a_patients_feed_holds_the_acute_and_the_maintenance_course() -> None:
    first = acute()
    maintenance = first.next_course("maintenance", "c-1-m")
    data = Feed("c-1", [first, maintenance], options=OPTIONS).calendar(now=BEFORE)
    expected = [session_uid("c-1", s.number, OPTIONS.uid_key) for s in first.schedule]
    expected += [session_uid("c-1-m", s.number, OPTIONS.uid_key) for s in maintenance.schedule]
    assert event_uids(data) == expected
    assert data.count(b"BEGIN:VCALENDAR") == 1 and data.count(b"BEGIN:VTIMEZONE") == 1


def test_feed_events_are_the_events_of_the_courses_own_files() -> None:
    """Same UIDs, times, titles and reminders: a patient's app sees one appointment per
    session whether it came from the file or the feed."""
    course = acute()
    feed = Feed("c-1", [course], options=OPTIONS).calendar(now=BEFORE)
    stamp = Feed("c-1", [course]).last_modified()
    own = course.to_ics(stamp=stamp, options=OPTIONS)
    events = feed[feed.index(b"BEGIN:VEVENT") :]
    assert events == own[own.index(b"BEGIN:VEVENT") :]


def test_sessions_older_than_past_days_are_left_out() -> None:
    course = acute()
    now = dt.datetime(2027, 1, 5, 20, tzinfo=dt.UTC)  # 13:00 in Denver on 5 January
    data = Feed("c-1", [course]).calendar(now=now)
    first_kept = dt.date(2027, 1, 5) - dt.timedelta(days=DEFAULT_PAST_DAYS)
    kept = [s for s in course.schedule if s.end.date() >= first_kept]
    assert 0 < len(kept) < len(course.schedule)
    assert event_uids(data) == [session_uid("c-1", s.number) for s in kept]
    everything = Feed("c-1", [course], past_days=3660).calendar(now=now)
    assert len(event_uids(everything)) == len(course.schedule)


def test_the_window_moves_a_whole_clinic_day_at_a_time() -> None:
    """The bytes change at the clinic's midnight, not with every request."""
    feed = Feed("c-1", [acute()], past_days=1)
    morning = dt.datetime(2026, 11, 20, 7, 0, tzinfo=CLINIC.zone)
    evening = dt.datetime(2026, 11, 20, 23, 59, tzinfo=CLINIC.zone)
    next_day = dt.datetime(2026, 11, 21, 0, 0, tzinfo=CLINIC.zone)
    assert feed.calendar(now=morning) == feed.calendar(now=evening)
    assert feed.calendar(now=next_day) != feed.calendar(now=evening)


def test_cancelled_sessions_are_kept_as_cancelled_by_default_and_dropped_when_asked() -> None:
    course = acute().cancelled(3, now=RECORDED)
    cancelled_uid = session_uid("c-1", 3)
    kept = Feed("c-1", [course]).calendar(now=BEFORE)
    block = kept.decode().split(f"UID:{cancelled_uid}\r\n")[1].split("END:VEVENT")[0]
    assert "STATUS:CANCELLED" in block and "SUMMARY:Cancelled: Appointment" in block
    dropped = Feed("c-1", [course], cancelled="drop").calendar(now=BEFORE)
    assert cancelled_uid not in event_uids(dropped)
    assert len(event_uids(dropped)) == len(event_uids(kept)) - 1


def test_the_feed_carries_refresh_hints() -> None:
    data = Feed("c-1", [acute()], refresh=dt.timedelta(hours=6)).calendar(now=BEFORE)
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\r\nX-PUBLISHED-TTL:PT6H\r\n" in data
    default = Feed("c-1", [acute()]).calendar(now=BEFORE)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT12H\r\n" in default


def test_dtstamp_is_the_last_change_the_courses_record_not_the_request_time() -> None:
    course = acute()
    fresh = Feed("c-1", [course])
    assert fresh.last_modified() == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    changed = course.attended(1, now=RECORDED)
    assert Feed("c-1", [changed]).last_modified() == RECORDED
    assert b"DTSTAMP:20261118T160000Z\r\n" in Feed("c-1", [changed]).calendar(now=RECORDED)
    given = dt.datetime(2026, 11, 19, 8, 30, 15, 999, tzinfo=dt.UTC)
    assert Feed("c-1", [changed], modified=given).last_modified() == given.replace(microsecond=0)


def test_a_feed_over_its_limit_says_which_feed_and_the_limit() -> None:
    course = acute()
    size = len(Feed("c-1", [course]).calendar(now=BEFORE))
    with pytest.raises(FeedTooLargeError, match=r"feed c-1: .* over its limit of 10,000 bytes"):
        Feed("c-1", [course], max_bytes=10_000).calendar(now=BEFORE)
    assert size < GOOGLE_LIMIT
    Feed("c-1", [course], max_bytes=None).calendar(now=BEFORE)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"past_days": -1}, "past_days"),
        ({"cancelled": "hide"}, "cancelled"),
        ({"refresh": dt.timedelta(minutes=5)}, "refresh"),
        ({"max_bytes": 100}, "max_bytes"),
        ({"version": 0}, "version"),
        ({"feed_id": " c-1"}, "feed_id"),
        ({"courses": []}, "courses"),
        ({"courses": ["c-1"]}, "courses"),
        ({"modified": dt.datetime(2026, 11, 1)}, "modified"),
        ({"options": {"clinic_name": "X"}}, "options"),
    ],
)
def test_bad_feed_settings_name_the_field(changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"feed_id": "c-1", "courses": [acute()], **changes}
    with pytest.raises(FeedError, match=rf"^{field}: "):
        Feed(**arguments)  # type: ignore[arg-type]


def test_cancelled_choices_are_named_in_the_error() -> None:
    with pytest.raises(FeedError, match="must be 'keep' or 'drop', got 'hide'"):
        Feed("c-1", [acute()], cancelled="hide")  # type: ignore[arg-type]


# -- responses ------------------------------------------------------------------------------------


def test_the_same_courses_give_the_same_bytes_and_etag_whenever_asked() -> None:
    course = acute()
    first = Feed("c-1", [course]).respond(now=BEFORE)
    later = Feed("c-1", [course]).respond(now=BEFORE + dt.timedelta(hours=5))
    assert first.status == later.status == 200
    assert first.body == later.body and first.etag == later.etag
    assert re.fullmatch(r'"[A-Za-z0-9_-]{22}"', first.etag)  # strong: no W/


def test_a_second_request_with_if_none_match_gets_304_without_a_body() -> None:
    feed = Feed("c-1", [acute()])
    first = feed.respond(now=BEFORE)
    again = feed.respond(now=BEFORE, if_none_match=first.etag)
    assert again.status == 304 and again.body == b""
    assert again.etag == first.etag
    assert dict(again.headers)["ETag"] == first.etag
    assert "Content-Length" not in dict(again.headers)
    for header in (f'"other", {first.etag}', f"W/{first.etag}", "*"):
        assert feed.respond(now=BEFORE, if_none_match=header).status == 304, header
    assert feed.respond(now=BEFORE, if_none_match='"stale"').status == 200


def test_if_modified_since_gives_304_only_when_nothing_changed_since() -> None:
    feed = Feed("c-1", [acute().attended(1, now=RECORDED)])
    now = RECORDED + dt.timedelta(days=1)
    last_modified = dict(feed.respond(now=now).headers)["Last-Modified"]
    assert last_modified == "Wed, 18 Nov 2026 16:00:00 GMT"
    assert feed.respond(now=now, if_modified_since=last_modified).status == 304
    earlier = "Wed, 18 Nov 2026 15:59:59 GMT"
    assert feed.respond(now=now, if_modified_since=earlier).status == 200
    assert feed.respond(now=now, if_modified_since="yesterday").status == 200
    # If-None-Match decides when both are sent (RFC 9110 §13.2.2).
    both = feed.respond(now=now, if_none_match='"stale"', if_modified_since=last_modified)
    assert both.status == 200


def test_last_modified_is_never_later_than_the_response() -> None:
    feed = Feed("c-1", [acute()], modified=dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    assert feed.respond(now=BEFORE).last_modified == BEFORE


def test_headers_say_what_the_body_is_and_keep_shared_caches_out() -> None:
    headers = dict(Feed("c-1", [acute()]).respond(now=BEFORE).headers)
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["Cache-Control"] == "private, no-cache"
    assert int(headers["Content-Length"]) > 10_000


def test_after_a_replan_the_etag_changes_and_both_parsers_read_the_new_times() -> None:
    course = acute().missed(2, "clinic", now=RECORDED)
    before = Feed("c-1", [course]).respond(now=RECORDED)
    replanned = course.replan(RECORDED)
    after = Feed("c-1", [replanned]).respond(now=RECORDED, if_none_match=before.etag)
    assert after.status == 200 and after.etag != before.etag
    expected = {
        session_uid("c-1", s.number): (utc_iso(s.start), utc_iso(s.end), s.sequence)
        for s in replanned.schedule
    }
    assert max(s.number for s in replanned.schedule) == 37  # the re-plan added one
    for parsed in (icaljs_read(after.body), libical_read(after.body)):
        read = {e["uid"]: (e["start_utc"], e["end_utc"], e["sequence"]) for e in parsed["events"]}
        assert read == expected, parsed["parser"]


def test_libical_accepts_a_feed_of_two_courses() -> None:
    first = acute()
    data = Feed("c-1", [first, first.next_course("maintenance", "c-1-m")]).calendar(now=BEFORE)
    parsed = libical_read(data)
    assert parsed["error_count"] == 0, parsed["errors"]
    assert len(parsed["events"]) == 36 + 11


# -- tokens ---------------------------------------------------------------------------------------


def test_a_token_is_derived_from_the_secret_and_version_and_holds_no_id() -> None:
    key = FeedKey(SECRET)
    token = key.token("c-1", 1)
    assert re.fullmatch(r"f1_[A-Za-z0-9_-]{43}", token)
    assert "c-1" not in token and "c1" not in token
    assert token == FeedKey(SECRET).token("c-1", 1)  # nothing random: no token is stored
    assert token != key.token("c-1", 2) != key.token("c-2", 1)
    assert token != FeedKey(SECRET + b"!").token("c-1", 1)


def test_revoking_is_one_call_and_the_old_token_is_no_longer_found() -> None:
    key = FeedKey(SECRET)
    feed = Feed("c-1", [acute()])
    old = feed.token(key)
    new_feed = feed.revoked()
    assert new_feed.version == 2 and new_feed.token(key) != old
    index = key.index({new_feed.feed_id: new_feed.version})
    assert index.find(new_feed.token(key)) == "c-1"
    assert index.find(old) is None
    assert not key.verify(old, "c-1", 2) and key.verify(new_feed.token(key), "c-1", 2)


@pytest.mark.parametrize(
    "token",
    ["", "f1_", "f1_" + "A" * 43, "x" * 10_000, "f1_é", "\udcff", None, 42],
)
def test_anything_that_is_not_a_current_token_finds_nothing(token: object) -> None:
    index = FeedKey(SECRET).index({"c-1": 1})
    assert index.find(token) is None


def test_every_lookup_does_one_constant_time_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """A right, wrong, unknown or revoked token costs the same work: one SHA-256, one
    look-up and one hmac.compare_digest of two tokens of the same length."""
    key = FeedKey(SECRET)
    index = TokenIndex(key, {"c-1": 2})
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(feed_module.hmac, "compare_digest", counting)
    right, revoked = key.token("c-1", 2), key.token("c-1", 1)
    wrong = right[:-1] + ("A" if right[-1] != "A" else "B")
    unknown = key.token("c-9", 1)
    for token in (right, wrong, revoked, unknown):
        index.find(token)
    assert compared == [(46, 46)] * 4


def test_a_short_secret_is_refused_and_a_secret_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="^secret: must be at least 32 bytes"):
        FeedKey(b"short")
    path = tmp_path / "feed.key"
    path.write_bytes(SECRET + b"\n")
    assert FeedKey.from_file(path) == FeedKey(SECRET)
    path.write_bytes(b"short\n")
    with pytest.raises(FeedError, match="feed.key must hold a secret of at least 32 bytes"):
        FeedKey.from_file(path)
    with pytest.raises(FeedError, match="no such file"):
        FeedKey.from_file(tmp_path / "missing.key")
    assert "a clinic feed secret" not in repr(FeedKey(SECRET))


# -- caching --------------------------------------------------------------------------------------


def test_a_cached_feed_is_served_until_a_course_changes() -> None:
    cache = FeedCache()
    course = acute()
    first = cache.respond(Feed("c-1", [course]), now=BEFORE)
    assert cache.respond(Feed("c-1", [course]), now=BEFORE) is first
    assert (cache.hits, cache.misses) == (1, 1)
    changed = course.moved(5, dt.datetime(2026, 11, 20, 14, tzinfo=CLINIC.zone), now=RECORDED)
    after = cache.respond(Feed("c-1", [changed]), now=RECORDED)
    assert after.etag != first.etag and cache.misses == 2
    assert after.body == Feed("c-1", [changed]).respond(now=RECORDED).body
    assert cache.respond(Feed("c-1", [changed], version=2), now=RECORDED) is not after
    assert cache.respond(Feed("c-1", [changed]), now=RECORDED, if_none_match=after.etag).status == (
        304
    )


def test_the_cache_forgets_on_request_and_keeps_at_most_its_size() -> None:
    cache = FeedCache(size=2)
    course = acute()
    for feed_id in ("a", "b", "c"):
        cache.respond(Feed(feed_id, [course]), now=BEFORE)
    assert len(cache) == 2
    cache.invalidate("c")
    assert len(cache) == 1
    cache.invalidate()
    assert len(cache) == 0
    with pytest.raises(FeedError, match="^size: "):
        FeedCache(size=0)


# -- a clinic's courses, by patient ---------------------------------------------------------------


def test_courses_are_grouped_by_the_course_they_follow() -> None:
    first = acute()
    maintenance = first.next_course("maintenance", "c-1-m")
    rescue = maintenance.rescue("standard-10hz", "c-1-r", dt.date(2027, 6, 7))
    other = Course.start(Plan("itbs", CLINIC, "2026-11-16", "10:00", "c-2"))
    groups = patient_courses([rescue, other, maintenance, first])
    assert {k: [c.course_id for c in v] for k, v in groups.items()} == {
        "c-1": ["c-1", "c-1-m", "c-1-r"],
        "c-2": ["c-2"],
    }
    with pytest.raises(FeedError, match="two courses have the id c-1"):
        patient_courses([first, first])


def test_a_feed_with_another_uid_key_than_its_course_is_refused() -> None:
    """The feed's events must keep the ids of the course's calendar file."""
    clinic = ClinicCalendar("America/Denver")
    keyed = Course.start(
        Plan("itbs", clinic, "2026-11-16", "09:00", "c-k"),
        uid_key_id=key_id("a long clinic secret, not shared"),
    )
    with pytest.raises(FeedError, match="feed f-1: uid_key: course c-k's calendar ids were made"):
        Feed("f-1", (keyed,))
    options = CalendarOptions(uid_key="a long clinic secret, not shared")
    assert Feed("f-1", (keyed,), options=options).courses == (keyed,)
