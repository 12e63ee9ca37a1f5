"""``report.md``: the result as Markdown a planner can paste into a document."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from qzopt import units
from qzopt.errors import few_names
from qzopt.report.files import finite as _finite

if TYPE_CHECKING:
    from qzopt.result import Result


def money(x: float | None) -> str:
    """Money rounded to whole units with thousands separators; "n/a" for None, NaN and
    infinities (an infeasible run's bound is -inf: not a figure to print)."""
    v = _finite(x)
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if abs(v) >= 0.5 else "0"  # no "-0" for a rounding residue


def pct(x: float | None) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:.1f} %"


def gap_pct(gap: float | None) -> str:
    """A relative optimality gap as a percentage: one decimal, but a gap above 0 never reads
    "0.0 %" (two significant digits below 0.05 %: "0.012 %"), so a plan not proved optimal is
    never shown as if it were; below 0.0001 % it reads "< 0.0001 %", not "1e-07 %")."""
    if gap is None or pd.isna(gap) or gap <= 0 or 100 * gap >= 0.05:
        return pct(gap)
    return f"{100 * gap:.2g} %" if 100 * gap >= 1e-4 else "< 0.0001 %"


def num(x: float | None, digits: int = 4) -> str:
    """``digits`` significant digits; whole numbers with thousands separators instead of an exponent."""
    if x is None or pd.isna(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 10 ** digits and abs(x) != float("inf") else f"{x:,.{digits}g}"


def md_text(value: object) -> str:
    """Text from the input (names, ids) made safe for Markdown: a '|' would add a table column,
    an HTML tag would be raw HTML in the page ('<' before a letter, '/' or '!' is escaped), a line
    break would end the row."""
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(value)).replace("|", "\\|")
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)


