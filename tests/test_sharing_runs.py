"""Coalition games from scenarios: parallel solves, the cache, the CLI; and the fee frontier."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import qzopt
from qzopt.sharing.coalitions import coalition_costs, restrict
from qzopt.sharing.share import share

from qzopt.scenario.scenario import FeeRules, Policy

from conftest import ROOT, SCENARIOS, line_scenario

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
    # the least core is undefined there because the finite coalitions (those with A and B) do not
    # bound the allocation: C and D can be charged up to c(N) - c(A+B+D) and c(N) - c(A+B+C) and more,
    # A and B paid the rest, so the core is not empty (it read "unknown, not tested")
    assert own.least_core_epsilon != own.least_core_epsilon  # NaN
    doc = own.to_dict()
    assert doc["core_empty"] is False and doc["core_status"].startswith("not empty") and "undefined" in doc["core_status"]
    text = own.to_markdown()
    assert "Core: not empty: there are allocations no coalition would leave (the coalitions with finite cost" in text
    # every report states solver, status, gap and time: per coalition and the solver once
    assert "| players | cost | status | gap | seconds |" in text and "Solver: highs" in text
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
    # a damaged cache entry (cut short, or written by another version) is solved again, not a traceback
    for damage in (lambda text: text[:20], lambda text: text[:-1] + ', "made_up": 1}'):
        for f in (tmp_path / "coalitions").glob("*.json"):
            f.write_text(damage(f.read_text()))
        third = share(sc, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path, progress=False)
        assert not third.coalitions["cached"].any()
        assert third.allocations.equals(res.allocations)


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
    # a kept sharing.md says which file and version made it (docs/results had no command to rerun)
    assert f"Computed by qzopt {qzopt.__version__} from `{TEACH}`" in (tmp_path / "out" / "sharing.md").read_text()
    assert doc["source"] == str(TEACH) and doc["qzopt_version"] == qzopt.__version__
    # allocations.csv: one row per player, money columns named with their period; each method
    # hands out exactly the grand coalition's cost (efficiency)
    alloc = pd.read_csv(tmp_path / "out" / "allocations.csv")
    assert list(alloc.columns) == ["player", "nucleolus_cost_per_yr", "proportional_cost_per_yr"]
    assert sorted(alloc["player"]) == sorted(doc["players"])
    for col in ("nucleolus_cost_per_yr", "proportional_cost_per_yr"):
        assert alloc[col].sum() == pytest.approx(doc["grand_coalition_cost_per_yr"], rel=1e-9)
    bad = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--method", "banzhaf"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--method banzhaf: 'banzhaf' is not a method; choose from" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--players", "nope"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--players nope: no column 'nope'" in bad.stderr and "share():" not in bad.stderr


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


SEWAGE = SCENARIOS / "teaching" / "sewage-3towns.yaml"


def test_every_coalition_plans_under_the_scenarios_fee_rule(tmp_path):
    # three towns, uniform fee capped at 0.7 yuan/m3: the cap binds for the whole region (the
    # no-fee plan needs a higher fee), so the shared plan costs more than without the rule
    sc = qzopt.load_scenario(SEWAGE)
    capped = sc.replace(fees=FeeRules(max_fee=0.7))
    with_fee, without = qzopt.solve(capped), qzopt.solve(sc)
    assert with_fee.status == "optimal" and with_fee.objective > without.objective * (1 + 1e-6)
    res = share(capped, by="jurisdiction", methods=("proportional", "nucleolus"), territory="all", workers=1,
                cache_dir=tmp_path, progress=False)
    # the grand coalition is the scenario, fee rule included: `qzopt solve`'s objective
    assert res.grand_cost == pytest.approx(with_fee.objective, rel=1e-9)
    for method, x in res.allocations.items():
        assert x.sum() == pytest.approx(with_fee.objective, rel=1e-7), method
    # C alone (5,000 m3/d) must build the smallest plant, 10,000 m3/d: 0.5 M yuan/yr of capital
    # over 1.825 M m3/yr plus 0.5 yuan/m3 to run = 0.774 yuan/m3 at least, above the 0.7 cap.
    # It can serve itself without the fee rule, so its infinite cost is the cap's doing, and said
    rows = res.coalitions.set_index("players")
    assert rows["cost"][("C",)] == float("inf")
    assert "fee" in rows["reason"][("C",)]
    assert 0 < rows["cost_without_fees"][("C",)] < float("inf")
    assert any("fee" in n and "C" in n for n in res.notes)
    doc = res.to_dict()
    assert doc["fee_rule"]["max_fee"] == 0.7 and doc["fee_rule"]["applied_to_coalitions"] is True
    text = res.to_markdown()
    # the rule in the words a frontier uses, with the cap's unit (it read "max_fee 0.7 (per_plant recovery ...")
    rule = "one uniform fee, costs recovered per plant, within max_fee 0.7 yuan/m3 (objective: cost)"
    assert doc["fee_rule"]["text"] == rule and rows["reason"][("C",)] == f"fee cap: cannot keep {rule} on its own"
    assert "Fee rule" in text and rule in text
    assert "| C | none within the fee cap |" in text and "| inf |" not in text.split("## Coalition costs")[0]


def test_grand_coalition_keeps_the_regions_facility_count(tmp_path):
    # three towns 10 km apart, 10 t each, a plant costs 50/yr, haulage 1 per t per km: alone each
    # builds its own plant; the region's rule "exactly one plant" makes the plan 50 + 100 + 100.
    # The grand coalition is that plan (the rule is dropped only for proper coalitions).
    sc = line_scenario(Policy(facilities_exactly=1), fixed=50.0)
    assert qzopt.solve(sc).objective == pytest.approx(250.0)
    res = share(sc, by="jurisdiction", methods=("shapley",), workers=1, cache_dir=tmp_path, progress=False)
    assert res.grand_cost == pytest.approx(250.0)
    assert res.coalitions.set_index("players")["cost"][("A",)] == pytest.approx(50.0)
    assert res.allocations["shapley"].sum() == pytest.approx(250.0)


def test_console_table_never_cuts_a_figure(tmp_path):
    import io

    from rich.console import Console

    from qzopt.report.markdown import money

    sc = qzopt.load_scenario(TEACH)
    res = share(sc, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path, progress=False)
    for width in (40, 80):
        out = io.StringIO()
        res.print_console(Console(file=out, width=width, highlight=False, color_system=None))
        text = out.getvalue()
        assert "…" not in text
        for p in res.players:
            for m in res.allocations.columns:
                assert money(res.allocations.loc[p, m]) in text, (width, p, m)
            assert money(res.coalitions.set_index("players")["cost"][(p,)]) in text
        assert money(res.grand_cost) in text
        # the title on one line whatever the width (as the table's title it wrapped at the table's
        # width), and every money column with its unit
        assert f"grand coalition (the shared plan) {money(res.grand_cost)} yuan/yr" in text
        for m in res.allocations.columns:
            assert f"{m} (yuan/yr)" in text


def test_share_and_frontier_take_the_what_if_overrides_solve_takes(tmp_path):
    from pathlib import Path

    tiny = Path(__file__).parent / "data" / "tiny.yaml"
    fee = "{mode: uniform, max_fee: 300}"  # tiny.yaml has no fee rule; south cannot keep 300 alone
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(tiny), "--set", f"fees={fee}",
                           "--time-limit", "30", "-o", str(tmp_path / "s")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads((tmp_path / "s" / "sharing.json").read_text(encoding="utf-8"))
    with_fee = qzopt.solve(qzopt.load_scenario(tiny, {"fees": fee}))
    assert out["fee_rule"]["max_fee"] == 300
    assert out["grand_coalition_cost_per_yr"] == pytest.approx(with_fee.objective, rel=1e-6)
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "frontier", str(tiny), "--set", "fees.mode=banded",
                           "--set", "fees.max_fee=-1", "-o", str(tmp_path / "f")], capture_output=True, text=True)
    assert proc.returncode == 2 and "field `fees.max_fee`" in proc.stderr and "set by the override" in proc.stderr


def test_the_cache_reuses_proofs_only_not_a_cost_a_time_limit_cut_short(tmp_path):
    sc = qzopt.load_scenario(TEACH)
    first = coalition_costs(sc, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path, progress=False)
    cost = first.set_index("players")["cost"]
    files = sorted((tmp_path / "coalitions").glob("*.json"))
    assert len(files) == len(first)
    edited = {}
    for f, status in zip(files[:2], ("feasible", "optimal")):  # as a short run would leave it / a proof
        doc = json.loads(f.read_text())
        doc.update(status=status, cost=1.0)
        f.write_text(json.dumps(doc))
        edited[tuple(doc["players"])] = status
    again = coalition_costs(sc, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path,
                            progress=False).set_index("players")
    for players, status in edited.items():
        if status == "feasible":  # solved again: the real optimum, not the cached bound
            assert not again.at[players, "cached"] and again.at[players, "cost"] == pytest.approx(cost[players])
        else:  # a proof is reused as it is (which is what shows the cache was read at all)
            assert again.at[players, "cached"] and again.at[players, "cost"] == 1.0


def test_own_territory_coalitions_without_an_inside_neighbour_plan_as_own(tmp_path):
    """Sewage is 'adjacent' by default; a coalition of A alone, or of A and C (not adjacent), keeps
    no adjacent pair inside it, so 'adjacent' there means 'own' (qzopt.solve's new Scenario check
    refused such coalitions and stopped the whole run)."""
    sc = qzopt.load_scenario(SEWAGE)
    for players in ({"A"}, {"A", "C"}):
        sub = restrict(sc, players, territory="own")
        assert not sub.adjacency and sub.policy.cross_border == "own"
    both = restrict(sc, {"A", "B"}, territory="own")
    assert both.adjacency == {frozenset({"A", "B"})} and both.policy.cross_border == "adjacent"
    res = share(sc, by="jurisdiction", methods=("shapley",), territory="own", workers=1, cache_dir=tmp_path,
                progress=False)
    assert len(res.coalitions) == 7
    assert res.grand_cost == pytest.approx(qzopt.solve(sc, isolate=False).objective, rel=1e-9)


def test_more_players_than_coalitions_can_be_solved_for_is_refused_at_once(tmp_path):
    """33 counties as players: the coalitions were listed up front (2^33 - 1 of them), and the
    command ate 11 GB in 15 s without a word.  Now a method that needs them all (the nucleolus;
    Shapley without a sample size) stops before listing one."""
    from qzopt.errors import QzoptError
    from qzopt.sharing.coalitions import MAX_PLAYERS, every_coalition

    sc = qzopt.load_scenario(SCENARIOS / "qianzhong-msw.yaml")
    prefectures = sc.jurisdictions["group"].nunique()
    with pytest.raises(QzoptError) as info:
        share(sc, by="jurisdiction", methods=["nucleolus", "shapley"], cache_dir=tmp_path)
    said = str(info.value)
    assert "nucleolus is not computed: it needs every coalition (8,589,934,591 with 33 players)" in said
    assert "proportional and scrb are computed (from 34 and 67 coalitions)" in said
    assert f"`--players group` (by=\"group\" in Python) makes {prefectures} players here" in said
    with pytest.raises(QzoptError) as info:  # every jurisdiction, with demand or not
        coalition_costs(sc, by="jurisdiction", cache_dir=tmp_path)
    n = len(sc.jurisdictions)
    assert str(info.value).startswith(f"{n} players (jurisdiction) make {2 ** n - 1:,} coalitions, too many to "
                                      "solve a plan for each")
    assert len(every_coalition([f"p{k}" for k in range(MAX_PLAYERS)])) == 2 ** 15 - 1
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(SCENARIOS / "qianzhong-msw.yaml"),
                           "--players", "jurisdiction", "--method", "nucleolus", "-o", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "every coalition (8,589,934,591" in proc.stderr and "Traceback" not in proc.stderr


def _costs(frame):
    return {tuple(p): c for p, c in zip(frame["players"], frame["cost"])}


def test_a_script_without_a_main_guard_gets_its_coalitions_solved_here_with_a_warning(tmp_path, monkeypatch):
    """Worker processes import the main script: an unguarded one ran again in each and the pool
    broke (BrokenProcessPool, a traceback).  Now such a script is detected and solved serially."""
    import types

    from qzopt.sharing import coalitions as C

    serial = _costs(coalition_costs(line_scenario(), by="jurisdiction", workers=1, cache_dir=tmp_path / "a",
                                    progress=False))
    script = tmp_path / "analysis.py"
    script.write_text("import qzopt\nprint('work at the top level')\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__file__=str(script)))
    assert not C._main_is_guarded()
    with pytest.warns(UserWarning, match="analysis.py, which has no `if __name__ == \"__main__\":` guard"):
        got = coalition_costs(line_scenario(), by="jurisdiction", workers=2, cache_dir=tmp_path / "b", progress=False)
    assert _costs(got) == serial and len(serial) == 7  # A, B, C and their unions
    script.write_text("import logging\nlog = logging.getLogger(__name__)  # run as __main__\n", encoding="utf-8")
    assert not C._main_is_guarded()  # the names alone are no guard
    script.write_text("if __name__ == '__main__':\n    pass\n", encoding="utf-8")
    assert C._main_is_guarded()
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__file__="<stdin>"))
    assert not C._main_is_guarded()  # `python - < script.py`: the workers could not import it
    # `python -m qzopt share ...`: a package's __main__ (no guard in it) is not run again by the workers
    package_main = types.SimpleNamespace(__file__=str(ROOT / "qzopt" / "__main__.py"),
                                         __spec__=types.SimpleNamespace(name="qzopt.__main__"))
    monkeypatch.setitem(sys.modules, "__main__", package_main)
    assert "__name__" not in (ROOT / "qzopt" / "__main__.py").read_text(encoding="utf-8")
    assert C._main_is_guarded()


def test_a_pool_that_breaks_leaves_its_coalitions_to_this_process(tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from qzopt.sharing import coalitions as C

    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            raise BrokenProcessPool("a worker died")

        def __exit__(self, *exc):
            return False

    serial = _costs(coalition_costs(line_scenario(), by="jurisdiction", workers=1, cache_dir=tmp_path / "a",
                                    progress=False))
    monkeypatch.setattr(C, "ProcessPoolExecutor", Broken)
    monkeypatch.setattr(C, "_main_is_guarded", lambda: True)
    with pytest.warns(UserWarning, match="worker processes stopped"):
        got = coalition_costs(line_scenario(), by="jurisdiction", workers=2, cache_dir=tmp_path / "b", progress=False)
    assert _costs(got) == serial


def _sixteen_towns() -> qzopt.Scenario:
    """16 towns, each with 10 t of demand and a site of its own; a plant costs f_i = 150 + 10 i per
    year (i = 0..15; A is town 0, B town 1).  A and B lie 10 km apart, every other town 1,000 km
    from everything, so the only saving is A and B sharing one plant: c({A, B}) = min(150 + 160,
    150 + 10 t x 10 km, 160 + 100) = 250, a saving s = 60.  Every other town adds its f_i to any
    coalition, so the game is additive apart from that pair."""
    import numpy as np
    import pandas as pd

    from qzopt.scenario.scenario import Units

    ids = [f"T{i:02d}" for i in range(16)]
    demands = pd.DataFrame({"id": ids, "jurisdiction": ids, "amount": [10.0] * 16})
    sites = pd.DataFrame({"id": [f"s{i:02d}" for i in range(16)], "jurisdiction": ids, "existing": [""] * 16,
                          "excluded": [False] * 16})
    sizes = pd.DataFrame({"site": sites["id"], "size": ["std"] * 16, "capacity": [1000.0] * 16,
                          "fixed_cost": [150.0 + 10 * i for i in range(16)], "capex": [0.0] * 16,
                          "min_load": [0.0] * 16})
    pos = np.array([0.0, 10.0] + [1000.0 * k for k in range(2, 16)])
    dist = np.abs(pos[:, None] - pos[None, :])
    return qzopt.Scenario.from_frames(demands, sites, sizes, dist, name="sixteen", transport=1.0,
                                      units=Units(demand="t", distance="km", money="yuan", per_year=1.0))


def test_more_than_fifteen_players_get_what_needs_no_full_enumeration(tmp_path):
    """Issue 4 names jurisdictions as players; the 33 Qianzhong counties were refused outright.
    Beyond 15 players proportional and SCRB need n + 1 and 2n + 1 coalitions, and a sampled
    Shapley the first k players of each sampled order: those are solved, the rest is said."""
    sc = _sixteen_towns()
    f = {f"T{i:02d}": 150.0 + 10 * i for i in range(16)}
    grand = sum(f.values()) - 60  # A and B share: 250 instead of 310
    res = share(sc, by="jurisdiction", methods=("proportional", "scrb", "nucleolus"), workers=1,
                cache_dir=tmp_path, progress=False)
    assert len(res.coalitions) == 2 * 16 + 1 and not res.core_complete
    assert res.grand_cost == pytest.approx(grand)
    # proportional: equal volumes, equal shares of c(N)
    assert res.allocations["proportional"].to_numpy() == pytest.approx([grand / 16] * 16)
    # SCRB by hand: x_i = f_i for the additive towns; A and B split the saving of 60 equally
    scrb = res.allocations["scrb"]
    assert scrb["T00"] == pytest.approx(150 - 30) and scrb["T01"] == pytest.approx(160 - 30)
    assert all(scrb[p] == pytest.approx(f[p]) for p in f if p not in ("T00", "T01"))
    assert res.tables["scrb"]["individually_rational"].all()
    # proportional charges A's side of the line less than alone and the 1,000 km towns more than
    # theirs where f_i < c(N)/16: violations among the coalitions solved are real ones
    viol = res.core["proportional"]
    assert set(viol["coalition"]) >= {"T00"} and (viol["excess"] > 0).all()
    assert "nucleolus" not in res.allocations and any(n.startswith("nucleolus: not computed") for n in res.notes)
    assert res.core_empty is None and "every coalition" in res.core_status
    text = res.to_markdown()
    assert "partial" not in res.core_line("proportional") and "a partial check" in res.core_line("scrb")
    assert "a partial check, not a core test" in text
    assert res.to_dict()["core_check"] == "partial"

    # sampled Shapley: each order charges every additive town exactly f_i, and A and B together
    # exactly c({A, B}) = 250, so those estimates are exact whatever the sample
    sh = share(sc, by="jurisdiction", methods=("shapley",), samples=5, workers=1, cache_dir=tmp_path,
               progress=False)
    x = sh.allocations["shapley"]
    assert all(x[p] == pytest.approx(f[p]) for p in f if p not in ("T00", "T01"))
    assert x["T00"] + x["T01"] == pytest.approx(250) and x.sum() == pytest.approx(grand)
    from qzopt.sharing.game import sample_orders

    prefixes = {tuple(sorted(f"T{k:02d}" for k in o[:r])) for o in sample_orders(16, 5, 0) for r in range(2, 16)}
    assert len(sh.coalitions) == len(prefixes | {(p,) for p in f} | {tuple(sorted(f))})
    assert any("estimated over 5 random joining orders" in n for n in sh.notes)
    spread = sh.tables["shapley"]  # every order charges the additive towns f_i: no spread there
    assert spread.loc["T05", "std_error_per_yr"] == pytest.approx(0) and spread["ci95_low_per_yr"].le(x + 1e-9).all()
    assert f"std error ({sh.units['money']}/yr)" in sh.to_markdown()  # the column, with its unit
    # without samples Shapley is not guessed at: the message says why for each method asked for
    with pytest.raises(qzopt.QzoptError) as info:
        share(sc, by="jurisdiction", methods=("shapley", "nucleolus"), cache_dir=tmp_path, progress=False)
    said = str(info.value)
    assert said.startswith("16 players (jurisdiction): shapley is not computed: with 16 players it is estimated")
    assert "(--samples N, samples=N in Python); nucleolus is not computed: it needs every coalition (65,535" in said
    assert "proportional and scrb are computed (from 17 and 33 coalitions)" in said and "need them all" not in said
    with pytest.raises(ValueError, match="from 2"):
        share(sc, by="jurisdiction", methods=("shapley",), samples=1, cache_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="seed -1: must be a whole number 0 or more"):
        share(sc, by="jurisdiction", methods=("shapley",), samples=5, seed=-1, cache_dir=tmp_path, progress=False)
    with pytest.raises(qzopt.QzoptError, match=r"10,000 joining orders of 16 players need up to 140,000 plans"):
        share(sc, by="jurisdiction", methods=("shapley",), samples=10_000, cache_dir=tmp_path, progress=False)
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--seed", "-1"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--seed" in proc.stderr and "0 or more" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--samples", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "argument --samples: '0': must be a whole number, 1 or more" in proc.stderr
    # --samples without shapley was ignored without a word
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "share", str(TEACH), "--method", "scrb", "--samples",
                           "5"], capture_output=True, text=True)
    assert proc.returncode == 2 and ("--samples 5: only the Shapley value is sampled, and --method scrb does not ask "
                                     "for it") in proc.stderr and "Traceback" not in proc.stderr


def test_the_grand_coalition_may_use_the_sites_of_jurisdictions_without_demand(tmp_path):
    """Players are the jurisdictions with demand; the grand coalition is the scenario itself.  It
    was restricted to the players' own territory, so on the Qianzhong cold chain by county (19
    counties with demand of 33, the hub sites elsewhere) every coalition, the grand one too, was
    infeasible.  Hand case: A (km 0) and B (km 10) have 10 t each and no usable site; C (km 20) has
    no demand and the only site: one plant at C, 150 + 10 x 20 + 10 x 10 = 450."""
    import dataclasses

    full = line_scenario(excluded=(True, True, False))
    keep = (full.demands["jurisdiction"] != "C").to_numpy()
    sc = dataclasses.replace(full, demands=full.demands[keep], distance=full.distance[keep])
    res = share(sc, by="jurisdiction", methods=("proportional",), workers=1, cache_dir=tmp_path, progress=False)
    assert res.players == ["A", "B"]
    assert res.grand_cost == pytest.approx(450) == qzopt.solve(sc, isolate=False).objective
    alone = res.coalitions.set_index("players")["cost"]
    assert alone[("A",)] == float("inf") and alone[("B",)] == float("inf")
    # coalition_costs plays every jurisdiction by default, C too: then {A, B} is a proper coalition,
    # which may not use C's site
    from qzopt.sharing.coalitions import coalition_costs

    every = coalition_costs(sc, by="jurisdiction", cache_dir=tmp_path, workers=1, progress=False)
    cost = every.set_index("players")["cost"]
    assert cost[("A", "B")] == float("inf") and cost[("A", "B", "C")] == pytest.approx(450)
    # and the coalition table says why, from the checks made before solving
    why = res.coalitions.set_index("players")["reason"]
    assert why[("A",)].startswith("cannot serve its demand with the sites it may use: demand point 'A' (10 t) "
                                  "cannot reach any site")


def test_long_coalitions_are_named_by_who_is_left_out():
    from qzopt.sharing.share import coalition_label

    players = [f"c{k:02d}" for k in range(33)]
    assert coalition_label(players[:-1], players) == "all but c32"
    assert coalition_label(players, players) == "all"
    assert coalition_label(players[:2], players) == "c00 + c01"
    assert coalition_label(["A", "B"], ["A", "B", "C"]) == "A + B"  # three players: names are short anyway
    assert coalition_label(["A", "B", "D"], list("ABCD")) == "all but C"
    assert coalition_label(list("ABCD"), list("ABCDEF")) == "all but E and F"
    assert coalition_label(list("ABCDE"), list("ABCDEFGH")) == "all but F, G and H"


def test_the_coalitions_are_solved_by_the_scenarios_solver_unless_one_is_named(tmp_path):
    # share used to pass solver="auto" to every coalition, so a scenario's `solver: {name: cbc}` was
    # ignored (HiGHS solved them); the costs are the hand values of line_scenario either way
    sc = line_scenario().replace(solver={"name": "cbc", "fallback": ()})
    by_file = share(sc, by="jurisdiction", methods=("proportional",), workers=1, cache_dir=tmp_path, progress=False)
    assert by_file.solvers == ["cbc"]
    named = share(sc, by="jurisdiction", methods=("proportional",), solver="highs", workers=1, cache_dir=tmp_path,
                  progress=False)
    assert named.solvers == ["highs"]
    assert _costs(named.coalitions) == _costs(by_file.coalitions)
    assert named.coalitions["cost"].max() == pytest.approx(350.0)  # the grand coalition: the hand optimum


def test_sharing_md_columns_carry_units_and_no_negative_zero():
    from qzopt.report.markdown import points

    res = share(line_scenario(), by="jurisdiction", methods=("proportional",), territory="all")
    text = res.to_markdown()
    for header in ("stand-alone cost (yuan/yr)", "allocated cost (yuan/yr)", "saving (yuan/yr)", "saving (%)"):
        assert f"| {header} |" in text or f"| {header}" in text
    assert "_per_yr" not in text.split("## Coalition costs")[0]  # no raw field names above the coalition table
    # allocated cost over demand includes haulage and side streams: it was headed "fee (yuan/t)", which
    # read as the scenario's fee (qianzhong-wte: 174.92 beside a uniform fee of 80)
    head = text.split("## Coalition costs")[0]
    assert "allocated cost per unit (" in head and "| fee (" not in head
    assert points(-0.04, 1) == "0.0 %" and points(-0.06, 1) == "-0.1 %" and points(float("nan"), 1) == "n/a"


def _excluded_ends():
    """line_scenario with s1 and s3 excluded: A and C have no site of their own."""
    sc = line_scenario()
    return sc.replace(sites=sc.sites.assign(excluded=[True, False, True]))


def test_a_territory_other_than_own_or_all_is_refused_not_read_as_all(tmp_path):
    """territory="Own" was anything-but-"own", i.e. "all": A and C then used B's site and had a
    finite stand-alone cost that their own territory does not give them."""
    from qzopt.errors import QzoptError

    sc = _excluded_ends()
    for bad, said in (("Own", "'Own': must be 'own' or 'all' (did you mean 'own'?)"),
                      ("al", "'al': must be 'own' or 'all' (did you mean 'all'?)"),
                      (None, "None: must be 'own' or 'all'")):
        with pytest.raises(QzoptError) as info:
            share(sc, by="jurisdiction", territory=bad, workers=1, cache_dir=tmp_path, progress=False)
        assert str(info.value) == f"share(): territory {said}" and isinstance(info.value, ValueError)
    with pytest.raises(QzoptError, match=r"restrict\(\): territory 'Own': must be 'own' or 'all'"):
        restrict(sc, {"A"}, territory="Own")
    with pytest.raises(QzoptError, match=r"coalition_costs\(\): territory 'ALL': must be 'own' or 'all'"):
        coalition_costs(sc, by="jurisdiction", territory="ALL", cache_dir=tmp_path, progress=False)
    own = share(sc, by="jurisdiction", methods="proportional", workers=1, cache_dir=tmp_path, progress=False)
    assert own.coalitions.set_index("players")["cost"][("A",)] == float("inf")


def test_bad_share_arguments_are_named_not_a_traceback_from_inside(tmp_path):
    from qzopt.errors import QzoptError

    sc = line_scenario()
    kw = dict(by="jurisdiction", workers=1, cache_dir=tmp_path, progress=False)
    for args, said in [
        (dict(by="nope"), "share(): by 'nope': no column 'nope' on the jurisdictions; use 'jurisdiction'"),
        (dict(methods=["nope"]), "share(): methods ['nope']: 'nope' is not a method; choose from proportional"),
        (dict(methods="shapely"), "share(): methods 'shapely': 'shapely' is not a method; choose from "
                                  "proportional, scrb, shapley, nucleolus, or 'all' (did you mean 'shapley'?)"),
        (dict(methods=[]), "share(): methods []: names no method"),
        (dict(samples=1), "share(): samples 1: must be a whole number from 2 to 1,000,000"),
        (dict(samples="5"), "share(): samples '5': must be a whole number from 2 to 1,000,000, not str"),
        (dict(seed=-1), "share(): seed -1: must be a whole number 0 or more"),
        (dict(seed="1"), "share(): seed '1': must be a whole number 0 or more, not str"),
        (dict(workers=2.5), "share(): workers 2.5: must be a whole number 1 or more, not float"),
        (dict(workers=0), "share(): workers 0: must be a whole number 1 or more (None: one per core)"),
        (dict(workers=-2), "share(): workers -2: must be a whole number 1 or more"),
    ]:
        with pytest.raises(QzoptError) as info:
            share(sc, **{**kw, **args})
        assert str(info.value).startswith(said), (args, str(info.value))
        assert isinstance(info.value, (ValueError, TypeError))  # what was raised before is still caught
    with pytest.raises(QzoptError, match=r"coalition_costs\(\): workers 0: must be a whole number 1 or more"):
        coalition_costs(sc, by="jurisdiction", workers=0, cache_dir=tmp_path, progress=False)
    # a string is one method (or several joined by commas, as --method takes them), not its letters
    one = share(sc, methods="shapley", **kw)
    assert list(one.allocations.columns) == ["shapley"]
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    with pytest.raises(QzoptError, match=r"^SharingResult.write\(\): outdir '.*taken': is a file, not a folder"):
        one.write(tmp_path / "taken")
    assert list(share(sc, methods="scrb, shapley", **kw).allocations.columns) == ["scrb", "shapley"]
    assert list(share(sc, methods="all", **kw).allocations.columns) == list(share(sc, **kw).allocations.columns)
    # the path of a scenario file, as solve() takes it
    with pytest.raises(QzoptError, match="share\\(\\) takes a Scenario or the path of a scenario file, not int"):
        share(3)
    with pytest.raises(QzoptError, match="scenario file not found"):
        share(str(tmp_path / "no-such.yaml"))
    res = share(SEWAGE, by="jurisdiction", methods="proportional", territory="all", workers=1, cache_dir=tmp_path,
                progress=False)
    assert res.source == str(SEWAGE) and res.grand_cost == pytest.approx(qzopt.solve(SEWAGE).objective, rel=1e-9)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qzopt.cli", *args], capture_output=True, text=True, env=env)


def test_a_cache_folder_that_is_a_file_is_named_by_where_it_came_from(tmp_path):
    # QZOPT_CACHE or ~/.cache/qzopt naming a file: a NotADirectoryError traceback (exit 1) before
    import os

    from qzopt.errors import QzoptError
    from qzopt.sharing.coalitions import cache_folder

    afile = tmp_path / "afile"
    afile.write_text("not a folder", encoding="utf-8")
    home = tmp_path / "home"
    (home / ".cache").mkdir(parents=True)
    (home / ".cache" / "qzopt").write_text("not a folder", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "QZOPT_CACHE"}
    for extra, said in [({"QZOPT_CACHE": str(afile)}, f"QZOPT_CACHE {afile}: that is a file, not a folder; set "
                                                      "QZOPT_CACHE to a folder, or name one with --cache"),
                        ({"HOME": str(home)}, f"the default cache folder {home / '.cache' / 'qzopt'}: that is a "
                                              "file, not a folder")]:
        proc = _cli("share", str(TEACH), "--workers", "1", "-o", str(tmp_path / "out"), env={**env, **extra})
        assert proc.returncode == 2 and said in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "coalitions" not in proc.stdout  # refused before any solve
    with pytest.raises(QzoptError, match=r"^coalition_costs\(\): cache_dir '.*afile': is a file, not a folder"):
        cache_folder(afile)
    assert cache_folder(tmp_path / "c") == tmp_path / "c" / "coalitions" and (tmp_path / "c" / "coalitions").is_dir()


def test_share_of_an_infeasible_scenario_says_why_and_exits_3(tmp_path):
    # before: "error: Game.table(): allocation {'A': inf, ...}: must be finite numbers", exit 2
    from qzopt.errors import InfeasibleError

    small = ["--set", "sewage.plants.capacities=[1000]"]
    said = ("the whole scenario (the grand coalition, whose cost is to be shared) cannot be satisfied: the largest "
            "possible total capacity, 3,000 m3/d (every usable site at its largest size), is smaller than the demand "
            "that must be served, 25,000 m3/d.")
    proc = _cli("share", str(SEWAGE), *small, "--workers", "1", "--cache", str(tmp_path / "cache"),
                "-o", str(tmp_path / "s"))
    assert proc.returncode == 3 and said in proc.stderr, proc.stderr
    assert "Game.table" not in proc.stderr and "Traceback" not in proc.stderr
    assert _cli("solve", str(SEWAGE), *small, "--no-html", "-o", str(tmp_path / "r")).returncode == 3  # as solve
    sc = qzopt.load_scenario(SEWAGE, {"sewage.plants.capacities": "[1000]"})
    with pytest.raises(InfeasibleError) as info:
        share(sc, by="jurisdiction", workers=1, cache_dir=tmp_path / "cache", progress=False)
    assert str(info.value) == said and info.value.exit_code == 3


def test_a_frontier_without_its_first_plan_exits_as_solve_does(tmp_path):
    # before: exit 2 for both, and "the scenario without fee rules is error: no feasible solution ..."
    proc = _cli("frontier", str(SEWAGE), "--set", "sewage.plants.capacities=[1000]", "-o", str(tmp_path / "f"))
    assert proc.returncode == 3, proc.stderr
    assert ("error: the scenario without fee rules (the frontier's first point) cannot be satisfied: the largest "
            "possible total capacity, 3,000 m3/d") in proc.stderr and "Traceback" not in proc.stderr
    proc = _cli("frontier", str(SEWAGE), "--time-limit", "0.0001", "-o", str(tmp_path / "f"))
    assert proc.returncode == 4, proc.stderr
    assert ("error: the scenario without fee rules (the frontier's first point) has no plan: no feasible solution "
            "was found within the time limit (tried highs: ") in proc.stderr
    assert "is error" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_frontier_whose_points_coincide_says_so_and_shows_no_cap_of_0(tmp_path):
    # wte-4towns: the fee is 0 with or without a cap (before: 2 of 3 points, one with cap 0, no word why)
    from qzopt.fees import default_caps

    proc = _cli("frontier", str(TEACH), "--points", "3", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    note = ("the fee is 0 yuan/t both at its smallest and in the cheapest plan, so no cap above 0 changes the plan: "
            "no capped point is solved (of the 3 asked), and the frontier is the plan without fee rules")
    assert note in " ".join(proc.stdout.split()) and f"; {note} |" in (tmp_path / "frontier.md").read_text()
    rows = json.loads((tmp_path / "frontier.json").read_text())
    assert [r["point"] for r in rows] == ["no fee rule"]
    assert rows[0]["note"].endswith("; " + note)  # in frontier.csv/.json too, where the report reads the rows
    assert "1 site " in proc.stdout and "1 sites" not in proc.stdout  # the opened column: 1 site, 2 sites
    assert default_caps(0.5, 0.5, 3, "yuan/m3") == ([0.5], "all 3 points coincide: the fee does not change between "
                                                    "its smallest and the cheapest plan's (0.5 yuan/m3 both), so one "
                                                    "cap, 0.5, is solved")
    assert default_caps(0.5, 0.5, 1, "yuan/m3") == ([0.5], None)  # one point asked, one given
    assert default_caps(0.5, 1.0, 3, "yuan/m3") == ([0.5, 0.75, 1.0], None)


def test_scrb_and_shapley_do_not_point_to_methods_that_are_undefined_here(tmp_path):
    """Four WtE towns on their own territory: scrb's and shapley's notes said "use the nucleolus
    or the least core", and the next note said both are undefined for this game."""
    res = share(TEACH, territory="own", workers=1, cache_dir=tmp_path, progress=False)
    assert any(n.startswith("least core:") and "undefined" in n for n in res.notes), res.notes
    for method in ("scrb", "shapley"):
        said = next(n for n in res.notes if n.startswith(f"{method}:"))
        assert "use the nucleolus" not in said and "are undefined here too" in said, said


