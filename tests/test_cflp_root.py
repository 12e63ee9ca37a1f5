"""The LP root presolve of small capacitated siting (qzopt.models.cflp_root) keeps an optimum.

OR-Library's cap41-cap64 (split demand, published optima): the LP bound must not exceed the
optimum, the rounded plan must be a plan (every point served, no capacity exceeded) not cheaper
than it, nothing the plan uses may be fixed closed, and the MILP on the reduced model (solved
with ``emphasis="proof"``) must still reach the published optimum.  On small seeded
Qianzhong-like instances (three sizes per site, distance limits) the answer must equal the one
of the model solved without the presolve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import qzopt
from qzopt.io.orlib import load_cap
from qzopt.models import build_model, cflp_lagrange, cflp_root
from qzopt.solvers.base import SolveOptions
from qzopt.solvers.highs import HighsBackend

from conftest import ORLIB, ROOT
from test_cflp_presolve import _tiny
from test_orlib import OPT

CAPACITATED = [k for k in sorted(OPT) if k.startswith("cap") and not k.startswith("cap7")]


def _presolve(sc):
    built = build_model(sc, presolve=False)
    b = built.main
    cols = {name: b.var(name).cols for name in ("size", "open", "assign", "load")}
    return built.data, cflp_root.root_presolve(built.data, built.solver_form(), cols)


def _is_plan(d, pre) -> None:
    served = np.bincount(d.pairs.i, weights=pre.assign, minlength=d.n)
    assert np.allclose(served[d.amount > 0], 1.0, atol=1e-6)  # every point fully served
    assert (pre.load <= d.capacity * pre.plan + 1e-6).all()  # no capacity exceeded, only open options
    assert np.bincount(d.option_site[pre.plan], minlength=d.m).max() <= 1  # one size per site
    assert not (pre.closed & pre.plan).any()  # nothing the plan uses is fixed closed
    plan_site = np.zeros(d.m, bool)
    plan_site[d.option_site[pre.plan]] = True
    assert not (pre.opened & ~plan_site).any()  # only sites of the plan are fixed open


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
@pytest.mark.parametrize("name", CAPACITATED)
def test_root_presolve_brackets_the_published_optimum_and_the_milp_still_finds_it(name):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    d, pre = _presolve(sc)
    assert pre is not None
    tol = 1e-6 * OPT[name]
    assert pre.lower <= OPT[name] + tol <= pre.upper + 2 * tol
    _is_plan(d, pre)
    res = qzopt.solve(sc, isolate=False)
    assert "root_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(OPT[name], abs=1e-3)


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
@pytest.mark.parametrize("name", ["cap41", "cap44", "cap64"])
def test_the_start_is_the_plan_and_proof_emphasis_only_near_the_bound(name):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    built = build_model(sc)
    form = built.solver_form()
    start = form.start
    assert start is not None and not np.isnan(start).any()
    assert form.feasible(start, integral=True)  # the start satisfies the reduced model
    value = float(form.c @ start + form.offset)
    assert value >= OPT[name] - 1e-6 * OPT[name]
    near = value - built.lower_bound <= cflp_root.PROOF_GAP * value
    assert form.emphasis == ("proof" if near else "balanced")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_root_presolve_keeps_the_optimum_with_modular_sizes_and_distance_limits(seed):
    sc = _tiny(seed)
    plain = HighsBackend().solve(build_model(sc, presolve=False).solver_form(), SolveOptions(gap=0.0))
    assert plain.status == "optimal"
    d, pre = _presolve(sc)
    assert pre is not None
    _is_plan(d, pre)
    tol = 1e-7 * plain.objective
    assert pre.lower <= plain.objective + tol <= pre.upper + 2 * tol
    res = qzopt.solve(sc, isolate=False)
    assert "root_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(plain.objective, rel=1e-9)


def test_rounded_plan_opens_each_sites_option_of_largest_lp_value():
    from types import SimpleNamespace

    # site 0: options 0-2 (y 0.3, 0.6, 0.1) -> option 1; site 1: options 3-4 tie at 0.5 -> the
    # larger capacity, option 4; site 2: option 5 at 0 -> closed, but option 6 (site 3) is forced.
    d = SimpleNamespace(m=4, option_site=np.array([0, 0, 0, 1, 1, 2, 3]),
                        capacity=np.array([10.0, 20.0, 30.0, 50.0, 60.0, 10.0, 10.0]),
                        existing_option=np.array([False] * 6 + [True]))
    y = np.array([0.3, 0.6, 0.1, 0.5, 0.5, 0.0, 0.0])
    assert list(np.flatnonzero(cflp_root.rounded_plan(d, y))) == [1, 4, 6]


def test_incremental_transport_lp_equals_a_fresh_one_plan_after_plan():
    """TransportLP re-solves from the last basis after changing rows and costs: its cost and
    loads must equal those of a transportation LP built afresh, for one plan after another,
    including plans that cannot serve everyone (None) and a change of size at a site."""
    from qzopt.models.cflp_lagrange import transport_plan

    sc = _tiny(2)  # 3 sizes per site, 40 km
    built = build_model(sc, presolve=False)
    d = built.data
    costing = cflp_lagrange.TransportLP(d)
    rng = np.random.default_rng(5)
    seen_none = seen_plan = 0
    largest = np.array([np.flatnonzero(d.option_site == j)[np.argmax(d.capacity[d.option_site == j])]
                        for j in range(d.m)])
    for share, sizes in ((1.0, "largest"), (0.2, "largest"), (1.0, "random"), (0.9, "largest"),
                         (0.05, "random"), (0.97, "largest"), (1.0, "largest")):
        open_opt = np.zeros(d.K, bool)
        for j in np.flatnonzero(rng.random(d.m) < share):
            open_opt[largest[j] if sizes == "largest" else rng.choice(np.flatnonzero(d.option_site == j))] = True
        got, want = costing(open_opt), transport_plan(d, open_opt)
        assert (got is None) == (want is None)
        if got is None:
            seen_none += 1
            continue
        seen_plan += 1
        assert got[0] == pytest.approx(want[0], rel=1e-9)
        assert np.allclose(got[2], want[2], atol=1e-6 * d.amount.sum())  # load per option
        served = np.bincount(d.pairs.i, weights=got[1], minlength=d.n)
        assert np.allclose(served[d.amount > 0], 1.0, atol=1e-6)
    assert seen_none and seen_plan


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
@pytest.mark.parametrize("name", ["cap43", "cap51", "cap63"])
def test_the_lp_tree_proves_the_published_optimum_and_fixes_every_binary(name):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    built = build_model(sc)
    assert "LP branch and bound: optimal" in built.notes["root_presolve"]
    form = built.solver_form()
    ints = form.integrality
    assert (form.col_lower[ints] == form.col_upper[ints]).all()  # the solver only confirms the plan
    assert float(form.c @ form.start + form.offset) == pytest.approx(OPT[name], abs=1e-3)
    assert built.lower_bound == pytest.approx(OPT[name], abs=1e-3)


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
def test_a_tree_stopped_at_its_node_limit_leaves_the_proof_to_the_solver(monkeypatch):
    from qzopt.models import facility

    monkeypatch.setattr(facility, "TREE_NODES", 1)  # cap43 needs 7 nodes
    sc = load_cap(ORLIB / "cap" / "cap43.txt")
    built = build_model(sc)
    assert "LP branch and bound: stopped" in built.notes["root_presolve"]
    form = built.solver_form()
    ints = form.integrality
    assert (form.col_lower[ints] < form.col_upper[ints]).any()
    assert built.lower_bound <= OPT["cap43"] + 1e-6
    res = qzopt.solve(sc, isolate=False)
    assert res.status == "optimal" and res.objective == pytest.approx(OPT["cap43"], abs=1e-3)


# ------------------------------------------------------------ the LP root's time limit
# No timed assertions: HiGHS's own status says its time limit stopped it, and the build's
# answer to an unfinished root is checked, not how long anything took.

def _township():
    from qzopt.bench.scale import qianzhong_like

    return qianzhong_like("township")  # 990 x 160: its LP root takes seconds, far above 1 ms


def test_the_lp_root_gets_the_time_limit_and_an_unfinished_root_is_reported():
    form = build_model(_township(), presolve=False).solver_form()
    root = cflp_root.solve_root(form, seconds=1e-3)
    assert isinstance(root, cflp_root.LpStopped)
    assert root.status == "Time limit reached" and root.timed_out  # HiGHS's status: it had the limit
    assert root.time_limit == 1e-3 and root.iterations >= 0
    assert cflp_root.lp_relaxation(form, seconds=1e-3) is None  # what callers without a bound see
    spent = cflp_root.solve_root(form, seconds=0.0)  # budget already spent: HiGHS is not started
    assert isinstance(spent, cflp_root.LpStopped) and spent.timed_out
    assert spent.status == "no time left" and spent.iterations == 0


def test_an_unfinished_lp_root_leaves_the_model_as_built_and_says_so():
    sc = _township()
    built = build_model(sc, presolve_seconds=1e-3)
    note = built.notes["root_presolve"]
    assert note.startswith("LP relaxation stopped by its time limit") and "solved as built" in note
    assert built.lower_bound is None  # no LP bound: as when the LP is not solved
    form = built.solver_form()
    plain = build_model(sc, presolve=False).solver_form()
    assert form.emphasis == plain.emphasis and form.start is None  # no plan, no proof emphasis
    assert np.array_equal(form.col_lower, plain.col_lower) and np.array_equal(form.col_upper, plain.col_upper)
    assert built.presolve_seconds > 0.0  # the presolve's time is reported beside the build time


@pytest.mark.parametrize("seed", [1])
def test_a_solved_lp_root_counts_in_the_presolve_time_and_lifts_its_time_limit(seed):
    sc = _tiny(seed)
    built = build_model(sc, presolve=False)
    b, form = built.main, built.solver_form()
    root = cflp_root.solve_root(form, seconds=60.0)
    assert isinstance(root, cflp_root.LpRoot) and root.seconds > 0.0
    assert root.lp.getOptionValue("time_limit")[1] == float("inf")  # the LP tree re-solves on it
    cols = {name: b.var(name).cols for name in ("size", "open", "assign", "load")}
    pre = cflp_root.root_presolve(built.data, form, cols, root)
    assert pre is not None and pre.seconds >= root.seconds  # the LP root's time is in the presolve's
    note = build_model(sc, presolve_seconds=60.0).notes["root_presolve"]
    assert "(LP relaxation " in note and "of its 60 s budget, not in the build time" in note


# ------------------------------------------------------------ minimum loads
# An open option must carry at least its minimum load: the transportation LP that costs a plan
# has that floor on its load row, and the LP root presolve then applies to such models too.

def _with_min_loads(sc, share: float):
    """``sc`` with every size's minimum load at ``share`` of its capacity (units.demand)."""
    return dataclasses.replace(sc, sizes=sc.sizes.assign(min_load=share * sc.sizes["capacity"]))


