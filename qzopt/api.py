"""What notebooks import: ``load_scenario``, ``solve``.

Flow: scenario -> pre-solve checks -> model (blocks) -> solver chain -> :class:`Result`.
The scenario is never mutated.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Callable

import numpy as np
import pandas as pd

from qzopt.errors import QzoptError
from qzopt.geo.places import places
from qzopt.models import build_model
from qzopt.models.facility import cost_breakdown
from qzopt.result import Result
from qzopt.scenario.checks import presolve_findings
from qzopt.scenario.load import load_scenario
from qzopt.scenario.scenario import Scenario
from qzopt.solvers.base import RawSolution, SolveOptions
from qzopt.solvers.registry import Attempt, solve_with_fallback, solver_order

__all__ = ["load_scenario", "solve"]

#: Penalty per unserved unit in the elastic diagnosis, as a multiple of the largest cost in
#: the model: large enough that serving is always preferred when it is possible.
ELASTIC_PENALTY_FACTOR = 1e3


def solve(
    scenario: Scenario | str | os.PathLike,
    solver: str | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    fallback: list[str] | tuple[str, ...] | None = None,
    threads: int | None = None,
    verbose: bool = False,
    isolate: bool = True,
    on_event: Callable[[str], None] | None = None,
    explain: bool = True,
) -> Result:
    """Solve a scenario (or the path of a scenario file, ``str`` or ``Path``) and return a :class:`Result`.

    Arguments override the scenario's ``solver`` block: ``solver`` (``auto``, ``highs``,
    ``cbc``, ``ortools``, ``pulp:<NAME>``), ``time_limit`` in seconds per back end, ``gap``
    relative (0 = prove optimality), ``fallback`` the back ends to try next.  With ``isolate``
    (default) each back end runs in a child process so that a solver crash cannot end yours.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(os.fspath(scenario))
    settings = sc.solver
    name = solver or settings.name
    options = SolveOptions(
        time_limit=time_limit if time_limit is not None else settings.time_limit,
        gap=gap if gap is not None else settings.gap,
        threads=threads if threads is not None else settings.threads,
        verbose=verbose,
    )
    order = solver_order(name, fallback if fallback is not None else settings.fallback)
    opts = {"solver": name, "order": order, "time_limit": options.time_limit, "gap": options.gap}

    findings = presolve_findings(sc)
    if findings:
        return _infeasible_result(sc, findings, opts, checked="pre-solve checks")

    def run(form):
        return solve_with_fallback(form, options, order, isolate=isolate, on_event=on_event)

    t0 = time.perf_counter()
    if sc.fees is not None and sc.fees.active:
        from qzopt.fees import solve_with_fees

        built, raw, attempts, fee_info = solve_with_fees(sc, run, on_event)
    else:
        built = build_model(sc, presolve_seconds=presolve_budget(options.time_limit),
                            kernel_seconds=kernel_budget(options.time_limit))
        if on_event:
            size = built.solver_form()
            on_event(f"model built in {built.build_seconds:.2f} s: {size.num_cols:,} variables, "
                     f"{size.num_rows:,} constraints, {size.A.nnz:,} nonzeros")
        spent = time.perf_counter() - t0  # a presolve while building counts against the time limit
        if options.time_limit is not None and spent > built.build_seconds + 1.0:
            options = dataclasses.replace(options, time_limit=max(1.0, options.time_limit - spent))
        raw, attempts = run(built.solver_form())
        raw = _with_presolve_bound(built.lifted(raw), built.lower_bound)
        fee_info = None
    seconds = time.perf_counter() - t0
    result = _result(sc, built, raw, attempts, seconds, opts)
    if fee_info is not None and result.ok:
        _attach_fees(result, sc, built, raw.x, fee_info, solver, time_limit, gap, fallback, threads, isolate)
    if result.status == "infeasible" and explain:
        result.explanation = explain_infeasibility(sc, options, order, isolate)
    return result


def presolve_budget(time_limit: float | None) -> float:
    """Seconds the Lagrangian presolve may take out of a solve's time limit: three quarters of
    it, at most 90 s (the solver gets the rest, and the presolve's plan as a start)."""
    return 90.0 if time_limit is None else min(90.0, 0.75 * float(time_limit))