def test_a_frontier_solves_caps_in_rising_order_and_says_why_a_point_is_what_it_is():
    # three towns: the smallest fee any plan needs is 0.609589 yuan/m3 (one plant at B), the
    # cheapest plan's 0.773973 (docs/fees.md); caps given out of order and one twice
    from qzopt.fees import frontier

    table = frontier(SEWAGE, caps=[0.8, 0.3, 0.62, 0.65, 0.62, 0], solve_kwargs={"isolate": False})
    assert table["fee_cap"].tolist()[1:] == [0.0, 0.3, 0.62, 0.65, 0.8]
    rows = table.set_index("fee_cap", drop=False)
    free = table.iloc[0]
    # a cap of 0 is taken, as fees.max_fee: 0 is (plants break even without fees): none can here
    assert rows.loc[0.0, "status"] == "infeasible" and rows.loc[0.0, "note"].startswith("no plan: the cap is below")
    from qzopt.cli import fee_caps

    assert fee_caps("0, 0.62") == [0.0, 0.62]
    assert rows.loc[0.3, "status"] == "infeasible"
    assert rows.loc[0.3, "note"] == "no plan: the cap is below the smallest fee any plan needs (0.609589 yuan/m3)"
    assert rows.loc[0.8, "note"] == "the cap does not bind: the cheapest plan's fee (0.773973 yuan/m3) is within it"
    assert rows.loc[0.8, "total_cost_per_yr"] == pytest.approx(free["total_cost_per_yr"], rel=1e-9)
    assert rows.loc[0.62, "note"] == "" and rows.loc[0.62, "fee"] == pytest.approx(0.609589, abs=1e-6)
    # proven points: the price is one figure, both ends of its range
    proven = table[table["status"] == "optimal"]
    assert (proven["price_of_equalization_lower_per_yr"] == proven["price_of_equalization_per_yr"]).all()
    assert (proven["price_of_equalization_upper_per_yr"] == proven["price_of_equalization_per_yr"]).all()
    assert set(table["fee_rule"]) == {"one uniform fee, costs recovered per plant"}
    assert table["note"].iloc[0].startswith("its fee, 0.773973 yuan/m3, and the smallest fee any plan needs, "
                                            "0.609589 yuan/m3, are from two further solves (")


