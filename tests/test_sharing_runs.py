"""Coalition games from scenarios: parallel solves, the cache, the CLI; and the fee frontier."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import qzopt
from qzopt.sharing.coalitions import coalition_costs, restrict
from qzopt.sharing.share import share

from conftest import SCENARIOS

TEACH = SCENARIOS / "teaching" / "wte-4towns.yaml"


def test_coalition_game_from_the_teaching_scenario(tmp_path):
    sc = qzopt.load_scenario(TEACH)
    # own territory: only B has a fly-ash site and only A a kitchen-waste plant, so every
    # coalition without both A and B cannot serve itself (infinite cost), and the nucleolus is
    # undefined: said, not crashed
    own = share(sc, by="jurisdiction", workers=2, cache_dir=tmp_path, progress=False)
    alone = own.coalitions.set_index("players")["cost"]
    assert alone[("D",)] == float("inf") and alone[("B",)] == float("inf") and alone[("A", "B")] < float("inf")
    assert any("nucleolus" in n for n in own.notes)
    # any site allowed: every coalition is finite
    res = share(sc, by="jurisdiction", territory="all", workers=2, cache_dir=tmp_path, progress=False)
    assert len(res.coalitions) == 15
    # the grand coalition is the whole scenario: same optimum as solving it directly
    assert res.grand_cost == pytest.approx(qzopt.solve(sc).objective, rel=1e-9)
    # D alone: one 400 t/d line (8 M/yr) for 100 t/d burnt at -50 yuan/t (-1.825 M), fly ash 4 t/d
    # hauled 60 km to B at 2 yuan/t/km (175,200) and treated at 2,000 yuan/t (2.92 M); its kitchen
    # waste: 7 of 10 t/d to the plant in A 80 km away (0.4 M + 7 x 365 x (200 + 80)) or 100/t
    # penalty: 0.4 M + 715,400 + 109,500 = 1,224,900.  Total 10,495,100.
    assert res.coalitions.set_index("players")["cost"][("D",)] == pytest.approx(
        8e6 - 1.825e6 + 175200 + 2.92e6 + 1224900, rel=1e-9)
    for method, x in res.allocations.items():
        assert x.sum() == pytest.approx(res.grand_cost, rel=1e-7), method
    # a rerun comes from the cache
    again = share(sc, by="jurisdiction", territory="all", workers=2, cache_dir=tmp_path, progress=False)
    assert again.coalitions["cached"].all()
    assert again.allocations.equals(res.allocations)


def test_restrict_keeps_only_the_coalitions_territory():
    sc = qzopt.load_scenario(TEACH)
    sub = restrict(sc, {"A", "B"})
    assert set(sub.demands["jurisdiction"]) == {"A", "B"}
    assert set(sub.sites["jurisdiction"]) == {"A", "B"}
    assert set(sub.sector_data.echelons["fly_ash"].sites.index) == {"hw_B"}
    assert set(sub.sector_data.streams["kitchen"].demands["jurisdiction"]) == {"A", "B"}
    assert sub.fees is None and sub.policy.facilities_exactly is None


def test_share_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--players", "jurisdiction",
                           "--method", "nucleolus,proportional", "--territory", "all", "--cache", str(tmp_path / "cache"), "-o",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "out" / "sharing.json").read_text())
    assert doc["coalition_count"] == 15 and {"nucleolus", "proportional"} <= set(doc["tables"])
    assert (tmp_path / "out" / "sharing.md").read_text().startswith("# Cost sharing")
    bad = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--method", "banzhaf"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown --method banzhaf" in bad.stderr and "Traceback" not in bad.stderr


def test_frontier_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "frontier", str(SCENARIOS / "teaching" /
                           "sewage-3towns.yaml"), "--points", "3", "-o", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "frontier.json").read_text())
    free = rows[0]
    capped = [r for r in rows if r["point"] == "capped"]
    assert len(capped) == 3 and (tmp_path / "frontier.png").stat().st_size > 1000
    # a tighter cap can only cost more; every capped plan needs a fee within its cap
    costs = [r["total_cost_per_yr"] for r in capped]
    assert costs == sorted(costs, reverse=True)
    assert all(r["fee"] <= r["fee_cap"] * (1 + 1e-6) for r in capped)
    assert all(r["total_cost_per_yr"] >= free["total_cost_per_yr"] * (1 - 1e-9) for r in capped)