def md_table(frame: pd.DataFrame) -> str:
    """A plain GitHub-flavoured Markdown table (no tabulate dependency); cells via :func:`md_text`."""
    if frame.empty:
        return "_none_\n"
    cols = [md_text(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join("" if (isinstance(v, float) and pd.isna(v)) else md_text(v) for v in row)
                     + " |")
    return "\n".join(lines) + "\n"


def solve_facts(res: "Result") -> list[tuple[str, str]]:
    """The facts every report states: solver, status, objective, bound, gap, time."""
    money_unit = f"{res.units.get('money', '')}/yr"
    facts = [
        ("Status", res.status + (f" ({res.termination})" if res.termination else "")),
        ("Solver", res.solver),
        *([("Changed for this run (--set)", overrides_text(res))] if res.extra.get("overrides") else []),
        (f"Total cost ({money_unit})", money(res.objective)),
        (f"Best bound ({money_unit})", money(res.bound)),
        ("Optimality gap", gap_pct(res.gap)),
        ("Solve time (s)", f"{res.seconds:.2f}"),
        *([("Time spent finding why (s)", f"{res.extra['explain_seconds']:.2f}")]
          if res.extra.get("explain_seconds") is not None else []),
        ("Model build time (s)", f"{res.build_seconds:.2f}"),
    ]
    if res.model_size:
        ms = res.model_size
        facts.append(("Model size", f"{ms.get('variables', 0):,} variables ({ms.get('integer_variables', 0):,} "
                                    f"integer), {ms.get('constraints', 0):,} constraints"))
    for fb in res.fallbacks:
        facts.append(("Fallback", f"{fb['solver']}" + (f" ({fb['stage']})" if fb.get("stage") else "")
                      + f": {fb['reason']}"))
    fees = res.extra.get("fees")
    if fees:
        what = "mean fee" if fees.get("mode") == "banded" else "uniform fee"
        facts.append((f"Equalised {what} ({fees.get('fee_unit', '')})",
                      f"{num(fees.get('fee'), 5)} ({fees.get('recovery')}, cap {num(fees.get('max_fee'), 5)}"
                      + (f", {fees['method']})" if fees.get("method") else "; no plan)")))
        if fees.get("price_of_equalization_per_yr") is not None:
            facts.append((f"Price of equalisation ({money_unit})", price_text(fees)))
    return facts


def facilities_view(res: "Result") -> pd.DataFrame:
    """Open sites with units in the column names, formatted for reading."""
    f = res.open_sites
    if f.empty:
        return f
    du = res.units.get("demand", "")
    mu = res.units.get("money", "")
    view = pd.DataFrame({
        "site": f["site"],
        "jurisdiction": f["jurisdiction"],
        "existing": f["existing"].map({True: "yes", False: "no"}),
        "size": f["size"],
        f"capacity ({du})": f["capacity"].map(num),
        f"load ({du})": f["load"].map(num),
        "utilisation": f["utilisation"].map(pct),
    })
    # cold chain: the other resources a hub's size buys (used / capacity and their ratio); the
    # utilisation is then that of the binding one, not load / capacity: the column says so
    hubs = [c for c in ("peak_throughput_capacity", "cold_storage_capacity") if c in f and f[c].notna().any()]
    if hubs:
        view = view.rename(columns={"utilisation": "utilisation (of the binding resource)"})
    for used, cap, label, unit in (("peak_throughput_used", "peak_throughput_capacity", "peak throughput", du),
                                   ("cold_storage_used", "cold_storage_capacity", "cold storage", "t")):
        if used in f and cap in f and f[cap].notna().any():
            view[f"{label} used / capacity ({unit})"] = [f"{num(u)} / {num(c)}" for u, c in zip(f[used], f[cap])]
            view[label] = [pct(u / c) if c and not pd.isna(c) and not pd.isna(u) else "n/a"
                           for u, c in zip(f[used], f[cap])]
    view[f"fixed ({mu}/yr)"] = f["fixed_cost_per_yr"].map(money)
    view[f"variable ({mu}/yr)"] = f["variable_cost_per_yr"].map(money)
    view[f"transport ({mu}/yr)"] = f["transport_cost_per_yr"].map(money)
    # sewage trunk sewers: without this column a row would not add up to the site's cost
    if "connection_cost_per_yr" in f and (f["connection_cost_per_yr"].fillna(0).abs() >= 0.5).any():
        view[f"trunk sewer / connection ({mu}/yr)"] = f["connection_cost_per_yr"].map(money)
    if "total_cost_per_yr" in f:
        view[f"total ({mu}/yr)"] = f["total_cost_per_yr"].map(money)
    return view


def connections_view(res: "Result") -> pd.DataFrame | None:
    """The connections built (sewage trunk sewers): assignments with a connection cost; None when there are none."""
    a = res.assignments
    if a.empty or "connection_cost_per_yr" not in a:
        return None
    built = a[a["connection_cost_per_yr"].fillna(0) >= 0.5]
    if built.empty:
        return None
    mu, dist = res.units.get("money", ""), res.distance_unit
    return pd.DataFrame({"from": built["demand"], "to": built["site"],
                         f"distance ({dist})": built["distance"].map(num),
                         f"cost ({mu}/yr)": built["connection_cost_per_yr"].map(money)})


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


def summary_line(res: "Result") -> str:
    """Scenario summary: jurisdictions, demand points and total demand, candidate and open sites."""
    places = res.extra.get("places") or {}
    n_j = len(_frame(places.get("jurisdictions"))) or len(_frame(res.extra.get("jurisdictions")))
    d = res.demands
    total = float(d["amount"].sum()) if not d.empty else 0.0
    n_sites = len(_frame(places.get("sites"))) or len(res.facilities)
    parts = [f"{n_j} jurisdictions", f"{len(d)} demand points ({num(total, 6)} {res.units.get('demand', '')})",
             f"{n_sites} candidate sites"]
    if res.ok:
        parts.append(f"{len(res.open_sites)} open")
    return " · ".join(parts)


def model_notes(res: "Result") -> list[str]:
    """What the model builder and its presolves recorded (``extra["notes"]``), one line each."""
    return [f"{k}: {v}" for k, v in (res.extra.get("notes") or {}).items()]


def result_notes(res: "Result") -> list[str]:
    """The lines under the solve facts: the input warnings, then :func:`model_notes`."""
    return [f"warning: {w}" for w in res.extra.get("warnings") or []] + model_notes(res)


def render_markdown(res: "Result", frontier: pd.DataFrame | None = None, sharing: dict | None = None) -> str:
    """``report.md`` of ``res``; ``frontier`` (a ``frontier.csv`` table) and ``sharing`` (a ``sharing.json``
    document) add their sections when given, as in ``report.html``."""
    lines = [f"# {md_text(res.scenario)}: siting result", "",
             f"Sector: {md_text(res.sector)} · {md_text(summary_line(res))}", ""]
    lines += ["| | |", "|---|---|"] + [f"| {md_text(k)} | {md_text(v)} |" for k, v in solve_facts(res)] + [""]
    if res.message:
        lines += [f"> {md_text(res.message)}", ""]
    warnings = res.extra.get("warnings") or []
    lines += [f"> warning: {md_text(w)}" for w in warnings] + ([""] if warnings else [])
    said = model_notes(res)
    lines += [f"- {md_text(n)}" for n in said] + ([""] if said else [])
    if res.explanation:
        lines += ["## Why no plan exists", ""] + [f"- {md_text(e)}" for e in res.explanation] + [""]
    if res.ok:
        breakdown = res.cost_breakdown()
        mu = res.units.get("money", "")
        lines += ["## Cost breakdown", "", "| part | " + f"{mu}/yr |", "|---|---:|"]
        lines += [f"| {k} | {money(v)} |" for k, v in breakdown.items()] + [""]
        lines += ["## Open sites", "", md_table(facilities_view(res))]
        pipes = connections_view(res)
        if pipes is not None:
            lines += ["### Trunk sewers and connections built", "", md_table(pipes)]
        lines += ["## Demand", "", demand_line(res), ""]
        lines += ["## Jurisdictions", "", md_table(jurisdictions_view(res))]
        note = jurisdictions_note(res)
        if note:
            lines += [note, ""]
        for name, part in (res.extra.get("echelons") or {}).items():
            lines += [f"## Second echelon: {name}", ""]
            if echelon_unit(name, part, res) is None:
                lines += [f"Loads and amounts in the {name} output unit (the `unit` of that block of the scenario; "
                          "result.json does not record it).", ""]
            fac = _frame(part.get("facilities"))
            if not fac.empty:
                lines += ["Destination sites:", "",
                          md_table(_sites_table(fac[fac["open"].astype(bool)], res, echelon_unit_label(name, part, res))), ""]
            lines += ["Flows:", "", md_table(_flows_table(_frame(part.get("flows")), res,
                                                          echelon_unit_label(name, part, res)))]
        for name, part in (res.extra.get("streams") or {}).items():
            lines += [f"## Stream: {name}", "", stream_line(part, res), "",
                      md_table(_sites_table(_frame(part.get("facilities")).query("open"), res))]
        fees = fee_facts_view(res)
        if fees is not None:
            lines += ["## Equalised fees", "", md_table(fees), fee_scope_note(res), ""]
            plants = fee_plants_view(res)
            if plants is not None:
                lines += ["### Plants: annual cost and break-even fee", "", md_table(plants)]
    if frontier is not None and not frontier.empty:
        lines += ["## Fee frontier", "", frontier_intro(frontier, res), "",
                  md_table(frontier_view(frontier, res.units.get("money", ""), fee_unit(res)))]
    if sharing:
        view = sharing_view(sharing, res.units.get("money", ""))
        summary, core, notes = sharing_text(sharing, res.units.get("money", ""))
        lines += ["## Cost sharing", "", summary, "", md_table(view) if view is not None else NO_ALLOCATION]
        lines += [f"- {c}" for c in core + notes] + ([""] if core or notes else [])
    if res.ok:
        lines += ["## Assignments", "", md_table(assignments_view(res))]
    return "\n".join(lines)


def _frame(value) -> pd.DataFrame:
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value or [])


