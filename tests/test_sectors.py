"""Sector models: hand-solved teaching scenarios and invariants of the Qianzhong results.

The teaching optima are derived by hand in docs/sectors/*.md; the expected values below are
recomputed here from the same arithmetic, independently of the model.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import qzopt

from conftest import ROOT, SCENARIOS

TEACH = SCENARIOS / "teaching"


def solve(path, **kw):
    return qzopt.solve(qzopt.load_scenario(path), **kw)


# ------------------------------------------------------------------- teaching optima
def test_sewage_teaching_optimum():
    # Plan: A sends its 10,000 m3/d through a 10 km sewer to a 22,500 m3/d plant in B; C keeps a
    # 10,000 m3/d plant; all sludge goes to the existing centre in B (C's 3.5 t/d over 30 km).
    capital = (1e5 * math.sqrt(22500) + 1e5 * math.sqrt(10000)) / 20      # 750,000 + 500,000
    sewer = 10 * 2e5 / 20                                                  # 100,000
    sludge_haul = 3.5 * 30 * 1.0 * 365                                     # 38,325
    constant = 25000 * 365 * 0.5 + 17.5 * 365 * 300                        # opex + sludge treatment
    res = solve(TEACH / "sewage-3towns.yaml")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(capital + sewer + sludge_haul + constant, rel=1e-9)
    plants = res.open_sites.set_index("site")["size"].to_dict()
    assert plants == {"wwtp_B": "Q22500", "wwtp_C": "Q10000"}
    assert set(map(tuple, res.assignments[["demand", "site"]].values)) == {("A", "wwtp_B"), ("B", "wwtp_B"),
                                                                         ("C", "wwtp_C")}


def test_wte_teaching_optimum():
    # One 3-line plant in B takes all 900 t/d; fly ash stays in B; the kitchen plant in A treats
    # exactly the 70 % minimum (63 t/d: A 30, B 30, C 3) and the rest pays the 100 yuan/t penalty.
    capital = 1e7 * math.sqrt(1200) / 25
    haul = (300 * 20 + 200 * 20 + 100 * 60) * 1.0 * 365
    burn = 900 * 365 * (100 - 300 * 0.5)                   # opex minus electricity
    fly_ash = 36 * 365 * 2000
    kitchen = 1e7 / 25 + 63 * 365 * 200 + (30 * 20 + 3 * 40) * 365 + 27 * 365 * 100
    res = solve(TEACH / "wte-4towns.yaml")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(capital + haul + burn + fly_ash + kitchen, rel=1e-9)
    assert res.open_sites.set_index("site")["size"].to_dict() == {"wte_B": "3x400"}
    k = res.extra["streams"]["kitchen"]["demands"]
    assert k["served"].sum() == pytest.approx(0.7 * k["amount"].sum())


def test_coldchain_teaching_optimum():
    # One large hub at H: a small hub cannot take P's peak (1.5 x 100 + 2 x 20 = 190 > 150 t/d),
    # Q cannot reach P within 2 h at 50 km/h (120 km), so everything goes to H and on to G.
    capital = 1.6e7 / 20
    inbound = (120 * 40 + 50 * 80) * 365
    outbound = 170 * 20 * 365
    handling = 170 * 50 * 365
    res = solve(TEACH / "coldchain-3origins.yaml")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(capital + inbound + outbound + handling, rel=1e-9)
    assert res.open_sites.set_index("site")["size"].to_dict() == {"hub_H": "L"}


def test_coldchain_perishability_limit_drops_pairs():
    sc = qzopt.load_scenario(TEACH / "coldchain-3origins.yaml")
    from qzopt.geo.pairs import allowed_pairs

    pairs = allowed_pairs(sc)
    allowed = {(sc.demands.index[i], sc.sites.index[j]) for i, j in zip(pairs.i, pairs.j)}
    assert ("Q:vegetables", "hub_P") not in allowed      # 120 km > 2 h x 50 km/h
    assert ("P:fungi", "hub_Q") not in allowed           # 120 km > 1 h x 50 km/h
    assert ("P:fungi", "hub_H") in allowed               # 40 km


# ---------------------------------------------------------------- Qianzhong invariants
QIANZHONG = ["qianzhong-sewage.yaml", "qianzhong-wte.yaml", "qianzhong-coldchain.yaml"]


@pytest.fixture(scope="module", params=QIANZHONG)
def solved(request):
    sc = qzopt.load_scenario(SCENARIOS / request.param)
    return sc, qzopt.solve(sc, solver="highs", time_limit=300)


def test_qianzhong_solves_to_proven_optimality(solved):
    sc, res = solved
    assert res.status == "optimal" and res.gap == pytest.approx(0.0, abs=1e-6)


def test_every_demand_served_or_counted_unserved(solved):
    sc, res = solved
    d = res.demands
    assert np.allclose(d["served"] + d["unserved"], d["amount"])
    assert res.assignments.groupby("demand")["amount"].sum().reindex(d["id"]).fillna(0).to_numpy() == pytest.approx(
        d["served"].to_numpy())
    if not sc.policy.partial_service:
        assert d["unserved"].max() < 1e-6


def _all_facility_tables(res):
    tables = [res.facilities]
    for part in list(res.extra.get("echelons", {}).values()) + list(res.extra.get("streams", {}).values()):
        if "facilities" in part:
            tables.append(part["facilities"])
    return tables


def test_no_capacity_or_minimum_load_broken(solved):
    sc, res = solved
    for f in _all_facility_tables(res):
        o = f[f["open"]]
        assert (o["load"] <= o["capacity"] * (1 + 1e-9) + 1e-6).all()
        assert (f.loc[~f["open"], "load"].abs() < 1e-6).all()
        for col in [c for c in f.columns if c.endswith("_used")]:
            cap = f[col.replace("_used", "_capacity")]
            assert (f[col] <= cap * (1 + 1e-9) + 1e-6).all()
    sizes = sc.sizes.set_index(["site", "size"])
    for row in res.open_sites.itertuples():
        assert row.load >= sizes.loc[(row.site, row.size), "min_load"] - 1e-6


def test_no_distance_limit_broken(solved):
    sc, res = solved
    a = res.assignments
    if sc.policy.max_distance is not None:
        assert (a["distance"] <= sc.policy.max_distance + 1e-9).all()
    own = sc.demands["max_distance"].reindex(a["demand"]).to_numpy(float)
    assert np.all(~(a["distance"].to_numpy() > np.nan_to_num(own, nan=np.inf) + 1e-9))


def test_second_echelon_mass_balance(solved):
    sc, res = solved
    for name, part in res.extra["echelons"].items():
        ed = sc.sector_data.echelons[name]
        flows = part["flows"]
        out = flows.groupby("source")["amount"].sum()
        load = res.facilities.set_index("site")["load"]
        producing = sc.sites.index if ed.source_sites is None else sc.sites.index[ed.source_sites]
        for site in producing:
            assert out.get(site, 0.0) == pytest.approx(ed.ratio * load[site], abs=1e-6), (name, site)
        if "facilities" in part:
            inflow = flows.groupby("destination")["amount"].sum()
            for row in part["facilities"].itertuples():
                assert inflow.get(row.site, 0.0) == pytest.approx(row.load, abs=1e-6)


def test_costs_add_up_to_the_objective(solved):
    sc, res = solved
    assert sum(res.cost_breakdown().values()) == pytest.approx(res.objective, rel=1e-9)
    service = res.jurisdictions["service_cost_per_yr"].sum()
    for part in res.extra.get("streams", {}).values():
        service += part["jurisdictions"]["service_cost_per_yr"].sum()
    assert service == pytest.approx(res.objective, rel=1e-9)


def test_sector_rules(solved):
    sc, res = solved
    if sc.sector == "sewage":
        # only the same or adjacent counties share a plant (the sewage default)
        a = res.assignments
        sj = sc.sites["jurisdiction"].reindex(a["site"]).to_numpy()
        for dj, s in zip(a["jurisdiction"], sj):
            assert dj == s or frozenset((dj, s)) in sc.adjacency
        assert (a["distance"] <= sc.sector_data.spec.trunk_sewer.max_length).all()
    if sc.sector == "wte":
        lines = sc.sector_data.spec.lines
        plants = res.open_sites[res.open_sites["site"].map(sc.sector_data.site_role) == "plant"]
        for row in plants.itertuples():
            if row.existing:
                continue
            n = int(row.size.split("x")[0])
            assert lines.min_lines() <= n <= lines.max_lines and row.capacity == n * lines.line_size
        assert set(plants["site"]) >= {"wte_baiyun", "wte_renhuai", "wte_qixingguan", "wte_kaili", "wte_duyun"}
        k = res.extra["streams"]["kitchen"]["demands"]
        assert k["served"].sum() >= 0.7 * k["amount"].sum() - 1e-6
        assert res.facilities["revenue_per_yr"].sum() > 0
    if sc.sector == "coldchain":
        assert "cc_guanshanhu" in set(res.open_sites["site"])


@pytest.mark.parametrize("name", QIANZHONG + ["teaching/sewage-3towns.yaml", "teaching/wte-4towns.yaml",
                                              "teaching/coldchain-3origins.yaml"])
def test_validates_from_the_cli(name):
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "validate", str(SCENARIOS / name)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_coldchain_runs_from_the_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(SCENARIOS / "qianzhong-coldchain.yaml"),
                           "-o", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import json

    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["sector"] == "coldchain" and doc["echelons"]["outlets"]["flows"]
    assert doc["jurisdictions"] and doc["cost_breakdown"]


def test_fee_rules_hold(solved):
    sc, res = solved
    if sc.fees is None:
        pytest.skip("no fee rules in this scenario")
    fees = res.extra["fees"]
    assert 0 <= fees["fee"] <= sc.fees.max_fee * (1 + 1e-9)
    plants = fees["plants"]
    # every plant recovers its annual cost from the uniform fee on its own volume
    revenue = fees["fee"] * plants["volume"] * sc.units.per_year
    assert (plants["annual_cost_per_yr"] <= revenue + 1e-6 * plants["annual_cost_per_yr"].abs().max()).all()
    assert plants["break_even_fee"].max() == pytest.approx(fees["fee"], rel=1e-6)
    assert fees["price_of_equalization_per_yr"] >= -1e-6 * res.objective
    assert fees["unconstrained_cost_per_yr"] <= res.objective * (1 + 1e-9)
    assert "fee" in res.jurisdictions.columns


# ------------------------------------------------------------ result tables add up
def _facility_identity(res):
    """Sum over the facility rows of every stream of total_cost_per_yr + downstream_cost_per_yr,
    plus unserved-demand penalties (docs/model.md, "Result tables")."""
    total = 0.0
    parts = [{"facilities": res.facilities, "demands": res.demands}] + list(res.extra.get("streams", {}).values())
    for part in parts:
        f, d = part["facilities"], part["demands"]
        total += float((f["total_cost_per_yr"] + f["downstream_cost_per_yr"]).sum())
        total += float(d["unserved_cost_per_yr"].sum())  # every demands table has it (0 without a penalty)
    return total


WTE_TRANSFER = """
  transfer:     # a compaction station in D: 100 t/d at 0.2 instead of 1 yuan/t/km over the 60 km to B
    compacted_transport: 0.2
    sites:
      - {id: ts_D, jurisdiction: D, sizes: [{name: T200, capacity: 200, capex: 1.0e6, unit_cost: 10}]}
