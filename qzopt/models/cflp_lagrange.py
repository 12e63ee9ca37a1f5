"""Presolve for capacitated siting with split assignment: a Lagrangian bound, a heuristic plan
and options fixed by reduced-cost arguments (the CFLP counterpart of :mod:`qzopt.models.lagrange`).

Notation of docs/model.md: points i with demand d_i, sites j, size options k of site j with
capacity Q_k, fixed cost F_k and load cost v_k (money/yr per unit), allowed pairs (i, j) with
cost c_ij (money/yr for i's whole demand), shares x_ij.  Relaxing "each point fully served"
(sum_j x_ij = 1) with multipliers lambda_i gives, for any lambda,

    L(lambda) = sum_i lambda_i + sum_j min(0, min_k w_k),
    w_k = F_k + min { sum_i (c_ij + v_k d_i - lambda_i) x_ij : sum_i d_i x_ij <= Q_k, 0 <= x <= 1 },

a continuous knapsack per option (take the points of most negative reduced cost per unit until
Q_k is full).  This bound is at least the LP bound of the strong formulation.  With one size
per site the subproblem also keeps "open capacity >= total demand" (exactly when the sites
share one capacity, as in OR-Library's capa/b/c, else its LP relaxation), which matters when
capacity is tight.

Steps: Polyak steps towards the best plan's cost, or towards 5 % above the best bound while the
plans are dearer than that (a far-off target overshoots at every step; on the village-scale
benchmark it left the bound at a third of the optimum).

Plans: the subproblem's open options, completed until every point can be served (every 20 steps,
at most one per 40 steps costed), and a greedy plan at the multipliers of the moment
(:func:`price_greedy`, at steps 0, 500, 1000, 2000, 4000 and at the end).  Counted in steps, not
seconds, so a run that the clock does not stop is repeatable (``CflpPresolve.clock_stopped``).
Where distance limits leave demand unserved, sites are opened or enlarged (:func:`feasible_plan`);
each plan is costed by a transportation LP (HiGHS), the cheapest kept and improved by local
search.  Fixing: forcing option k open raises the bound to L - min(0, w*_j) + w_k; forcing
site j closed raises it to L - min(0, w*_j).  Whatever raises it above the plan's cost is fixed
(options closed, sites opened), never against the plan, so the reduced model keeps an optimal
solution and the plan is its MIP start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from qzopt.models.data import FacilityData
from qzopt.models.lagrange import Ascent
from qzopt.models.matrix import MatrixForm

#: Below this many allowed pairs the MILP alone is quicker than the presolve.
MIN_PAIRS = 20_000

#: Steps without a better bound before the step factor is halved: one size per site, several.
#: (Village-scale benchmark, 60 s of steps: 20 -> bound 1.2492e9, 50 -> 1.2601e9, 100 -> 1.2617e9;
#: on capa-8000/10000 and capb-6000 50 fixed no more sites and took twice the steps.)
PATIENCE = (20, 50)


#: Plans from the subproblem: one every PLAN_EVERY steps, at most one costed per STEPS_PER_PLAN
#: steps; greedy plans at these steps (and at the end).  Counts, not seconds, so that a run is
#: repeatable.  (The clock-driven rules before - plans while costing took at most a quarter of the
#: time, greedy plans at each quarter - costed 40 plans in 1,183 steps on capb-6000, 23 in 1,573
#: on the village instance.)
PLAN_EVERY = 20
STEPS_PER_PLAN = 40
GREEDY_AT = (0, 500, 1000, 2000, 4000)


@dataclass(frozen=True)
class CflpPresolve:
    """Outcome: the plan (options open, shares per pair, load per option), its cost and the best
    Lagrangian bound (money/yr), options fixed closed, sites fixed open, seconds, iterations,
    the multipliers of the best bound, and whether the time budget cut the run short."""

    plan: np.ndarray
    assign: np.ndarray
    load: np.ndarray
    upper: float
    lower: float
    closed: np.ndarray
    opened: np.ndarray
    seconds: float
    iterations: int
    lam: np.ndarray | None = None  # best multipliers of "each point fully served", money/yr per point
    clock_stopped: bool = False  # the time budget ended the ascent or the local search (a rerun may differ)


def eligible(sc, data: FacilityData) -> bool:
    """True for the generic sector with split assignment, every demand served, capacities that
    can bind, no count or budget rule and no fee rules: the models a plan from the
    transportation LP (minimum loads included, :func:`least_load`) and a presolve's fixings
    apply to."""
    p = sc.policy
    return (sc.sector == "facility" and not p.single_sourcing and not p.partial_service
            and p.facilities_exactly is None and p.facilities_at_most is None and p.facilities_at_least is None
            and p.budget is None and (sc.fees is None or not sc.fees.active) and not data.uncapacitated)


def applies(sc, data: FacilityData) -> bool:
    """:func:`eligible`, no minimum loads (the knapsacks of the Lagrangian subproblem have no
    floor) and at least :data:`MIN_PAIRS` allowed pairs (below that the LP root presolve of
    :mod:`qzopt.models.cflp_root` is quicker)."""
    return eligible(sc, data) and not np.any(data.min_load > 0) and data.P >= MIN_PAIRS


@dataclass(frozen=True)
class _Entries:
    """Every (pair, option of its site) with d_i > 0: the knapsack items, and per pair with
    d_i > 0 (``p_*``, sorted by site) what the knapsacks of all options of its site share."""

    pair: np.ndarray
    option: np.ndarray
    point: np.ndarray
    base: np.ndarray  # c_ij + v_k d_i (money/yr for i's whole demand)
    amount: np.ndarray  # d_i
    slot: np.ndarray  # per entry, the index of its pair among the p_* arrays
    p_point: np.ndarray
    p_site: np.ndarray
    p_cost: np.ndarray  # c_ij
    p_amount: np.ndarray  # d_i
    p_vmin: np.ndarray  # least load cost v_k (money/yr per unit) among the allowed options of the site
    v: np.ndarray  # per option, its load cost v_k
    option_site: np.ndarray
    p_first: np.ndarray  # per pair, its first entry (the entries of a pair are consecutive)
    p_reps: np.ndarray  # per pair, how many entries (options of its site)


def _entries(d: FacilityData, allowed_option: np.ndarray) -> _Entries:
    by_site = [np.flatnonzero((d.option_site == j) & allowed_option) for j in range(d.m)]
    counts = np.array([len(o) for o in by_site])
    keep = d.amount[d.pairs.i] > 0
    pairs = np.flatnonzero(keep & (counts[d.pairs.j] > 0))
    pairs = pairs[np.argsort(d.pairs.j[pairs], kind="stable")]
    reps = counts[d.pairs.j[pairs]]
    pair = np.repeat(pairs, reps)
    slot = np.repeat(np.arange(len(pairs)), reps)
    starts = np.repeat(np.cumsum(reps) - reps, reps)
    within = np.arange(len(pair)) - starts
    flat = np.concatenate([o for o in by_site if len(o)]) if counts.sum() else np.zeros(0, np.int64)
    site_start = np.cumsum(counts) - counts
    option = flat[site_start[d.pairs.j[pair]] + within]
    point = d.pairs.i[pair]
    amount = d.amount[point]
    v = d.load_cost.astype(float)
    vmin = np.full(d.m, np.inf)
    np.minimum.at(vmin, d.option_site[allowed_option], v[allowed_option])
    return _Entries(pair, option, point, d.pairs.cost[pair] + v[option] * amount, amount, slot,
                    d.pairs.i[pairs], d.pairs.j[pairs], d.pairs.cost[pairs], d.amount[d.pairs.i[pairs]],
                    vmin[d.pairs.j[pairs]], v, d.option_site, np.cumsum(reps) - reps, reps)


def _knapsacks(e: _Entries, lam: np.ndarray, Q: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Per option k the knapsack value V_k (money/yr) and per entry the share taken.

    The options of a site share its pairs and rank them alike: per unit of demand pair (i, j)
    costs r_ij + v_k with r_ij = (c_ij - lambda_i) / d_i, so one sort of the pairs by (site, r)
    serves every option; option k takes its site's pairs in that order while r_ij + v_k < 0,
    until Q_k is full (the last one in part)."""
    r = (e.p_cost - lam[e.p_point]) / e.p_amount
    live = np.flatnonzero(r + e.p_vmin < 0)
    take = np.zeros(len(e.pair))
    V = np.zeros(K)
    if live.size == 0:
        return V, take
    order = live[np.lexsort((r[live], e.p_site[live]))]
    site, rr, amt = e.p_site[order], r[order], e.p_amount[order]
    cum = np.r_[0.0, np.cumsum(amt)]  # demand before position t: cum[t]
    crd = np.r_[0.0, np.cumsum(rr * amt)]
    s0 = np.searchsorted(site, e.option_site, side="left")  # per option, its site's run of positions
    # per option: pairs worth taking are the first `count` of the run (it is sorted by r)
    reps = e.p_reps[order]  # the entries of the live pairs, in the order's positions
    ent = np.repeat(e.p_first[order] - np.cumsum(reps) + reps, reps) + np.arange(int(reps.sum()))
    ent_pos = np.repeat(np.arange(len(order)), reps)
    k = e.option[ent]
    below = (rr[ent_pos] + e.v[k]) < 0
    neg = s0 + np.bincount(k, weights=below, minlength=K).astype(np.int64)
    # ... and pairs before `full` fit whole in Q_k
    full = np.searchsorted(cum, cum[s0] + Q, side="right") - 1
    stop = np.minimum(neg, full)  # positions [s0, stop) are taken whole
    V = (crd[stop] - crd[s0]) + e.v * (cum[stop] - cum[s0])
    partial = stop < neg  # position `stop` is taken in part: the capacity left
    at = np.where(partial, stop, 0)
    share = np.where(partial, np.clip((Q - (cum[stop] - cum[s0])) / amt[at], 0.0, 1.0), 0.0)
    V += np.where(partial, (rr[at] + e.v) * amt[at] * share, 0.0)
    # per entry of a live pair: its position in the order, against its option's cuts
    take[ent] = np.where(ent_pos < stop[k], 1.0, np.where(partial[k] & (ent_pos == stop[k]), share[k], 0.0))
    return V, take