def echelon_unit(name: str, part: dict, res: "Result") -> str | None:
    """The unit of a second echelon's loads and flows: as recorded in the result, else the demand
    unit for WtE transfer stations (their flows go on to the plants), else unknown (None)."""
    if part.get("unit"):
        return str(part["unit"])
    return res.units.get("demand") if name == "transfer" else None


def echelon_unit_label(name: str, part: dict, res: "Result") -> str:
    return echelon_unit(name, part, res) or f"{name} output unit"


def _sites_table(f: pd.DataFrame, res: "Result", unit: str | None = None) -> pd.DataFrame:
    """Open sites of a stream or an echelon; loads in ``unit`` (default: the run's demand unit)."""
    if f.empty:
        return f
    du, mu = unit or res.units.get("demand", ""), res.units.get("money", "")
    return pd.DataFrame({"site": f["site"], "jurisdiction": f["jurisdiction"], "size": f["size"],
                         f"load ({du})": f["load"].map(num), "utilisation": f["utilisation"].map(pct),
                         f"cost ({mu}/yr)": f["total_cost_per_yr"].map(money)})


def _flows_table(flows: pd.DataFrame, res: "Result", unit: str | None = None) -> pd.DataFrame:
    """Second-echelon flows; amounts in ``unit`` (default: the run's demand unit)."""
    if flows.empty:
        return flows
    mu, dist, du = res.units.get("money", ""), res.distance_unit, unit or res.units.get("demand", "")
    return pd.DataFrame({"from": flows["source"], "to": flows["destination"], f"amount ({du})": flows["amount"].map(num),
                         f"distance ({dist})": flows["distance"].map(num),
                         f"haul ({mu}/yr)": flows["transport_cost_per_yr"].map(money)})


