"""The radius formulation of uncapacitated siting (p-median, uncapacitated facility location).

When no capacity, minimum load or split rule can bind, a demand point is simply served by its
cheapest open site, and the assignment variables (one per allowed pair) can be replaced by far
fewer *radius* variables (Cornuéjols, Nemhauser & Wolsey 1980; in the sparse form of Elloumi,
"A tighter formulation of the p-median problem", J. Comb. Optim. 19 (2010) 69-83).

For each demand point i, let D_i^1 < D_i^2 < … < D_i^{K_i} be the distinct costs (money/yr) of
its allowed pairs, and L_ik the sites at cost D_i^k.  With z_ik = 1 when i's cheapest open site
costs more than D_i^k (z_i0 = 1, z_iT_i = 0):

    min  sum_j F_j open[j] + sum_i ( D_i^1 + sum_{k<T_i} (D_i^{k+1} - D_i^k) z_ik )
    s.t. radius[i,k]:  z_ik - z_i,k-1 + sum_{j in L_ik} open[j] >= 0        k = 1 … T_i
         (the site-only blocks: facility count, budget, existing and excluded sites)

Its LP relaxation equals the classic strong formulation's, with one nonzero per pair instead
of three and no pair variables.  Reduction (Elloumi): when at least p sites must open among the
m_a openable ones, a level k with |{j: c_ij <= D_i^k}| >= m_a - p + 1 always holds an open site,
so T_i is the first such level and every pair above it is dropped.

The solver sees this model; :func:`lift` turns its solution into one of the generic model
(each point to its cheapest open site), so results read exactly as for the generic path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qzopt.models.blocks import siting as blk
from qzopt.models.blocks.siting import Build
from qzopt.models.core import LinearModel
from qzopt.models.data import FacilityData
from qzopt.models.lagrange import presolve_pmedian
from qzopt.scenario.scenario import Scenario


def applies(sc: Scenario, data: FacilityData) -> bool:
    """True when the radius formulation is exact for ``sc``: the generic facility sector, one
    size per site, no capacity or minimum load that can bind, every demand served, no fee rules."""
    p = sc.policy
    one_size = data.K == data.m and np.array_equal(np.sort(data.option_site), np.arange(data.m))
    return (sc.sector == "facility" and one_size and data.uncapacitated and not p.partial_service
            and (sc.fees is None or not sc.fees.active) and data.revenue is None and data.P > 0)


@dataclass(frozen=True)
class Levels:
    """Distinct cost levels of every demand point, after the p reduction.

    ``pair`` lists the kept pairs (positions in ``data.pairs``), sorted by point then cost;
    ``pair_row`` the radius row of each; rows are numbered point by point, level by level:
    ``row_point`` and ``row_cost`` (D_i^k, money/yr) per row, ``row_last`` marks level T_i.
    """

    pair: np.ndarray
    pair_row: np.ndarray
    row_point: np.ndarray
    row_cost: np.ndarray
    row_last: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.row_point.size)


def pair_costs(data: FacilityData) -> np.ndarray:
    """Money per year of serving point i from site j: transport plus the site's cost per unit
    of load (the variable cost carried by load[k] in the generic model)."""
    site_unit = np.zeros(data.m)
    site_unit[data.option_site] = data.load_cost
    return data.pairs.cost + data.amount[data.pairs.i] * site_unit[data.pairs.j]


def levels(data: FacilityData, cost: np.ndarray, at_least: int | None) -> Levels:
    """Cost levels per point (vectorised; see the module docstring for the reduction)."""
    i = data.pairs.i
    order = np.lexsort((cost, i))
    i_s, c_s = i[order], cost[order]
    new_point = np.r_[True, i_s[1:] != i_s[:-1]]
    new_level = new_point | np.r_[True, c_s[1:] != c_s[:-1]]
    level_id = np.cumsum(new_level) - 1  # global level number of each sorted pair
    first_pos = np.flatnonzero(new_point)
    pos_in_point = np.arange(i_s.size) - np.repeat(first_pos, np.diff(np.r_[first_pos, i_s.size]))
    if at_least:
        openable = int((~data.site_excluded).sum())
        need = openable - int(at_least) + 1  # this many cheapest sites always hold an open one
        # level of each pair is "full" when the count of pairs up to the end of its level >= need
        last_of_level = np.r_[new_level[1:], True]
        full_pair = last_of_level & (pos_in_point + 1 >= need)
        full_level = np.zeros(level_id[-1] + 1, bool)
        full_level[level_id[full_pair]] = True
        # first full level of each point: keep levels up to it
        point_of_level = i_s[new_level]
        first_full = np.full(data.n, np.iinfo(np.int64).max)
        np.minimum.at(first_full, point_of_level[full_level], np.flatnonzero(full_level))
        keep_level = np.arange(level_id[-1] + 1) <= first_full[point_of_level]
    else:
        keep_level = np.ones(level_id[-1] + 1, bool)
        point_of_level = i_s[new_level]
    kept_levels = np.flatnonzero(keep_level)
    row_of_level = np.full(keep_level.size, -1)
    row_of_level[kept_levels] = np.arange(kept_levels.size)
    keep_pair = keep_level[level_id]
    row_point = point_of_level[kept_levels]
    row_last = np.r_[row_point[1:] != row_point[:-1], True]
    return Levels(pair=order[keep_pair], pair_row=row_of_level[level_id[keep_pair]], row_point=row_point,
                  row_cost=c_s[new_level][kept_levels], row_last=row_last)


def radius_variables(b: Build, lv: Levels) -> None:
    """``open[j]`` binary (cost F_j) and ``radius[i,k]`` in [0, 1] for every kept level but the
    last of each point (cost D_i^{k+1} - D_i^k); the offset carries sum_i D_i^1."""
    d = b.data
    b.add_variables("open", d.site_ids, kind="binary", cost=d.fixed[np.argsort(d.option_site)])
    z_rows = np.flatnonzero(~lv.row_last)
    step = lv.row_cost[z_rows + 1] - lv.row_cost[z_rows]
    b.add_variables("radius", np.arange(z_rows.size), upper=1.0, cost=step)
    first = np.r_[True, lv.row_point[1:] != lv.row_point[:-1]]
    b.model.offset += float(lv.row_cost[first].sum())


def radius(b: Build, lv: Levels) -> None:
    """z_ik - z_i,k-1 + sum_{j in L_ik} open[j] >= 0 (z_i0 = 1, z_iT_i = 0): the cheapest open
    site of i costs D_i^k or less unless z_ik says otherwise."""
    d = b.data
    o, z = b.var("open"), b.var("radius")
    z_rows = np.flatnonzero(~lv.row_last)  # row r of a z variable: its own (+1) and r+1 (-1)
    zc = z.cols
    first = np.r_[True, lv.row_point[1:] != lv.row_point[:-1]]
    rows = np.concatenate([lv.pair_row, z_rows, z_rows + 1])
    cols = np.concatenate([o.col(d.pairs.j[lv.pair]), zc, zc])
    vals = np.concatenate([np.ones(lv.pair.size), np.ones(zc.size), -np.ones(zc.size)])
    b.add_constraints("radius", rows, cols, vals, sense=">=", rhs=first.astype(float), size=lv.rows)


def build_radius(data: FacilityData, sc: Scenario, presolve_seconds: float = 90.0,
                 ) -> tuple[LinearModel, Levels, dict[str, str], float, float | None]:
    """The radius model of an uncapacitated scenario: variables ``open`` and ``radius``, rows
    ``radius`` plus the site-only blocks of the generic model (on ``open``).

    With exactly p sites (and no budget) the Lagrangian presolve of :mod:`qzopt.models.lagrange`
    first fixes sites (its branch and bound may take until ``presolve_seconds`` after its start),
    drops the pairs of closed ones, and gives its plan as a MIP start.  Returns the model, its
    levels, notes for the result, the presolve's seconds and its lower bound (money/yr, or None)."""
    pol = sc.policy
    generic_size = data.P + 3 * data.m
    at_least = max(v for v in (pol.facilities_exactly, pol.facilities_at_least, 0) if v is not None)
    notes: dict[str, str] = {}
    cost = pair_costs(data)
    pre = None
    if pol.facilities_exactly is not None and pol.budget is None:
        pre = presolve_pmedian(data.n, data.m, data.pairs.i, data.pairs.j, cost,
                               data.fixed[np.argsort(data.option_site)], int(pol.facilities_exactly),
                               data.site_required | data.site_existing, data.site_excluded,
                               seconds=presolve_seconds)
    if pre is not None:
        data, cost = _fix_sites(data, cost, pre)
        notes["lagrangian_presolve"] = (f"heuristic plan {pre.upper:,.6g}, Lagrangian bound {pre.lower:,.6g}; "
                                        f"{int(pre.closed.sum())} sites fixed closed, {int(pre.opened.sum())} open "
                                        f"({pre.seconds:.2f} s)")
        if pre.tree is not None:
            t = pre.tree
            notes["branch_and_bound"] = (f"Lagrangian branch and bound: {t.nodes:,} nodes in {t.seconds:.1f} s; "
                                         + ("plan proved optimal" if t.proved else
                                            f"stopped at its time budget with bound {t.lower:,.6g}"))
    lv = levels(data, cost, at_least or None)
    model = LinearModel(sc.name + " (radius)")
    b = Build(model, data)
    radius_variables(b, lv)
    radius(b, lv)
    blk.facility_count(b)
    _site_rules(b)
    if pre is not None:
        _start(b, lv, cost, pre.plan)
    notes["formulation"] = (f"radius formulation (no capacity can bind): {model.num_cols:,} variables instead of "
                            f"{generic_size:,}")
    presolve_s = pre.seconds if pre is not None else 0.0
    return model, lv, notes, presolve_s, (pre.lower if pre is not None else None)


