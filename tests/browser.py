"""Print the HTML handout to PDF with a real browser and read the PDF back; lay it out on a
screen of a given width and look for overflowing boxes and broken words.

Debian's Chromium prints headless; poppler's ``pdfinfo`` and ``pdftotext`` count the pages
and extract the text. Page counts depend on the fonts: CI installs DejaVu
(``fonts-dejavu-core``), which the handout's font list falls back to where Arial and
Liberation Sans are missing. The layout is set by fixed heights in millimetres, so a
narrower font does not change where pages break.
"""

from __future__ import annotations

import functools
import html
import json
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
        pdf = Path(scratch) / "handout.pdf"
        result = _chromium(marked, Path(scratch), f"--print-to-pdf={pdf}")
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


def _chromium(page: str, folder: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` (written into ``folder``, which also holds the browser's profile)."""
    source = folder / "handout.html"
    source.write_text(page, encoding="utf-8")
    return subprocess.run(
        [
            "chromium",
            *CHROMIUM_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            *flags,
            source.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
        env={**os.environ, "HOME": str(folder)},
    )


def _run(command: list[str]) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


# -- a screen of a given width -----------------------------------------------------------------

# Run in the page once it has loaded; leaves its findings as JSON in <pre id="layout-report">.
# Words are runs of non-space characters, followed across element boundaries within a line
# (not across a <br> or from one block to the next): one that lies on two lines was broken
# inside. A box is too narrow when its content is wider than it (scrollWidth), or when a
# word sticks out of the block that holds it.
_LAYOUT_SCRIPT = r"""
window.addEventListener("load", () => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    problems.push(`the page is ${root.scrollWidth}px wide in a ${window.innerWidth}px window`);
  }
  const describe = (el) =>
    `<${el.tagName.toLowerCase()}${el.className ? ` class="${el.className}"` : ""}>` +
    ` "${el.textContent.trim().replace(/\s+/g, " ").slice(0, 50)}"`;
  // The box that lays a text out in lines: the nearest ancestor that is not inline.
  const blockOf = (node) => {
    let el = node.parentElement;
    while (el && ["inline", "contents"].includes(getComputedStyle(el).display)) {
      el = el.parentElement;
    }
    return el;
  };
  for (const el of document.body.querySelectorAll("*")) {
    // The shapes and text inside an <svg> have no CSS box (Chromium gives their clientWidth
    // in the picture's units and their scrollWidth in pixels): the <svg> itself is checked
    // as a box, and its text character by character below.
    if (el instanceof SVGElement && !(el instanceof SVGSVGElement)) continue;
    const display = getComputedStyle(el).display;
    if (display === "none" || display.startsWith("inline") && display !== "inline-block") continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)}: content ${el.scrollWidth}px wide in ${el.clientWidth}px`);
    }
  }
  // Every visible character of the page, in order, with its line box and block.
  const chars = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const block = blockOf(node);
    for (let i = 0; i < node.data.length; i++) {
      const ch = node.data[i];
      if (/\s/.test(ch)) {
        // A space ends a word even where it takes no room (at the end of a line).
        chars.push({ node, i, ch, rect: null, block });
        continue;
      }
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rects = [...range.getClientRects()].filter((r) => r.width > 0 || r.height > 0);
      if (!rects.length) continue; // not shown
      chars.push({ node, i, ch, rect: rects[0], block });
    }
  }
  let words = 0;
  let word = "";
  let reported = false;
  for (let k = 0; k < chars.length; k++) {
    const c = chars[k];
    const prev = chars[k - 1];
    if (c.rect === null) {
      word = "";
      continue;
    }
    const box = c.block.getBoundingClientRect();
    if (c.rect.right > box.right + 0.5 || c.rect.left < box.left - 0.5) {
      problems.push(`${describe(c.block)}: "${c.ch}" sticks out of its box`);
    }
    let joined = prev && prev.rect !== null && prev.block === c.block;
    if (joined && prev.node !== c.node) {
      range.setStart(prev.node, prev.i + 1);
      range.setEnd(c.node, c.i);
      joined = !range.cloneContents().querySelector("br");
    }
    if (!joined) {
      words += 1;
      word = c.ch;
      reported = false;
      continue;
    }
    word += c.ch;
    if (Math.abs(c.rect.top - prev.rect.top) > prev.rect.height / 2 && !reported) {
      problems.push(`${describe(c.block)}: a word broken across lines at "${word}"`);
      reported = true; // once a word
    }
  }
  const report = window.parent.document.createElement("pre");
  report.id = "layout-report";
  report.textContent = JSON.stringify({ width: window.innerWidth, words, problems });
  // The frame's page writes its report into the page that holds the frame.
  window.parent.document.body.append(report);
});
"""


@attrs.frozen
class LayoutReport:
    """What the layout check found on a screen of ``width`` CSS pixels."""

    width: int
    words: int
    problems: tuple[str, ...]


def check_layout(page: str, width: int, height: int = 900) -> LayoutReport:
    """Lay ``page`` out in a window ``width`` pixels wide and look for text that overflows its
    box or a word broken inside.

    The page forbids scripts (its Content-Security-Policy), so the copy checked here has the
    policy taken out and the checking script added; nothing else changes.
    """
    require_browser()
    policy = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', page)
    assert policy, "the page has no Content-Security-Policy"
    checked = page.replace(policy[0], "", 1).replace(
        "</body>", f"<script>{_LAYOUT_SCRIPT}</script>\n</body>", 1
    )
    assert "<script>" in checked, "the page has no </body>"
    # A headless window is at least 500 pixels wide; a frame can be as narrow as a phone.
    frame = (
        "<!DOCTYPE html><html><body style='margin:0'>"
        f'<iframe style="width:{width}px;height:{height}px;border:0"'
        f' srcdoc="{html.escape(checked, quote=True)}"></iframe></body></html>'
    )
    with tempfile.TemporaryDirectory(prefix="tms-handout-") as scratch:
        window = f"--window-size={max(width, 500) + 100},{height + 100}"
        result = _chromium(frame, Path(scratch), window, "--hide-scrollbars", "--dump-dom")
    found = re.search(r'<pre id="layout-report">(.*?)</pre>', result.stdout, re.DOTALL)
    if result.returncode != 0 or found is None:
        raise AssertionError(
            f"chromium could not lay the page out (exit {result.returncode}): "
            f"{result.stderr.strip()[-2000:]}"
        )
    report = json.loads(html.unescape(found[1]))
    return LayoutReport(report["width"], report["words"], tuple(report["problems"]))