"""


@pytest.fixture(scope="module")
def wte_with_station(tmp_path_factory):
    import shutil

    tmp = tmp_path_factory.mktemp("wte_transfer")
    shutil.copy(TEACH / "four_towns_roads.csv", tmp / "four_towns_roads.csv")
    text = (TEACH / "wte-4towns.yaml").read_text(encoding="utf-8")
    anchor = "  fly_ash:\n"
    assert anchor in text
    (tmp / "wte.yaml").write_text(text.replace(anchor, WTE_TRANSFER.lstrip("\n") + anchor, 1), encoding="utf-8")
    return solve(tmp / "wte.yaml")


def test_facility_costs_add_up_to_the_objective_with_a_transfer_station(wte_with_station):
    res = wte_with_station
    assert res.status == "optimal"
    # the station beats the direct haul: 40,000 capital + 100 x 365 x (10 + 60 x 0.2) = 843,000
    # against 100 x 60 x 365 = 2,190,000 yuan/yr, so the objective drops by 1,347,000
    assert res.objective == pytest.approx(35_798_706.0 - 1_347_000.0, abs=1.0)
    f = res.facilities.set_index("site")
    assert f.loc["ts_D", "open"] and f.loc["ts_D", "load"] == pytest.approx(100.0)
    # the station's downstream cost is its compacted haul only: wte_B's costs are on wte_B's row
    assert f.loc["ts_D", "downstream_cost_per_yr"] == pytest.approx(100 * 60 * 0.2 * 365)
    assert _facility_identity(res) == pytest.approx(res.objective, rel=1e-9)
    # the attribution to jurisdictions still carries wte_B's costs through the station
    service = res.jurisdictions["service_cost_per_yr"].sum()
    service += res.extra["streams"]["kitchen"]["jurisdictions"]["service_cost_per_yr"].sum()
    assert service == pytest.approx(res.objective, rel=1e-9)


def test_the_fee_note_counts_the_stations_own_costs_beside_their_hauls(wte_with_station):
    # what a per-plant fee leaves out of a station: its own 40,000 capital + 10 x 100 x 365 =
    # 405,000 yuan/yr, and its compacted haul 0.2 x 60 x 100 x 365 = 438,000 (the note used to
    # list the station at "sites 0")
    from qzopt.report.markdown import echelon_costs

    assert echelon_costs(wte_with_station)["transfer"] == pytest.approx((405_000.0, 438_000.0))


@pytest.mark.parametrize("name", ["sewage-3towns.yaml", "wte-4towns.yaml", "coldchain-3origins.yaml"])
def test_facility_costs_add_up_to_the_objective_without_stations(name):
    res = solve(TEACH / name)
    assert _facility_identity(res) == pytest.approx(res.objective, rel=1e-9)


# ------------------------------------------------------------ cold-chain utilisation
def _hub_ratios(f):
    o = f[f["open"]]
    return np.maximum(o["peak_throughput_used"] / o["peak_throughput_capacity"],
                      o["cold_storage_used"] / o["cold_storage_capacity"]), o


def test_coldchain_utilisation_is_the_binding_resource_teaching():
    res = solve(TEACH / "coldchain-3origins.yaml")
    ratio, o = _hub_ratios(res.facilities)
    assert o["utilisation"].to_numpy() == pytest.approx(ratio.to_numpy(), abs=1e-9)
    # hub_H (L): peak 265 of 400 t/d, store 400 of 900 t (docs/sectors/coldchain.md)
    assert o.set_index("site").loc["hub_H", "utilisation"] == pytest.approx(265 / 400, abs=1e-9)


def test_coldchain_utilisation_is_the_binding_resource_qianzhong():
    res = solve(SCENARIOS / "qianzhong-coldchain.yaml", time_limit=30)
    ratio, o = _hub_ratios(res.facilities)
    assert o["utilisation"].to_numpy() == pytest.approx(ratio.to_numpy(), abs=1e-9)
    peak_bound = o[o["peak_throughput_used"] >= o["peak_throughput_capacity"] * (1 - 1e-9)]
    assert len(peak_bound) >= 1
    assert peak_bound["utilisation"].to_numpy() == pytest.approx(1.0, abs=1e-6)


# ------------------------------------------------------------ second-echelon units
def test_echelon_unit_recorded_in_result_json(tmp_path):
    import json

    import yaml

    declared = yaml.safe_load((TEACH / "sewage-3towns.yaml").read_text(encoding="utf-8"))["sewage"]["sludge"]["unit"]
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(TEACH / "sewage-3towns.yaml"),
                           "-o", str(tmp_path), "--time-limit", "30"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert doc["echelons"]["sludge"]["unit"] == declared == "t/d"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "sludge output unit" not in report
    res = qzopt.Result.read(tmp_path)
    assert res.extra["echelons"]["sludge"]["unit"] == declared


# ------------------------------------------------- presolve reductions keep the optimum
HUB_LINE = """\
name: two hubs on a line
sector: coldchain
units: {demand: t/d, distance: km, money: yuan}
jurisdictions: [{id: P, name: P}, {id: Q, name: Q}, {id: H, name: H}, {id: G, name: G}]
sizes:
  hub:
    - {name: S, capacity: 200, fixed_cost: 100000, unit_cost: 10}
    - {name: L, capacity: 400, fixed_cost: 300000, unit_cost: 10}
