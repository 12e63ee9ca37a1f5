"""Equalised fees as constraint blocks (the formulation is written out in docs/fees.md).

A fee is money per demand unit.  Plant j recovers its annual cost
    C_j = sum_{k of j} F_k size[k] + sum_{k of j} (v_k - r_k - s) load[k]
(capital + fixed + variable operating cost, minus revenue r and subsidy s per unit, money per
year; s only at plants: a transfer station treats nothing and gets no subsidy) from the fees on
the volume it treats.  Revenue = per_year x sum_i d_i fee_i assign[i,j]
is bilinear when the fee is a variable; the blocks here keep everything linear and exact:

- ``fee_revenue``: with binary assignments, w[p] = fee_{i(p)} * assign[p] is linearised exactly
  (McCormick: w <= M assign, w <= fee, w >= fee - M (1 - assign), w >= 0, M = fee cap);
- ``cost_recovery``: per plant, C_j - per_year sum_p d_i w[p] <= 0; or, for a *fixed* fee F,
  C_j - per_year F sum_k load[k] <= 0 (linear: the parametric method of qzopt.fees);
- ``pooled_recovery``: all plants (and what they send on) together; with every demand served the
  volume is a constant, so the pooled row is linear in the fees;
- ``fee_band``: fee_g - (1 + band) mean <= 0 and (1 - band) mean - fee_g <= 0;
- ``fee_objective``: minimise the (mean) fee instead of the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qzopt.models.blocks.siting import Build
from qzopt.scenario.scenario import FeeRules


@dataclass
class FeeSetup:
    """Which sites recover costs, which fee each demand point pays, and the fee variables."""

    rules: FeeRules
    plants: np.ndarray  # positions of the main stream's sites that must recover their cost
    groups: pd.Index  # fee payers (jurisdictions) when banded; ["region"] when uniform
    payer_of_demand: np.ndarray  # position in groups for each demand point
    per_year: float
    extra_cost_cols: list[np.ndarray] = field(default_factory=list)  # pooled: other cost columns
    extra_cost_vals: list[np.ndarray] = field(default_factory=list)

    def with_extra_costs(self, cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``cols`` and ``vals`` (yuan/yr per unit of each column) followed by the other cost columns
        a pooled rule recovers (transfer arcs, downstream plants)."""
        return np.concatenate([cols, *self.extra_cost_cols]), np.concatenate([vals, *self.extra_cost_vals])


def plant_cost_terms(b: Build, setup: FeeSetup, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, coefficient) of C_j for the given site positions (rows numbered 0..len-1)."""
    d = b.data
    row_of = np.full(d.m, -1)
    row_of[sites] = np.arange(sites.size)
    k = np.flatnonzero(row_of[d.option_site] >= 0)
    rows = row_of[d.option_site[k]]
    y, z = b.var("size"), b.var("load")
    # the subsidy is paid per unit *treated*: at plants only.  A transfer station's load is loaded
    # again at the plant it sends to (echelon into the main stream), so subsidising it too would
    # pay the subsidy twice for the same waste (pooled recovery covers every main site)
    treats = np.zeros(d.m, bool)
    treats[setup.plants] = True
    unit = d.load_cost[k] - setup.rules.subsidy_per_unit * setup.per_year * treats[d.option_site[k]]
    return (np.r_[rows, rows], np.r_[y.col(k), z.col(k)], np.r_[d.fixed[k], unit])


def fee_cap(rules: FeeRules) -> float:
    """Largest fee any payer can be charged: the cap, or cap x (1 + band) when banded (the cap
    bounds the regional mean)."""
    return rules.max_fee * (1 + rules.band) if rules.mode == "banded" else rules.max_fee


def fee_variables(b: Build, setup: FeeSetup) -> None:
    """fee[g] in [0, cap (1 + band)] per payer group; mean_fee in [0, cap] (= fee when uniform)."""
    b.add_variables("fee", setup.groups, upper=fee_cap(setup.rules))
    f = b.var("fee")
    b.add_variables("mean_fee", ["region"], upper=setup.rules.max_fee)
    mean = b.var("mean_fee")
    g = len(setup.groups)
    b.add_constraints("mean_fee_definition", np.zeros(g + 1), np.r_[f.cols, mean.cols],
                      np.r_[np.full(g, 1.0 / g), -1.0], sense="==", rhs=0.0, labels=["region"])


def fee_band(b: Build, setup: FeeSetup) -> None:
    """Every payer's fee within +-band of the regional mean."""
    f, mean = b.var("fee"), b.var("mean_fee")
    g = len(setup.groups)
    r = np.arange(g)
    band = setup.rules.band
    b.add_constraints("fee_band_upper", np.r_[r, r], np.r_[f.cols, np.repeat(mean.cols, g)],
                      np.r_[np.ones(g), np.full(g, -(1 + band))], sense="<=", rhs=0.0, labels=setup.groups)
    b.add_constraints("fee_band_lower", np.r_[r, r], np.r_[f.cols, np.repeat(mean.cols, g)],
                      np.r_[-np.ones(g), np.full(g, 1 - band)], sense="<=", rhs=0.0, labels=setup.groups)


