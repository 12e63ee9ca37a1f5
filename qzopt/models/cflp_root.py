"""Presolve for *small* capacitated siting with split assignment (fewer allowed pairs than
:data:`qzopt.models.cflp_lagrange.MIN_PAIRS`): the LP relaxation of the model as built, a plan
rounded from it, and binaries fixed by their LP reduced costs.

On these models the strong LP is within a few tenths of a percent of the optimum (OR-Library
cap41-cap134: 0-0.4 %), so what a MIP solver spends its time on is finding the plan and closing
that last gap with cuts and heuristics.  Here:

1. **LP bound.**  Solve the LP relaxation once (HiGHS): bound z_LP, values and reduced costs r_c.
2. **Plan.**  Open, at every site whose options have LP value > 0, its option of largest LP value;
   repair where distance limits leave demand unserved and improve (the helpers of
   :mod:`qzopt.models.cflp_lagrange`); then close, one at a time, options that the LP only half
   opened (lowest LP value first), each closing kept when the transportation LP says it is cheaper.
3. **Fixing.**  A binary column at 0 in the LP with r_c > 0: any solution with it at 1 costs at
   least z_LP + r_c; at 1 with r_c < 0: any solution with it at 0 costs at least z_LP - r_c.
   Where that exceeds the plan's cost the column is fixed (options closed, sites opened) - never
   against the plan, so the reduced model keeps an optimal solution and the plan is its start.

When the plan is within :data:`PROOF_GAP` of the LP bound the model is then solved with
``emphasis="proof"`` (:class:`qzopt.models.matrix.MatrixForm`): the solver skips its primal
heuristics and its own presolve.
"""

from __future__ import annotations

import time

import numpy as np

from qzopt.models.cflp_lagrange import CflpPresolve, feasible_plan, improve
from qzopt.models.data import FacilityData
from qzopt.models.matrix import MatrixForm

#: The model is marked ``emphasis="proof"`` only when the plan is within this share of the LP
#: bound (cap41-cap134: 0-0.7 %; the township-scale benchmark: 5.2 %, where HiGHS's own
#: heuristics are still needed).
PROOF_GAP = 0.01

#: LP values below this count as 0 (closed) when rounding.
EPS = 1e-6


def lp_relaxation(form: MatrixForm) -> tuple[float, np.ndarray, np.ndarray] | None:
    """(z_LP in money/yr, column values, reduced costs) of the LP relaxation, or ``None`` when
    HiGHS does not solve it to optimality (infeasible models are left to the MIP solver)."""
    import highspy

    h = form.to_highspy(relax=True)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    return float(h.getInfo().objective_function_value), np.asarray(sol.col_value), np.asarray(sol.col_dual)


def rounded_plan(d: FacilityData, y: np.ndarray) -> np.ndarray:
    """Open options from LP values ``y`` (per option): at every site with some y > 0, its option
    of largest y (ties: the larger capacity); options the scenario forces stay open."""
    open_opt = d.existing_option.copy()
    order = np.lexsort((d.capacity, y, d.option_site))  # by site, then y, then capacity
    site = d.option_site[order]
    pick = order[np.r_[site[1:] != site[:-1], True]]  # the last option of each site
    open_opt[pick[y[pick] > EPS]] = True
    return open_opt


