"""``report.md``: the result as Markdown a planner can paste into a document."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from qzopt.result import Result


def money(x: float | None) -> str:
    if x is None or pd.isna(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 0.5 else "0"  # no "-0" for a rounding residue


def pct(x: float | None) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:.1f} %"


def num(x: float | None, digits: int = 4) -> str:
    """``digits`` significant digits; whole numbers with thousands separators instead of an exponent."""
    if x is None or pd.isna(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 10 ** digits and abs(x) != float("inf") else f"{x:,.{digits}g}"


def md_table(frame: pd.DataFrame) -> str:
    """A plain GitHub-flavoured Markdown table (no tabulate dependency)."""
    if frame.empty:
        return "_none_\n"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join("" if (isinstance(v, float) and pd.isna(v)) else str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def solve_facts(res: "Result") -> list[tuple[str, str]]:
    """The facts every report states: solver, status, objective, bound, gap, time."""
    money_unit = f"{res.units.get('money', '')}/yr"
    facts = [
        ("Status", res.status + (f" ({res.termination})" if res.termination else "")),
        ("Solver", res.solver),
        (f"Total cost ({money_unit})", money(res.objective)),
        (f"Best bound ({money_unit})", money(res.bound)),
        ("Optimality gap", pct(res.gap)),
        ("Solve time (s)", f"{res.seconds:.2f}"),
        ("Model build time (s)", f"{res.build_seconds:.2f}"),
    ]
    if res.model_size:
        ms = res.model_size
        facts.append(("Model size", f"{ms.get('variables', 0):,} variables ({ms.get('integer_variables', 0):,} "
                                    f"integer), {ms.get('constraints', 0):,} constraints"))
    for fb in res.fallbacks:
        facts.append(("Fallback", f"{fb['solver']}: {fb['reason']}"))
    fees = res.extra.get("fees")
    if fees:
        what = "mean fee" if fees.get("mode") == "banded" else "uniform fee"
        facts.append((f"Equalised {what} ({fees.get('fee_unit', '')})",
                      f"{num(fees.get('fee'), 5)} ({fees.get('recovery')}, cap {num(fees.get('max_fee'), 5)}, "
                      f"{fees.get('method')})"))
        if fees.get("price_of_equalization_per_yr") is not None:
            facts.append((f"Price of equalisation ({money_unit})",
                          f"{money(fees['price_of_equalization_per_yr'])} "
                          f"({fees.get('price_of_equalization_pct', 0) + 0.0:.2f} % over {money(fees.get('unconstrained_cost_per_yr'))})"))
    return facts


def facilities_view(res: "Result") -> pd.DataFrame:
    """Open sites with units in the column names, formatted for reading."""
    f = res.open_sites
    if f.empty:
        return f
    du = res.units.get("demand", "")
    mu = res.units.get("money", "")
    return pd.DataFrame({
        "site": f["site"],
        "jurisdiction": f["jurisdiction"],
        "existing": f["existing"].map({True: "yes", False: "no"}),
        "size": f["size"],
        f"capacity ({du})": f["capacity"].map(num),
        f"load ({du})": f["load"].map(num),
        "utilisation": f["utilisation"].map(pct),
        f"fixed ({mu}/yr)": f["fixed_cost_per_yr"].map(money),
        f"variable ({mu}/yr)": f["variable_cost_per_yr"].map(money),
        f"transport ({mu}/yr)": f["transport_cost_per_yr"].map(money),
    })


def assignments_view(res: "Result") -> pd.DataFrame:
    a = res.assignments
    if a.empty:
        return a
    du, dist = res.units.get("demand", ""), res.distance_unit
    return pd.DataFrame({
        "demand": a["demand"],
        "site": a["site"],
        f"amount ({du})": a["amount"].map(num),
        "share": a["share"].map(pct),
        f"distance ({dist})": a["distance"].map(lambda v: num(v, 4)),
    })


def render_markdown(res: "Result") -> str:
    lines = [f"# {res.scenario}: siting result", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in solve_facts(res)] + [""]
    if res.message:
        lines += [f"> {res.message}", ""]
    if res.explanation:
        lines += ["## Why no plan exists", ""] + [f"- {e}" for e in res.explanation] + [""]
    if res.ok:
        breakdown = res.cost_breakdown()
        mu = res.units.get("money", "")
        lines += ["## Cost breakdown", "", "| part | " + f"{mu}/yr |", "|---|---:|"]
        lines += [f"| {k} | {money(v)} |" for k, v in breakdown.items()] + [""]
        lines += ["## Open sites", "", md_table(facilities_view(res))]
        d = res.demands
        unserved = d[d["unserved"] > 1e-9]
        lines += ["## Demand", "",
                  f"{len(d)} demand points, {num(d['amount'].sum(), 6)} {res.units.get('demand', '')} in total; "
                  f"{len(unserved)} not fully served.", ""]
        lines += ["## Jurisdictions", "", md_table(jurisdictions_view(res))]
        for name, part in res.extra.get("echelons", {}).items():
            lines += [f"## Second echelon: {name}", ""]
            fac = _frame(part.get("facilities"))
            if not fac.empty:
                lines += ["Destination sites:", "", md_table(_sites_table(fac[fac["open"]], res)), ""]
            lines += ["Flows:", "", md_table(_flows_table(_frame(part.get("flows")), res))]
        for name, part in res.extra.get("streams", {}).items():
            d = _frame(part.get("demands"))
            lines += [f"## Stream: {name}", "",
                      f"{num(d['served'].sum(), 6)} of {num(d['amount'].sum(), 6)} {res.units.get('demand', '')} "
                      f"served ({pct(d['served'].sum() / d['amount'].sum())}).", "",
                      md_table(_sites_table(_frame(part.get("facilities")).query("open"), res))]
        lines += ["## Assignments", "", md_table(assignments_view(res))]
    return "\n".join(lines)


def _frame(value) -> pd.DataFrame:
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value or [])


def _sites_table(f: pd.DataFrame, res: "Result") -> pd.DataFrame:
    if f.empty:
        return f
    du, mu = res.units.get("demand", ""), res.units.get("money", "")
    return pd.DataFrame({"site": f["site"], "jurisdiction": f["jurisdiction"], "size": f["size"],
                         "load": f["load"].map(num), "utilisation": f["utilisation"].map(pct),
                         f"cost ({mu}/yr)": f["total_cost_per_yr"].map(money)})


def _flows_table(flows: pd.DataFrame, res: "Result") -> pd.DataFrame:
    if flows.empty:
        return flows
    mu, dist = res.units.get("money", ""), res.distance_unit
    return pd.DataFrame({"from": flows["source"], "to": flows["destination"], "amount": flows["amount"].map(num),
                         f"distance ({dist})": flows["distance"].map(num),
                         f"haul ({mu}/yr)": flows["transport_cost_per_yr"].map(money)})


def jurisdictions_view(res: "Result") -> pd.DataFrame:
    """Per jurisdiction: demand, where it goes, distance and what its service costs."""
    j = _frame(res.extra.get("jurisdictions"))
    if j.empty:
        return j
    du, mu, dist = res.units.get("demand", ""), res.units.get("money", ""), res.distance_unit
    total = float(j["service_cost_per_yr"].sum())
    view = pd.DataFrame({
        "jurisdiction": j["jurisdiction"], "name": j["name"], "group": j["group"],
        f"demand ({du})": j["demand"].map(num), f"unserved ({du})": j["unserved"].map(num),
        "served by": j["sites"].fillna("").astype(str).str.replace(";", "; "), f"mean distance ({dist})": j["mean_distance"].map(num),
        f"service cost ({mu}/yr)": j["service_cost_per_yr"].map(money),
        f"cost per unit ({mu})": j["cost_per_unit"].map(lambda v: num(v, 4)),
        "share of total cost": (j["service_cost_per_yr"] / total).map(pct) if total else "n/a",
    })
    if "fee" in j:
        fee_unit = (res.extra.get("fees") or {}).get("fee_unit", mu)
        view[f"fee ({fee_unit})"] = j["fee"].map(lambda v: num(v, 5))
        view[f"fee payment ({mu}/yr)"] = j["fee_payment_per_yr"].map(money)
    return view
