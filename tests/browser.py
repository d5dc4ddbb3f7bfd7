"""Print the HTML handout to PDF with a real browser, and read the PDF back.

Debian's Chromium prints headless; poppler's ``pdfinfo`` and ``pdftotext`` count the pages
and extract the text. Page counts depend on the fonts: CI installs DejaVu
(``fonts-dejavu-core``), which the handout's font list falls back to where Arial and
Liberation Sans are missing. The layout is set by fixed heights in millimetres, so a
narrower font does not change where pages break.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NoReturn

import attrs
import pytest

INSTALL = (
    "`.ci/install-browser` (as root), or `apt-get install chromium poppler-utils fonts-dejavu-core`"
)
TIMEOUT_SECONDS = 90
# Without the background-networking switches Chromium reaches for the network at start-up
# (component updates, sync, QUIC probes); the CI network is closed, and a test must not
# depend on it anyway.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
    # Console messages (script errors, blocked loads) go to stderr as "...:CONSOLE...".
    "--enable-logging=stderr",
    "--v=0",
)
PAPER = {"A4": "A4", "letter": "letter"}


@attrs.frozen
class PrintedPage:
    """What the browser printed: page count, text per page, and its console messages."""

    pages: int
    page_size: str
    texts: tuple[str, ...]
    console: tuple[str, ...]

    @property
    def text(self) -> str:
        """All pages' text, whitespace collapsed to single spaces."""
        return " ".join(" ".join(page.split()) for page in self.texts)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _unavailable(missing: str) -> NoReturn:
    # Locally a missing browser is a skip; in CI it must not silently pass.
    if _in_ci():
        pytest.fail(
            f"{missing}, and CI is set, so this is a failure rather than a skip. "
            "`.ci/run` installs them with `.ci/install-browser`.",
            pytrace=False,
        )
    pytest.skip(f"{missing}; install with {INSTALL}")


@functools.cache
def _problem() -> str | None:
    for tool, package in (
        ("chromium", "chromium"),
        ("pdfinfo", "poppler-utils"),
        ("pdftotext", "poppler-utils"),
    ):
        if shutil.which(tool) is None:
            return f"the handout print test needs `{tool}` (apt package {package}) on PATH"
    return None


def require_browser() -> None:
    """Skip the test (fail it under CI=true) unless Chromium and poppler can run."""
    problem = _problem()
    if problem is not None:
        _unavailable(problem)


def print_to_pdf(page: str, paper: str) -> PrintedPage:
    """Print ``page`` (an HTML document) on ``paper`` ("A4" or "letter") and read it back.

    The paper is chosen the way a clinic's print dialog would: an ``@page { size }`` rule
    added after the page's own styles, which set only the margins.
    """
    require_browser()
    size = PAPER[paper]
    marked = page.replace("</head>", f"<style>@page {{ size: {size}; }}</style>\n</head>", 1)
    assert marked != page, "the page has no </head>"
    with tempfile.TemporaryDirectory(prefix="tms-handout-") as scratch:
        folder = Path(scratch)
        source = folder / "handout.html"
        source.write_text(marked, encoding="utf-8")
        pdf = folder / "handout.pdf"
        result = subprocess.run(
            [
                "chromium",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={folder / 'profile'}",
                f"--print-to-pdf={pdf}",
                source.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "HOME": scratch},
        )
        if result.returncode != 0 or not pdf.is_file():
            raise AssertionError(
                f"chromium could not print the page (exit {result.returncode}): "
                f"{result.stderr.strip()[-2000:]}"
            )
        info = _run(["pdfinfo", str(pdf)])
        text = _run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"])
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)[1])  # type: ignore[index]
    page_size = re.search(r"^Page size:\s+(.*)$", info, re.MULTILINE)[1]  # type: ignore[index]
    # pdftotext ends every page with a form feed.
    texts = tuple(text.split("\f")[:pages])
    console = tuple(line for line in result.stderr.splitlines() if ":CONSOLE" in line)
    return PrintedPage(pages, page_size.strip(), texts, console)


def _run(command: list[str]) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout
