"""``tms-schedule course rate|authorize --payer|decide|end|follow --rescue|show`` and Ctrl-C.

The courses ran in 2025, so every session has started by the time the tests run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tms_schedule.cli import main
from tms_schedule.course.file import load_course
from tms_schedule.export.places import places, session_words


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def new(capsys: pytest.CaptureFixture[str], path: Path, protocol: str, start: str) -> None:
    status, _, err = run(
        capsys,
        "course",
        "new",
        protocol,
        "--start",
        start,
        "--tz",
        "America/Denver",
        "--holidays",
        "US-CO",
        "--course-id",
        path.stem,
        "-o",
        str(path),
    )
    assert status == 0, err


def test_ratings_a_staged_decision_and_what_show_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    course = tmp_path / "c-1.json"
    new(capsys, course, "medicare-20-5", "2025-09-15")
    status, out, err = run(
        capsys, "course", "authorize", str(course), "--payer", "medicare-a57692",
        "--from", "2025-09-15", "--until", "2025-12-31",
    )  # fmt: skip
    assert status == 0, err
    assert "Staged: Medicare A57692 (LCD L37086): 20 sessions, then by the rating" in out
    for number in range(1, 21):
        assert run(capsys, "course", "record", str(course), str(number), "--attended")[0] == 0
    assert run(capsys, "course", "rate", str(course), "18", "--session", "1")[0] == 0
    status, out, _ = run(capsys, "course", "rate", str(course), "4", "--session", "20")
    assert out.splitlines() == [
        "Rating 2: PHQ-9 4 on 2025-10-13 (session 20) (saved)",
        "Since baseline: PHQ-9 18 on 2025-09-15 to 4 on 2025-10-13: -14 (78% lower); response;"
        " remission",
    ]
    status, out, _ = run(capsys, "course", "show", str(course))
    assert "Decision due at session 20 of 25: Medicare A57692" in out
    assert "PHQ-9 due (authorization decision)" not in out  # milestones stay in the JSON/CSV
    assert "\nRatings\n    1. PHQ-9 18 on 2025-09-15 (session 1)\n" in out
    status, out, err = run(capsys, "course", "decide", str(course))
    assert status == 0, err
    assert out.startswith("Decision: remission (PHQ-9 18 on 2025-09-15 to 4 on 2025-10-13")
    document = json.loads(run(capsys, "course", "show", str(course), "--format", "json")[1])
    assert document["course"]["decision"]["outcome"] == "remission"
    assert document["course"]["outcomes"][0]["remission"] is True
    assert [r["score"] for r in document["course"]["ratings"]] == [18, 4]
    status, _, err = run(capsys, "course", "rate", str(course), "28")
    assert (status, err) == (
        2,
        "tms-schedule: error: score: a PHQ-9 score: must be a whole number from 0 to 27, got 28\n",
    )
    calendar = tmp_path / "c-1.ics"
    assert run(capsys, "course", "export", str(course), "-o", str(calendar))[0] == 0
    assert b"PHQ" not in calendar.read_bytes() and b"remission" not in calendar.read_bytes()


def test_a_course_ends_in_one_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = tmp_path / "c-1.json"
    new(capsys, course, "standard-10hz", "2025-11-17")
    status, out, err = run(
        capsys, "course", "end", str(course), "--reason", "moved away", "--from", "2025-12-01"
    )
    assert status == 0, err
    assert out.startswith("Course c-1 ended (moved away): 27 sessions cancelled; saved\n")
    assert "Still to record (before the end): sessions 1, 2, 3" in out
    ended = load_course(course)
    assert ended.ended is not None and len(ended.records) == 0
    status, out, _ = run(capsys, "course", "show", str(course))
    assert "Ended from 2025-12-01 00:00: moved away" in out


def test_one_number_for_a_session_with_its_place_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    course = tmp_path / "c-1.json"
    new(capsys, course, "standard-10hz", "2025-11-17")
    run(capsys, "course", "record", str(course), "2", "--missed", "--cause", "patient")
    run(capsys, "course", "replan", str(course), "--from", "2025-11-19")
    out = run(capsys, "course", "show", str(course))[1]
    lines = out.splitlines()
    assert any(
        line.startswith("   37  ") and line.endswith("(a make-up: 30th of 36)") for line in lines
    )
    assert any(line.startswith("    3  ") and line.endswith("(2nd of 36)") for line in lines)
    assert "  1. session 2: missed (patient)" in out  # a missed session has no place
    course_now = load_course(course)
    placed = places(course_now.schedule)
    assert session_words(37, placed.get(37), 36) == "session 37, a make-up: 30th of 36"
    assert session_words(3, placed.get(3), 36) == "session 3: 2nd of 36"
    assert session_words(2, placed.get(2), 36) == "session 2"


def test_a_rescue_supersedes_maintenance_and_an_overlap_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index, boosters = tmp_path / "c-1.json", tmp_path / "c-1-m.json"
    new(capsys, index, "standard-10hz", "2025-06-16")
    status, _, err = run(
        capsys, "course", "follow", str(index), "maintenance", "--course-id", "c-1-m",
        "-o", str(boosters),
    )  # fmt: skip
    assert status == 0, err
    status, _, err = run(
        capsys, "course", "follow", str(index), "standard-10hz", "--rescue", "--start",
        "2025-07-01", "--course-id", "c-1-r", "-o", str(tmp_path / "bad.json"),
    )  # fmt: skip
    assert status == 2 and "would overlap course c-1, which runs until" in err
    assert "sessions on 2025-07-01, 2025-07-02" in err and not (tmp_path / "bad.json").exists()
    status, out, err = run(
        capsys, "course", "follow", str(boosters), "standard-10hz", "--rescue", "--start",
        "2025-10-06", "--course-id", "c-1-r", "-o", str(tmp_path / "c-1-r.json"),
    )  # fmt: skip
    assert status == 0, err
    assert "cancelled (superseded by c-1-r); saved" in out
    assert load_course(boosters).ended.superseded_by == "c-1-r"
    status, out, err = run(
        capsys, "course", "follow", str(tmp_path / "c-1-r.json"), "maintenance", "--resume",
        str(boosters), "--course-id", "c-1-m2", "-o", str(tmp_path / "c-1-m2.json"),
    )  # fmt: skip
    assert status == 0, err
    assert "(resumes c-1-m after c-1-r)" in out


@pytest.mark.parametrize("after_save", [False, True])
def test_ctrl_c_prints_one_line_and_leaves_the_file_whole(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    after_save: bool,
) -> None:
    course = tmp_path / "c-1.json"
    new(capsys, course, "standard-10hz", "2025-11-17")
    before = course.read_bytes()
    import tms_schedule.cli.course as cli_course

    if after_save:
        real = cli_course.saved

        def interrupted(path: str) -> None:
            real(path)
            raise KeyboardInterrupt

        monkeypatch.setattr(cli_course, "saved", interrupted)
    else:

        def interrupted_load(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(cli_course, "editing", interrupted_load)
    status, out, err = run(capsys, "course", "record", str(course), "1", "--attended")
    assert status == 130 and out == ""
    if after_save:
        assert err == f"tms-schedule: interrupted; saved already: {course}\n"
        assert len(load_course(course).records) == 1
    else:
        assert err == "tms-schedule: interrupted; nothing was changed\n"
        assert course.read_bytes() == before


def test_protocols_json_states_the_clearances(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "protocols", "--format", "json")
    assert status == 0
    protocols = {p["id"]: p for p in json.loads(out)}
    (adults, adolescents) = protocols["standard-10hz"]["clearances"]
    assert adults["population"] == "adults"
    assert adolescents == {
        "device": "NeuroStar Advanced Therapy System",
        "number": "K231926",
        "cleared": "2024-03-22",
        "indication": "as an adjunct for the treatment of major depressive disorder",
        "population": "adolescents aged 15 to 21",
        "unverified": None,
    }
    assert protocols["snt"]["clearances"] == []