def jurisdictions_view(res: "Result") -> pd.DataFrame:
    """Per jurisdiction: demand, where it goes, distance and what its service costs."""
    j = _frame(res.extra.get("jurisdictions"))
    if j.empty:
        return j
    du, mu, dist = res.units.get("demand", ""), res.units.get("money", ""), res.distance_unit
    view = pd.DataFrame({
        "jurisdiction": j["jurisdiction"], "name": j["name"], "group": j["group"],
        f"demand{main_stream(res)} ({du})": j["demand"].map(num),
        f"unserved{main_stream(res)} ({du})": j["unserved"].map(num),
        "served by": j["sites"].fillna("").astype(str).str.replace(";", "; "), f"mean distance ({dist})": j["mean_distance"].map(num),
        f"service cost ({mu}/yr)": j["service_cost_per_yr"].map(money),
        f"cost per unit ({money_per_unit(res)})": j["cost_per_unit"].map(lambda v: num(v, 4)),
    })
    attributed = j.set_index("jurisdiction")["service_cost_per_yr"].astype(float)
    for name, part in (res.extra.get("streams") or {}).items():  # its unserved amount was in no column
        sj = _frame(part.get("jurisdictions")) if isinstance(part, dict) else pd.DataFrame()
        if not sj.empty and "unserved" in sj:
            short = sj.groupby("jurisdiction")["unserved"].sum().astype(float).reindex(j["jurisdiction"])
            view[f"{name} stream unserved ({du})"] = [num(v) for v in short.to_numpy()]
    for name, costs in stream_service_costs(res).items():  # e.g. WtE's kitchen-waste stream, per jurisdiction
        mine = costs.reindex(j["jurisdiction"]).to_numpy()
        view[f"{name} stream service cost ({mu}/yr)"] = [money(v) for v in mine]
        attributed = attributed.add(costs, fill_value=0.0)
    total = total_cost(res)
    share = attributed.reindex(j["jurisdiction"]) / total if total else None
    view["share of total cost"] = share.map(pct).to_numpy() if share is not None else "n/a"
    if "fee" in j:
        view[f"fee ({fee_unit(res)})"] = j["fee"].map(lambda v: num(v, 5))
        view[f"fee payment ({mu}/yr)"] = j["fee_payment_per_yr"].map(money)
    return view


def total_cost(res: "Result") -> float | None:
    """The plan's total cost per year: the sum of its cost breakdown (the objective when it is a cost)."""
    parts = [v for v in res.cost_breakdown().values() if _finite(v) is not None]
    if parts:
        return float(sum(parts))
    return _finite(res.objective)


def stream_service_costs(res: "Result") -> dict[str, pd.Series]:
    """Per further demand stream (WtE kitchen waste) its jurisdictions' service cost per year, by jurisdiction."""
    out = {}
    for name, part in (res.extra.get("streams") or {}).items():
        j = _frame(part.get("jurisdictions")) if isinstance(part, dict) else pd.DataFrame()
        if not j.empty and "service_cost_per_yr" in j:
            out[name] = j.groupby("jurisdiction")["service_cost_per_yr"].sum().astype(float)
    return out


def jurisdictions_note(res: "Result") -> str | None:
    """The line under the jurisdictions table: what the service costs add up to against the total
    cost, and what is in none of them (None without a jurisdictions table)."""
    j = _frame(res.extra.get("jurisdictions"))
    if j.empty:
        return None
    mu = f"{res.units.get('money', '')}/yr"
    main = float(j["service_cost_per_yr"].sum())
    parts = [f"main stream {money(main)}"]
    attributed = main
    for name, costs in stream_service_costs(res).items():
        parts.append(f"{name} stream {money(float(costs.sum()))}")
        attributed += float(costs.sum())
    total = total_cost(res)
    text = (f"Service cost = own transport (and connections) + share by load of each site's costs net of revenue, "
            f"including what the site sends on + penalties for unserved demand; cost per unit is the main stream's, "
            f"per unit of its demand. Service costs add up to {' + '.join(parts)}"
            + (f" = {money(attributed)}" if len(parts) > 1 else "") + f" {mu}")
    if total is None:
        return text + "."
    rest = total - attributed
    text += f" of the total cost {money(total)} {mu}; share of total cost is of that total"
    if abs(rest) >= 0.5 and abs(rest) > 1e-9 * abs(total):
        text += f"; not attributed to any jurisdiction: {money(rest)} {mu} ({pct(rest / total)})"
    return text + "."


def main_stream(res: "Result") -> str:
    """", main stream" when the plan has further streams (WtE kitchen waste), else "": what a
    demand or unserved figure of ``res.demands`` is of."""
    return ", main stream" if res.extra.get("streams") else ""


def demand_line(res: "Result") -> str:
    """The demand points, their total and how many are not fully served (of the main stream
    when there are further streams; amounts in the run's demand unit)."""
    d = res.demands
    unserved = d[d["unserved"] > 1e-9]
    of = " of the main stream" if main_stream(res) else ""
    return (f"{len(d)} demand points{of}, {num(d['amount'].sum(), 6)} {res.units.get('demand', '')} in total; "
            f"{len(unserved)} not fully served"
            + (f" ({num(float(unserved['unserved'].sum()), 6)} {res.units.get('demand', '')} unserved)"
               if len(unserved) else "") + ".")


def stream_served(part: dict | None) -> tuple[float, float]:
    """(served, total demand) of a further stream's part of a result (the run's demand unit); NaN
    for both when it has no demand table."""
    d = _frame(part.get("demands")) if isinstance(part, dict) else pd.DataFrame()
    if d.empty or "amount" not in d or "served" not in d:
        return float("nan"), float("nan")
    return float(d["served"].sum()), float(d["amount"].sum())


