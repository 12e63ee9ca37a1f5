"""Presolve for *small* capacitated siting with split assignment (fewer allowed pairs than
:data:`qzopt.models.cflp_lagrange.MIN_PAIRS`): the LP relaxation of the model as built, a plan
rounded from it, and binaries fixed by their LP reduced costs.

On these models the strong LP is within a few tenths of a percent of the optimum (OR-Library
cap41-cap134: 0-0.4 %), so what a MIP solver spends its time on is finding the plan and closing
that last gap with cuts and heuristics.  Here:

1. **LP bound.**  Solve the LP relaxation once (HiGHS): bound z_LP, values and reduced costs r_c.
   HiGHS gets what is left of the presolve budget as its time limit; when that stops it there
   is no bound, and the model is solved as built (as when the LP is not solved).
2. **Plan.**  Open, at every site whose options have LP value > 0, its option of largest LP value;
   repair where distance limits leave demand unserved or minimum loads cannot be met, and
   improve (the helpers of :mod:`qzopt.models.cflp_lagrange`, whose transportation LP keeps
   each open option's minimum load); then close, one at a time, options that the LP only half
   opened (lowest LP value first), each closing kept when the transportation LP says it is
   cheaper.  A plan still more than :data:`PROOF_GAP` above the LP bound then gets the
   Lagrangian presolve's local search (add, drop and swap moves; ``search_seconds`` at most).
   Qianzhong MSW (minimum loads at 60 % of capacity): rounded 6.9 % above the optimum,
   0.023 % after the search (32 ms); HiGHS from that start 1.9 s instead of 4.3 s.
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
from dataclasses import dataclass

import numpy as np

from qzopt.models.cflp_lagrange import CflpPresolve, TransportLP, _entries, feasible_plan, improve, local_search
from qzopt.models.data import FacilityData
from qzopt.models.matrix import MatrixForm

#: The model is marked ``emphasis="proof"`` only when the plan is within this share of the LP
#: bound (cap41-cap134: 0-0.7 %; the township-scale benchmark: 5.2 %, where HiGHS's own
#: heuristics are still needed).
PROOF_GAP = 0.01

#: LP values below this count as 0 (closed) when rounding.
EPS = 1e-6


@dataclass(frozen=True)
class LpRoot:
    """The LP relaxation at the root: value z_LP (money/yr), column values, reduced costs, the
    ``highspy.Highs`` object that solved it (its basis starts :mod:`qzopt.models.lp_tree`; its
    time limit is lifted again), and the seconds the solve took (the LP handed to HiGHS
    included)."""

    value: float
    x: np.ndarray
    reduced_cost: np.ndarray
    lp: object
    seconds: float = 0.0


@dataclass(frozen=True)
class LpStopped:
    """The LP root not solved to optimality: HiGHS's model status (``"Time limit reached"`` when
    the time limit stopped it; ``"no time left"`` when the budget was spent before it started),
    the simplex iterations it ran, the seconds it took and the time limit it was given (seconds;
    None: none)."""

    status: str
    iterations: int
    seconds: float
    time_limit: float | None

    @property
    def timed_out(self) -> bool:
        return self.status in ("Time limit reached", "no time left")


def solve_root(form: MatrixForm, seconds: float | None = None) -> LpRoot | LpStopped:
    """The LP relaxation of ``form`` solved by HiGHS within ``seconds`` (HiGHS's ``time_limit``;
    None: no limit): an :class:`LpRoot` when solved to optimality, else an :class:`LpStopped`
    saying why (time limit, infeasible ...).  With no time left HiGHS is not started."""
    import highspy

    t0 = time.perf_counter()
    if seconds is not None and seconds <= 0.0:
        return LpStopped("no time left", 0, 0.0, float(seconds))
    h = form.to_highspy(relax=True)
    h.setOptionValue("presolve", "off")  # small models: cap84 12.6 -> 8.1 ms, cap124 28 -> 16 ms
    if seconds is not None:
        h.setOptionValue("time_limit", float(seconds))
    h.run()
    status = h.getModelStatus()
    if seconds is not None:
        h.setOptionValue("time_limit", float("inf"))  # the LP tree re-solves on this object
    if status != highspy.HighsModelStatus.kOptimal:
        return LpStopped(h.modelStatusToString(status), int(h.getInfo().simplex_iteration_count),
                         time.perf_counter() - t0, None if seconds is None else float(seconds))
    sol = h.getSolution()
    return LpRoot(float(h.getInfo().objective_function_value), np.asarray(sol.col_value),
                  np.asarray(sol.col_dual), h, time.perf_counter() - t0)


def lp_relaxation(form: MatrixForm, seconds: float | None = None) -> LpRoot | None:
    """The LP relaxation of ``form`` solved by HiGHS within ``seconds`` (None: no limit), or
    ``None`` when HiGHS does not solve it to optimality (infeasible models are left to the MIP
    solver; so is the model when the time limit stops the LP) - :func:`solve_root` says why."""
    root = solve_root(form, seconds)
    return root if isinstance(root, LpRoot) else None


def rounded_plan(d: FacilityData, y: np.ndarray) -> np.ndarray:
    """Open options from LP values ``y`` (per option): at every site with some y > 0, its option
    of largest y (ties: the larger capacity); options the scenario forces stay open."""
    open_opt = d.existing_option.copy()
    order = np.lexsort((d.capacity, y, d.option_site))  # by site, then y, then capacity
    site = d.option_site[order]
    pick = order[np.r_[site[1:] != site[:-1], True]]  # the last option of each site
    open_opt[pick[y[pick] > EPS]] = True
    return open_opt


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


def root_presolve(d: FacilityData, form: MatrixForm, cols: dict[str, np.ndarray],
                  root: LpRoot | None = None, search_seconds: float = 5.0) -> CflpPresolve | None:
    """Bound, plan and fixings (see the module docstring) for the scenario data ``d`` and its
    model ``form``; ``cols`` holds the model columns of the blocks ``size``, ``open``, ``assign``
    and ``load``; ``root`` the LP relaxation of ``form`` when already solved.  ``None`` when the
    LP is not solved or no plan is found (the model is then solved as built).  The outcome's
    ``seconds`` include the LP root's, whether solved here or before (``root.seconds``);
    ``search_seconds`` bounds the local search (step 2)."""
    root = root if root is not None else lp_relaxation(form)
    if root is None:
        return None
    t0 = time.perf_counter() - root.seconds  # the LP root's seconds count, solved here or before
    lower, values, rc = root.value, root.x, root.reduced_cost
    y = values[cols["size"]]
    forced = d.existing_option
    if np.all((y <= EPS) | (y >= 1 - EPS)):  # the LP optimum is integral: it is the plan
        plan = y >= 1 - EPS
        x, load = np.clip(values[cols["assign"]], 0.0, 1.0), values[cols["load"]]
        cost = form.objective(values)
    else:
        allowed = ~d.site_excluded[d.option_site]
        costing = TransportLP(d)
        start = rounded_plan(d, y)
        found = costing(start)
        # where distance limits leave demand unserved, repair (open / enlarge sites there)
        found = (*found, start) if found is not None else feasible_plan(d, start, allowed, forced)
        if found is None:
            return None
        found = improve(d, found[3], found[:3], allowed, forced, costing=costing)
        cost, x, load, plan = _drop_half_open(found, y, forced, costing)
        if cost - lower > PROOF_GAP * max(1.0, abs(cost)):  # a plan that needs more than a proof
            reach = np.minimum(d.capacity, d.max_load[d.option_site])
            cost, x, load, plan = local_search(d, _entries(d, allowed), reach, (cost, x, load, plan), allowed,
                                               forced, lower, time.perf_counter() + search_seconds)
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
