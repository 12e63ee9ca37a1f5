"""Charts (matplotlib, Agg backend: no display needed), as figures or PNG bytes.

Money on the axes is in millions of the scenario's currency per year unless a label says
otherwise.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from qzopt.result import Result


def new_figure(size_in: tuple[float, float] = (6.4, 4.0), dpi: int = 110):
    """A figure and axes on an Agg canvas, with the CJK-capable font in the fallback list.

    Made without pyplot: nothing is added to pyplot's list of open figures, and the caller's
    backend is left as it is (a notebook still shows the figure inline; docs/reports.md)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from qzopt.report.fonts import use_in_matplotlib

    use_in_matplotlib()
    fig = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def png(fig: "Figure") -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def data_uri(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def cost_breakdown_chart(res: "Result") -> "Figure":
    """Annual cost by part (revenue below zero), in million money/yr."""
    parts = {k: v for k, v in res.cost_breakdown().items() if v is not None and abs(v) > 1e-9}
    fig, ax = new_figure((6.4, 0.5 + 0.45 * max(len(parts), 2)))
    names = list(parts)
    values = [parts[k] / 1e6 for k in names]
    ax.barh(names, values, color=["#2e7d32" if v < 0 else "#1f77b4" for v in values])
    for y, v in enumerate(values):
        ax.annotate(f"{v:,.1f}", (v, y), xytext=(3 if v >= 0 else -3, 0), textcoords="offset points",
                    va="center", ha="left" if v >= 0 else "right", fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(f"million {res.units.get('money', '')}/yr")
    ax.set_title("Cost breakdown", fontsize=10)
    ax.margins(x=0.15)
    fig.tight_layout()
    return fig


def utilisation_chart(res: "Result") -> "Figure":
    """Load as a share of capacity for every open site (100 % line)."""
    f = res.open_sites.sort_values("utilisation", ascending=False)
    f = f[pd.to_numeric(f["utilisation"], errors="coerce").notna()]
    fig, ax = new_figure((6.4, 0.6 + 0.28 * max(len(f), 3)))
    ax.barh(f["site"].astype(str), 100 * f["utilisation"].astype(float),
            color=["#444444" if e else "#1f77b4" for e in f["existing"].astype(bool)])
    ax.axvline(100, color="#c0392b", lw=1, ls="--")
    ax.invert_yaxis()
    ax.set_xlabel("utilisation (% of capacity, of the binding resource for hubs; dark = existing site)")
    ax.set_title("Utilisation of open sites", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def frontier_figure(table: pd.DataFrame, fee_unit: str, money: str) -> "Figure":
    """Total cost against the equalised fee cap, by rising cap, with the plan without fee rules as
    a dashed line.  The capped points are joined as steps: past a cap the cost is at most that
    cap's (a looser cap keeps every plan a tighter one allows), and where it drops between two
    caps is not known.  Caps with no plan are marked on the axis; with no capped plan at all the
    chart says so."""
    capped = table[table["point"] == "capped"].sort_values("fee_cap")
    solved = capped.dropna(subset=["total_cost_per_yr"])
    none = capped[capped["total_cost_per_yr"].isna()]
    free = table[table["point"] != "capped"]
    fig, ax = new_figure((6.4, 4.0), dpi=120)
    if len(solved):
        ax.plot(solved["fee_cap"], solved["total_cost_per_yr"] / 1e6, marker="o", drawstyle="steps-post",
                label="with the fee cap (at most this cost up to the next cap)")
    if len(free):
        ax.axhline(float(free["total_cost_per_yr"].iloc[0]) / 1e6, color="grey", linestyle="--",
                   label="no fee rule")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend above the points
    if len(none):
        ax.plot(none["fee_cap"], [ax.get_ylim()[0]] * len(none), linestyle="none", marker="x", color="#b2182b",
                markersize=9, clip_on=False, label="no plan at this cap")
    if not len(solved):
        ax.text(0.5, 0.5, "no capped point has a plan" if len(capped) else "no cap was solved (see the notes)",
                transform=ax.transAxes, ha="center", va="center",
                color="#555555")
    ax.set_xlabel(f"fee cap ({fee_unit})")
    ax.set_ylabel(f"total cost (million {money}/yr)")
    ax.set_title("Price of equalising the fee")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def frontier_chart(table: pd.DataFrame, fee_unit: str, money: str, path: str | Path) -> Path:
    """:func:`frontier_figure` written to ``path`` (PNG)."""
    Path(path).write_bytes(png(frontier_figure(table, fee_unit, money)))
    return Path(path)


def sharing_chart(allocations: pd.DataFrame, stand_alone: pd.Series, money: str) -> "Figure":
    """Allocated cost per player by method, beside what each would pay alone (million money/yr)."""
    import numpy as np

    players = list(allocations.index)
    methods = list(allocations.columns)
    fig, ax = new_figure((7.2, 4.2))
    width = 0.8 / (len(methods) + 1)
    x = np.arange(len(players))
    ax.bar(x, stand_alone.reindex(players).astype(float) / 1e6, width, color="#bbbbbb", label="alone")
    for k, m in enumerate(methods):
        ax.bar(x + (k + 1) * width, allocations[m].astype(float) / 1e6, width, label=m)
    ax.set_xticks(x + 0.4 - width / 2, [str(p) for p in players], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"million {money}/yr")
    ax.set_title("Who pays what: allocations against stand-alone cost", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
