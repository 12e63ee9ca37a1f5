"""Screenshot a report or comparison page in headless Chromium (full page by default).

    python tools/screenshot.py out/qianzhong-wte/report.html docs/img/report.png [--clip-height 1800]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from qzopt.report.browser import FLAGS, find_chromium, open_page


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("html")
    p.add_argument("png")
    p.add_argument("--clip-height", type=int, help="keep only the top N pixels")
    args = p.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=FLAGS)
        page, problems = open_page(browser, Path(args.html))
        if args.clip_height:
            page.screenshot(path=args.png, clip={"x": 0, "y": 0, "width": 1280, "height": args.clip_height})
        else:
            page.screenshot(path=args.png, full_page=True)
        browser.close()
    print(f"wrote {args.png}" + (f"; page problems: {problems}" if problems else "; the page logged no errors"))


if __name__ == "__main__":
    main()