def _transport_by_linprog(d, open_opt):
    """The transportation LP of ``open_opt`` with minimum loads, solved by scipy (the reference):
    min sum (c_ij + v_k d_i) x_ij s.t. each point served once, L_k <= load_k <= Q_k; its cost
    (fixed costs included) and the load per open option, or None when it has no solution."""
    from scipy.optimize import linprog

    site_opt = np.full(d.m, -1)
    site_opt[d.option_site[open_opt]] = np.flatnonzero(open_opt)
    sel = np.flatnonzero((site_opt[d.pairs.j] >= 0) & (d.amount[d.pairs.i] > 0))
    k, amt = site_opt[d.pairs.j[sel]], d.amount[d.pairs.i[sel]]
    opts, pts = np.flatnonzero(open_opt), np.flatnonzero(d.amount > 0)
    load_rows = (k[None, :] == opts[:, None]) * amt[None, :]
    serve_rows = (d.pairs.i[sel][None, :] == pts[:, None]).astype(float)
    res = linprog(d.pairs.cost[sel] + d.load_cost[k] * amt,
                  A_ub=np.vstack([load_rows, -load_rows]), b_ub=np.r_[d.capacity[opts], -d.min_load[opts]],
                  A_eq=serve_rows, b_eq=np.ones(len(pts)), bounds=(0, 1), method="highs")
    if res.status != 0:
        return None
    return float(d.fixed[open_opt].sum() + res.fun), load_rows @ res.x


