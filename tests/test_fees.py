"""Equalised fees: exact formulations against brute force, and hand-checkable rule changes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import qzopt
from qzopt import fees as F
from qzopt.report.markdown import render_markdown
from qzopt.scenario.scenario import FeeRules, Policy, Units
from qzopt.solvers.base import SolveOptions
from qzopt.solvers.highs import HighsBackend

from test_sectors import TRANSFER_ONLY
from conftest import line_scenario


# ----------------------------------------------------------------- hand-checkable cases
def three_towns(cap: float, single: bool = False, **rules) -> qzopt.Scenario:
    """Towns A, B, C at km 0, 10, 20 with 10 t each; plants s1 and s3 cost 100/yr, s2 150/yr.

    Without fees the cheapest plan is s1 + s3 (300: 200 + B's 10 t over 10 km).  Break-even
    fees (cost / volume): s2 alone 150/30 = 5; s1 or s3 alone 100/30 = 3.33 (but 400 in all);
    s1 + s3 with B split 5/5: 100/15 = 6.67 each; with B whole to one of them: 100/10 = 10.
    """
    sc = line_scenario(fixed=150.0, policy=Policy(single_sourcing=single))
    sizes = sc.sizes.copy()
    sizes.loc[sizes["site"].isin(["s1", "s3"]), "fixed_cost"] = 100.0
    return sc.replace(sizes=sizes, fees=FeeRules(max_fee=cap, **rules))


def sites(res):
    return sorted(res.open_sites["site"])


def run(sc):
    return qzopt.solve(sc, isolate=False)


def test_uniform_fee_cap_changes_the_plan_split():
    # split assignment, cap 8: s1 + s3 sharing B 5/5 breaks even at 6.67 <= 8 -> 300, fee 6.67
    res = run(three_towns(8))
    assert res.objective == pytest.approx(300) and sites(res) == ["s1", "s3"]
    assert res.extra["fees"]["fee"] == pytest.approx(100 / 15)
    assert res.extra["fees"]["method"] == "parametric"
    # cap 6: no split of s1 + s3 breaks even (needs >= 16.7 t each) -> s2 alone, 350, fee 5
    res = run(three_towns(6))
    assert res.objective == pytest.approx(350) and sites(res) == ["s2"]
    assert res.extra["fees"]["fee"] == pytest.approx(5.0)
    assert res.extra["fees"]["price_of_equalization_per_yr"] == pytest.approx(50.0)
    md = render_markdown(res)
    assert "| Equalised uniform fee (yuan/t) | 5 (per_plant, cap 6, parametric) |" in md
    assert "| Price of equalisation (yuan/yr) | 50 (16.67 % over 300) |" in md


def test_uniform_fee_with_single_sourcing_is_linearised():
    # whole B to s1 or s3 -> the other breaks even only at 10: cap 9 forces s2 (350); cap 10 allows 300
    res9 = run(three_towns(9, single=True))
    assert res9.objective == pytest.approx(350) and res9.extra["fees"]["method"] == "linearised"
    res10 = run(three_towns(10, single=True))
    assert res10.objective == pytest.approx(300) and res10.extra["fees"]["fee"] == pytest.approx(10.0)


def test_a_uniform_fee_over_plants_of_unequal_cost_collects_a_surplus_and_says_so():
    # cap 10, single sourcing: s1 takes A and B (20 t, 100/yr: 5 per t), s3 takes C (10 t: 10 per t);
    # one fee of 10 collects 10 x 30 = 300 for 200 of plant costs: 100 over them
    res = run(three_towns(10, single=True))
    fees = res.extra["fees"]
    assert fees["collected_per_yr"] == pytest.approx(300)
    assert fees["recovered_cost_per_yr"] == pytest.approx(200) and fees["surplus_per_yr"] == pytest.approx(100)
    table = {row.split("|")[1].strip(): row.split("|")[2].strip()
             for row in render_markdown(res).splitlines() if row.startswith("| ")}
    assert table["fees collected (yuan/yr)"] == "300" and table["surplus over those costs (yuan/yr)"] == "100"
    # pooled at 200/30 per t recovers the 200 exactly: no surplus
    pooled = run(three_towns(7, single=True, recovery="pooled")).extra["fees"]
    assert pooled["collected_per_yr"] == pytest.approx(200) and pooled["surplus_per_yr"] == pytest.approx(0, abs=1e-6)


def test_pooled_recovery_differs_from_per_plant():
    # cap 7, single sourcing: per plant s3 (10 t) needs 10 > 7 -> 350; pooled 200 / 30 t = 6.67 <= 7 -> 300
    per_plant = run(three_towns(7, single=True))
    pooled = run(three_towns(7, single=True, recovery="pooled"))
    assert per_plant.objective == pytest.approx(350)
    assert pooled.objective == pytest.approx(300) and pooled.extra["fees"]["fee"] == pytest.approx(200 / 30)


def test_banded_fees_differ_from_uniform():
    # cap 7 on the regional mean, band 50 %: the town alone at its plant (A or C) pays 10
    # (<= 1.5 x mean 6.67); the two sharing the other plant pay 10 between them, each >= 0.5 x 6.67:
    # s1 + s3 recover their costs -> 300, where a uniform fee of 7 forces 350.
    banded = run(three_towns(7, single=True, mode="banded", band=0.5))
    assert banded.objective == pytest.approx(300)
    fees = banded.extra["fees"]["payers"].set_index("jurisdiction")["fee"]
    assert fees.mean() == pytest.approx(20 / 3)
    assert fees.max() == pytest.approx(10.0) and fees.max() <= 1.5 * fees.mean() + 1e-9
    assert (fees >= 0.5 * fees.mean() - 1e-9).all()


def test_minimise_the_fee():
    # the smallest uniform fee: one plant s1 or s3 for everybody, 100 / 30 t = 3.33 (cost 400)
    for single in (False, True):
        res = run(three_towns(100, single=single, objective="fee"))
        assert res.extra["fees"]["fee"] == pytest.approx(100 / 30)
        assert res.objective == pytest.approx(400)


def test_banded_split_per_plant_is_refused_with_a_reason():
    with pytest.raises(qzopt.QzoptError, match="banded fees with split assignment"):
        run(three_towns(7, single=False, mode="banded"))


# ---------------------------------------------------------------- brute force
def random_instance(seed: int, recovery: str) -> tuple[qzopt.Scenario, dict]:
    rng = np.random.default_rng(seed)
    n, m = 4, 3
    amount = rng.integers(2, 10, n).astype(float)
    fixed = rng.uniform(20, 120, m)
    unit = rng.uniform(0, 3, m)
    cap = rng.uniform(amount.sum() * 0.4, amount.sum() * 0.9, m)
    dist = rng.uniform(0, 10, (n, m))
    ids = [f"d{i}" for i in range(n)]
    sids = [f"s{j}" for j in range(m)]
    demands = pd.DataFrame({"id": ids, "jurisdiction": ids, "amount": amount})
    sites_ = pd.DataFrame({"id": sids, "jurisdiction": ids[:m]})
    sizes = pd.DataFrame({"site": sids, "size": "std", "capacity": cap, "fixed_cost": fixed, "unit_cost": unit})
    sc = qzopt.Scenario.from_frames(demands, sites_, sizes, dist, transport=1.0,
                                    units=Units("t", "km", "yuan", per_year=1.0), policy=Policy(single_sourcing=True))
    plans = []
    for assign in itertools.product(range(m), repeat=n):
        load = np.bincount(assign, weights=amount, minlength=m)
        if np.any(load > cap + 1e-9):
            continue
        used = load > 0
        plant_cost = np.where(used, fixed + unit * load, 0.0)
        cost = plant_cost.sum() + sum(amount[i] * dist[i, j] for i, j in enumerate(assign))
        fee = (plant_cost.sum() / amount.sum()) if recovery == "pooled" else max(
            plant_cost[used] / load[used])
        plans.append((cost, fee))
    return sc, {"plans": plans}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("recovery", ["per_plant", "pooled"])
def test_fee_formulations_agree_with_brute_force(seed, recovery):
    sc, truth = random_instance(seed, recovery)
    plans = truth["plans"]
    fees = sorted(f for _, f in plans)
    cap = fees[len(fees) // 3]  # a cap that rules some plans out
    best = min(c for c, f in plans if f <= cap + 1e-9)
    sc = sc.replace(fees=FeeRules(max_fee=cap, recovery=recovery, compare=False))
    res = run(sc)
    assert res.objective == pytest.approx(best, rel=1e-7)
    # the parametric (fixed-fee) formulation gives the same answer on the same instance
    built, _ = F._build(sc, "parametric", fixed_fee=cap)
    raw = HighsBackend().solve(built.model.to_matrix(), SolveOptions())
    assert raw.objective == pytest.approx(best, rel=1e-7)
    # the smallest possible fee
    low = run(sc.replace(fees={"objective": "fee"}))
    assert low.extra["fees"]["fee"] == pytest.approx(min(fees), rel=1e-7)
    assert low.objective == pytest.approx(min(c for c, f in plans if f <= min(fees) * (1 + 1e-9)), rel=1e-7)


# ------------------------------------------------- stages: one status, every fallback, all the time
def _patch_backend(monkeypatch, change, after=None):
    """Run the real back end, but let ``change(call, name, raw)`` alter (or raise on) call
    number ``call`` (1, 2, ...) of the solve: monkeypatched as tests/test_fallback.py does;
    ``after(options)`` is called once each run has ended (e.g. to move a test clock)."""
    from qzopt.solvers import registry

    real = registry.get_backend
    calls = []

    class Wrapped:
        def __init__(self, name):
            self.name = name

        def available(self):
            return real(self.name).available()

        def solve(self, model, options):
            calls.append(self.name)
            raw = real(self.name).solve(model, options)
            if after is not None:
                after(options)
            return change(len(calls), self.name, raw)

    monkeypatch.setattr(registry, "get_backend", lambda name: Wrapped(name))
    return calls


def test_status_and_termination_describe_the_same_stage(monkeypatch):
    # stage 1 (cheapest plan within the cap) stops at its time limit with a plan; stage 2
    # (smallest fee for that plan) proves its optimum.  The answer is feasible, and its
    # termination is stage 1's, named as such (it said "feasible (Optimal)": stage 2's text).
    import dataclasses

    def stage1_time_limit(call, name, raw):
        return dataclasses.replace(raw, status="feasible", termination="Time limit reached") if call == 1 else raw

    _patch_backend(monkeypatch, stage1_time_limit)
    res = qzopt.solve(three_towns(10, single=True), solver="highs", fallback=[], isolate=False)
    assert res.status == "feasible" and "Time limit reached" in res.termination
    assert res.termination == f"{F.STAGE_CAP}: Time limit reached"
    stages = {s["stage"]: s for s in res.extra["fees"]["stages"]}
    assert stages[F.STAGE_CAP]["status"] == "feasible"
    assert stages[F.STAGE_FEE_AT_COST]["status"] == "optimal"
    # without the time limit every stage is optimal and the termination says so
    monkeypatch.undo()
    res = qzopt.solve(three_towns(10, single=True), solver="highs", fallback=[], isolate=False)
    assert res.status == "optimal" and "every stage" in res.termination and "Optimal" in res.termination


def test_a_fallback_in_stage_2_is_kept_and_its_back_end_named(monkeypatch):
    # highs answers stage 1, crashes in stage 2, cbc answers stage 2: the plan is cbc's
    from qzopt.solvers import registry

    if registry.unavailable_reason("cbc"):
        pytest.skip(registry.unavailable_reason("cbc"))

    def crash_in_stage_2(call, name, raw):
        if call == 2 and name == "highs":
            raise RuntimeError("simulated crash")
        return raw

    calls = _patch_backend(monkeypatch, crash_in_stage_2)
    res = qzopt.solve(three_towns(10, single=True, compare=False), solver="highs", fallback=["cbc"], isolate=False)
    assert calls == ["highs", "highs", "cbc"]
    assert res.status == "optimal" and res.objective == pytest.approx(300)
    assert res.solver == "cbc"
    assert res.fallbacks == [{"solver": "highs", "reason": "RuntimeError: simulated crash",
                              "stage": F.STAGE_FEE_AT_COST}]
    stages = {s["stage"]: s for s in res.extra["fees"]["stages"]}
    assert stages[F.STAGE_CAP]["solver"] == "highs" and stages[F.STAGE_FEE_AT_COST]["solver"] == "cbc"
    from qzopt.report.markdown import solve_facts

    assert ("Fallback", f"highs ({F.STAGE_FEE_AT_COST}): RuntimeError: simulated crash") in solve_facts(res)


def test_a_fallback_in_the_comparison_solve_is_kept_in_its_own_record(monkeypatch):
    from qzopt.solvers import registry

    if registry.unavailable_reason("cbc"):
        pytest.skip(registry.unavailable_reason("cbc"))

    def crash_in_compare(call, name, raw):
        if call == 3 and name == "highs":  # stage 1, stage 2, then the solve without fee rules
            raise RuntimeError("simulated crash")
        return raw

    _patch_backend(monkeypatch, crash_in_compare)
    res = qzopt.solve(three_towns(10, single=True), solver="highs", fallback=["cbc"], isolate=False)
    assert res.solver == "highs" and res.status == "optimal"
    assert [f["solver"] for f in res.fallbacks] == ["highs"] and "simulated crash" in res.fallbacks[0]["reason"]
    compare = res.extra["fees"]["compare"]
    assert compare["solver"] == "cbc" and compare["status"] == "optimal"
    assert compare["fallbacks"] == [{"solver": "highs", "reason": "RuntimeError: simulated crash", "stage": F.COMPARE}]
    assert res.fallbacks == compare["fallbacks"]


@pytest.mark.parametrize("objective", ["cost", "fee"])
def test_seconds_count_every_stage_and_the_comparison_solve(monkeypatch, objective):
    # each back-end run takes 0.2 s longer: the result's seconds must cover all of them,
    # the comparison solve without fee rules included
    import time

    def slow(call, name, raw):
        time.sleep(0.2)
        return raw

    calls = _patch_backend(monkeypatch, slow)
    res = qzopt.solve(three_towns(10, single=True, objective=objective), solver="highs", fallback=[], isolate=False)
    assert res.seconds >= 0.2 * len(calls)
    fees = res.extra["fees"]
    stages = fees["stages"]
    assert [s["stage"] for s in stages] == (
        [F.STAGE_CAP, F.STAGE_FEE_AT_COST] if objective == "cost" else [F.STAGE_CAP, F.STAGE_MIN_FEE, F.STAGE_COST_AT_FEE])
    assert sum(s["solves"] for s in stages) == len(calls) - 1  # the last call is the comparison solve
    assert fees["compare"]["seconds"] >= 0.2
    assert res.seconds >= sum(s["seconds"] for s in stages) + fees["compare"]["seconds"]


def test_the_stages_share_one_time_limit_and_the_comparison_has_its_own(monkeypatch):
    # a clock that moves only when a back end runs, by the whole limit it was given: stage 1 uses
    # the 10 s up, so stage 2 gets the least share, 10 % (1 s), where it used to get 10 s again;
    # the comparison solve (the price of equalisation, a figure of its own) gets its own 10 s
    import time

    from qzopt import api

    now = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: now[0])
    limits = []

    def use_the_limit(options):
        limits.append(options.time_limit)
        now[0] += options.time_limit

    _patch_backend(monkeypatch, lambda call, name, raw: raw, after=use_the_limit)
    res = qzopt.solve(three_towns(10, single=True), solver="highs", fallback=[], isolate=False, time_limit=10)
    assert res.objective == pytest.approx(300)
    assert limits == [10, 10 * api.MIN_STAGE_SHARE, 10]


@pytest.mark.parametrize("cost, free, price", [(868_433_488.0, 868_433_487.0, 0.0),  # rounding of two proofs
                                               (886_196_006.0, 868_433_487.0, 17_762_519.0), (350.0, 300.0, 50.0)])
def test_a_price_of_equalisation_below_the_solvers_precision_is_zero(cost, free, price):
    assert F.price_of_equalization(cost, free) == price


def test_a_price_from_a_solve_not_proven_is_given_with_the_range_the_price_lies_in():
    from qzopt.report.markdown import price_text

    proven = {"price_of_equalization_per_yr": 17_780_254.0, "price_of_equalization_pct": 1.91,
              "unconstrained_cost_per_yr": 930_477_608.0, "price_of_equalization_proven": True}
    assert price_text(proven) == "17,780,254 (1.91 % over 930,477,608)"
    cut = dict(proven, price_of_equalization_per_yr=3_606_224.0, price_of_equalization_proven=False,
               price_of_equalization_lower_per_yr=3_606_224.0, price_of_equalization_upper_per_yr=34_000_000.0,
               price_of_equalization_unproven=["the comparison solve without fee rules"])
    assert price_text(cut, with_pct=False) == ("3,606,224 between the plans found; the price lies between 3,606,224 "
                                               "and 34,000,000 (the comparison solve without fee rules was not "
                                               "proven)")
    no_bound = dict(cut, price_of_equalization_upper_per_yr=None)  # the comparison found a plan but no bound
    assert price_text(no_bound, with_pct=False).startswith("3,606,224 between the plans found; the price is at "
                                                           "least 3,606,224 (")
    old = dict(cut, price_of_equalization_lower_per_yr=None, price_of_equalization_unproven=None)  # written before
    assert price_text(old, with_pct=False) == ("3,606,224 between the plans found; the price is at most 34,000,000 "
                                               "(the comparison solve without fee rules was not proven)")


def test_a_fee_plan_cut_short_does_not_make_its_difference_a_lower_bound_on_the_price():
    """A fee plan and a free plan that cost the same have price 0.  A fee solve stopped at a
    dearer plan (350, bound 280) against the proven free 300 read "at least 50"; the price lies
    between max(0, 280 - 300) = 0 and 350 - 300 = 50 (qianzhong-sewage at --time-limit 1 read
    "at least 1,143,339" where the proven price is 0)."""
    def rng(fee, free):
        out = F.price_range(fee, free)
        return (out["price_of_equalization_per_yr"], out["price_of_equalization_proven"],
                out.get("price_of_equalization_lower_per_yr"), out.get("price_of_equalization_upper_per_yr"),
                out.get("price_of_equalization_unproven", []))

    fee_rule, compare = "the solve with the fee rule", "the comparison solve without fee rules"
    assert rng((300.0, 300.0, "optimal"), (300.0, 300.0, "optimal")) == (0.0, True, None, None, [])
    assert rng((350.0, 280.0, "feasible"), (300.0, 300.0, "optimal")) == (50.0, False, 0.0, 50.0, [fee_rule])
    assert rng((350.0, 350.0, "optimal"), (320.0, 300.0, "feasible")) == (30.0, False, 30.0, 50.0, [compare])
    assert rng((350.0, 340.0, "feasible"), (320.0, 300.0, "feasible")) == (30.0, False, 20.0, 50.0,
                                                                          [fee_rule, compare])
    assert rng((350.0, None, "feasible"), (320.0, None, "feasible")) == (30.0, False, 0.0, None, [fee_rule, compare])
    # a proven fee plan against an unproven free plan dearer than it: the plans differ by -10, the
    # price (a fee plan is a plan of the free model) lies between 0 and 100 - 90
    assert rng((100.0, 100.0, "optimal"), (110.0, 90.0, "feasible")) == (-10.0, False, 0.0, 10.0, [compare])


def test_demand_left_unserved_pays_no_fee():
    # only s1 may open (100/yr); C's 10 t are cheaper left unserved (12 per t) than hauled 20 km:
    # s1 treats A and B, 20 t, at a pooled fee of 5; collected 5 x 20 = 100 = the cost, no surplus
    # (C used to be billed for its 10 t: 50 of surplus that nobody would pay)
    sc = three_towns(50, recovery="pooled")
    sites = sc.sites.copy()
    sites.loc[["s2", "s3"], "excluded"] = True
    res = run(sc.replace(sites=sites, policy={"serve_share": 0.0, "unserved_penalty": 12.0}))
    fees = res.extra["fees"]
    assert res.objective == pytest.approx(100 + 10 * 10 + 12 * 10) and fees["fee"] == pytest.approx(5.0)
    assert fees["collected_per_yr"] == pytest.approx(100.0) and fees["surplus_per_yr"] == pytest.approx(0, abs=1e-6)


# ----------------------------------------------------------------- audit fixes
# tests/test_sectors.py's TRANSFER_ONLY: A (310 t/d) reaches the plant wA directly, C
# (100 t/d) only through the transfer station tC; the plant treats 410 t/d, the station passes 100 on
# (with a power tariff of 0.05 yuan/kWh, so that the fee stays above 0)
WTE_TRANSFER = TRANSFER_ONLY.replace("tariff: 0.65, tariff_cap: 280, tariff_above: 0.35",
                                     "tariff: 0.05, tariff_cap: 280, tariff_above: 0.05")
assert WTE_TRANSFER != TRANSFER_ONLY


def _wte_transfer(tmp_path, **rules) -> qzopt.Scenario:
    # the power tariff cut to 0.05 (TRANSFER_ONLY has 0.65/0.35) so that the plan's costs exceed
    # its revenue and the pooled fee is positive (a fee is >= 0: a negative need would read 0)
    (tmp_path / "roads.csv").write_text("from,to,km\nA,C,100\n", encoding="utf-8")
    (tmp_path / "wte.yaml").write_text(WTE_TRANSFER, encoding="utf-8")
    sc = qzopt.load_scenario(tmp_path / "wte.yaml")
    return sc.replace(fees=FeeRules(max_fee=1000.0, compare=False, **rules))


@pytest.mark.parametrize("recovery", ["pooled", "per_plant"])
def test_the_subsidy_is_paid_on_waste_treated_at_plants_not_again_at_the_transfer_station(tmp_path, recovery):
    # the plan is the one of tests/test_sectors.py: wA treats 410 t/d (310 from A, 100 from C via tC).
    # A subsidy of 50 yuan/t treated lowers the cost to recover by 50 x 410 t/d x 365 = 7,482,500
    # yuan/yr, and the fee (every ton treated pays it) by exactly 50 yuan/t.  Counting tC's 100 t/d
    # again, as pooled recovery did, lowered the cost by 50 x 510 x 365 = 9,307,500 and the fee by
    # 50 x 510 / 410 = 62.2
    plain = qzopt.solve(_wte_transfer(tmp_path, recovery=recovery), gap=0, isolate=False)
    paid = qzopt.solve(_wte_transfer(tmp_path, recovery=recovery, subsidy_per_unit=50.0), gap=0, isolate=False)
    assert plain.status == paid.status == "optimal"
    for res in (plain, paid):
        loads = res.facilities.set_index("site")["load"]
        assert loads["wA"] == pytest.approx(410.0, rel=1e-6) and loads["tC"] == pytest.approx(100.0, rel=1e-6)
    drop = plain.extra["fees"]["recovered_cost_per_yr"] - paid.extra["fees"]["recovered_cost_per_yr"]
    assert drop == pytest.approx(50 * 410 * 365, abs=1.0)
    assert plain.extra["fees"]["fee"] - paid.extra["fees"]["fee"] == pytest.approx(50.0, abs=1e-6)
    assert paid.extra["fees"]["fee"] > 0  # not clipped at 0: the difference above is the subsidy's


def test_a_comparison_plan_that_costs_nothing_gives_no_percentage():
    # plants cost nothing and every town has one at distance 0: the plan without fee rules costs
    # 0 (and so does the plan with them, fee 0).  The price is 0 yuan/yr; a percentage of 0 is
    # undefined (it raised ZeroDivisionError): None, "n/a" in the report
    res = run(line_scenario(fixed=0.0).replace(fees=FeeRules(max_fee=10.0)))
    fees = res.extra["fees"]
    assert res.objective == pytest.approx(0.0, abs=1e-9) and fees["unconstrained_cost_per_yr"] == pytest.approx(0.0)
    assert fees["price_of_equalization_per_yr"] == 0.0 and fees["price_of_equalization_pct"] is None
    md = render_markdown(res)
    assert "| Price of equalisation (yuan/yr) | 0 (n/a over 0) |" in md
    assert "| price of equalisation (%) | n/a |" in md


def test_a_fee_search_stopped_by_its_step_cap_says_so(monkeypatch):
    # split assignment, smallest fee: the search starts at s1 + s3 (100 / 15 t = 6.67) and needs a
    # second step to prove 100 / 30 (one plant for all) the minimum (test_minimise_the_fee)
    res = run(three_towns(100, objective="fee"))
    assert res.extra["fees"]["fee"] == pytest.approx(100 / 30) and res.extra["fees"]["warnings"] == []
    assert not res.extra.get("warnings")
    monkeypatch.setattr(F, "MAX_FEE_STEPS", 1)
    res = run(three_towns(100, objective="fee"))
    warning = "fee search stopped after 1 step (the cap) while still lowering the fee"
    assert [w for w in res.extra["fees"]["warnings"] if w.startswith(warning)]
    assert [w for w in res.extra["warnings"] if w.startswith(warning)]
    assert "warning: " + warning in render_markdown(res)  # shown where every warning is


def test_a_band_given_with_a_uniform_fee_is_refused_with_file_line_and_field(tmp_path):
    # band is only read when mode is banded: with mode uniform it was accepted and ignored
    import shutil
    from pathlib import Path

    from conftest import error_of, line_of

    teaching = Path(__file__).resolve().parent.parent / "scenarios" / "teaching"
    shutil.copy(teaching / "three_towns_roads.csv", tmp_path)
    path = tmp_path / "band.yaml"
    path.write_text((teaching / "sewage-3towns.yaml").read_text(encoding="utf-8")
                    + "fees:\n  mode: uniform\n  band: 0.3\n  max_fee: 2\n", encoding="utf-8")
    msg = error_of(path)
    assert str(path) in msg and f"line {line_of(path, 'band: 0.3')}" in msg and "fees.band" in msg
    assert "mode: banded" in msg
    # banded keeps its band, and a banded file switched off (--set fees.mode=none) still loads
    path.write_text(path.read_text(encoding="utf-8").replace("mode: uniform", "mode: banded"), encoding="utf-8")
    assert qzopt.load_scenario(path).fees.band == 0.3
    assert qzopt.load_scenario(path, {"fees.mode": "none"}).fees.active is False


def test_bad_frontier_arguments_are_named_before_anything_is_solved(monkeypatch):
    from qzopt.errors import QzoptError

    def no_solve(*a, **k):
        raise AssertionError("solved before the arguments were checked")

    monkeypatch.setattr("qzopt.api.solve", no_solve)
    sc = three_towns(10)
    for args, said in [
        (dict(points=-1), "frontier(): points -1: must be a whole number 1 or more"),
        (dict(points="3"), "frontier(): points '3': must be a whole number 1 or more, not str"),
        (dict(points=2.5), "frontier(): points 2.5: must be a whole number 1 or more, not float"),
        (dict(points=0), "frontier(): points 0: must be a whole number 1 or more"),  # was: the no-fee row only
        (dict(caps=["x"]), "frontier(): caps ['x']: must be a fee cap or a list of them, each a number 0 or above"),
        (dict(caps=[6, -1, float("nan")]), "frontier(): caps [6, -1, nan]: must be a fee cap or a list of them"),
        (dict(caps=[]), "frontier(): caps []: must be a fee cap or a list of them"),
        (dict(caps="7"), "frontier(): caps '7': must be a fee cap or a list of them"),
    ]:
        with pytest.raises(QzoptError) as info:
            F.frontier(sc, **args)
        assert str(info.value).startswith(said), (args, str(info.value))
    with pytest.raises(QzoptError, match=r"; not \[-1, nan\]$"):  # which of them
        F.frontier(sc, caps=[6, -1, float("nan")])
    with pytest.raises(QzoptError, match=r"frontier\(\) takes a Scenario or the path of a scenario file, not int"):
        F.frontier(3)
    with pytest.raises(QzoptError, match="scenario file not found"):
        F.frontier("no/such/scenario.yaml")


def test_a_frontier_takes_one_cap_as_a_list_of_one():
    sc = three_towns(10)
    one = F.frontier(sc, caps=8, solve_kwargs={"isolate": False})
    assert one["fee_cap"].tolist()[1:] == [8.0] and one["status"].tolist() == ["optimal", "optimal"]


@pytest.mark.parametrize("explain", [True, False])
def test_a_fee_cap_no_plan_keeps_is_said_in_the_message_as_a_presolve_proof_is(explain):
    """The fee path left `message` empty and gave the reason only in `explanation`."""
    res = qzopt.solve(three_towns(1.0), isolate=False, explain=explain)
    assert res.status == "infeasible"
    assert res.message.startswith("the scenario cannot be satisfied: ")
    if explain:
        assert res.message.endswith(res.explanation[0]) and "fee cap of 1 yuan/t cannot be met" in res.message
    else:
        assert "fee rule" in res.message and "explain=True" in res.message
    # as a result the pre-solve checks prove infeasible has it
    proved = qzopt.solve(line_scenario(amounts=(10.0, 10.0, 100.0)), isolate=False)
    assert proved.termination == "proved by pre-solve checks" and proved.message.startswith(
        "the scenario cannot be satisfied: ")


def _record_isolated_runs(monkeypatch, slow_in_compare: bool = False):
    """Record every worker-process run: (thread name, start, end, termination); with
    ``slow_in_compare`` the comparison solve's workers sleep 60 s instead of solving."""
    import sys
    import threading
    import time

    from qzopt.solvers import registry

    real, runs = registry.run_isolated, []

    def recorded(name, model, options, worker_cmd=None):
        thread, start = threading.current_thread().name, time.perf_counter()
        if slow_in_compare and thread.startswith("qzopt-beside"):
            worker_cmd = [sys.executable, "-c", "import time; time.sleep(60)"]
        raw = real(name, model, options, worker_cmd)
        runs.append((thread, start, time.perf_counter(), raw.termination))
        return raw

    monkeypatch.setattr(registry, "run_isolated", recorded)
    return runs


@pytest.mark.parametrize("cores", [1, 2])
def test_the_comparison_solve_runs_beside_the_stages_when_a_second_core_is_free(monkeypatch, cores):
    # with every back end in a worker process, a second core lets the solve without fee rules
    # start with stage 1 (the threads only wait on their workers); one core: after the stages,
    # as before.  The answer is the same either way: s1 + s3 at 300 under a cap of 8, no price
    import qzopt.api

    monkeypatch.setattr(qzopt.api, "cores", lambda: cores)
    runs = _record_isolated_runs(monkeypatch)
    res = qzopt.solve(three_towns(8), solver="highs", fallback=[])
    assert res.status == "optimal" and res.objective == pytest.approx(300.0) and sites(res) == ["s1", "s3"]
    fees = res.extra["fees"]
    assert fees["compare"]["status"] == "optimal" and fees["price_of_equalization_per_yr"] == pytest.approx(0.0)
    staged = sum(s["solves"] for s in fees["stages"])  # stage 1, and stage 2's fee search
    main = [r for r in runs if r[0] == "MainThread"]
    beside = [r for r in runs if r[0].startswith("qzopt-beside")]
    if cores == 2:
        assert len(main) == staged and len(beside) == 1
        assert beside[0][1] < main[0][2]  # started before stage 1 had ended
    else:
        assert beside == [] and len(main) == staged + 1
        assert main[-1][1] >= max(r[2] for r in main[:-1])  # the last run, after every stage's


def test_a_comparison_solve_no_plan_needs_is_stopped(monkeypatch):
    # a cap of 3 is below every plan's break-even fee (3.33 at the least): the fee rule has no plan,
    # so the comparison started beside it is not needed; its worker (made to sleep 60 s here) is
    # killed and no thread of it is left when solve() returns
    import threading

    import qzopt.api

    monkeypatch.setattr(qzopt.api, "cores", lambda: 2)
    runs = _record_isolated_runs(monkeypatch, slow_in_compare=True)
    res = qzopt.solve(three_towns(3), solver="highs", fallback=["cbc"], explain=False)
    assert res.status == "infeasible"
    assert [r[3] for r in runs if r[0].startswith("qzopt-beside")] == ["stopped"]  # and cbc not tried after it
    assert not any(t.name.startswith("qzopt-beside") for t in threading.enumerate())


def test_the_frontiers_caps_are_solved_side_by_side_with_the_answers_of_one_by_one(monkeypatch):
    # qzopt.api.solve_each and SolveBeside: with back ends in worker processes and two cores the
    # caps' solves run in two threads at once; the table is the one solved one by one (seconds aside)
    import qzopt.api

    tables = {}
    for cores in (1, 2):
        monkeypatch.setattr(qzopt.api, "cores", lambda: cores)
        runs = _record_isolated_runs(monkeypatch)
        tables[cores] = F.frontier(three_towns(8), caps=[4.0, 6.0, 8.0], solve_kwargs={"solver": "highs"})
        threads = {r[0] for r in runs}
        # two cores: the cheapest plan's fee beside the first point, then the caps two at a time
        assert threads == ({"MainThread"} if cores == 1 else
                           {"MainThread", "qzopt-beside_0", "qzopt-solve_0", "qzopt-solve_1"})
    same = [c for c in tables[1].columns if "seconds" not in c and c != "note"]
    pd.testing.assert_frame_equal(tables[1][same], tables[2][same])
    assert (tables[2]["status"] == "optimal").all() and tables[2]["fee_cap"].tolist()[1:] == [4.0, 6.0, 8.0]


def test_solve_each_runs_one_by_one_without_isolation_or_with_solver_threads_for_every_core(monkeypatch):
    import qzopt.api

    monkeypatch.setattr(qzopt.api, "cores", lambda: 2)
    runs = _record_isolated_runs(monkeypatch)
    seen = []
    real = qzopt.api.solve
    monkeypatch.setattr(qzopt.api, "solve", lambda sc, **kw: seen.append(threading_name()) or real(sc, **kw))
    scs = [three_towns(8, compare=False), three_towns(6, compare=False)]
    a = qzopt.api.solve_each(scs, solver="highs", isolate=False)
    b = qzopt.api.solve_each(scs, solver="highs", threads=2)
    assert seen == ["MainThread"] * 4 and {r[0] for r in runs} == {"MainThread"}
    assert [r.objective for r in a] == pytest.approx([r.objective for r in b])


def threading_name() -> str:
    import threading

    return threading.current_thread().name
