"""The generic capacitated facility-location model: an ordered list of blocks.

``build(scenario)`` turns a scenario into a :class:`BuiltModel` (solver-neutral arrays plus
the data needed to read a solution back as tables).  Sector models reuse these blocks and
add their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from qzopt.geo.pairs import Pairs
from qzopt.models.blocks import siting as blk
from qzopt.models.blocks.siting import Build
from qzopt.models.core import LinearModel
from qzopt.models.data import FacilityData, facility_data
from qzopt.scenario.scenario import Scenario

Block = Callable[[Build], None]


def blocks_for(sc: Scenario) -> list[Block]:
    """The blocks of the generic model, in order, as switched by the scenario's policy."""
    p = sc.policy
    blocks: list[Block] = [blk.siting_variables, blk.one_size, blk.demand_satisfaction, blk.load_balance,
                           blk.capacity, blk.min_load]
    if p.strong_linking:
        blocks.append(blk.strong_linking)
    blocks += [blk.facility_count, blk.budget, blk.existing_sites, blk.excluded_sites]
    return blocks


@dataclass
class BuiltModel:
    """A model ready for a solver, and what is needed to read its solution."""

    scenario: Scenario
    data: FacilityData
    model: LinearModel
    blocks: list[str]
    build_seconds: float
    notes: dict[str, str] = field(default_factory=dict)

    def tables(self, x: np.ndarray, tol: float = 1e-7) -> dict[str, pd.DataFrame]:
        """Solution as tables: ``facilities``, ``assignments``, ``demands`` (units in column names
        are given by the scenario; money per year)."""
        return solution_tables(self, x, tol)


def build(sc: Scenario, pairs: Pairs | None = None, blocks: list[Block] | None = None) -> BuiltModel:
    """Build the generic siting model for ``sc`` (only allowed pairs get variables)."""
    t0 = time.perf_counter()
    data = facility_data(sc, pairs)
    b = Build(LinearModel(sc.name), data)
    chosen = blocks if blocks is not None else blocks_for(sc)
    for block in chosen:
        block(b)
    b.model.to_matrix()
    return BuiltModel(sc, data, b.model, [f.__name__ for f in chosen], time.perf_counter() - t0, b.notes)


def solution_tables(bm: BuiltModel, x: np.ndarray, tol: float = 1e-7) -> dict[str, pd.DataFrame]:
    d, m, sc = bm.data, bm.model, bm.scenario
    y = m.values("size", x).to_numpy()
    z = m.values("load", x).to_numpy()
    a = m.values("assign", x).to_numpy()
    pairs = d.pairs
    if d.policy.single_sourcing:
        a = _one_site_each(pairs.i, a, d.n)

    chosen = y > 0.5
    site_open = np.zeros(d.m, bool)
    site_open[d.option_site[chosen]] = True
    size_name = np.full(d.m, "", dtype=object)
    size_name[d.option_site[chosen]] = d.option_labels.get_level_values("size")[chosen]
    cap = np.zeros(d.m)
    cap[d.option_site[chosen]] = d.capacity[chosen]
    fixed = np.bincount(d.option_site, weights=d.fixed * chosen, minlength=d.m)
    capex = np.bincount(d.option_site, weights=d.capex * chosen, minlength=d.m)
    variable = np.bincount(d.option_site, weights=d.unit * z, minlength=d.m)
    load = np.bincount(pairs.j, weights=d.amount[pairs.i] * a, minlength=d.m)
    transport = np.bincount(pairs.j, weights=pairs.cost * a, minlength=d.m)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(site_open & (cap > 0) & np.isfinite(cap), load / cap, np.nan)
    facilities = pd.DataFrame({
        "site": d.site_ids,
        "jurisdiction": sc.sites["jurisdiction"].to_numpy(),
        "open": site_open,
        "existing": d.site_existing,
        "size": size_name,
        "capacity": np.where(site_open, cap, 0.0),
        "load": np.where(np.abs(load) < tol, 0.0, load),
        "utilisation": util,
        "capex": capex,
        "fixed_cost_per_yr": fixed,
        "variable_cost_per_yr": variable,
        "transport_cost_per_yr": transport,
    })
    facilities["total_cost_per_yr"] = facilities[["fixed_cost_per_yr", "variable_cost_per_yr",
                                                  "transport_cost_per_yr"]].sum(axis=1)

    used = a > tol
    assignments = pd.DataFrame({
        "demand": d.demand_ids[pairs.i[used]],
        "site": d.site_ids[pairs.j[used]],
        "share": a[used],
        "amount": d.amount[pairs.i[used]] * a[used],
        "distance": pairs.distance[used],
        "transport_cost_per_yr": pairs.cost[used] * a[used],
    })
    served_share = np.bincount(pairs.i, weights=a, minlength=d.n)
    served = np.minimum(d.amount * served_share, d.amount)
    demands = pd.DataFrame({
        "id": d.demand_ids,
        "jurisdiction": sc.demands["jurisdiction"].to_numpy(),
        "amount": d.amount,
        "served": np.where(np.abs(served - d.amount) < tol * np.maximum(1, d.amount), d.amount, served),
    })
    demands["unserved"] = (demands["amount"] - demands["served"]).clip(lower=0.0)
    return {"facilities": facilities, "assignments": assignments, "demands": demands}


def _one_site_each(i: np.ndarray, a: np.ndarray, n: int) -> np.ndarray:
    """Give each demand point's whole served share to its largest assignment.

    Used under single sourcing: binary assignments are unchanged (up to solver tolerance);
    where single sourcing was implied, a split can only be between sites of equal cost, so
    the cost is unchanged too.
    """
    out = np.zeros_like(a)
    if a.size == 0:
        return out
    total = np.bincount(i, weights=a, minlength=n)
    order = np.lexsort((-a, i))  # by demand, largest share first
    first = np.ones(order.size, bool)
    first[1:] = i[order][1:] != i[order][:-1]
    best = order[first]
    out[best] = total[i[best]]
    return out
