"""The Lagrangian branch and bound for p-median (qzopt.models.lagrange.branch_and_bound).

Checked against enumeration of every p-subset on small random instances, against published
OR-Library optima through ``qzopt.solve``, and for the bound it returns when stopped early.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import qzopt
from qzopt.models import lagrange as L

from conftest import ORLIB
from test_orlib import OPT


def _instance(seed: int, n: int = 26, p: int = 3):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    C = np.round(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * rng.uniform(1, 3, n)[:, None])
    return C, np.zeros(n), p


def _enumerate(C: np.ndarray, f: np.ndarray, p: int) -> float:
    return min(float(f[list(s)].sum() + C[:, list(s)].min(axis=1).sum())
               for s in itertools.combinations(range(C.shape[1]), p))


def _root(C, f, p):
    m = C.shape[1]
    forced, allowed = np.zeros(m, bool), np.ones(m, bool)
    plan = L.greedy(C, f, p, forced, allowed)  # no interchange and a short ascent: work for the tree
    upper = L.plan_cost(C, f, plan)
    lower, lam, _ = L.subgradient(C, f, p, forced, allowed, upper, C[:, plan].min(axis=1), iterations=25)
    return forced, allowed, plan, upper, lower, lam


@pytest.mark.parametrize("seed", range(6))
def test_branch_and_bound_proves_the_enumerated_optimum(seed):
    C, f, p = _instance(seed)
    forced, allowed, plan, upper, lower, lam = _root(C, f, p)
    tree = L.branch_and_bound(C, f, p, forced, allowed, plan, upper, lower, lam, lambda ub: ub - 1.0 + 1e-6,
                              time.perf_counter() + 60, steps=25)
    best = _enumerate(C, f, p)
    assert tree.nodes > 1 and upper > best  # the root neither proved nor found the optimum
    assert tree.proved and tree.upper == pytest.approx(best) and tree.lower == tree.upper
    assert tree.plan.sum() == p and L.plan_cost(C, f, tree.plan) == pytest.approx(best)


def test_stopped_early_the_bound_is_still_a_bound():
    C, f, p = _instance(11)
    forced, allowed, plan, upper, lower, lam = _root(C, f, p)
    tree = L.branch_and_bound(C, f, p, forced, allowed, plan, upper, lower, lam, lambda ub: ub - 1.0 + 1e-6,
                              time.perf_counter())  # deadline now: no node evaluated
    best = _enumerate(C, f, p)
    assert not tree.proved and tree.nodes == 0
    assert lower - 1e-9 <= tree.lower <= best + 1e-9 <= tree.upper + 1e-9


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
@pytest.mark.parametrize("name", ["pmed2", "pmed3", "pmed6"])
def test_solve_proves_published_optima_through_the_tree(name):
    from qzopt.io.orlib import load_pmed

    sc = load_pmed(ORLIB / "pmed" / f"{name}.txt")
    res = qzopt.solve(sc, isolate=False)
    assert "plan proved optimal" in res.extra["notes"]["branch_and_bound"]  # the root left a gap here
    assert res.status == "optimal" and res.objective == OPT[name]


def test_branch_and_bound_keeps_forced_sites_and_fixed_costs():
    C, _, p = _instance(3)
    f = np.round(np.random.default_rng(3).uniform(0, 150, C.shape[1]))  # fixed costs per site
    m = C.shape[1]
    forced, allowed = np.zeros(m, bool), np.ones(m, bool)
    forced[5] = True  # an existing plant
    allowed[[0, 1]] = False  # red-line sites
    plan = L.greedy(C, f, p, forced, allowed)
    upper = L.plan_cost(C, f, plan)
    lower, lam, _ = L.subgradient(C, f, p, forced, allowed, upper, C[:, plan].min(axis=1), iterations=25)
    tree = L.branch_and_bound(C, f, p, forced, allowed, plan, upper, lower, lam, lambda ub: ub - 1.0 + 1e-6,
                              time.perf_counter() + 60, steps=25)
    best = min(float(f[list(s)].sum() + C[:, list(s)].min(axis=1).sum())
               for s in itertools.combinations(range(2, m), p) if 5 in s)
    assert tree.proved and tree.upper == pytest.approx(best)
    assert tree.plan[5] and not tree.plan[[0, 1]].any() and tree.plan.sum() == p


@pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")
@pytest.mark.parametrize("limit_s, tree_s", [(600.0, 450.0), (300.0, 225.0), (120.0, 90.0)])
def test_the_tree_gets_three_quarters_of_the_limit_without_the_presolve_cap(monkeypatch, limit_s, tree_s):
    """The p-median tree is the prover (HiGHS does not close pmed36's last 0.1 % in 500 s), so it is
    not held to the capacitated presolve's 90 s: a 600 s solve gives it 450 s."""
    from qzopt.io.orlib import load_pmed
    from qzopt.models import radius

    seen = []
    real = radius.presolve_pmedian
    monkeypatch.setattr(radius, "presolve_pmedian", lambda *a, **k: seen.append(k["seconds"]) or real(*a, **k))
    res = qzopt.solve(load_pmed(ORLIB / "pmed" / "pmed6.txt"), isolate=False, time_limit=limit_s)
    assert seen == [tree_s] and res.objective == OPT["pmed6"]


def test_the_tree_budget_without_a_limit_and_beside_the_presolve_budget():
    from qzopt.api import TREE_SECONDS_UNLIMITED, presolve_budget, tree_budget

    assert tree_budget(None) == TREE_SECONDS_UNLIMITED == 300.0
    assert all(tree_budget(s) >= presolve_budget(s) for s in (1.0, 60.0, 120.0, 121.0, 600.0))