def test_a_frontier_under_banded_fees_finds_the_smallest_fee_a_plan_has():
    # before: the smallest-fee solve ran with a cap of 1e7 yuan/m3 as the fee revenue's big M,
    # reported a smallest fee of 0.436 no plan has, and the frontier ended "cannot be satisfied"
    from qzopt.fees import frontier

    sc = qzopt.load_scenario(SEWAGE, {"fees": {"mode": "banded", "band": 0.1, "recovery": "per_plant", "max_fee": 1},
                                      "constraints.single_sourcing": True})
    table = frontier(sc, points=3, solve_kwargs={"isolate": False})
    capped = table[table["point"] == "capped"]
    assert len(capped) == 3 and (capped["status"] == "optimal").all()
    # the smallest mean fee within a 10 % band: one plant at B, as with one uniform fee but the
    # towns' fees spread within the band (0.597636 at every cap from 1 to 1e5, solved one by one)
    assert capped["fee_cap"].iloc[0] == pytest.approx(capped["fee"].iloc[0]) == pytest.approx(0.597636, abs=1e-6)
    assert (capped["fee"] <= capped["fee_cap"] * (1 + 1e-6)).all()
    assert (capped["total_cost_per_yr"] >= table["total_cost_per_yr"].iloc[0] * (1 - 1e-9)).all()
    assert set(table["fee_rule"]) == {"fees within a 10 % band of their mean, costs recovered per plant"}


