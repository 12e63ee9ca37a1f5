"""Every ```python block in README.md and docs/*.md runs (from the project root)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks():
    for path in DOCS:
        for k, match in enumerate(BLOCK.finditer(path.read_text(encoding="utf-8"))):
            yield pytest.param(match.group(1), id=f"{path.relative_to(ROOT)}#{k}")


@pytest.mark.parametrize("code", list(blocks()))
def test_python_block_runs(code, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_kept_sharing_pages_have_the_headers_qzopt_share_writes_now():
    # docs/results kept the raw field names (stand_alone_cost_per_yr, fee_per_unit) for months after
    # sharing.md got headers with units: a kept page must be written again when the headers change
    from qzopt.sharing.share import share

    from conftest import line_scenario

    fresh = share(line_scenario(), by="jurisdiction", territory="all", progress=False).to_markdown()
    header = next(line for line in fresh.splitlines() if line.startswith("| player | stand-alone"))
    pages = sorted((ROOT / "docs" / "results").glob("*-sharing.md"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert text.startswith("# Cost sharing") and "Computed by qzopt" in text, page
        rows = [line for line in text.splitlines() if line.startswith("| player | stand-alone")]
        assert rows and all(re.sub(r"\(yuan/\w+\) \|$", "", r) == re.sub(r"\(yuan/\w+\) \|$", "", header)
                            for r in rows), page


def test_ci_runs_the_readmes_test_command():
    """CI (.ci/run) runs exactly the test command a newcomer types: the README's second set-up line."""
    setup = re.search(r"^```bash\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)
    install, test = setup.group(1).splitlines()
    assert "qzopt solve scenarios/" in install and test.endswith("-m pytest -q -n auto")
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if "pytest" in line]
    assert ci == [test]