def _cover(w_site: np.ndarray, q_site: np.ndarray, must: np.ndarray, can: np.ndarray, demand: float) -> np.ndarray:
    """min sum w_j y_j s.t. sum q_j y_j >= demand, y_must = 1: exactly (0/1) when the open-able
    sites all have one capacity (then the cheapest ones complete the cover), else its LP
    relaxation (y in [0, 1], the last site fractional).  Both are valid in the Lagrangian bound."""
    y = np.where(must | (can & (w_site < 0)), 1.0, 0.0)
    short = demand - float(q_site @ y)
    if short > 1e-9:
        cand = np.flatnonzero(can & (y == 0) & (q_site > 0))
        equal = cand.size > 0 and np.ptp(q_site[cand]) <= 1e-9 * q_site[cand].max()
        for j in cand[np.argsort(w_site[cand] / q_site[cand])]:
            step = 1.0 if equal else min(1.0, short / q_site[j])
            y[j] = step
            short -= step * q_site[j]
            if short <= 1e-9:
                break
    return y


def _transport_lp(d: FacilityData, open_opt: np.ndarray, shortfall: bool, floors: bool = True):
    """Solve the transportation LP of the open options (HiGHS).  Returns (highs, sel, k, amt, opts,
    pts) or ``None`` when some point with demand reaches no open site.  With ``shortfall`` every
    point also gets a column "not served" (cost 1 per unit of demand, the pairs cost nothing), so
    the LP always has a solution and the columns' values say what the open options cannot serve.
    ``floors``: each open option's load is at least its minimum load (never with ``shortfall``,
    which asks only what the distance limits and capacities allow)."""
    import scipy.sparse as sp

    site_opt = np.full(d.m, -1)
    site_opt[d.option_site[open_opt]] = np.flatnonzero(open_opt)
    served = d.amount > 0
    sel = np.flatnonzero((site_opt[d.pairs.j] >= 0) & served[d.pairs.i])
    pts = np.flatnonzero(served)
    if not shortfall and np.setdiff1d(pts, d.pairs.i[sel]).size:
        return None
    k = site_opt[d.pairs.j[sel]]
    amt = d.amount[d.pairs.i[sel]]
    opts = np.flatnonzero(open_opt)
    row_of_opt = np.full(d.K, -1)
    row_of_opt[opts] = np.arange(len(opts))
    row_of_pt = np.full(d.n, -1)
    row_of_pt[pts] = len(opts) + np.arange(len(pts))
    ncol = len(sel)
    rows = [row_of_opt[k], row_of_pt[d.pairs.i[sel]]]
    vals = [amt, np.ones(ncol)]
    cols = [np.arange(ncol), np.arange(ncol)]
    if shortfall:
        cost = np.r_[np.zeros(ncol), d.amount[pts]]
        rows.append(row_of_pt[pts])
        vals.append(np.ones(len(pts)))
        cols.append(ncol + np.arange(len(pts)))
        ncol += len(pts)
    else:
        cost = d.pairs.cost[sel] + d.load_cost[k] * amt
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(len(opts) + len(pts), ncol))
    cap = np.minimum(d.capacity[opts], 1e30)
    floor = least_load(d, opts) if floors and not shortfall else np.full(len(opts), -np.inf)
    h = _lp(cost, A, np.r_[floor, np.ones(len(pts))], np.r_[cap, np.ones(len(pts))])
    h.run()
    return h, sel, k, amt, opts, pts