def test_a_frontier_point_cut_short_gives_its_price_as_a_range():
    # a capped solve stopped at its time limit (plan 120, bound 100) against a proven plan
    # without fee rules (100): the price lies between 0 and 20, not "20"
    from types import SimpleNamespace

    import pandas as pd

    from qzopt.fees import _frontier_row
    from qzopt.report.markdown import frontier_view

    def solved(objective, bound, status):
        return SimpleNamespace(objective=objective, bound=bound, status=status, ok=True, solver="highs",
                               gap=(objective - bound) / objective, seconds=1.0, extra={"fees": {"fee": 5.0}},
                               open_sites=pd.DataFrame({"site": ["s1"]}))

    free = solved(100.0, 100.0, "optimal")
    row = _frontier_row(solved(120.0, 100.0, "feasible"), 6.0, free, "capped")
    assert (row["price_of_equalization_per_yr"], row["price_of_equalization_lower_per_yr"],
            row["price_of_equalization_upper_per_yr"]) == (20.0, 0.0, 20.0)
    view = frontier_view(pd.DataFrame([_frontier_row(free, None, free, "no fee rule", fee=5.0), row]), "yuan", "yuan/t")
    assert view["price of equalisation (yuan/yr)"].tolist() == ["0", "20 (between 0 and 20)"]
    assert view["fee cap (yuan/t)"].tolist() == ["none", "6"] and view["status"].tolist() == ["optimal", "feasible"]
    assert view["gap"].tolist() == ["0.0 %", "16.7 %"]
    # a cap above the fee of a plan not proved cheapest: its note does not call that plan the cheapest
    from qzopt.fees import _cap_note

    assert _cap_note(7.0, row_ok := SimpleNamespace(ok=True), 4.0, 5.0, "yuan/t", proved=False) == (
        "the cap does not bind: the cheapest plan found needs 5 yuan/t, within it (a time limit stopped that solve: "
        "the plan was not proved cheapest)")
    assert _cap_note(7.0, row_ok, 4.0, 5.0, "yuan/t") == "the cap does not bind: the cheapest plan's fee (5 yuan/t) is within it"


