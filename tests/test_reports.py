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
from pathlib import Path

import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from markupsafe import escape

import qzopt
from qzopt.errors import QzoptError
from qzopt.report.compare import jurisdiction_changes, key_figures, load_runs, site_changes
from qzopt.report.files import read_frontier, read_result, write_report
from qzopt.report.html import render_html
from qzopt.report.markdown import num, render_markdown
from qzopt.scenario.scenario import FeeRules

from conftest import ROOT, line_scenario

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


def test_the_same_result_gives_the_same_report_bytes(two_runs, tmp_path):
    """The embedded font subset carried the time it was made (fontTools stamps 'head' on save), so
    two reports of one result differed; it now keeps the shipped font's date."""
    from qzopt.report.fonts import FONT_PATH

    pages = []
    for k in range(2):
        write_report(two_runs[0], output=tmp_path / f"r{k}.html")
        pages.append((tmp_path / f"r{k}.html").read_bytes())
    assert pages[0] == pages[1]
    data = re.search(rb"url\(data:font/ttf;base64,([A-Za-z0-9+/=]+)\)", pages[0]).group(1)
    with TTFont(FONT_PATH, lazy=True) as shipped:
        assert TTFont(io.BytesIO(base64.b64decode(data)))["head"].modified == shipped["head"].modified


def test_charts_leave_the_callers_matplotlib_backend_and_pyplot_alone():
    """An analyst's notebook keeps its backend after qzopt draws (charts used to switch it to Agg
    and go through pyplot, whose list of open figures they then had to close)."""
    code = ("import sys, matplotlib; matplotlib.use('svg'); import qzopt.report.charts as ch; "
            "fig, ax = ch.new_figure(); ax.plot([0, 1], [1, 0]); png = ch.png(fig); "
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules, png[:8] == b'\\x89PNG\\r\\n\\x1a\\n')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["svg", "False", "True"]


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
    assert list(kf.loc["max distance, demand point to first site (km)"]) == ["10", "0"]
    sites = site_changes(runs).set_index("site")
    assert sites.loc["s1", "change (three-plants)"] == "opened in three-plants"
    assert sites.loc["s2", "change (three-plants)"] == ""
    j = jurisdiction_changes(runs).set_index("jurisdiction")
    # one plant: A and C pay 50 of the plant + 100 haul for 10 t (15/t), B pays 50 (5/t); alone: 4/t
    assert list(j["one-plant: cost per unit (yuan/t)"]) == ["15", "5", "15"]
    assert list(j["change (three-plants, yuan/t)"]) == ["-11", "-1", "-11"]
    assert set(j["verdict (three-plants)"]) == {"gains"}
    assert j.loc["B", "name"] == "Wudang 乌当区"


def test_compare_shows_a_change_as_0_exactly_where_the_verdict_is_same(two_runs):
    import copy

    runs = load_runs([two_runs[0], two_runs[0]])
    again = pd.DataFrame(copy.deepcopy(runs[0].result.extra["jurisdictions"]))
    # A pays 15 yuan/t in the base: +2e-5 is above the verdict's tolerance (1e-6 x 16), +1e-6 on B's 5 is not
    again["cost_per_unit"] = again["cost_per_unit"] + again["jurisdiction"].map({"A": 2e-5, "B": 1e-6, "C": -3e-4})
    runs[1].result.extra["jurisdictions"] = again.to_dict("records")
    j = jurisdiction_changes(runs).set_index("jurisdiction")
    label = runs[1].label
    assert list(j[f"verdict ({label})"]) == ["loses", "same", "gains"]
    assert list(j[f"change ({label}, yuan/t)"]) == ["+2e-05", "0", "-0.0003"]


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


# ----------------------------------------------------------------- review defects
def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qzopt.cli", *map(str, args)], capture_output=True, text=True)


def md_tables(text: str) -> dict[str, pd.DataFrame]:
    """Every Markdown table of ``text`` under the heading above it (cells as text)."""
    out, heading, rows = {}, None, []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        if rows:
            out.setdefault(heading, pd.DataFrame(rows[2:], columns=rows[0]))
            rows = []
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
    return out


def number(cell: str) -> float:
    return float(cell.replace(",", "").replace(" %", ""))


def sharing_doc(scenario: str, **changes) -> dict:
    """A sharing.json as `qzopt share` writes it when every town alone is infeasible (stand-alone
    costs null, savings null, no least core)."""
    doc = {"scenario": scenario, "players_by": "jurisdiction", "territory": "own", "players": list("ABC"),
           "grand_coalition_cost_per_yr": 350.0, "coalition_count": 7, "least_core_epsilon": None,
           "core_empty": None, "money_unit": "yuan", "demand_unit": "t/d",
           "allocations": [{"player": p, "proportional": 350 / 3} for p in "ABC"],
           "tables": {"proportional": [{"player": p, "stand_alone_cost_per_yr": None, "allocated_cost_per_yr": 350 / 3,
                                        "saving_per_yr": None, "saving_pct": None} for p in "ABC"]},
           "core_violations": {"proportional": [], "shapley": None},
           "coalitions": [{"players": [p], "cost": None, "status": "infeasible"} for p in "ABC"],
           "notes": ["3 coalition(s) could not serve themselves"]}
    doc.update(changes)
    return doc


def test_sharing_with_infeasible_stand_alone_costs_is_rendered_not_a_crash(two_runs, tmp_path):
    res = qzopt.Result.read(two_runs[0])
    for alone in (None, float("inf"), float("nan")):
        doc = sharing_doc(res.scenario)
        for row in doc["tables"]["proportional"]:
            row["stand_alone_cost_per_yr"] = alone
        page, text = render_html(res, sharing=doc), render_markdown(res, sharing=doc)
        assert page.count("<td class=\"text\">infeasible alone</td>") == 3
        table = md_tables(text)["Cost sharing"]
        assert list(table["alone (yuan/yr)"]) == ["infeasible alone"] * 3
        assert "proportional: in the core" in text and "shapley: core not tested" in text
    # as qzopt share writes it: null costs in sharing.json, through the command
    (tmp_path / "sharing.json").write_text(json.dumps(sharing_doc(res.scenario)), encoding="utf-8")
    proc = cli("report", two_runs[0], "--sharing", tmp_path, "-o", tmp_path / "rep.html")
    assert proc.returncode == 0, proc.stderr
    assert "infeasible alone" in (tmp_path / "rep.html").read_text(encoding="utf-8")


