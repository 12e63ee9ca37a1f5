"""Why the village benchmark stays ~5 % from its bound: the measurements of docs/performance.md item 21.

Not part of the package and not run by the tests; a record of how the figures were made.

    python docs/experiments/village_bound.py tiny     # LP, per-site hull, root cuts, optimum (needs pyscipopt)
    python docs/experiments/village_bound.py ascent   # the presolve's ascent, a longer one, the volume algorithm
    python docs/experiments/village_bound.py lazy     # the village's strong LP, linking rows added as violated
    python docs/experiments/village_bound.py cmir     # our own cMIR cuts on the small instances' hull LP
    python docs/experiments/village_bound.py ufl      # the other Lagrangian: capacities relaxed, a UFL per step
    python docs/experiments/village_bound.py windows 60 300 180,60 240,60   # squares of the village solved exactly

``tiny`` uses SCIP (``pip install pyscipopt`` in a separate environment with this package) because it
reports which cut families its root applied; HiGHS does not.
"""

from __future__ import annotations

import itertools
import math
import sys
import tempfile
import time
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

from qzopt.bench.scale import ScaleSpec, SPECS, qianzhong_like
from qzopt.models.cflp_lagrange import _entries, _knapsacks, presolve_cflp
from qzopt.models.data import FacilityData, facility_data
from qzopt.models.lagrange import Ascent

#: Best village plan seen (region re-planning, item 20), money/yr: the Polyak target.
VILLAGE_PLAN = 1.3221e9


def tiny(seed: int) -> FacilityData:
    """The small seeded instances of tests/test_cflp_presolve.py (165 points, 3 sizes, 40 km)."""
    SPECS["tiny"] = ScaleSpec(points_per_county=5, sites=40, max_km=40.0, mean_t_per_day=12.0, spread_km=18.0)
    return facility_data(qianzhong_like("tiny", seed=seed))


def lp_file(d: FacilityData, per_size: bool) -> str:
    """The model as CPLEX LP text: ``per_size=False`` the product's formulation (shares x_p, one
    load l_k per option, x_p <= sum_k y_k); ``True`` the per-site hull (a share x_pk per pair and
    option, x_pk <= y_k, sum_p d_p x_pk <= Q_k y_k), whose LP bound is the Lagrangian dual's."""
    pi_, pj, pc, a = d.pairs.i, d.pairs.j, d.pairs.cost, d.amount
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    opts = [np.flatnonzero(d.option_site == s) for s in range(d.m)]
    xs = [(p, o) for p in range(pi_.size) for o in opts[pj[p]]] if per_size else [(p, -1) for p in range(pi_.size)]
    name = (lambda p, o: f"x{p}k{o}") if per_size else (lambda p, o: f"x{p}")
    terms = [f"{pc[p] + (d.load_cost[o] * a[pi_[p]] if per_size else 0):.6f} {name(p, o)}" for p, o in xs]
    terms += [f"{d.fixed[o]:.6f} y{o}" for o in range(d.K)]
    terms += [] if per_size else [f"{d.load_cost[o]:.6f} l{o}" for o in range(d.K)]
    rows = ["Minimize", " obj: " + " + ".join(terms), "Subject To"]
    for i in range(d.n):
        rows.append(f" dem{i}: " + " + ".join(name(p, o) for p, o in xs if pi_[p] == i) + " = 1")
    for s in range(d.m):
        ps = np.flatnonzero(pj == s)
        for o in opts[s]:
            if per_size:
                load = " + ".join(f"{a[pi_[p]]:.6f} x{p}k{o}" for p in ps)
                rows.append(f" cap{o}: {load} - {Q[o]:.6f} y{o} <= 0")
                rows += [f" lk{p}k{o}: x{p}k{o} - y{o} <= 0" for p in ps]
            else:
                rows.append(f" cap{o}: l{o} - {Q[o]:.6f} y{o} <= 0")
        if not per_size:
            rows.append(f" bal{s}: " + " + ".join(f"{a[pi_[p]]:.6f} x{p}" for p in ps) + " - "
                        + " - ".join(f"l{o}" for o in opts[s]) + " = 0")
            rows += [f" lk{p}: x{p} - " + " - ".join(f"y{o}" for o in opts[s]) + " <= 0" for p in ps]
        rows.append(f" one{s}: " + " + ".join(f"y{o}" for o in opts[s]) + " <= 1")
    rows += ["Bounds"] + ([] if per_size else [f" 0 <= x{p} <= 1" for p in range(pi_.size)])
    return "\n".join(rows + ["Binaries"] + [f" y{o}" for o in range(d.K)] + ["End", ""])


