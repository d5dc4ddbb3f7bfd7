"""The errors: one root, a builtin base by meaning, the field as data, in the user's words."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

import tms_schedule
from tms_schedule import errors
from tms_schedule.book import Chair, Outage, StaffLimit
from tms_schedule.errors import (
    CalDavPushError,
    CourseError,
    FileWriteError,
    InvalidInputError,
    StoreError,
    TmsScheduleError,
)

#: Not about the values given: what the program works with failed (a store's refusal of a
#: change because another terminal changed the course meanwhile among them).
ENVIRONMENT = (FileWriteError, StoreError, CalDavPushError)


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_has_the_one_root_and_the_base_of_its_meaning(name: str) -> None:
    error = getattr(errors, name)
    assert issubclass(error, TmsScheduleError)
    if error is TmsScheduleError:
        return
    if issubclass(error, ENVIRONMENT):
        assert issubclass(error, OSError) and not issubclass(error, ValueError), name
    else:
        assert issubclass(error, InvalidInputError) and issubclass(error, ValueError), name


def test_a_busy_database_is_not_bad_input() -> None:
    with pytest.raises(OSError, match="database is locked"):
        raise StoreError("book.db: the database is locked")
    assert StoreError("book.db: busy").field is None


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("start: must be a date", "start"),
        ("closure end: must be on or after start", "closure end"),
        ("sessions[3].status: must be one of scheduled", "sessions[3].status"),
        ("closing_holidays/open_holidays: give one or the other", "closing_holidays/open_holidays"),
        ("protocol phases[0]: must be one of Daily", "protocol phases[0]"),
        ("the course would run past 1830 days from its start (2026-11-16)", None),
        ("no open day within 366 days after 2026-11-16; check: the closures", None),
    ],
)
def test_the_field_is_data_read_from_the_message_s_lead(message: str, field: str | None) -> None:
    assert CourseError(message).field == field
    assert CourseError(message, field="other").field == "other"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (
            lambda: tms_schedule.Plan("itbs", tms_schedule.ClinicCalendar("UTC"), "x", "9:00", "c"),
            "start",
        ),
        (lambda: tms_schedule.Closure(dt.date(2026, 12, 2), dt.date(2026, 12, 1)), "closure end"),
        (lambda: tms_schedule.Daily(0), "daily phase sessions"),
        (
            lambda: tms_schedule.Periodic(4, 2, cluster_sessions=1, cluster_days=2),
            "periodic phase cluster_days",
        ),
        (lambda: tms_schedule.ClinicCalendar("Nowhere/Town"), "timezone"),
        (lambda: tms_schedule.get_protocol("nope"), "protocol"),
        (lambda: Chair("c1", turnover=500), "chair turnover"),
    ],
)
def test_bad_input_names_its_field_as_data(build: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


#: Every public class a value can be built of: a message names none of them as a prefix
#: ("Closure.start: ..."), but the field in the words of the person who gave it.
_CLASSES = re.compile(
    r"\b(?:"
    + "|".join(
        name
        for name in (*tms_schedule.__all__, *tms_schedule.book.__all__)
        if name[:1].isupper() and not name.endswith("Error")
    )
    + r")\.[a-z_]+"
)


@pytest.mark.parametrize(
    "build",
    [
        lambda: tms_schedule.Closure(dt.date(9999, 1, 1)),
        lambda: tms_schedule.Closure(dt.date(2026, 1, 1), reason=""),
        lambda: tms_schedule.ExtraOpenDay(dt.date(1, 1, 1)),
        lambda: tms_schedule.OpeningHours(dt.time(9), dt.time(8)),
        lambda: tms_schedule.Daily(0),
        lambda: tms_schedule.Taper((9,)),
        lambda: tms_schedule.Weekly(per_week=9, weeks=1),
        lambda: tms_schedule.Accelerated(per_day=99, days=1, interval=10),
        lambda: tms_schedule.Periodic(every_weeks=0, occurrences=1),
        lambda: tms_schedule.Daily(10, name="two words"),
        lambda: tms_schedule.Stimulation("DLPFC", "10 Hz", pulses=-1),
        lambda: tms_schedule.Protocol(
            id="X", name="x", phases=(tms_schedule.Daily(1),), session=30, first_session=30
        ),
        lambda: tms_schedule.Protocol(id="x", name="x", phases=(), session=30, first_session=30),
        lambda: tms_schedule.Protocol(
            id="x", name="x", phases=(tms_schedule.Daily(1),), session=0, first_session=30
        ),
        lambda: Chair("c1", turnover=-1),
        lambda: StaffLimit(0),
        lambda: Outage(dt.datetime(2026, 1, 1, 9), dt.datetime(2026, 1, 1, 10), "x"),
    ],
)
def test_errors_never_name_an_internal_class(build: Callable[[], object]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        build()
    assert not _CLASSES.search(str(caught.value)), str(caught.value)
    assert caught.value.field is not None, str(caught.value)