def stream_line(part: dict, res: "Result") -> str:
    """How much of a further stream's demand is served (the run's demand unit)."""
    served, amount = stream_served(part)
    du = res.units.get("demand", "")
    return (f"{num(served, 6)} of {num(amount, 6)} {du} served ({pct(served / amount if amount else None)})"
            + (f"; {num(amount - served, 6)} {du} not served" if amount - served > 1e-9 else "") + ".")


def beyond_main_sites(res: "Result") -> list[str]:
    """One line per part of the plan that the main stream's open sites leave out (the console
    lists those sites only): unserved main-stream demand, each further stream (WtE kitchen waste:
    its open sites, served and unserved amounts, sites' cost) and each second echelon (sludge,
    fly ash: its destination sites, their cost and the hauls' cost).  Amounts in the run's
    demand unit (an echelon's in its own unit), money per year."""
    du, mu = res.units.get("demand", ""), f"{res.units.get('money', '')}/yr"
    lines = []
    d = res.demands
    short = float(d["unserved"].sum()) if "unserved" in d else 0.0
    if short > 1e-9:
        lines.append(f"main stream: {num(short, 6)} {du} of {num(float(d['amount'].sum()), 6)} not served "
                     f"({int((d['unserved'] > 1e-9).sum())} demand points)")
    for name, part in (res.extra.get("streams") or {}).items():
        fac = _frame(part.get("facilities"))
        open_ = fac[fac["open"].astype(bool)] if not fac.empty else fac
        served, amount = stream_served(part)
        text = (f"{name} stream: {few_names(map(str, open_['site'])) if len(open_) else 'no site'} open, "
                f"{num(served, 6)} of {num(amount, 6)} {du} served")
        if amount - served > 1e-9:
            text += f" ({num(amount - served, 6)} {du} not served)"
        cost = float(open_["total_cost_per_yr"].sum()) if len(open_) and "total_cost_per_yr" in open_ else 0.0
        lines.append(text + f"; sites' cost {money(cost)} {mu}")
    costs = echelon_costs(res)
    for name, part in (res.extra.get("echelons") or {}).items():
        fac = _frame(part.get("facilities"))
        if fac.empty:  # flows back into main-stream sites (WtE transfer stations): listed above
            continue
        open_ = fac[fac["open"].astype(bool)]
        sites, hauls = costs.get(name, (0.0, 0.0))
        lines.append(f"second echelon {name}: {few_names(map(str, open_['site'])) if len(open_) else 'no site'} "
                     f"open; sites' cost {money(sites)}, hauls {money(hauls)} {mu}")
    return lines


def echelon_costs(res: "Result") -> dict[str, tuple[float, float]]:
    """Per second echelon: (its destination sites' cost, its hauls' cost), money per year."""
    out = {}
    for name, part in (res.extra.get("echelons") or {}).items():
        fac, flows = _frame(part.get("facilities")), _frame(part.get("flows"))
        if fac.empty and not flows.empty and "source" in flows and res.ok:
            # flows back into the main stream (WtE transfer stations): the sending sites are
            # main-stream sites, whose own costs are in the main facilities table
            main = res.facilities
            fac = main[main["site"].isin(set(flows["source"]))]
        sites = float(fac.loc[fac["open"].astype(bool), "total_cost_per_yr"].sum()) \
            if not fac.empty and "total_cost_per_yr" in fac else 0.0
        hauls = float(flows["transport_cost_per_yr"].sum()) if not flows.empty and "transport_cost_per_yr" in flows \
            else 0.0
        out[name] = (sites, hauls)
    return out


def fee_scope_note(res: "Result") -> str | None:
    """What the fee recovers, and the second-echelon costs it leaves out (None without fee rules)."""
    fees = res.extra.get("fees")
    if not fees:
        return None
    mu = f"{res.units.get('money', '')}/yr"
    costs = {k: v for k, v in echelon_costs(res).items() if abs(sum(v)) >= 0.5}
    listed = "; ".join(f"{k}: sites {money(v[0])} + hauls {money(v[1])}" for k, v in costs.items())
    outside = money(sum(map(sum, costs.values())))
    if fees.get("recovery") == "pooled":
        return ("Recovery pooled: the fee recovers the costs of all main sites (transfer stations included) and of "
                "everything they send on (second-echelon hauls and destination sites) together"
                + (f": second-echelon costs {outside} {mu} ({listed}) are inside it."
                   if costs else "."))
    text = ("Recovery per plant: the fee covers each plant's own costs (capital and operating, net of revenue and "
            "subsidy), not transport to the plants, transfer stations' costs or second-echelon costs")
    if costs:
        text += (f"; second-echelon costs of {outside} {mu} ({listed}) are "
                 "outside the fee")
    return text + (". With `recovery: pooled` the fee recovers the costs of all main sites and of everything the "
                   "plants send on (second-echelon hauls and destination sites) together.")