def _lp(cost: np.ndarray, A, row_lower: np.ndarray, row_upper: np.ndarray):
    """A HiGHS object holding min cost @ x s.t. row_lower <= A x <= row_upper, 0 <= x <= 1."""
    n = cost.shape[0]
    return MatrixForm("transport", cost, 0.0, A, row_lower, row_upper, np.zeros(n), np.ones(n),
                      np.zeros(n, bool)).to_highspy()


def least_load(d: FacilityData, options: np.ndarray) -> np.ndarray:
    """The lower bound of the load rows of ``options`` in a transportation LP: each option's
    minimum load (units.demand) where it has one, else none (-inf)."""
    floor = d.min_load[options]
    return np.where(floor > 0, floor, -np.inf)


def transport_plan(d: FacilityData, open_opt: np.ndarray, duals: bool = False, floors: bool = True) -> tuple | None:
    """Cost (money/yr), shares per pair and load per option of serving every point from the open
    options (a transportation LP, HiGHS), each open option's load at least its minimum load
    (without ``floors``: no minimum loads); ``None`` when they cannot serve everyone.  With
    ``duals``, also (u, mu): the dual u_i of each point's "served once" row (money/yr for its
    whole demand; 0 for points without demand), the price the plan puts on serving i, and the
    dual mu_k of each open option's load row (money/yr per unit of load; <= 0 where the capacity
    binds, >= 0 where the minimum load does; 0 if closed)."""
    import highspy

    solved = _transport_lp(d, open_opt, shortfall=False, floors=floors)
    if solved is None:
        return None
    h, sel, k, amt, opts, pts = solved
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.zeros(d.P)
    x[sel] = np.clip(np.asarray(h.getSolution().col_value), 0.0, 1.0)
    load = np.zeros(d.K)
    np.add.at(load, k, amt * x[sel])
    cost = float(d.fixed[open_opt].sum() + h.getInfo().objective_function_value)
    if not duals:
        return cost, x, load
    dual = np.asarray(h.getSolution().row_dual)
    u, mu = np.zeros(d.n), np.zeros(d.K)
    u[pts] = dual[len(opts):]
    mu[opts] = dual[:len(opts)]
    return cost, x, load, (u, mu)