def scip(path: str, nodes: int, relax: bool = False, site_of: dict[str, int] | None = None) -> tuple[float, dict]:
    """SCIP's dual bound after ``nodes`` nodes (-1: to the end) and, with ``nodes=1``, the cuts in
    the root LP per family: how many, and the largest and median number of sites each spans
    (``site_of``: variable name -> its site)."""
    from pyscipopt import Model

    m = Model()
    m.hideOutput(True)
    m.readProblem(path)
    if relax:
        for v in m.getVars():
            m.chgVarType(v, "C")
    m.setParam("limits/nodes", nodes)
    m.optimize()
    spans: dict[str, list[int]] = {}
    for row in m.getLPRowsData() if nodes == 1 else []:  # the LP rows exist while the search is stopped
        if row.name.startswith(("dem", "cap", "lk", "one", "bal")):
            continue
        family = row.name.split("_")[0].rstrip("0123456789")
        sites = {site_of.get(c.getVar().name.removeprefix("t_"), -1) for c in row.getCols()} - {-1}
        spans.setdefault(family, []).append(len(sites))
    return m.getDualbound(), {f: f"{len(s)} cuts, sites per cut max {max(s)} median {int(np.median(s))}"
                              for f, s in spans.items()}


def run_tiny() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (1, 2, 3):
            d = tiny(seed)
            agg, hull = Path(tmp, f"agg{seed}.lp"), Path(tmp, f"hull{seed}.lp")
            agg.write_text(lp_file(d, per_size=False))
            hull.write_text(lp_file(d, per_size=True))
            lp, _ = scip(str(agg), -1, relax=True)
            hull_lp, _ = scip(str(hull), -1, relax=True)
            opt, _ = scip(str(agg), -1)
            lagr = presolve_cflp(d, seconds=60.0).lower
            site_of = {f"y{o}": int(d.option_site[o]) for o in range(d.K)}
            site_of.update({f"x{p}k{o}": int(d.pairs.j[p]) for p in range(d.pairs.i.size)
                            for o in np.flatnonzero(d.option_site == d.pairs.j[p])})
            root, cuts = scip(str(hull), 1, site_of=site_of)
            dual = Dual(d)
            at_duals, _ = dual(hull_duals(str(hull), d.n))
            vol = volume(dual, opt, 8000)[-1][1]
            share = lambda b: f"{(b - lp) / (opt - lp):.0%}"  # noqa: E731 - share of the LP gap closed
            print(f"seed {seed}: LP {lp:.5e}, per-site hull LP {hull_lp:.5e} ({share(hull_lp)} of the gap; "
                  f"the Lagrangian at its duals {at_duals:.5e}), presolve's Lagrangian {lagr:.5e} ({share(lagr)}), "
                  f"volume algorithm {vol:.5e} ({share(vol)}), SCIP root on the hull {root:.5e} ({share(root)}), "
                  f"optimum {opt:.5e}; cuts in the root LP: {cuts}", flush=True)


