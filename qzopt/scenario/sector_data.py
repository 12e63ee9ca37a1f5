"""Resolution of sector blocks: derived demand, second-echelon facility sets, extra streams.

The result is a :class:`SectorData` attached to the :class:`Scenario` (``scenario.sector_data``);
sector model builders read it, the generic model ignores it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qzopt.errors import few, suggest
from qzopt.scenario import schema as S
from qzopt.units import per_year_from_unit
from qzopt.scenario.scenario import Policy, Scenario, capital_recovery_factor
from qzopt.scenario.sectors import EchelonSpec, PerCapita

if TYPE_CHECKING:
    from qzopt.scenario.load import _Resolver


@dataclass(frozen=True)
class EchelonData:
    """A second echelon: destination sites (with sizes) and distances from the source sites.

    ``distance`` is source sites x destination sites (``units.distance``); ``transport`` money per
    output unit per distance unit; ``ratio`` output per unit of source load.
    """

    name: str
    unit: str
    ratio: float
    sites: pd.DataFrame
    sizes: pd.DataFrame
    distance: np.ndarray
    transport: float
    max_distance: float | None = None
    into_stream: bool = False
    source_sites: np.ndarray | None = None


@dataclass(frozen=True)
class SectorData:
    """What a sector block adds to the generic scenario."""

    kind: str
    spec: Any  # the validated SewageSector | WteSector | ColdChainSector
    echelons: dict[str, EchelonData] = field(default_factory=dict)
    streams: dict[str, Scenario] = field(default_factory=dict)
    demand_attrs: pd.DataFrame | None = None  # cold chain: commodity, peak_factor, dwell_days per point
    site_role: pd.Series | None = None  # wte: 'plant' or 'transfer' per main site
    revenue_per_unit: float = 0.0  # wte: electricity, money per demand unit treated at a plant


# ------------------------------------------------------------------------- demand
def per_capita_amount(jur: pd.DataFrame, gen: PerCapita) -> pd.Series:
    """Demand per jurisdiction from population: m3/d for L per person, t/d for kg per person."""
    pop = jur["population"].fillna(0.0)
    urban = jur["urban_share"].fillna(0.0)
    per_person = urban * gen.urban + (0.0 if gen.urban_only else (1.0 - urban) * gen.rural)
    return pop * per_person / 1000.0 * gen.collection_rate


#: How the amount part of units.demand may be spelt for a per-capita rule's unit.
_AMOUNT_WORDS = {"L": ("m3", "m³", "cubicmetre", "cubicmetres", "cubicmeter", "cubicmeters"),
                 "kg": ("t", "tonne", "tonnes", "ton", "tons")}


def generation_rule(spec: Any) -> PerCapita | None:
    """The main stream's per-capita ``generation`` rule (sewage or WtE), or None."""
    block = spec.sewage or spec.wte
    return getattr(block, "generation", None) if block is not None else None


def generation_unit_fits(r: "_Resolver", gen: PerCapita, units: Any, loc: tuple) -> bool:
    """A per-capita rule gives amounts per day, in m3 (L per person) or t (kg per person):
    ``units.demand`` must be that (per day by its period or by ``units.per_year`` = 365), else
    the amounts would be read in another unit; says so at ``loc`` and returns False."""
    amount = units.demand.replace(" ", "").lower().rpartition("/")[0] or units.demand.replace(" ", "").lower()
    want = {"L": "m3/d", "kg": "t/d"}[gen.unit]
    if amount in _AMOUNT_WORDS[gen.unit] and units.per_year == 365.0:
        return True
    r.bad(f"`generation` ({gen.unit} per person per day) gives {want}, but units.demand is {units.demand!r}"
          + (f" with {units.per_year:g} periods a year" if units.per_year != 365.0 else "")
          + ": the amounts would be read in that unit", loc,
          "Per-capita rules give amounts per day: use units.demand m3/d (unit: L) or t/d (unit: kg).")
    return False