def _fix_sites(data: FacilityData, cost: np.ndarray, pre) -> tuple[FacilityData, np.ndarray]:
    """The data with presolve-closed sites excluded (their pairs dropped) and opened ones required."""
    import dataclasses

    from qzopt.geo.pairs import Pairs

    keep = ~pre.closed[data.pairs.j]
    p = data.pairs
    pairs = Pairs(p.i[keep], p.j[keep], p.distance[keep], p.cost[keep])
    return dataclasses.replace(data, pairs=pairs, site_excluded=data.site_excluded | pre.closed,
                               site_required=data.site_required | pre.opened), cost[keep]


def _start(b: Build, lv: Levels, cost: np.ndarray, plan: np.ndarray) -> None:
    """MIP start from a plan: ``open`` = plan, z_ik = 1 where i's cheapest open site costs more than D_i^k."""
    d = b.data
    pairs = d.pairs
    c1 = np.full(d.n, np.inf)
    on = plan[pairs.j]
    np.minimum.at(c1, pairs.i[on], cost[on])
    z_rows = np.flatnonzero(~lv.row_last)
    z = (c1[lv.row_point[z_rows]] > lv.row_cost[z_rows] + 1e-9).astype(float)
    b.model.set_start(b.var("open"), np.arange(d.m), plan.astype(float))
    b.model.set_start(b.var("radius"), np.arange(z_rows.size), z)


