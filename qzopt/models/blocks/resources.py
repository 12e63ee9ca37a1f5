"""A second capacity dimension of a facility (peak throughput, cold-store tonnage, …).

resource_capacity: sum_i a_i d_i assign[i,j] - sum_{k of j} C_k size[k] <= 0 for every site j,
where a_i converts a point's average demand into the resource it uses (e.g. a peak-season
factor, or the days a tonne stays in store) and C_k is the option's amount of the resource.
"""

from __future__ import annotations

import numpy as np

from qzopt.models.blocks.siting import Build


def resource_capacity(b: Build, name: str, per_demand: np.ndarray, per_option: np.ndarray,
                      limit: np.ndarray | None = None) -> None:
    """One row per site: resource use of the assigned demand <= resource of the chosen size.
    ``limit``: the amount per option as reported, where ``per_option`` replaces an unlimited one
    (inf) by a finite bound the row needs (default: ``per_option``)."""
    d = b.data
    b.resources[name] = (np.asarray(per_demand, float), np.asarray(per_option, float))
    b.resource_limits[name] = np.asarray(per_option if limit is None else limit, float)
    x, y = b.var("assign"), b.var("size")
    coef = np.asarray(per_demand, float)[d.pairs.i] * d.amount[d.pairs.i]
    rows = np.r_[d.pairs.j, d.option_site]
    cols = np.r_[x.cols, y.cols]
    vals = np.r_[coef, -np.asarray(per_option, float)]
    b.add_constraints(name, rows, cols, vals, sense="<=", rhs=0.0, labels=d.site_ids)
