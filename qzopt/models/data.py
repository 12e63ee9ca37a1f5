"""Arrays a model builder needs, derived once from a :class:`Scenario` and its allowed pairs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qzopt.geo.pairs import Pairs, allowed_pairs
from qzopt.scenario.scenario import Policy, Scenario


@dataclass(frozen=True)
class FacilityData:
    """Index sets and parameters of the generic siting model (notation of docs/model.md).

    Demand points ``i`` (n), sites ``j`` (m), size options ``k`` (K, each of one site),
    allowed pairs ``p`` (P).  Money is per year; amounts in the scenario's demand unit.
    """

    demand_ids: pd.Index
    amount: np.ndarray  # d_i, units.demand
    site_ids: pd.Index
    option_labels: pd.MultiIndex  # (site, size)
    option_site: np.ndarray  # s(k): site position of option k
    capacity: np.ndarray  # Q_k, units.demand (inf = unlimited)
    min_load: np.ndarray  # L_k, units.demand
    fixed: np.ndarray  # F_k, money/yr (annualised capex + fixed opex)
    unit: np.ndarray  # v_k, money/yr per demand unit (unit_cost x per_year)
    capex: np.ndarray  # C_k, money
    existing_option: np.ndarray  # bool per option: this size must be open
    site_existing: np.ndarray  # bool per site
    site_excluded: np.ndarray  # bool per site
    site_required: np.ndarray  # bool per site: must open (planned plant, size free)
    pairs: Pairs
    policy: Policy
    per_year: float
    max_load: np.ndarray  # per site: most it can ever treat (demand that may reach it), units.demand
    revenue: np.ndarray | None = None  # per option: money/yr per demand unit treated (e.g. electricity)
    crf: float = 1.0  # capital recovery factor used for the capex of these sites
    splits_matter: bool = False  # e.g. fee rules: single sourcing is then never implied

    @property
    def load_cost(self) -> np.ndarray:
        """Objective coefficient of load[k]: variable operating cost minus revenue, money/yr per unit."""
        return self.unit if self.revenue is None else self.unit - self.revenue

    @property
    def n(self) -> int:
        return len(self.demand_ids)

    @property
    def m(self) -> int:
        return len(self.site_ids)

    @property
    def K(self) -> int:
        return len(self.option_site)

    @property
    def P(self) -> int:
        return len(self.pairs)

    @property
    def uncapacitated(self) -> bool:
        """True when no capacity or minimum load can bind: every option holds all the demand
        that may reach its site.  Then serving each point from its cheapest open site is
        optimal, so single sourcing needs no integer assignment variables."""
        reach = self.max_load[self.option_site]
        return bool(np.all(self.capacity >= reach - 1e-9) and np.all(self.min_load <= 0) and not self.splits_matter)

    def reachable_demand(self) -> np.ndarray:
        """Per site: total demand of the points that may use it (an upper bound on its load)."""
        return np.bincount(self.pairs.j, weights=self.amount[self.pairs.i], minlength=self.m)


def facility_data(sc: Scenario, pairs: Pairs | None = None) -> FacilityData:
    """Collect the arrays of ``sc`` in model order; ``pairs`` defaults to the allowed pairs."""
    pairs = allowed_pairs(sc) if pairs is None else pairs
    amount = sc.demands["amount"].to_numpy(float)
    reach = np.bincount(pairs.j, weights=amount[pairs.i], minlength=len(sc.sites))
    data = site_data(sc.sites, sc.sizes, sc.policy, sc.units.per_year, sc.crf, reach,
                     demand_ids=sc.demands.index, amount=amount, pairs=pairs)
    if sc.fees is not None and sc.fees.active:  # a plant's fee revenue depends on how demand is split
        import dataclasses

        data = dataclasses.replace(data, splits_matter=True)
    return data


def site_data(sites: pd.DataFrame, sizes: pd.DataFrame, policy: Policy, per_year: float, crf: float,
              max_load: np.ndarray, demand_ids: pd.Index | None = None, amount: np.ndarray | None = None,
              pairs: Pairs | None = None, revenue: np.ndarray | None = None) -> FacilityData:
    """Arrays of a set of sites and their size options (tables shaped like ``Scenario.sites`` /
    ``Scenario.sizes``).  Without demands and pairs it describes a facility set that is fed by
    flows instead (a second echelon); ``max_load`` then bounds what can flow in."""
    site_pos = {s: k for k, s in enumerate(sites.index)}
    option_site = sizes["site"].map(site_pos).to_numpy(np.int64)
    existing = sites["existing"].to_numpy()
    existing_option = sizes["size"].to_numpy() == existing[option_site]
    empty = np.zeros(0, np.int64)
    return FacilityData(
        demand_ids=demand_ids if demand_ids is not None else pd.Index([], name="id"),
        amount=amount if amount is not None else np.zeros(0),
        site_ids=sites.index,
        option_labels=pd.MultiIndex.from_arrays([sizes["site"], sizes["size"]], names=["site", "size"]),
        option_site=option_site,
        capacity=sizes["capacity"].to_numpy(float),
        min_load=sizes["min_load"].to_numpy(float) if policy.min_load else np.zeros(len(sizes)),
        fixed=sizes["capex"].to_numpy(float) * crf + sizes["fixed_cost"].to_numpy(float),
        unit=sizes["unit_cost"].to_numpy(float) * per_year,
        capex=sizes["capex"].to_numpy(float),
        existing_option=existing_option & (existing[option_site] != ""),
        site_existing=existing != "",
        site_excluded=sites["excluded"].to_numpy(bool),
        site_required=sites["required"].to_numpy(bool) if "required" in sites else np.zeros(len(sites), bool),
        pairs=pairs if pairs is not None else Pairs(empty, empty, np.zeros(0), np.zeros(0)),
        policy=policy,
        per_year=per_year,
        max_load=np.asarray(max_load, float),
        revenue=revenue,
        crf=crf,
    )