def test_a_player_only_the_fee_cap_keeps_from_standing_alone_is_told_apart(two_runs):
    res = qzopt.Result.read(two_runs[0])
    doc = sharing_doc(res.scenario)
    doc["coalitions"][1].update(reason="fee cap: cannot keep one uniform fee within max_fee 80 on its own",
                                cost_without_fees=120.0)  # B could serve itself, not within the cap
    table = md_tables(render_markdown(res, sharing=doc))["Cost sharing"]
    assert list(table["alone (yuan/yr)"]) == ["infeasible alone", "none within the fee cap", "infeasible alone"]
    assert "none within the fee cap: the player could serve itself" in render_html(res, sharing=doc)


@pytest.fixture(scope="module")
def fee_run(tmp_path_factory):
    # cap 6 yuan/t: only the middle plant (150 yuan/yr for 30 t) breaks even, at 5 yuan/t
    sc = towns(150.0)
    res = qzopt.solve(sc.replace(fees=FeeRules(max_fee=6.0)), isolate=False)
    return res.write(tmp_path_factory.mktemp("fee") / "fee-run")


def test_report_md_has_the_fee_and_frontier_tables_of_the_html(fee_run):
    doc = json.loads((fee_run / "result.json").read_text(encoding="utf-8"))
    res = qzopt.Result.read(fee_run)
    frontier = pd.DataFrame({"point": ["no fee rule", "capped"], "fee_cap": [None, 6.0], "fee": [5.0, 5.0],
                             "total_cost_per_yr": [350.0, 350.0], "price_of_equalization_per_yr": [0.0, 0.0],
                             "sites": ["s2", "s2"]})
    text, page = render_markdown(res, frontier=frontier), render_html(res, frontier=frontier)
    tables = md_tables(text)
    fees = tables["Equalised fees"].set_index("")["value"]
    unit = doc["fees"]["fee_unit"]
    assert unit == "yuan/t"  # one spelling: the jurisdictions' cost per unit and every fee column
    assert f"fee ({unit})" in tables["Jurisdictions"].columns and f"cost per unit ({unit})" in tables["Jurisdictions"].columns
    assert number(fees[f"fee ({unit})"]) == pytest.approx(doc["fees"]["fee"], rel=1e-5)
    assert number(fees[f"fee cap ({unit})"]) == pytest.approx(doc["fees"]["max_fee"])
    plants = tables["Plants: annual cost and break-even fee"].set_index("site")
    for plant in doc["fees"]["plants"]:
        assert number(plants.loc[plant["site"], f"break-even fee ({unit})"]) == pytest.approx(plant["break_even_fee"],
                                                                                             rel=1e-4)
    front = tables["Fee frontier"]
    assert [number(v) for v in front["total cost (yuan/yr)"]] == list(frontier["total_cost_per_yr"])
    # the HTML shows the same rows, cell by cell
    cells = re.findall(r"<tr>(.*?)</tr>", page)
    for name in ("Equalised fees", "Plants: annual cost and break-even fee", "Fee frontier"):
        for row in tables[name].itertuples(index=False):
            html_row = "".join(f"<td>{escape(v)}</td>" for v in row)
            assert any(re.sub(r'<td class="[^"]*">', "<td>", c) == html_row for c in cells), (name, row)


def test_report_refuses_add_ons_of_another_scenario(two_runs, tmp_path):
    res = qzopt.Result.read(two_runs[0])
    other = "Qianzhong waste-to-energy plants"
    shared = tmp_path / "sharing"
    shared.mkdir()
    (shared / "sharing.json").write_text(json.dumps(sharing_doc(other)), encoding="utf-8")
    front = tmp_path / "frontier"
    front.mkdir()
    pd.DataFrame({"point": ["capped"], "fee_cap": [6.0], "fee": [5.0], "total_cost_per_yr": [350.0],
                  "price_of_equalization_per_yr": [0.0], "sites": ["s2"]}).to_csv(front / "frontier.csv", index=False)
    (front / "frontier.md").write_text(f"# Fee frontier: {other}\n\nFees in yuan per t.\n", encoding="utf-8")
    for option, folder in (("--sharing", shared), ("--frontier", front)):
        proc = cli("report", two_runs[0], option, folder, "-o", tmp_path / "x.html")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert other in proc.stderr and res.scenario in proc.stderr
        with pytest.raises(QzoptError, match=re.escape(other)):
            write_report(two_runs[0], **{option[2:]: folder}, output=tmp_path / "y")
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "y").exists()


def test_report_refuses_add_ons_of_the_same_name_from_another_sector(two_runs, tmp_path):
    """sharing.json and frontier.md did not say their sector, so an add-on of a WtE scenario named
    like a facility one was taken; `qzopt share` and `qzopt frontier` now write it."""
    res = qzopt.Result.read(two_runs[0])
    shared = tmp_path / "sharing"
    shared.mkdir()
    (shared / "sharing.json").write_text(json.dumps({**sharing_doc(res.scenario), "sector": "wte"}), encoding="utf-8")
    front = tmp_path / "frontier"
    front.mkdir()
    pd.DataFrame({"point": ["capped"], "fee_cap": [6.0], "fee": [5.0], "total_cost_per_yr": [350.0],
                  "price_of_equalization_per_yr": [0.0], "sites": ["s2"]}).to_csv(front / "frontier.csv", index=False)
    (front / "frontier.md").write_text(f"# Fee frontier: {res.scenario}\n\nSector: wte.  Fees in yuan per t.\n",
                                       encoding="utf-8")
    for option, folder in (("sharing", shared), ("frontier", front)):
        with pytest.raises(QzoptError, match=f"of a 'wte' scenario, the result of a '{res.sector}' scenario"):
            write_report(two_runs[0], **{option: folder}, output=tmp_path / "y")


