"""Look at a report the way a planner's browser does: headless Chromium through Playwright.

Used by the browser tests and by ``tools/screenshot.py``; needs the system's Chromium (Debian
package ``chromium``) and the ``playwright`` Python package (the ``test`` extra) — Playwright's
own browser download is not used.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

#: Flags for a root user on a machine with no network: no sandbox, no background connections.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def find_chromium() -> str | None:
    """Path of the system's Chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def open_page(browser: Any, path: Path, width: int = 1280, height: int = 900) -> tuple[Any, list[str]]:
    """Load the file ``path`` in a new page of a Playwright ``browser``; return the page and what
    went wrong: console errors and warnings, page errors, failed requests and any request for
    something other than the file itself or a ``data:`` URL (which is blocked)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    own = Path(path).resolve().as_uri()

    def guard(route: Any) -> Any:
        url = route.request.url
        if url.startswith("data:") or url == own:
            return route.continue_()
        problems.append(f"request leaving the page: {url}")
        return route.abort()

    page.route("**/*", guard)
    page.goto(own, wait_until="load")
    page.evaluate("document.fonts.ready")
    return page, problems