class TransportLP:
    """The transportation LP of a plan (:func:`qzopt.models.cflp_lagrange.transport_plan`), kept
    in one HiGHS object over every pair with demand: costing another plan changes only the
    capacity rows (0 for closed sites) and the pair costs of the sites whose option changed, and
    HiGHS re-solves from the last basis (its presolve off).  Call it with a boolean vector of open
    options; returns (cost money/yr, shares per pair, load per option) or ``None`` when the open
    options cannot serve every point."""

    def __init__(self, d: FacilityData) -> None:
        import highspy
        import scipy.sparse as sp

        self.d = d
        served = d.amount > 0
        self.sel = np.flatnonzero(served[d.pairs.i])
        pts = np.flatnonzero(served)
        row_of_pt = np.full(d.n, -1)
        row_of_pt[pts] = d.m + np.arange(len(pts))
        i, j = d.pairs.i[self.sel], d.pairs.j[self.sel]
        self.amount, self.site = d.amount[i], j
        cols = np.arange(len(self.sel))
        A = sp.csc_matrix((np.r_[self.amount, np.ones(len(cols))], (np.r_[j, row_of_pt[i]], np.r_[cols, cols])),
                          shape=(d.m + len(pts), len(cols)))
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), A.shape[0]
        lp.col_cost_ = d.pairs.cost[self.sel]
        lp.col_lower_ = np.zeros(len(cols))
        lp.col_upper_ = np.ones(len(cols))
        lp.row_lower_ = np.r_[np.full(d.m, -np.inf), np.ones(len(pts))]
        lp.row_upper_ = np.r_[np.zeros(d.m), np.ones(len(pts))]  # every site closed to begin with
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        self.h.passModel(lp)
        self.site_opt = np.full(d.m, -1)  # the option each site's row holds now (-1: closed)
        order = np.argsort(j, kind="stable")
        self.cols_of_site = np.split(order, np.searchsorted(j[order], np.arange(1, d.m)))

    def __call__(self, open_opt: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
        import highspy

        d, h = self.d, self.h
        want = np.full(d.m, -1)
        want[d.option_site[open_opt]] = np.flatnonzero(open_opt)
        changed = np.flatnonzero(want != self.site_opt)
        if changed.size:
            k = want[changed]
            upper = np.where(k >= 0, np.minimum(d.capacity[np.maximum(k, 0)], 1e30), 0.0)
            h.changeRowsBounds(len(changed), changed.astype(np.int32), np.full(len(changed), -np.inf), upper)
            for site, option in zip(changed.tolist(), k.tolist()):
                c = self.cols_of_site[site]
                if option >= 0 and c.size:
                    h.changeColsCost(len(c), c.astype(np.int32),
                                     d.pairs.cost[self.sel[c]] + d.load_cost[option] * self.amount[c])
            self.site_opt = want
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.zeros(d.P)
        x[self.sel] = np.clip(np.asarray(h.getSolution().col_value), 0.0, 1.0)
        load = np.zeros(d.K)
        option = want[self.site]
        on = option >= 0
        np.add.at(load, option[on], (self.amount * x[self.sel])[on])
        return float(d.fixed[open_opt].sum() + h.getInfo().objective_function_value), x, load


def _drop_half_open(plan: tuple, y: np.ndarray, forced: np.ndarray, costing: TransportLP) -> tuple:
    """Close, one at a time, the plan's options with LP value < 1 (lowest first), keeping each
    closing the transportation LP finds cheaper.  ``plan``: (cost, shares, loads, open options)."""
    cost, x, load, open_opt = plan
    half = open_opt & ~forced & (y < 1 - EPS)
    for k in np.flatnonzero(half)[np.argsort(y[half], kind="stable")]:
        trial = open_opt.copy()
        trial[k] = False
        found = costing(trial)
        if found is not None and found[0] < cost - 1e-9 * max(1.0, abs(cost)):
            cost, x, load, open_opt = found[0], found[1], found[2], trial
    return cost, x, load, open_opt


def root_presolve(d: FacilityData, form: MatrixForm, cols: dict[str, np.ndarray]) -> CflpPresolve | None:
    """Bound, plan and fixings (see the module docstring) for the scenario data ``d`` and its
    model ``form``; ``cols`` holds the model columns of the blocks ``size``, ``open``, ``assign``
    and ``load``.  ``None`` when the LP is not solved or no plan is found (the model is then
    solved as built)."""
    t0 = time.perf_counter()
    relaxed = lp_relaxation(form)
    if relaxed is None:
        return None
    lower, values, rc = relaxed
    y = values[cols["size"]]
    if np.all((y <= EPS) | (y >= 1 - EPS)):  # the LP optimum is integral: it is the plan
        plan = y >= 1 - EPS
        x, load = np.clip(values[cols["assign"]], 0.0, 1.0), values[cols["load"]]
        cost = float(form.c @ values + form.offset)
    else:
        allowed = ~d.site_excluded[d.option_site]
        forced = d.existing_option.copy()
        costing = TransportLP(d)
        start = rounded_plan(d, y)
        found = costing(start)
        # where distance limits leave demand unserved, repair (open / enlarge sites there)
        found = (*found, start) if found is not None else feasible_plan(d, start, allowed, forced)
        if found is None:
            return None
        found = improve(d, found[3], found[:3], allowed, forced, costing=costing)
        cost, x, load, plan = _drop_half_open(found, y, forced, costing)
    forced = d.existing_option
    open_cols = cols["open"]
    cutoff = cost + 1e-7 * max(1.0, abs(cost))
    # reduced-cost fixing (a column at its lower bound has r >= 0, at its upper bound r <= 0)
    r_size, r_open = rc[cols["size"]], rc[open_cols]
    at0_size, at0_open = y <= EPS, values[open_cols] <= EPS
    at1_open = values[open_cols] >= 1 - EPS
    closed = at0_size & (lower + r_size > cutoff)
    site_closed = at0_open & (lower + r_open > cutoff)
    closed |= site_closed[d.option_site]
    plan_site = np.zeros(d.m, bool)
    plan_site[d.option_site[plan]] = True
    closed &= ~plan & ~forced
    opened = at1_open & (lower - r_open > cutoff) & plan_site
    return CflpPresolve(plan, x, load, cost, min(lower, cost), closed, opened, time.perf_counter() - t0, 1)