class TransportLP:
    """The transportation LP of a plan (:func:`transport_plan`), kept
    in one HiGHS object over every pair with demand: costing another plan changes only the
    capacity rows (0 for closed sites) and the pair costs of the sites whose option changed, and
    HiGHS re-solves from the last basis (its presolve off).  Call it with a boolean vector of open
    options; returns (cost money/yr, shares per pair, load per option) or ``None`` when the open
    options cannot serve every point."""

    def __init__(self, d: FacilityData) -> None:
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
        A = sp.csr_matrix((np.r_[self.amount, np.ones(len(cols))], (np.r_[j, row_of_pt[i]], np.r_[cols, cols])),
                          shape=(d.m + len(pts), len(cols)))
        # every site closed to begin with (capacity rows <= 0)
        self.h = _lp(d.pairs.cost[self.sel], A, np.r_[np.full(d.m, -np.inf), np.ones(len(pts))],
                     np.r_[np.zeros(d.m), np.ones(len(pts))])
        self.h.setOptionValue("presolve", "off")
        self.site_opt = np.full(d.m, -1)  # the option each site's row holds now (-1: closed)
        order = np.argsort(j, kind="stable")
        self.cols_of_site = np.split(order, np.searchsorted(j[order], np.arange(1, d.m)))

    def __call__(self, open_opt: np.ndarray) -> tuple | None:
        """(cost, shares, loads) of ``open_opt``; ``None`` when it cannot serve everyone."""
        import highspy

        d, h = self.d, self.h
        want = np.full(d.m, -1)
        want[d.option_site[open_opt]] = np.flatnonzero(open_opt)
        changed = np.flatnonzero(want != self.site_opt)
        if changed.size:
            k = want[changed]
            upper = np.where(k >= 0, np.minimum(d.capacity[np.maximum(k, 0)], 1e30), 0.0)
            lower = np.where(k >= 0, least_load(d, np.maximum(k, 0)), -np.inf)
            h.changeRowsBounds(len(changed), changed.astype(np.int32), lower, upper)
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


def shortfall(d: FacilityData, open_opt: np.ndarray) -> np.ndarray:
    """Per point, the least demand (units.demand) the open options leave unserved, whatever the
    assignment (an LP that minimises the unserved demand); zeros when the options can serve all."""
    import highspy

    h, sel, _, _, _, pts = _transport_lp(d, open_opt, shortfall=True)
    short = np.zeros(d.n)
    if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        short[pts] = np.asarray(h.getSolution().col_value)[len(sel):] * d.amount[pts]
    else:  # cannot happen (the LP always has a solution); count everything as unserved
        short[pts] = d.amount[pts]
    return np.where(short > 1e-9 * max(1.0, float(d.amount.max())), short, 0.0)


def reinforce(d: FacilityData, open_opt: np.ndarray, short: np.ndarray, allowed: np.ndarray,
              forced: np.ndarray) -> np.ndarray:
    """Open or enlarge sites until the unserved demand ``short`` (per point, units.demand) has
    capacity within reach: greedily, the site whose added capacity reaches most of it per unit of
    added fixed cost (money/yr); its new capacity is taken by the unserved points cheapest to serve
    from it.  Sites with a ``forced`` option keep it."""
    open_opt = open_opt.copy()
    s = short.astype(float).copy()
    site_cap = np.zeros(d.m)
    site_fix = np.zeros(d.m)
    np.add.at(site_cap, d.option_site[open_opt], np.minimum(d.capacity, d.max_load[d.option_site])[open_opt])
    np.add.at(site_fix, d.option_site[open_opt], d.fixed[open_opt])
    # per site its allowed options, largest last
    larger: dict[int, list[int]] = {}
    fixed_site = np.zeros(d.m, bool)
    fixed_site[d.option_site[forced]] = True
    resizable = np.flatnonzero(allowed & ~fixed_site[d.option_site])
    for k in resizable[np.argsort(d.capacity[resizable], kind="stable")]:
        larger.setdefault(int(d.option_site[k]), []).append(int(k))
    order = np.argsort(d.pairs.cost / np.maximum(d.amount[d.pairs.i], 1e-12), kind="stable")
    for _ in range(d.m * 3):
        if s.sum() <= 1e-9:
            break
        reach = np.bincount(d.pairs.j, weights=s[d.pairs.i], minlength=d.m)
        best, best_score, best_opt = -1, 0.0, -1
        for j in np.flatnonzero(reach > 1e-9):
            ks = larger.get(int(j), [])
            if not ks or open_opt[ks[-1]]:
                continue  # no size it may take, or already at its largest
            k = ks[-1]
            added = min(float(reach[j]), float(min(d.capacity[k], d.max_load[j])) - site_cap[j])
            extra = float(d.fixed[k]) - site_fix[j]
            score = added / max(extra, 1e-9)
            if added > 1e-9 and score > best_score:
                best, best_score, best_opt = int(j), score, k
        if best < 0:
            break
        open_opt[d.option_site == best] = False
        open_opt[best_opt] = True
        room = float(min(d.capacity[best_opt], d.max_load[best])) - site_cap[best]
        site_cap[best] += room
        site_fix[best] = float(d.fixed[best_opt])
        for p in order[d.pairs.j[order] == best]:
            i = d.pairs.i[p]
            take = min(s[i], room)
            s[i] -= take
            room -= take
            if room <= 1e-12:
                break
    return open_opt