def _site_rules(b: Build) -> None:
    """Budget, existing, required and excluded sites, written on ``open`` (one size per site)."""
    d, m = b.data, b.model
    o = b.var("open")
    site_of = np.argsort(d.option_site)  # option of each site
    if d.policy.budget is not None:
        new = ~d.site_existing
        j = np.flatnonzero(new)
        b.add_constraints("budget", np.zeros(j.size), o.col(j), d.capex[site_of][j], sense="<=",
                          rhs=float(d.policy.budget), labels=["capex"])
    m.set_bounds(o, np.flatnonzero(d.site_required | d.site_existing), lower=1.0)
    m.set_bounds(o, np.flatnonzero(d.site_excluded), lower=0.0, upper=0.0)


def lift(data: FacilityData, model: LinearModel, generic: LinearModel, x: np.ndarray) -> np.ndarray:
    """A solution of the radius model as one of the generic model: sizes and ``open`` from
    ``open``, every point assigned whole to its cheapest open allowed site, loads summed."""
    opened = model.values("open", x).to_numpy() > 0.5
    out = np.zeros(generic.num_cols)
    cost = pair_costs(data)
    pairs = data.pairs
    ok = opened[pairs.j]
    best = np.full(data.n, -1)
    cand = np.flatnonzero(ok)
    order = cand[np.lexsort((cost[cand], pairs.i[cand]))]
    first = np.r_[True, pairs.i[order][1:] != pairs.i[order][:-1]]
    best[pairs.i[order[first]]] = order[first]
    a = np.zeros(data.P)
    a[best[best >= 0]] = 1.0
    site_of = np.argsort(data.option_site)
    out[generic.var("open").cols] = opened
    out[generic.var("size").col(site_of)] = opened
    out[generic.var("assign").cols] = a
    load = np.bincount(pairs.j, weights=data.amount[pairs.i] * a, minlength=data.m)
    out[generic.var("load").col(site_of)] = load
    return out
