"""The generic capacitated facility-location model: an ordered list of blocks.

``build(scenario)`` turns a scenario into a :class:`BuiltModel` (solver-neutral arrays plus
what is needed to read a solution back as tables).  Sector models (sewage, wte, coldchain)
compose the same blocks: :func:`add_stream` adds one facility set with its demand points,
:mod:`qzopt.models.blocks.echelon` links facility sets by flows.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from qzopt.geo.pairs import Pairs
from qzopt.machine import cores
from qzopt.models import cflp_lagrange, cflp_root, kernel, lp_tree, radius
from qzopt.models.blocks import siting as blk
from qzopt.models.blocks.echelon import Echelon, echelon_tables
from qzopt.models.blocks.siting import Build
from qzopt.models.core import LinearModel
from qzopt.models.data import FacilityData, facility_data
from qzopt.models.matrix import MatrixForm
from qzopt.scenario.scenario import Policy, Scenario

Block = Callable[[Build], None]

#: Share of the presolve budget the LP branch and bound of small capacitated models may take,
#: and its node limit (cap41-cap134: 1-25 nodes, 0.01-0.14 s; beyond the limit HiGHS, with its
#: cuts, takes over from the tree's plan and bound).
TREE_SHARE = 1.0 / 3.0
TREE_NODES = 2000

#: Large capacitated models: when the Lagrangian presolve leaves a gap above KERNEL_GAP, the
#: model restricted to its plan's sites is solved for what is left of the presolve budget and
#: the kernel budget (:mod:`qzopt.models.kernel`); the presolve's local search takes at most
#: SEARCH_SHARE of its budget (its ascent two thirds, as always).  capa/capb/capc end the
#: presolve at 0-0.43 %, so they never run it.  The LP root presolve of small models gives its
#: local search the same share (cap41-cap134 never run it: their rounded plans are within 1 %).
KERNEL_GAP = 0.01
SEARCH_SHARE = 1.0 / 9.0

#: With a second core the kernel search starts beside the ascent, at step EARLY_STEP, when the
#: plan is then more than EARLY_GAP above the bound.  At step 500 the village benchmark (27 s in)
#: stands at 8.2 %, capa/capb/capc (4 s in) at 0-4.05 % (they end at 0-0.43 %; a search started
#: for them would be cancelled).
EARLY_STEP = 500
EARLY_GAP = 0.05


def blocks_for(policy: Policy) -> list[Block]:
    """The blocks of one facility set with demand points, in order, as switched by the policy."""
    blocks: list[Block] = [blk.siting_variables, blk.one_size, blk.demand_satisfaction, blk.load_balance,
                           blk.capacity, blk.min_load]
    if policy.strong_linking:
        blocks.append(blk.strong_linking)
    blocks += [blk.facility_count, blk.budget, blk.existing_sites, blk.excluded_sites, blk.dominated_sizes]
    return blocks


#: Blocks of a facility set fed by flows instead of demand points (a second echelon).
DESTINATION_BLOCKS: list[Block] = [blk.siting_variables, blk.one_size, blk.capacity, blk.min_load,
                                   blk.existing_sites, blk.excluded_sites, blk.dominated_sizes]


@dataclass
class BuiltModel:
    """A model ready for a solver, and what is needed to read its solution."""

    scenario: Scenario
    data: FacilityData
    model: LinearModel
    blocks: list[str]
    build_seconds: float
    notes: dict[str, str] = field(default_factory=dict)
    streams: dict[str, tuple[Scenario, Build]] = field(default_factory=dict)  # extra demand streams
    echelons: dict[str, Echelon] = field(default_factory=dict)
    main: Build | None = None
    #: A reformulation the solver receives instead of ``model`` (e.g. the radius formulation),
    #: and the map of its solution onto ``model``'s columns.
    solve_model: LinearModel | None = None
    lift: Callable[[np.ndarray], np.ndarray] | None = None
    #: A lower bound on the objective found while building (the CFLP Lagrangian presolve), or None.
    lower_bound: float | None = None
    #: Seconds of solving work done while building (the Lagrangian, LP root or p-median presolve);
    #: not in ``build_seconds``, which is model building only.  0 when none ran.
    presolve_seconds: float = 0.0
    #: A plan the presolve proved optimal (the LP branch and bound of a small capacitated model,
    #: :mod:`qzopt.models.lp_tree`), in ``model``'s columns, or None.  :func:`qzopt.solve`
    #: reports it without a MIP solve when HiGHS, which solved the tree's LPs, is the first solver.
    proved: np.ndarray | None = None
    #: Small capacitated models the LP root presolve did not prove: each site's open value in
    #: the LP relaxation (the sum over its sizes), the rank :meth:`polish` adds sites by; else None.
    polish_rank: np.ndarray | None = None

    def polish(self, x: np.ndarray, seconds: float) -> kernel.KernelPlan | None:
        """A plan at least as cheap as ``x`` (a solution of ``model``, e.g. a time-limited
        solver's answer) from the kernel search around it (:func:`qzopt.models.kernel.polish`) in
        at most about ``seconds``; None when the model has no :attr:`polish_rank`."""
        if self.polish_rank is None or self.main is None:
            return None
        columns, closed_sites = site_maps(self.main)
        return kernel.polish(self.model.to_matrix(), x, seconds, columns, closed_sites, self.polish_rank)

    def solver_form(self):
        """What the solver receives: the reformulation if there is one, else the model."""
        return (self.solve_model or self.model).to_matrix()

    def lifted(self, raw):
        """The solver's answer with its solution expressed in ``model``'s columns."""
        if self.lift is None or raw.x is None:
            return raw
        import dataclasses

        return dataclasses.replace(raw, x=self.lift(raw.x))

    def tables(self, x: np.ndarray, tol: float = 1e-7) -> dict[str, pd.DataFrame]:
        """Solution tables of the main stream: ``facilities``, ``assignments``, ``demands`` and
        ``jurisdictions`` (money per year; amounts in the scenario's demand unit)."""
        return self.all_tables(x, tol)["main"]

    def all_tables(self, x: np.ndarray, tol: float = 1e-7) -> dict[str, dict[str, pd.DataFrame]]:
        """Tables of every part: ``main``, each extra stream, and each echelon (its destination
        ``facilities``, its ``flows`` and, not a table, its ``unit`` string), with costs
        attributed down to jurisdictions."""
        return read_solution(self, x, tol)


def add_stream(model: LinearModel, sc: Scenario, prefix: str = "", pairs: Pairs | None = None,
               blocks: list[Block] | None = None, revenue: np.ndarray | None = None,
               data: FacilityData | None = None) -> Build:
    """Add one facility set with its demand points (all blocks of :func:`blocks_for`); ``data``:
    ``facility_data(sc, pairs)`` when the caller has it already."""
    data = data if data is not None else facility_data(sc, pairs)
    if revenue is not None:
        data = _with_revenue(data, revenue)
    b = Build(model, data, prefix=prefix)
    for block in blocks if blocks is not None else blocks_for(sc.policy):
        block(b)
    return b


def _with_revenue(data: FacilityData, revenue: np.ndarray) -> FacilityData:
    import dataclasses

    return dataclasses.replace(data, revenue=np.asarray(revenue, float))


def build(sc: Scenario, pairs: Pairs | None = None, blocks: list[Block] | None = None,
          presolve: bool = True, presolve_seconds: float = 90.0, kernel_seconds: float = 0.0,
          tree_seconds: float | None = None) -> BuiltModel:
    """Build the generic siting model for ``sc`` (only allowed pairs get variables); with
    ``presolve=False`` the CFLP Lagrangian presolve (solving work: bound, plan, fixings) is skipped,
    else it takes at most about ``presolve_seconds``, and its kernel search (when it runs) what
    that leaves plus ``kernel_seconds``; the p-median presolve's branch and bound may take
    ``tree_seconds`` (default: ``presolve_seconds``)."""
    t0 = time.perf_counter()
    model = LinearModel(sc.name)
    data = None
    if blocks is None and pairs is None:
        data = facility_data(sc)
        if radius.applies(sc, data):
            tree = presolve_seconds if tree_seconds is None else tree_seconds
            return _build_radius(sc, data, model, t0, tree if presolve else 0.0)
    chosen = blocks if blocks is not None else blocks_for(sc.policy)
    main = add_stream(model, sc, "", pairs, chosen, data=data)
    presolve_s, lower, proved, rank = 0.0, None, None, None
    if presolve and blocks is None and pairs is None and cflp_lagrange.eligible(sc, main.data):
        if cflp_lagrange.applies(sc, main.data):
            presolve_s, lower = _cflp_presolve(main, presolve_seconds, kernel_seconds)
        elif main.data.P < cflp_lagrange.MIN_PAIRS:
            blk.capacity_cover(main)
            presolve_s, lower, proved, rank = _root_presolve(main, presolve_seconds)
    model.to_matrix()
    # the Lagrangian presolve is solving work, not model building: it is not in build_seconds
    return BuiltModel(sc, main.data, model, [f.__name__ for f in chosen], time.perf_counter() - t0 - presolve_s,
                      main.notes, main=main, lower_bound=lower, presolve_seconds=presolve_s, proved=proved,
                      polish_rank=rank)


def _cflp_presolve(b: Build, seconds: float, kernel_seconds: float = 0.0) -> tuple[float, float | None]:
    """Capacitated, split assignment: fix what the Lagrangian bound rules out and start from the
    heuristic plan (:mod:`qzopt.models.cflp_lagrange`), improved by the kernel search when the
    gap stays above :data:`KERNEL_GAP` (until ``seconds`` + ``kernel_seconds`` have passed):
    with a second core, from step :data:`EARLY_STEP` of the ascent on, beside it; then, when
    time is left, on the final plan.  Returns the seconds it took and the bound (money/yr; None
    without a plan).  The fixings keep an optimal solution, so the bound holds for the model as
    built too."""
    t0 = time.perf_counter()
    end = t0 + seconds + kernel_seconds
    early: list[tuple[np.ndarray, kernel.Background]] = []

    def start_early(plan: np.ndarray, upper: float, lower: float) -> None:
        if upper - lower > EARLY_GAP * max(1.0, abs(upper)) and end - time.perf_counter() > 1.0:
            outside, form = _outside(b, plan), b.model.to_matrix()
            early.append((outside, kernel.Background(
                lambda stop: _kernel_rounds(b, form, outside, end - time.perf_counter(), stop))))

    on_plan_at = (EARLY_STEP, start_early) if cores() >= 2 else None
    try:
        pre = cflp_lagrange.presolve_cflp(b.data, seconds=seconds, search_seconds=SEARCH_SHARE * seconds,
                                          on_plan_at=on_plan_at)
    except BaseException:
        for _, search in early:
            search.cancel()
        raise
    wanted = pre is not None and pre.upper - pre.lower > KERNEL_GAP * max(1.0, abs(pre.upper))
    if early and not wanted:
        early[0][1].cancel()  # the ascent closed the gap itself
    if pre is None:
        b.notes["lagrangian_presolve"] = "no plan found by the heuristic: the model is solved as built"
        return time.perf_counter() - t0, None
    site_closed = _apply_presolve(b, pre)
    b.notes["lagrangian_presolve"] = (
        f"plan {pre.upper:,.6g}, bound {pre.lower:,.6g} ({(pre.upper - pre.lower) / max(1.0, abs(pre.upper)):.3%}) "
        f"after {pre.iterations} steps in {pre.seconds:.1f} s; {int(site_closed.sum())} of {b.data.m} sites fixed closed, "
        f"{int(pre.opened.sum())} fixed open"
        + ("; stopped by its time budget (a rerun may find another plan)" if pre.clock_stopped else ""))
    if wanted:
        searches = [(f"beside the ascent, on the plan of its step {EARLY_STEP}", outside, search.result())
                    for outside, search in early]
        final = _outside(b, pre.plan)
        left = end - time.perf_counter()
        if left > 1.0 and not any(np.array_equal(final, outside) for _, outside, _ in searches):
            searches.append(("on the final plan", final, _kernel_rounds(b, b.model.to_matrix(), final, left)))
        if searches:
            _kernel_result(b, pre, searches)
    return time.perf_counter() - t0, pre.lower


def _kernel_rounds(b: Build, form: MatrixForm, outside: np.ndarray, seconds: float,
                   stop: threading.Event | None = None) -> kernel.KernelPlan:
    """The kernel search (:func:`kernel.kernel_rounds`) on the model ``form`` of ``b``, first
    with the sites of the mask ``outside`` closed."""
    columns, closed_sites = site_maps(b)
    return kernel.kernel_rounds(form, outside, seconds, columns, closed_sites, stop)


def site_maps(b: Build) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """What the kernel search needs to know of ``b``'s sites: the model's columns of the sites in
    a mask (:func:`site_columns`), and the mask of the sites a solution leaves closed."""
    size = b.var("size").cols
    return (lambda mask: site_columns(b, mask)), (lambda x: _outside(b, x[size] > 0.5))


def _outside(b: Build, plan: np.ndarray) -> np.ndarray:
    """Mask of the sites with no option open in ``plan`` (a mask over the options)."""
    outside = np.ones(b.data.m, bool)
    outside[b.data.option_site[plan]] = False
    return outside


def _kernel_result(b: Build, pre: cflp_lagrange.CflpPresolve,
                   searches: list[tuple[str, np.ndarray, kernel.KernelPlan]]) -> None:
    """Make the cheapest kernel-search solution the MIP start when it beats the presolve's plan
    and keeps to the model's column bounds as they now stand (the presolve's fixings came after
    an early search began; the rows are the same); the note ``kernel_search`` says what each
    search found."""
    form = b.model.to_matrix()
    best, texts = None, []
    for where, outside, found in searches:
        texts.append(f"{where}, restricted to its {b.data.m - int(outside.sum())} sites: "
                     + ("nothing" if found.objective is None else f"{found.objective:,.6g}")
                     + " (RENS sub-MIP " + ("none" if found.rens is None else f"{found.rens:,.6g}")
                     + f"), {found.rounds} round{'s' if found.rounds > 1 else ''} in {found.seconds:.1f} s"
                     + (", stopped by its time budget (a rerun may find another plan)" if found.stopped else ""))
        if (found.objective is not None and (best is None or found.objective < best.objective)
                and np.all(found.x >= form.col_lower - 1e-6) and np.all(found.x <= form.col_upper + 1e-6)):
            best = found
    if best is not None and best.objective < pre.upper - 1e-9 * max(1.0, abs(pre.upper)):
        b.model.set_start_vector(best.x)
        b.notes["kernel_search"] = f"plan {pre.upper:,.6g} -> {best.objective:,.6g}; " + "; ".join(texts)
    else:
        b.notes["kernel_search"] = f"no cheaper plan than {pre.upper:,.6g}; " + "; ".join(texts)


def site_columns(b: Build, sites: np.ndarray) -> np.ndarray:
    """Indices of the model's columns that belong to the sites in the mask ``sites``: their
    open and size variables, their loads and the assignments to them."""
    d = b.data
    return np.concatenate([b.var("open").start + np.flatnonzero(sites),
                           b.var("size").start + np.flatnonzero(sites[d.option_site]),
                           b.var("load").start + np.flatnonzero(sites[d.option_site]),
                           b.var("assign").start + np.flatnonzero(sites[d.pairs.j])])


def _root_presolve(b: Build, seconds: float,
                   ) -> tuple[float, float | None, np.ndarray | None, np.ndarray | None]:
    """Small capacitated models, split assignment: the LP root presolve
    (:mod:`qzopt.models.cflp_root`; its local search at most ``seconds`` x
    :data:`SEARCH_SHARE`) - plan as MIP start, reduced-cost fixings - and, when the
    plan is within ``cflp_root.PROOF_GAP`` of the LP bound, the LP branch and bound of
    :mod:`qzopt.models.lp_tree` (at most ``seconds`` x :data:`TREE_SHARE`, and no more than the
    budget leaves) and the model marked for a proof-oriented solve.  A proved plan fixes every
    binary: :func:`qzopt.solve` reports it without a MIP solve when HiGHS comes first, another
    first solver only confirms it.  The LP root gets what is left of ``seconds`` as
    HiGHS's time limit; stopped by it, there is no bound and the model is solved as built.
    Returns the seconds it took, the bound (money/yr; None when it found no plan), the plan
    the LP branch and bound proved (None when it did not) and, when it did not, each site's open
    value in the LP relaxation (:attr:`BuiltModel.polish_rank`; None without an LP solution);
    the note says the first two, the LP root's share among them."""
    t0 = time.perf_counter()
    form = b.model.to_matrix()
    root = cflp_root.solve_root(form, seconds - (time.perf_counter() - t0))
    if isinstance(root, cflp_root.LpStopped):
        why = (f"stopped by its time limit ({root.time_limit:.3g} s of the {seconds:.3g} s presolve budget)"
               if root.timed_out else f"not solved ({root.status})")
        b.notes["root_presolve"] = (f"LP relaxation {why} after {root.iterations:,} iterations in "
                                    f"{root.seconds:.3f} s: no LP bound, the model is solved as built")
        return time.perf_counter() - t0, None, None, None
    rank = np.bincount(b.data.option_site, weights=root.x[b.var("size").cols], minlength=b.data.m)
    pre = cflp_root.root_presolve(
        b.data, form, {name: b.var(name).cols for name in ("size", "open", "assign", "load")}, root,
        search_seconds=SEARCH_SHARE * seconds)
    if pre is None:
        b.notes["root_presolve"] = (f"no plan rounded from the LP relaxation (LP bound in {root.seconds:.3f} s): "
                                    "the model is solved as built")
        return time.perf_counter() - t0, None, None, rank
    site_closed = _apply_presolve(b, pre)
    lower, tree, proved = pre.lower, "", None
    if pre.upper - pre.lower <= cflp_root.PROOF_GAP * max(1.0, abs(pre.upper)):
        b.model.emphasis = "proof"
        left = max(0.0, seconds - (time.perf_counter() - t0))
        found = lp_tree.branch_and_bound(b.model.to_matrix(), pre.upper, seconds=min(TREE_SHARE * seconds, left),
                                         max_nodes=TREE_NODES, lp=root.lp)
        lower = max(lower, found.lower)
        if found.x is not None:
            b.model.set_start_vector(found.x)
        if found.proved:
            proved = found.x if found.x is not None else b.model.to_matrix().start
            b.model.fix_integers(proved)
        tree = (f"; LP branch and bound: {'optimal' if found.proved else 'stopped'} at {found.upper:,.6g} "
                f"after {found.nodes} nodes in {found.seconds:.3f} s"
                + ("" if found.proved else f", bound {found.lower:,.6g}"))
    spent = time.perf_counter() - t0
    b.notes["root_presolve"] = (
        f"plan {pre.upper:,.6g}, LP bound {pre.lower:,.6g} ({(pre.upper - pre.lower) / max(1.0, abs(pre.upper)):.3%}) "
        f"in {pre.seconds:.3f} s (LP relaxation {root.seconds:.3f} s); {int(site_closed.sum())} of {b.data.m} sites "
        f"fixed closed, {int(pre.opened.sum())} fixed open" + tree
        + f"; presolve {spent:.3f} s of its {seconds:.3g} s budget, not in the build time")
    return time.perf_counter() - t0, lower, proved, (rank if proved is None else None)


def _apply_presolve(b: Build, pre) -> np.ndarray:
    """Fix what a presolve ruled out (options closed, sites opened) and record its plan as the
    MIP start; returns the sites left with no option (fixed closed)."""
    d, m = b.data, b.model
    y, o, x, z = b.var("size"), b.var("open"), b.var("assign"), b.var("load")
    closed_opt = np.flatnonzero(pre.closed)
    m.set_bounds(y, closed_opt, upper=0.0)
    site_closed = np.ones(d.m, bool)
    site_closed[d.option_site[~pre.closed]] = False
    m.set_bounds(o, np.flatnonzero(site_closed), upper=0.0)
    m.set_bounds(x, np.flatnonzero(site_closed[d.pairs.j]), upper=0.0)
    m.set_bounds(o, np.flatnonzero(pre.opened), lower=1.0)
    site_open = np.zeros(d.m)
    site_open[d.option_site[pre.plan]] = 1.0
    m.set_start(y, np.arange(d.K), pre.plan.astype(float))
    m.set_start(o, np.arange(d.m), site_open)
    m.set_start(x, np.arange(d.P), pre.assign)
    m.set_start(z, np.arange(d.K), pre.load)
    return site_closed


def _build_radius(sc: Scenario, data: FacilityData, model: LinearModel, t0: float,
                  presolve_seconds: float) -> BuiltModel:
    """Uncapacitated scenarios: the solver gets the radius formulation; ``model`` holds only the
    variables of the generic model, to read the lifted solution with the usual tables.
    ``presolve_seconds``: what the p-median presolve's branch and bound may take (0: none)."""
    b = Build(model, data)
    blk.siting_variables(b)
    solve_model, _, notes, presolve_s, lower = radius.build_radius(data, sc, presolve_seconds)
    solve_model.to_matrix()
    # the Lagrangian presolve is solving work, not model building: it is not in build_seconds
    seconds = time.perf_counter() - t0 - presolve_s
    return BuiltModel(sc, data, model, ["radius_variables", "radius", "facility_count"], seconds,
                      {**b.notes, **notes}, main=b, solve_model=solve_model,
                      lift=lambda x: radius.lift(data, solve_model, model, x), lower_bound=lower,
                      presolve_seconds=presolve_s)


# ------------------------------------------------------------------- reading back
def site_table(b: Build, sites: pd.DataFrame, x: np.ndarray, tol: float) -> pd.DataFrame:
    """One row per site: open, size, capacity, load, utilisation and the cost split (money/yr);
    with resources (:mod:`qzopt.models.blocks.resources`) also ``<name>_used`` and
    ``<name>_capacity`` each, and utilisation is then the largest of load / capacity and every
    resource's used / capacity (the binding one)."""
    d = b.data
    y = b.model.values(b.prefix + "size", x).to_numpy()
    z = b.model.values(b.prefix + "load", x).to_numpy()
    chosen = y > 0.5
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[chosen]] = True
    size_name = np.full(d.m, "", dtype=object)
    size_name[d.option_site[chosen]] = d.option_labels.get_level_values("size")[chosen]
    cap = np.zeros(d.m)
    cap[d.option_site[chosen]] = d.capacity[chosen]
    per_site = lambda w: np.bincount(d.option_site, weights=w, minlength=d.m)  # noqa: E731
    load = per_site(z)
    load = np.where(np.abs(load) < tol, 0.0, load)
    capex = per_site(d.capex * chosen)
    capital = capex * d.crf
    fixed = per_site(d.fixed * chosen)
    operating = fixed - capital + per_site(d.unit * z)
    revenue = per_site(d.revenue * z) if d.revenue is not None else np.zeros(d.m)
    pairs = d.pairs
    if d.P:
        a = b.model.values(b.prefix + "assign", x).to_numpy()
        transport = np.bincount(pairs.j, weights=pairs.cost * a, minlength=d.m)
        connection = np.bincount(pairs.j, weights=connection_costs(b, x), minlength=d.m)
    else:
        transport = connection = np.zeros(d.m)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(site_open & (cap > 0) & np.isfinite(cap), load / cap, np.nan)
    t = pd.DataFrame({
        "site": d.site_ids,
        "jurisdiction": sites["jurisdiction"].to_numpy(),
        "open": site_open,
        "existing": d.site_existing,
        "size": size_name,
        "capacity": np.where(site_open, cap, 0.0),
        "load": load,
        "utilisation": util,
        "capex": capex,
        "fixed_cost_per_yr": fixed,
        "variable_cost_per_yr": per_site(d.load_cost * z),
        "transport_cost_per_yr": transport,
        "capital_cost_per_yr": capital,
        "operating_cost_per_yr": operating,
        "revenue_per_yr": revenue,
        "connection_cost_per_yr": connection,
    })
    t["total_cost_per_yr"] = (t["fixed_cost_per_yr"] + t["variable_cost_per_yr"] + t["transport_cost_per_yr"]
                              + t["connection_cost_per_yr"])
    for name, (per_demand, per_option) in b.resources.items():
        a = b.model.values(b.prefix + "assign", x).to_numpy()
        used = np.bincount(pairs.j, weights=per_demand[pairs.i] * d.amount[pairs.i] * a, minlength=d.m)
        res_cap = per_site(np.where(chosen, b.resource_limits.get(name, per_option), 0.0))  # inf: no limit
        t[f"{name}_used"] = used
        t[f"{name}_capacity"] = res_cap
        # utilisation is the binding resource's ratio (a cold-chain hub at its peak reads 100 %)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(site_open & (res_cap > 0) & np.isfinite(res_cap), used / res_cap, np.nan)
        t["utilisation"] = np.fmax(t["utilisation"].to_numpy(float), ratio)
    return t


def connection_costs(b: Build, x: np.ndarray) -> np.ndarray:
    """Per allowed pair: the fixed connection cost paid (money/yr), zero where unused."""
    if b.pair_fixed is None:
        return np.zeros(b.data.P)
    if b.has("connect"):
        w = np.zeros(b.data.P)
        cv = b.var("connect")
        used = b.model.values(b.prefix + "connect", x).to_numpy() > 0.5
        pos = b.var("assign").labels.get_indexer(cv.labels)
        w[pos[used]] = 1.0
    else:
        w = (b.model.values(b.prefix + "assign", x).to_numpy() > 0.5).astype(float)
    return b.pair_fixed * w


def _one_site_each(i: np.ndarray, a: np.ndarray, n: int) -> np.ndarray:
    """Give each demand point's whole served share to its largest assignment.

    Used under single sourcing: binary assignments are unchanged (up to solver tolerance);
    where single sourcing was implied, a split can only be between sites of equal cost, so
    the cost is unchanged too.
    """
    out = np.zeros_like(a)
    if a.size == 0:
        return out
    total = np.bincount(i, weights=a, minlength=n)
    order = np.lexsort((-a, i))  # by demand, largest share first
    first = np.ones(order.size, bool)
    first[1:] = i[order][1:] != i[order][:-1]
    best = order[first]
    out[best] = total[i[best]]
    return out


def stream_tables(b: Build, sc: Scenario, x: np.ndarray, tol: float) -> dict[str, pd.DataFrame]:
    """Facilities, assignments and demands of one stream (before cost attribution)."""
    d = b.data
    pairs = d.pairs
    a = b.model.values(b.prefix + "assign", x).to_numpy()
    if d.policy.single_sourcing:
        a = _one_site_each(pairs.i, a, d.n)
    facilities = site_table(b, sc.sites, x, tol)
    used = a > tol
    assignments = pd.DataFrame({
        "demand": d.demand_ids[pairs.i[used]],
        "site": d.site_ids[pairs.j[used]],
        "jurisdiction": sc.demands["jurisdiction"].to_numpy()[pairs.i[used]],
        "share": a[used],
        "amount": d.amount[pairs.i[used]] * a[used],
        "distance": pairs.distance[used],
        "transport_cost_per_yr": pairs.cost[used] * a[used],
        "connection_cost_per_yr": connection_costs(b, x)[used] if b.pair_fixed is not None else 0.0,
    })
    served_share = np.bincount(pairs.i, weights=a, minlength=d.n)
    served = np.minimum(d.amount * served_share, d.amount)
    demands = pd.DataFrame({
        "id": d.demand_ids,
        "jurisdiction": sc.demands["jurisdiction"].to_numpy(),
        "amount": d.amount,
        "served": np.where(np.abs(served - d.amount) < tol * np.maximum(1, d.amount), d.amount, served),
    })
    demands["unserved"] = (demands["amount"] - demands["served"]).clip(lower=0.0)
    # the same columns whatever the scenario (reports.md): 0 where every demand must be served
    penalty = float(d.policy.unserved_penalty) if d.policy.partial_service else 0.0
    demands["unserved_cost_per_yr"] = demands["unserved"] * penalty * d.per_year
    return {"facilities": facilities, "assignments": assignments, "demands": demands}


def _average_cost(f: pd.DataFrame, passed_on: pd.Series | None = None) -> np.ndarray:
    """Money per year per unit of load of each site: own costs net of revenue plus downstream,
    plus ``passed_on`` (per site: costs of other rows of the same table that what it sends on
    causes, e.g. a transfer station's share of the plants' costs; only for attribution)."""
    own = f["fixed_cost_per_yr"] + f["variable_cost_per_yr"] + f.get("downstream_cost_per_yr", 0.0)
    if passed_on is not None:
        own = own + f["site"].map(passed_on).fillna(0.0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f["load"] > 0, own / f["load"], 0.0)


def _per_source(flows: pd.DataFrame, cost: pd.Series) -> pd.Series:
    """``cost`` (one value per flow, money per year) summed per source site."""
    return cost.groupby(flows["source"]).sum()


def _add_downstream(src: pd.DataFrame, per_src: pd.Series) -> None:
    """Add ``per_src`` (money per year per source site) to the sites' downstream_cost_per_yr."""
    src["downstream_cost_per_yr"] = src.get("downstream_cost_per_yr", 0.0) + src["site"].map(per_src).fillna(0.0)


def jurisdiction_table(t: dict[str, pd.DataFrame], sc: Scenario,
                       passed_on: pd.Series | None = None) -> pd.DataFrame:
    """Per jurisdiction: demand, where it goes, mean distance, and what its service costs.

    Service cost = own transport + its share (by load) of each plant's costs net of revenue,
    including what the plant's output costs downstream (and, through ``passed_on``, what a
    transfer station's forwarded load costs at the plants) + penalties for unserved demand.
    """
    f, a, dem = t["facilities"], t["assignments"], t["demands"]
    codes, juris = pd.factorize(dem["jurisdiction"], sort=True)
    k = len(juris)
    a_code = juris.get_indexer(a["jurisdiction"])  # once; -1: not a jurisdiction of the demands
    a = a[a_code >= 0]
    a_code = a_code[a_code >= 0]

    def per(values) -> np.ndarray:  # sum of values per jurisdiction over the assignments (numpy, no groupby)
        return np.bincount(a_code, weights=np.asarray(values, float), minlength=k)

    out = pd.DataFrame({"demand": np.bincount(codes, weights=dem["amount"].to_numpy(float), minlength=k),
                        "served": np.bincount(codes, weights=dem["served"].to_numpy(float), minlength=k),
                        "unserved": np.bincount(codes, weights=dem["unserved"].to_numpy(float), minlength=k)},
                       index=pd.Index(juris, name="jurisdiction"))
    out["unserved_cost_per_yr"] = (np.bincount(codes, weights=dem["unserved_cost_per_yr"].to_numpy(float), minlength=k)
                                   if "unserved_cost_per_yr" in dem else 0.0)
    amount = a["amount"].to_numpy(float)
    served_by: dict = {}  # jurisdiction -> its sites, in order of appearance (no groupby: a solve's fixed cost)
    for j, site in a[["jurisdiction", "site"]].drop_duplicates().itertuples(index=False):
        served_by.setdefault(j, []).append(site)
    out["sites"] = [";".join(served_by.get(j, ())) for j in out.index]
    carried = per(amount)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mean_distance"] = np.where(carried > 0, per(a["distance"].to_numpy(float) * amount) / carried,
                                        np.nan)  # amount-weighted
    out["transport_cost_per_yr"] = per(a["transport_cost_per_yr"]) + (
        per(a["connection_cost_per_yr"]) if "connection_cost_per_yr" in a else 0.0)
    site_pos = pd.Index(f["site"]).get_indexer(a["site"])
    avg = np.append(_average_cost(f, passed_on), 0.0)[site_pos]  # -1 (a site not in the table) -> 0
    out["facility_cost_per_yr"] = per(amount * avg)
    out["service_cost_per_yr"] = out["transport_cost_per_yr"] + out["facility_cost_per_yr"] + out["unserved_cost_per_yr"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cost_per_unit"] = out["service_cost_per_yr"] / (out["demand"] * sc.units.per_year)
    out.insert(0, "name", sc.jurisdictions["name"].reindex(out.index).to_numpy())
    out.insert(1, "group", sc.jurisdictions["group"].reindex(out.index).to_numpy())
    return out.reset_index()


def read_solution(bm: BuiltModel, x: np.ndarray, tol: float = 1e-7) -> dict[str, dict[str, pd.DataFrame]]:
    """Tables of every part.  ``downstream_cost_per_yr`` of a site is what its echelon flows cost
    beyond the rows of its own table, counted once: their haul, and for a destination set of
    its own (sludge, fly ash, outlets) the site's share of that set's costs (the destination's
    average cost per unit times what the site sends).  Flows into the same stream (WtE transfer
    stations to plants) add only their haul: the plants' costs are on the plants' rows.  So
    over every stream, sum of total_cost_per_yr + downstream_cost_per_yr + unserved penalties =
    the objective (docs/model.md, "Result tables").  Each echelon part also holds ``unit``: the
    unit of its loads and flows (the ``unit`` of that block of the scenario)."""
    main = bm.main
    parts: dict[str, dict[str, pd.DataFrame]] = {"main": stream_tables(main, bm.scenario, x, tol)}
    for name, (ssc, sb) in bm.streams.items():
        parts[name] = stream_tables(sb, ssc, x, tol)
    # separate destination sets first (their average cost feeds their sources) ...
    for name, e in bm.echelons.items():
        flows = echelon_tables(e, x, tol)
        part = {"flows": flows, "unit": e.unit}  # the echelon's unit (its block's `unit`), kept in result.json
        if not e.into_stream:
            dest = site_table(e.dest, e.dest_sites, x, tol)
            part["facilities"] = dest
            # a destination's inbound haul is on the flows and is charged to the sources
            if not flows.empty:
                dest_avg = pd.Series(_average_cost(dest), index=dest["site"])
                _add_downstream(parts[_stream_of(bm, e.source)]["facilities"], _per_source(
                    flows, flows["transport_cost_per_yr"] + flows["amount"] * flows["destination"].map(dest_avg).fillna(0.0)))
        parts[f"echelon:{name}"] = part
    # ... then flows into another site of the same stream (transfer stations): the haul is the
    # station's downstream cost; its share of the plants' costs, already on the plants' rows, is
    # only passed on to the jurisdictions it serves
    passed_on: dict[str, pd.Series] = {}
    for name, e in bm.echelons.items():
        flows = parts[f"echelon:{name}"]["flows"]
        if e.into_stream and not flows.empty:
            key = _stream_of(bm, e.source)
            f = parts[key]["facilities"]
            dest_avg = pd.Series(_average_cost(f, passed_on.get(key)), index=f["site"])
            share = _per_source(flows, flows["amount"] * flows["destination"].map(dest_avg).fillna(0.0))
            passed_on[key] = share if key not in passed_on else passed_on[key].add(share, fill_value=0.0)
            _add_downstream(f, _per_source(flows, flows["transport_cost_per_yr"]))
    for key, part in parts.items():
        if "demands" in part:
            part["facilities"]["downstream_cost_per_yr"] = part["facilities"].get("downstream_cost_per_yr", 0.0)
            ssc = bm.scenario if key == "main" else bm.streams[key][0]
            part["jurisdictions"] = jurisdiction_table(part, ssc, passed_on.get(key))
    return parts


def _stream_of(bm: BuiltModel, b: Build) -> str:
    for name, (_, sb) in bm.streams.items():
        if sb is b:
            return name
    return "main"


def cost_breakdown(parts: dict[str, dict[str, pd.DataFrame]]) -> dict[str, float]:
    """Money per year by kind, over every part of the model; the parts sum to the objective."""
    out = {"capital": 0.0, "operating": 0.0, "revenue": 0.0, "transport": 0.0, "unserved": 0.0}
    for key, part in parts.items():
        f = part.get("facilities")
        if f is not None and len(f):
            out["capital"] += float(f["capital_cost_per_yr"].sum())
            out["operating"] += float(f["operating_cost_per_yr"].sum())
            out["revenue"] -= float(f["revenue_per_yr"].sum())
            out["transport"] += float(f["transport_cost_per_yr"].sum())
            out["connections"] = out.get("connections", 0.0) + float(f["connection_cost_per_yr"].sum())
        if "flows" in part and len(part["flows"]):
            out["transport"] += float(part["flows"]["transport_cost_per_yr"].sum())
        d = part.get("demands")
        if d is not None and "unserved_cost_per_yr" in d:
            out["unserved"] += float(d["unserved_cost_per_yr"].sum())
    return {k: v for k, v in out.items() if v != 0.0 or k in ("capital", "operating", "transport")}