def feasible_plan(d: FacilityData, open_opt: np.ndarray, allowed: np.ndarray, forced: np.ndarray,
                  rounds: int = 6) -> tuple | None:
    """The transportation plan of ``open_opt`` (see :func:`transport_plan`), after opening or
    enlarging sites where distance limits leave demand unserved (:func:`reinforce`) and resizing
    or closing options that cannot reach their minimum loads (:func:`meet_floors`).  Returns
    (cost, shares, loads, open options) or ``None``."""
    for _ in range(rounds):
        found = transport_plan(d, open_opt)
        if found is not None:
            return found[0], found[1], found[2], open_opt
        short = shortfall(d, open_opt)
        grown = (reinforce(d, open_opt, short, allowed, forced) if short.any()
                 else meet_floors(d, open_opt, allowed, forced))
        if grown is None or np.array_equal(grown, open_opt):
            return None
        open_opt = grown
    return None


def meet_floors(d: FacilityData, open_opt: np.ndarray, allowed: np.ndarray, forced: np.ndarray) -> np.ndarray | None:
    """``open_opt`` with every option that its load in the transportation LP without minimum
    loads leaves below its minimum load (units.demand) replaced by its site's option that holds
    that load and has the largest capacity among those whose minimum load it meets, or closed
    when there is none; forced options stay.  ``None`` when even that LP has no solution."""
    free = transport_plan(d, open_opt, floors=False)
    if free is None:
        return None
    load, open_opt = free[2], open_opt.copy()
    for k in np.flatnonzero(open_opt & ~forced & (free[2] < d.min_load - 1e-9)):
        site = d.option_site == d.option_site[k]
        fits = np.flatnonzero(site & allowed & (d.min_load <= load[k] + 1e-9) & (d.capacity >= load[k] - 1e-9))
        open_opt[k] = False
        if fits.size:
            open_opt[fits[np.argmax(d.capacity[fits])]] = True
    return open_opt


def price_greedy(d: FacilityData, e: _Entries, Q: np.ndarray, lam: np.ndarray, allowed: np.ndarray,
                 forced: np.ndarray) -> np.ndarray:
    """A plan from multipliers (a greedy Lagrangian heuristic, as in Beasley, EJOR 65 (1993)
    383-399): open one option at a time, the one of most negative value w_k = F_k + knapsack at
    prices ``lam`` over the points no open option has taken yet; it takes the points of its
    knapsack.  Once no value is negative, open the option of least cost per unit of demand it
    would serve (F_k + the costs of its cheapest untaken points up to Q_k) until every point is
    taken or no option can take more.  Returns the open options (bool per option); the
    transportation LP then assigns the points afresh."""
    open_opt = forced.copy()
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[open_opt]] = True
    taken = d.amount <= 0
    per_unit = e.base / np.maximum(e.amount, 1e-12)
    # prices that make every pair worth taking, cheapest per unit first (phase 2)
    dear = d.amount * (2.0 * float(np.abs(per_unit).max(initial=0.0)) + 1.0)
    for _ in range(d.m):
        if taken.all():
            break
        closed = allowed & ~site_open[d.option_site]
        V, take = _knapsacks(e, np.where(taken, -np.inf, lam), Q, d.K)
        w = np.where(closed, d.fixed + V, np.inf)
        k = int(np.argmin(w)) if closed.any() else -1
        if k < 0 or not w[k] < 0:
            _, take = _knapsacks(e, np.where(taken, -np.inf, dear), Q, d.K)
            served = np.bincount(e.option, weights=take * e.amount, minlength=d.K)
            cost = d.fixed + np.bincount(e.option, weights=take * e.base, minlength=d.K)
            per = np.where(closed & (served > 1e-9), cost / np.maximum(served, 1e-12), np.inf)
            k = int(np.argmin(per))
            if not np.isfinite(per[k]):
                break
        open_opt[k] = True
        site_open[d.option_site[k]] = True
        taken[e.point[(e.option == k) & (take > 0.5)]] = True
    return open_opt