def overrides_text(res: "Result") -> str:
    """The fields ``--set`` changed for this run, as given: "constraints.max_distance=100; fees.mode=none"
    ("none" when it changed none)."""
    return overrides_line(res.extra.get("overrides")) or "none"


def overrides_line(overrides: dict | None) -> str:
    """``--set`` changes (field -> value) as one line, "constraints.max_distance=100; fees.mode=none";
    "" for none.  Said the same way in results, sharings and frontiers."""
    return "; ".join(f"{k}={v}" for k, v in (overrides or {}).items())


def price_text(fees: dict, with_pct: bool = True) -> str:
    """The price of equalisation as a figure: "17,780,254 (1.91 % over 930,489,608)", or, when a
    solve behind it was not proven, the difference of the two plans found and the range the price
    itself lies in: "3,606,224 between the plans found; the price lies between 0 and 34,000,000
    (the comparison solve without fee rules was not proven)"."""
    price = money(fees.get("price_of_equalization_per_yr"))
    text = price + (f" ({points(fees.get('price_of_equalization_pct', 0))} over "
                    f"{money(fees.get('unconstrained_cost_per_yr'))})" if with_pct else "")
    if fees.get("price_of_equalization_proven", True) is False:
        lower = fees.get("price_of_equalization_lower_per_yr")
        upper = fees.get("price_of_equalization_upper_per_yr")
        unproven = fees.get("price_of_equalization_unproven") or ["the comparison solve without fee rules"]
        span = (f"lies between {money(lower)} and {money(upper)}" if lower is not None and upper is not None else
                f"is at least {money(lower)}" if lower is not None else
                f"is at most {money(upper)}" if upper is not None else "is not known")
        text = (f"{text} between the plans found; the price {span} "
                f"({' and '.join(unproven)} {'were' if len(unproven) > 1 else 'was'} not proven)")
    return text


def money_per_unit(res: "Result") -> str:
    """Money per demand unit, e.g. yuan/t for demand in t/d (costs per unit are per unit delivered)."""
    return units.money_per_unit(res.units.get("money", "") or "", str(res.units.get("demand", "") or ""))


def _is_inf(x) -> bool:
    try:
        return float(x) == float("inf")
    except (TypeError, ValueError):
        return False


def points(x, digits: int = 2) -> str:
    """A percentage given in percent (12.3 -> "12.3 %"); "n/a" for None, NaN and infinities."""
    v = _finite(x)
    return "n/a" if v is None else f"{no_negative_zero(f'{v:.{digits}f}')} %"


def no_negative_zero(text: str) -> str:
    """A formatted number without the sign of a rounding residue ("-0.00" -> "0.00")."""
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


# ------------------------------------------------------------ fees, frontier, sharing
# One source of the rows for report.md and report.html.
def fee_facts_view(res: "Result") -> pd.DataFrame | None:
    """The fee rule and what it costs, two columns ("" and value); None without fee rules."""
    fees = res.extra.get("fees")
    if not fees:
        return None
    mu = res.units.get("money", "")
    unit = fee_unit(res)
    rows = [("mode", fees.get("mode")), ("recovery", fees.get("recovery")), ("objective", fees.get("objective")),
            ("method", fees.get("method")), (f"fee ({unit})", num(_finite(fees.get("fee")), 6)),
            (f"fee cap ({unit})", num(_finite(fees.get("max_fee")), 6))]
    if fees.get("band") is not None:
        rows.append(("band (relative)", pct(_finite(fees.get("band")))))
    if fees.get("collected_per_yr") is not None:
        what = "all main sites and what they send on" if fees.get("recovery") == "pooled" else "each plant's own"
        rows += [(f"fees collected ({mu}/yr)", money(fees.get("collected_per_yr"))),
                 (f"costs to recover: {what} ({mu}/yr)", money(fees.get("recovered_cost_per_yr"))),
                 (f"surplus over those costs ({mu}/yr)", money(fees.get("surplus_per_yr")))]
    if fees.get("price_of_equalization_per_yr") is not None:
        rows += [(f"cost without the fee rule ({mu}/yr)", money(_finite(fees.get("unconstrained_cost_per_yr")))),
                 (f"price of equalisation ({mu}/yr)", price_text(fees, with_pct=False)),
                 ("price of equalisation (%)", points(fees.get("price_of_equalization_pct")))]
    return pd.DataFrame([(k, "n/a" if v is None else str(v)) for k, v in rows], columns=["", "value"])


def fee_plants_view(res: "Result") -> pd.DataFrame | None:
    """Per plant of the fee rule: annual cost, volume and break-even fee; None when there are none."""
    fees = res.extra.get("fees") or {}
    plants = _frame(fees.get("plants"))
    if plants.empty:
        return None
    mu = res.units.get("money", "")
    unit = fee_unit(res)
    return pd.DataFrame({"site": plants["site"],
                         f"annual cost ({mu}/yr)": plants["annual_cost_per_yr"].map(lambda v: money(_finite(v))),
                         f"volume ({res.units.get('demand', '')})": plants["volume"].map(lambda v: num(_finite(v))),
                         f"break-even fee ({unit})": plants["break_even_fee"].map(lambda v: num(_finite(v), 5))})


