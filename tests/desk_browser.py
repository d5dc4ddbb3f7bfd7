"""The desk in a real browser: the system's Chromium driven by Playwright, against a desk
served by waitress on 127.0.0.1 in the test's own process (its clock the test's).

Playwright's own browser download is not used (CI cannot reach it): Chromium is Debian's
(``.ci/install-browser``). Missing Chromium or Playwright skips the test locally and fails
it under ``CI=true``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from browser import CHROMIUM_FLAGS, INSTALL
from desk_cases import PASSWORD, Clock, make_book
from tms_schedule.delivery.feed import FeedKey
from tms_schedule.delivery.server import FeedApp
from tms_schedule.delivery.sources import BookSource
from tms_schedule.desk.app import create_app
from tms_schedule.desk.port import DeskBook
from tms_schedule.desk.server import Dispatcher

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "parsers" / "node_modules" / "axe-core" / "axe.min.js"
SECRET = b"a clinic feed secret, 32+ bytes long, for the tests"
#: Where the documentation's screenshots go when TMS_SCHEDULE_SCREENSHOTS=1.
DOCS_SHOTS = Path(__file__).parent.parent / "docs" / "desk"
# Playwright passes --headless itself; the rest are the flags this project always gives.
FLAGS = [f for f in CHROMIUM_FLAGS if f not in ("--headless", "--no-pdf-header-footer")]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(missing: str) -> None:
    if _in_ci():
        pytest.fail(f"{missing}, and CI is set: a failure, not a skip", pytrace=False)
    pytest.skip(f"{missing}; install with {INSTALL} and pip install '.[test]'")


def launch() -> Iterator[Any]:
    """A Chromium that Playwright drives (skipped or failed when there is none)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the browser tests need the playwright package")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        unavailable(f"the browser tests need Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@attrs.define
class Running:
    """A desk served on 127.0.0.1, and what the test reaches into."""

    base: str
    book: DeskBook
    clock: Clock
    folder: Path
    server: Any
    console: list[str] = attrs.field(factory=list)

    @property
    def problems(self) -> list[str]:
        """What the browser complained of: script errors, blocked loads, Content-Security-
        Policy violations; a refusal the test asked for (409, 422) is no problem."""
        expected = re.compile(r"Failed to load resource: .* status of (409|422)")
        return [m for m in self.console if not expected.search(m)]

    def page(self, browser: Any, width: int, user: str | None = "ana", **options: Any) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True, **options
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"error: {e}"))
        if user is not None:
            sign_in(page, self.base, user)
        return page


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/sign-in")
    page.get_by_label("Name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def serve(folder: Path, clock: Clock, *, poll: int = 5) -> Iterator[Running]:
    """The desk and the feeds, on a free port, until the test ends."""
    import waitress.server

    path = make_book(folder)
    book = DeskBook(path)
    key = FeedKey(SECRET)
    source = BookSource(path)
    hosts: set[str] = set()
    # The tests move the clock by hours at a time: no idle sign-out in between.
    app = create_app(
        book,
        clock=clock,
        hosts=hosts,
        poll=poll,
        feed_token=key.token,
        idle=dt.timedelta(days=2),
    )
    feeds = FeedApp(source, key, clock=lambda: dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    server = waitress.server.create_server(
        Dispatcher(app, feeds), host="127.0.0.1", port=0, threads=4
    )
    port = server.effective_port
    hosts.add(f"127.0.0.1:{port}")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Running(f"http://127.0.0.1:{port}", book, clock, folder, server)
    finally:
        server.close()
        thread.join(timeout=10)
        source.close()
        book.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.is_file():
        unavailable("axe-core is not installed in tests/parsers/node_modules (npm ci there)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("async () => JSON.stringify((await axe.run()).violations)")
    return [v for v in json.loads(found) if v["impact"] in ("serious", "critical")]


def shot(page: Any, name: str, folder: Path, *, full: bool = False) -> Path:
    """A screenshot: into the documentation when TMS_SCHEDULE_SCREENSHOTS=1, else the test's
    folder (looked at by whoever runs it)."""
    target = DOCS_SHOTS if os.environ.get("TMS_SCHEDULE_SCREENSHOTS") == "1" else folder
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path
