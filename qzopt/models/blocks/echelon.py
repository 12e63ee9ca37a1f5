"""Second-echelon flows: what plants produce goes on to other facilities.

One mechanism serves every sector: sewage sludge to sludge-treatment sites, waste-to-energy fly
ash to hazardous-waste sites, compacted waste from transfer stations to plants, and goods from
cold-chain hubs to outlets.

An :class:`Echelon` links a *source* facility set (a :class:`Build`, whose ``load`` variables
say how much each site treats) to a *destination*: either a facility set of its own (sited by
the same model, with sizes, capacities and minimum loads) or the sites of another stream, whose
``load_balance`` rows the flows then feed.

Blocks (notation: source sites j, destination sites l, arcs a = (j, l), output ratio r):

- ``echelon_flows``: flow[a] >= 0 (output units per demand period), cost c_a per year;
- ``echelon_supply``: sum_{a from j} flow[a] - r * sum_{k of j} load[k] = 0 for every source j
  (mass balance: everything produced leaves);
- ``echelon_delivery``: sum_{k of l} load'[k] - sum_{a to l} flow[a] = 0 for every destination l
  (its load is what arrives), or, for a destination stream, the flows are added to its
  ``load_balance`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qzopt.models.blocks.siting import Build


@dataclass
class Echelon:
    """Flows from ``source`` sites to destination sites along allowed arcs.

    ``arc_src``/``arc_dst`` are site positions in the source / destination facility sets,
    ``arc_distance`` in the scenario's distance unit, ``arc_cost`` money per year per unit of
    flow (e.g. yuan/yr per t/d).  ``ratio`` converts source load into output (e.g. t of sludge
    per m3 of sewage).  ``dest`` is the destination facility set; ``into_stream`` says it is
    another stream whose ``load_balance`` the flows feed (no ``echelon_delivery`` block then).
    """

    name: str
    source: Build
    dest: Build
    ratio: float
    arc_src: np.ndarray
    arc_dst: np.ndarray
    arc_distance: np.ndarray
    arc_cost: np.ndarray
    unit: str
    into_stream: bool = False
    source_sites: np.ndarray | None = None  # positions of source sites that produce (default: all)
    dest_sites: pd.DataFrame | None = None  # the destination sites table (jurisdiction per site)

    @property
    def prefix(self) -> str:
        return f"{self.name}."

    def producing(self) -> np.ndarray:
        m = self.source.data.m
        return np.arange(m) if self.source_sites is None else np.asarray(self.source_sites, np.int64)


def echelon_flows(b: Build, e: Echelon) -> None:
    """flow[a] >= 0 for every allowed arc, cost c_a (money per year per unit of flow)."""
    labels = pd.MultiIndex.from_arrays([e.source.data.site_ids[e.arc_src], e.dest.data.site_ids[e.arc_dst]],
                                       names=["source", "destination"])
    b.model.add_variables(e.prefix + "flow", labels, cost=e.arc_cost)


def echelon_supply(b: Build, e: Echelon) -> None:
    """sum_{a from j} flow[a] - r * sum_{k of j} load[k] = 0 for every producing source site j."""
    f = b.model.var(e.prefix + "flow")
    z = e.source.var("load")
    src = e.source.data
    producing = e.producing()
    row_of_site = np.full(src.m, -1)
    row_of_site[producing] = np.arange(producing.size)
    ka = row_of_site[src.option_site]
    keep_k = ka >= 0
    aa = row_of_site[e.arc_src]
    if np.any(aa < 0):
        raise ValueError(f"echelon {e.name}: an arc leaves a site that produces nothing")
    rows = np.concatenate([aa, ka[keep_k]])
    cols = np.concatenate([f.cols, z.cols[keep_k]])
    vals = np.concatenate([np.ones(f.size), -e.ratio * np.ones(int(keep_k.sum()))])
    b.model.add_constraints(e.prefix + "supply", rows, cols, vals, sense="==", rhs=0.0,
                            labels=src.site_ids[producing])


def echelon_delivery(b: Build, e: Echelon) -> None:
    """Destination load = inflow: sum_{k of l} load'[k] - sum_{a to l} flow[a] = 0, or, for a
    destination stream, -flow terms added to its load_balance rows."""
    f = b.model.var(e.prefix + "flow")
    if e.into_stream:
        b.model.add_terms(e.dest.prefix + "load_balance", e.arc_dst, f.cols, -1.0)
        return
    dst = e.dest.data
    z = e.dest.var("load")
    rows = np.concatenate([dst.option_site, e.arc_dst])
    cols = np.concatenate([z.cols, f.cols])
    vals = np.concatenate([np.ones(dst.K), -np.ones(f.size)])
    e.dest.add_constraints("delivery", rows, cols, vals, sense="==", rhs=0.0, labels=dst.site_ids)


def echelon_tables(e: Echelon, x: np.ndarray, tol: float = 1e-7) -> pd.DataFrame:
    """Flows with distance and annual cost (money per year)."""
    f = e.source.model.values(e.prefix + "flow", x).to_numpy()
    used = f > tol
    return pd.DataFrame({
        "source": e.source.data.site_ids[e.arc_src[used]],
        "destination": e.dest.data.site_ids[e.arc_dst[used]],
        "amount": f[used],
        "distance": e.arc_distance[used],
        "transport_cost_per_yr": (f * e.arc_cost)[used],
    })