def derive_demands(spec: S.ScenarioSpec, jur: pd.DataFrame) -> tuple[list[S.Demand], str | None]:
    """Demand rows derived by the sector block (empty list and a reason when it cannot)."""
    if spec.coldchain is not None:
        rows = []
        speed = spec.coldchain.speed_km_per_h
        for c in spec.coldchain.commodities:
            for origin, amount in c.origins.items():
                rows.append(S.Demand(id=f"{origin}:{c.name}", jurisdiction=origin, amount=amount,
                                     name=f"{origin} {c.name}", max_distance=c.max_hours * speed))
        return rows, None
    gen = generation_rule(spec)
    if gen is None:
        return [], "`demands` is missing and the sector block has no `generation` rule to derive them"
    if jur["population"].isna().all():
        return [], "`generation` needs `population` on the jurisdictions, and none has it"
    amount = per_capita_amount(jur, gen)
    return [S.Demand(id=j, jurisdiction=j, amount=round(float(a), 3)) for j, a in amount.items() if a > 0], None


# ------------------------------------------------------------------------ sectors
def km_problem(sector: str, distance_unit: str) -> tuple[str, tuple[str, str], str] | None:
    """A sewage or cold-chain scenario reads its figures per km (trunk sewer costs and lengths,
    the reach max_hours x speed_km_per_h): measured in minutes they would be read per minute.
    The problem (message, field, hint), or None."""
    per_km = {"sewage": "trunk_sewer's cost_per_km and max_length", "coldchain": "the reach, max_hours x speed_km_per_h,"}
    if sector not in per_km or distance_unit == "km":
        return None
    return (f"the {sector} block needs distances in km ({per_km[sector]} in km), not {distance_unit!r}",
            ("units", "distance"), "Use units.distance: km with road km.")


def resolve_sector(r: "_Resolver", sc: Scenario) -> Scenario:
    """Attach the sector's :class:`SectorData` (and any extra sites) to ``sc``."""
    spec = r.spec
    sc = dataclasses.replace(sc, policy=sector_policy(spec, sc.policy))
    if spec.sewage is not None:
        data = _sewage(r, sc)
    elif spec.wte is not None:
        sc, data = _wte(r, sc)
    else:
        sc, data = _coldchain(r, sc)
    r.check()
    return dataclasses.replace(sc, sector_data=data)


def _own_ids(r: "_Resolver", sites: pd.DataFrame, main: pd.DataFrame, loc: tuple, what: str) -> None:
    """Sites of an echelon or second stream need ids of their own, unique in their list and not a
    plant's or another list's: the reports name sites and flows by id ('wte_B sends 36 t/d to
    wte_B' would not say which is which), and the result's tables are indexed by them."""
    twice = sorted({str(i) for i in sites.index[sites.index.duplicated()]})
    if twice:
        r.bad(f"duplicate {what} ids {few(twice)}", loc, "Every id must be unique.")
    clash = sorted(set(sites.index) & set(main.index), key=str)
    if clash:
        r.bad(f"{what} ids {few(clash)} are also plant site ids", loc, f"Give the {what}s their own ids.")
    taken = r.sector_site_ids  # ids of the sector's other site lists resolved so far
    other = sorted({i for i in sites.index if i in taken}, key=str)
    if other:
        r.bad(f"{what} ids {few(other)} are also {taken[other[0]]} ids", loc, f"Give the {what}s their own ids.")
    r.sector_site_ids = {**taken, **{i: what for i in sites.index}}
    r.check()


def _size_sets(r: "_Resolver", own: dict, loc: tuple) -> dict:
    """The size sets a sector site list may name: the file's ``sizes`` and its block's own; a block
    set with the name of a file set would silently replace it for these sites, so it is refused."""
    clash = sorted(set(own) & set(r.spec.sizes))
    if clash:
        r.bad(f"size sets {clash} are defined both here and under the top-level `sizes`", loc,
              "Give the block's set another name.")
    return {**r.spec.sizes, **own}


def _echelon(r: "_Resolver", sc: Scenario, name: str, spec: EchelonSpec, loc: tuple,
             source_sites: np.ndarray | None = None) -> EchelonData:
    sites, sizes = r.sites(spec.sites, r.file, _size_sets(r, spec.sizes, loc + ("sizes",)), loc + ("sites",))
    r.check()
    _own_ids(r, sites, sc.sites, loc + ("sites",), f"{name.replace('_', ' ')} site")
    dist, _ = r.distances(sc.sites, sites, where=(("sites",), loc + ("sites",)))
    return EchelonData(name=name, unit=spec.unit, ratio=spec.ratio, sites=sites, sizes=sizes, distance=dist,
                       transport=spec.transport, max_distance=spec.max_distance, source_sites=source_sites)