def test_share_and_frontier_write_the_sector_the_report_checks(tmp_path):
    wte4 = ROOT / "scenarios" / "teaching" / "wte-4towns.yaml"
    proc = cli("frontier", wte4, "--points", "2", "--time-limit", "20", "-o", tmp_path / "front")
    assert proc.returncode == 0, proc.stderr
    assert read_frontier(tmp_path / "front").attrs == {"source": str(tmp_path / "front" / "frontier.csv"),
                                                       "scenario": qzopt.load_scenario(wte4).name, "sector": "wte",
                                                       "scenario_digest": qzopt.load_scenario(wte4).digest(fees=False),
                                                       "overrides": "none"}
    sewage3 = ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml"
    proc = cli("share", sewage3, "--method", "proportional", "-o", tmp_path / "share")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "share" / "sharing.json").read_text(encoding="utf-8"))["sector"] == "sewage"


def test_report_refuses_add_ons_of_another_version_of_the_same_scenario(tmp_path):
    """A sharing computed with `--set costs.discount_rate=0.05` was put beside the result of the
    file as it is, in one report, without a word: the name and sector matched.  The scenario's
    digest now tells them apart (a frontier's without the fee rules, which it varies itself)."""
    sewage3 = ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml"
    other = ("--set", "costs.discount_rate=0.05")
    runs = [("solve", "run", ()), ("share", "same-share", ("--method", "proportional")),
            ("share", "other-share", ("--method", "proportional", *other)),
            ("frontier", "same-front", ("--points", "2")), ("frontier", "other-front", ("--points", "2", *other))]
    for command, out, extra in runs:
        proc = cli(command, sewage3, *extra, "-o", tmp_path / out, *(("--cache", tmp_path / "cache")
                                                                   if command == "share" else ()))
        assert proc.returncode == 0, proc.stderr
    proc = cli("report", tmp_path / "run", "--sharing", tmp_path / "same-share", "--frontier", tmp_path / "same-front",
               "-o", tmp_path / "ok.html")
    assert proc.returncode == 0, proc.stderr
    # the files themselves named, not their folders (it said "no sharing.json there")
    proc = cli("report", tmp_path / "run", "--sharing", tmp_path / "same-share" / "sharing.json", "--frontier",
               tmp_path / "same-front" / "frontier.csv", "-o", tmp_path / "ok2.html")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ok2.html").read_text(encoding="utf-8").count('id="frontier-chart"') == 1
    sharing = json.loads((tmp_path / "same-share" / "sharing.json").read_text(encoding="utf-8"))
    assert all("index" not in row for rows in sharing["core_violations"].values() for row in rows)
    for option, folder, what in (("--sharing", "other-share", "cost sharing"), ("--frontier", "other-front",
                                                                                 "fee frontier")):
        proc = cli("report", tmp_path / "run", option, tmp_path / folder, "-o", tmp_path / "bad.html")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert (f"the {what} is of another version of scenario 'Sewage, three towns (teaching)' than the result"
                in proc.stderr), proc.stderr
        assert f"for the {what} costs.discount_rate=0.05; for the result none" in proc.stderr
    assert not (tmp_path / "bad.html").exists()


