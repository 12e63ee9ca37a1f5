"""Kernel search (qzopt.models.kernel): the model restricted to some sites.

Checked against values found independently: restricting the model's columns must give the
optimum of the scenario with those sites excluded in its data, and the plan the presolve hands
on must be a plan (every point served, no capacity exceeded) between the proven optimum and the
presolve's own plan.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time

import numpy as np
import pandas as pd
import pytest

import qzopt
import qzopt.machine
from qzopt.io.orlib import load_cap
from qzopt.models import cflp_lagrange, facility, kernel
from qzopt.models.data import facility_data
from qzopt.scenario.scenario import Scenario

from conftest import ORLIB
from test_cflp_presolve import _tiny
from test_orlib import OPT

needs_orlib = pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")


@needs_orlib
@pytest.mark.parametrize("name", ["cap41", "cap64"])
def test_restricted_model_equals_the_scenario_without_those_sites(name):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    built = facility.build(sc, presolve=False)
    b = built.main
    m = b.data.m
    # every site: the published optimum
    whole = kernel.kernel_plan(b.model.to_matrix(), np.array([], np.int64), 60)
    assert whole.objective == pytest.approx(OPT[name], abs=1e-3) and not whole.stopped
    # RENS alone: a solution of the whole model, never below its optimum
    xr, rens_cost, _ = kernel.rens(b.model.to_matrix(), 60)
    assert b.model.to_matrix().feasible(xr, integral=True) and rens_cost >= OPT[name] - 1e-3
    # every fifth site closed: the optimum of the scenario whose data excludes them
    outside = np.arange(m) % 5 == 0
    form = b.model.to_matrix()
    found = kernel.kernel_plan(form, facility.site_columns(b, outside), 60)
    cut = dataclasses.replace(sc, sites=sc.sites.assign(excluded=outside))
    ref = qzopt.solve(cut, isolate=False, solver="highs")
    assert ref.status == "optimal"
    assert found.objective == pytest.approx(ref.objective, rel=1e-9, abs=1e-3)
    assert found.objective >= OPT[name] - 1e-3
    # the answer is a solution of the whole model, with nothing at the closed sites
    assert form.feasible(found.x, integral=True)
    assert np.all(found.x[facility.site_columns(b, outside)] == 0.0)
    assert float(form.c @ found.x) + form.offset == pytest.approx(found.objective, rel=1e-9)


@functools.lru_cache(maxsize=None)
def _optimum_and_presolve(seed: int):
    """The proven optimum of seeded instance ``seed`` and the CFLP presolve's answer on it (6 s),
    computed once for both cases of a seed below (CI time: about 20 s)."""
    sc = _tiny(seed)
    opt = qzopt.solve(sc, isolate=False)  # below MIN_PAIRS: HiGHS alone proves it
    return opt, cflp_lagrange.presolve_cflp(facility_data(sc), seconds=6, search_seconds=6 / 9)


@pytest.mark.parametrize("early", [False, True], ids=["after-ascent", "beside-ascent"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_start_is_a_plan_between_the_optimum_and_the_presolve_plan(seed, early, monkeypatch):
    sc = _tiny(seed)
    opt, pre = _optimum_and_presolve(seed)
    assert opt.status == "optimal" and opt.gap == 0
    d = facility_data(sc)
    assert (pre.upper - pre.lower) / pre.upper > facility.KERNEL_GAP  # so the kernel search runs
    monkeypatch.setattr(cflp_lagrange, "MIN_PAIRS", 0)
    # one core: the search runs after the ascent; two: from step 10 on beside it (then also on
    # the final plan when that has other sites and time is left)
    monkeypatch.setattr(facility, "cores", lambda: 2 if early else 1)
    monkeypatch.setattr(facility, "EARLY_STEP", 10)
    monkeypatch.setattr(facility, "EARLY_GAP", 0.0)
    built = facility.build(sc, presolve_seconds=9)
    assert ("beside the ascent" in built.notes["kernel_search"]) == early
    form = built.main.model.to_matrix()
    start = form.start
    assert form.feasible(start, integral=True)
    cost = float(form.c @ start) + form.offset
    assert opt.objective - 1e-6 * opt.objective <= cost <= pre.upper + 1e-6 * pre.upper
    # every point fully served, no capacity exceeded (read through the model's own blocks)
    x = start[built.main.var("assign").cols]
    assert np.allclose(np.bincount(d.pairs.i, weights=x, minlength=d.n)[d.amount > 0], 1.0, atol=1e-6)
    load = start[built.main.var("load").cols]
    size = start[built.main.var("size").cols]
    assert (load <= d.capacity * size + 1e-6).all()
    # and the solve from it still proves the same optimum
    res = qzopt.solve(sc, isolate=False)
    monkeypatch.undo()
    assert res.status == "optimal" and res.objective == pytest.approx(opt.objective, rel=1e-9)


def test_kernel_rounds_follow_the_best_plan():
    """Round 1 with every site allowed proves the optimum (the same as the normal solve); round 2
    restricts the model to that plan's sites and finds it again, and as the best plan's sites
    then repeat, the rounds stop there."""
    sc = _tiny(1)
    opt = qzopt.solve(sc, isolate=False)
    assert opt.status == "optimal"
    b = facility.build(sc, presolve=False).main
    form = b.model.to_matrix()
    found = facility._kernel_rounds(b, form, np.zeros(b.data.m, bool), 60)
    assert found.rounds == 2 and not found.stopped
    assert form.feasible(found.x, integral=True)
    assert opt.objective - 1e-6 * opt.objective <= found.objective <= opt.objective * (1 + kernel.KERNEL_MIP_GAP)


@pytest.mark.parametrize("background", [False, True])
def test_a_stop_ends_the_kernel_search(background):
    """Without a stop HiGHS proves the seeded instance within the budget (stopped False); with
    the stop set (before it starts, or by ``cancel`` just after) it is cut short."""
    sc = _tiny(2)
    b = facility.build(sc, presolve=False).main
    form, none = b.model.to_matrix(), np.array([], np.int64)
    whole = kernel.kernel_plan(form, none, 60)
    assert not whole.stopped
    if background:
        search = kernel.Background(lambda stop: kernel.kernel_plan(form, none, 60, stop))
        search.cancel()
        found = search.result()
    else:
        stop = threading.Event()
        stop.set()
        found = kernel.kernel_plan(form, none, 60, stop)
    assert found.stopped
    assert found.objective is None or found.objective >= whole.objective - 1e-6 * abs(whole.objective)


@pytest.mark.parametrize("limit_s", [10.0, 60.0, 120.0, 600.0, 3600.0])
def test_kernel_budget_leaves_the_solver_time(limit_s):
    """The kernel search takes part of the solver's share, never all of it: with the presolve
    it stays within the time limit and leaves the solver at least a tenth of it."""
    from qzopt.api import kernel_budget, presolve_budget

    spent = presolve_budget(limit_s) + kernel_budget(limit_s)
    assert kernel_budget(limit_s) > 0 and limit_s - spent >= 0.1 * limit_s
    assert kernel_budget(None) == 0.0


@pytest.mark.parametrize("line, cpus", [("max 100000", None), ("100000 100000", 1.0), ("150000 100000", 1.5),
                                         ("200000 100000\n", 2.0), ("", None), ("x 1", None)])
def test_cpu_quota_of_a_cgroup(line, cpus):
    """The kernel search runs beside the ascent only with a second whole core; a container's
    CPU quota (cgroup v2 ``cpu.max``) counts as the cores it allows."""
    assert qzopt.machine.cpu_quota(line) == cpus


def _four_sites():
    """Two towns of 10 t/d each, all 1 km from four sites of one 15 t/d size whose yearly costs
    are 100 (s0), 50 (s1), 80 (s2) and 60 (s3): two sites serve them; the optimum is s1 and s3
    (110 a year, plus hauls the same for every plan)."""
    demands = pd.DataFrame({"id": ["a", "b"], "jurisdiction": ["A", "B"], "amount": [10.0, 10.0]})
    sites = pd.DataFrame({"id": ["s0", "s1", "s2", "s3"], "jurisdiction": ["A", "A", "B", "B"]})
    sizes = pd.DataFrame({"site": ["s0", "s1", "s2", "s3"], "size": ["S"] * 4, "capacity": [15.0] * 4,
                          "fixed_cost": [100.0, 50.0, 80.0, 60.0]})
    return Scenario.from_frames(demands, sites, sizes, np.ones((2, 4)), name="four-sites", transport=1.0)


FIXED = {"s0": 100.0, "s1": 50.0, "s2": 80.0, "s3": 60.0}


@pytest.mark.parametrize("rank, expected", [([0.0, 0.3, 0.0, 0.9], ["s1", "s3"]), ([0.0, 0.0, 0.0, 0.9], ["s2", "s3"]),
                                            ([0.0, 0.0, 0.0, 0.0], ["s0", "s2"])])
def test_polish_adds_the_closed_sites_that_rank_highest(rank, expected, monkeypatch):
    """From the plan s0 + s2 (180) the kernel rounds alone cannot move (those are its only
    sites); the polish then adds one closed site at a time (EXPAND_SITES = 1), the highest ranked
    first: ranks 0 / 0.3 / 0 / 0.9 add s3 (plan s2 + s3, 140) and then s1 (s1 + s3, 110: the
    optimum); with s1 ranked 0 it is never added (140); with every rank 0 nothing is (180)."""
    monkeypatch.setattr(kernel, "EXPAND_SITES", 1)
    b = facility.build(_four_sites(), presolve=False).main
    form = b.model.to_matrix()
    columns, closed_sites = facility.site_maps(b)
    start = kernel.kernel_plan(form, columns(np.array([False, True, False, True])), 30).x
    assert closed_sites(start).tolist() == [False, True, False, True]
    found = kernel.polish(form, start, 30, columns, closed_sites, np.array(rank))
    assert [s for s, c in zip(FIXED, closed_sites(found.x)) if not c] == expected
    hauls = 2 * 10.0 * 1.0 * 1.0 * 365  # two towns x 10 t/d x 1 km x 1 yuan/(t km) x 365 d/yr
    assert form.objective(start) == pytest.approx(180.0 + hauls, rel=1e-12)
    assert found.objective == pytest.approx(sum(FIXED[s] for s in expected) + hauls, rel=1e-12)
    assert form.feasible(found.x, integral=True) and not found.stopped


@pytest.mark.parametrize("status, gap, reported", [("feasible", 0.0, "feasible"), ("feasible", 0.06, "optimal"),
                                                   ("optimal", 0.0, "optimal")])
def test_solve_polishes_a_plan_the_solver_left_short_of_the_gap(status, gap, reported, monkeypatch):
    """A small capacitated model the LP root presolve does not prove (seeded instance 1) gets
    POLISH_SHARE of the time limit kept back from the solver.  Here the solver is stood in for:
    it answers with the presolve's own rounded plan (3.3456e8, 3.6 % above the proven optimum
    3.2279e8), a bound (3.06e8, between the LP bound and the optimum: 8.5 % below the plan) and
    ``status``.  "feasible": the kernel search around it returns a cheaper plan, never below the
    optimum, every point served and no capacity exceeded, with the solver's bound and name kept;
    reported ``optimal`` when asked for a 6 % gap (the optimum is 5.2 % above that bound).
    "optimal": the answer is left as it is."""
    import qzopt.api as api
    from qzopt.solvers.base import RawSolution

    sc = _tiny(1)
    opt = qzopt.solve(sc, isolate=False)
    assert opt.status == "optimal" and opt.gap == 0
    limits = []

    def solver(form, options, order, isolate=True, on_event=None):
        limits.append(options.time_limit)
        x = np.nan_to_num(form.start)
        return RawSolution("highs", status, x=x, objective=form.objective(x), bound=3.06e8), []

    monkeypatch.setattr(api, "solve_with_fallback", solver)
    t0 = time.perf_counter()
    res = qzopt.solve(sc, isolate=False, time_limit=30, gap=gap)
    spent = time.perf_counter() - t0
    start = 334556433.22136486  # the presolve's plan (its note: "plan 3.34556e+08")
    assert 0.6 * (30 - spent) - 0.1 <= limits[0] <= 0.6 * 30 + 1e-9  # POLISH_SHARE kept back
    assert res.solver == "highs" and res.bound == pytest.approx(3.06e8)
    if status == "optimal":
        assert res.objective == pytest.approx(start, rel=1e-9) and "kernel_polish" not in res.extra["notes"]
        return
    assert opt.objective * (1 - 1e-9) <= res.objective < start * (1 - 1e-3)
    assert res.status == reported and "kernel_polish" in res.extra["notes"]
    assert f"plan {res.objective:,.10g} from the kernel search around highs's" in res.message
    assert ("proved within the asked gap by highs's bound (306,000,000)" in res.message) == (reported == "optimal")
    served = res.assignments.groupby("demand")["share"].sum()
    assert len(served) == len(sc.demands) and np.allclose(served, 1.0, atol=1e-6)
    fac = res.facilities
    assert (fac["load"] <= fac["capacity"] + 1e-6).all()
    assert api.polish_budget(facility.build(sc), None) == 0.0  # no limit: the solver runs to its end
