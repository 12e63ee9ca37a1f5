"""Planner reports (report.html, report.md) and plan comparison, on hand-solved plans.

The three towns of ``line_scenario`` (km 0, 10, 20; 10 t each; 1 yuan per t.km) get Chinese
names and coordinates.  With plants at 150 yuan/yr the optimum is one plant in the middle
(150 + 2 x 100 = 350); at 40 yuan/yr every town builds its own (120).
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from fontTools.ttLib import TTFont

import qzopt
from qzopt.errors import QzoptError
from qzopt.report.compare import jurisdiction_changes, key_figures, load_runs, site_changes
from qzopt.report.html import render_html

from conftest import line_scenario

NAMES = {"A": "南明区", "B": "Wudang 乌当区", "C": "龙里县"}


def towns(fixed: float, name: str = "三镇 three towns") -> qzopt.Scenario:
    sc = line_scenario(fixed=fixed)
    lon = {"A": 106.70, "B": 106.80, "C": 106.90}
    j = pd.DataFrame({"name": [NAMES[k] for k in "ABC"], "group": "guiyang", "lat": 26.5,
                      "lon": [lon[k] for k in "ABC"]}, index=pd.Index(list("ABC"), name="id"))
    d = sc.demands.assign(lat=26.5, lon=[lon[k] for k in "ABC"])
    s = sc.sites.assign(lat=26.52, lon=[lon[k] for k in "ABC"])
    return sc.replace(jurisdictions=j, demands=d, sites=s, name=name)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    one = qzopt.solve(towns(150.0), isolate=False)
    three = qzopt.solve(towns(40.0), isolate=False)
    assert one.objective == pytest.approx(350) and three.objective == pytest.approx(120)
    return one.write(root / "one-plant"), three.write(root / "three-plants")


def embedded_font_chars(page: str) -> set[str]:
    data = re.search(r"url\(data:font/ttf;base64,([A-Za-z0-9+/=]+)\)", page).group(1)
    return {chr(c) for c in TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()}


def test_report_html_is_self_contained_with_map_tables_and_cjk_font(two_runs):
    page = (two_runs[0] / "report.html").read_text(encoding="utf-8")
    # offline: no scripts, no links or sources outside the page
    assert "<script" not in page and not re.search(r"(src|href)=\"(?!data:|#)", page)
    assert re.search(r'<img id="map" src="data:image/png;base64,', page)
    for table in ("facts", "sites-table", "jurisdictions-table", "assignments-table"):
        assert f'id="{table}"' in page
    # the facts every report states
    for fact in ("Status", "Solver", "Optimality gap", "Solve time (s)", "Total cost (yuan/yr)"):
        assert f"<th>{fact}</th>" in page
    assert "<td>350</td>" in page  # total cost and the one open site's cost
    # every CJK character on the page is in the embedded font subset (no tofu)
    cjk = {c for c in re.sub(r"data:[^\"')]+", "", page) if ord(c) >= 0x2E80}
    assert set("南明区乌当龙里县三镇") <= cjk
    assert cjk <= embedded_font_chars(page)


def test_report_command_rebuilds_the_page_from_the_result_directory(two_runs, tmp_path):
    out = tmp_path / "again.html"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "report", str(two_runs[0]), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert 'id="map"' in page and "南明区" in page
    bad = subprocess.run([sys.executable, "-m", "qzopt.cli", "report", str(tmp_path / "nowhere")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "not found" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "qzopt.cli", "report", str(two_runs[0]), "--sharing", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no sharing.json" in bad.stderr


def test_report_adds_sharing_and_frontier_sections_when_given(two_runs):
    res = qzopt.Result.read(two_runs[0])
    sharing = {"players_by": "jurisdiction", "coalition_count": 7, "grand_coalition_cost_per_yr": 350.0,
               "least_core_epsilon": -10.0,
               "allocations": [{"player": p, "shapley": v} for p, v in (("A", 130.0), ("B", 90.0), ("C", 130.0))],
               "tables": {"shapley": [{"player": p, "stand_alone_cost_per_yr": 150.0, "saving_pct": s}
                                      for p, s in (("A", 13.3), ("B", 40.0), ("C", 13.3))]},
               "core_violations": {"shapley": []}}
    frontier = pd.DataFrame({"point": ["unconstrained", "capped"], "fee_cap": [None, 20.0], "fee": [11.7, 11.7],
                             "total_cost_per_yr": [350.0, 350.0], "price_of_equalization_per_yr": [0.0, 0.0],
                             "sites": ["s2", "s2"]})
    page = render_html(res, frontier=frontier, sharing=sharing)
    assert 'id="sharing-chart"' in page and 'id="frontier-chart"' in page
    assert "shapley: in the core" in page and "<td>130</td>" in page


def test_compare_key_figures_sites_and_winners(two_runs):
    runs = load_runs(list(two_runs))
    kf = key_figures(runs).set_index("figure")
    assert list(kf.loc["total cost (yuan/yr)"]) == ["350", "120"]
    assert kf.loc["change against one-plant (yuan/yr)", "three-plants"] == "-230 (-65.71 %)"
    assert list(kf.loc["sites opened"]) == ["1", "3"]
    assert list(kf.loc["max distance (km)"]) == ["10", "0"]
    sites = site_changes(runs).set_index("site")
    assert sites.loc["s1", "change (three-plants)"] == "opened in three-plants"
    assert sites.loc["s2", "change (three-plants)"] == ""
    j = jurisdiction_changes(runs).set_index("jurisdiction")
    # one plant: A and C pay 50 of the plant + 100 haul for 10 t (15/t), B pays 50 (5/t); alone: 4/t
    assert list(j["one-plant: cost per unit (yuan)"]) == ["15", "5", "15"]
    assert list(j["change (three-plants, yuan)"]) == ["-11", "-1", "-11"]
    assert set(j["verdict (three-plants)"]) == {"gains"}
    assert j.loc["B", "name"] == "Wudang 乌当区"


def test_compare_command_writes_html_and_markdown(two_runs, tmp_path):
    out = tmp_path / "cmp" / "compare.html"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "compare", *map(str, two_runs), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    assert page.count('class="map" src="data:image/png;base64,') == 2
    assert 'id="key-figures"' in page and 'id="site-changes"' in page and 'id="jurisdiction-changes"' in page
    text = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert text.startswith("# Comparison of siting plans") and "| s3 | C |  | std | opened in three-plants |" in text


def test_compare_refuses_other_sectors_and_regions(two_runs, tmp_path):
    doc = json.loads((two_runs[0] / "result.json").read_text(encoding="utf-8"))
    other = tmp_path / "sewage"
    other.mkdir()
    (other / "result.json").write_text(json.dumps({**doc, "sector": "sewage"}), encoding="utf-8")
    with pytest.raises(QzoptError, match="different sectors"):
        load_runs([two_runs[0], other])
    far = tmp_path / "elsewhere"
    far.mkdir()
    moved = [{**r, "jurisdiction": "X" + r["jurisdiction"]} for r in doc["jurisdictions"]]
    (far / "result.json").write_text(json.dumps({**doc, "jurisdictions": moved}), encoding="utf-8")
    with pytest.raises(QzoptError, match="different regions: 3 and 3 jurisdictions, 0 in common"):
        load_runs([two_runs[0], far])
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "compare", str(two_runs[0]), str(far)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "different regions" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(QzoptError, match="at least two"):
        load_runs([two_runs[0]])


def test_report_of_an_infeasible_scenario_without_coordinates_says_why(tmp_path):
    # capacity 3 x 5 t < 30 t of demand: no plan, and the line scenario has no coordinates
    res = qzopt.solve(line_scenario(capacity=5.0), isolate=False)
    assert res.status == "infeasible"
    page = (res.write(tmp_path) / "report.html").read_text(encoding="utf-8")
    assert "Why no plan exists" in page and "smaller than the demand that must be served, 30 t" in page
    assert "no coordinates, so there is no map" in page and 'id="map"' not in page