def test_the_transportation_lp_keeps_each_open_options_minimum_load():
    """Cost and loads of plan after plan (the presolve's plan with the sizes of two or three
    sites changed or closed at random), minimum loads at 10 % of capacity: the incremental
    TransportLP and a fresh transport_plan both equal scipy's solution of the LP with the
    floors; no open option runs below its floor; and plans whose floors cannot all be met
    (None) are seen as well as plans whose floors change the answer."""
    from qzopt.models.cflp_lagrange import transport_plan

    d, pre = _presolve(_with_min_loads(_tiny(1), 0.1))
    assert pre is not None and (d.min_load > 0).all()
    costing = cflp_lagrange.TransportLP(d)
    rng = np.random.default_rng(11)
    seen = {"none": 0, "floor binds": 0}
    for _ in range(16):
        open_opt = pre.plan.copy()
        for j in rng.choice(d.m, rng.integers(2, 4), replace=False):
            options = np.flatnonzero(d.option_site == j)
            open_opt[options] = False
            pick = rng.integers(-1, options.size)  # -1: closed
            open_opt[options[pick]] = pick >= 0
        want = _transport_by_linprog(d, open_opt)
        for got in (costing(open_opt), transport_plan(d, open_opt)):
            assert (got is None) == (want is None)
            if got is None:
                continue
            assert got[0] == pytest.approx(want[0], rel=1e-9)
            load = got[2][open_opt]
            assert (load >= d.min_load[open_opt] - 1e-6).all() and (load <= d.capacity[open_opt] + 1e-6).all()
        if want is None:
            seen["none"] += 1
        else:
            free = transport_plan(d, open_opt, floors=False)
            seen["floor binds"] += free[0] < want[0] * (1 - 1e-9)
    assert all(seen.values()), seen