def fee_unit(res: "Result") -> str:
    """The unit of the result's fees, as its fee rule recorded it (else money per demand unit)."""
    return (res.extra.get("fees") or {}).get("fee_unit") or money_per_unit(res)


def frontier_view(table: pd.DataFrame, money_unit: str, fee_unit: str) -> pd.DataFrame:
    """The rows of a ``frontier.csv`` as ``frontier.md`` and the report show them: units in the
    column names (money per year, ``fee_unit`` per demand unit), fees to 5 significant digits, the
    price as a range where a solve was cut short, and how each point was solved.  Columns a
    frontier written before a version had them (status ..., note) are left out."""
    def price(row) -> str:
        value = money(_finite(row.get("price_of_equalization_per_yr")))
        low, high = (_finite(row.get(f"price_of_equalization_{e}_per_yr")) for e in ("lower", "upper"))
        if low is None or money(low) == value == money(high):
            return value
        return f"{value} (between {money(low)} and {money(high) if high is not None else 'unknown'})"

    rows = table.to_dict("records")
    view = pd.DataFrame({"point": table["point"],
                         f"fee cap ({fee_unit})": table["fee_cap"].map(lambda v: "none" if _finite(v) is None
                                                                        else num(v, 5)),
                         f"fee ({fee_unit})": table["fee"].map(lambda v: num(_finite(v), 5)),
                         f"total cost ({money_unit}/yr)": table["total_cost_per_yr"].map(lambda v: money(_finite(v))),
                         f"price of equalisation ({money_unit}/yr)": [price(r) for r in rows],
                         "sites": table["sites"].fillna("") if "sites" in table else ""})
    if "status" in table:
        view["status"] = table["status"].fillna("")
        view["gap"] = table["gap"].map(gap_pct) if "gap" in table else ""
        view["solver"] = table["solver"].fillna("") if "solver" in table else ""
        view["time (s)"] = table["seconds"].map(lambda v: "" if _finite(v) is None else f"{v:.2f}") \
            if "seconds" in table else ""
    if "note" in table and table["note"].fillna("").astype(str).str.strip().any():
        view["note"] = table["note"].fillna("")
    return view


def frontier_intro(table: pd.DataFrame, res: "Result | None" = None) -> str:
    """What a frontier's rows mean, and its fee rule when the table records it; with ``res``, a
    warning when ``res`` was solved under another fee rule (mode, recovery, band, subsidy)."""
    from qzopt.fees import rule_words

    rule = table["fee_rule"].dropna().iloc[0] if "fee_rule" in table and table["fee_rule"].notna().any() else None
    text = ("Each capped row is the cheapest plan whose fees stay within the cap"
            + (f" (fee rule: {rule})" if rule else "")
            + "; the first row is the plan without fee rules, with the fee it would need.  The price of "
            "equalisation is what a row costs per year above that plan (a range where a solve was stopped "
            "short of a proof, as its status and gap say).  Between two caps the cost is at most that at the "
            "lower cap; a cap below the smallest fee any plan needs has no plan.")
    fees = (res.extra.get("fees") or {}) if res is not None else {}
    if rule and fees.get("mode") in ("uniform", "banded"):
        own = rule_words(fees["mode"], fees.get("band"), fees.get("recovery"), fees.get("subsidy_per_unit"),
                         fee_unit(res))
        if own != rule:
            text += f"  Note: this plan was solved under another fee rule ({own}); the frontier's rows are not its own."
    return text


