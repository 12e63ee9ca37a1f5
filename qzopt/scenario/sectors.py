"""Sector blocks of a scenario file (``sewage:``, ``wte:``, ``coldchain:``) and what they derive.

A sector block states the engineering rules of its sector next to their numbers: how demand
follows from population, how plant cost scales with size, what a plant produces for a second
echelon.  The functions here turn those rules into the generic tables (demand points, size
options, echelon sites) that the shared model blocks consume; every derived figure can be
traced back to a field of the block.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from qzopt.scenario.schema import DistanceLimit, OptionalLimit, Site, SizeOption, Strict, no_edge_space, repeated


# ----------------------------------------------------------------- shared pieces
class PerCapita(Strict):
    """Generation per resident: demand_i = population_i x (u_i x urban + (1 - u_i) x rural) x factor."""

    urban: float = Field(ge=0, description="per urban resident per day (unit in `unit`)")
    rural: float = Field(ge=0, description="per rural resident per day (unit in `unit`)")
    unit: Literal["L", "kg"] = Field(description="L per person per day (-> m3/d) or kg (-> t/d)")
    collection_rate: float = Field(1.0, gt=0, le=2, description="share collected (sewage: x infiltration)")
    urban_only: bool = Field(False, description="count urban residents only (e.g. restaurant kitchen waste)")

    @model_validator(mode="after")
    def _every_field_used(self) -> "PerCapita":
        if self.urban_only and self.rural > 0:  # it would be ignored
            raise ValueError(f"rural {self.rural:g} is not used with urban_only: true; set rural: 0 or drop urban_only")
        if self.unit == "kg" and self.collection_rate > 1:  # above 1 is sewage's infiltration (unit L)
            raise ValueError(f"collection_rate {self.collection_rate:g} collects more waste than is generated; "
                             "at most 1 for unit kg (above 1 only for sewage infiltration, unit L)")
        return self


class ScaledSizes(Strict):
    """Size options with economies of scale: capex = capex_a x Q^capex_b (b < 1)."""

    name: str = Field(min_length=1, description="name of the size set the generated options form (use it in `sites`)")
    capacities: list[Annotated[float, Field(gt=0)]] = Field(min_length=1, description="sizes, units.demand")
    capex_a: float = Field(gt=0, description="money / (units.demand)^b")
    capex_b: float = Field(gt=0, le=1, description="scale exponent, < 1 for economies of scale")
    fixed_cost_share: float = Field(0.0, ge=0, le=1, description="fixed operating cost per year, share of capex")
    unit_cost: float = Field(0.0, ge=0, description="variable operating cost, money per demand unit")
    min_load_share: float = Field(0.0, ge=0, le=1, description="minimum load, share of capacity")
    label: str = Field("Q{q:g}", description="option name pattern; {q} = capacity")

    _name_exact = field_validator("name")(no_edge_space)  # sites name the set

    @field_validator("label")
    @classmethod
    def _pattern(cls, label: str) -> str:
        try:
            name = label.format(q=1.0)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"{label!r} is not a name pattern with {{q}} for the capacity ({err!r}); e.g. 'Q{{q:g}}'")
        if "{q" not in label:
            raise ValueError(f"{label!r} gives every size the same name {name!r}; put {{q}} in it, e.g. 'Q{{q:g}}'")
        return label

    @model_validator(mode="after")
    def _sorted(self) -> "ScaledSizes":
        if sorted(self.capacities) != self.capacities or len(set(self.capacities)) != len(self.capacities):
            raise ValueError("capacities must be distinct and increasing")
        names = [self.label.format(q=q) for q in self.capacities]
        twice = repeated(names)
        if twice:  # e.g. 'Q{q:g}' gives 'Q1e+06' for 1000000 and 1000001
            raise ValueError(f"label {self.label!r} gives the capacities the same name {twice}; "
                             "use a pattern that tells them apart, e.g. 'Q{q:.0f}'")
        return self

    def options(self) -> list[SizeOption]:
        return [SizeOption(name=self.label.format(q=q), capacity=q, capex=self.capex_a * q ** self.capex_b,
                           fixed_cost=self.fixed_cost_share * self.capex_a * q ** self.capex_b,
                           unit_cost=self.unit_cost, min_load=self.min_load_share * q)
                for q in self.capacities]


class Lines(Strict):
    """Plants built as whole lines of one standard size (e.g. incineration grates)."""

    name: str = Field("lines", min_length=1, description="name of the size set the generated options form")
    line_size: float = Field(gt=0, description="capacity of one line, units.demand")
    max_lines: int = Field(ge=1, le=12, description="most lines one plant may have")
    min_plant_size: float = Field(0.0, ge=0, description="minimum economic plant size, units.demand")
    capex_a: float = Field(gt=0, description="capex = capex_a x (lines x line_size)^capex_b, money")
    capex_b: float = Field(gt=0, le=1)
    fixed_cost_share: float = Field(0.0, ge=0, le=1, description="fixed operating cost per year, share of capex")
    unit_cost: float = Field(0.0, ge=0, description="operating cost, money per demand unit")
    min_load_share: float = Field(0.0, ge=0, le=1, description="minimum load, share of capacity")

    _name_exact = field_validator("name")(no_edge_space)  # sites name the set

    def min_lines(self) -> int:
        return max(1, math.ceil(self.min_plant_size / self.line_size - 1e-9))

    def options(self) -> list[SizeOption]:
        out = []
        for n in range(self.min_lines(), self.max_lines + 1):
            q = n * self.line_size
            capex = self.capex_a * q ** self.capex_b
            out.append(SizeOption(name=f"{n}x{self.line_size:g}", capacity=q, capex=capex,
                                  fixed_cost=self.fixed_cost_share * capex, unit_cost=self.unit_cost,
                                  min_load=self.min_load_share * q))
        return out

    @model_validator(mode="after")
    def _feasible(self) -> "Lines":
        if self.min_lines() > self.max_lines:
            raise ValueError(f"min_plant_size {self.min_plant_size} needs more than max_lines {self.max_lines} lines")
        return self


class EchelonSpec(Strict):
    """A second echelon: what plants produce goes to these sites."""

    ratio: float = Field(gt=0, description="output per unit of plant load (e.g. t sludge per m3)")
    unit: str = Field("t/d", min_length=1, description="unit of the output flow")
    sites: list[Site] = Field(min_length=1, description="candidate or existing destination sites")
    sizes: dict[str, list[SizeOption]] = Field(default_factory=dict, description="size sets named by the sites")
    transport: float = Field(ge=0, description="money per output unit per distance unit")
    max_distance: OptionalLimit | None = Field(None, description="longest allowed haul: a number in units.distance "
                                               "or with its unit ('200 km')")


# ----------------------------------------------------------------------- sewage
class TrunkSewer(Strict):
    """Trunk sewer from a settlement to a plant in another jurisdiction: cost per km grows with flow."""

    cost_per_km: float = Field(ge=0, description="money per km of pipe (civil works, whatever the flow)")
    cost_per_km_per_flow: float = Field(0.0, ge=0, description="money per km per demand unit carried (pipe size)")
    max_length: DistanceLimit = Field(description="longest pipe: a number in units.distance or with its unit ('40 km')")
    lifetime_years: float = Field(30.0, gt=0)
    own_plant_free: bool = Field(True, description="no trunk sewer cost when the plant is in the same node")
    pumping_per_unit_per_m: float = Field(0.0, ge=0, description="money per demand unit per metre of lift")


class SewageSector(Strict):
    generation: PerCapita | None = Field(None, description="derive demand when `demands` is omitted")
    plants: ScaledSizes
    trunk_sewer: TrunkSewer
    sludge: EchelonSpec | None = None


# -------------------------------------------------------------------------- wte
class Electricity(Strict):
    kwh_per_unit: float = Field(ge=0, description="kWh exported per demand unit (t)")
    tariff: float = Field(ge=0, description="money per kWh up to `tariff_cap`")
    tariff_cap: float = Field(math.inf, ge=0, description="kWh per unit paid at `tariff`")
    tariff_above: float = Field(0.0, ge=0, description="money per kWh above the cap")

    def revenue_per_unit(self) -> float:
        first = min(self.kwh_per_unit, self.tariff_cap)
        return first * self.tariff + max(0.0, self.kwh_per_unit - first) * self.tariff_above


class KitchenWaste(Strict):
    """A separate kitchen-waste stream, a share of which must be treated centrally."""

    generation: PerCapita
    min_central_share: float = Field(ge=0, le=1, description="coverage target, e.g. 0.7")
    penalty: float = Field(ge=0, description="money per demand unit not treated centrally (other disposal)")
    sites: list[Site] = Field(min_length=1)
    sizes: dict[str, list[SizeOption]] = Field(default_factory=dict)
    max_distance: OptionalLimit | None = Field(None, description="longest haul of the kitchen stream: a number in "
                                               "units.distance or with its unit ('60 km')")


class TransferStations(Strict):
    """Optional transfer stations: compaction lowers the haul cost to the plant."""

    sites: list[Site] = Field(min_length=1)
    sizes: dict[str, list[SizeOption]] = Field(default_factory=dict)
    compacted_transport: float = Field(ge=0, description="money per demand unit per distance unit after compaction")


class WteSector(Strict):
    generation: PerCapita | None = None
    lines: Lines
    electricity: Electricity | None = None
    fly_ash: EchelonSpec | None = None
    kitchen: KitchenWaste | None = None
    transfer: TransferStations | None = None


# -------------------------------------------------------------------- cold chain
class Commodity(Strict):
    name: str = Field(min_length=1)
    origins: dict[str, Annotated[float, Field(ge=0)]] = Field(
        min_length=1, description="jurisdiction id -> average flow, units.demand")
    max_hours: float = Field(gt=0, description="longest trip from origin to hub (perishability), hours")
    peak_factor: float = Field(1.0, ge=1, description="peak-season flow / average flow")
    dwell_days: float = Field(1.0, gt=0, description="days a tonne stays in a hub's cold store")

    _name_exact = field_validator("name")(no_edge_space)  # part of the demand ids 'origin:name'

    @field_validator("name")
    @classmethod
    def _no_colon(cls, name: str) -> str:
        if ":" in name:  # the demand id 'origin:name' is split at its last ':'
            raise ValueError(f"{name!r}: a commodity name may not hold ':' (demand ids are 'origin:name')")
        return name

    @field_validator("origins")
    @classmethod
    def _origin_ids_exact(cls, origins: dict[str, float]) -> dict[str, float]:
        for key in origins:  # jurisdiction ids, matched exactly ('P ' would be one of its own)
            no_edge_space(key)
        return origins


class ColdChainSector(Strict):
    commodities: list[Commodity] = Field(min_length=1)
    speed_km_per_h: float = Field(gt=0, description="average refrigerated-truck speed, to turn hours into km")
    storage: dict[str, Annotated[float, Field(ge=0)]] = Field(
        description="cold-store capacity per hub size option (size name -> t)")
    outlets: EchelonSpec

    @field_validator("outlets")
    @classmethod
    def _all_goes_on(cls, outlets: EchelonSpec) -> EchelonSpec:
        if outlets.ratio != 1:  # a hub passes on what it receives; another ratio would make goods vanish
            raise ValueError(f"outlets.ratio must be 1 (a hub sends on all it receives), not {outlets.ratio:g}")
        return outlets

    @field_validator("commodities")
    @classmethod
    def _names_unique(cls, commodities: list[Commodity]) -> list[Commodity]:
        names = [c.name for c in commodities]
        twice = repeated(names)
        if twice:  # the demand ids 'origin:name' would repeat
            raise ValueError(f"commodity names must differ; {twice} given more than once")
        return commodities


SECTOR_MODELS = {"sewage": SewageSector, "wte": WteSector, "coldchain": ColdChainSector}