def test_meet_floors_resizes_an_option_below_its_minimum_load_or_closes_it():
    """Hand-made: points a (30 t/d) and b (70 t/d); site 0 reaches both, site 1 only b (and is
    dearer).  Sizes: site 0 has S50 (floor 20) and S100 (floor 60); site 1 S80 (floor 70).
    Plan {site 0 at S100, site 1 at S80}: without floors site 0 serves a and b (100), site 1
    nothing, so site 1 (load 0 < 70, no option with floor <= 0) is closed; site 0 keeps S100.
    Plan {site 0 at S50, site 1 at S80}: site 0 takes 50 (>= 20), site 1 takes 50 (< 70): closed."""
    from types import SimpleNamespace

    d = SimpleNamespace(
        n=2, m=2, K=3, P=3, amount=np.array([30.0, 70.0]),
        pairs=SimpleNamespace(i=np.array([0, 1, 1]), j=np.array([0, 0, 1]), cost=np.array([1.0, 1.0, 5.0])),
        option_site=np.array([0, 0, 1]), capacity=np.array([50.0, 100.0, 80.0]),
        min_load=np.array([20.0, 60.0, 70.0]), fixed=np.zeros(3), load_cost=np.zeros(3))
    allowed, forced = np.ones(3, bool), np.zeros(3, bool)
    assert list(np.flatnonzero(cflp_lagrange.meet_floors(d, np.array([False, True, True]), allowed, forced))) == [1]
    assert list(np.flatnonzero(cflp_lagrange.meet_floors(d, np.array([True, False, True]), allowed, forced))) == [0]
    # a forced option stays, whatever its load
    assert list(np.flatnonzero(cflp_lagrange.meet_floors(d, np.array([False, True, True]), allowed,
                                                         np.array([False, False, True])))) == [1, 2]


