"""The LP branch and bound of qzopt.models.lp_tree proves what enumeration proves.

Small capacitated facility-location models with split assignment, written out as a
MatrixForm by hand: for every subset of open sites the cheapest assignment is a
transportation LP (scipy's linprog, independent of the tree), so the optimum is known by
enumeration.  The tree must return it as proved from any starting plan (a poor one or none),
a tree stopped early must return a bound no higher than the optimum, and qzopt.solve must
still reach the published optima of OR-Library cap instances it proves this way.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from qzopt.models.lp_tree import branch_and_bound
from qzopt.models.matrix import MatrixForm


def _cflp(seed: int, n: int = 9, m: int = 5):
    """(model, fixed costs, capacities, demands, unit costs) of a random CFLP: columns y_j
    (binary, cost f_j), then x_ij (share of i served by j, cost c_ij d_i); rows: demand
    sum_j x_ij = 1, capacity sum_i d_i x_ij - Q_j y_j <= 0, strong linking x_ij - y_j <= 0."""
    rng = np.random.default_rng(seed)
    d = rng.integers(5, 30, n).astype(float)
    Q = rng.integers(30, 90, m).astype(float)
    while Q.sum() < d.sum() * 1.3:
        Q *= 1.2
    f = rng.integers(50, 400, m).astype(float)
    c = rng.uniform(1, 20, (n, m))
    cols_x = lambda i, j: m + i * m + j  # noqa: E731
    rows, cols, vals, lo, up = [], [], [], [], []
    r = 0
    for i in range(n):  # demand
        for j in range(m):
            rows.append(r), cols.append(cols_x(i, j)), vals.append(1.0)
        lo.append(1.0), up.append(1.0)
        r += 1
    for j in range(m):  # capacity
        for i in range(n):
            rows.append(r), cols.append(cols_x(i, j)), vals.append(d[i])
        rows.append(r), cols.append(j), vals.append(-Q[j])
        lo.append(-np.inf), up.append(0.0)
        r += 1
    for i in range(n):  # strong linking
        for j in range(m):
            rows += [r, r]
            cols += [cols_x(i, j), j]
            vals += [1.0, -1.0]
            lo.append(-np.inf), up.append(0.0)
            r += 1
    N = m + n * m
    A = sp.csr_matrix((vals, (rows, cols)), shape=(r, N))
    cost = np.concatenate([f, (c * d[:, None]).ravel()])
    form = MatrixForm("cflp", cost, 0.0, A, np.array(lo), np.array(up), np.zeros(N), np.ones(N),
                      np.arange(N) < m)
    return form, f, Q, d, c


def _enumerate(f, Q, d, c) -> float:
    """The optimum by enumeration: every set of open sites, its transportation LP."""
    n, m = c.shape
    best = np.inf
    for mask in itertools.product((0, 1), repeat=m):
        S = np.flatnonzero(mask)
        if Q[S].sum() < d.sum() - 1e-9:
            continue
        k = S.size
        A_eq = np.kron(np.eye(n), np.ones(k))
        A_ub = np.zeros((k, n * k))
        for a, j in enumerate(S):
            A_ub[a, a::k] = d
        res = linprog((c[:, S] * d[:, None]).ravel(), A_ub=A_ub, b_ub=Q[S], A_eq=A_eq, b_eq=np.ones(n),
                      bounds=(0, 1), method="highs")
        if res.status == 0:
            best = min(best, f[S].sum() + res.fun)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_the_tree_proves_the_enumerated_optimum_from_a_poor_plan_or_none(seed):
    form, f, Q, d, c = _cflp(seed)
    optimum = _enumerate(f, Q, d, c)
    for upper in (np.inf, 1.5 * optimum):
        tree = branch_and_bound(form, upper)
        assert tree.proved
        assert tree.upper == pytest.approx(optimum, rel=1e-9)
        assert tree.lower == pytest.approx(optimum, rel=1e-9)
        x = tree.x
        assert x is not None and form.feasible(x, integral=True)
        assert float(form.c @ x) == pytest.approx(optimum, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_a_tree_given_the_optimum_proves_it_and_finds_nothing_better(seed):
    form, f, Q, d, c = _cflp(seed)
    optimum = _enumerate(f, Q, d, c)
    tree = branch_and_bound(form, optimum)
    assert tree.proved and tree.x is None  # no plan strictly better than the optimum
    assert tree.upper == optimum and tree.lower == pytest.approx(optimum, rel=1e-9)


def test_a_stopped_tree_returns_a_valid_bound_and_says_it_did_not_prove():
    stopped = 0
    for seed in range(6):
        form, f, Q, d, c = _cflp(seed, n=12, m=7)
        optimum = _enumerate(f, Q, d, c)
        tree = branch_and_bound(form, np.inf, max_nodes=1)
        assert tree.nodes == 1
        assert tree.lower <= optimum * (1 + 1e-9)
        if not tree.proved:
            stopped += 1
            assert tree.lower < tree.upper
    assert stopped  # at least one of these needs more than the root


def test_an_infeasible_model_is_proved_to_have_no_plan():
    form, *_ = _cflp(0)
    closed = MatrixForm(form.name, form.c, 0.0, form.A, form.row_lower, form.row_upper, form.col_lower,
                        np.where(form.integrality, 0.0, form.col_upper), form.integrality)  # every site closed
    tree = branch_and_bound(closed, np.inf)
    assert tree.x is None and tree.proved and tree.lower == np.inf


def test_general_integers_are_refused():
    form, *_ = _cflp(1)
    wide = MatrixForm(form.name, form.c, 0.0, form.A, form.row_lower, form.row_upper, form.col_lower,
                      np.where(form.integrality, 3.0, form.col_upper), form.integrality)
    with pytest.raises(ValueError, match="0-1"):
        branch_and_bound(wide, np.inf)
