"""``report.html``: one self-contained page a planner can put on a screen.

Everything is inside the file: charts and the map as PNG data URIs, the CJK font as an
embedded subset (see :mod:`qzopt.report.fonts`), no scripts, no links to the network.
Tables are the same views as ``report.md`` (units in the column names).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup, escape

from qzopt.report import markdown as md
from qzopt.report.charts import cost_breakdown_chart, data_uri, frontier_figure, png, sharing_chart, utilisation_chart
from qzopt.report.fonts import CSS_STACK, css_font_face
from qzopt.report.maps import can_map, frame, plan_map

if TYPE_CHECKING:
    from qzopt.result import Result


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("qzopt.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True)


NUMBER = re.compile(r"^[-+]?[\d,.]+(e[-+]?\d+)?( %)?$|^n/a$|^$")


def html_table(view: pd.DataFrame, table_id: str | None = None) -> Markup:
    """A DataFrame as an HTML table: escaped text, numbers right-aligned, text left-aligned."""
    if view is None or view.empty:
        return Markup('<p class="muted">none</p>')
    cells = view.astype(object).where(view.notna(), "").astype(str)
    text_cols = [not cells[c].map(lambda v: bool(NUMBER.match(v.strip()))).all() for c in cells.columns]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in view.columns)
    rows = []
    for row in cells.itertuples(index=False):
        tds = []
        for v, is_text in zip(row, text_cols):
            cls = ["text"] if is_text else []
            if len(v) > 24:
                cls.append("wrap")
            tds.append(f'<td class="{" ".join(cls)}">{escape(v)}</td>' if cls else f"<td>{escape(v)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    ident = f' id="{escape(table_id)}"' if table_id else ""
    return Markup(f'<table class="data"{ident}><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows)
                  + "\n</tbody></table>")


def finish(page: str) -> str:
    """Embed the font subset for the characters the page shows."""
    text = re.sub(r"data:[^\"')]+", "", page)
    return page.replace("/*FONT_FACE*/", css_font_face(text), 1)


def page(template: str, **context: Any) -> str:
    from qzopt import __version__

    context.setdefault("version", __version__)
    context.setdefault("font_stack", Markup(CSS_STACK))
    return finish(environment().get_template(template).render(**context))


def summary_line(res: "Result") -> str:
    """Scenario summary: jurisdictions, demand points and total demand, candidate and open sites."""
    places = res.extra.get("places") or {}
    n_j = len(frame(places.get("jurisdictions"))) or len(frame(res.extra.get("jurisdictions")))
    d = res.demands
    total = float(d["amount"].sum()) if not d.empty else 0.0
    n_sites = len(frame(places.get("sites"))) or len(res.facilities)
    parts = [f"{n_j} jurisdictions", f"{len(d)} demand points ({md.num(total, 6)} {res.units.get('demand', '')})",
             f"{n_sites} candidate sites"]
    if res.ok:
        parts.append(f"{len(res.open_sites)} open")
    return " · ".join(parts)


def _fees_tables(res: "Result") -> tuple[Any, Any]:
    fees = res.extra.get("fees")
    if not fees:
        return None, None
    mu = res.units.get("money", "")
    unit = fees.get("fee_unit", mu)
    rows = [("mode", fees.get("mode")), ("recovery", fees.get("recovery")), ("objective", fees.get("objective")),
            ("method", fees.get("method")), (f"fee ({unit})", md.num(fees.get("fee"), 6)),
            (f"fee cap ({unit})", md.num(fees.get("max_fee"), 6))]
    if fees.get("band") is not None:
        rows.append(("band (relative)", md.pct(fees.get("band"))))
    if fees.get("price_of_equalization_per_yr") is not None:
        rows += [(f"cost without the fee rule ({mu}/yr)", md.money(fees.get("unconstrained_cost_per_yr"))),
                 (f"price of equalisation ({mu}/yr)", md.money(fees.get("price_of_equalization_per_yr"))),
                 ("price of equalisation (%)", f"{fees.get('price_of_equalization_pct', 0):.2f} %")]
    facts = html_table(pd.DataFrame(rows, columns=["", "value"]))
    plants = frame(fees.get("plants"))
    if not plants.empty:
        plants = pd.DataFrame({"site": plants["site"],
                               f"annual cost ({mu}/yr)": plants["annual_cost_per_yr"].map(md.money),
                               f"volume ({res.units.get('demand', '')})": plants["volume"].map(md.num),
                               f"break-even fee ({unit})": plants["break_even_fee"].map(lambda v: md.num(v, 5))})
    return facts, html_table(plants) if not plants.empty else None


def sharing_section(doc: dict, money_unit: str) -> dict[str, Any]:
    """Context for the sharing section from a ``sharing.json`` document."""
    alloc = pd.DataFrame(doc.get("allocations") or [])
    if alloc.empty:
        return {}
    key = alloc.columns[0]
    alloc = alloc.set_index(key)
    tables = doc.get("tables") or {}
    first = pd.DataFrame(next(iter(tables.values()))).set_index(key) if tables else pd.DataFrame()
    alone = first["stand_alone_cost_per_yr"] if "stand_alone_cost_per_yr" in first else pd.Series(dtype=float)
    view = pd.DataFrame({"player": alloc.index, f"alone ({money_unit}/yr)": alone.reindex(alloc.index).map(md.money)})
    for m in alloc.columns:
        view[f"{m} ({money_unit}/yr)"] = alloc[m].map(md.money).to_numpy()
        t = pd.DataFrame(tables.get(m) or [])
        if "saving_pct" in t:
            view[f"{m} saving"] = t.set_index(key)["saving_pct"].reindex(alloc.index).map(
                lambda v: f"{v:.1f} %").to_numpy()
    core = []
    for m, v in (doc.get("core_violations") or {}).items():
        core.append(f"{m}: in the core" if not v else
                    f"{m}: not in the core — {len(v)} coalition(s) would pay less alone, worst "
                    f"{v[0].get('coalition')} by {md.money(v[0].get('excess'))} {money_unit}/yr")
    eps = doc.get("least_core_epsilon")
    summary = (f"Players: {doc.get('players_by')} ({len(alloc)}); {doc.get('coalition_count')} coalitions; "
               f"cost of the grand coalition {md.money(doc.get('grand_coalition_cost_per_yr'))} {money_unit}/yr; "
               f"least-core ε {md.money(eps)} {money_unit}/yr.")
    chart = data_uri(png(sharing_chart(alloc, alone, money_unit))) if not alone.empty else None
    return {"sharing_table": html_table(view), "sharing_core": core, "sharing_summary": summary,
            "sharing_uri": chart}


def frontier_section(table: pd.DataFrame, res: "Result") -> dict[str, Any]:
    """Context for the fee-frontier section from a ``frontier.csv`` table."""
    if table is None or table.empty:
        return {}
    mu = res.units.get("money", "")
    unit = (res.extra.get("fees") or {}).get("fee_unit") or f"{mu} per {str(res.units.get('demand', '')).split('/')[0]}"
    view = pd.DataFrame({"point": table["point"], f"fee cap ({unit})": table["fee_cap"].map(lambda v: md.num(v, 5)),
                         f"fee ({unit})": table["fee"].map(lambda v: md.num(v, 5)),
                         f"total cost ({mu}/yr)": table["total_cost_per_yr"].map(md.money),
                         f"price of equalisation ({mu}/yr)": table["price_of_equalization_per_yr"].map(md.money),
                         "sites": table["sites"].fillna("")})
    return {"frontier_uri": data_uri(png(frontier_figure(table, unit, mu))), "frontier_table": html_table(view)}


def map_uri(res: "Result", title: str | None = None) -> str | None:
    return data_uri(png(plan_map(res, title))) if can_map(res) else None


def render_html(res: "Result", frontier: pd.DataFrame | None = None, sharing: dict | None = None) -> str:
    """The report page of ``res``; ``frontier`` (a ``frontier.csv`` table) and ``sharing`` (a
    ``sharing.json`` document) add their sections when given."""
    mu = res.units.get("money", "")
    ctx: dict[str, Any] = {"res": res, "title": f"{res.scenario}: siting report", "money": mu,
                           "summary": summary_line(res), "facts": md.solve_facts(res),
                           "notes": [f"{k}: {v}" for k, v in (res.extra.get("notes") or {}).items()],
                           "map_uri": map_uri(res)}
    if res.ok:
        breakdown = pd.DataFrame({"part": list(res.cost_breakdown()),
                                  f"{mu}/yr": [md.money(v) for v in res.cost_breakdown().values()]})
        ctx.update(cost_uri=data_uri(png(cost_breakdown_chart(res))), cost_table=html_table(breakdown),
                   sites_table=html_table(md.facilities_view(res), "sites-table"),
                   jurisdictions_table=html_table(md.jurisdictions_view(res), "jurisdictions-table"),
                   assignments_table=html_table(md.assignments_view(res), "assignments-table"),
                   n_assignments=len(res.assignments))
        if not res.open_sites.empty and res.open_sites["utilisation"].notna().any():
            ctx["util_uri"] = data_uri(png(utilisation_chart(res)))
        ctx["echelon_tables"] = echelon_tables(res)
        ctx["fees_table"], ctx["fee_plants_table"] = _fees_tables(res)
    if frontier is not None:
        ctx.update(frontier_section(frontier, res))
    if sharing:
        ctx.update(sharing_section(sharing, mu))
    return page("report.html.j2", **ctx)


def echelon_tables(res: "Result") -> list[tuple[str, Any]]:
    out = []
    for name, part in (res.extra.get("echelons") or {}).items():
        fac = frame(part.get("facilities"))
        if not fac.empty:
            out.append((f"Second echelon: {name} sites", html_table(md._sites_table(fac[fac["open"].astype(bool)], res))))
        out.append((f"Second echelon: {name} flows", html_table(md._flows_table(frame(part.get("flows")), res))))
    for name, part in (res.extra.get("streams") or {}).items():
        fac = frame(part.get("facilities"))
        if not fac.empty:
            out.append((f"Stream: {name} sites", html_table(md._sites_table(fac[fac["open"].astype(bool)], res))))
    return out


def read_extras(outdir: Path) -> tuple[pd.DataFrame | None, dict | None]:
    """A ``frontier.csv`` and a ``sharing.json`` found in ``outdir`` (or None)."""
    import json

    frontier = pd.read_csv(outdir / "frontier.csv") if (outdir / "frontier.csv").exists() else None
    sharing = json.loads((outdir / "sharing.json").read_text(encoding="utf-8")) \
        if (outdir / "sharing.json").exists() else None
    return frontier, sharing