def _sewage(r: "_Resolver", sc: Scenario) -> SectorData:
    sw = r.spec.sewage
    if sw.trunk_sewer.pumping_per_unit_per_m > 0:  # the lift is between jurisdictions' elevations
        elev = sc.jurisdictions["elevation_m"] if "elevation_m" in sc.jurisdictions else pd.Series(dtype=float)
        used = sorted(set(sc.demands["jurisdiction"]) | set(sc.sites["jurisdiction"]), key=str)
        missing = [j for j in used if pd.isna(elev.get(j))]
        if missing:  # 0 m would be a lift of the whole plateau; no lift would drop the cost unseen
            r.bad(f"pumping_per_unit_per_m needs elevation_m on every jurisdiction with demand or a site; "
                  f"missing for {few(missing)}",
                  ("sewage", "trunk_sewer", "pumping_per_unit_per_m"),
                  "Give `elevation_m` (m) on those jurisdictions, or set pumping_per_unit_per_m: 0.")
            r.check()
    echelons = {}
    if sw.sludge is not None:
        echelons["sludge"] = _echelon(r, sc, "sludge", sw.sludge, ("sewage", "sludge"))
    return SectorData("sewage", sw, echelons=echelons)


def _wte(r: "_Resolver", sc: Scenario) -> tuple[Scenario, SectorData]:
    w = r.spec.wte
    role = pd.Series("plant", index=sc.sites.index)
    if w.transfer is not None:
        t_sites, t_sizes = r.sites(w.transfer.sites, r.file, _size_sets(r, w.transfer.sizes, ("wte", "transfer", "sizes")),
                                 ("wte", "transfer", "sites"))
        r.check()
        _own_ids(r, t_sites, sc.sites, ("wte", "transfer", "sites"), "transfer station")
        t_dist, _ = r.distances(sc.demands, t_sites, from_demand=True, where=(("demands",), ("wte", "transfer", "sites")))
        sites = pd.concat([sc.sites, t_sites])
        sc = dataclasses.replace(sc, sites=sites, sizes=pd.concat([sc.sizes, t_sizes], ignore_index=True),
                                 distance=np.hstack([sc.distance, t_dist]))
        role = pd.concat([role, pd.Series("transfer", index=t_sites.index)])
    plants = np.flatnonzero(role.to_numpy() == "plant")
    echelons = {}
    if w.transfer is not None:
        transfer = np.flatnonzero(role.to_numpy() == "transfer")
        dist, _ = r.distances(sc.sites, sc.sites)
        echelons["transfer"] = EchelonData(
            name="transfer", unit=sc.units.demand, ratio=1.0, sites=sc.sites, sizes=sc.sizes, distance=dist,
            transport=w.transfer.compacted_transport, max_distance=None, into_stream=True, source_sites=transfer)
    if w.fly_ash is not None:
        echelons["fly_ash"] = _echelon(r, sc, "fly_ash", w.fly_ash, ("wte", "fly_ash"), source_sites=plants)
    streams = {}
    if w.kitchen is not None:
        streams["kitchen"] = _kitchen(r, sc, w)
    revenue = w.electricity.revenue_per_unit() if w.electricity is not None else 0.0
    return sc, SectorData("wte", w, echelons=echelons, streams=streams, site_role=role, revenue_per_unit=revenue)


def _kitchen(r: "_Resolver", sc: Scenario, w: Any) -> Scenario:
    kw = w.kitchen
    generation_unit_fits(r, kw.generation, sc.units, ("wte", "kitchen", "generation", "unit"))
    r.unpopulated("the kitchen-waste `generation` rule", kw.generation)
    r.check()
    amount = per_capita_amount(r.jur, kw.generation)
    rows = [S.Demand(id=f"{j}:kitchen", jurisdiction=j, amount=round(float(a), 3)) for j, a in amount.items() if a > 0]
    if not rows:
        r.bad("kitchen-waste generation gives no demand (no population?)", ("wte", "kitchen", "generation"))
        r.check()
    demands = r.place(rows, "demands", r.file, ("wte", "kitchen"))
    sites, sizes = r.sites(kw.sites, r.file, _size_sets(r, kw.sizes, ("wte", "kitchen", "sizes")),
                           ("wte", "kitchen", "sites"))
    r.check()
    _own_ids(r, sites, sc.sites, ("wte", "kitchen", "sites"), "kitchen-waste site")
    dist, _ = r.distances(demands, sites, from_demand=True, where=(("demands",), ("wte", "kitchen", "sites")))
    # a share of 1 treats all of it centrally: the penalty (required by the schema) then has no effect
    policy = dataclasses.replace(sc.policy, serve_share=kw.min_central_share,
                                 unserved_penalty=kw.penalty if kw.min_central_share < 1 else None,
                                 max_distance=kw.max_distance, facilities_exactly=None, facilities_at_most=None,
                                 facilities_at_least=None, budget=None)
    return dataclasses.replace(sc, name=f"{sc.name} (kitchen waste)", demands=demands, sites=sites, sizes=sizes,
                               distance=dist, cost=None, policy=policy, sector="facility", sector_data=None)


