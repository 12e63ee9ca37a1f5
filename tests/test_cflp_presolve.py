"""The Lagrangian presolve of capacitated siting (qzopt.models.cflp_lagrange) keeps an optimum.

OR-Library's cap41-cap64 (split demand, published optima) are run through it by lowering the
size threshold; its bound must not exceed the optimum, its plan must not be cheaper, and the
MILP on the reduced model must still reach the published optimum exactly.
"""

from __future__ import annotations

import pytest

import qzopt
from qzopt.io.orlib import load_cap
from qzopt.models import cflp_lagrange
from qzopt.models.data import facility_data

from conftest import ORLIB
from test_orlib import OPT

CAPACITATED = [k for k in sorted(OPT) if k.startswith("cap") and not k.startswith("cap7")]

pytestmark = pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")


@pytest.mark.parametrize("name", CAPACITATED)
def test_presolve_brackets_the_optimum_and_the_milp_still_finds_it(name, monkeypatch):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    d = facility_data(sc)
    pre = cflp_lagrange.presolve_cflp(d, seconds=20)
    assert pre is not None
    tol = 1e-6 * OPT[name]
    assert pre.lower <= OPT[name] + tol <= pre.upper + 2 * tol
    # the plan is feasible: every point fully served, no capacity exceeded
    share = pytest.approx(1.0, abs=1e-6)
    served = sum(pre.assign[d.pairs.i == i].sum() for i in range(d.n))
    assert served == pytest.approx(d.n, abs=1e-5) and all(
        pre.assign[d.pairs.i == i].sum() == share for i in range(d.n))
    assert (pre.load <= d.capacity * pre.plan + 1e-6).all()
    # nothing the plan uses is fixed against it
    assert not (pre.closed & pre.plan).any()
    monkeypatch.setattr(cflp_lagrange, "MIN_PAIRS", 0)
    res = qzopt.solve(sc, isolate=False)
    assert "lagrangian_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(OPT[name], abs=1e-3)


@pytest.mark.parametrize("name", ["cap41", "cap61", "cap64"])
def test_local_search_from_every_site_open_improves_to_a_true_plan(name):
    import time

    import numpy as np

    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    d = facility_data(sc)
    allowed = np.ones(d.K, bool)
    forced = np.zeros(d.K, bool)
    start = cflp_lagrange.transport_plan(d, allowed)
    e = cflp_lagrange._entries(d, allowed)
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    cost, x, load, open_opt = cflp_lagrange.local_search(d, e, Q, (start[0], start[1], start[2], allowed), allowed,
                                                         forced, OPT[name], time.perf_counter() + 60)
    assert cost < start[0]  # every site open is never optimal on these instances
    assert cost >= OPT[name] - 1e-6 * OPT[name]  # no plan beats the published optimum
    again = cflp_lagrange.transport_plan(d, open_opt)  # the cost is that of the plan it returns
    assert again[0] == pytest.approx(cost, rel=1e-9)
    assert (load <= d.capacity * open_opt + 1e-6).all()
    assert cost <= 1.01 * OPT[name]  # a local optimum of add/drop/swap moves, within 1 % here