@pytest.mark.parametrize("seed, floor", [(1, 0.3), (2, 0.1)])
def test_root_presolve_keeps_the_optimum_with_minimum_loads(seed, floor):
    """Minimum loads at ``floor`` x capacity (the plan rounded from the LP misses some: they are
    resized or closed, :func:`cflp_lagrange.meet_floors`): the LP root presolve runs (it did not
    before: such models were solved as built), its plan keeps every floor and it brackets the
    optimum that HiGHS proves on the model built without the presolve; the solve reaches it."""
    sc = _with_min_loads(_tiny(seed), floor)
    plain = HighsBackend().solve(build_model(sc, presolve=False).solver_form(), SolveOptions(gap=0.0))
    assert plain.status == "optimal"
    d, pre = _presolve(sc)
    assert pre is not None
    _is_plan(d, pre)
    assert (pre.load[pre.plan] >= d.min_load[pre.plan] - 1e-6).all()
    tol = 1e-7 * plain.objective
    assert pre.lower <= plain.objective + tol <= pre.upper + 2 * tol
    res = qzopt.solve(sc, isolate=False)
    assert "root_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(plain.objective, rel=1e-9)
    opened = res.facilities[res.facilities["open"]].merge(sc.sizes, on=["site", "size"], suffixes=("", "_size"))
    assert len(opened) and (opened["load"] >= opened["min_load"] - 1e-6).all()  # the answer keeps the floors


def test_minimum_loads_keep_large_models_off_the_lagrangian_presolve(monkeypatch):
    """The Lagrangian subproblem (a knapsack per option) has no floor, so a model with minimum
    loads never takes that path, however many pairs it has; without them it does."""
    monkeypatch.setattr(cflp_lagrange, "MIN_PAIRS", 1)
    sc = _tiny(1)
    floors = _with_min_loads(sc, 0.5)
    assert cflp_lagrange.applies(sc, build_model(sc, presolve=False).data)
    d = build_model(floors, presolve=False).data
    assert cflp_lagrange.eligible(floors, d) and not cflp_lagrange.applies(floors, d)
    notes = build_model(floors).notes
    assert "lagrangian_presolve" not in notes and "root_presolve" not in notes  # solved as built


def test_the_bundled_msw_scenario_starts_from_a_plan_near_its_optimum():
    """qianzhong-msw.yaml (minimum loads at 60 % of capacity): the plan rounded from the LP
    relaxation is 6.9 % above the optimum HiGHS proves; the local search of the LP root presolve
    brings it within 0.1 % (measured: 0.023 %), and the solve ends at that optimum."""
    from qzopt.scenario import load_scenario

    sc = load_scenario(str(ROOT / "scenarios" / "qianzhong-msw.yaml"))
    plain = HighsBackend().solve(build_model(sc, presolve=False).solver_form(), SolveOptions(gap=0.0))
    assert plain.status == "optimal"
    d, pre = _presolve(sc)
    assert pre is not None and (d.min_load > 0).any()
    _is_plan(d, pre)
    assert (pre.load[pre.plan] >= d.min_load[pre.plan] - 1e-6).all()
    assert plain.objective - 1e-6 * plain.objective <= pre.upper <= plain.objective * 1.001
    res = qzopt.solve(sc, isolate=False)
    assert "root_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(plain.objective, rel=1e-9)
