"""Tamper evidence: where the clinic has a key (its UID key), a course file is sealed with
an HMAC no one without the key can make; a file edited without it is refused.

Without a key the checksum is a plain SHA-256: it shows damage and careless edits, not an
edit whose maker recomputed it (the documentation says so).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tms_schedule import ClinicCalendar, Course, Plan
from tms_schedule.cli import main
from tms_schedule.course.codec import checksum, course_from_json, course_to_json, sealed_with
from tms_schedule.course.file import load_course
from tms_schedule.delivery.sources import FolderSource
from tms_schedule.errors import CourseFileError
from tms_schedule.export.options import CalendarOptions
from tms_schedule.export.uid import key_id

KEY = "a clinic secret of 16+ characters"
OTHER = "another clinic's secret, 16+ long"
# Written by the release that first kept the course's UID key id, unsealed (format 2).
LEGACY = Path(__file__).parent / "golden" / "sealing" / "format-2-with-uid-key.json"
CLINIC = ClinicCalendar("America/Denver", holidays="US-CO")


def sealed_course() -> Course:
    plan = Plan("standard-10hz", CLINIC, "2026-11-16", "09:00", "c-1")
    return Course.start(plan, uid_key_id=key_id(KEY))


def _zone(d: dict[str, Any]) -> None:
    d["plan"]["clinic"]["timezone"] = "America/Chicago"


def _authorization(d: dict[str, Any]) -> None:
    d["authorization"] = {
        "sessions": 400,
        "valid_from": "2026-11-16",
        "valid_until": "2027-06-30",
        "extensions": [],
    }


def _empty(d: dict[str, Any]) -> None:
    d["revisions"] = d["revisions"][:1]
    d["revisions"][0]["schedule"]["sessions"] = []


def _record(d: dict[str, Any]) -> None:
    d["records"].append(
        {
            "kind": "attended",
            "session": 2,
            "when": None,
            "cause": None,
            "note": None,
            "recorded": "2026-11-17T17:00:00+00:00",
            "voids": None,
        }
    )


EDITS = [_zone, _authorization, _empty, _record]


def test_a_course_of_the_clinic_s_key_is_sealed_with_it() -> None:
    text = course_to_json(sealed_course(), key=KEY)
    data = json.loads(text)
    assert data["checksum"].startswith(f"hmac-sha256:{key_id(KEY)}:")
    assert sealed_with(data) == key_id(KEY) and data["version"] == 3
    assert course_from_json(text, key=KEY) == sealed_course()


@pytest.mark.parametrize("change", EDITS, ids=[e.__name__.strip("_") for e in EDITS])
def test_an_edit_without_the_key_is_refused_however_it_is_sealed_again(change: Any) -> None:
    data = json.loads(course_to_json(sealed_course(), key=KEY))
    change(data)
    attempts = {
        "left as it was": data["checksum"],
        "sealed with another key": checksum(data, OTHER).replace(key_id(OTHER), key_id(KEY)),
        "the plain checksum": checksum(data),
    }
    for how, seal in attempts.items():
        forged = {**data, "checksum": seal}
        with pytest.raises(CourseFileError, match="^checksum: "):
            course_from_json(json.dumps(forged), key=KEY)
        if how == "the plain checksum":  # passed off as written without a seal
            with pytest.raises(CourseFileError, match="not sealed with it"):
                course_from_json(json.dumps({**forged, "version": 3}), key=KEY)


def test_a_sealed_file_is_read_only_with_its_key() -> None:
    text = course_to_json(sealed_course(), key=KEY)
    with pytest.raises(CourseFileError, match=r"sealed with the clinic's UID key \(k"):
        course_from_json(text)
    with pytest.raises(CourseFileError, match="not with the key given"):
        course_from_json(text, key=OTHER)


def test_saving_a_course_of_the_clinic_s_key_needs_the_key(tmp_path: Path) -> None:
    path = tmp_path / "c-1.json"
    with pytest.raises(CourseFileError, match="give that key to save it"):
        sealed_course().save(path)
    with pytest.raises(CourseFileError, match="not with the key given"):
        sealed_course().save(path, key=OTHER)
    sealed_course().save(path, key=KEY)
    assert Course.load(path, key=KEY) == sealed_course()


def test_a_file_written_before_sealing_stays_readable_and_is_sealed_when_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c-1.json"
    shutil.copy(LEGACY, path)
    legacy = json.loads(LEGACY.read_text())
    assert legacy["version"] == 2 and legacy["checksum"].startswith("sha256:")
    assert load_course(path) == load_course(path, key=KEY)  # with or without the key
    key_file = tmp_path / "uid.key"
    key_file.write_text(KEY + "\n")
    assert main(["course", "record", str(path), "5", "--attended"]) == 2
    assert "give that key to save it" in capsys.readouterr().err
    assert (
        main(["course", "record", str(path), "5", "--attended", "--uid-key-file", str(key_file)])
        == 0
    )
    assert sealed_with(json.loads(path.read_text())) == key_id(KEY)
    capsys.readouterr()
    assert main(["course", "show", str(path)]) == 2
    assert "sealed with the clinic's UID key" in capsys.readouterr().err
    assert main(["course", "show", str(path), "--uid-key-file", str(key_file)]) == 0


def test_a_course_without_a_key_keeps_the_plain_checksum(tmp_path: Path) -> None:
    course = Course.start(Plan("itbs", CLINIC, "2026-11-16", "09:00", "c-2"))
    data = json.loads(course_to_json(course))
    assert data["checksum"].startswith("sha256:") and data["version"] == 2
    assert course_from_json(json.dumps(data), key=KEY) == course  # not the key's course


def test_the_feeds_read_sealed_files_with_the_clinic_s_key(tmp_path: Path) -> None:
    sealed_course().save(tmp_path / "c-1.json", key=KEY)
    assert dict(FolderSource(tmp_path, options=CalendarOptions(uid_key=KEY)).versions()) == {
        "c-1": 1
    }
    keyless = FolderSource(tmp_path)
    assert dict(keyless.versions()) == {}
    assert any("sealed with the clinic's UID key" in p for p in keyless.problems)