def kernel_budget(time_limit: float | None) -> float:
    """Seconds the kernel search (:mod:`qzopt.models.kernel`, run when the Lagrangian presolve
    leaves a gap above 1 %) may take beyond the presolve budget: half of what that budget leaves
    to the solver; none without a time limit (it then has what the presolve leaves of its own)."""
    return 0.0 if time_limit is None else 0.5 * max(0.0, float(time_limit) - presolve_budget(time_limit))


def _with_presolve_bound(raw: RawSolution, lower: float | None) -> RawSolution:
    """The solver's answer with the better of its bound and the presolve's (a time-limited
    solver may stop before its own bound reaches the Lagrangian one)."""
    if lower is None or raw.x is None or raw.objective is None or (raw.bound is not None and raw.bound >= lower):
        return raw
    return dataclasses.replace(raw, bound=min(lower, raw.objective))


def _attach_fees(result: Result, sc: Scenario, built, x, info, *args) -> None:
    """Fee section of the result, and the price of equalisation against the same scenario
    solved without fee rules."""
    from qzopt.fees import fee_report, unconstrained

    report = fee_report(sc, built, x, info)
    if sc.fees.compare:
        solver, time_limit, gap, fallback, threads, isolate = args
        free = solve(unconstrained(sc), solver=solver, time_limit=time_limit, gap=gap, fallback=fallback,
                     threads=threads, isolate=isolate, explain=False)
        if free.ok:
            report["unconstrained_cost_per_yr"] = free.objective
            report["price_of_equalization_per_yr"] = result.objective - free.objective
            report["price_of_equalization_pct"] = 100 * (result.objective - free.objective) / free.objective
            report["unconstrained_sites"] = sorted(free.open_sites["site"])
    result.extra["fees"] = report
    payers = report["payers"].set_index("jurisdiction")
    j = result.extra["jurisdictions"]
    j["fee"] = j["jurisdiction"].map(payers["fee"])
    j["fee_payment_per_yr"] = j["jurisdiction"].map(payers["payment_per_yr"])


def _model_size(built) -> dict[str, int]:
    f = built.solver_form() if hasattr(built, "solver_form") else built.model.to_matrix()
    return {"variables": f.num_cols, "integer_variables": int(f.integrality.sum()), "constraints": f.num_rows,
            "nonzeros": int(f.A.nnz)}


def _result(sc: Scenario, built, raw: RawSolution, attempts: list[Attempt], seconds: float,
            opts: dict) -> Result:
    status = raw.status if raw.status in ("optimal", "feasible", "infeasible") else "error"
    if raw.status in ("optimal", "feasible") and raw.x is None:
        status = "error"
    message = raw.message
    if raw.status == "no_solution":
        message = message or "no feasible solution was found within the time limit"
    if raw.status == "unbounded":
        message = "the model is unbounded: some cost is negative without limit (a modelling error)"
    solved = status in ("optimal", "feasible")
    return Result(
        scenario=sc.name, sector=sc.sector, status=status, objective=raw.objective if status != "infeasible" else None,
        bound=raw.bound, gap=raw.gap if solved else None, solver=raw.solver,
        seconds=seconds, build_seconds=built.build_seconds,
        fallbacks=[{"solver": a.solver, "reason": a.reason} for a in attempts],
        facilities=None, assignments=None, demands=None,
        units=_units(sc), termination=raw.termination, message=message, options=opts,
        model_size=_model_size(built), extra={"notes": built.notes} if built.notes else {},
        tables=lambda: _tables(sc, built, raw.x if solved else None),
    )


