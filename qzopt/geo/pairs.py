"""The sparse set of demand-site pairs a model may use.

This is where the *maximum distance*, *excluded site* and *cross-border* rules act: a pair
that is not allowed is never generated, so the model never carries a variable for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qzopt.scenario.scenario import Scenario


@dataclass(frozen=True)
class Pairs:
    """Allowed pairs as parallel arrays (sorted by demand, then site).

    ``i``/``j`` are positions in ``scenario.demands`` / ``scenario.sites``; ``distance`` is in
    ``units.distance``; ``cost`` is money per year for serving the whole demand of ``i`` from ``j``.
    """

    i: np.ndarray
    j: np.ndarray
    distance: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return int(self.i.shape[0])


def allowed_mask(sc: Scenario) -> np.ndarray:
    """Demand x site boolean mask of allowed pairs (distance limit, red lines, border policy)."""
    p = sc.policy
    mask = np.isfinite(sc.distance)
    if sc.cost is not None:
        mask &= np.isfinite(sc.cost)
    if p.max_distance is not None:
        mask &= sc.distance <= p.max_distance + 1e-9
    if "max_distance" in sc.demands and sc.demands["max_distance"].notna().any():
        own = sc.demands["max_distance"].to_numpy(float)
        mask &= ~(sc.distance > np.where(np.isnan(own), np.inf, own)[:, None] + 1e-9)
    mask &= ~sc.sites["excluded"].to_numpy(bool)[None, :]
    dj = sc.demands["jurisdiction"].to_numpy()
    sj = sc.sites["jurisdiction"].to_numpy()
    if p.cross_border == "own":
        mask &= dj[:, None] == sj[None, :]
    elif p.cross_border == "adjacent":
        jur = list(sc.jurisdictions.index)
        pos = {j: k for k, j in enumerate(jur)}
        adj = np.eye(len(jur), dtype=bool)
        for pair in sc.adjacency:
            a, b = tuple(pair)  # two ends: Scenario.validate refuses a "pair" of one jurisdiction
            adj[pos[a], pos[b]] = adj[pos[b], pos[a]] = True
        di = np.array([pos[j] for j in dj])
        si = np.array([pos[j] for j in sj])
        mask &= adj[np.ix_(di, si)]
    return mask


def allowed_pairs(sc: Scenario) -> Pairs:
    """The allowed pairs of a scenario, with their distance and annual assignment cost."""
    mask = allowed_mask(sc)
    i, j = np.nonzero(mask)
    cost = sc.annual_assignment_cost()
    return Pairs(i=i.astype(np.int64), j=j.astype(np.int64), distance=sc.distance[i, j], cost=cost[i, j])