def test_compare_and_report_output_never_overwrite_one_file_with_the_other(two_runs, tmp_path):
    for output, html, md in (("x.md", "x.html", "x.md"), ("y.html", "y.html", "y.md"), ("dir/", "dir/compare.html",
                                                                                          "dir/compare.md")):
        proc = cli("compare", *two_runs, "-o", tmp_path / output)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / html).read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
        assert (tmp_path / md).read_text(encoding="utf-8").startswith("# Comparison of siting plans")
    existing = tmp_path / "existing"
    existing.mkdir()
    proc = cli("compare", *two_runs, "-o", existing)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in existing.iterdir()} == {"compare.html", "compare.md"}
    report_dir = tmp_path / "report-here"
    report_dir.mkdir()
    written = write_report(two_runs[0], output=report_dir)
    assert {p.name for p in report_dir.iterdir()} == {"report.html", "report.md"}
    assert written.html.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert written.md.read_text(encoding="utf-8").startswith(f"# {qzopt.Result.read(two_runs[0]).scenario}")
    written = write_report(two_runs[0], output=tmp_path / "r.md")
    assert written == (tmp_path / "r.html", tmp_path / "r.md", [])
    assert (tmp_path / "r.html").exists() and (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# ")


def test_a_result_json_that_is_not_a_full_result_is_refused_by_file_and_field(two_runs, tmp_path):
    bad = tmp_path / "partial"
    bad.mkdir()
    (bad / "result.json").write_text(json.dumps({"status": "optimal", "facilities": []}), encoding="utf-8")
    # fields every result.json that qzopt writes has, and this one lacks
    full = json.loads((two_runs[0] / "result.json").read_text(encoding="utf-8"))
    lacking = [f for f in ("scenario", "sector", "objective", "solver", "seconds") if f in full]
    with pytest.raises(QzoptError) as caught:
        read_result(bad)
    assert str(bad / "result.json") in str(caught.value)
    assert all(f in str(caught.value) for f in lacking)
    proc = cli("compare", two_runs[0], bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert str(bad / "result.json") in proc.stderr and all(f in proc.stderr for f in lacking)
    with pytest.raises(QzoptError, match="missing field"):
        write_report(bad)
    # a status without facilities was told "no status or facilities field"
    (bad / "result.json").write_text(json.dumps({"status": "optimal"}), encoding="utf-8")
    with pytest.raises(QzoptError, match=re.escape("not a qzopt result.json (no facilities field)")):
        read_result(bad)
    (bad / "result.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(QzoptError, match=re.escape("not a qzopt result.json (not a JSON object)")):
        read_result(bad)
    # a result.json that cannot be read at all (here a folder) was an IsADirectoryError traceback
    (bad / "result.json").unlink()
    (bad / "result.json").mkdir()
    proc = cli("report", bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{bad / 'result.json'}: cannot be read" in proc.stderr


QUANTITY = re.compile(r"^(load|amount|capacity|demand(?= )|unserved|cost|fee|volume|distance|haul|fixed|variable|"
                      r"transport|service cost|mean distance|cost per unit|annual cost|break-even fee|fee cap)\b")


def test_every_quantity_column_of_report_md_names_its_unit(two_runs, tmp_path):
    doc = json.loads((two_runs[0] / "result.json").read_text(encoding="utf-8"))
    site = {"site": "d1", "jurisdiction": "A", "open": True, "existing": False, "size": "std", "capacity": 5.0,
            "load": 2.0, "utilisation": 0.4, "total_cost_per_yr": 10.0}
    doc["echelons"] = {"sludge": {"facilities": [site], "flows": [
        {"source": "s2", "destination": "d1", "amount": 2.0, "distance": 3.0, "transport_cost_per_yr": 6.0}]},
        "transfer": {"flows": [{"source": "t1", "destination": "s2", "amount": 2.0, "distance": 3.0,
                                "transport_cost_per_yr": 6.0}]}}
    doc["streams"] = {"kitchen": {"facilities": [{**site, "site": "k1"}],
                                  "demands": [{"id": "A:kitchen", "amount": 2.0, "served": 2.0}]}}
    run = tmp_path / "run"
    run.mkdir()
    (run / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    text = render_markdown(qzopt.Result.read(run))
    tables = md_tables(text)
    checked = 0
    for heading, table in tables.items():
        for col in table.columns:
            if QUANTITY.match(col):
                checked += 1
                assert re.search(r"\(.+\)$", col), (heading, col)
    assert checked > 10
    # service cost per unit is money per demand unit: yuan per t for t/d (the run's units)
    assert f"cost per unit ({doc['money_unit']}/{doc['demand_unit'].split('/')[0]})" in tables["Jurisdictions"].columns
    # the kitchen stream is in the run's demand unit, transfer flows go on to the plants in it
    assert f"load ({doc['demand_unit']})" in md_tables(text.split("## Stream: kitchen")[1])[None].columns
    assert f"amount ({doc['demand_unit']})" in md_tables(text.split("## Second echelon: transfer")[1])[None].columns


@pytest.mark.parametrize("money, demand, said", [("yuan", "t/d", "yuan/t"), ("yuan", "m3/h", "yuan/m3"),
                                                  ("yuan", "kg/person/d", "yuan/kg/person"),
                                                  ("yuan", "tonnes", "yuan/tonnes"), ("EUR", "t/yr", "EUR/t")])
def test_money_per_unit_drops_the_demand_period_only(money, demand, said):
    assert qzopt.units.money_per_unit(money, demand) == said
    if demand != "tonnes":  # a unit without a period needs units.per_year
        assert qzopt.Units.for_demand(demand, money=money).fee_unit == said  # the scenario's spelling


def test_every_csv_column_qzopt_writes_has_its_unit_in_the_docs(tmp_path):
    """docs/reports.md lists every CSV column with its unit; a new column must be added there."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    section = doc.split("### The CSV files and their units")[1].split("\n\n", 3)[2]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    teaching = Path(__file__).parents[1] / "scenarios" / "teaching"
    runs = [("solve", str(teaching / f"{s}.yaml")) for s in ("sewage-3towns", "coldchain-3origins", "wte-4towns")]
    runs += [("frontier", str(teaching / "wte-4towns.yaml"), "--points", "2"),
             ("share", str(teaching / "sewage-3towns.yaml"), "--players", "jurisdiction")]
    written = set()
    for k, args in enumerate(runs):
        out = tmp_path / str(k)
        extra = ["--no-html"] if args[0] == "solve" else []
        proc = subprocess.run([sys.executable, "-m", "qzopt.cli", *args, "-o", str(out), "--time-limit", "20",
                               *extra], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        for csv in out.glob("*.csv"):
            written |= set(pd.read_csv(csv, nrows=0).columns)
    assert {"capacity", "distance", "fee_cap", "proportional_cost_per_yr"} <= written  # each kind of file was read
    assert written - documented == set()


# ------------------------------------------------------- second review: reports and compare
TEACHING = Path(__file__).parents[1] / "scenarios" / "teaching"


@pytest.fixture(scope="module")
def teaching_runs(tmp_path_factory):
    """Small runs of the three sectors: sewage with a per-plant fee (trunk sewer, sludge), cold chain
    (peak throughput, cold storage), WtE (kitchen stream, fly ash)."""
    root = tmp_path_factory.mktemp("teaching")
    runs = {"sewage": ("sewage-3towns", "--set", "fees.mode=uniform", "--set", "fees.max_fee=10"),
            "coldchain": ("coldchain-3origins",), "wte": ("wte-4towns",)}
    out = {}
    for key, (name, *extra) in runs.items():
        proc = cli("solve", TEACHING / f"{name}.yaml", *extra, "-o", root / key, "--time-limit", "30", "--no-html")
        assert proc.returncode == 0, proc.stderr
        out[key] = root / key
    return out


def report_of(run) -> tuple[dict, str, str]:
    res = qzopt.Result.read(run)
    return json.loads((run / "result.json").read_text(encoding="utf-8")), render_markdown(res), render_html(res)


def test_open_sites_rows_add_up_and_trunk_sewers_are_listed(teaching_runs):
    doc, text, page = report_of(teaching_runs["sewage"])
    tables = md_tables(text)
    sites = tables["Open sites"].set_index("site")
    parts = [c for c in sites.columns if re.match(r"(fixed|variable|transport|trunk sewer / connection) \(", c)]
    for f in doc["facilities"]:
        if f["open"]:
            assert sum(number(sites.loc[f["site"], c]) for c in parts) == pytest.approx(f["total_cost_per_yr"], abs=3)
    pipes = [a for a in doc["assignments"] if (a.get("connection_cost_per_yr") or 0) > 0]
    assert pipes  # the teaching scenario builds one
    built = tables["Trunk sewers and connections built"]
    assert [(r["from"], r["to"], number(r["cost (yuan/yr)"])) for _, r in built.iterrows()] == \
        [(a["demand"], a["site"], pytest.approx(a["connection_cost_per_yr"], abs=0.5)) for a in pipes]
    assert 'id="connections-table"' in page and "trunk sewer / connection (yuan/yr)" in page


def test_cold_chain_hubs_show_peak_throughput_and_cold_storage(teaching_runs):
    doc, text, page = report_of(teaching_runs["coldchain"])
    facilities = pd.read_csv(teaching_runs["coldchain"] / "facilities.csv").set_index("site")
    sites = md_tables(text)["Open sites"].set_index("site")
    for site in sites.index:
        f = facilities.loc[site]
        assert number(sites.loc[site, "peak throughput"]) == pytest.approx(
            100 * f["peak_throughput_used"] / f["peak_throughput_capacity"], abs=0.05)
        assert number(sites.loc[site, "cold storage"]) == pytest.approx(
            100 * f["cold_storage_used"] / f["cold_storage_capacity"], abs=0.05)
        used, cap = sites.loc[site, "cold storage used / capacity (t)"].split(" / ")
        assert number(cap) == pytest.approx(f["cold_storage_capacity"], rel=1e-3)
    assert "peak throughput used / capacity" in page and "cold storage used / capacity (t)" in page


def test_jurisdiction_shares_are_of_the_total_cost_with_the_kitchen_stream(teaching_runs):
    doc, text, page = report_of(teaching_runs["wte"])
    j = md_tables(text)["Jurisdictions"].set_index("jurisdiction")
    kitchen = {r["jurisdiction"]: r["service_cost_per_yr"] for r in doc["streams"]["kitchen"]["jurisdictions"]}
    total = sum(doc["cost_breakdown"].values())
    for r in doc["jurisdictions"]:
        share = (r["service_cost_per_yr"] + kitchen.get(r["jurisdiction"], 0.0)) / total
        assert number(j.loc[r["jurisdiction"], "share of total cost"]) == pytest.approx(100 * share, abs=0.05)
        assert number(j.loc[r["jurisdiction"], "kitchen stream service cost (yuan/yr)"]) == \
            pytest.approx(kitchen.get(r["jurisdiction"], 0.0), abs=0.5)
    kitchen_total = sum(kitchen.values())
    assert f"kitchen stream {kitchen_total:,.0f}" in text and f"total cost {total:,.0f} yuan/yr" in text
    assert 'id="jurisdictions-note"' in page


def test_the_fee_section_names_the_second_echelon_costs_outside_a_per_plant_fee(teaching_runs):
    doc, text, page = report_of(teaching_runs["sewage"])
    assert doc["fees"]["recovery"] == "per_plant"
    sludge = doc["echelons"]["sludge"]
    cost = sum(f["total_cost_per_yr"] for f in sludge["facilities"] if f["open"]) + \
        sum(f["transport_cost_per_yr"] for f in sludge["flows"])
    section = text.split("## Equalised fees")[1].split("###")[0]
    assert f"second-echelon costs of {cost:,.0f} yuan/yr" in section and "outside the fee" in section
    assert "`recovery: pooled`" in section
    assert 'id="fee-scope-note"' in page


@pytest.fixture(scope="module")
def no_plan_run(two_runs, tmp_path_factory):
    """two_runs[0] as an infeasible run writes it: no plan, nothing open, every demand unserved."""
    doc = json.loads((two_runs[0] / "result.json").read_text(encoding="utf-8"))
    doc.update(status="infeasible", objective=None, bound=None, gap=None, cost_breakdown={}, assignments=[],
               facilities=[{**f, "open": False, "load": 0.0} for f in doc["facilities"]],
               demands=[{**d, "served": 0.0, "unserved": d["amount"]} for d in doc["demands"]])
    run = tmp_path_factory.mktemp("noplan") / "no-plan"
    run.mkdir()
    (run / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    return run


def test_compare_with_a_run_without_a_plan_has_no_site_changes(two_runs, no_plan_run):
    runs = load_runs([two_runs[0], no_plan_run])
    kf = key_figures(runs).set_index("figure")
    assert kf.loc["sites opened", "no-plan"] == "n/a"
    sites = site_changes(runs).set_index("site")
    assert not sites["change (no-plan)"].str.startswith("closed").any()
    assert set(sites["change (no-plan)"]) == {"n/a (no plan)"}
    from qzopt.report.compare import render_compare_md

    assert "No plan in no-plan (infeasible)" in render_compare_md(runs)


def test_compare_distances_and_costs_say_what_they_include(two_runs):
    runs = load_runs(list(two_runs))
    figures = list(key_figures(runs)["figure"])
    assert "max distance, demand point to first site (km)" in figures
    from qzopt.report.compare import render_compare_md

    text = render_compare_md(runs)
    assert "transfer-station hauls and second-echelon flows are not in them" in text
    assert "including what the site sends on" in text and "Further streams (WtE kitchen waste) are not in it" in text


def test_compare_says_which_stream_its_unserved_demand_is_of(tmp_path):
    """On four WtE towns 27 t/d of kitchen waste goes unserved; compare said "unserved demand
    (t/d) 0" (the main stream's) and nothing of the kitchen waste."""
    wte4 = ROOT / "scenarios" / "teaching" / "wte-4towns.yaml"
    res = qzopt.solve(wte4, isolate=False)
    res.write(tmp_path / "wte4", html=False)
    kf = key_figures(load_runs([tmp_path / "wte4", tmp_path / "wte4"])).set_index("figure")
    kitchen = pd.DataFrame(res.extra["streams"]["kitchen"]["demands"])
    short = float(kitchen["amount"].sum() - kitchen["served"].sum())
    assert short > 1 and kf.loc["unserved demand, kitchen stream (t/d)"].iloc[0] == num(short)
    assert kf.loc["unserved demand, main stream (t/d)"].iloc[0] == num(float(res.demands["unserved"].sum()))


def test_an_unchanged_cost_has_no_negative_zero(two_runs):
    runs = load_runs([two_runs[0], two_runs[0]])
    kf = key_figures(runs).set_index("figure")
    assert kf.loc["change against one-plant (yuan/yr)"].iloc[1] == "0 (0.00 %)"
    from qzopt.report.compare import _delta
    from qzopt.report.markdown import points

    assert _delta(350 - 1e-9, 350, pct=True) == "0 (0.00 %)"
    assert _delta(349.0, 350, pct=True) == "-1 (-0.29 %)"
    assert points(-1e-13) == "0.00 %" and points(-0.5) == "-0.50 %"


def test_the_different_sector_error_names_the_runs_in_command_line_order(two_runs, tmp_path):
    doc = json.loads((two_runs[0] / "result.json").read_text(encoding="utf-8"))
    other = tmp_path / "wte"
    other.mkdir()
    (other / "result.json").write_text(json.dumps({**doc, "sector": "wte"}), encoding="utf-8")
    with pytest.raises(QzoptError) as caught:
        load_runs([two_runs[0], other])
    first = f"{two_runs[0]} is a {doc['sector']!r} plan and {other} a 'wte' plan"
    assert str(caught.value).startswith(first)
    # and docs/reports.md shows it that way
    text = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    assert re.search(r"qzopt compare out/sewage out/wte\S*\n", text)
    assert "error: out/sewage is a 'sewage' plan and out/wte" in text


def test_a_run_a_fee_cap_made_infeasible_still_says_it_had_a_fee_rule(two_runs, tmp_path):
    # towns(150): the one plant breaks even at 5 yuan/t; a cap of 4 leaves no plan
    res = qzopt.solve(towns(150.0).replace(fees=FeeRules(max_fee=4.0)), isolate=False, explain=False)
    assert res.status == "infeasible"
    assert res.extra["fees"]["mode"] == "uniform" and res.extra["fees"]["max_fee"] == 4.0
    assert res.extra["fees"]["fee"] is None
    capped = res.write(tmp_path / "capped")
    kf = key_figures(load_runs([two_runs[0], capped])).set_index("figure")
    assert kf.loc["equalised fee (yuan/t)", "capped"] == "n/a (no plan; cap 4)"
    assert kf.loc["equalised fee (yuan/t)", "one-plant"] == "no fee rule"
    assert "| Equalised uniform fee (yuan/t) | n/a (per_plant, cap 4; no plan) |" in (capped / "report.md").read_text(encoding="utf-8")


def test_names_cannot_add_columns_or_raw_html_to_report_md(tiny, tmp_path):
    path, edit = tiny
    edit("{id: A, name: 甲,", '{id: A, name: "甲|<img src=x onerror=alert(1)>",')
    out = qzopt.solve(qzopt.load_scenario(path), isolate=False).write(tmp_path / "run", html=False)
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "<img" not in text and "甲\\|&lt;img src=x onerror=alert(1)>" in text
    for line in text.splitlines():
        if line.startswith("| ") and "甲" in line:  # the row keeps its table's column count
            header = next(h for h in reversed(text[:text.index(line)].splitlines()) if h.startswith("| ")
                          and not h.startswith("|---") and "甲" not in h)
            assert line.replace("\\|", "").count("|") == header.count("|"), (line, header)


def test_what_set_changed_is_in_the_result_its_report_and_the_comparison(tmp_path):
    """Two runs of one file differing by --set read alike everywhere (same scenario name): the
    fields changed are now kept in result.json, the report's facts and compare's key figures."""
    from conftest import DATA

    plain, limited = tmp_path / "plain", tmp_path / "limited"
    assert cli("solve", DATA / "tiny.yaml", "-o", plain).returncode == 0
    proc = cli("solve", DATA / "tiny.yaml", "--set", "constraints.max_distance=30", "--set",
               "solver.gap=0.01", "-o", limited)
    assert proc.returncode == 0, proc.stderr
    said = "constraints.max_distance=30; solver.gap=0.01"
    assert said in proc.stdout
    res = qzopt.Result.read(limited)
    assert res.extra["overrides"] == {"constraints.max_distance": "30", "solver.gap": "0.01"}
    assert (res.assignments["distance"] <= 30).all()
    assert f"| Changed for this run (--set) | {said} |" in (limited / "report.md").read_text(encoding="utf-8")
    assert "Changed for this run" not in (plain / "report.md").read_text(encoding="utf-8")
    # an override that makes the scenario infeasible (proved before any solve) is recorded too
    closed = tmp_path / "closed"
    assert cli("solve", DATA / "tiny.yaml", "--set", "constraints.facilities.at_most=0", "-o", closed).returncode == 3
    assert qzopt.Result.read(closed).extra["overrides"] == {"constraints.facilities.at_most": "0"}
    # a scenario changed after loading is no longer "the file with those --set changes"
    sc = qzopt.load_scenario(DATA / "tiny.yaml", {"constraints.max_distance": 30})
    assert sc.extras["overrides"] == {"constraints.max_distance": 30}
    assert "overrides" not in sc.replace(policy={"max_distance": 100}).extras
    # a list from Python is kept as JSON, which --set reads back as the same list (YAML)
    chain = qzopt.load_scenario(DATA / "tiny.yaml", {"solver.fallback": ["cbc", "ortools"]})
    assert chain.extras["overrides"] == {"solver.fallback": '["cbc", "ortools"]'}
    again = qzopt.load_scenario(DATA / "tiny.yaml", dict(chain.extras["overrides"]))
    assert again.solver.fallback == chain.solver.fallback == ("cbc", "ortools")
    figures = key_figures(load_runs([plain, limited])).set_index("figure")
    assert figures.loc["changed for the run (--set)"].tolist() == ["none", said]
    assert "changed for the run (--set)" not in key_figures(load_runs([plain, plain])).set_index("figure").index


def test_the_jurisdictions_table_is_written_as_csv_and_adds_up(tmp_path):
    """The per-jurisdiction table was only in result.json; a spreadsheet user gets it as a CSV."""
    from conftest import DATA

    res = qzopt.solve(DATA / "tiny.yaml")
    table = pd.read_csv(res.write(tmp_path / "run", html=False) / "jurisdictions.csv")
    assert list(table["jurisdiction"]) == ["A", "B", "C"]
    assert table.set_index("jurisdiction")["demand"].to_dict() == {"A": 100, "B": 120, "C": 80}  # tiny.yaml
    assert table["service_cost_per_yr"].sum() == pytest.approx(res.objective, rel=1e-9)  # no fees, no echelons


def test_a_second_echelon_and_a_further_stream_are_written_as_csv(tmp_path):
    """Sludge flows and the kitchen stream were only in result.json.  The sewage teaching plan
    (docs/sectors/sewage.md): B's plant treats A's and its own 20,000 m3/d -> 14 t/d of sludge
    at 0 km, C's plant its 5,000 m3/d -> 3.5 t/d over 30 km to the centre in B (38,325 yuan/yr)."""
    out = tmp_path / ("a-folder-name-longer-than-the-200-columns-of-piped-output-" * 3) / "sewage"
    proc = cli("solve", TEACHING / "sewage-3towns.yaml", "-o", out, "--no-html")
    # the files written on one line, the path unbroken, however long (it was cut at 200 columns)
    assert proc.returncode == 0 and (f"\nwrote {out}/result.json, facilities.csv, assignments.csv, demands.csv, "
                                     "jurisdictions.csv, sludge-flows.csv, sludge-facilities.csv, report.md\n"
                                     in proc.stdout), proc.stdout + proc.stderr
    flows = pd.read_csv(out / "sludge-flows.csv").set_index("source")
    assert flows.loc["wwtp_B", "amount"] == pytest.approx(20_000 * 0.0007)
    assert flows.loc["wwtp_C", ["amount", "distance"]].tolist() == pytest.approx([3.5, 30.0])
    assert flows.loc["wwtp_C", "transport_cost_per_yr"] == pytest.approx(3.5 * 30 * 1.0 * 365)
    site = pd.read_csv(out / "sludge-facilities.csv").set_index("site")
    assert site.loc["sludge_B", "load"] == pytest.approx(17.5)
    assert cli("solve", TEACHING / "wte-4towns.yaml", "-o", tmp_path / "wte", "--no-html").returncode == 0
    kitchen = pd.read_csv(tmp_path / "wte" / "kitchen-demands.csv")
    assert kitchen["served"].sum() == pytest.approx(63.0)  # the 70 % minimum of 90 t/d (test_sectors)
    # a later run of another scenario into the same folder leaves no sludge table of the earlier
    # one, and files of the user's, whatever their names, stay
    for mine in ("notes-by-hand.csv", "my-demands.csv", "road-flows.csv"):
        (out / mine).write_text("mine\n", encoding="utf-8")
    assert cli("solve", TEACHING / "coldchain-3origins.yaml", "-o", out, "--no-html").returncode == 0
    assert sorted(p.name for p in out.glob("*-*.csv")) == [
        "my-demands.csv", "notes-by-hand.csv", "outlets-facilities.csv", "outlets-flows.csv", "road-flows.csv"]


def test_a_result_without_a_plan_reads_back_and_writes_again_with_every_table_readable(tmp_path):
    """Read back and written again, an infeasible result's jurisdictions.csv was an empty line
    (no columns), which pandas cannot read."""
    from conftest import DATA

    first = qzopt.solve(qzopt.load_scenario(DATA / "tiny.yaml", {"constraints.facilities.at_most": 0}))
    assert first.status == "infeasible"
    again = qzopt.Result.read(first.write(tmp_path / "a", html=False)).write(tmp_path / "b", html=False)
    for name in ("facilities", "assignments", "demands", "jurisdictions"):
        table = pd.read_csv(again / f"{name}.csv")
        assert list(table.columns) == [str(c) for c in getattr(first, name).columns], name


def test_a_sharing_without_any_allocation_still_gets_its_section_and_its_reasons(two_runs):
    """By county most Qianzhong sewage coalitions cannot meet the fee cap alone, so no method
    gives an allocation; the report said "(with cost sharing)" and showed no section at all."""
    res = qzopt.Result.read(two_runs[0])
    doc = sharing_doc(res.scenario, allocations=[], tables={}, core_violations={},
                      notes=["scrb: scrb needs finite costs, but coalition(s) {A} have an infinite cost"])
    text = render_markdown(res, sharing=doc)
    section = text.split("## Cost sharing", 1)[1]
    assert "Players: jurisdiction (3);" in section and "No allocation could be computed" in section
    assert "- scrb: scrb needs finite costs" in section
    page = render_html(res, sharing=doc)
    assert 'id="sharing"' in page and "No allocation could be computed" in page and "scrb needs finite" in page


def test_compare_of_runs_that_all_lack_a_plan_says_so_instead_of_crashing(no_plan_run, tmp_path, capsys):
    # as `qzopt solve` writes an infeasible run: no facilities at all (found crashing in pd.concat)
    doc = json.loads((no_plan_run / "result.json").read_text(encoding="utf-8"))
    doc["facilities"] = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(json.dumps(doc), encoding="utf-8")
    runs = load_runs([tmp_path / "a", tmp_path / "b"])
    assert site_changes(runs).empty
    from qzopt.cli import main

    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "c")]) == 0
    text = (tmp_path / "c" / "compare.md").read_text(encoding="utf-8")
    assert "No plan in a (infeasible), b (infeasible): their figures read n/a" in text


@pytest.mark.parametrize("name, text, said", [
    ("frontier.csv", "", "frontier.csv: not a qzopt frontier.csv (No columns to parse from file)"),
    ("frontier.csv", "fee_cap,fee\n10,9\n", "frontier.csv: not a qzopt frontier.csv (no column(s) point, "
                                             "total_cost_per_yr, price_of_equalization_per_yr)"),
    ("sharing.json", json.dumps(sharing_doc("x", allocations={"A": 1})),
     "sharing.json: not a qzopt sharing.json (`allocations` must be a list of objects"),
    ("sharing.json", json.dumps(sharing_doc("x", tables={"proportional": [1, 2]})),
     "sharing.json: not a qzopt sharing.json (`tables` must be an object of lists of objects"),
])
def test_a_broken_add_on_is_refused_naming_it_not_a_traceback(two_runs, tmp_path, capsys, name, text, said):
    from qzopt.cli import main

    folder = tmp_path / "addon"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    option = "--frontier" if name == "frontier.csv" else "--sharing"
    assert main(["report", str(two_runs[0]), option, str(folder), "-o", str(tmp_path / "out/")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert str(folder / name) in err and said in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_report_md_states_the_scenario_and_the_model_notes_as_the_html_does(two_runs):
    # the line scenario: towns A, B, C with 10 t each and a candidate site in each; one plant (at B)
    # when a plant costs 150 a year.  Uncapacitated, so the radius formulation is used and says so.
    text = (two_runs[0] / "report.md").read_text(encoding="utf-8")
    page = (two_runs[0] / "report.html").read_text(encoding="utf-8")
    line = "Sector: facility · 3 jurisdictions · 3 demand points (30 t) · 3 candidate sites · 1 open"
    assert line in text and line in page
    assert "- formulation: radius formulation (no capacity can bind)" in text
    assert "formulation: radius formulation (no capacity can bind)" in page


def test_the_frontier_digest_leaves_out_only_the_fee_rules():
    """A result solved under a fee cap goes with the frontier of the same file (which varies the
    cap itself); any other change tells the two apart."""
    sc = qzopt.load_scenario(ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml")
    capped = sc.replace(fees={"max_fee": 80.0, "mode": "uniform"})
    assert capped.digest() != sc.digest() and capped.digest(fees=False) == sc.digest(fees=False)
    assert sc.replace(transport=sc.transport + 1).digest(fees=False) != sc.digest(fees=False)


def test_the_html_report_says_what_report_md_says_of_demand_and_streams(tmp_path):
    """report.html lacked the Demand line and each stream's served amount (four WtE towns: 27 t/d
    of kitchen waste unserved showed only as a cost); the unserved columns are said to be the
    main stream's, and each stream has its own."""
    from qzopt.report.markdown import demand_line, stream_line

    res = qzopt.solve(TEACHING / "wte-4towns.yaml", isolate=False)
    page, text = render_html(res), render_markdown(res)
    kitchen = res.extra["streams"]["kitchen"]
    for line in (demand_line(res), stream_line(kitchen, res)):
        assert line in text and str(escape(line)) in page, line
    assert "of the main stream" in demand_line(res) and "27 t/d not served" in stream_line(kitchen, res)
    assert "unserved, main stream (t/d)" in text and "kitchen stream unserved (t/d)" in text
    assert "kitchen stream unserved (t/d)" in page


def test_a_hubs_utilisation_says_it_is_the_binding_resources():
    """hub_H read capacity 400, load 170, utilisation 66.2 % (its peak throughput, 265 / 400)."""
    res = qzopt.solve(TEACHING / "coldchain-3origins.yaml", isolate=False)
    text = render_markdown(res)
    assert "| load (t/d) | utilisation (of the binding resource) | peak throughput used / capacity (t/d) |" in text


def test_a_gap_above_zero_never_reads_as_zero():
    """A plan stopped by the time limit at a 0.03 % gap read "Optimality gap 0.0 %" (0.74 M yuan/yr
    at sewage scale)."""
    from qzopt.report.markdown import gap_pct

    assert gap_pct(0.0003) == "0.03 %" and gap_pct(0.00012345) == "0.012 %"
    assert gap_pct(0.0) == "0.0 %" and gap_pct(0.0123) == "1.2 %" and gap_pct(None) == "n/a"
    assert gap_pct(2e-6) == "0.0002 %" and gap_pct(1e-9) == "< 0.0001 %"  # was "1e-07 %"


def test_the_reports_frontier_says_what_its_rows_mean_and_how_each_point_was_solved(fee_run):
    # before: report.md/.html showed the costs only, no status, gap, solver, time or note, and no word
    # on what a row means; the chart joined unsorted caps with straight lines
    from qzopt.report.charts import frontier_figure

    res = qzopt.Result.read(fee_run)
    frontier = pd.DataFrame({
        "point": ["no fee rule", "capped", "capped", "capped"], "fee_cap": [None, 8.0, 2.0, 6.0],
        "fee": [5.0, 5.0, None, 5.0], "total_cost_per_yr": [350.0, 350.0, None, 360.0],
        "price_of_equalization_per_yr": [0.0, 0.0, None, 10.0],
        "price_of_equalization_lower_per_yr": [0.0, 0.0, None, 0.0],
        "price_of_equalization_upper_per_yr": [0.0, 0.0, None, 10.0],
        "sites": ["s2", "s2", "", "s2"], "status": ["optimal", "optimal", "infeasible", "feasible"],
        "solver": ["highs"] * 4, "gap": [0.0, 0.0, None, 0.03], "seconds": [0.1, 0.2, 0.1, 30.0],
        "note": ["", "the cap does not bind", "no plan: the cap is below the smallest fee", ""],
        "fee_rule": ["one uniform fee, costs recovered per plant"] * 4})
    text, page = render_markdown(res, frontier=frontier), render_html(res, frontier=frontier)
    assert "(fee rule: one uniform fee, costs recovered per plant)" in text and 'id="frontier-intro"' in page
    assert res.extra["fees"]["mode"] == "uniform" and "another fee rule" not in text
    # a frontier of another rule beside this plan is said to be one (it was shown as if it were the plan's)
    other = frontier.assign(fee_rule="fees within a 10 % band of their mean, costs recovered per plant")
    assert ("Note: this plan was solved under another fee rule (one uniform fee, costs recovered per plant); the "
            "frontier's rows are not its own.") in render_markdown(res, frontier=other)
    front = md_tables(text)["Fee frontier"]
    assert list(front["status"]) == ["optimal", "optimal", "infeasible", "feasible"]
    assert list(front["gap"]) == ["0.0 %", "0.0 %", "n/a", "3.0 %"]
    assert list(front["price of equalisation (yuan/yr)"]) == ["0", "0", "n/a", "10 (between 0 and 10)"]
    assert front["note"].iloc[2] == "no plan: the cap is below the smallest fee"
    fig = frontier_figure(frontier, "yuan/t", "yuan")
    steps, _free, none = fig.axes[0].lines
    assert list(steps.get_xdata()) == [6.0, 8.0] and steps.get_drawstyle() == "steps-post"
    assert list(none.get_xdata()) == [2.0] and none.get_marker() == "x"