def _sharing_frames(doc: dict) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(allocations by player, the first method's table by player, the player column)."""
    alloc = pd.DataFrame(doc.get("allocations") or [])
    if alloc.empty:
        return alloc, pd.DataFrame(), ""
    key = alloc.columns[0]
    tables = doc.get("tables") or {}
    first = pd.DataFrame(next(iter(tables.values())) or []) if tables else pd.DataFrame()
    first = first.set_index(key) if key in first else pd.DataFrame()
    return alloc.set_index(key), first, key


def stand_alone(doc: dict) -> tuple[pd.Series, pd.Series]:
    """Per player: the stand-alone cost (money/yr; NaN where there is none) and the text to show
    for it: the cost, "infeasible alone" when the player cannot serve itself, else "n/a (why)"."""
    alloc, first, _ = _sharing_frames(doc)
    players = list(alloc.index)
    raw = first["stand_alone_cost_per_yr"] if "stand_alone_cost_per_yr" in first else pd.Series(dtype=object)
    status = {}
    for c in doc.get("coalitions") or []:
        members = c.get("players") if isinstance(c, dict) else None
        if isinstance(members, list) and len(members) == 1:
            status[str(members[0])] = c
    values, texts = [], []
    for p in players:
        v = _finite(raw.get(p)) if p in raw.index else None
        values.append(float("nan") if v is None else v)
        if v is not None:
            texts.append(money(v))
            continue
        c = status.get(str(p)) or {}
        infinite = _is_inf(raw.get(p) if p in raw.index else None) or _is_inf(c.get("cost"))
        texts.append(no_stand_alone(c.get("status"), c.get("reason"), infinite))
    return pd.Series(values, index=players, dtype=float), pd.Series(texts, index=players, dtype=object)


def no_stand_alone(status: str | None, reason: str | None, infinite: bool = False) -> str:
    """What a player without a (finite) stand-alone cost reads, in report and share output alike:
    "none within the fee cap" (it could serve itself, not within the fee rule), "infeasible alone"
    (it cannot serve itself), else "n/a (status)"."""
    if str(reason or "").startswith("fee cap"):
        return "none within the fee cap"
    if status == "infeasible" or infinite:
        return "infeasible alone"
    return f"n/a ({status})" if status else "n/a (not solved)"


def sharing_view(doc: dict, money_unit: str) -> pd.DataFrame | None:
    """Per player: stand-alone cost, the allocation of every method and the saving; None without allocations."""
    alloc, _, key = _sharing_frames(doc)
    if alloc.empty:
        return None
    _, alone_text = stand_alone(doc)
    tables = doc.get("tables") or {}
    view = pd.DataFrame({"player": alloc.index.astype(str), f"alone ({money_unit}/yr)": alone_text.to_numpy()})
    for m in alloc.columns:
        view[f"{m} ({money_unit}/yr)"] = alloc[m].map(lambda v: money(_finite(v))).to_numpy()
        t = pd.DataFrame(tables.get(m) or [])
        if "saving_pct" in t and key in t:
            view[f"{m} saving"] = t.set_index(key)["saving_pct"].reindex(alloc.index).map(
                lambda v: points(v, 1)).to_numpy()
    return view


def partial_core_line(solved: int | None = None) -> str:
    """A clean core check over only some coalitions, in words (``solved``: how many, if known)."""
    among = "those solved" if solved is None else f"the {solved:,} solved"
    return f"no coalition among {among} pays more than alone (a partial check, not a core test)"


#: what a report says when a sharing run computed no allocation (the notes follow with the reasons)
NO_ALLOCATION = "No allocation could be computed; the notes below say why."


def sharing_text(doc: dict, money_unit: str) -> tuple[str, list[str], list[str]]:
    """(summary line, one core-test line per method, notes: why figures are missing)."""
    from qzopt.sharing.share import coalition_label

    alloc, _, _ = _sharing_frames(doc)
    players = [str(p) for p in doc.get("players") or list(alloc.index)]
    core = []
    for m, v in (doc.get("core_violations") or {}).items():
        if v is None:
            core.append(f"{m}: core not tested")
        elif not v:
            core.append(f"{m}: " + ("in the core" if doc.get("core_check") != "partial" else partial_core_line()))
        else:
            worst = v[0] if isinstance(v[0], dict) else {}
            named = str(worst.get("coalition") or "")
            named = coalition_label(named.split(" + "), players) if named else "n/a"  # as sharing.md names it
            core.append(f"{m}: not in the core — {len(v)} coalition(s) would pay less alone, worst "
                        f"{named} by {money(_finite(worst.get('excess')))} {money_unit}/yr")
    eps = _finite(doc.get("least_core_epsilon"))
    count = doc.get("coalition_count")
    summary = (f"Players: {doc.get('players_by') or 'n/a'} ({len(doc.get('players') or alloc)}); "
               f"{count if count is not None else 'n/a'} coalitions; "
               f"cost of the grand coalition {money(_finite(doc.get('grand_coalition_cost_per_yr')))} {money_unit}/yr; "
               f"least-core ε {money(eps)}" + ("" if eps is None else f" {money_unit}/yr (the most any coalition "
               "pays above its stand-alone cost under the allocation that makes that most smallest; 0 or below: "
               "the core is not empty)") + "."
               + (f"  Core: {doc['core_status']}." if doc.get("core_status") else ""))
    notes = []
    _, alone_text = stand_alone(doc)
    if (alone_text == "infeasible alone").any():
        territory = doc.get("territory")
        notes.append("infeasible alone: the player cannot serve its demand by itself"
                     + (f" with the sites its territory ({territory}) allows" if territory else "")
                     + ", so it has no stand-alone cost and no saving to show.")
    if (alone_text == "none within the fee cap").any():
        notes.append("none within the fee cap: the player could serve itself, but not within the scenario's "
                     "fee rule, which applies to every coalition; its cost without the rule is in the "
                     "coalition table of sharing.md (cost_without_fees in sharing.json).")
    notes += [str(n) for n in doc.get("notes") or []]
    return summary, core, notes