sites: [{id: hP, jurisdiction: P, sizes: hub}, {id: hH, jurisdiction: H, sizes: hub}]
distances: {method: road_graph, edges: roads.csv, within_node: 5}
costs: {transport: 1.0}
coldchain:
  speed_km_per_h: 50
  storage: {S: 500, L: 2000}
  commodities:
    - {name: veg, origins: {P: 100, Q: 30}, max_hours: 1, peak_factor: 1.0, dwell_days: 10}
  outlets:
    ratio: 1.0
    transport: 1.0
    sites: [{id: G1, jurisdiction: G, existing: true, sizes: [{name: gate}]}]
"""


def test_a_hub_size_needed_for_its_cold_store_is_not_presolved_away(tmp_path):
    # P -30- H -40- Q, gateway G 10 km from H; 1 h at 50 km/h: Q (30 t/d) reaches only H.  S holds
    # the average flow (130 <= 200 t/d) but not the store (130 t/d x 10 d = 1,300 > 500 t): only L
    # at H serves both.  Cost by hand, per year: L 300,000; haul (100 x 30 + 30 x 40) x 365 =
    # 1,533,000; handling 10 x 130 x 365 = 474,500; to the gateway 130 x 10 x 365 = 474,500.
    (tmp_path / "roads.csv").write_text("from,to,km\nP,H,30\nH,Q,40\nH,G,10\n", encoding="utf-8")
    (tmp_path / "cc.yaml").write_text(HUB_LINE, encoding="utf-8")
    res = solve(tmp_path / "cc.yaml", gap=0)
    assert res.status == "optimal" and res.objective == pytest.approx(2_782_000, rel=1e-7)
    # peak flows likewise: S at 150 t/d cannot take the 1.5 x 130 = 195 t/d peak that L at H can;
    # two S hubs (P's 150 t/d peak at hP, Q's at hH) cost 400,000 + 182,500 + 438,000 + 474,500 +
    # 1,460,000 + 109,500 = 3,064,500; L at H costs what it did (a store of 130 t is no cost)
    text = HUB_LINE.replace("capacity: 200, fixed_cost: 100000", "capacity: 150, fixed_cost: 200000") \
        .replace("peak_factor: 1.0, dwell_days: 10", "peak_factor: 1.5, dwell_days: 1")
    (tmp_path / "cc2.yaml").write_text(text, encoding="utf-8")
    res = solve(tmp_path / "cc2.yaml", gap=0)
    assert res.status == "optimal" and res.objective == pytest.approx(2_782_000, rel=1e-7)


TRANSFER_ONLY = """\
name: a county that reaches the plant only through its transfer station
sector: wte
units: {demand: t/d, distance: km, money: yuan}
jurisdictions:
  - {id: A, name: A, population: 310000, urban_share: 1.0}
  - {id: C, name: C, population: 100000, urban_share: 1.0}
