"""Free text (reasons, notes, labels, names): what is accepted when written reads back.

Every free text goes through one check (:func:`tms_schedule._validate.check_text`) where it
enters and where it is read: a value any constructor or command accepted round-trips
through the course file, the schedule JSON, the book's database and every loader, and a
value one of them would refuse is refused when it is typed, naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tms_schedule import (
    Authorization,
    ClinicCalendar,
    Closure,
    Course,
    ExtraOpenDay,
    Plan,
    get_protocol,
)
from tms_schedule._validate import check_text
from tms_schedule.book.chairs import Chair
from tms_schedule.book.store import BookStore
from tms_schedule.cli import main
from tms_schedule.course.codec import (
    clinic_from_data,
    clinic_to_data,
    course_from_json,
    course_to_json,
)
from tms_schedule.delivery.imip import invite
from tms_schedule.errors import TmsScheduleError
from tms_schedule.export.json import schedule_from_json
from tms_schedule.export.options import CalendarOptions
from tms_schedule.settings import settings_from_bytes

# The characters that broke a book, a feed or an e-mail, among ordinary text.
HOSTILE = list("\t\n\r\x1b\x7f\x00\x85\u2028\u2029\udcff\ud800 \"\\'")
texts = st.text(st.characters() | st.sampled_from(HOSTILE), max_size=24)
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
CLINIC = ClinicCalendar("America/Denver")
START = dt.date(2026, 11, 16)


def accepted(make: object) -> object | None:
    """What ``make()`` gives, or ``None`` when it refused the value with the library's
    own error (anything else is a failure of the test)."""
    try:
        return make()  # type: ignore[operator]
    except TmsScheduleError:
        return None


@given(texts)
@pytest.mark.parametrize("lines", [False, True])
def test_the_one_check_accepts_exactly_what_every_file_holds(lines: bool, text: str) -> None:
    ok = accepted(lambda: check_text(text, "f", TmsScheduleError, lines=lines))
    if ok is None:
        return
    assert text.strip() and text.encode("utf-8")
    assert all(c in "\t\n" or c.isprintable() or c == " " or ord(c) > 0x9F for c in text)
    if not lines:
        assert not any(c in text for c in "\t\n\r\x85\u2028\u2029")


@given(texts)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_closure_reason_that_is_accepted_reads_back_everywhere(reason: str) -> None:
    closure = accepted(lambda: Closure(dt.date(2026, 11, 18), dt.date(2026, 11, 18), reason))
    extra = accepted(lambda: ExtraOpenDay(dt.date(2026, 11, 21), None, reason))
    if closure is None:
        assert extra is None  # one rule for every reason
        return
    assert isinstance(closure, Closure)
    clinic = attrs.evolve(CLINIC, closures=(closure,))
    assert clinic_from_data(json.loads(json.dumps(clinic_to_data(clinic)))) == clinic
    course = Course.start(Plan("itbs", clinic, START, "09:00", "c-1"))
    assert any(reason in day.reason for day in course.schedule.skipped)
    assert schedule_from_json(course.schedule.to_json()) == course.schedule
    assert course_from_json(course_to_json(course)) == course


@given(texts)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_note_that_is_accepted_reads_back_from_the_course_file(note: str) -> None:
    course = Course.start(Plan("itbs", CLINIC, START, "09:00", "c-1")).attended(1, now=NOW)
    changes = (
        lambda before: before.attended(2, note=note, now=NOW),
        lambda before: before.void_latest(1, note, now=NOW),
        lambda before: before.authorize(Authorization(30, START, START + dt.timedelta(days=90))),
        lambda before: before.extend_authorization(2, None, note),
    )
    for change in changes:
        changed = accepted(lambda: change(course))  # noqa: B023 - called at once
        if isinstance(changed, Course):
            assert course_from_json(course_to_json(changed)) == changed
            course = changed


@given(texts)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_protocol_name_that_is_accepted_reads_back_from_the_course_file(name: str) -> None:
    protocol = accepted(lambda: attrs.evolve(get_protocol("itbs"), name=name))
    if protocol is None:
        return
    course = Course.start(Plan(protocol, CLINIC, START, "09:00", "c-1"))  # type: ignore[arg-type]
    assert course_from_json(course_to_json(course)) == course


@given(texts)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_chair_label_the_clinic_file_accepts_reads_back_from_the_book(
    tmp_path_factory: pytest.TempPathFactory, label: str
) -> None:
    # TOML writes any character as \\uXXXX; a lone surrogate is not TOML at all.
    quoted = json.dumps(label)
    document = f'timezone = "UTC"\n[[chairs]]\nid = "c1"\nlabel = {quoted}\n'.encode()
    chair = accepted(lambda: Chair("c1", label))
    settings_read = accepted(lambda: settings_from_bytes(document, "clinic.toml"))
    if settings_read is None:
        return
    assert chair is not None  # the file's rule is the chair's
    path = tmp_path_factory.mktemp("book") / "book.db"
    with BookStore.create(path, document) as made:
        assert made.load().chairs[0].label == label
    with BookStore(path) as store:
        assert store.load().chairs[0].label == label


@given(texts)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_clinic_name_that_is_accepted_goes_into_every_patient_output(name: str) -> None:
    options = accepted(lambda: CalendarOptions(clinic_name=name, organizer="desk@clinic.example"))
    if options is None:
        return
    assert isinstance(options, CalendarOptions)
    course = Course.start(Plan("itbs", CLINIC, START, "09:00", "c-1"))
    course.schedule.to_ics(options=options, stamp=NOW)
    message = accepted(
        lambda: invite(course, 1, attendee="p@example.org", stamp=NOW, options=options)
    )
    assert message is not None
    subject = accepted(
        lambda: invite(
            course,
            1,
            attendee="p@example.org",
            stamp=NOW,
            options=options,
            subject=options.clinic_name,
        )
    )
    assert subject is not None  # a subject is held to the clinic name's rule


CLINIC_TOML = b"""timezone = "America/Denver"
hours = "07:00-19:00"
[[chairs]]
id = "c1"
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A book with one course, copied for each example."""
    folder = tmp_path_factory.mktemp("book")
    path = folder / "book.db"
    with (
        BookStore.create(path, CLINIC_TOML) as store,
        store.change(whole=True, now=NOW, actor="test") as change,
    ):
        course = Course.start(
            Plan("standard-10hz", change.book.clinic, "2026-11-16", "09:00", "c-1")
        )
        change.book = change.book.add(course)
    return path


@given(texts)
@example("-:")
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_a_reason_the_command_line_accepts_leaves_the_book_usable(
    book: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    reason: str,
) -> None:
    copy = tmp_path_factory.mktemp("b") / "book.db"
    copy.write_bytes(book.read_bytes())
    # "--reason=VALUE", as a person types a reason that starts with "-" (the two-word form
    # takes "-:" for an option of its own: argparse's rule, not the book's).
    status = main(
        ["book", "close", str(copy), "2026-11-18", f"--reason={reason}", "--from", "2026-11-16"]
    )
    err = capsys.readouterr().err
    if status != 0:
        assert (
            status == 2 and err.count("\n") == 1 and err.startswith("tms-schedule: error: --reason")
        )
        return
    for command in (["list"], ["events"], ["record", "c-1", "1", "--attended"], ["undo", "1"]):
        assert main(["book", command[0], str(copy), *command[1:]]) == 0, capsys.readouterr().err
    capsys.readouterr()
