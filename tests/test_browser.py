"""report.html and compare.html in a real headless Chromium (Debian's ``chromium`` package;
``.ci/run`` installs it when missing).

Checks what a planner would see: the map image decoded and drawn, every table present with rows,
the CJK font loaded for Chinese names, no console errors, no page errors, no request leaving the
page.  Full-page screenshots are saved as test artefacts in ``test-artifacts/`` (or
``$QZOPT_ARTIFACTS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qzopt.report.browser import FLAGS, find_chromium, open_page

from conftest import ROOT, SCENARIOS

CHROMIUM = find_chromium()
ARTIFACTS = Path(os.environ.get("QZOPT_ARTIFACTS", ROOT / "test-artifacts"))

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found: apt-get install chromium "
                                                         "(.ci/run does this)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def image_drawn(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 300 && img.naturalHeight > 200"
                                           " && img.getBoundingClientRect().width > 300")


def table_rows(page, selector: str) -> int:
    return page.eval_on_selector(selector, "t => t.tBodies.length ? t.tBodies[0].rows.length : t.rows.length")


def units_with_demand() -> int:
    """Jurisdictions of the bundled Qianzhong MSW scenario that have demand (one table row each)."""
    import qzopt

    return qzopt.load_scenario(SCENARIOS / "qianzhong-msw.yaml").demands["jurisdiction"].nunique()


@pytest.fixture(scope="module")
def qianzhong_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("qianzhong") / "qianzhong-msw"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(SCENARIOS / "qianzhong-msw.yaml"), "-o",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def test_qianzhong_report_renders_in_chromium(browser, qianzhong_run):
    page, problems = open_page(browser, qianzhong_run / "report.html")
    assert image_drawn(page, "img#map")
    assert image_drawn(page, "img#cost-chart") and image_drawn(page, "img#utilisation-chart")
    assert page.eval_on_selector("#facts", "t => t.rows.length") >= 7
    assert table_rows(page, "#sites-table") >= 1
    assert table_rows(page, "#jurisdictions-table") == units_with_demand()
    assert table_rows(page, "#assignments-table") >= 33
    # Chinese names are drawn with the embedded font (it holds every glyph: no tofu)
    assert "南明区" in page.inner_text("#jurisdictions-table")
    assert page.evaluate("document.fonts.check('14px \"Qzopt Sans CJK\"', '南明区贵阳')")
    assert page.evaluate("[...document.fonts].some(f => f.family.includes('Qzopt Sans CJK') && f.status == 'loaded')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-qianzhong-msw.png"), full_page=True)
    assert problems == []


def test_compare_renders_in_chromium(browser, qianzhong_run, tmp_path):
    other = tmp_path / "qianzhong-msw-adjacent"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(SCENARIOS / "qianzhong-msw.yaml"),
                           "--set", "constraints.cross_border=adjacent", "--no-html", "-o", str(other)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "compare.html"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "compare", str(qianzhong_run), str(other), "-o",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page, problems = open_page(browser, out)
    assert page.eval_on_selector_all("img.map", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 300)"
                                                ".length") == 2
    assert table_rows(page, "#key-figures") >= 10
    assert table_rows(page, "#site-changes") >= 1
    assert table_rows(page, "#jurisdiction-changes") == units_with_demand()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compare-qianzhong-msw.png"), full_page=True)
    assert problems == []