sizes:
  fa: [{name: FA, unit_cost: 1000}]
  kp: [{name: K, capacity: 100, fixed_cost: 10000, unit_cost: 150}]
  tr: [{name: T, capacity: 500, fixed_cost: 10000, unit_cost: 10}]
sites: [{id: wA, jurisdiction: A, sizes: lines}]
distances: {method: road_graph, edges: roads.csv, within_node: 5}
costs: {transport: 1.0, discount_rate: 0.0, lifetime_years: 10}
constraints: {max_distance: 50}
wte:
  generation: {urban: 1.0, rural: 0.5, unit: kg}
  lines: {line_size: 300, max_lines: 2, min_plant_size: 300, capex_a: 1.0e6, capex_b: 0.5, fixed_cost_share: 0,
          unit_cost: 100, min_load_share: 0.5}
  electricity: {kwh_per_unit: 400, tariff: 0.65, tariff_cap: 280, tariff_above: 0.35}
  fly_ash: {ratio: 0.04, unit: t/d, transport: 2.0, sites: [{id: faA, jurisdiction: A, existing: true, sizes: fa}]}
  kitchen:
    generation: {urban: 0.1, rural: 0.0, unit: kg, urban_only: true}
    min_central_share: 0.0
    penalty: 100
    sites: [{id: kA, jurisdiction: A, sizes: kp}]
  transfer:
    compacted_transport: 0.5
    sites: [{id: tC, jurisdiction: C, sizes: tr}]