def _coldchain(r: "_Resolver", sc: Scenario) -> tuple[Scenario, SectorData]:
    cc = r.spec.coldchain
    try:
        daily = per_year_from_unit(sc.units.demand) == 365.0
    except ValueError:
        daily = False
    if not daily:  # dwell_days x amount is a cold store in t only when the amount is per day
        r.bad(f"the coldchain block reads demand per day (hub throughput in t/d, cold store = dwell_days x the daily "
              f"amount), not {sc.units.demand!r}", ("units", "demand"),
              "Give the demand per day, e.g. units.demand: t/d (with units.per_year for the days a year in operation).")
    commodity = {c.name: c for c in cc.commodities}
    names = [i.rsplit(":", 1)[1] for i in sc.demands.index]  # 'origin:commodity'; an origin id may hold ':'
    attrs = pd.DataFrame({"commodity": names,
                          "peak_factor": [commodity[n].peak_factor for n in names],
                          "dwell_days": [commodity[n].dwell_days for n in names],
                          "max_hours": [commodity[n].max_hours for n in names]}, index=sc.demands.index)
    missing = sorted(set(sc.sizes["size"]) - set(cc.storage))
    if missing:
        r.bad(f"coldchain.storage gives no cold-store capacity for hub sizes {missing}", ("coldchain", "storage"),
              "Give a capacity in t for every size option of the hubs.")
    for name in sorted(set(cc.storage) - set(sc.sizes["size"])):  # a leftover or misspelt size: it would be ignored
        r.bad(f"{name!r} is not a size option of the hubs", ("coldchain", "storage", name),
              suggest(name, sorted(set(sc.sizes["size"])), what="Hub sizes"))
    outlets = _echelon(r, sc, "outlets", cc.outlets, ("coldchain", "outlets"))
    return sc, SectorData("coldchain", cc, echelons={"outlets": outlets}, demand_attrs=attrs)


def sewer_pair_costs(sc: Scenario, i: np.ndarray, j: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trunk-sewer costs of allowed pairs, money per year: (fixed part when the pipe exists,
    part proportional to the share of the demand carried).  Pumping for lift is proportional."""
    ts = sc.sector_data.spec.trunk_sewer
    crf = capital_recovery_factor(sc.discount_rate, ts.lifetime_years)
    amount = sc.demands["amount"].to_numpy(float)[i]
    same = sc.demands["node"].to_numpy()[i] == sc.sites["node"].to_numpy()[j]
    pipe = np.where(same & ts.own_plant_free, 0.0, distance)
    fixed = ts.cost_per_km * pipe * crf
    flow = ts.cost_per_km_per_flow * pipe * amount * crf
    if ts.pumping_per_unit_per_m > 0:
        elev = sc.jurisdictions["elevation_m"]
        h_from = sc.demands["jurisdiction"].map(elev).to_numpy(float)[i]
        h_to = sc.sites["jurisdiction"].map(elev).to_numpy(float)[j]
        lift = np.nan_to_num(np.maximum(h_to - h_from, 0.0))
        flow = flow + ts.pumping_per_unit_per_m * lift * amount * sc.units.per_year
    return fixed, flow


def sector_policy(spec: S.ScenarioSpec, policy: Policy) -> Policy:
    """Sector defaults where the scenario is silent: a sewage plant serves the same or adjacent
    jurisdictions only, through trunk sewers no longer than ``trunk_sewer.max_length``."""
    if spec.sewage is None:
        return policy
    given = spec.constraints.model_fields_set
    changes: dict[str, Any] = {}
    if "cross_border" not in given:
        changes["cross_border"] = "adjacent"
    limit = spec.sewage.trunk_sewer.max_length
    changes["max_distance"] = limit if policy.max_distance is None else min(policy.max_distance, limit)
    return dataclasses.replace(policy, **changes)