def _swap_moves(d: FacilityData, e: _Entries, Q: np.ndarray, x: np.ndarray, open_opt: np.ndarray,
                allowed: np.ndarray, forced: np.ndarray, u: np.ndarray, mu: np.ndarray, load: np.ndarray,
                width: int, deadline: float = np.inf) -> list[tuple[list[int], list[int]]]:
    """Moves (options to open, options to close), most promising first, by a first-order estimate
    at the plan's duals: closing k saves F_k and moves k's points to their next-best open option
    (price u'_i = min over open options other than k of c_ij + v d_i - mu d_i); opening l gains
    its Lagrangian value w_l at those prices (F_l + a continuous knapsack of reduced costs)."""
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[open_opt]] = True
    on = open_opt[e.option]
    eff = np.where(on, e.base - mu[e.option] * e.amount, np.inf)
    # per point: its cheapest open option (value, option) and the second cheapest value
    order = np.lexsort((eff, e.point))
    pt, val, opt = e.point[order], eff[order], e.option[order]
    first = np.r_[True, pt[1:] != pt[:-1]]
    best1 = np.full(d.n, np.inf)
    best1[pt[first]] = val[first]
    opt1 = np.full(d.n, -1)
    opt1[pt[first]] = opt[first]
    second = np.r_[False, first[:-1]] & ~first
    best2 = np.full(d.n, np.inf)
    best2[pt[second]] = val[second]
    cand = np.flatnonzero(allowed & ~site_open[d.option_site])
    shut = np.flatnonzero(open_opt & ~forced)
    scored: list[tuple[float, list[int], list[int]]] = []
    V, _ = _knapsacks(e, u, Q, d.K)
    scored += [(float(d.fixed[k] + V[k]), [int(k)], []) for k in cand if d.fixed[k] + V[k] < 0]
    share = np.zeros(d.n)
    for k in shut:
        if time.perf_counter() >= deadline:
            break
        on_k = np.flatnonzero(open_opt[d.option_site] & (d.option_site == d.option_site[k]))
        served = np.flatnonzero(np.isin(d.pairs.j, d.option_site[on_k]) & (x > 1e-9))
        share[:] = 0.0
        np.add.at(share, d.pairs.i[served], x[served])
        pts = np.flatnonzero(share > 0)
        price = np.where(opt1[pts] == k, best2[pts], best1[pts])
        price = np.where(np.isfinite(price), price, u[pts] + d.fixed[k])  # no other open option: dear
        moved = float((share[pts] * (price - u[pts])).sum())
        scored.append((moved - float(d.fixed[k]), [], [int(k)]))
        lam = u.copy()
        lam[pts] = np.maximum(u[pts], price)
        Vk, _ = _knapsacks(e, lam, Q, d.K)
        w = d.fixed[cand] + Vk[cand]
        for i in np.argsort(w, kind="stable")[:width]:
            scored.append((moved - float(d.fixed[k]) + float(w[i]), [int(cand[i])], [int(k)]))
    scored.sort(key=lambda t: t[0])
    return [(add, drop) for _, add, drop in scored]


def local_search(d: FacilityData, e: _Entries, Q: np.ndarray, best: tuple[float, np.ndarray, np.ndarray, np.ndarray],
                 allowed: np.ndarray, forced: np.ndarray, lower: float, deadline: float,
                 width: int = 8) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Add, drop and swap moves on a costed plan (cost, shares, loads, open options), each move
    costed exactly by the transportation LP, the first cheaper one taken, in the order of the
    estimate of :func:`_swap_moves` (at most ``width`` options to open per option closed).
    Stops after a pass without improvement, within 1e-7 of ``lower`` (money/yr), or at
    ``deadline`` (a ``time.perf_counter()`` value)."""
    open_opt = best[3]
    again = transport_plan(d, open_opt, duals=True)
    if again is None:
        return best
    cost, x, load, (u, mu) = again
    demand = float(d.amount.sum())
    while time.perf_counter() < deadline and (cost - lower) > 1e-7 * max(1.0, abs(cost)):
        taken = None
        for add, drop in _swap_moves(d, e, Q, x, open_opt, allowed, forced, u, mu, load, width, deadline):
            if time.perf_counter() >= deadline:
                break
            trial = open_opt.copy()
            trial[add] = True
            trial[drop] = False
            if Q[trial].sum() < demand * (1 - 1e-12):
                continue
            found = transport_plan(d, trial, duals=True)
            if found is not None and found[0] < cost - 1e-9 * max(1.0, abs(cost)):
                taken = (found, trial)
                break
        if taken is None:
            break
        (cost, x, load, (u, mu)), open_opt = taken
    return cost, x, load, open_opt


def improve(d: FacilityData, open_opt: np.ndarray, found: tuple[float, np.ndarray, np.ndarray],
            allowed: np.ndarray, forced: np.ndarray, rounds: int = 4,
            costing: Callable[[np.ndarray], tuple | None] | None = None,
            ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Local improvement of a costed plan: give every open site the smallest size that holds its
    load, close lightly used options (under a quarter full), complete the cover again and re-cost
    (``costing(open_opt)`` -> (cost, shares, loads) or None; default :func:`transport_plan`);
    keep a change only when it is cheaper.  Returns (cost, shares, loads, open options)."""
    costing = costing or (lambda trial: transport_plan(d, trial))
    best = (found[0], found[1], found[2], open_opt)
    by_site: dict[int, np.ndarray] = {}
    for k in np.flatnonzero(allowed):
        by_site.setdefault(int(d.option_site[k]), []).append(k)
    for _ in range(rounds):
        cost, x, load, current = best
        trial = np.zeros(d.K, bool)
        for k in np.flatnonzero(current):
            if forced[k]:
                trial[k] = True
                continue
            if load[k] < 0.25 * min(d.capacity[k], d.max_load[d.option_site[k]]):
                continue  # closed: its points go elsewhere
            fits = [o for o in by_site[int(d.option_site[k])] if d.capacity[o] >= load[k] - 1e-9]
            trial[min(fits, key=lambda o: d.fixed[o] + d.load_cost[o] * load[k]) if fits else k] = True
        trial = _complete(d, trial, d.fixed, allowed)
        if np.array_equal(trial, current):
            break
        again = costing(trial)
        if again is None or again[0] >= cost - 1e-9 * max(1.0, abs(cost)):
            break
        best = (again[0], again[1], again[2], trial)
    return best


