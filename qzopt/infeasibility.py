"""Why no plan exists: the explanation an infeasible :class:`~qzopt.result.Result` carries.

When the pre-solve checks (:mod:`qzopt.scenario.checks`) prove nothing and the solver only says
"infeasible", :func:`explain_infeasibility` drops the scenario's rules one at a time
(:data:`RULES`) and re-solves, naming each rule whose removal alone makes it feasible with the
figure that shows why; then an elastic re-solve lists the demand points left unserved.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from qzopt.errors import QzoptError, few_names
from qzopt.models import build_model
from qzopt.result import Result
from qzopt.scenario.checks import presolve_findings
from qzopt.scenario.scenario import Scenario
from qzopt.solvers.base import SolveOptions
from qzopt.solvers.registry import solve_with_fallback

#: Penalty per unserved unit in the elastic diagnosis, as a multiple of the largest cost in
#: the model: large enough that serving is always preferred when it is possible.
ELASTIC_PENALTY_FACTOR = 1e3


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


def _distance_source(sc: Scenario) -> str:
    """The scenario field the distance limit comes from: a sewage scenario's trunk sewers cap it
    at ``sewage.trunk_sewer.max_length`` (the smaller of that and ``constraints.max_distance``),
    which raising ``constraints.max_distance`` does not lift."""
    spec = getattr(sc.sector_data, "spec", None) if sc.sector == "sewage" else None
    sewer = getattr(getattr(spec, "trunk_sewer", None), "max_length", None)
    if sewer is not None and abs(float(sewer) - float(sc.policy.max_distance)) <= 1e-9 * max(1.0, float(sewer)):
        return "sewage.trunk_sewer.max_length, the longest trunk sewer; constraints.max_distance cannot raise it"
    return "constraints.max_distance"


def _fee_figure(sc: Scenario, res: Result) -> str:
    fees = res.extra["fees"]
    what = "uniform fee" if sc.fees.mode == "uniform" else f"mean fee (fees within {sc.fees.band:.0%} of it)"
    about = "about " if res.status == "optimal" else "at most about "
    return (f"no plan that meets the other rules recovers its costs at or below it; the lowest {what} such a plan "
            f"needs is {about}{fees['fee']:,.4g} {fees['fee_unit']} (solved without the cap)")


def _min_load_figure(sc: Scenario, res: Result) -> str:
    f = res.open_sites.merge(sc.sizes[["site", "size", "min_load"]], on=["site", "size"], how="left")
    u = sc.units.demand
    low = f[f["load"] < f["min_load"] - 1e-6 * f["min_load"].clip(lower=1)]
    shown = low if len(low) else f
    plants = few_names((f"{r.site!r} ({r.size}) at {_g(r.load)} {u}, min_load {_g(r.min_load)} {u}"
                        for r in shown.itertuples()), sep="; ")
    total = float(sc.demands["amount"].sum())
    smallest = float(sc.sizes.loc[sc.sizes["min_load"] > 0, "min_load"].min())
    why = (f"; all demand together is {_g(total)} {u}, below the smallest min_load of {_g(smallest)} {u}"
           if total < smallest else "")
    return (f"without them the cheapest plan runs {plants}" if len(low) else
            f"without them a plan exists: {plants}") + why


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
    for site, row in sc.sites[sc.sites["existing"] != ""].iterrows():
        opened = bool(f.at[site, "open"]) if site in f.index else False
        if not (opened and f.at[site, "size"] == row["existing"]):
            changed.append(f"{site!r} ({'at ' + str(f.at[site, 'size']) if opened else 'closed'}, "
                           f"existing {row['existing']})")
    return _changes(changed)


def _required_figure(sc: Scenario, res: Result) -> str:
    f = res.facilities.set_index("site")
    closed = [f"{site!r}" for site in sc.sites.index[sc.sites["required"].astype(bool)]
              if not (site in f.index and bool(f.at[site, "open"]))]
    return (f"without them the cheapest plan leaves {few_names(closed)} closed" if closed
            else "without them a plan exists")


def _changes(changed: list[str]) -> str:
    return f"without them the cheapest plan changes {few_names(changed)}" if changed else "without them a plan exists"


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


def _without_existing(sc: Scenario) -> Scenario:
    sites = sc.sites.copy()
    sites["existing"] = ""
    return sc.replace(sites=sites)


def _without_required(sc: Scenario) -> Scenario:
    sites = sc.sites.copy()
    sites["required"] = False
    return sc.replace(sites=sites)


RULES: tuple[_Rule, ...] = (
    _Rule(lambda sc: sc.fees is not None and sc.fees.active,
          lambda sc: f"the fee cap of {sc.fees.max_fee:,.6g} {sc.units.fee_unit}",
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
    _Rule(lambda sc: bool((sc.sites["existing"] != "").any()),
          lambda sc: "the existing plants (kept open at their size)", _without_existing, _existing_figure),
    _Rule(lambda sc: bool(sc.sites["required"].astype(bool).any()),
          lambda sc: "the required sites (kept open)", _without_required, _required_figure),
    _Rule(lambda sc: sc.policy.single_sourcing,
          lambda sc: "single sourcing (constraints.single_sourcing)",
          lambda sc: sc.replace(policy={"single_sourcing": False}), _split_figure),
    _Rule(lambda sc: sc.policy.max_distance is not None,
          lambda sc: f"the {sc.policy.max_distance:g} {sc.units.distance} distance limit ({_distance_source(sc)})",
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
        from qzopt.api import solve

        return solve(sc, solver=order[0] if order else "auto", fallback=order[1:], time_limit=limit, gap=options.gap,
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
    active = [r.name(sc) for r in RULES if r.active(sc)]
    if raw.status == "infeasible" and found:  # the culprits are named above; the rest are not to blame
        return ["this holds even with every demand allowed to go unserved: the rule(s) named above conflict "
                "with the sites themselves, not with the demand."]
    if raw.status == "infeasible":
        return ["even with every demand allowed to go unserved the rules on sites conflict: "
                + (_and(active) if active else "check the site constraints") + "."]
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
        head = (f"{len(short)} demand point(s) cannot all be served under " + _and(["site capacities"] + active) + "; "
                f"the closest plan leaves {short['unserved'].sum():,.6g} {u} unserved:")
    lines = [head]
    for row in short.itertuples():
        lines.append(f"{row.id} ({row.jurisdiction}): {row.unserved:,.6g} of {row.amount:,.6g} {u} unserved")
    return lines
