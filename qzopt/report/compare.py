"""``qzopt compare``: two or more siting plans of one region side by side.

The first run is the baseline; every other run is compared with it: key figures, sites opened
and closed, and per jurisdiction what serving its main stream costs (see :data:`COST_PER_UNIT_NOTE`,
per unit) — who wins, who loses — and the equalised fee where a plan has one.  Writes ``compare.html`` (self-contained,
maps next to each other) and ``compare.md`` (for pasting into documents).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qzopt.arguments import bad_argument, check_path
from qzopt.errors import QzoptError
from qzopt.report import markdown as md
from qzopt.report.files import output_pair, read_result, write_text
from qzopt.report.maps import frame
from qzopt.result import Result

#: Smallest share of jurisdictions two runs must have in common to be "the same region".
SAME_REGION_OVERLAP = 0.5


@dataclass(frozen=True)
class Run:
    """A result directory and the result read from it; ``label`` names it in tables."""

    label: str
    path: Path
    result: Result


def load_runs(paths: list[str | Path]) -> list[Run]:
    """Read the result directories (a list or tuple of paths); labels are the directory names
    (made unique)."""

    if not isinstance(paths, (list, tuple)):  # one path is not a list of its letters
        raise bad_argument("load_runs", "paths", paths, "must be a list of result directories, the baseline first: "
                           "compare needs at least two")
    paths = [check_path("load_runs", f"paths[{k}]", p) for k, p in enumerate(paths)]
    if len(paths) < 2:
        raise QzoptError("compare needs at least two result directories (RUN_A RUN_B …)")
    runs, seen = [], {}
    for p in paths:
        path = Path(p)
        res = read_result(path)
        label = path.name if path.is_dir() else path.parent.name
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        runs.append(Run(label, path, res))
    check_comparable(runs)
    return runs


def _jurisdiction_ids(res: Result) -> set[str]:
    j = frame(res.extra.get("jurisdictions"))
    if not j.empty:
        return set(j["jurisdiction"].astype(str))
    return set(res.demands["jurisdiction"].astype(str)) if "jurisdiction" in res.demands else set()


def check_comparable(runs: list[Run]) -> None:
    """Same sector, same demand unit and (mostly) the same jurisdictions; else a clear error."""
    base = runs[0]
    for run in runs[1:]:
        a, b = base.result, run.result
        if a.sector != b.sector:
            raise QzoptError(f"{base.path} is a {a.sector!r} plan and {run.path} a {b.sector!r} plan: plans of "
                             "different sectors cannot be compared side by side (compare runs of one sector)")
        if a.units.get("demand") != b.units.get("demand") or a.units.get("money") != b.units.get("money"):
            raise QzoptError(f"{base.path} measures demand in {a.units.get('demand')} and money in "
                             f"{a.units.get('money')}, {run.path} in {b.units.get('demand')} and "
                             f"{b.units.get('money')}: convert one scenario's units first")
        ja, jb = _jurisdiction_ids(a), _jurisdiction_ids(b)
        common = len(ja & jb)
        if common < SAME_REGION_OVERLAP * max(len(ja), len(jb), 1):
            raise QzoptError(f"{base.path} and {run.path} cover different regions: {len(ja)} and {len(jb)} "
                             f"jurisdictions, {common} in common (at least {SAME_REGION_OVERLAP:.0%} must be shared)")


def per_unit(res: Result, column: str) -> pd.Series:
    """A per-jurisdiction column of the result (``cost_per_unit`` or ``fee``), indexed by id."""
    j = frame(res.extra.get("jurisdictions"))
    if j.empty or column not in j:
        return pd.Series(dtype=float)
    return j.set_index("jurisdiction")[column].astype(float)


def key_figures(runs: list[Run]) -> pd.DataFrame:
    """One row per figure, one column per run."""
    base = runs[0].result
    mu, du, dist = base.units.get("money", ""), base.units.get("demand", ""), base.distance_unit
    rows: dict[str, list[str]] = {}

    def put(name: str, values: list[str]) -> None:
        rows[name] = values

    put("scenario", [r.result.scenario for r in runs])
    if any(r.result.extra.get("overrides") for r in runs):  # runs of one file, told apart by what --set changed
        put("changed for the run (--set)", [md.overrides_text(r.result) for r in runs])
    put("status", [r.result.status for r in runs])
    put("solver", [r.result.solver for r in runs])
    put("optimality gap", [md.gap_pct(r.result.gap) for r in runs])
    put("solve time (s)", [f"{r.result.seconds:.2f}" for r in runs])
    put(f"total cost ({mu}/yr)", [md.money(r.result.objective) for r in runs])
    put(f"change against {runs[0].label} ({mu}/yr)",
        ["baseline"] + [_delta(r.result.objective, base.objective, pct=True) for r in runs[1:]])
    fees = [(r.result.extra.get("fees") or {}) for r in runs]
    if any(fees):
        unit = next(f.get("fee_unit") for f in fees if f)
        put(f"equalised fee ({unit})", [("no fee rule" if not f else md.num(f.get("fee"), 5) if f.get("fee") is not None
                                         else f"n/a (no plan; cap {md.num(f.get('max_fee'), 6)})") for f in fees])
    put("sites opened", [str(len(r.result.open_sites)) if r.result.ok else "n/a" for r in runs])
    put("of which existing", [str(int(r.result.open_sites["existing"].astype(bool).sum())) if r.result.ok else "n/a"
                              for r in runs])
    # demand point -> first site only: transfer-station hauls and second-echelon flows are not in these
    put(f"max distance, demand point to first site ({dist})", [md.num(_max_distance(r.result)) for r in runs])
    put(f"mean distance, demand point to first site, demand-weighted ({dist})",
        [md.num(_mean_distance(r.result)) for r in runs])
    streams = sorted({name for r in runs for name in (r.result.extra.get("streams") or {})})
    put(f"unserved demand{', main stream' if streams else ''} ({du})",
        [md.num(float(r.result.demands["unserved"].sum()) if "unserved" in r.result.demands else float("nan"))
         for r in runs])
    for name in streams:  # e.g. WtE kitchen waste: its unserved amount was in no figure
        put(f"unserved demand, {name} stream ({du})", [md.num(_stream_unserved(r.result, name)) for r in runs])
    return pd.DataFrame(rows, index=[r.label for r in runs]).T.rename_axis("figure").reset_index()


def _stream_unserved(res: Result, name: str) -> float:
    """A further stream's demand left unserved (the run's demand unit); NaN when the run has no
    such stream or no plan."""
    served, amount = md.stream_served((res.extra.get("streams") or {}).get(name) if res.ok else None)
    return amount - served


def _max_distance(res: Result) -> float:
    a = res.assignments
    return float(a["distance"].max()) if not a.empty else float("nan")


def _mean_distance(res: Result) -> float:
    a = res.assignments
    if a.empty or a["amount"].sum() <= 0:
        return float("nan")
    return float((a["distance"] * a["amount"]).sum() / a["amount"].sum())


def _delta(value: float | None, base: float | None, pct: bool = False) -> str:
    if value is None or base is None or pd.isna(value) or pd.isna(base):
        return "n/a"
    d = value - base
    text = signed(md.money(abs(d)), d)
    if pct and base:
        text += f" ({signed(f'{abs(100 * d / base):.2f}', d)} %)"
    return text


def signed(text: str, value: float) -> str:
    """``text`` (the formatted magnitude of ``value``) with its sign; none when it reads as zero
    (no "-0.00" or "+0" for a rounding residue)."""
    if not any(c in "123456789" for c in text):
        return text
    return ("+" if value > 0 else "-") + text


def site_changes(runs: list[Run]) -> pd.DataFrame:
    """Every site open in some run: its size per run (blank = closed), and what changed
    against the baseline."""
    sizes = {}
    for r in runs:
        if not r.result.ok:
            continue  # no plan: no sizes, and no changes (below)
        f = r.result.open_sites
        sizes[r.label] = pd.Series(f["size"].astype(str).to_numpy(), index=f["site"].astype(str)) if not f.empty \
            else pd.Series(dtype=str)
    table = pd.DataFrame(sizes).sort_index()
    tables = [r.result.facilities.set_index("site")["jurisdiction"] for r in runs if not r.result.facilities.empty]
    juris = pd.concat(tables) if tables else pd.Series(dtype=object)  # none when no run has a plan
    juris = juris[~juris.index.duplicated()]
    for r in runs:
        if r.label not in table:
            table[r.label] = pd.Series(dtype=object)
    table = table[[r.label for r in runs]]
    out = table.fillna("").rename_axis("site").reset_index()
    out.insert(1, "jurisdiction", out["site"].map(juris).fillna(""))
    for r in runs:
        if not r.result.ok:
            out[r.label] = "n/a"
    base = runs[0].label
    for r in runs[1:]:
        if not (r.result.ok and runs[0].result.ok):
            out[f"change ({r.label})"] = "n/a (no plan)"
            continue
        was, now = table[base].notna(), table[r.label].notna()
        change = np.select([was & ~now, ~was & now, was & now & (table[base] != table[r.label])],
                           [f"closed in {r.label}", f"opened in {r.label}", f"resized in {r.label}"], "")
        out[f"change ({r.label})"] = change
    return out


def jurisdiction_changes(runs: list[Run]) -> pd.DataFrame:
    """Per jurisdiction: its service cost per unit in each run (its load's share of the plant
    costs plus its own haul, money per demand unit), the change against the baseline and the
    verdict (gains = pays less); the equalised fee per run where a plan has one."""
    base = runs[0]
    mu = md.money_per_unit(base.result)
    base_cost = per_unit(base.result, "cost_per_unit")
    fees = {r.label: per_unit(r.result, "fee") for r in runs}
    columns: dict[str, pd.Series] = {f"{base.label}: cost per unit ({mu})": base_cost}
    for r in runs[1:]:
        cost = per_unit(r.result, "cost_per_unit")
        delta = cost - base_cost.reindex(cost.index)
        tol = 1e-6 * (1 + base_cost.abs().reindex(delta.index))
        columns[f"{r.label}: cost per unit ({mu})"] = cost
        columns[f"change ({r.label}, {mu})"] = pd.Series(map(_change, delta, tol), index=delta.index, dtype=object)
        columns[f"verdict ({r.label})"] = pd.Series(np.select([delta < -tol, delta > tol], ["gains", "loses"], "same"),
                                                    index=delta.index)
    for label, fee in fees.items():
        if not fee.empty and fee.notna().any():
            columns[f"{label}: fee ({mu})"] = fee
    table = pd.DataFrame(columns)
    for c in table.columns:
        if c.startswith("verdict ("):
            table[c] = table[c].fillna("n/a")  # a run without a plan (infeasible) has no costs
    names = frame(base.result.extra.get("jurisdictions"))
    names = names.set_index("jurisdiction")["name"] if not names.empty else pd.Series(dtype=str)
    table.insert(0, "name", names.reindex(table.index))
    table = table.rename_axis("jurisdiction").reset_index()
    for c in table.columns:
        if c.endswith(f"({mu})") and ":" in c:
            table[c] = table[c].map(lambda v: md.num(v, 5))
    return table


def _change(delta: float, tol: float) -> str:
    """A change of cost per unit as the table shows it: "0" exactly where the verdict says
    "same" (within ``tol``), else signed with 4 significant digits ("+0.1234", "-3e-05");
    "n/a" without a figure."""
    if pd.isna(delta):
        return "n/a"
    return "0" if abs(delta) <= tol else f"{'+' if delta > 0 else ''}{delta:,.4g}"


#: What the key figures' distances measure.
DISTANCE_NOTE = ("Distances are from each demand point to the first site it is assigned to; transfer-station "
                 "hauls and second-echelon flows are not in them.")

#: What the "who gains, who loses" cost per unit includes.
COST_PER_UNIT_NOTE = ("Service cost per unit of each jurisdiction's main-stream demand: its own haul (and trunk "
                      "sewer or connection), plus its load's share of each site's costs net of revenue, including "
                      "what the site sends on (second-echelon hauls and sites: sludge, fly ash, outlets), plus "
                      "penalties for its unserved demand.  Further streams (WtE kitchen waste) are not in it.  A "
                      "negative change means serving it costs less than in the baseline.  Equalised fees are shown "
                      "where a plan has them.")


def no_plan_note(runs: list[Run]) -> str | None:
    """Which runs have no plan (and so no sites, no site changes and no costs); None when all have one."""
    none = [f"{r.label} ({r.result.status})" for r in runs if not r.result.ok]
    if not none:
        return None
    if len(none) == 1:
        return (f"No plan in {none[0]}: its figures read n/a, it has no sites and no site changes "
                "(its unserved demand is shown).")
    return (f"No plan in {', '.join(none)}: their figures read n/a, they have no sites and no site changes "
            "(their unserved demand is shown).")


def render_compare_md(runs: list[Run]) -> str:
    labels = ", ".join(f"{r.label} ({r.path})" for r in runs)
    note = no_plan_note(runs)
    lines = ["# Comparison of siting plans", "", f"Runs: {labels}. Baseline: {runs[0].label}.", ""]
    if note:
        lines += [f"> {note}", ""]
    lines += ["## Key figures", "", md.md_table(key_figures(runs)), DISTANCE_NOTE, "",
              "## Sites opened and closed", "", "Size of each site in each plan (blank = not open); changes against "
              "the baseline.", "", md.md_table(site_changes(runs)),
              "## Jurisdictions: who gains, who loses", "", COST_PER_UNIT_NOTE, "",
              md.md_table(jurisdiction_changes(runs))]
    return "\n".join(lines)


def render_compare_html(runs: list[Run]) -> str:
    from qzopt.report.html import html_table, map_uri, page

    maps = [(r.label, map_uri(r.result, title=f"{r.label}: {r.result.scenario}")) for r in runs]
    return page("compare.html.j2", title="Comparison of siting plans", runs=runs,
                money=runs[0].result.units.get("money", ""),
                key_table=html_table(key_figures(runs), "key-figures"),
                sites_table=html_table(site_changes(runs), "site-changes"),
                jurisdictions_table=html_table(jurisdiction_changes(runs), "jurisdiction-changes"),
                maps=maps, no_plan_note=no_plan_note(runs), distance_note=DISTANCE_NOTE,
                cost_per_unit_note=COST_PER_UNIT_NOTE)


def write_compare(runs: list[Run], output: str | Path | None = "compare.html") -> tuple[Path, Path]:
    """Write ``compare.html`` and ``compare.md``: ``output`` ``x.html`` -> x.html and x.md, ``x.md`` ->
    x.md and x.html, a directory -> compare.html and compare.md inside it (see
    :func:`qzopt.report.files.output_pair`).  Returns (HTML path, Markdown path)."""
    html_path, md_path = output_pair(output, Path("."), "compare")
    write_text(html_path, render_compare_html(runs))
    write_text(md_path, render_compare_md(runs))
    return html_path, md_path