def _complete(d: FacilityData, open_opt: np.ndarray, w: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Open more options (cheapest w first, largest size of their site) until every point can
    reach an open site and the open capacity covers the demand."""
    open_opt = open_opt.copy()
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[open_opt]] = True
    covered = np.zeros(d.n, bool)
    covered[d.pairs.i[site_open[d.pairs.j]]] = True
    covered |= d.amount <= 0
    need = d.amount.sum()
    # per closed site, its largest allowed option
    best = np.full(d.m, -1)
    for k in np.flatnonzero(allowed)[np.argsort(d.capacity[allowed])]:
        best[d.option_site[k]] = k
    site_w = np.full(d.m, np.inf)
    np.minimum.at(site_w, d.option_site[allowed], w[allowed])
    while True:
        cap = np.minimum(d.capacity[open_opt], d.max_load[d.option_site[open_opt]]).sum()
        uncovered = ~covered
        if not uncovered.any() and cap >= need * (1 + 1e-9):
            return open_opt
        cand = np.flatnonzero(~site_open & (best >= 0))
        if cand.size == 0:
            return open_opt
        if uncovered.any():
            reach = np.zeros(d.m)
            np.add.at(reach, d.pairs.j, uncovered[d.pairs.i] * d.amount[d.pairs.i])
            cand = cand[reach[cand] > 0] if (reach[cand] > 0).any() else cand
        j = cand[np.argmin(site_w[cand])]
        open_opt[best[j]] = True
        site_open[j] = True
        covered[d.pairs.i[d.pairs.j == j]] = True


def presolve_cflp(d: FacilityData, seconds: float = 90.0, iterations: int = 5000,
                  target_gap: float | None = 0.05, search_seconds: float | None = None,
                  on_plan_at: tuple[int, Callable[[np.ndarray, float, float], None]] | None = None,
                  ) -> CflpPresolve | None:
    """Bound, plan and fixings for the scenario data ``d`` (see the module docstring), in at most
    about ``seconds``: two thirds for the subgradient ascent (with its plans), the rest for the
    local search on the best plan (at most ``search_seconds`` of it, when given).  ``target_gap``:
    while the best plan costs more than the best bound x (1 + target_gap), the steps aim at that
    instead (``None``: always at the plan).  ``on_plan_at = (step, f)``: at that step of the
    ascent (counted, so repeatable; not called when the ascent ends sooner) ``f(open options,
    plan cost, best bound)`` is called with the best plan so far (money/yr), e.g. to start work
    on it in another thread while the ascent goes on."""
    t0 = time.perf_counter()
    ascent_s = 2.0 * seconds / 3.0
    allowed = ~d.site_excluded[d.option_site]
    forced_opt = d.existing_option.copy()
    must_site = d.site_required | d.site_existing
    e = _entries(d, allowed)
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    one_size = d.K == d.m
    demand = float(d.amount.sum())
    n_pos = d.amount > 0
    # start: lambda_i = cost of i's cheapest pair (per whole demand), incl. the load cost
    lam = np.full(d.n, 0.0)
    np.maximum.at(lam, e.point, 0.0)
    cheapest = np.full(d.n, np.inf)
    np.minimum.at(cheapest, e.point, e.base)
    lam[n_pos] = np.where(np.isfinite(cheapest[n_pos]), cheapest[n_pos], 0.0)
    # lambda at the cheapest pair gives little; add the average fixed cost per unit as a start
    lam[n_pos] += d.amount[n_pos] * float(np.median(d.fixed[allowed] / np.maximum(Q[allowed], 1e-9)))

    ascent = Ascent(lam.copy(), patience=PATIENCE[0] if one_size else PATIENCE[1])
    upper, plan = np.inf, None
    seen: set[bytes] = set()
    costed = 0  # plans costed so far

    def consider(candidate: np.ndarray) -> None:
        """Cost a set of open options (made feasible, then improved); keep it if cheapest."""
        nonlocal upper, plan, costed
        key = candidate.tobytes()
        if key in seen:
            return
        seen.add(key)
        costed += 1
        found = feasible_plan(d, candidate, allowed, forced_opt)
        if found is not None:
            found = improve(d, found[3], found[:3], allowed, forced_opt)
            if found[0] < upper:
                upper, plan = found[0], (found[3], found[1], found[2])

    # the greedy plan at the current multipliers, now and at the steps of GREEDY_AT
    greedy_at = list(GREEDY_AT)
    clock_stopped = False
    it = 0
    for it in range(iterations):
        V, take = _knapsacks(e, lam, Q, d.K)
        w = d.fixed + V
        w_alw = np.where(allowed, w, np.inf)
        best_opt = np.full(d.m, -1)
        site_w = np.full(d.m, np.inf)
        np.minimum.at(site_w, d.option_site, w_alw)
        # the best option of each site (forced options win)
        for k in np.flatnonzero(forced_opt):
            site_w[d.option_site[k]] = w[k]
        hit = np.isclose(w_alw, site_w[d.option_site]) | forced_opt
        best_opt[d.option_site[hit]] = np.flatnonzero(hit)
        has = best_opt >= 0
        if one_size:
            q_site = np.zeros(d.m)
            q_site[has] = Q[best_opt[has]]
            y_site = _cover(np.where(has, site_w, np.inf), q_site, must_site & has, has & ~must_site, demand)
        else:
            y_site = np.where(must_site | (has & (site_w < 0)), 1.0, 0.0)
        bound = float(lam[n_pos].sum() + (y_site[has] * site_w[has]).sum())
        open_opt = np.zeros(d.K, bool)
        open_opt[best_opt[(y_site > 0) & has]] = True
        # subgradient: 1 - served share, with the chosen options' knapsack shares
        y_opt = np.zeros(d.K)
        y_opt[best_opt[has]] = y_site[has]
        served = np.zeros(d.n)
        np.add.at(served, e.point, take * y_opt[e.option])
        g = np.where(n_pos, 1.0 - served, 0.0)
        ascent.record(bound, lam)
        # a plan from the subproblem every PLAN_EVERY steps (and at the first), at most one
        # costed per STEPS_PER_PLAN steps (a plan costs several LPs); counted, not timed, so the
        # same data gives the same plans, bound and fixings on every run
        if it % PLAN_EVERY == 0 and costed * STEPS_PER_PLAN <= it:
            consider(_complete(d, open_opt, w, allowed))
        if greedy_at and it >= greedy_at[0]:
            greedy_at.pop(0)
            consider(price_greedy(d, e, Q, ascent.lam, allowed, forced_opt))
        if on_plan_at is not None and it == on_plan_at[0] and plan is not None:
            on_plan_at[1](plan[0].copy(), upper, ascent.best)
        gap_now = (upper - ascent.best) / max(1.0, abs(upper))
        if gap_now < 1e-7 or ascent.pi < 1e-6:
            break
        if time.perf_counter() - t0 > ascent_s:
            clock_stopped = True
            break
        norm = float(g @ g)
        if norm < 1e-18:
            break
        # Polyak step towards the best plan's cost, or towards a bound a little above the best
        # one while the plans are far off (a far target overshoots at every step)
        near = ascent.best + (target_gap or 0.05) * max(1.0, abs(ascent.best))
        target = min(upper, near) if target_gap is not None else (upper if np.isfinite(upper) else near)
        lam = lam + ascent.pi * (target - bound) / norm * g
    consider(price_greedy(d, e, Q, ascent.lam, allowed, forced_opt))
    if plan is None:
        return None
    # plan without the options it does not use, re-costed
    used = plan[0] & (plan[2] > 1e-9)
    if used.sum() < plan[0].sum():
        again = transport_plan(d, used | forced_opt)
        if again is not None and again[0] < upper:
            upper, plan = again[0], (used | forced_opt, again[1], again[2])
    # the plans of the subproblem can stay far from the optimum (capb at 7000: 5.5 %): local search,
    # each move costed by a fresh transportation LP over the open sites' pairs.  (The incremental
    # TransportLP over every pair returned other optimal duals, which ordered the moves worse:
    # capb-7000 ended 1.3 % above the optimum instead of at it, capa-10000 0.47 % above, and took
    # longer: capa-10000 5.4 -> 1.3 s, capb-6000 7.1 -> 3.2 s, capc-5750 6.9 -> 4.9 s.)
    deadline = t0 + seconds if search_seconds is None else min(t0 + seconds, time.perf_counter() + search_seconds)
    deadline = max(time.perf_counter(), deadline)
    cost, x, load, open_opt = local_search(d, e, Q, (upper, plan[1], plan[2], plan[0]), allowed, forced_opt,
                                           ascent.best, deadline)
    clock_stopped |= time.perf_counter() >= deadline
    if cost < upper:
        upper, plan = cost, (open_opt, x, load)
    # reduced-cost fixing at the best multipliers
    best_lam = ascent.lam
    V, _ = _knapsacks(e, best_lam, Q, d.K)
    w = np.where(allowed, d.fixed + V, np.inf)
    site_w = np.full(d.m, np.inf)
    np.minimum.at(site_w, d.option_site, w)
    has = np.isfinite(site_w)
    const = float(best_lam[n_pos].sum())
    cutoff = upper + 1e-9 * max(1.0, abs(upper))
    in_plan_site = np.zeros(d.m, bool)
    in_plan_site[d.option_site[plan[0]]] = True
    closed = np.zeros(d.K, bool)
    opened = np.zeros(d.m, bool)
    if one_size:
        q_site = np.zeros(d.m)
        q_site[d.option_site] = Q
        ws = np.where(has, site_w, 0.0)

        def value(must: np.ndarray, can: np.ndarray) -> float:
            return const + float(_cover(ws, q_site, must, can, demand) @ ws)

        must, can = must_site & has, has & ~must_site
        y0 = _cover(ws, q_site, must, can, demand)
        L = const + float(y0 @ ws)
        for j in np.flatnonzero(can):
            others = can.copy()
            others[j] = False
            if y0[j] > 0 and in_plan_site[j] and value(must, others) > cutoff:
                opened[j] = True
            elif y0[j] == 0 and not in_plan_site[j]:
                forced = must.copy()
                forced[j] = True
                if value(forced, others) > cutoff:
                    closed[d.option_site == j] = True
    else:
        v = np.where(must_site, site_w, np.minimum(0.0, site_w))
        v[~np.isfinite(v)] = 0.0
        L = const + float(v.sum())
        closed = allowed & ~plan[0] & ~forced_opt & (L - v[d.option_site] + w > cutoff)
        opened = ~must_site & in_plan_site & (site_w < 0) & (L - v > cutoff)
    return CflpPresolve(plan[0], plan[1], plan[2], upper, max(ascent.best, L), closed, opened,
                        time.perf_counter() - t0, it + 1, best_lam, clock_stopped)
