"""Seeded, reproducible Qianzhong-like instances at township and village scale.

The Qianzhong city cluster (central Guizhou) is modelled as a 380 km x 280 km region with
33 county seats; each county has townships (or villages) scattered around its seat, with more
waste close to the seat.  Demand points send rural waste (t/d) to small treatment plants built
at candidate sites in modular sizes; haul costs 1.2 yuan per t per km (as in
``scenarios/qianzhong-msw.yaml``) on road distances = straight line x 1.35 (the detour factor
of ``scenarios/data/qianzhong/roads.csv``), within a distance limit, so pairs stay sparse.

Every demand point has at least one candidate site within the limit (a site is added at an
uncovered point), so every instance is feasible.  Same ``seed`` -> same instance, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units

COUNTIES = 33
REGION_KM = (380.0, 280.0)
DETOUR = 1.35  # road km per straight-line km
HAUL_YUAN_PER_T_KM = 1.2


@dataclass(frozen=True)
class ScaleSpec:
    """Shape of a generated instance: points per county, candidate sites, the distance limit
    (road km) and the mean demand of a point (t/d)."""

    points_per_county: int
    sites: int
    max_km: float
    mean_t_per_day: float
    spread_km: float  # std. dev. of a point's offset from its county seat


SPECS: dict[str, ScaleSpec] = {
    "township": ScaleSpec(points_per_county=30, sites=150, max_km=40.0, mean_t_per_day=12.0, spread_km=18.0),
    "village": ScaleSpec(points_per_county=150, sites=400, max_km=30.0, mean_t_per_day=2.4, spread_km=18.0),
    # 1 million allowed pairs: the model-building target (built, not necessarily solved)
    "million": ScaleSpec(points_per_county=300, sites=1500, max_km=50.0, mean_t_per_day=1.2, spread_km=22.0),
}

#: Plant sizes: capacity t/d, capex yuan, fixed opex yuan/yr, variable opex yuan/t, minimum load t/d.
SIZES = pd.DataFrame({
    "size": ["S50", "S150", "S400"],
    "capacity": [50.0, 150.0, 400.0],
    "capex": [30e6, 65e6, 130e6],
    "fixed_cost": [0.9e6, 1.95e6, 3.9e6],
    "unit_cost": [110.0, 95.0, 85.0],
    "min_load": [0.0, 0.0, 0.0],
})


def _points(spec: ScaleSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (km), county index and demand (t/d) of every point."""
    w, h = REGION_KM
    seats = np.column_stack([rng.uniform(0.05 * w, 0.95 * w, COUNTIES), rng.uniform(0.05 * h, 0.95 * h, COUNTIES)])
    county = np.repeat(np.arange(COUNTIES), spec.points_per_county)
    xy = seats[county] + rng.normal(0.0, spec.spread_km, (county.size, 2))
    xy = np.clip(xy, 0.0, [w, h])
    near_seat = np.exp(-np.linalg.norm(xy - seats[county], axis=1) / spec.spread_km)
    amount = spec.mean_t_per_day * rng.lognormal(0.0, 0.6, county.size) * (0.5 + 1.5 * near_seat)
    return xy, county, np.round(amount, 2)


def _sites(spec: ScaleSpec, xy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions (indices of points) of candidate sites: a random sample, plus a site at every
    point that would otherwise have none within the distance limit."""
    chosen = list(rng.choice(xy.shape[0], size=spec.sites, replace=False))
    limit = spec.max_km / DETOUR
    covered = np.zeros(xy.shape[0], bool)
    for start in range(0, len(chosen), 256):
        block = xy[chosen[start:start + 256]]
        covered |= (np.linalg.norm(xy[:, None, :] - block[None, :, :], axis=2) <= limit).any(axis=1)
    for k in np.flatnonzero(~covered):
        if not covered[k]:
            chosen.append(int(k))
            covered |= np.linalg.norm(xy - xy[k], axis=1) <= limit
    return np.asarray(chosen, np.int64)


def qianzhong_like(scale: str = "village", seed: int = 2017) -> Scenario:
    """A generated Qianzhong-like rural waste scenario (``township``, ``village`` or ``million``).

    Money in yuan per year, demand in t/d, distances in road km; plants are split-served
    (a point's waste may go to several plants) within ``max_km``.
    """
    spec = SPECS[scale]
    rng = np.random.default_rng(seed)
    xy, county, amount = _points(spec, rng)
    at = _sites(spec, xy, rng)
    dist = DETOUR * np.sqrt(((xy[:, None, :] - xy[None, at, :]) ** 2).sum(axis=2))
    dist = np.round(np.maximum(dist, 2.0), 1)  # at least 2 km inside a place
    ids = [f"p{k:05d}" for k in range(xy.shape[0])]
    jur = [f"county{c:02d}" for c in county]
    demands = pd.DataFrame({"id": ids, "jurisdiction": jur, "amount": amount})
    site_ids = [f"s{k:04d}" for k in range(at.size)]
    sites = pd.DataFrame({"id": site_ids, "jurisdiction": [jur[k] for k in at]})
    sizes = pd.concat([SIZES.assign(site=s) for s in site_ids], ignore_index=True)
    sizes["min_load"] = 0.0
    return Scenario.from_frames(
        demands, sites, sizes, dist, name=f"qianzhong-{scale}",
        units=Units(demand="t/d", distance="km", money="yuan", per_year=365.0),
        transport=HAUL_YUAN_PER_T_KM, discount_rate=0.06, lifetime_years=20.0,
        policy=Policy(max_distance=spec.max_km),
        solver=SolverSettings(time_limit=600.0),
        description=f"generated Qianzhong-like {scale}-scale rural waste siting (seed {seed})",
    )
