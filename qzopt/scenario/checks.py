"""Pre-solve proofs of infeasibility, with numbers a planner can act on.

Each check is cheap (no MILP) and returns findings of the form "requirement X cannot be met
because Y"; an empty list proves nothing.  :func:`qzopt.infeasibility.explain_infeasibility`
re-solves without one rule at a time (and elastically) for cases the cheap checks cannot see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qzopt.errors import few_names
from qzopt.geo.pairs import allowed_mask
from qzopt.scenario.scenario import Scenario


def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def unreachable_demands(sc: Scenario, mask: np.ndarray | None = None) -> list[str]:
    """Demand points with no allowed site (distance limit, red lines, border policy)."""
    if sc.policy.partial_service:
        return []
    mask = allowed_mask(sc) if mask is None else mask
    out = []
    dist = np.where(np.isfinite(sc.distance), sc.distance, np.inf)
    open_ok = ~sc.sites["excluded"].to_numpy(bool)
    unit = sc.units.distance
    for i in np.flatnonzero(~mask.any(axis=1)):
        did = sc.demands.index[i]
        if sc.demands["amount"].iat[i] == 0:
            continue
        near = np.where(open_ok, dist[i], np.inf)
        reasons = []
        if np.isfinite(near).any():
            j = int(np.argmin(near))
            reasons.append(f"the nearest usable site is {sc.sites.index[j]!r} at {_fmt(near[j])} {unit}")
            if sc.policy.max_distance is not None and near[j] > sc.policy.max_distance:
                reasons.append(f"beyond the {_fmt(sc.policy.max_distance)} {unit} limit")
            own = sc.demands["max_distance"].iat[i] if "max_distance" in sc.demands else None
            if own is not None and np.isfinite(own) and near[j] > own:
                why = " (the commodity's max_hours x speed_km_per_h)" if sc.sector == "coldchain" else ""
                reasons.append(f"beyond its own {_fmt(own)} {unit} reach{why}")
        else:
            reasons.append("no usable site is connected to it")
        if sc.policy.cross_border != "any":
            reasons.append(f"cross_border is {sc.policy.cross_border!r}")
        out.append(f"demand point {did!r} ({_fmt(sc.demands['amount'].iat[i])} {sc.units.demand}) cannot reach any "
                   f"site: " + ", ".join(reasons) + ".")
    return out


def largest(sites: pd.DataFrame, sizes: pd.DataFrame, columns: tuple[str, ...] = ("capacity",)) -> pd.DataFrame:
    """Per site (in ``sites`` order), the largest value of each of ``columns`` over its size
    options; 0 at an excluded site or one without options (every usable site at its largest size)."""
    pos = sites.index.get_indexer(sizes["site"])  # -1: a size option of no site here
    known = pos >= 0
    best = np.full((len(sites), len(columns)), -np.inf)
    for k, col in enumerate(columns):  # numpy, not a pandas groupby: this runs before every solve
        np.fmax.at(best[:, k], pos[known], sizes[col].to_numpy(float)[known])  # NaN skipped, as max() does
    best[np.isneginf(best) | np.isnan(best)] = 0.0  # no size options, or only NaN ones: 0, as fillna gave
    if "excluded" in sites:
        best[sites["excluded"].to_numpy(bool)] = 0.0
    return pd.DataFrame(best, index=sites.index, columns=list(columns))


def capacity_shortfall(sc: Scenario) -> list[str]:
    """Total capacity, single-sourcing and facility-count limits against total demand."""
    out = []
    best = largest(sc.sites, sc.sizes)["capacity"].to_numpy()
    demand = sc.demands["amount"].to_numpy(float)
    need = sc.policy.serve_share * demand.sum() if sc.policy.partial_service else demand.sum()
    u = sc.units.demand
    if np.isfinite(best).all() and best.sum() < need - 1e-9:
        out.append(f"the largest possible total capacity, {_fmt(best.sum())} {u} (every usable site at its largest "
                   f"size), is smaller than the demand that must be served, {_fmt(need)} {u}.")
    p = sc.policy.facilities_exactly if sc.policy.facilities_exactly is not None else sc.policy.facilities_at_most
    if p is not None:
        top = np.sort(best)[::-1][:p].sum()
        if np.isfinite(top) and top < need - 1e-9:
            out.append(f"with at most {p} sites the largest possible capacity is {_fmt(top)} {u}, smaller than "
                       f"the demand that must be served, {_fmt(need)} {u}.")
        forced = (sc.sites["existing"] != "") | sc.sites.get("required", False)
        n_existing = int(forced.sum())
        if n_existing > p:
            out.append(f"{n_existing} sites are existing or required (must be open) but at most {p} may be open.")
    out += too_few_sites(sc)
    if sc.policy.single_sourcing and not sc.policy.partial_service:
        mask = allowed_mask(sc)
        reach_best = np.where(mask, best[None, :], 0.0).max(axis=1) if mask.size else np.zeros(len(demand))
        for i in np.flatnonzero((demand > reach_best + 1e-9) & mask.any(axis=1)):
            out.append(f"demand point {sc.demands.index[i]!r} needs {_fmt(demand[i])} {u} from one site (single "
                       f"sourcing) but the largest site it may use holds {_fmt(reach_best[i])} {u}.")
    return out


def too_few_sites(sc: Scenario) -> list[str]:
    """``facilities: {exactly: p}`` or ``{at_least: p}`` with fewer than p sites that may open
    (each site holds one plant, so p cannot exceed the candidate sites that are not excluded)."""
    out = []
    n_sites = len(sc.sites)
    n_excluded = int(sc.sites["excluded"].to_numpy(bool).sum())
    usable = n_sites - n_excluded
    for rule, p in (("exactly", sc.policy.facilities_exactly), ("at_least", sc.policy.facilities_at_least)):
        if p is None or p <= usable:
            continue
        sites = f"only {n_sites} candidate site(s)" if not n_excluded else (
            f"only {usable} of the {n_sites} candidate sites may open ({n_excluded} excluded)")
        out.append(f"constraints.facilities.{rule} asks for {p} open sites but there are {sites}, one plant "
                   "per site.")
    return out


def existing_conflicts(sc: Scenario) -> list[str]:
    """Existing plants whose minimum load exceeds all the demand that may reach them."""
    if not sc.policy.min_load:
        return []
    out = []
    sizes = sc.sizes
    pos = sc.sites.index.get_indexer(sizes["site"])  # numpy, not Series.map: this runs before every solve
    has = sc.sites["existing"].to_numpy(object)[np.maximum(pos, 0)] if len(sc.sites) else np.array([], object)
    existing = (pos >= 0) & (has == sizes["size"].to_numpy(object))
    candidates = sizes[existing & (sizes["min_load"].to_numpy(float) > 0)]
    mask = allowed_mask(sc) if len(candidates) else None
    demand = sc.demands["amount"].to_numpy(float)
    for _, row in candidates.iterrows():
        site = row["site"]
        j = sc.sites.index.get_loc(site)
        reach = demand[mask[:, j]].sum()
        if reach < row["min_load"] - 1e-9:
            out.append(f"existing site {site!r} must run at least {_fmt(row['min_load'])} {sc.units.demand} "
                       f"but only {_fmt(reach)} {sc.units.demand} of demand may reach it.")
    budget = sc.policy.budget
    if budget is not None and budget < 0:
        out.append("the budget is negative.")
    return out


def road_graph_parts(sc: Scenario) -> list[str]:
    """Warnings (not proofs of infeasibility): the road graph falls into more than one connected
    part holding demand or site nodes, so no demand reaches a site in another part; a missing road
    row does this and silently raises the cost of the plan.  Empty when connected or not a road graph."""
    import networkx as nx

    g = sc.extras.get("graph")
    if g is None:
        return []
    used = set(sc.demands["node"]) | set(sc.sites["node"])
    parts = [sorted(map(str, c)) for c in nx.connected_components(g) if used & c]
    if len(parts) < 2:
        return []
    parts.sort(key=lambda c: (-len(c), c))
    listed = few_names((f"{{{few_names(c, 6)}}}" for c in parts), 5, sep="; ")
    return [f"the road graph is in {len(parts)} unconnected parts that hold demand or sites: {listed}. No demand "
            "reaches a site in another part; if a road between them is missing from the edge table, add it."]


def zero_coordinates(sc: Scenario, distances_from_them: bool) -> list[str]:
    """Warnings: rows at lat 0, lon 0 (in the Gulf of Guinea) - most likely an empty spreadsheet
    cell exported as 0.  ``distances_from_them``: the scenario's distances are great-circle ones
    computed from these coordinates (else only the map uses them)."""
    found = []
    for kind in ("jurisdictions", "demands", "sites"):
        frame = getattr(sc, kind)
        if {"lat", "lon"} <= set(frame.columns):
            lat = np.asarray(frame["lat"], dtype=float)
            lon = np.asarray(frame["lon"], dtype=float)
            ids = frame.index[(lat == 0) & (lon == 0)].astype(str).tolist()
            if ids:
                found.append(f"{kind} {few_names(ids)}")
    if not found:
        return []
    use = "their distances are computed from them" if distances_from_them else "the map places them there"
    return [f"{' and '.join(found)} are at lat 0, lon 0 (in the Gulf of Guinea): an empty cell read as 0? "
            f"{use[0].upper() + use[1:]}; give their coordinates."]


def echelon_shortfall(sc: Scenario) -> list[str]:
    """A second echelon (sludge, fly ash, cold-chain outlets) whose sites cannot take what all the
    demand makes: ratio x total demand against every usable site at its largest size."""
    sd = sc.sector_data
    if sd is None or sc.policy.partial_service:
        return []
    out = []
    total = float(sc.demands["amount"].sum())
    for name, e in sd.echelons.items():
        if e.into_stream:  # transfer stations pass the waste on to the plants' own capacity
            continue
        best = largest(e.sites, e.sizes)["capacity"]
        need = e.ratio * total
        if np.isfinite(best.sum()) and best.sum() < need - 1e-9:
            out.append(f"the {name.replace('_', ' ')} sites can take at most {_fmt(best.sum())} {e.unit} in all (every "
                       f"usable site at its largest size), but serving all {_fmt(total)} {sc.units.demand} makes "
                       f"{_fmt(need)} {e.unit} (ratio {e.ratio:g}).")
    return out


def hub_shortfall(sc: Scenario) -> list[str]:
    """Cold chain: every usable hub at its largest size against what the commodities need at once:
    peak throughput (flow x peak_factor, units.demand) and cold store (flow x dwell_days, t)."""
    sd = sc.sector_data
    if sd is None or sd.kind != "coldchain" or sd.demand_attrs is None or sc.policy.partial_service:
        return []
    sizes = sc.sizes.assign(storage=sc.sizes["size"].map(sd.spec.storage).astype(float))
    best = largest(sc.sites, sizes, ("capacity", "storage"))
    flow = sc.demands["amount"].to_numpy(float)
    attrs = sd.demand_attrs
    out = []
    for what, col, need, unit in (
            ("peak-season throughput", "capacity", float((flow * attrs["peak_factor"].to_numpy(float)).sum()),
             sc.units.demand),
            ("cold store (coldchain.storage)", "storage", float((flow * attrs["dwell_days"].to_numpy(float)).sum()),
             "t")):
        have = float(best[col].sum())
        if np.isfinite(have) and have < need - 1e-9:
            out.append(f"the hubs' {what} is at most {_fmt(have)} {unit} in all (every usable hub at its largest "
                       f"size), but the commodities need {_fmt(need)} {unit} at once.")
    return out


def presolve_findings(sc: Scenario) -> list[str]:
    """Every cheap proof that the scenario is infeasible (empty list: none found)."""
    return (unreachable_demands(sc) + capacity_shortfall(sc) + echelon_shortfall(sc) + hub_shortfall(sc)
            + existing_conflicts(sc))
