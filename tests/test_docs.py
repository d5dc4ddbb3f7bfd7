"""The documentation agrees with the code.

The pages' ``>>>`` examples run as doctests (``--doctest-glob=docs/*.md``); these tests check
what a doctest cannot: the protocol reference against the catalogue, the TOML examples, and
the front desk's commands with the output the getting-started page prints.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tms_schedule import BUILTIN_PROTOCOLS, load_protocols
from tms_schedule._toml import load_toml
from tms_schedule.cli import main
from tms_schedule.course.authorization import staged_from_table

DOCS = Path(__file__).resolve().parent.parent / "docs"
PROTOCOLS_PAGE = DOCS / "protocols.md"
GETTING_STARTED = DOCS / "getting-started.md"

_PROTOCOL_HEADING = re.compile(r"^## `([^`]+)`")


def _flat(text: str) -> str:
    """Whitespace collapsed, so text wrapped in the page compares with text in the code."""
    return " ".join(text.split())


def _protocol_sections() -> dict[str, str]:
    """Each ``## `id``` section of the protocol reference, by id (body up to the next ``##``)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in PROTOCOLS_PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            match = _PROTOCOL_HEADING.match(line)
            if match is None:
                current = None
                continue
            assert match[1] not in sections, f"protocols.md: two sections for {match[1]}"
            current = sections[match[1]] = []
        elif current is not None:
            current.append(line)
    return {pid: "\n".join(lines) for pid, lines in sections.items()}


def _fenced(path: Path, language: str) -> list[str]:
    """The contents of the page's fenced code blocks in ``language``."""
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_every_builtin_protocol_has_a_section_and_no_other() -> None:
    documented = set(_protocol_sections())
    assert not set(BUILTIN_PROTOCOLS) - documented, "protocols missing from docs/protocols.md"
    assert not documented - set(BUILTIN_PROTOCOLS), "docs/protocols.md: no such protocol"


@pytest.mark.parametrize("protocol_id", list(BUILTIN_PROTOCOLS))
def test_section_states_the_protocol_as_the_code_has_it(protocol_id: str) -> None:
    protocol = BUILTIN_PROTOCOLS[protocol_id]
    section = _protocol_sections()[protocol_id]
    counts = re.findall(r"^- \*\*Sessions:\*\* (\d+)\s*$", section, flags=re.MULTILINE)
    assert counts == [str(protocol.total_sessions)]
    flat = _flat(section)
    assert f"**{protocol.name}**" in flat
    assert f"**Phases:** {protocol.describe()}" in flat
    for text in (*protocol.sources, *protocol.notes):
        assert _flat(text) in flat, f"{protocol_id}: not in its section: {text}"


def test_protocol_toml_examples_load_as_described(tmp_path: Path) -> None:
    blocks = _fenced(PROTOCOLS_PAGE, "toml")
    assert blocks
    page = _flat(PROTOCOLS_PAGE.read_text(encoding="utf-8"))
    for i, block in enumerate(blocks):
        path = tmp_path / f"protocols-{i}.toml"
        path.write_text(block, encoding="utf-8")
        if "[[protocol]]" not in block:  # a clinic file's payer stages
            staged = staged_from_table(load_toml(path))
            assert all(
                f'payer = "{payer}"' in block or payer == "medicare-a57692" for payer in staged
            )
            continue
        protocols = load_protocols(path)
        assert protocols
        for protocol in protocols:
            assert f"`{protocol.id}`: {protocol.describe()}" in page


def _console_steps(path: Path) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the page's console blocks, with the output lines shown under it."""
    steps: list[tuple[str, list[str]]] = []
    for block in _fenced(path, "console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                assert steps, f"{path.name}: output before any command: {line!r}"
                steps[-1][1].append(line)
    return steps


def test_getting_started_commands_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The walkthrough in order, in an empty folder holding the page's clinic.toml."""
    (clinic_file,) = _fenced(GETTING_STARTED, "toml")
    (tmp_path / "clinic.toml").write_text(clinic_file, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    steps = _console_steps(GETTING_STARTED)
    assert len(steps) > 10
    _run_steps(steps, capsys)


#: The feed secret the delivery page's example addresses are made with.
EXAMPLE_FEED_SECRET = "an example feed secret: make yours with openssl rand"


def test_the_book_page_commands_print_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The front desk's walkthrough of the book, in an empty folder with the page's file,
    on the day the page says it was run (the command line's clock)."""
    today = dt.datetime(2027, 2, 22, 12, tzinfo=ZoneInfo("America/Denver"))
    monkeypatch.setattr("tms_schedule.cli.book._clock", lambda: today)
    page = DOCS / "book.md"
    (clinic_file,) = _fenced(page, "toml")
    (tmp_path / "clinic.toml").write_text(clinic_file, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    steps = _console_steps(page)
    assert len(steps) >= 10
    _run_steps(steps, capsys)


def test_the_book_page_names_what_each_protocol_requires() -> None:
    text = _flat((DOCS / "book.md").read_text(encoding="utf-8"))
    for protocol in BUILTIN_PROTOCOLS.values():
        if protocol.requires:
            (tag,) = protocol.requires
            assert f"`{protocol.id}`" in text or tag in ("h1", "h7", "h4"), protocol.id
            assert f"`{tag}`" in text


def test_the_delivery_page_commands_print_what_it_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In an empty folder with the clinic's course folder and the feed secret file."""
    (tmp_path / "courses").mkdir()
    (tmp_path / "feed.key").write_text(EXAMPLE_FEED_SECRET + "\n")
    monkeypatch.chdir(tmp_path)
    steps = _console_steps(DOCS / "delivery.md")
    assert steps
    _run_steps(steps, capsys)


def _run_steps(steps: list[tuple[str, list[str]]], capsys: pytest.CaptureFixture[str]) -> None:
    for command, shown in steps:
        program, *args = shlex.split(command)
        assert program == "tms-schedule", command
        status = main(args)
        captured = capsys.readouterr()
        printed = (captured.out + captured.err).splitlines()
        if shown:
            assert printed == shown, command
        if printed and printed[0].startswith("tms-schedule: error:"):
            assert status == 2, command
        else:  # 1 is `course check` finding sessions outside the authorization
            assert status in (0, 1), f"{command}: exit status {status}"


def test_the_readme_python_runs_and_prints_what_its_comments_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's Python, in order, as a newcomer pastes it into one session."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in _fenced(DOCS.parent / "README.md", "python"):
        exec(compile(block, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    shown = [
        comment.removeprefix("Prints:").strip()
        for block in _fenced(DOCS.parent / "README.md", "python")
        for comment in re.findall(r"# (.*)$", block, flags=re.MULTILINE)
        if re.match(r"(Prints:)?\s*(\d|Session)", comment)
    ]
    assert shown, "the README shows no printed line"
    for line in shown:
        assert line in printed
    assert (tmp_path / "c-1.json").is_file()
