"""A real browser for console tests: Debian's chromium driven by Playwright (no browser download, ever).

`chromium()` launches /usr/bin/chromium headless; `axe_violations(page)` runs axe-core (vendored from the
npm package axe-core in tests/support/vendor, with its licence) and returns the serious and critical ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.support.require import require

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"

__all__ = ["AXE", "axe_violations", "chromium", "signed_in"]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    require(CHROMIUM.exists(), "chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe on the page (its context must bypass CSP, which forbids injected scripts)."""
    page.add_script_tag(content=AXE.read_text())  # `path=` would leave a thread in Playwright's loop
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@contextlib.contextmanager
def signed_in(browser: Any, url: str, name: str, password: str, *, lang: str = "zh", **ctx: Any) -> Iterator[Any]:
    """A page of a new browser context, signed in to the console at `url` in `lang` (`ctx`: the context's
    options, e.g. ``bypass_csp=True`` for axe); the context is closed afterwards."""
    context = browser.new_context(**ctx)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}/lang/{lang}?next=/login")
        page.fill("#name", name)
        page.fill("#password", password)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{url}/alarms")
        yield page
    finally:
        context.close()
