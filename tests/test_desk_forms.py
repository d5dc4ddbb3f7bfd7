"""The desk's form fields accept what the library accepts, and refuse the rest the library's
way: an input error that names the form's field."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tms_schedule._time import as_date, as_time
from tms_schedule._validate import check_text
from tms_schedule.desk.forms import FieldError, date_field, int_field, text_field, time_field
from tms_schedule.errors import InvalidInputError


@settings(max_examples=200)
@given(st.text(max_size=12))
def test_a_date_field_reads_exactly_what_the_library_reads(text: str) -> None:
    try:
        expected: dt.date | None = as_date(text.strip(), "Start")
    except InvalidInputError:
        expected = None
    try:
        got: dt.date | None = date_field({"start": text}, "start", "Start")
    except FieldError as error:
        assert error.field == "start" and str(error).startswith("Start: must be a date")
        got = None
    assert got == expected


@pytest.mark.parametrize("typed", ["9:30", "09:30", "9.30", "9h30", "0930", "930", " 9:30 "])
def test_a_time_field_takes_the_ways_people_type_a_time(typed: str) -> None:
    assert time_field({"at": typed}, "at", "Time") == dt.time(9, 30)


@settings(max_examples=200)
@given(st.times().map(lambda t: t.strftime("%H:%M")) | st.text(max_size=6))
def test_a_time_field_reads_at_least_what_the_library_reads(text: str) -> None:
    try:
        expected = as_time(text, "Time")
    except InvalidInputError:
        return
    assert time_field({"at": text}, "at", "Time") == expected


@pytest.mark.parametrize("typed", ["24:00", "9:60", "nine", "9:3", "", "9:30pm"])
def test_a_time_field_refuses_the_rest_naming_the_field(typed: str) -> None:
    with pytest.raises(FieldError) as refused:
        time_field({"at": typed}, "at", "Preferred time")
    assert refused.value.field == "at"
    assert str(refused.value).startswith("Preferred time: must be a time written HH:MM")
    assert isinstance(refused.value, InvalidInputError)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("0", 0),
        ("240", 240),
        (" 30 ", 30),
        ("-1", None),
        ("241", None),
        ("3.5", None),
        ("a lot", None),
        ("", None),
        ("1" * 40, None),
    ],
)
def test_an_int_field_is_the_library_s_range_check(typed: str, number: int | None) -> None:
    if number is not None:
        assert int_field({"w": typed}, "w", "Window", 0, 240) == number
        return
    with pytest.raises(FieldError, match="^Window: must be a whole number from 0 to 240, got"):
        int_field({"w": typed}, "w", "Window", 0, 240)


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_a_text_field_accepts_what_every_loader_reads_back(text: str) -> None:
    try:
        value = text_field({"note": text}, "note", "Note", required=False, lines=True)
    except FieldError as error:
        assert error.field == "note"
        return
    assert check_text(value, "note", ValueError, lines=True, blank=True) == value
    assert value == value.strip()