def _tables(sc: Scenario, built, x: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The result tables of solution ``x`` (empty ones without a solution): facilities,
    assignments, demands and the entries of ``Result.extra`` (jurisdictions, cost breakdown,
    streams, echelons, places)."""
    extra: dict = {}
    if x is not None:
        parts = built.all_tables(x)
        tables = parts["main"]
        extra = {"jurisdictions": tables["jurisdictions"], "cost_breakdown": cost_breakdown(parts)}
        if "unserved_cost_per_yr" in tables["demands"]:
            extra["unserved_cost_per_yr"] = float(tables["demands"]["unserved_cost_per_yr"].sum())
        streams = {k: v for k, v in parts.items() if k != "main" and not k.startswith("echelon:")}
        if streams:
            extra["streams"] = streams
        echelons = {k.split(":", 1)[1]: v for k, v in parts.items() if k.startswith("echelon:")}
        if echelons:
            extra["echelons"] = echelons
    else:
        tables = _empty_tables(sc)
    extra["places"] = places(sc)
    return tables["facilities"], tables["assignments"], tables["demands"], extra


def _units(sc: Scenario) -> dict:
    u = sc.units
    return {"demand": u.demand, "distance": u.distance, "money": u.money, "per_year": u.per_year}


def _empty_tables(sc: Scenario) -> dict[str, pd.DataFrame]:
    demands = pd.DataFrame({"id": sc.demands.index, "jurisdiction": sc.demands["jurisdiction"].to_numpy(),
                            "amount": sc.demands["amount"].to_numpy(float)})
    demands["served"] = 0.0
    demands["unserved"] = demands["amount"]
    fac_cols = ["site", "jurisdiction", "open", "existing", "size", "capacity", "load", "utilisation", "capex",
                "fixed_cost_per_yr", "variable_cost_per_yr", "transport_cost_per_yr", "total_cost_per_yr"]
    asg_cols = ["demand", "site", "share", "amount", "distance", "transport_cost_per_yr"]
    return {"facilities": pd.DataFrame(columns=fac_cols), "assignments": pd.DataFrame(columns=asg_cols),
            "demands": demands}


def _infeasible_result(sc: Scenario, findings: list[str], opts: dict, checked: str) -> Result:
    tables = _empty_tables(sc)
    return Result(
        scenario=sc.name, sector=sc.sector, status="infeasible", objective=None, bound=None, gap=None,
        solver="none", seconds=0.0, build_seconds=0.0, fallbacks=[], units=_units(sc),
        termination="proved by " + checked, message="the scenario cannot be satisfied: " + findings[0],
        explanation=findings, options=opts, extra={"places": places(sc)}, **tables,
    )


def explain_infeasibility(sc: Scenario, options: SolveOptions, order: list[str], isolate: bool = True) -> list[str]:
    """Say which requirement cannot be met when the solver only says "infeasible".

    First the rules are dropped one at a time (:data:`RULES`: fee cap, minimum loads, facility
    count, budget, cross-border rule, existing plants, single sourcing, distance limit) and the
    scenario re-solved without each; every rule whose removal alone makes it feasible is named,
    with the figure that shows why (the fee the cheapest-fee plan needs, the loads of the plants
    a plan without minimum loads opens, ...).  If none does alone, they are dropped together.
    Then an *elastic* copy in which any demand may go unserved at a very high penalty lists the
    points a plan under every rule leaves unserved; if even that copy is infeasible, the conflict
    lies in rules on sites alone (existing plants, minimum loads, counts, budget).
    """
    findings = presolve_findings(sc)
    if findings:
        return findings
    lines, named = _culprits(sc, options, order, isolate)
    return lines + _elastic(sc, options, order, isolate, found=named)


#: Seconds each diagnostic re-solve may take at most (the solve's own limit when smaller).
DIAGNOSIS_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class _Rule:
    """A rule :func:`explain_infeasibility` may drop: ``active(sc)``, ``name(sc)`` as the user
    sees it, ``relax(sc)`` the scenario without it, ``figure(sc, res)`` what the plan solved
    without it shows (``res`` is that solve's :class:`Result`)."""

    active: Callable[[Scenario], bool]
    name: Callable[[Scenario], str]
    relax: Callable[[Scenario], Scenario]
    figure: Callable[[Scenario, Result], str]


def _g(x: float) -> str:
    return f"{x:,.6g}"


def _fee_figure(sc: Scenario, res: Result) -> str:
    fees = res.extra["fees"]
    what = "uniform fee" if sc.fees.mode == "uniform" else f"mean fee (fees within {sc.fees.band:.0%} of it)"
    about = "about " if res.status == "optimal" else "at most about "
    return (f"no plan recovers its costs at or below it; the lowest {what} any plan needs is {about}"
            f"{fees['fee']:,.4g} {fees['fee_unit']} (solved without the cap)")


def _min_load_figure(sc: Scenario, res: Result) -> str:
    f = res.open_sites.merge(sc.sizes[["site", "size", "min_load"]], on=["site", "size"], how="left")
    u = sc.units.demand
    low = f[f["load"] < f["min_load"] - 1e-6 * f["min_load"].clip(lower=1)]
    shown = low if len(low) else f
    plants = "; ".join(f"{r.site!r} ({r.size}) at {_g(r.load)} {u}, min_load {_g(r.min_load)} {u}"
                       for r in shown.head(5).itertuples())
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    total = float(sc.demands["amount"].sum())
    smallest = float(sc.sizes.loc[sc.sizes["min_load"] > 0, "min_load"].min())
    why = (f"; all demand together is {_g(total)} {u}, below the smallest min_load of {_g(smallest)} {u}"
           if total < smallest else "")
    return (f"without them the cheapest plan runs {plants}{more}" if len(low) else
            f"without them a plan exists: {plants}{more}") + why


def _count_figure(sc: Scenario, res: Result) -> str:
    return f"without it the cheapest plan opens {len(res.open_sites)} site(s)"


def _budget_figure(sc: Scenario, res: Result) -> str:
    f = res.open_sites
    capex = float(f.loc[~f["existing"].astype(bool), "capex"].sum())
    return (f"without it the cheapest plan spends {_g(capex)} {sc.units.money} of capex on new plants "
            f"(budget {_g(sc.policy.budget)} {sc.units.money})")


def _border_figure(sc: Scenario, res: Result) -> str:
    a = res.assignments
    a = a[a["amount"] > 1e-9]
    crossing = a["demand"].map(sc.demands["jurisdiction"]) != a["site"].map(sc.sites["jurisdiction"])
    return (f"without it the cheapest plan serves {a.loc[crossing, 'demand'].nunique()} demand point(s) "
            "from a site in another jurisdiction")


def _existing_figure(sc: Scenario, res: Result) -> str:
    f = res.facilities.set_index("site")
    changed = []
    for site, row in sc.sites.iterrows():
        opened = bool(f.at[site, "open"]) if site in f.index else False
        if row["existing"] and not (opened and f.at[site, "size"] == row["existing"]):
            changed.append(f"{site!r} ({'at ' + str(f.at[site, 'size']) if opened else 'closed'}, "
                           f"existing {row['existing']})")
        elif bool(row.get("required", False)) and not opened:
            changed.append(f"{site!r} (closed, required)")
    return ("without them the cheapest plan changes " + ", ".join(changed[:5])
            + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")) if changed else \
        "without them a plan exists"


def _split_figure(sc: Scenario, res: Result) -> str:
    a = res.assignments
    n = int((a[a["amount"] > 1e-9].groupby("demand")["site"].nunique() > 1).sum())
    return f"without it the cheapest plan splits {n} demand point(s) between sites"


def _distance_figure(sc: Scenario, res: Result) -> str:
    a = res.assignments
    far = a.loc[a["amount"] > 1e-9, "distance"].max()
    return f"without it the cheapest plan hauls up to {_g(far)} {sc.units.distance}"


def _facility_rule(sc: Scenario) -> str:
    p = sc.policy
    parts = [f"{k}: {v}" for k, v in (("exactly", p.facilities_exactly), ("at_least", p.facilities_at_least),
                                      ("at_most", p.facilities_at_most)) if v is not None]
    return "the facility count (constraints.facilities {" + ", ".join(parts) + "})"


def _without_plants(sc: Scenario) -> Scenario:
    sites = sc.sites.copy()
    sites["existing"] = ""
    sites["required"] = False
    return sc.replace(sites=sites)


RULES: tuple[_Rule, ...] = (
    _Rule(lambda sc: sc.fees is not None and sc.fees.active,
          lambda sc: f"the fee cap of {sc.fees.max_fee:,.6g} {sc.units.money} per {sc.units.demand.split('/')[0]}",
          lambda sc: sc.replace(fees={"max_fee": 1e7, "objective": "fee"}), _fee_figure),
    _Rule(lambda sc: sc.policy.min_load and bool((sc.sizes["min_load"] > 0).any()),
          lambda sc: "the minimum loads (min_load of the size options, constraints.min_load)",
          lambda sc: sc.replace(policy={"min_load": False}), _min_load_figure),
    _Rule(lambda sc: any(v is not None for v in (sc.policy.facilities_exactly, sc.policy.facilities_at_least,
                                                 sc.policy.facilities_at_most)),
          _facility_rule,
          lambda sc: sc.replace(policy={"facilities_exactly": None, "facilities_at_least": None,
                                        "facilities_at_most": None}), _count_figure),
    _Rule(lambda sc: sc.policy.budget is not None,
          lambda sc: f"the capex budget of {_g(sc.policy.budget)} {sc.units.money}",
          lambda sc: sc.replace(policy={"budget": None}), _budget_figure),
    _Rule(lambda sc: sc.policy.cross_border != "any",
          lambda sc: f"the cross-border rule (cross_border: {sc.policy.cross_border})",
          lambda sc: sc.replace(policy={"cross_border": "any"}), _border_figure),
    _Rule(lambda sc: bool((sc.sites["existing"] != "").any() or sc.sites["required"].astype(bool).any()),
          lambda sc: "the existing plants (kept open at their size) and required sites",
          _without_plants, _existing_figure),
    _Rule(lambda sc: sc.policy.single_sourcing,
          lambda sc: "single sourcing (constraints.single_sourcing)",
          lambda sc: sc.replace(policy={"single_sourcing": False}), _split_figure),
    _Rule(lambda sc: sc.policy.max_distance is not None,
          lambda sc: f"the {sc.policy.max_distance:g} {sc.units.distance} distance limit (constraints.max_distance)",
          lambda sc: sc.replace(policy={"max_distance": None}), _distance_figure),
)


def _diagnostic_solve(sc: Scenario, options: SolveOptions, order: list[str], isolate: bool) -> str | Result:
    """``sc`` solved for a diagnosis: the solve's back ends and gap, at most
    :data:`DIAGNOSIS_SECONDS` per back end, no explanation, no price-of-equalisation solve.
    A variant qzopt cannot solve (e.g. banded fees once single sourcing is dropped) gives the
    reason as a string."""
    if sc.fees is not None:
        sc = sc.replace(fees={"compare": False})
    limit = DIAGNOSIS_SECONDS if options.time_limit is None else min(DIAGNOSIS_SECONDS, options.time_limit)
    try:
        return solve(sc, solver="auto", fallback=order, time_limit=limit, gap=options.gap,
                     threads=options.threads, isolate=isolate, explain=False)
    except QzoptError as e:
        return str(e)


def _culprits(sc: Scenario, options: SolveOptions, order: list[str], isolate: bool) -> tuple[list[str], bool]:
    """(lines, named): one line per rule whose removal alone makes ``sc`` feasible (named); if
    none, one line saying which rules were dropped alone and what dropping them together gives;
    no lines when no rule applies."""
    rules = [r for r in RULES if r.active(sc)]
    lines, unknown = [], []
    for rule in rules:
        res = _diagnostic_solve(rule.relax(sc), options, order, isolate)
        if isinstance(res, Result) and res.ok:
            lines.append(f"{rule.name(sc)} cannot be met: {rule.figure(sc, res)}.")
        elif not isinstance(res, Result) or res.status != "infeasible":
            unknown.append(rule.name(sc))
    if lines or not rules:
        if unknown:
            lines.append("whether dropping " + _and(unknown) + " alone helps was not decided (time limit or "
                         "no exact formulation without it).")
        return lines, bool(lines)
    names = [r.name(sc) for r in rules]
    together = sc
    for rule in rules:
        together = rule.relax(together)
    res = _diagnostic_solve(together, options, order, isolate)
    status = res.status if isinstance(res, Result) else "error"
    tried = "dropping " + (names[0] if len(names) == 1 else "any one of " + _and(names, "or")) + \
        " alone still leaves it infeasible"
    if unknown:
        tried += " (not decided for " + _and(unknown) + ": time limit or no exact formulation)"
    if len(names) == 1:
        outcome = ""
    elif status in ("optimal", "feasible"):
        outcome = "; dropping all of them together makes it feasible, so the conflict lies in their combination"
    elif status == "infeasible":
        outcome = "; even dropping all of them together does not (site capacities against the demand remain)"
    else:
        outcome = "; dropping all of them together was not decided (time limit or no exact formulation)"
    return ["no single rule explains it: " + tried + outcome + "."], False


def _and(names: list[str], word: str = "and") -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {word} " + names[-1]


def _elastic(sc: Scenario, options: SolveOptions, order: list[str], isolate: bool, found: bool) -> list[str]:
    """The demand points a plan under every rule leaves unserved (an elastic re-solve in which
    demand may go unserved at a very high penalty).  ``found``: a rule was already named, so the
    points are listed as detail rather than blamed on the rules together (none: nothing to add)."""
    costs = [np.nanmax(np.where(np.isfinite(c), c, np.nan)) if np.isfinite(c).any() else 0.0
             for c in (sc.annual_assignment_cost(), sc.annual_fixed_cost())]
    scale = max(1.0, *costs) / max(1.0, sc.demands["amount"].min() or 1.0) / sc.units.per_year
    elastic = sc.replace(policy={"serve_share": 0.0, "unserved_penalty": ELASTIC_PENALTY_FACTOR * scale})
    built = build_model(elastic)
    raw, _ = solve_with_fallback(built.model.to_matrix(), options, order, isolate=isolate)
    if raw.status == "infeasible":
        rules = []
        p = sc.policy
        if (sc.sites["existing"] != "").any():
            rules.append("existing plants that must stay open at their size")
        if p.min_load and (sc.sizes["min_load"] > 0).any():
            rules.append("minimum loads of the size options")
        if p.facilities_exactly is not None or p.facilities_at_least is not None:
            rules.append("the required number of sites")
        if p.budget is not None:
            rules.append("the capex budget")
        return ["even with every demand allowed to go unserved the rules on sites conflict: "
                + (", ".join(rules) if rules else "check the site constraints") + "."]
    if raw.x is None:
        return [] if found else ["the solver could not diagnose the infeasibility within the time limit."]
    tables = built.tables(raw.x)
    short = tables["demands"][tables["demands"]["unserved"] > 1e-6 * tables["demands"]["amount"].clip(lower=1)]
    if short.empty:
        return []
    u = sc.units.demand
    if found:
        head = (f"with every rule kept, the closest plan leaves {short['unserved'].sum():,.6g} {u} unserved at "
                f"{len(short)} demand point(s):")
    else:
        p = sc.policy
        limits = []
        if p.max_distance is not None:
            limits.append(f"the {p.max_distance:g} {sc.units.distance} distance limit")
        limits.append("site capacities")
        if p.single_sourcing:
            limits.append("single sourcing")
        if p.facilities_exactly is not None or p.facilities_at_most is not None or p.facilities_at_least is not None:
            limits.append("the facility count")
        if p.budget is not None:
            limits.append("the capex budget")
        if p.cross_border != "any":
            limits.append(f"the cross-border rule ({p.cross_border})")
        if p.min_load and (sc.sizes["min_load"] > 0).any():
            limits.append("minimum loads")
        if (sc.sites["existing"] != "").any() or sc.sites["required"].astype(bool).any():
            limits.append("existing and required plants")
        head = (f"{len(short)} demand point(s) cannot all be served under " + ", ".join(limits) + "; "
                f"the closest plan leaves {short['unserved'].sum():,.6g} {u} unserved:")
    lines = [head]
    for row in short.itertuples():
        lines.append(f"{row.id} ({row.jurisdiction}): {row.unserved:,.6g} of {row.amount:,.6g} {u} unserved")
    return lines
