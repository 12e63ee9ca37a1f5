"""The plan on a map: jurisdictions, demand points, candidate and chosen sites, assignment lines.

Drawn with matplotlib from the coordinates the result carries (``places``: lat/lon in degrees),
in a plate carrée projection with the aspect corrected for latitude; no tiles, nothing from the
network.  Marker areas grow with demand and capacity, line widths with the amount carried.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from qzopt.geo.places import has_coordinates

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from qzopt.result import Result


def frame(value) -> pd.DataFrame:
    """A table from the result (a DataFrame in memory, a list of records when read from JSON)."""
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value or [])


def can_map(res: "Result") -> bool:
    places = res.extra.get("places") or {}
    return has_coordinates(frame(places.get("sites"))) or has_coordinates(frame(places.get("demands")))


def _scale(values: pd.Series, smallest: float, largest: float) -> np.ndarray:
    v = np.sqrt(np.clip(values.astype(float).fillna(0).to_numpy(), 0, None))
    top = v.max() if len(v) and v.max() > 0 else 1.0
    return smallest + (largest - smallest) * v / top


def draw_plan(res: "Result", ax: "Axes", title: str | None = None, labels: bool = True) -> None:
    """Draw ``res`` on ``ax``."""
    import matplotlib

    places = res.extra.get("places") or {}
    juris, points, sites = (frame(places.get(k)) for k in ("jurisdictions", "demands", "sites"))
    fac = res.facilities
    open_ids = set(fac.loc[fac["open"].astype(bool), "site"]) if not fac.empty else set()
    colours = matplotlib.colormaps["tab20"]
    colour_of = {s: colours(k % 20) for k, s in enumerate(sorted(open_ids))}
    at = {}
    for f in (points, sites):
        if has_coordinates(f):
            at.update({r.id: (r.lon, r.lat) for r in f.itertuples() if pd.notna(r.lat) and pd.notna(r.lon)})
    lat0 = np.nanmean([p[1] for p in at.values()]) if at else 0.0
    ax.set_aspect(1.0 / max(math.cos(math.radians(lat0)), 0.1))

    # assignment lines (under everything else)
    a = res.assignments
    if not a.empty:
        width = _scale(a["amount"], 0.4, 3.5)
        for (r, w) in zip(a.itertuples(), width):
            if r.demand in at and r.site in at:
                (x0, y0), (x1, y1) = at[r.demand], at[r.site]
                ax.plot([x0, x1], [y0, y1], color=colour_of.get(r.site, "grey"), lw=w, alpha=0.55, zorder=1,
                        solid_capstyle="round")
    # second-echelon flows (dashed) and their destination sites
    eplaces = frame(places.get("echelon_sites"))
    eat = {r.id: (r.lon, r.lat) for r in eplaces.itertuples()} if has_coordinates(eplaces) else {}
    eopen = []
    for name, part in (res.extra.get("echelons") or {}).items():
        flows = frame(part.get("flows"))
        for r in flows.itertuples():
            src, dst = at.get(r.source), eat.get(r.destination, at.get(r.destination))
            if src and dst:
                ax.plot([src[0], dst[0]], [src[1], dst[1]], color="#7f4f24", lw=1.0, ls="--", alpha=0.7, zorder=2)
        f = frame(part.get("facilities"))
        if not f.empty:
            eopen += [s for s in f.loc[f["open"].astype(bool), "site"] if s in eat]
    # demand points
    if has_coordinates(points):
        amount = res.demands.set_index("id")["amount"].reindex(points["id"]) if not res.demands.empty else None
        size = _scale(amount if amount is not None else pd.Series(1.0, index=points.index), 8, 120)
        ax.scatter(points["lon"], points["lat"], s=size, c="#4d4d4d", alpha=0.6, zorder=3, label="demand point",
                   edgecolors="none")
    # candidate sites, excluded sites, open sites
    if has_coordinates(sites):
        excluded = sites["excluded"].astype(bool) if "excluded" in sites else pd.Series(False, index=sites.index)
        closed = sites[~sites["id"].isin(open_ids) & ~excluded]
        ax.scatter(closed["lon"], closed["lat"], s=40, marker="^", facecolors="none", edgecolors="#555555",
                   lw=0.9, zorder=4, label="candidate site (not chosen)")
        if excluded.any():
            ax.scatter(sites.loc[excluded, "lon"], sites.loc[excluded, "lat"], s=40, marker="x", c="#c0392b",
                       zorder=4, label="excluded site")
        chosen = sites[sites["id"].isin(open_ids)]
        if not chosen.empty:
            f = fac.set_index("site").reindex(chosen["id"])
            size = _scale(f["capacity"].replace(np.inf, np.nan).fillna(f["load"]), 60, 420)
            existing = f["existing"].astype(bool).to_numpy()
            ax.scatter(chosen["lon"], chosen["lat"], s=size, marker="s", c=[colour_of[s] for s in chosen["id"]],
                       edgecolors=np.where(existing, "black", "white"), linewidths=np.where(existing, 2.0, 1.0),
                       zorder=5, label="chosen site (black edge: existing)")
            if labels:
                for r in chosen.itertuples():
                    ax.annotate(str(r.id), (r.lon, r.lat), xytext=(5, 5), textcoords="offset points", fontsize=7,
                                zorder=7, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                                "alpha": 0.7})
    if eopen:
        e = eplaces.drop_duplicates("id").set_index("id").loc[sorted(set(eopen))]
        ax.scatter(e["lon"], e["lat"], s=110, marker="D", c="#7f4f24", edgecolors="white", zorder=6,
                   label="second-echelon site")
    # jurisdiction names (Chinese and English both render: see qzopt.report.fonts)
    if labels and has_coordinates(juris):
        for r in juris.itertuples():
            if pd.notna(r.lat) and pd.notna(r.lon):
                ax.annotate(str(r.name), (r.lon, r.lat), xytext=(0, -9), textcoords="offset points", ha="center",
                            fontsize=6.5, color="#1f3b73", zorder=6)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.grid(alpha=0.25)
    ax.set_title(title or f"{res.scenario}: plan", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, fontsize=7,
                  frameon=False, markerscale=0.7)


def plan_map(res: "Result", title: str | None = None, size_in: tuple[float, float] = (8.0, 7.0)) -> "Figure":
    """A figure with the plan of ``res`` (see :func:`draw_plan`)."""
    from qzopt.report.charts import new_figure

    fig, ax = new_figure(size_in)
    draw_plan(res, ax, title)
    fig.tight_layout()
    return fig
