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

from qzopt.report import files, markdown as md
from qzopt.report.charts import cost_breakdown_chart, data_uri, frontier_figure, png, sharing_chart, utilisation_chart
from qzopt.report.fonts import CSS_STACK, css_font_face
from qzopt.report.files import check_addons
from qzopt.report.maps import can_map, frame, plan_map

if TYPE_CHECKING:
    from qzopt.result import Result


@lru_cache(maxsize=1)
def environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("qzopt.report", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                              lstrip_blocks=True)


NUMBER = re.compile(r"^[-+]?[\d,.]+(e[-+]?\d+)?( %)?$|^n/a$|^$|^[\d,.]+ / [\d,.]+$")


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


def _fees_tables(res: "Result") -> tuple[Any, Any]:
    facts, plants = md.fee_facts_view(res), md.fee_plants_view(res)
    if facts is None:
        return None, None
    return html_table(facts), html_table(plants) if plants is not None else None


def sharing_section(doc: dict, money_unit: str) -> dict[str, Any]:
    """Context for the sharing section from a ``sharing.json`` document (rows as in ``report.md``)."""
    view = md.sharing_view(doc, money_unit)
    summary, core, notes = md.sharing_text(doc, money_unit)
    if view is None:  # no allocation: the section says so, and why
        return {"sharing": True, "sharing_table": None, "sharing_core": [md.NO_ALLOCATION] + core + notes,
                "sharing_summary": summary, "sharing_uri": None}
    alloc, _, _ = md._sharing_frames(doc)
    alone, _ = md.stand_alone(doc)
    numbers = alloc.apply(lambda col: col.map(md._finite)).astype(float)
    chart = data_uri(png(sharing_chart(numbers, alone, money_unit))) \
        if numbers.notna().any().any() or alone.notna().any() else None
    return {"sharing": True, "sharing_table": html_table(view), "sharing_core": core + notes,
            "sharing_summary": summary, "sharing_uri": chart}


def frontier_section(table: pd.DataFrame, res: "Result") -> dict[str, Any]:
    """Context for the fee-frontier section from a ``frontier.csv`` table (rows as in ``report.md``)."""
    if table is None or table.empty:
        return {}
    unit = md.fee_unit(res)
    return {"frontier_uri": data_uri(png(frontier_figure(table, unit, res.units.get("money", "")))),
            "frontier_intro": md.frontier_intro(table, res),
            "frontier_table": html_table(md.frontier_view(table, res.units.get("money", ""), unit))}


def map_uri(res: "Result", title: str | None = None) -> str | None:
    return data_uri(png(plan_map(res, title))) if can_map(res) else None


def render_html(res: "Result", frontier: pd.DataFrame | None = None, sharing: dict | None = None) -> str:
    """The report page of ``res``; ``frontier`` (a ``frontier.csv`` table) and ``sharing`` (a
    ``sharing.json`` document) add their sections when given; an add-on of another scenario is refused."""
    check_addons(res, frontier, sharing)
    mu = res.units.get("money", "")
    ctx: dict[str, Any] = {"res": res, "title": f"{res.scenario}: siting report", "money": mu,
                           "summary": md.summary_line(res), "facts": md.solve_facts(res),
                           "notes": md.result_notes(res),
                           "map_uri": map_uri(res)}
    if res.ok:
        breakdown = pd.DataFrame({"part": list(res.cost_breakdown()),
                                  f"{mu}/yr": [md.money(v) for v in res.cost_breakdown().values()]})
        pipes = md.connections_view(res)
        ctx.update(cost_uri=data_uri(png(cost_breakdown_chart(res))), cost_table=html_table(breakdown),
                   sites_table=html_table(md.facilities_view(res), "sites-table"),
                   jurisdictions_table=html_table(md.jurisdictions_view(res), "jurisdictions-table"),
                   jurisdictions_note=md.jurisdictions_note(res), fee_scope_note=md.fee_scope_note(res),
                   demand_line=md.demand_line(res),
                   connections_table=None if pipes is None else html_table(pipes, "connections-table"),
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
            out.append((f"Second echelon: {name} sites", html_table(md._sites_table(
                fac[fac["open"].astype(bool)], res, md.echelon_unit_label(name, part, res)))))
        out.append((f"Second echelon: {name} flows", html_table(md._flows_table(
            frame(part.get("flows")), res, md.echelon_unit_label(name, part, res)))))
    for name, part in (res.extra.get("streams") or {}).items():
        fac = frame(part.get("facilities"))
        if not fac.empty:  # the same line as report.md: how much of the stream is served
            out.append((f"Stream: {name} sites", Markup(f"<p>{escape(md.stream_line(part, res))}</p>")
                        + html_table(md._sites_table(fac[fac["open"].astype(bool)], res))))
    return out


def read_extras(outdir: Path) -> tuple[pd.DataFrame | None, dict | None]:
    """A ``frontier.csv`` and a ``sharing.json`` found in ``outdir`` (or None), with the scenario
    they are of (see :mod:`qzopt.report.files`)."""
    return files.read_extras(outdir)
