"""Kernel search (qzopt.models.kernel): the model restricted to some sites.

Checked against values found independently: restricting the model's columns must give the
optimum of the scenario with those sites excluded in its data, and the plan the presolve hands
on must be a plan (every point served, no capacity exceeded) between the proven optimum and the
presolve's own plan.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

import qzopt
import qzopt.machine
from qzopt.io.orlib import load_cap
from qzopt.models import cflp_lagrange, facility, kernel
from qzopt.models.data import facility_data

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


@pytest.mark.parametrize("early", [False, True], ids=["after-ascent", "beside-ascent"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_start_is_a_plan_between_the_optimum_and_the_presolve_plan(seed, early, monkeypatch):
    sc = _tiny(seed)
    opt = qzopt.solve(sc, isolate=False)  # below MIN_PAIRS: HiGHS alone proves it
    assert opt.status == "optimal" and opt.gap == 0
    d = facility_data(sc)
    pre = cflp_lagrange.presolve_cflp(d, seconds=6, search_seconds=6 / 9)
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
