"""Course files written by every released format stay readable and changeable.

``tests/golden/courses/<format>/`` holds, byte for byte, what each release wrote; they are
never regenerated. Each was made by that release's own ``tms-schedule``: a
standard-10hz course (``c-1``) with an attendance, a miss, a move, a re-plan and an
authorization, and the maintenance course that follows it (``c-1-m``):

* ``format-1-first``: the first release of format 1 (no ``target`` in a revision's
  schedule);
* ``format-1``: the later release of format 1;
* ``format-2``: the first release of format 2 (with the checksum).

Every command that reads or changes a course file runs on each, and what it writes reads
back (as the current format).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tms_schedule.cli import main
from tms_schedule.course import Course
from tms_schedule.course.codec import course_from_json, course_to_data, course_to_json
from tms_schedule.course.file import load_course

RELEASED = Path(__file__).parent / "golden" / "courses"
FORMATS = sorted(p.name for p in RELEASED.iterdir() if p.is_dir())
CLINIC = """\
timezone = "America/Denver"
hours = "07:00-19:00"

[holidays]
country = "US-CO"

[[chairs]]
id = "c1"
"""

# Each command a course file meets, with what it must say; ``{f}`` is the course file,
# ``{m}`` the maintenance course's, ``{d}`` a scratch folder. Sessions 5 and 6 were in
# November 2026: they have started whenever the tests run.
COMMANDS = [
    ("course show {f}", "Course c-1 - standard-10hz"),
    ("course check {f}", "Authorization"),
    ("course export {f} -o {d}/c-1.ics --stamp 2026-12-01T00:00:00Z", "Wrote 3"),
    ("course export {f} --format json", '"course_id": "c-1"'),
    ("course export {f} --format fhir --patient Patient/p-1", '"resourceType": "Bundle"'),
    ("course record {f} 5 --attended", "attended"),
    ("course record {f} 6 --missed --cause patient --note late", "missed"),
    ("course void {f} 2 --reason typo", "voided"),
    ("course replan {f} --from 2026-11-20 --policy extend", ""),
    ("course authorize {f} --extend 2 --note appeal", "Authorization"),
    ("course authorize {f} --sessions 40 --from 2026-11-16 --until 2027-02-28", "40 sessions"),
    ("course close {f} 2026-12-31 --reason Inventory", "Closed 2026-12-31"),
    ("course follow {f} maintenance --course-id c-1-x -o {d}/c-1-x.json", "c-1-x"),
    ("course show {m}", "Course c-1-m - maintenance"),
    ("course close {m} 2027-03-01 --reason Inventory", "Closed 2027-03-01"),
]


@pytest.fixture(params=FORMATS)
def released(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = tmp_path / request.param
    shutil.copytree(RELEASED / request.param, folder)
    return folder


def test_every_released_format_is_kept() -> None:
    assert FORMATS == ["format-1", "format-1-first", "format-2"]
    versions = {
        name: json.loads((RELEASED / name / "c-1.json").read_text())["version"] for name in FORMATS
    }
    assert versions == {"format-1": 1, "format-1-first": 1, "format-2": 2}
    first = json.loads((RELEASED / "format-1-first" / "c-1.json").read_text())
    assert all("target" not in r["schedule"] for r in first["revisions"])


@pytest.mark.parametrize(("command", "said"), COMMANDS, ids=[c.split(" {")[0] for c, _ in COMMANDS])
def test_every_command_works_on_every_released_format(
    released: Path, command: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    course_file, following = released / "c-1.json", released / "c-1-m.json"
    before = load_course(course_file)
    argv = command.format(f=course_file, m=following, d=released).split()
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert said in out
    for path in (course_file, following):
        after = load_course(path)  # whatever was written reads back
        assert after.records[: len(before.records)] == before.records or path == following
        if path.read_bytes() != (RELEASED / released.name / path.name).read_bytes():
            written = json.loads(path.read_text())["version"]
            assert written == course_to_data(after)["version"] and written >= 2


def test_every_released_course_reads_back_as_written_again(released: Path) -> None:
    for path in sorted(released.glob("*.json")):
        course = load_course(path)
        assert course_from_json(course_to_json(course)) == course
        assert isinstance(course, Course)


def test_a_book_imports_every_released_format(
    released: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "clinic.toml").write_text(CLINIC)
    book = str(tmp_path / "book.db")
    assert main(["book", "init", book, "--clinic", str(tmp_path / "clinic.toml")]) == 0
    status = main(
        ["book", "import", book, str(released / "c-1.json"), str(released / "c-1-m.json")]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Added course c-1:" in out and "Added course c-1-m:" in out
    assert main(["book", "list", book]) == 0
    assert main(["book", "record", book, "c-1", "5", "--attended"]) == 0, capsys.readouterr().err