def test_a_core_the_finite_coalitions_do_not_bound_is_said_not_empty(tmp_path):
    """Three towns on their own territory: A and C cannot serve themselves (nor can A + C), so the
    least core is unbounded.  The core was reported "unknown, not tested" beside a method said to be
    in it; it is not empty: x = (3.0 M, 3.0 M, 1,867,075) meets B <= 3,091,500, A + B <= 6,033,000
    and B + C <= 4,925,575 and sums to c(N) = 7,867,075 (checked by hand)."""
    res = share(SEWAGE, by="jurisdiction", workers=1, cache_dir=tmp_path, progress=False)
    cost = {frozenset(p): c for p, c in zip(res.coalitions["players"], res.coalitions["cost"])}
    x = {"A": 3_000_000.0, "B": 3_000_000.0, "C": 1_867_075.0}
    assert sum(x.values()) == pytest.approx(res.grand_cost)
    assert all(sum(x[p] for p in s) <= c for s, c in cost.items() if c != float("inf"))
    assert res.core_empty is False and res.core_status.startswith("not empty: there are allocations no coalition "
                                                                  "would leave (the coalitions with finite cost do "
                                                                  "not bound the allocation")
    assert res.to_dict()["core_empty"] is False
    # asked for Shapley alone, which no finite table gives here: exit 3 (it was 0), files written
    proc = _cli("share", str(SEWAGE), "--players", "jurisdiction", "--method", "shapley", "--cache", str(tmp_path),
                "-o", str(tmp_path / "out"))
    assert proc.returncode == 3 and ("error: none of the methods asked (shapley) gives an allocation in this game"
                                     in proc.stderr) and (tmp_path / "out" / "sharing.json").is_file()
    # the notes name coalitions as the tables do ("A + C"), not as sets ("{A, C}")
    assert any(n.startswith("scrb: scrb needs finite costs, but coalition(s) A, C, A + C have") for n in res.notes)