def fee_revenue(b: Build, setup: FeeSetup) -> None:
    """w[p] = fee of i's payer x assign[p] for pairs into recovering plants (exact for binary assign)."""
    d = b.data
    x, f = b.var("assign"), b.var("fee")
    is_plant = np.zeros(d.m, bool)
    is_plant[setup.plants] = True
    p = np.flatnonzero(is_plant[d.pairs.j])
    M = fee_cap(setup.rules)
    w = b.add_variables("fee_revenue", x.labels[p], upper=M)
    fc = f.col(setup.payer_of_demand[d.pairs.i[p]])
    n = p.size
    r = np.arange(n)
    b.add_constraints("fee_revenue_le_assign", np.r_[r, r], np.r_[w.cols, x.col(p)], np.r_[np.ones(n), -M * np.ones(n)],
                      sense="<=", rhs=0.0, labels=w.labels)
    b.add_constraints("fee_revenue_le_fee", np.r_[r, r], np.r_[w.cols, fc], np.r_[np.ones(n), -np.ones(n)],
                      sense="<=", rhs=0.0, labels=w.labels)
    # w >= fee - M (1 - assign)  <=>  w - fee - M assign >= -M
    b.add_constraints("fee_revenue_ge", np.r_[r, r, r], np.r_[w.cols, fc, x.col(p)],
                      np.r_[np.ones(n), -np.ones(n), -M * np.ones(n)], sense=">=", rhs=-M, labels=w.labels)
    b.notes["fee_pairs"] = str(n)


def cost_recovery(b: Build, setup: FeeSetup, fixed_fee: float | None = None) -> None:
    """Per plant: C_j - per_year x revenue_j <= 0 (fee variable via w, or a fixed fee F)."""
    d = b.data
    plants = setup.plants
    rows, cols, vals = plant_cost_terms(b, setup, plants)
    if fixed_fee is None:
        w = b.var("fee_revenue")
        is_plant = np.full(d.m, -1)
        is_plant[plants] = np.arange(plants.size)
        p = np.flatnonzero(is_plant[d.pairs.j] >= 0)
        rows = np.r_[rows, is_plant[d.pairs.j[p]]]
        cols = np.r_[cols, w.cols]
        vals = np.r_[vals, -setup.per_year * d.amount[d.pairs.i[p]]]
    else:
        z = b.var("load")
        row_of = np.full(d.m, -1)
        row_of[plants] = np.arange(plants.size)
        k = np.flatnonzero(row_of[d.option_site] >= 0)
        rows = np.r_[rows, row_of[d.option_site[k]]]
        cols = np.r_[cols, z.col(k)]
        vals = np.r_[vals, np.full(k.size, -setup.per_year * fixed_fee)]
    b.add_constraints("cost_recovery", rows, cols, vals, sense="<=", rhs=0.0, labels=d.site_ids[plants])


def pooled_recovery(b: Build, setup: FeeSetup, fixed_fee: float | None = None) -> None:
    """All recovering costs together: sum_j C_j + other costs - per_year x fees on all served
    volume <= 0.  Linear when every demand is served (volumes are constants) or the fee is fixed."""
    d = b.data
    allsites = np.arange(d.m)
    _, cols, vals = plant_cost_terms(b, setup, allsites)
    cols, vals = setup.with_extra_costs(cols, vals)
    rows = np.zeros(cols.size, np.int64)
    partial = b.has("unserved")
    if fixed_fee is None:
        if partial:
            raise ValueError("pooled recovery with a variable fee needs every demand served (or a fixed fee)")
        f = b.var("fee")
        vol = np.bincount(setup.payer_of_demand, weights=d.amount, minlength=len(setup.groups))
        cols = np.r_[cols, f.cols]
        vals = np.r_[vals, -setup.per_year * vol]
        rows = np.zeros(cols.size, np.int64)
        b.add_constraints("pooled_recovery", rows, cols, vals, sense="<=", rhs=0.0, labels=["region"])
        return
    rhs = setup.per_year * fixed_fee * d.amount.sum()
    if partial:
        u = b.var("unserved")
        cols = np.r_[cols, u.cols]
        vals = np.r_[vals, setup.per_year * fixed_fee * d.amount]
        rows = np.zeros(cols.size, np.int64)
    b.add_constraints("pooled_recovery", rows, cols, vals, sense="<=", rhs=rhs, labels=["region"])


def fee_objective(b: Build) -> None:
    """Minimise the regional (mean) fee instead of the total cost."""
    b.model.clear_objective()
    b.model.add_cost(b.var("mean_fee").cols, 1.0)