"""


def test_waste_that_reaches_a_plant_through_a_transfer_station_counts_in_its_reach(tmp_path):
    # A (310 t/d) and C (100 t/d) are 100 km apart, direct hauls at most 50 km: C's waste reaches
    # the plant at A only through the station tC (5 km, then compacted, no limit), so the plant
    # takes 410 t/d on two 300 t/d lines.  Per year, by hand: capital 1e6 x 600^0.5 / 10 years =
    # 2,449,490; hauls A->wA 310 x 5 x 365 = 565,750 and C->tC 100 x 5 x 365 = 182,500; station
    # 10,000 + 10 x 100 x 365 = 365,000 more; compacted haul 0.5 x 100 km x 100 x 365 = 1,825,000;
    # burning 100 x 410 x 365 less power (280 x 0.65 + 120 x 0.35) x 410 x 365 = -18,556,600;
    # fly ash 16.4 t/d at 1,000 = 5,986,000 and its 5 km haul at 2 = 59,860; kitchen waste
    # (41 t/d) left to the 100 yuan/t penalty, cheaper than kA's 150: 1,496,500.
    (tmp_path / "roads.csv").write_text("from,to,km\nA,C,100\n", encoding="utf-8")
    (tmp_path / "wte.yaml").write_text(TRANSFER_ONLY, encoding="utf-8")
    res = solve(tmp_path / "wte.yaml", gap=0)
    assert res.status == "optimal"
    hand = (2_449_490 + 565_750 + 182_500 + 10_000 + 365_000 + 1_825_000 - 18_556_600 + 5_986_000 + 59_860
            + 1_496_500)
    assert res.objective == pytest.approx(hand, abs=1.0)
    loads = res.facilities.set_index("site")["load"]
    assert loads["wA"] == pytest.approx(410.0, rel=1e-6) and loads["tC"] == pytest.approx(100.0, rel=1e-6)



def test_kitchen_waste_all_treated_centrally_leaves_the_penalty_out(tmp_path):
    # min_central_share 1: the 41 t/d of kitchen waste (A 31, C 10) go to kA instead of the 100 yuan/t
    # penalty: 10,000 fixed + 150 x 41 x 365 = 2,244,750 treatment; hauls 31 x 5 km x 365 = 56,575 and
    # 10 x 100 km x 365 = 365,000 (the kitchen stream sets no max_distance: no limit); the rest as in
    # the test above.  The schema requires a penalty; with a share of 1 it has no effect and
    # is not passed on (a policy with a penalty and a share of 1 is refused as meaningless)
    (tmp_path / "roads.csv").write_text("from,to,km\nA,C,100\n", encoding="utf-8")
    (tmp_path / "wte.yaml").write_text(TRANSFER_ONLY.replace("min_central_share: 0.0", "min_central_share: 1.0"),
                                       encoding="utf-8")
    res = solve(tmp_path / "wte.yaml", gap=0)
    assert res.status == "optimal"
    hand = (2_449_490 + 565_750 + 182_500 + 10_000 + 365_000 + 1_825_000 - 18_556_600 + 5_986_000 + 59_860
            + 10_000 + 2_244_750 + 56_575 + 365_000)
    assert res.objective == pytest.approx(hand, abs=1.0)
    k = res.extra["streams"]["kitchen"]["demands"]
    assert k["amount"].sum() == pytest.approx(41.0, rel=1e-6)
    assert k["served"].sum() == pytest.approx(41.0, rel=1e-6)  # all of it, none left to the penalty

def test_one_distance_matrix_serves_every_table_of_a_sector_scenario(tmp_path):
    # wte-4towns with its road distances written out as one matrix (rows: towns, kitchen-waste
    # points and plants; columns: plants, the fly-ash site and the kitchen plant): the same optimum
    # as the road graph, 35,798,706 (docs/sectors/wte.md); the matrix's rows for the other tables
    # are not typos
    rows = {"A": "0,20,40,80,20,0", "B": "20,0,20,60,0,20", "C": "40,20,0,80,20,40", "D": "80,60,80,0,60,80"}
    text = "from,wte_A,wte_B,wte_C,wte_D,hw_B,kw_A\n" + "".join(
        f"{prefix}{t}{suffix},{v}\n" for prefix, suffix in (("", ""), ("", ":kitchen"), ("wte_", ""))
        for t, v in rows.items())
    (tmp_path / "m.csv").write_text(text, encoding="utf-8")
    yaml = (TEACH / "wte-4towns.yaml").read_text(encoding="utf-8")
    old = "distances: {method: road_graph, edges: four_towns_roads.csv}"
    assert old in yaml
    (tmp_path / "w.yaml").write_text(yaml.replace(old, "distances: {method: matrix, matrix: m.csv}"), encoding="utf-8")
    assert solve(tmp_path / "w.yaml").objective == pytest.approx(35_798_706.0, abs=1.0)


def test_a_hub_size_without_capacity_is_reported_unlimited_not_at_the_rows_bound(tmp_path):
    # coldchain-3origins with size L unlimited: the same optimum (8,355,500, docs/sectors/coldchain.md;
    # L's 400 t/d did not bind), peak throughput capacity inf (it was reported as 170 t/d x the 2.0
    # peak factor = 340, the row's bound), and utilisation the cold store's 400 / 900 t
    text = (TEACH / "coldchain-3origins.yaml").read_text(encoding="utf-8")
    text = text.replace("{name: L, capacity: 400, capex: 1.6e7, unit_cost: 50}", "{name: L, capex: 1.6e7, unit_cost: 50}")
    (tmp_path / "cc.yaml").write_text(text, encoding="utf-8")
    for f in TEACH.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    res = solve(tmp_path / "cc.yaml")
    assert res.status == "optimal" and res.objective == pytest.approx(8_355_500, rel=1e-9)
    hub = res.open_sites.set_index("site").loc["hub_H"]
    assert hub["size"] == "L" and hub["capacity"] == float("inf") and hub["peak_throughput_capacity"] == float("inf")
    assert hub["utilisation"] == pytest.approx(400 / 900)


@pytest.mark.parametrize("unit", ["t/h", "t/yr"])
def test_a_cold_chain_with_demand_not_per_day_is_refused(tmp_path, unit):
    # the cold store holds dwell_days x the daily amount: with t/h the file's 170 t/h x 2 days would
    # be read as 340 t where it is 8,160 t (it ran and reported the store 400 of 900 t used)
    text = (TEACH / "coldchain-3origins.yaml").read_text(encoding="utf-8")
    assert "demand: t/d" in text
    (tmp_path / "cc.yaml").write_text(text.replace("demand: t/d", f"demand: {unit}"), encoding="utf-8")
    for f in TEACH.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    with pytest.raises(qzopt.errors.ScenarioError) as info:
        qzopt.load_scenario(tmp_path / "cc.yaml")
    msg = " ".join(str(info.value).split())
    assert "cc.yaml" in msg and "units.demand" in msg and "reads demand per day" in msg and repr(unit) in msg


def test_single_sourcing_holds_when_a_hubs_cold_store_binds(tmp_path):
    """Two required hubs whose throughput (1,000 t/d) no point set can fill, but whose cold store
    (S 150 t, L 250 t) can bind: single sourcing was taken as implied (the check saw capacity and
    minimum load only), the fungi of P were split 0.5 / 0.5 between the hubs (8,855,500 yuan/yr) and
    the assignments table gave them to hub_P alone, 300 t in its 250 t store.  Kept, the fungi go
    to hub_H, which needs size L: 9,155,500 (the same model with every assignment binary)."""
    import shutil

    text = (TEACH / "coldchain-3origins.yaml").read_text(encoding="utf-8")
    for old, new in (("{name: S, capacity: 150,", "{name: S, capacity: 1000,"),
                     ("{name: L, capacity: 400,", "{name: L, capacity: 1000,"),
                     ("{id: hub_P, jurisdiction: P, sizes: hub}", "{id: hub_P, jurisdiction: P, sizes: hub, required: true}"),
                     ("{id: hub_H, jurisdiction: H, sizes: hub}", "{id: hub_H, jurisdiction: H, sizes: hub, required: true}"),
                     ("{id: hub_Q, jurisdiction: Q, sizes: hub}", "{id: hub_Q, jurisdiction: Q, sizes: hub, excluded: true}"),
                     ("storage: {S: 300, L: 900}", "storage: {S: 150, L: 250}")):
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "cc.yaml").write_text(text + "constraints: {single_sourcing: true}\n", encoding="utf-8")
    shutil.copy(TEACH / "three_origins_roads.csv", tmp_path)
    sc = qzopt.load_scenario(tmp_path / "cc.yaml")
    res = qzopt.solve(sc, isolate=False)
    assert res.status == "optimal" and res.objective == pytest.approx(9_155_500, rel=1e-9)
    a = res.assignments
    assert (a.groupby("demand")["site"].nunique() == 1).all() and np.allclose(a["share"], 1.0)
    dwell = sc.sector_data.demand_attrs["dwell_days"]
    stored = (a["amount"] * a["demand"].map(dwell)).groupby(a["site"]).sum()
    cap = res.facilities.set_index("site")["cold_storage_capacity"]
    assert (stored <= cap.reindex(stored.index) + 1e-6).all()  # the reported assignment fits every store


@pytest.mark.parametrize("single", [False, True])
def test_a_plants_fee_counts_the_waste_its_transfer_station_brings(tmp_path, single):
    """wA burns 410 t/d: 310 from A directly, 100 from C through station tC.  Under single sourcing
    the linearised fee revenue credited A's 310 t/d only, so the plant had to recover the cost of
    burning 410 from 310: infeasible under a cap of 100 yuan/t, and a fee of 127.45 under 130, where
    96.37 recovers every cost (split assignment, parametric, gave that)."""
    from qzopt.scenario.scenario import FeeRules

    (tmp_path / "roads.csv").write_text("from,to,km\nA,C,100\n", encoding="utf-8")
    text = TRANSFER_ONLY.replace("tariff: 0.65, tariff_cap: 280, tariff_above: 0.35",
                                 "tariff: 0.05, tariff_cap: 280, tariff_above: 0.05")
    if single:
        text = text.replace("constraints: {max_distance: 50}", "constraints: {max_distance: 50, single_sourcing: true}")
    (tmp_path / "wte.yaml").write_text(text, encoding="utf-8")
    sc = qzopt.load_scenario(tmp_path / "wte.yaml").replace(fees=FeeRules(max_fee=100.0, compare=False))
    res = qzopt.solve(sc, gap=0, isolate=False)
    assert res.status == "optimal"
    plant = res.extra["fees"]["plants"].set_index("site").loc["wA"]
    assert plant["volume"] == pytest.approx(410.0, rel=1e-6)
    # the fee recovers the plant's cost from all it burns, no more: cost / (365 x 410)
    assert res.extra["fees"]["fee"] == pytest.approx(plant["annual_cost_per_yr"] / (365 * 410), rel=1e-6)
    assert res.extra["fees"]["fee"] == pytest.approx(96.368, abs=1e-3)
    if single:  # banded fees per plant would need fee x flow: refused with the reason, as split assignment is
        from qzopt.errors import QzoptError

        banded = sc.replace(fees=FeeRules(mode="banded", max_fee=100.0, compare=False))
        with pytest.raises(QzoptError, match=r"banded fees with transfer stations \(what they forward is a continuous"):
            qzopt.solve(banded, isolate=False)