def test_sharing_md_says_when_it_lists_only_the_largest_core_violations_and_the_report_names_coalitions_alike(tmp_path):
    """sharing.md said "88 coalition(s) would pay less alone:" above 10 rows; the report named the
    worst coalition "A + B + C" where sharing.md and the console say "all but D"."""
    import dataclasses

    import pandas as pd

    from qzopt.report.markdown import sharing_text

    res = share(TEACH, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path, progress=False)
    worst = res.core["proportional"]
    assert worst["coalition"].tolist() == ["A + B + C"]  # 3 of 4 players: "all but D" in sharing.md
    summary, core, _notes = sharing_text(res.to_dict(), "yuan")
    assert any(line.startswith("proportional: not in the core — 1 coalition(s) would pay less alone, worst all but D by ")
               for line in core), core
    assert "Core: " in summary and "least-core ε" in summary and "0 or below: the core is not empty" in summary
    many = pd.DataFrame({"coalition": ["A + B"] * 12, "size": 2, "allocated": 10.0, "stand_alone": 9.0,
                         "excess": [float(12 - k) for k in range(12)]})
    plain = res.to_markdown()
    assert "**nucleolus** makes the largest overcharge" in plain and "| yes |" in plain and "| True |" not in plain
    text = dataclasses.replace(res, core={**res.core, "proportional": many}).to_markdown()
    assert ("Not in the core: 12 coalition(s) would pay less alone; the 10 with the largest excess (all 12 in "
            "sharing.json, `core_violations`):") in text


