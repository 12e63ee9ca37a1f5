"""Solving with equalised fees: choose an exact formulation, solve, report the fees.

Exactness (docs/fees.md):

- **binary assignments** (single sourcing that can bind): fee x assignment is linearised exactly
  (``fee_revenue``), one MILP with the fee as a variable;
- **pooled recovery with every demand served**: the volume is a constant, the pooled row is
  linear in the fee, one MILP;
- **split assignments, per-plant recovery, one uniform fee**: for a *fixed* fee F every row is
  linear, and the set of plans that recover their costs only grows with F.  So the cheapest
  plan under a cap is the MILP at F = cap, and the smallest fee is found by a Dinkelbach-type
  sequence of MILPs: F_{t+1} = break-even fee of the plan minimising max_j (C_j - F_t R_j); it
  decreases strictly and stops, exactly, when no plan beats F_t (or, with a warning, after
  MAX_FEE_STEPS MILPs).
- banded fees with split per-plant recovery have no exact linear form here: a clear error.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import time
from typing import Callable

import numpy as np
import pandas as pd

from qzopt.arguments import bad_argument, check_int
from qzopt.errors import QzoptError, few
from qzopt.models import build_model
from qzopt.models.blocks import fees as fb
from qzopt.models.facility import BuiltModel
from qzopt.scenario.scenario import Scenario
from qzopt.solvers.base import RawSolution

Run = Callable[..., tuple[RawSolution, list]]


def fee_setup(sc: Scenario, built: BuiltModel) -> fb.FeeSetup:
    """Recovering sites (plants: not transfer stations), payer groups and pooled extra costs."""
    rules = sc.fees
    d = built.main.data
    role = sc.sector_data.site_role if sc.sector_data is not None and sc.sector_data.site_role is not None else None
    plants = np.arange(d.m) if role is None else np.flatnonzero(role.reindex(d.site_ids).to_numpy() == "plant")
    payer = sc.demands["jurisdiction"].to_numpy()
    if rules.mode == "banded":
        groups = pd.Index(pd.unique(payer), name="jurisdiction")
        pos = {g: k for k, g in enumerate(groups)}
        payer_of = np.array([pos[p] for p in payer])
    else:
        groups = pd.Index(["region"], name="payer")
        payer_of = np.zeros(len(payer), np.int64)
    setup = fb.FeeSetup(rules, plants, groups, payer_of, sc.units.per_year)
    # pooled recovery also covers transfer stations' costs (all main sites via plant_cost_terms;
    # the subsidy only at plants, setup.plants: transfer stations treat nothing)
    # and everything the plants send on: echelon hauls and destination facilities
    for e in built.echelons.values():
        f = built.model.var(e.prefix + "flow")
        setup.extra_cost_cols.append(f.cols)
        setup.extra_cost_vals.append(e.arc_cost)
        if not e.into_stream:
            dd = e.dest.data
            setup.extra_cost_cols += [e.dest.var("size").cols, e.dest.var("load").cols]
            setup.extra_cost_vals += [dd.fixed, dd.load_cost]
    return setup


def strategy(sc: Scenario, built: BuiltModel) -> str:
    """'linearised' (one exact MILP with the fee as a variable) or 'parametric' (fixed-fee MILPs)."""
    rules = sc.fees
    binary = built.model.var("assign").kind == "binary"
    full = not sc.policy.partial_service
    if rules.recovery == "pooled" and full:
        return "linearised"
    # per plant, the linearised revenue is fee x each point's binary assignment to the plant: what
    # transfer stations forward reaches a plant as a continuous flow, which it cannot credit (the
    # plant had to recover the cost of burning it from its direct payers alone: infeasible, or a
    # fee of 127 where 96 recovers every cost), so with stations the fee is found parametrically
    stations = sc.sector_data is not None and any(e.into_stream for e in sc.sector_data.echelons.values())
    if rules.recovery == "per_plant" and binary and not stations:
        return "linearised"
    if rules.mode == "banded":
        why = ("transfer stations (what they forward is a continuous flow, and fee x flow is bilinear)" if stations
               and rules.recovery == "per_plant" else
               "split assignment" if rules.recovery == "per_plant" else "partial service")
        raise QzoptError(
            f"fees: banded fees with {why} have no exact linear formulation here (fee x share is bilinear).  Set "
            + ("recovery: pooled with every demand served, or mode: uniform." if stations else
               "constraints.single_sourcing: true, or recovery: pooled with every demand served, or mode: uniform."))
    return "parametric"


def _build(sc: Scenario, how: str, fixed_fee: float | None = None, minimise_fee: bool = False,
           fee_limit: float | None = None, dinkelbach_fee: float | None = None,
           cost_cap: float | None = None, sizes: np.ndarray | None = None) -> tuple[BuiltModel, fb.FeeSetup]:
    """The siting model plus fee blocks.

    ``fixed_fee``: parametric rows at that fee; ``minimise_fee``: objective = (mean) fee;
    ``fee_limit``: mean fee <= limit; ``dinkelbach_fee``: min worst shortfall at that fee;
    ``cost_cap``: total cost (the usual objective) <= cap; ``sizes``: the main stream's size
    choices fixed to these 0/1 values (the plan's plants), leaving only the routing free.
    """
    built = build_model(sc)
    setup = fee_setup(sc, built)
    b = built.main
    if sizes is not None:
        y = b.var("size")
        chosen = np.round(sizes).astype(float)
        b.model.set_bounds(y, np.arange(y.size), lower=chosen, upper=chosen)
        opened = np.zeros(b.data.m)
        opened[b.data.option_site[chosen > 0.5]] = 1.0
        b.model.set_bounds(b.var("open"), np.arange(b.data.m), lower=opened, upper=opened)
    if how == "linearised":
        fb.fee_variables(b, setup)
        if sc.fees.mode == "banded":
            fb.fee_band(b, setup)
        if sc.fees.recovery == "per_plant":
            fb.fee_revenue(b, setup)
            fb.cost_recovery(b, setup)
        else:
            fb.pooled_recovery(b, setup)
        if fee_limit is not None:
            b.model.set_bounds(b.var("mean_fee"), [0], upper=fee_limit)
    elif dinkelbach_fee is None:
        (fb.cost_recovery if sc.fees.recovery == "per_plant" else fb.pooled_recovery)(b, setup, fixed_fee)
    if cost_cap is not None:
        form = built.model.to_matrix()
        nz = np.flatnonzero(form.c)
        b.add_constraints("cost_cap", np.zeros(nz.size), nz, form.c[nz], sense="<=", rhs=cost_cap - form.offset,
                          labels=["total cost"])
    if dinkelbach_fee is not None:
        _dinkelbach_rows(b, setup, dinkelbach_fee)
    elif minimise_fee:
        fb.fee_objective(b)
    built.model.to_matrix()
    return built, setup


def _dinkelbach_rows(b, setup: fb.FeeSetup, F: float) -> None:
    """min t  s.t.  C_j - per_year F load_j - t <= M (1 - open_j) for every plant (or the pooled row).

    A closed plant has C_j = load_j = 0; without the M term its row would force t >= 0 and the
    search could never find a plan that breaks even below F.  M = per_year F (total demand) + 1
    bounds -t, so the row is inactive for closed plants and exact for open ones.
    """
    d = b.data
    b.model.clear_objective()
    t = b.add_variables("worst_shortfall", ["t"], lower=-np.inf, upper=np.inf, cost=1.0)
    plants = setup.plants if setup.rules.recovery == "per_plant" else np.arange(d.m)
    rows, cols, vals = fb.plant_cost_terms(b, setup, plants)
    z = b.var("load")
    row_of = np.full(d.m, -1)
    row_of[plants] = np.arange(plants.size)
    k = np.flatnonzero(row_of[d.option_site] >= 0)
    rows, cols = np.r_[rows, row_of[d.option_site[k]]], np.r_[cols, z.col(k)]
    vals = np.r_[vals, np.full(k.size, -setup.per_year * F)]
    if setup.rules.recovery == "pooled":
        cols, vals = setup.with_extra_costs(cols, vals)
        rows = np.r_[np.zeros(cols.size, np.int64), 0]
        cols, vals = np.r_[cols, t.cols], np.r_[vals, -1.0]
        b.add_constraints("shortfall", rows, cols, vals, sense="<=", rhs=0.0)
        return
    M = setup.per_year * F * d.amount.sum() + 1.0
    n = plants.size
    rows = np.r_[rows, np.arange(n), np.arange(n)]
    cols = np.r_[cols, np.repeat(t.cols, n), b.var("open").col(plants)]
    vals = np.r_[vals, -np.ones(n), np.full(n, M)]
    b.add_constraints("shortfall", rows, cols, vals, sense="<=", rhs=M, labels=d.site_ids[plants])


def _tol(value: float) -> float:
    return value * (1 + 1e-9) + 1e-6


def _min_fee(sc: Scenario, how: str, run: Run, info: dict, say, start: tuple[BuiltModel, np.ndarray],
             cost_cap: float | None = None, sizes: np.ndarray | None = None) -> tuple[float, BuiltModel, RawSolution]:
    """Smallest (mean) fee over plans (costing at most ``cost_cap``, with ``sizes`` fixed when
    given); ``start`` is a feasible plan."""
    if how == "linearised":
        built, _ = _build(sc, how, minimise_fee=True, cost_cap=cost_cap, sizes=sizes)
        raw, _a = run(built.model.to_matrix())
        fee = float(built.model.values("mean_fee", raw.x).iloc[0]) if raw.x is not None else float("nan")
        info["iterations"].append({"fee": fee})
        return fee, built, raw
    built, x = start
    setup = fee_setup(sc, built)
    F = break_even_fee(built, setup, x)
    raw = None
    for _ in range(MAX_FEE_STEPS):
        info["iterations"].append({"fee": F})
        say(f"fee {F:,.6g}: looking for a plan that breaks even below it")
        step, _ = _build(sc, how, dinkelbach_fee=F, cost_cap=cost_cap, sizes=sizes)
        r, _a = run(step.model.to_matrix())
        if r.x is None or r.status != "optimal":
            _warn(info, f"fee search stopped: {r.status} at fee {F:,.6g}")
            break
        shortfall = float(step.model.values("worst_shortfall", r.x).iloc[0])
        new = break_even_fee(step, setup, r.x)
        # stop when no plan breaks even below F (up to solver tolerance): F is the minimum
        if shortfall >= -1e-7 * max(1.0, abs(F) * setup.per_year) or not new < F * (1 - 1e-9):
            break
        F, built, raw = new, step, r
    else:
        # the cap stopped a search that was still lowering the fee: F is a fee some plan breaks
        # even at, not proven the smallest
        steps = f"{MAX_FEE_STEPS} step" + ("s" if MAX_FEE_STEPS != 1 else "")
        _warn(info, f"fee search stopped after {steps} (the cap) while still lowering the fee: "
                    f"{F:,.6g} is the last fee found, not proven the smallest")
    return F, built, raw


#: Most MILPs the fee search (``_min_fee``, parametric method) runs before it stops with a warning.
MAX_FEE_STEPS = 50


def _warn(info: dict, text: str) -> None:
    """A fee warning: kept in ``info["warnings"]``, shown in the fee section and the result's warnings."""
    info.setdefault("warnings", []).append(text)


STAGE_CAP = "stage 1: cheapest plan within the cap"
STAGE_FEE_AT_COST = "stage 2: smallest fee for that plan at no extra cost"
STAGE_MIN_FEE = "stage 2: smallest fee"
STAGE_COST_AT_FEE = "stage 3: cheapest plan at that fee"
COMPARE = "compare: without fee rules"


class _Stages:
    """Runs the solver chain for the named stages and records each run: its stage, back end,
    status, termination and wall seconds, and every fallback with the stage it happened in."""

    def __init__(self, run: Run):
        self._run = run
        self.stage = ""
        self.runs: list[dict] = []
        self.attempts: list = []
        self.fallbacks: list[dict] = []

    def __call__(self, form) -> tuple[RawSolution, list]:
        t0 = time.perf_counter()
        raw, attempts = self._run(form)
        self.runs.append({"stage": self.stage, "status": raw.status, "solver": raw.solver,
                          "termination": raw.termination or raw.message or raw.status,
                          "seconds": time.perf_counter() - t0})
        self.attempts += attempts
        self.fallbacks += [{"solver": a.solver, "reason": a.reason, "stage": self.stage} for a in attempts]
        return raw, attempts

    def summary(self) -> list[dict]:
        """One entry per stage: solves run, the first status short of optimal (else optimal),
        its termination, the back end of its last run, and the stage's wall seconds."""
        out: dict[str, dict] = {}
        for r in self.runs:
            e = out.setdefault(r["stage"], {"stage": r["stage"], "solves": 0, "status": "optimal",
                                            "termination": "", "solver": "", "seconds": 0.0})
            e["solves"] += 1
            e["seconds"] += r["seconds"]
            e["solver"] = r["solver"]
            if e["status"] == "optimal":
                e["status"], e["termination"] = r["status"], r["termination"]
        return list(out.values())

    def finish(self, raw: RawSolution, solver: str) -> RawSolution:
        """The final answer ``raw`` (produced by back end ``solver``) with one status for all the
        stages: optimal only when every stage proved its optimum, else feasible (an answer) or
        the final stage's failure; the termination names the stage it comes from."""
        stages = self.summary()
        if raw.x is not None and raw.status in ("optimal", "feasible"):
            short = next((e for e in stages if e["status"] != "optimal"), None)
            if short is None:
                terms = {e["termination"] for e in stages}
                last = stages[-1]
                text = (f"{last['termination']} (every stage)" if len(terms) == 1
                        else f"{last['stage']}: {last['termination']} (every stage optimal)")
                return dataclasses.replace(raw, status="optimal", solver=solver, termination=text)
            return dataclasses.replace(raw, status="feasible", solver=solver,
                                       termination=f"{short['stage']}: {short['termination']}")
        last = stages[-1]
        return dataclasses.replace(raw, solver=solver, termination=f"{last['stage']}: {last['termination']}")


def solve_with_fees(sc: Scenario, run: Run, on_event: Callable[[str], None] | None = None):
    """Solve ``sc`` under its fee rules; returns (built, raw, attempts, info).

    objective cost: (1) the cheapest plan with the fee within the cap, (2) with its plants and
    sizes kept, the routing that costs no more and needs the smallest fee.  objective fee: (1) a
    plan within the cap (the search's start), (2) the smallest fee, (3) the cheapest plan at that
    fee.  The reported bound is stage (1)'s for cost, the last stage's for fee.

    ``raw`` is the final answer: ``solver`` the back end that produced it, ``status`` optimal
    only when every stage proved its optimum (else feasible), ``termination`` prefixed with the
    stage it describes.  ``attempts`` are every stage's fallbacks; ``info["fallbacks"]`` has them
    as dicts with the stage named and ``info["stages"]`` one entry per stage (status, solver,
    termination, solves, seconds).
    """
    rules = sc.fees
    how = strategy(sc, build_model(sc))
    say = on_event or (lambda _m: None)
    info: dict = {"method": how, "iterations": []}
    stages = _Stages(run)

    def done(built, raw, solver):
        raw = stages.finish(raw, solver)
        info["stages"] = stages.summary()
        info["fallbacks"] = stages.fallbacks
        return built, raw, stages.attempts, info

    cap_fixed = rules.max_fee if how == "parametric" else None
    built, _ = _build(sc, how, fixed_fee=cap_fixed)
    stages.stage = STAGE_CAP
    raw, _a = stages(built.model.to_matrix())
    if raw.x is None or raw.status not in ("optimal", "feasible"):
        return done(built, raw, raw.solver)
    if rules.objective == "cost":
        # stage 2 keeps the plan's plants and sizes and re-routes demand, at no extra cost, to
        # lower the fee: an LP (split) or a small MILP (single sourcing), not a second siting run
        say(f"cheapest plan {raw.objective:,.0f}; now the smallest fee for its plants at that cost")
        sizes = built.model.values("size", raw.x).to_numpy()
        stages.stage = STAGE_FEE_AT_COST
        fee, b2, r2 = _min_fee(sc, how, stages, info, say, (built, raw.x), cost_cap=_tol(raw.objective), sizes=sizes)
        if r2 is not None and r2.x is not None:
            c0 = _objective_vector(sc, how)
            cost = float(c0[0] @ r2.x[: c0[0].size] + c0[1])
            # the plan is stage 2's (its back end answered); the cost bound is stage 1's
            final = dataclasses.replace(r2, objective=cost, bound=raw.bound)
            return done(b2, final, r2.solver)
        return done(built, raw, raw.solver)
    stages.stage = STAGE_MIN_FEE
    fee, b1, r1 = _min_fee(sc, how, stages, info, say, (built, raw.x))
    say(f"smallest fee {fee:,.6g}; now the cheapest plan at that fee")
    if how == "linearised":
        built, _ = _build(sc, how, fee_limit=_tol(fee))
    else:
        built, _ = _build(sc, how, fixed_fee=_tol(fee))
    stages.stage = STAGE_COST_AT_FEE
    raw, _a = stages(built.model.to_matrix())
    return done(built, raw, raw.solver)


def _objective_vector(sc: Scenario, how: str) -> tuple[np.ndarray, float]:
    """The total-cost objective of the fee model (its leading columns are the plain model's)."""
    built, _ = _build(sc, how, fixed_fee=sc.fees.max_fee if how == "parametric" else None)
    form = built.model.to_matrix()
    return form.c, form.offset


def break_even_fee(built: BuiltModel, setup: fb.FeeSetup, x: np.ndarray) -> float:
    """The smallest uniform fee at which the plan in ``x`` recovers its costs (money per unit)."""
    # fees are >= 0: a plan whose plants earn more than they cost needs no fee at all
    if setup.rules.recovery == "pooled":
        total = pooled_cost(built, setup, x)
        served = served_volume(built, x)
        return max(0.0, float(total / (setup.per_year * served))) if served > 0 else float("inf")
    costs, volume = plant_costs(built, setup, x)
    open_ = volume > 1e-9
    if np.any((costs > 1e-6) & ~open_):
        return float("inf")
    return max(0.0, float(np.max(costs[open_] / (setup.per_year * volume[open_])))) if open_.any() else 0.0


def pooled_cost(built: BuiltModel, setup: fb.FeeSetup, x: np.ndarray) -> float:
    """What a pooled fee recovers, money/yr: every main site's cost and everything the plants
    send on (second-echelon hauls and sites)."""
    return float(plant_costs(built, setup, x)[0].sum() + _extra_costs(setup, x))


def served_volume(built: BuiltModel, x: np.ndarray) -> float:
    d = built.main.data
    if built.main.has("unserved"):
        u = built.model.values("unserved", x).to_numpy()
        return float(d.amount @ (1 - u))
    return float(d.amount.sum())


def _extra_costs(setup: fb.FeeSetup, x: np.ndarray) -> float:
    return float(sum(v @ x[c] for c, v in zip(setup.extra_cost_cols, setup.extra_cost_vals)))


def plant_costs(built: BuiltModel, setup: fb.FeeSetup, x: np.ndarray, sites: np.ndarray | None = None):
    """Annual cost to recover (money/yr) and treated volume (units per period) per site."""
    b = built.main
    sites = setup.plants if sites is None and setup.rules.recovery == "per_plant" else (
        np.arange(b.data.m) if sites is None else sites)
    rows, cols, vals = fb.plant_cost_terms(b, setup, sites)
    costs = np.bincount(rows, weights=vals * x[cols], minlength=sites.size)
    z = built.model.values("load", x).to_numpy()
    volume = np.bincount(b.data.option_site, weights=z, minlength=b.data.m)[sites]
    return costs, volume


def fee_rule(sc: Scenario) -> dict:
    """The ``fees`` section of a result without a plan: the rule that was asked for (mode,
    recovery, cap, ...), ``fee`` None: a run a fee cap made infeasible still says it had one."""
    rules = sc.fees
    return {"mode": rules.mode, "recovery": rules.recovery, "objective": rules.objective, "method": None,
            "fee": None, "fee_unit": sc.units.fee_unit, "max_fee": rules.max_fee,
            "band": rules.band if rules.mode == "banded" else None, "subsidy_per_unit": rules.subsidy_per_unit}


def fee_report(sc: Scenario, built: BuiltModel, x: np.ndarray, info: dict) -> dict:
    """The ``fees`` section of result.json: the fee, per-plant break-even fees, per-payer fees."""
    setup = fee_setup(sc, built)
    rules = sc.fees
    costs, volume = plant_costs(built, setup, x, setup.plants)
    per_year = setup.per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        be = np.where(volume > 0, costs / (per_year * volume), np.nan)
    plants = pd.DataFrame({"site": built.main.data.site_ids[setup.plants], "annual_cost_per_yr": costs,
                           "volume": volume, "break_even_fee": be})
    plants = plants[(plants["volume"] > 1e-6) | (plants["annual_cost_per_yr"].abs() > 1e-3)]
    if rules.mode == "banded":
        fees = banded_plan_fees(sc, built, setup, x)
    else:
        F = break_even_fee(built, setup, x)
        fees = pd.Series(F, index=pd.Index(sc.jurisdictions.index[sc.jurisdictions.index.isin(
            sc.demands["jurisdiction"])], name="jurisdiction"))
    # what each payer pays for is what is treated: demand left unserved pays no fee
    served = sc.demands["amount"].to_numpy(float)
    if built.main.has("unserved"):
        served = served * (1.0 - built.model.values("unserved", x).to_numpy())
    vol = pd.Series(served, index=sc.demands.index).groupby(sc.demands["jurisdiction"]).sum()
    payers = pd.DataFrame({"fee": fees, "volume": vol.reindex(fees.index)})
    payers["payment_per_yr"] = payers["fee"] * payers["volume"] * per_year
    recovered = pooled_cost(built, setup, x) if rules.recovery == "pooled" else float(costs.sum())
    collected = float(payers["payment_per_yr"].sum())
    return {
        **fee_rule(sc), "method": info.get("method"), "fee": float(fees.mean()),
        "iterations": info.get("iterations", []), "warnings": list(info.get("warnings", [])), "plants": plants,
        "payers": payers.reset_index(),
        # one fee for plants of unequal cost collects more than the dearer-per-unit plant needs
        # from the others: the surplus is what the rule collects above the costs it must recover
        "collected_per_yr": collected, "recovered_cost_per_yr": recovered, "surplus_per_yr": collected - recovered,
    }


def banded_plan_fees(sc: Scenario, built: BuiltModel, setup: fb.FeeSetup, x: np.ndarray) -> pd.Series:
    """Smallest mean fee (and the fees) with which the plan in ``x`` recovers its costs within the band."""
    d = built.main.data
    g = len(setup.groups)
    a = built.model.values("assign", x).to_numpy()
    band = setup.rules.band
    A, b_ = [], []
    if setup.rules.recovery == "per_plant":
        costs, _ = plant_costs(built, setup, x, setup.plants)
        for row, j in enumerate(setup.plants):
            p = np.flatnonzero(d.pairs.j == j)
            coef = np.zeros(g + 1)
            np.add.at(coef, setup.payer_of_demand[d.pairs.i[p]], -setup.per_year * d.amount[d.pairs.i[p]] * a[p])
            A.append(coef)
            b_.append(-costs[row])
    else:
        costs, _ = plant_costs(built, setup, x, np.arange(d.m))
        coef = np.zeros(g + 1)
        np.add.at(coef, setup.payer_of_demand, -setup.per_year * d.amount)
        A.append(coef)
        b_.append(-(costs.sum() + _extra_costs(setup, x)))
    for k in range(g):  # band
        up = np.zeros(g + 1)
        up[k], up[g] = 1.0, -(1 + band)
        lo = np.zeros(g + 1)
        lo[k], lo[g] = -1.0, 1 - band
        A += [up, lo]
        b_ += [0.0, 0.0]
    eq = np.r_[np.full(g, 1.0 / g), -1.0][None, :]
    # imported here, not at the top: scipy.optimize takes ~0.5 s to import, and most of what
    # imports this module (`qzopt report`, each `qzopt share` worker) never calls it (performance.md item 33)
    from scipy.optimize import linprog

    res = linprog(np.r_[np.zeros(g), 1.0], A_ub=np.array(A), b_ub=np.array(b_), A_eq=eq, b_eq=[0.0],
                  bounds=[(0, fb.fee_cap(setup.rules))] * g + [(0, setup.rules.max_fee)], method="highs")
    values = res.x[:g] if res.status == 0 else np.full(g, np.nan)
    return pd.Series(values, index=pd.Index(setup.groups, name="jurisdiction"))


def unconstrained(sc: Scenario) -> Scenario:
    """The same scenario without fee rules (for the price of equalisation)."""
    return dataclasses.replace(sc, fees=None)


def frontier(sc: Scenario | str | os.PathLike, caps: float | list[float] | None = None, points: int = 5,
             solve_kwargs: dict | None = None, on_event: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The trade-off between the equalised fee and total cost.

    One row per point: the fee cap, the total cost (money/yr), the fee the plan actually needs,
    the price of equalisation against the unconstrained optimum, and the sites opened.  Default
    caps: ``points`` values from the smallest achievable fee to the fee the unconstrained
    optimum needs.  The scenario's ``fees`` block gives mode/recovery (default uniform,
    per plant).  ``sc`` may be the path of a scenario file, as for :func:`qzopt.solve`; ``caps``
    one cap or a list of them, each a number 0 or above (fee per demand unit); ``points`` 1 or more.
    Caps are solved in rising order, each once.  Each row says how its point was solved (status,
    solver, gap, seconds), the price as a range when a solve was cut short
    (``price_of_equalization_lower_per_yr`` / ``_upper_per_yr``), a ``note`` where the row alone
    would not say why (a cap below the smallest fee has no plan; a cap at or above the cheapest
    plan's fee does not bind; the default caps coincide, :func:`default_caps`) and the
    ``fee_rule`` in words; ``attrs["notes"]`` repeats the table-wide notes.
    Without a plan for the scenario without fee rules there is no frontier:
    :class:`~qzopt.errors.InfeasibleError` with the reason, or :class:`~qzopt.errors.SolverError`.
    """
    from qzopt.api import SolveBeside, plan_or_raise, scenario_of, solve, solve_each

    sc = scenario_of("frontier", sc)
    caps = _caps(caps)
    points = check_int("frontier", "points", points, 1, hint="how many caps, from the smallest fee to the fee the "
                       "cheapest plan needs")
    kw = dict(solve_kwargs or {}, explain=False)
    rules = sc.fees if sc.fees is not None and sc.fees.active else FeeRulesDefault()
    say = on_event or (lambda _m: None)
    # every point is compared with the plan without fee rules: without it there is no frontier
    # (InfeasibleError, exit 3, with the reason; SolverError, exit 4, when no solver answered)
    big = dataclasses.replace(rules, max_fee=1e7, objective="cost", compare=False)
    # the fee the cheapest plan needs: beside the first point where that may be (SolveBeside)
    with SolveBeside(dataclasses.replace(sc, fees=big), **kw) as cheapest:
        free = plan_or_raise(solve(dataclasses.replace(sc, fees=None), **{**kw, "explain": True}),
                             "the scenario without fee rules (the frontier's first point)")
        at_free = plan_or_raise(cheapest.result(),
                                "the scenario with one fee and no cap (the fee of the cheapest plan)")
    f_hi = at_free.extra["fees"]["fee"]
    # the smallest fee is at most f_hi (that plan's fee): a cap there, not 1e7, which as the fee
    # revenue's big M let banded fees leak revenue through the integrality tolerance (a "smallest
    # fee" no plan has, then an infeasible stage)
    low_rules = dataclasses.replace(big, objective="fee", max_fee=max(f_hi * (1 + 1e-6), 1e-9))
    low = plan_or_raise(solve(dataclasses.replace(sc, fees=low_rules), **kw), "the scenario at its smallest fee")
    f_lo = low.extra["fees"]["fee"]
    unit = sc.units.fee_unit
    notes = []
    if caps is None:
        caps, note = default_caps(f_lo, f_hi, points, unit)
        notes += [note] if note else []
    found = (f"its fee, {f_hi:,.6g} {unit}, and the smallest fee any plan needs, {f_lo:,.6g} {unit}, are from two "
             f"further solves ({at_free.seconds + low.seconds:.2f} s)")
    rows = [_frontier_row(free, None, free, "no fee rule", fee=f_hi, note=found)]
    caps = sorted(set(caps))  # by cap, each once: the frontier is a function of the cap
    say(f"fee caps {', '.join(f'{cap:,.6g}' for cap in caps)}")
    # independent solves: side by side where the back ends run in worker processes (solve_each)
    capped = solve_each([dataclasses.replace(sc, fees=dataclasses.replace(big, max_fee=float(cap) * (1 + 1e-9)))
                         for cap in caps], **kw)
    for cap, r in zip(caps, capped):
        rows.append(_frontier_row(r, float(cap), free, "capped",
                                  note=_cap_note(cap, r, f_lo, f_hi, unit, proved=at_free.status == "optimal")))
    if notes:  # said where the rows are read (frontier.csv, the report), not only on the console
        rows[-1]["note"] = "; ".join(filter(None, [rows[-1]["note"], *notes]))
    table = pd.DataFrame(rows)
    table["fee_rule"] = rule_text(rules, unit)
    table.attrs["notes"] = notes  # what the table alone would not say (qzopt frontier prints them)
    return table


def rule_words(mode: str, band: float | None, recovery: str | None, subsidy_per_unit: float | None, unit: str,
               max_fee: float | None = None) -> str:
    """A fee rule in words ("one uniform fee, costs recovered per plant"; "fees within a 10 % band
    of their mean, ..., subsidy 0.2 yuan/t"); with ``max_fee`` also its cap ("..., within
    max_fee 80 yuan/t", or "with no cap" from 1e6 on).  ``unit``: money per demand unit."""
    text = f"fees within a {100 * (band or 0.0):g} % band of their mean" if mode == "banded" else "one uniform fee"
    text += f", costs recovered {'per plant' if recovery == 'per_plant' else 'over all plants together (pooled)'}"
    text += f", subsidy {subsidy_per_unit:,.6g} {unit}" if subsidy_per_unit else ""
    if max_fee is not None:
        text += f", within max_fee {max_fee:,.6g} {unit}" if max_fee < 1e6 else ", with no cap"
    return text


def rule_text(rules, unit: str, cap: bool = False) -> str:
    """:func:`rule_words` of a scenario's :class:`~qzopt.scenario.scenario.FeeRules` (with ``cap``
    its max_fee too), as a frontier and a sharing state it."""
    return rule_words(rules.mode, rules.band, rules.recovery, rules.subsidy_per_unit, unit,
                      rules.max_fee if cap else None)


def _cap_note(cap: float, r, f_lo: float, f_hi: float, unit: str, proved: bool = True) -> str:
    """Why a capped point is what it is, where the row alone would not say: a cap below the
    smallest fee any plan needs has no plan; a cap at or above the cheapest plan's fee does not
    bind (the point is the plan without fee rules, unless a time limit stopped the solve short;
    ``proved`` False: that plan was the cheapest found, not proved cheapest, and the note says so)."""
    if not r.ok and cap < f_lo * (1 - 1e-9):
        return f"no plan: the cap is below the smallest fee any plan needs ({f_lo:,.6g} {unit})"
    if r.ok and cap >= f_hi * (1 - 1e-9):
        if proved:
            return f"the cap does not bind: the cheapest plan's fee ({f_hi:,.6g} {unit}) is within it"
        return (f"the cap does not bind: the cheapest plan found needs {f_hi:,.6g} {unit}, within it (a time limit "
                "stopped that solve: the plan was not proved cheapest)")
    return ""


def default_caps(f_lo: float, f_hi: float, points: int, unit: str) -> tuple[list[float], str | None]:
    """The frontier's caps when none are given: ``points`` of them from the smallest fee ``f_lo``
    to the fee of the cheapest plan ``f_hi`` (both in ``unit``, money per demand unit), and no note.
    When the two are equal the points coincide: one cap (none when the fee is 0, as no cap binds:
    every cap would give the plan without fee rules again), and a note that says so."""
    if f_hi > f_lo * (1 + 1e-6) and f_hi > 1e-9:
        return [float(c) for c in np.linspace(f_lo, f_hi, points)], None
    if points == 1 and f_lo > 1e-9:
        return [float(f_lo)], None
    same = f"the fee does not change between its smallest and the cheapest plan's ({f_lo:,.4g} {unit} both)"
    if f_lo > 1e-9:
        return [float(f_lo)], f"all {points} points coincide: {same}, so one cap, {f_lo:,.4g}, is solved"
    return [], (f"the fee is 0 {unit} both at its smallest and in the cheapest plan, so no cap above 0 changes "
                f"the plan: no capped point is solved (of the {points} asked), and the frontier is the plan without "
                "fee rules")


def _caps(caps: object) -> list[float] | None:
    """``frontier``'s ``caps``: None, one number or a list of them, each finite and 0 or above (as
    ``--caps`` takes them); anything else is an :class:`~qzopt.arguments.ArgumentError` naming ``caps``."""

    if caps is None:
        return None
    many = list(caps) if isinstance(caps, (list, tuple, np.ndarray, pd.Series)) else [caps]
    bad = [c for c in many if isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Real)
           or not (math.isfinite(c) and c >= 0)]
    if bad or not many:
        raise bad_argument("frontier", "caps", caps, "must be a fee cap or a list of them, each a number 0 or above "
                           "(money per demand unit), or None for caps spread over the fees plans need"
                           + (f"; not {few(bad)}" if bad and len(many) > 1 else ""))
    return [float(c) for c in many]


def price_of_equalization(cost: float, free_cost: float) -> float:
    """Extra annual cost of the fee rule, money/yr: ``cost`` - ``free_cost``, and 0 where the two
    differ by less than the solvers' precision (both proved to 1e-9 relative: a difference below
    1e-8 of the cost is rounding, not a price; it read "2 yuan/yr" on qianzhong-wte's frontier)."""
    diff = cost - free_cost
    return 0.0 if abs(diff) <= 1e-8 * max(1.0, abs(free_cost)) else diff


def price_range(fee: tuple[float, float | None, str], free: tuple[float, float | None, str]) -> dict:
    """The price of equalisation from the fee-rule solve and the comparison solve without fee
    rules, each given as (objective, bound, status), money/yr: the difference of the two plans
    (``price_of_equalization_per_yr``) and whether it is the price (``..._proven``).

    The price is (fee-rule optimum) - (free optimum).  A solve cut short has a plan that may be
    dearer than its optimum, so the price then lies between ``..._lower_per_yr`` = the fee bound
    minus the free plan (at least 0: the fee rule only restricts) and ``..._upper_per_yr`` = the
    fee plan minus the free bound (None without a bound); ``..._unproven`` names the solves.  With
    ``fees.objective: fee`` the fee plan is the cheapest plan at the smallest fee, and its bound that
    stage's cost bound (``solve_with_fees``), so the same holds.
    """
    (fee_cost, fee_bound, fee_status), (free_cost, free_bound, free_status) = fee, free
    price = price_of_equalization(fee_cost, free_cost)
    fee_proven = fee_status == "optimal"
    free_proven = free_status == "optimal"
    out: dict = {"price_of_equalization_per_yr": price, "price_of_equalization_proven": fee_proven and free_proven}
    if fee_proven and free_proven:
        return out
    out["price_of_equalization_unproven"] = [name for name, ok in (
        ("the solve with the fee rule", fee_proven), ("the comparison solve without fee rules", free_proven)) if not ok]
    out["price_of_equalization_lower_per_yr"] = max(0.0, (  # >= 0: the fee plan is a plan of the free model
        price if fee_proven else price_of_equalization(fee_bound, free_cost) if fee_bound is not None else 0.0))
    out["price_of_equalization_upper_per_yr"] = (
        price if free_proven else price_of_equalization(fee_cost, free_bound) if free_bound is not None else None)
    return out


def _frontier_row(r, cap: float | None, free, point: str, fee: float | None = None, note: str = "") -> dict:
    """One frontier point from its solve ``r``: cap and fee (money per demand unit), costs
    (money/yr), how it was solved (solver, status, relative gap, seconds) and a ``note``.  The
    price of equalisation is against ``free``, the solve without fee rules; when either solve
    was not proved optimal it is a range (:func:`price_range`: ``..._lower_per_yr`` to
    ``..._upper_per_yr``, the upper None without a bound), else both ends are the price."""
    if r is free:  # the plan without fee rules: no price, by definition
        price = {"price_of_equalization_per_yr": 0.0}
    else:
        price = price_range((r.objective, r.bound, r.status), (free.objective, free.bound, free.status)) if r.ok else {}
    value = price.get("price_of_equalization_per_yr")
    return {"fee_cap": cap, "total_cost_per_yr": r.objective if r.ok else None,
            "fee": fee if fee is not None else (r.extra.get("fees", {}).get("fee") if r.ok else None),
            "price_of_equalization_per_yr": value,
            "price_of_equalization_lower_per_yr": price.get("price_of_equalization_lower_per_yr", value),
            "price_of_equalization_upper_per_yr": price.get("price_of_equalization_upper_per_yr", value),
            "sites": ";".join(sorted(r.open_sites["site"])) if r.ok else "", "point": point,
            "status": r.status, "solver": r.solver, "gap": r.gap, "seconds": r.seconds, "note": note}


def FeeRulesDefault():
    from qzopt.scenario.scenario import FeeRules

    return FeeRules(max_fee=1e7)
