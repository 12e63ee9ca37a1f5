"""Pieces every sector model uses: an echelon built from the scenario's echelon data."""

from __future__ import annotations

import dataclasses

import numpy as np

from qzopt.models.blocks.echelon import Echelon, echelon_delivery, echelon_flows, echelon_supply
from qzopt.models.blocks.siting import Build
from qzopt.models.data import FacilityData, site_data
from qzopt.models.facility import DESTINATION_BLOCKS
from qzopt.scenario.scenario import Scenario
from qzopt.scenario.sector_data import EchelonData


def single_sourcing_data(sc: Scenario, data: FacilityData,
                         resources: tuple[tuple[np.ndarray, np.ndarray], ...] = ()) -> FacilityData:
    """``data`` marked ``splits_matter`` when single sourcing is asked and a limit beyond the main
    sites' capacity and minimum load may bind: a resource row (per point use u_i, per option limit
    L_k: a cold-chain hub's peak throughput or cold store) whose points in reach may use more than
    L_k, or a second echelon's destination (sludge centre, fly-ash site) with a capacity below all
    its sources could send (ratio x total demand) or a minimum load.  Then serving each point from
    its cheapest open site need not be optimal, so the assignment stays binary: without this a
    cold store that binds let single sourcing be split and reported as kept."""
    if not sc.policy.single_sourcing or data.splits_matter:
        return data
    binds = False
    for use, limit in resources:
        in_reach = np.bincount(data.pairs.j, weights=np.asarray(use, float)[data.pairs.i], minlength=data.m)
        binds |= bool(np.any(np.asarray(limit, float) < in_reach[data.option_site] - 1e-9))
    total = float(data.amount.sum()) if data.n else 0.0
    for ed in (sc.sector_data.echelons.values() if sc.sector_data is not None else ()):
        if ed.into_stream:  # into the main sites: their capacity, with this inflow in reach, is checked already
            continue
        dest = site_data(ed.sites, ed.sizes, sc.policy, sc.units.per_year, sc.crf, np.full(len(ed.sites), ed.ratio * total))
        binds |= bool(np.any(dest.capacity < ed.ratio * total - 1e-9) or np.any(dest.min_load > 0))
    return dataclasses.replace(data, splits_matter=True) if binds else data


def site_capacity(b: Build) -> np.ndarray:
    """Most each site of a facility set can treat: its largest size, or what can reach it."""
    d = b.data
    best = np.zeros(d.m)
    np.maximum.at(best, d.option_site, np.minimum(d.capacity, d.max_load[d.option_site]))
    return best


def echelon_arcs(sc: Scenario, ed: EchelonData, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The producing sites of ``ed`` (of a source set of ``m`` sites), their distances to the
    destination sites and which of those arcs are allowed (finite, within the echelon's limit, to
    a plant other than itself when the flow goes back into the stream, not to an excluded site)."""
    producing = np.arange(m) if ed.source_sites is None else np.asarray(ed.source_sites)
    dist = ed.distance[producing]
    ok = np.isfinite(dist)
    if ed.max_distance is not None:
        ok &= dist <= ed.max_distance + 1e-9
    if ed.into_stream:
        role = sc.sector_data.site_role.to_numpy()
        ok &= (role == "plant")[None, :]
        ok &= producing[:, None] != np.arange(ed.sites.shape[0])[None, :]
    ok &= ~ed.sites["excluded"].to_numpy(bool)[None, :]
    return producing, dist, ok


def with_inflow_reach(sc: Scenario, data: FacilityData, ed: EchelonData) -> FacilityData:
    """``data`` whose ``max_load`` also counts what ``ed`` (an echelon back into the same stream,
    e.g. WtE transfer stations to plants) can bring to each site: ratio x the reach of every
    producing site with an arc to it, capped at the total demand.  Without it the capacity rows'
    coefficients and the presolve would hold a plant to the demand that reaches it directly."""
    producing, _, ok = echelon_arcs(sc, ed, data.m)
    inflow = ed.ratio * (ok.T.astype(float) @ data.max_load[producing])
    return dataclasses.replace(data, max_load=np.minimum(data.max_load + inflow, float(data.amount.sum())))


def add_echelon(sc: Scenario, source: Build, ed: EchelonData) -> Echelon:
    """Add the flows of ``ed`` leaving ``source``: to a facility set of their own (sited by the
    same model) or, for ``ed.into_stream``, into the source stream's other sites."""
    model = source.model
    producing, dist, ok = echelon_arcs(sc, ed, source.data.m)
    r, c = np.nonzero(ok)
    src, dst = producing[r], c
    distance = dist[r, c]
    cost = ed.transport * distance * sc.units.per_year
    if ed.into_stream:
        dest = source
    else:
        # all a source set can ever treat: its capacity, and (first echelon) all the demand
        total_demand = source.data.amount.sum() if source.data.n else np.inf
        out_max = ed.ratio * min(site_capacity(source)[producing].sum(), total_demand)
        reach = np.full(len(ed.sites), out_max)
        data = site_data(ed.sites, ed.sizes, sc.policy, sc.units.per_year, sc.crf, reach)
        dest = Build(model, data, prefix=f"{ed.name}.")
        for block in DESTINATION_BLOCKS:
            block(dest)
    e = Echelon(name=ed.name, source=source, dest=dest, ratio=ed.ratio, arc_src=src, arc_dst=dst,
                arc_distance=distance, arc_cost=cost, unit=ed.unit, into_stream=ed.into_stream,
                source_sites=producing, dest_sites=ed.sites)
    echelon_flows(source, e)
    echelon_supply(source, e)
    echelon_delivery(source, e)
    return e