# ----------------------------------------------------------------- modular sizes (several per site)
def _tiny(seed: int):
    """A small seeded Qianzhong-like instance (3 sizes per site, 40 km limit) HiGHS proves quickly."""
    from qzopt.bench import scale

    spec = scale.ScaleSpec(points_per_county=5, sites=40, max_km=40.0, mean_t_per_day=12.0, spread_km=18.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(scale.SPECS, "tiny", spec)
        return scale.qianzhong_like("tiny", seed=seed)


def test_knapsacks_equal_an_lp_per_option():
    """The shared-sort knapsacks: V_k equals the LP min sum (c_ij + v_k d_i - lambda_i) x_ij
    s.t. sum d_i x_ij <= Q_k, 0 <= x <= 1, over the pairs of k's site (scipy's HiGHS)."""
    import numpy as np
    from scipy.optimize import linprog

    d = facility_data(_tiny(1))
    allowed = np.ones(d.K, bool)
    e = cflp_lagrange._entries(d, allowed)
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    rng = np.random.default_rng(7)
    cheapest = np.full(d.n, np.inf)
    np.minimum.at(cheapest, e.point, e.base)
    for _ in range(3):
        lam = cheapest * rng.uniform(0.7, 2.5, d.n)
        V, take = cflp_lagrange._knapsacks(e, lam, Q, d.K)
        for k in rng.choice(d.K, 12, replace=False):
            mine = np.flatnonzero(e.option == k)
            if mine.size == 0:
                assert V[k] == 0.0
                continue
            lp = linprog(e.base[mine] - lam[e.point[mine]], A_ub=[e.amount[mine]], b_ub=[Q[k]],
                         bounds=[(0, 1)] * mine.size, method="highs")
            assert V[k] == pytest.approx(lp.fun, rel=1e-9, abs=1e-6)
            # the shares it reports are a solution of that LP
            assert (e.amount[mine] * take[mine]).sum() <= Q[k] + 1e-9
            assert ((e.base[mine] - lam[e.point[mine]]) * take[mine]).sum() == pytest.approx(lp.fun, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_presolve_brackets_the_proven_optimum_with_modular_sizes(seed):
    sc = _tiny(seed)
    res = qzopt.solve(sc, isolate=False)  # below MIN_PAIRS: HiGHS alone proves it
    assert res.status == "optimal" and res.gap == 0
    d = facility_data(sc)
    pre = cflp_lagrange.presolve_cflp(d, seconds=6)
    tol = 1e-7 * res.objective
    assert pre.lower <= res.objective + tol <= pre.upper + 2 * tol
    import numpy as np

    served = np.bincount(d.pairs.i, weights=pre.assign, minlength=d.n)
    assert np.allclose(served[d.amount > 0], 1.0, atol=1e-6)
    assert (pre.load <= d.capacity * pre.plan + 1e-6).all()
    assert np.bincount(d.option_site[pre.plan], minlength=d.m).max() <= 1  # one size per site


def test_feasible_plan_opens_or_enlarges_sites_where_distance_limits_leave_demand_unserved():
    import numpy as np

    sc = _tiny(2)
    d = facility_data(sc)
    allowed = np.ones(d.K, bool)
    forced = np.zeros(d.K, bool)
    smallest = np.zeros(d.K, bool)
    for j in range(0, d.m, 4):  # the smallest size at every 4th site: too little, too far
        ks = np.flatnonzero(d.option_site == j)
        smallest[ks[np.argmin(d.capacity[ks])]] = True
    forced[np.flatnonzero(smallest)[0]] = True
    assert cflp_lagrange.transport_plan(d, smallest) is None
    short = cflp_lagrange.shortfall(d, smallest)
    assert short.sum() > 0 and (short <= d.amount + 1e-9).all()
    cost, x, load, open_opt = cflp_lagrange.feasible_plan(d, smallest, allowed, forced)
    assert open_opt[forced].all()
    assert not cflp_lagrange.shortfall(d, open_opt).any()
    served = np.bincount(d.pairs.i, weights=x, minlength=d.n)
    assert np.allclose(served[d.amount > 0], 1.0, atol=1e-6)
    assert (load <= d.capacity * open_opt + 1e-6).all()
    assert cost == pytest.approx(cflp_lagrange.transport_plan(d, open_opt)[0], rel=1e-9)


def test_price_greedy_plan_is_a_plan_and_keeps_forced_options():
    import numpy as np

    d = facility_data(_tiny(3))
    allowed = np.ones(d.K, bool)
    forced = np.zeros(d.K, bool)
    forced[5] = True
    e = cflp_lagrange._entries(d, allowed)
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    cheapest = np.full(d.n, np.inf)
    np.minimum.at(cheapest, e.point, e.base)
    open_opt = cflp_lagrange.price_greedy(d, e, Q, 1.5 * cheapest, allowed, forced)
    assert open_opt[5]
    assert np.bincount(d.option_site[open_opt], minlength=d.m).max() <= 1
    # every point with demand reaches an open option
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[open_opt]] = True
    reach = np.zeros(d.n, bool)
    reach[d.pairs.i[site_open[d.pairs.j]]] = True
    assert reach[d.amount > 0].all()


@pytest.mark.parametrize("seed", [1, 2])
def test_presolve_decides_by_counted_steps_so_a_slower_clock_gives_the_same_result(seed, monkeypatch):
    """Two runs on clocks that run differently - in one the transportation LPs that cost a plan
    take no time, in the other 5 s each, as on a busy or slower machine - make the same plans,
    bound and fixings, as long as the time budget does not end them.  Before, plans were costed
    only while costing had taken at most a quarter of the elapsed time (and greedy plans made at
    quarters of the time), so the second run costed fewer plans and its steps took another path."""
    import types

    import numpy as np

    d = facility_data(_tiny(seed))
    feasible_plan = cflp_lagrange.feasible_plan
    runs = []
    for lp_seconds in (0.0, 5.0):
        now = [0.0]

        def perf_counter() -> float:
            now[0] += 1e-3  # each reading: a thousandth of a second on
            return now[0]

        def slow_feasible_plan(*args, **kwargs):
            now[0] += lp_seconds
            return feasible_plan(*args, **kwargs)

        monkeypatch.setattr(cflp_lagrange, "time", types.SimpleNamespace(perf_counter=perf_counter))
        monkeypatch.setattr(cflp_lagrange, "feasible_plan", slow_feasible_plan)
        runs.append(cflp_lagrange.presolve_cflp(d, seconds=1e9))
    a, b = runs
    assert not a.clock_stopped and not b.clock_stopped
    assert a.iterations == b.iterations
    assert a.upper == b.upper and a.lower == b.lower
    assert np.array_equal(a.plan, b.plan) and np.array_equal(a.closed, b.closed) and np.array_equal(a.opened, b.opened)
    assert np.array_equal(a.lam, b.lam)