def test_with_every_site_allowed_a_coalition_may_use_anothers_plant_but_need_not_run_it(tmp_path):
    # A, B, C at km 0, 10, 20, 10 t each, a plant 150/yr, haul 1 per t-km; C's s3 is an existing
    # plant.  With territory "all" a coalition without C was made to run s3 too: c(A) = 300 (s1 and
    # s3), c(A, B) = 400.  By hand, s3 optional: c(A) = 150 (s1), c(A, B) = 250 (one plant, 10 t
    # hauled 10 km), c(A, C) = 300 (s1 and C's own s3, which C must run); the grand coalition is
    # the scenario: s3 and one more plant, 400
    from qzopt.sharing.coalitions import coalition_costs

    from conftest import line_scenario

    sc = line_scenario(existing=("", "", "std"))
    costs = coalition_costs(sc, by="jurisdiction", territory="all", workers=1, cache_dir=tmp_path, progress=False)
    c = costs.set_index("players")["cost"]
    assert c[("A",)] == pytest.approx(150) and c[("B",)] == pytest.approx(150) and c[("C",)] == pytest.approx(150)
    assert c[("A", "B")] == pytest.approx(250) and c[("A", "C")] == pytest.approx(300)
    assert c[("A", "B", "C")] == pytest.approx(400) == qzopt.solve(sc).objective