def hull_duals(path: str, n: int) -> np.ndarray:
    """The duals of "each point fully served" in the per-site hull's LP (HiGHS): the
    Lagrangian dual's optimal multipliers."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(path)
    h.setOptionValue("solve_relaxation", True)
    h.run()
    lam, duals = np.zeros(n), h.getSolution().row_dual
    for r in range(h.getNumRow()):
        name = h.getRowName(r)[1]
        if name.startswith("dem"):
            lam[int(name[3:])] = duals[r]
    return lam


class Dual:
    """The presolve's Lagrangian pieces for bound-only ascents: its start, and per multiplier
    vector the bound and a subgradient (same knapsacks and site choice as the presolve)."""

    def __init__(self, d: FacilityData):
        self.d, self.allowed = d, ~d.site_excluded[d.option_site]
        self.e = _entries(d, self.allowed)
        self.Q = np.minimum(d.capacity, d.max_load[d.option_site])
        self.pos = d.amount > 0
        cheapest = np.full(d.n, np.inf)
        np.minimum.at(cheapest, self.e.point, self.e.base)
        self.start = np.where(self.pos & np.isfinite(cheapest), cheapest, 0.0)
        self.start[self.pos] += d.amount[self.pos] * float(np.median(d.fixed[self.allowed]
                                                                     / np.maximum(self.Q[self.allowed], 1e-9)))

    def __call__(self, lam: np.ndarray) -> tuple[float, np.ndarray]:
        d = self.d
        V, take = _knapsacks(self.e, lam, self.Q, d.K)
        w = np.where(self.allowed, d.fixed + V, np.inf)
        site_w = np.full(d.m, np.inf)
        np.minimum.at(site_w, d.option_site, w)
        hit = np.isclose(w, site_w[d.option_site])
        best_opt = np.full(d.m, -1)
        best_opt[d.option_site[hit]] = np.flatnonzero(hit)
        y = site_w < 0
        y_opt = np.zeros(d.K)
        y_opt[best_opt[y]] = 1.0
        served = np.zeros(d.n)
        np.add.at(served, self.e.point, take * y_opt[self.e.option])
        return float(lam[self.pos].sum() + site_w[y].sum()), np.where(self.pos, 1.0 - served, 0.0)


CHECKPOINTS = (500, 1000, 2000, 4000, 6000)


def ascent(dual: Dual, plan: float, target_rule: str, patience: int, steps: int) -> list[tuple[int, float]]:
    """The presolve's subgradient ascent, bound only; ``target_rule``: ``product`` = Polyak
    target min(plan, 1.05 x best bound), ``plan`` = the plan's cost (money/yr); best bound and
    step factor kept by the presolve's :class:`~qzopt.models.lagrange.Ascent`.  Returns (step,
    best bound) at the CHECKPOINTS and at the end."""
    lam, seen = dual.start.copy(), []
    state = Ascent(lam.copy(), patience=patience)  # the presolve's own bookkeeping
    for it in range(steps):
        bound, g = dual(lam)
        state.record(bound, lam)
        if it in CHECKPOINTS:
            seen.append((it, state.best))
        if state.pi < 1e-6 or float(g @ g) < 1e-18:
            break
        target = plan if target_rule == "plan" else min(plan, 1.05 * state.best)
        lam = lam + state.pi * (target - bound) / float(g @ g) * g
    return seen + [(it, state.best)]


def volume(dual: Dual, plan: float, steps: int, alpha: float = 0.05, f: float = 0.1) -> list[tuple[int, float]]:
    """The volume algorithm (Barahona and Anbil 2000): steps from the best multipliers along a
    running average of the subgradients, the step factor f raised after improving steps whose
    subgradient agrees with the average, cut by a third after 20 steps without improvement."""
    center = dual.start.copy()
    best, gbar = dual(center)
    red, seen, it = 0, [], 0
    for it in range(steps):
        norm = float(gbar @ gbar)
        if norm < 1e-18 or f < 1e-6:
            break
        lam = center + f * (min(plan, 1.05 * best) - best) / norm * gbar
        bound, g = dual(lam)
        diff = g - gbar
        a = min(max(-float(gbar @ diff) / max(float(diff @ diff), 1e-18), alpha / 10.0), alpha)
        gbar = a * g + (1.0 - a) * gbar
        if bound > best:
            f = min(2.0, 1.1 * f) if float(g @ gbar) > 0 else f
            center, best, red = lam, bound, 0
        else:
            red += 1
            if red >= 20:
                f, red = 0.66 * f, 0
        if it in CHECKPOINTS:
            seen.append((it, best))
    return seen + [(it, best)]


def run_ascent() -> None:
    dual = Dual(facility_data(qianzhong_like("village")))
    runs = {"subgradient, target product, patience 50": lambda: ascent(dual, VILLAGE_PLAN, "product", 50, 6000),
            "subgradient, target plan, patience 200": lambda: ascent(dual, VILLAGE_PLAN, "plan", 200, 6000),
            "volume": lambda: volume(dual, VILLAGE_PLAN, 6000)}
    for name, run in runs.items():
        t0 = time.perf_counter()
        seen = run()
        print(f"{name}: " + ", ".join(f"step {i} {b:.5e}" for i, b in seen)
              + f" ({time.perf_counter() - t0:.0f} s)", flush=True)


def run_lazy(limit_s: float = 900.0) -> None:
    """HiGHS dual simplex on the village's product formulation, linking rows x_p <= sum_k y_k
    added where the LP solution breaks them, until none is broken or ``limit_s`` passes."""
    d = facility_data(qianzhong_like("village"))
    pi_, pj, a = d.pairs.i, d.pairs.j, d.amount
    P, K, n, m = pi_.size, d.K, d.n, d.m
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    blocks = [  # (row offsets, columns, values), row bounds: demand, balance, load <= Q y, one size
        ((pi_, np.arange(P), np.ones(P)), np.ones(n), np.ones(n)),
        ((np.r_[pj, d.option_site], np.r_[np.arange(P), P + K + np.arange(K)], np.r_[a[pi_], -np.ones(K)]),
         np.zeros(m), np.zeros(m)),
        ((np.r_[np.arange(K), np.arange(K)], np.r_[P + K + np.arange(K), P + np.arange(K)], np.r_[np.ones(K), -Q]),
         np.full(K, -np.inf), np.zeros(K)),
        ((d.option_site, P + np.arange(K), np.ones(K)), np.full(m, -np.inf), np.ones(m)),
    ]
    r, c, v, lo, up, base = [], [], [], [], [], 0
    for (rr, cc, vv), lower, upper in blocks:
        r.append(base + rr), c.append(cc), v.append(vv), lo.append(lower), up.append(upper)
        base += lower.size
    A = sp.csc_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(base, P + 2 * K))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = P + 2 * K, base
    lp.col_cost_ = np.r_[d.pairs.cost, d.fixed, d.load_cost]
    lp.col_lower_, lp.col_upper_ = np.zeros(P + 2 * K), np.r_[np.ones(P + K), Q]
    lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(up)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    opts = [np.flatnonzero(d.option_site == s) for s in range(m)]
    added, t0 = np.zeros(P, bool), time.perf_counter()
    while True:
        h.run()
        x = np.array(h.getSolution().col_value)
        y_site = np.bincount(d.option_site, weights=x[P:P + K], minlength=m)
        broken = np.flatnonzero((x[:P] > y_site[pj] + 1e-7) & ~added)
        print(f"LP {h.getInfo().objective_function_value:.6e} with {added.sum()} linking rows, {broken.size} "
              f"broken, {time.perf_counter() - t0:.0f} s", flush=True)
        if broken.size == 0 or time.perf_counter() - t0 > limit_s:
            return
        added[broken] = True
        idx = [np.r_[p, P + opts[pj[p]]] for p in broken]
        starts = np.cumsum([0] + [len(i) for i in idx[:-1]]).astype(np.int32)
        vals = np.concatenate([np.r_[1.0, -np.ones(len(i) - 1)] for i in idx])
        h.addRows(broken.size, np.full(broken.size, -np.inf), np.zeros(broken.size), int(vals.size), starts,
                  np.concatenate(idx).astype(np.int32), vals)


def point_sets(d: FacilityData) -> list[np.ndarray]:
    """Sets S of points for the cuts: what one site reaches, what two sites both reach and either
    reaches, each point alone and with every point its sites reach."""
    reach = [set(d.pairs.i[d.pairs.j == s].tolist()) for s in range(d.m)]
    sets = list(reach)
    for s, t in itertools.combinations(range(d.m), 2):
        if reach[s] & reach[t]:
            sets += [reach[s] & reach[t], reach[s] | reach[t]]
    for j in range(d.n):
        sets += [{j}, set().union(*[reach[s] for s in d.pairs.j[d.pairs.i == j]])]
    return [np.array(sorted(S)) for S in {frozenset(S) for S in sets if S}]


def run_cmir(rounds: int = 15, per_round: int = 300) -> None:
    """Cuts of our own on the per-site hull LP: S's demand a(S) is served by options o, each at
    most u_o = min(Q_o, a(S within o's reach)) when open, so for any set T of options
    sum_{o in T} u_o y_o + sum_{o not in T} flow_o(S) >= a(S); its mixed-integer rounding with
    divisor delta (capacities, a(S)/1..3, the u_o), T chosen at the LP point per cut."""
    for seed in (1, 2, 3):
        d = tiny(seed)
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "hull.lp").write_text(lp_file(d, per_size=True))
            Path(tmp, "agg.lp").write_text(lp_file(d, per_size=False))
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.readModel(str(Path(tmp, "hull.lp")))
            opt = highs_optimum(str(Path(tmp, "agg.lp")))
        h.setOptionValue("solve_relaxation", True)
        col = {h.getColName(i)[1]: i for i in range(h.getNumCol())}
        y_col = np.array([col[f"y{o}"] for o in range(d.K)])
        ent = [(p, o) for p in range(d.pairs.i.size) for o in np.flatnonzero(d.option_site == d.pairs.j[p])]
        e_opt = np.array([o for _, o in ent])
        e_pt = d.pairs.i[np.array([p for p, _ in ent])]
        e_col = np.array([col[f"x{p}k{o}"] for p, o in ent])
        Q, a = np.minimum(d.capacity, d.max_load[d.option_site]), d.amount
        sets = point_sets(d)
        h.run()
        hull = h.getInfo().objective_function_value
        for rnd in range(rounds):
            sol = np.array(h.getSolution().col_value)
            y, xv = sol[y_col], sol[e_col]
            cuts = []
            for S in sets:
                in_s = np.zeros(d.n, bool)
                in_s[S] = True
                aS = float(a[S].sum())
                if aS <= 0:
                    continue
                mine = np.flatnonzero(in_s[e_pt])
                flow = np.bincount(e_opt[mine], weights=a[e_pt[mine]] * xv[mine], minlength=d.K)
                u = np.minimum(Q, np.bincount(e_opt[mine], weights=a[e_pt[mine]], minlength=d.K))
                for delta in set(Q.tolist()) | {aS / t for t in (1, 2, 3)} | set(u[(u > 0) & (u < aS)].tolist()):
                    beta = aS / delta
                    f = beta - math.floor(beta)
                    if f < 1e-3:
                        continue
                    g = np.floor(u / delta) + np.minimum(u / delta - np.floor(u / delta), f) / f
                    use_y = g * y <= flow / (f * delta)
                    lhs = float((g * y)[use_y].sum() + flow[~use_y].sum() / (f * delta))
                    if lhs < math.ceil(beta) - 1e-3:
                        ty, xe = np.flatnonzero(use_y & (g > 0)), mine[~use_y[e_opt[mine]]]
                        cuts.append((math.ceil(beta) - lhs, np.r_[y_col[ty], e_col[xe]],
                                     np.r_[g[ty], a[e_pt[xe]] / (f * delta)], math.ceil(beta)))
            if not cuts:
                break
            for _, idx, val, rhs in sorted(cuts, key=lambda c: -c[0])[:per_round]:
                h.addRow(rhs, highspy.kHighsInf, idx.size, idx.astype(np.int32), val)
            h.run()
            v = h.getInfo().objective_function_value
            print(f"seed {seed} round {rnd}: {min(len(cuts), per_round)} cuts added, LP {v:.5e}, "
                  f"{(v - hull) / (opt - hull):.0%} of the gap from the hull LP ({hull:.5e}) to the optimum "
                  f"({opt:.5e}) closed", flush=True)


def highs_optimum(path: str) -> float:
    """HiGHS's proven optimum of a small model (the tiny instances take seconds)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(path)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"{path}: HiGHS ended {h.modelStatusToString(h.getModelStatus())}")
    return h.getInfo().objective_function_value


class UflDual:
    """The Lagrangian with the capacity rows relaxed instead of "each point fully served": at
    multipliers mu_o >= 0 (money/yr per unit of load) the subproblem is an uncapacitated
    facility location problem over the options (one per site), solved by HiGHS:

        min sum_o (F_o - mu_o Q_o) y_o + sum_{p,o} (c_p + (v_o + mu_o) d_p) x_po
        s.t. sum_{p,o at i} x_po = 1 (every point), x_po <= y_o, sum_{o at s} y_o <= 1, y binary.

    Its value (HiGHS's dual bound, so valid whatever the gap) bounds the optimum from below."""

    def __init__(self, d: FacilityData):
        pi_, pj, a = d.pairs.i, d.pairs.j, d.amount
        self.d, self.Q = d, np.minimum(d.capacity, d.max_load[d.option_site])
        p_of, o_of = np.nonzero(pj[:, None] == d.option_site[None, :])  # (pair, option at its site)
        X, K = p_of.size, d.K
        self.o_of, self.X = o_of, X
        self.load = a[pi_[p_of]]
        self.base = d.pairs.cost[p_of] + d.load_cost[o_of] * self.load
        r_dem = pi_[p_of]
        r_lk = d.n + np.arange(X)
        r_one = d.n + X + np.arange(d.m)
        rows = np.concatenate([r_dem, r_lk, r_lk, r_one[d.option_site]])
        cols = np.concatenate([np.arange(X), np.arange(X), X + o_of, X + np.arange(K)])
        vals = np.concatenate([np.ones(X), np.ones(X), -np.ones(X), np.ones(K)])
        A = sp.csc_matrix((vals, (rows, cols)), shape=(d.n + X + d.m, X + K))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = X + K, A.shape[0]
        lp.col_cost_ = np.concatenate([self.base, d.fixed])
        lp.col_lower_, lp.col_upper_ = np.zeros(X + K), np.ones(X + K)
        lp.row_lower_ = np.concatenate([np.ones(d.n), np.full(X + d.m, -highspy.kHighsInf)])
        lp.row_upper_ = np.concatenate([np.ones(d.n), np.zeros(X), np.ones(d.m)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * X + [highspy.HighsVarType.kInteger] * K
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 1e-6)
        self.h.passModel(lp)

    def __call__(self, mu: np.ndarray) -> tuple[float, float, np.ndarray]:
        """(bound, the subproblem plan's value, subgradient load_o - Q_o y_o)."""
        cost = np.concatenate([self.base + mu[self.o_of] * self.load, self.d.fixed - mu * self.Q])
        self.h.changeColsCost(cost.size, np.arange(cost.size, dtype=np.int32), cost)
        self.h.run()
        info, x = self.h.getInfo(), np.asarray(self.h.getSolution().col_value)
        value = info.objective_function_value
        bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else value * (1 - 1e-6)
        used = np.zeros(self.d.K)
        np.add.at(used, self.o_of, self.load * x[:self.X])
        return bound, value, used - self.Q * x[self.X:]


def run_ufl(steps: int = 300) -> None:
    """The capacity-relaxed Lagrangian on the small instances, by a subgradient ascent aimed at the
    proven optimum (the most favourable target), against the presolve's knapsack Lagrangian."""
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (1, 2, 3):
            d = tiny(seed)
            path = Path(tmp, f"agg{seed}.lp")
            path.write_text(lp_file(d, per_size=False))
            opt = highs_optimum(str(path))
            knap = presolve_cflp(d, seconds=30.0).lower
            dual, mu, best, factor, idle, t0 = UflDual(d), np.zeros(d.K), -1e300, 1.0, 0, time.perf_counter()
            for it in range(steps):
                bound, value, g = dual(mu)
                best, idle = (bound, 0) if bound > best else (best, idle + 1)
                if idle >= 20:
                    factor, idle = factor / 2, 0
                if float(g @ g) < 1e-12 or factor < 1e-5:
                    break
                mu = np.maximum(0.0, mu + factor * (opt - value) / float(g @ g) * g)
            print(f"seed {seed}: optimum {opt:.5e}; knapsack Lagrangian (presolve) {knap:.5e} "
                  f"({(opt - knap) / opt:.2%} below); capacity-relaxed (UFL) Lagrangian {best:.5e} "
                  f"({(opt - best) / opt:.2%} below) after {it + 1} steps, {time.perf_counter() - t0:.0f} s",
                  flush=True)


def village_window(x0: float, y0: float, width_km: float):
    """The part of the village instance inside a square (km from the region's corner): its points
    that one of its sites reaches, its sites, the same sizes, costs and distance limit."""
    import pandas as pd

    from qzopt.bench import scale
    from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units

    spec = scale.SPECS["village"]
    rng = np.random.default_rng(2017)  # qianzhong_like's seed and draws, in its order
    xy, county, amount = scale._points(spec, rng)
    at = scale._sites(spec, xy, rng)
    inside = lambda k: ((xy[k, 0] >= x0) & (xy[k, 0] < x0 + width_km)  # noqa: E731
                        & (xy[k, 1] >= y0) & (xy[k, 1] < y0 + width_km))
    pts, st = np.flatnonzero(inside(np.arange(xy.shape[0]))), at[inside(at)]
    dist = np.round(np.maximum(scale.DETOUR * np.linalg.norm(xy[pts][:, None] - xy[st][None], axis=2), 2.0), 1)
    reached = (dist <= spec.max_km).any(axis=1)
    pts, dist = pts[reached], dist[reached]
    site_ids = [f"s{k:05d}" for k in st]
    return Scenario.from_frames(
        pd.DataFrame({"id": [f"p{k:05d}" for k in pts], "jurisdiction": [f"county{c:02d}" for c in county[pts]],
                      "amount": amount[pts]}),
        pd.DataFrame({"id": site_ids, "jurisdiction": [f"county{c:02d}" for c in county[st]]}),
        pd.concat([scale.SIZES.assign(site=s) for s in site_ids], ignore_index=True), dist, name="window",
        units=Units(demand="t/d", distance="km", money="yuan", per_year=365.0),
        transport=scale.HAUL_YUAN_PER_T_KM, discount_rate=0.06, lifetime_years=20.0,
        policy=Policy(max_distance=spec.max_km), solver=SolverSettings(time_limit=600.0))


def run_windows(width_km: str, limit_s: str, *corners: str) -> None:
    """How far the presolve's Lagrangian bound sits below the proven optimum on squares of the
    village instance itself (same density, sizes and costs; HiGHS proves them through qzopt.solve)."""
    import qzopt

    for corner in corners:
        x0, y0 = map(float, corner.split(","))
        sc = village_window(x0, y0, float(width_km))
        d = facility_data(sc)
        lower = presolve_cflp(d, seconds=60.0).lower
        t0 = time.perf_counter()
        res = qzopt.solve(sc, time_limit=float(limit_s), isolate=False, explain=False)
        print(f"square ({x0:.0f}, {y0:.0f}) km, {float(width_km):.0f} km wide: {d.n} points, {d.m} sites, "
              f"{d.pairs.i.size} pairs, {d.amount.sum():.0f} t/d; Lagrangian {lower:.6e}; HiGHS {res.status} "
              f"{res.objective:.6e} (gap {res.gap:.2%}, {time.perf_counter() - t0:.0f} s); the Lagrangian "
              f"{(res.bound - lower) / res.bound:.2%} below HiGHS's bound", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "windows":
        run_windows(*sys.argv[2:])
        sys.exit()
    {"tiny": run_tiny, "ascent": run_ascent, "lazy": run_lazy, "cmir": run_cmir, "ufl": run_ufl}[sys.argv[1]]()
