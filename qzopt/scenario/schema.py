"""The scenario file format, as pydantic models.

Every field has a unit in its description; unknown fields are errors (a misspelt key must
never be silently ignored).  Large tables (jurisdictions, demands, sites) may be given inline
as lists or as ``{csv: path}`` with the path relative to the YAML file.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from qzopt.scenario.scenario import facility_count_problems
from qzopt.units import per_year_from_unit


def _takes(annotation: Any, kinds: tuple[type, ...]) -> bool:
    """Whether a field annotation accepts a plain value of one of ``kinds`` (not inside a container)."""
    if annotation in kinds:
        return True
    if typing.get_origin(annotation) is typing.Annotated:  # Annotated[float, Field(ge=0)]
        return _takes(typing.get_args(annotation)[0], kinds)
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return any(_takes(a, kinds) for a in typing.get_args(annotation))
    return False


def _bool_for_number(annotation: Any, value: Any) -> bool:
    """Whether ``value`` holds a YAML true/false where ``annotation`` wants a number (pydantic's
    lax mode would read it as 1/0)."""
    if isinstance(value, bool):
        return _takes(annotation, (float, int)) and not _takes(annotation, (bool,))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _bool_for_number(args[0], value)
    if origin in (Union, types.UnionType):
        return any(_bool_for_number(a, value) for a in args)
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return any(_bool_for_number(args[1], v) for v in value.values())
    if origin in (list, tuple) and args and isinstance(value, (list, tuple)):
        return any(_bool_for_number(args[0], v) for v in value)
    return False


class Strict(BaseModel):
    # inf / nan are refused in every number field: an amount or cost of inf is never what a user means
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        """true/false where a number is expected is an error, not 1/0 (``amount: true`` is a typo or a
        misplaced line, never 1 t/d)."""
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if field is not None and _bool_for_number(field.annotation, value):
            word = str(value).lower() if isinstance(value, bool) else "true/false"
            raise ValueError(f"{word} is not a number (write the number itself; yes/no values are not read as 1/0)")
        return value


def repeated(names: list[Any]) -> list[Any]:
    """The names that occur more than once, sorted."""
    return sorted({n for n in names if names.count(n) > 1})


def no_edge_space(value: Any) -> Any:
    """Ids are matched exactly, so ``"sA "`` would be an id of its own: refuse spaces at the ends."""
    if isinstance(value, str) and value != value.strip():
        raise ValueError(f"{value!r} begins or ends with a space (ids are matched exactly); write {value.strip()!r}")
    return value


def _above_zero(said: str = "must be above 0") -> Any:
    """A validator refusing a number that is not above 0 (text is a limit with its unit, read later)."""
    def check(value: float | str) -> float | str:
        if isinstance(value, (int, float)) and not value > 0:
            raise ValueError(said)
        return value
    return AfterValidator(check)


#: A distance limit: a number in units.distance, or one with its unit ('80 km'), which the
#: loader converts once units.distance is known (:meth:`qzopt.scenario.load._Resolver.distance_limit`).
DistanceLimit = Annotated[float | str, _above_zero()]
#: The same for a limit that may be left out (no limit).
OptionalLimit = Annotated[float | str, _above_zero("must be above 0; leave it out for no limit")]


class CsvRef(Strict):
    """A table stored in a CSV file next to the scenario.

    ``rename`` maps CSV column names to field names (``{name_zh: name, prefecture: group}``);
    ``ignore`` lists CSV columns to skip on purpose (e.g. ``source_note``).  Any other column
    that is not a field is an error, so a misspelt column never goes unnoticed.
    """

    csv: str = Field(description="path of the CSV file, relative to the scenario file")
    rename: dict[str, str] = Field(default_factory=dict, description="CSV column -> field name")
    ignore: list[str] = Field(default_factory=list, description="CSV columns to skip")


class Units(Strict):
    per_year: float | None = Field(
        None, gt=0, description="demand periods per year (365 for t/d, 8760 for t/h, 1 for t/yr); inferred from "
        "`demand`, needed when `demand` names no period; with a period, at most the periods a year holds (366 for "
        "t/d; fewer: e.g. 300 operating days)"
    )
    demand: str = Field("t/d", description="unit of demand amounts and capacities, e.g. t/d or m3/d")
    distance: Literal["km", "min"] = Field("km", description="unit of distances: km or min (travel time)")
    money: str = Field("yuan", description="currency of every cost")

    @field_validator("demand")
    @classmethod
    def _period_known(cls, demand: str, info: ValidationInfo) -> str:
        if info.data.get("per_year") is None:
            per_year_from_unit(demand)  # its ValueError names the unit and the way out
        return demand


class Jurisdiction(Strict):
    id: str = Field(min_length=1)
    name: str | None = None
    group: str | None = Field(None, description="grouping such as prefecture; used by cost sharing")
    lat: float | None = Field(None, ge=-90, le=90, description="latitude, WGS84 degrees")
    lon: float | None = Field(None, ge=-180, le=180, description="longitude, WGS84 degrees")
    node: str | None = Field(None, description="road-graph node; defaults to the id")
    population: float | None = Field(None, ge=0, description="residents (persons); sector models derive demand")
    urban_share: float | None = Field(None, ge=0, le=1, description="share of residents that are urban")
    elevation_m: float | None = Field(None, description="elevation of the seat, m (pumping costs)")

    _ids_exact = field_validator("id", "node")(no_edge_space)


class Demand(Strict):
    id: str = Field(min_length=1)
    jurisdiction: str
    amount: float = Field(ge=0, description="demand in units.demand (e.g. t/d)")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    node: str | None = Field(None, description="road-graph node; defaults to the jurisdiction's node")
    name: str | None = None
    max_distance: OptionalLimit | None = Field(None, description="this point's own distance limit: a number in "
                                               "units.distance, or with its unit ('80 km'), as constraints.max_distance")

    _ids_exact = field_validator("id", "jurisdiction", "node")(no_edge_space)


class SizeOption(Strict):
    """One size a plant can be built at (options of one site are alternatives)."""

    name: str = Field(min_length=1)
    capacity: float | None = Field(None, gt=0, description="units.demand; omit for unlimited")
    capex: float = Field(0.0, ge=0, description="investment, money (annualised with costs.discount_rate)")
    fixed_cost: float = Field(0.0, ge=0, description="fixed operating cost, money per year")
    unit_cost: float = Field(0.0, ge=0, description="variable operating cost, money per demand unit")
    min_load: float = Field(0.0, ge=0, description="minimum load when open, units.demand")

    @model_validator(mode="after")
    def _min_below_capacity(self) -> "SizeOption":
        if self.capacity is not None and self.min_load > self.capacity:
            raise ValueError(f"min_load {self.min_load} exceeds capacity {self.capacity}")
        return self


class Site(Strict):
    id: str = Field(min_length=1)
    jurisdiction: str
    sizes: Union[str, list[SizeOption]] = Field(
        description="name of an entry of `sizes` or a list of size options"
    )
    existing: Union[bool, str] = Field(
        False, description="true (single size) or the size name: the site must stay open at that size"
    )
    excluded: bool = Field(False, description="red-line area: never open")
    required: bool = Field(False, description="planned plant: must open, at a size the model chooses")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    node: str | None = None
    name: str | None = None

    _ids_exact = field_validator("id", "jurisdiction", "node", "sizes")(no_edge_space)


class Distances(Strict):
    method: Literal["great_circle", "road_graph", "matrix"] = "great_circle"
    circuity: float = Field(1.3, ge=1.0, description="road km per great-circle km (great_circle only)")
    edges: str | None = Field(None, description="road_graph: CSV with columns from,to and km (or min)")
    matrix: str | None = Field(None, description="matrix: CSV, first column demand id, one column per site id")
    within_node: float = Field(0.0, ge=0, description="distance when demand and site share a node, units.distance")
    collection: float = Field(0.0, ge=0, description="leg added to every demand-to-site distance (from where the "
                              "demand arises to its node, e.g. across a county to its seat), units.distance")


class Costs(Strict):
    transport: float = Field(0.0, ge=0, description="money per demand unit per distance unit")
    matrix: str | None = Field(None, description="CSV of cost per demand-site pair (overrides transport)")
    matrix_per: Literal["unit", "demand"] = Field(
        "unit", description="matrix entries are per demand unit (x amount x per_year) or for the whole demand per year"
    )
    discount_rate: float = Field(0.0, ge=0, lt=1, description="for annualising capex; 0 = straight line")
    lifetime_years: float = Field(1.0, gt=0, description="economic life of a plant, years")

    @model_validator(mode="after")
    def _one_source_of_pair_costs(self) -> "Costs":
        """``transport`` beside a cost ``matrix`` would be ignored (the matrix gives every pair's
        cost), and so would ``matrix_per`` without one."""
        if self.matrix is not None and "transport" in self.model_fields_set:
            raise ValueError("costs.transport is not read when costs.matrix gives the cost of every demand-site "
                             "pair: remove transport (or matrix, to cost hauls by distance)")
        if self.matrix is None and "matrix_per" in self.model_fields_set:
            raise ValueError("costs.matrix_per says how to read costs.matrix, which is not given: remove "
                             "matrix_per, or give the matrix")
        return self


class DemandRule(Strict):
    serve: float = Field(1.0, ge=0, le=1, description="share of total demand that must be served")
    penalty: float | None = Field(None, ge=0, description="money per demand unit left unserved")

    @model_validator(mode="after")
    def _penalty_if_partial(self) -> "DemandRule":
        if self.serve < 1 and self.penalty is None:
            raise ValueError("serve < 1 needs a `penalty` per unserved unit (0 is allowed)")
        if self.serve == 1 and self.penalty is not None:
            raise ValueError(f"`penalty: {self.penalty:g}` has no effect with `serve: 1` (every unit is served, the "
                             "default): give `serve` below 1 (0 lets any demand go unserved at the penalty) or "
                             "leave `penalty` out")
        return self


class FacilityCount(Strict):
    exactly: int | None = Field(None, ge=0)
    at_most: int | None = Field(None, ge=0)
    at_least: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> "FacilityCount":
        problems = facility_count_problems(self.exactly, self.at_most, self.at_least)
        if problems:
            raise ValueError("; ".join(message for message, _ in problems))
        return self


class Constraints(Strict):
    demand: DemandRule = DemandRule()
    single_sourcing: bool = Field(False, description="each demand point served by exactly one site")
    max_distance: float | str | None = Field(None, description="e.g. 80 or '80 km'; pairs beyond are dropped")
    facilities: FacilityCount | None = None
    budget: float | None = Field(None, ge=0, description="total capex of new (non-existing) plants, money")
    cross_border: Literal["any", "adjacent", "own"] = "any"
    adjacency: list[tuple[str, str]] | None = Field(
        None, description="pairs of two different adjacent jurisdictions; defaults to the road graph's edges "
        "(leave it out for that; an empty list is refused)"
    )
    min_load: bool = Field(True, description="enforce the size options' minimum loads")


class Formulation(Strict):
    strong_linking: bool = Field(True, description="add x_ij <= open_j (tighter LP bound, more rows)")


class SolverBlock(Strict):
    name: Literal["auto", "highs", "cbc", "ortools", "ortools-sat"] | str = "auto"
    time_limit: float | None = Field(60.0, gt=0, description="seconds per back end")
    gap: float = Field(0.0, ge=0, lt=1, description="relative optimality gap; 0 = prove optimal")
    fallback: list[str] | None = Field(None, description="back ends tried in order if the first fails")
    threads: int | None = Field(None, ge=1)

    @field_validator("name", "fallback")
    @classmethod
    def _known_solvers(cls, value: Any, info: ValidationInfo) -> Any:
        """A misspelt solver is refused here, not tried and skipped as if it were not installed."""
        from qzopt.solvers.registry import unknown_names

        problem = unknown_names(value, first=info.field_name == "name")
        if problem:
            raise ValueError(problem)
        return value


class Fees(Strict):
    """Equalised treatment fees (money per demand unit, e.g. yuan per t or per m3)."""

    mode: Literal["none", "uniform", "banded"] = Field("uniform", description="one regional fee, or fees within a band")
    band: float = Field(0.10, ge=0, lt=1, description="banded: largest relative deviation from the regional mean")
    recovery: Literal["per_plant", "pooled"] = Field(
        "per_plant", description="every plant covers its own cost, or all plants together")
    max_fee: float | None = Field(None, ge=0, description="fee cap, money per demand unit (required unless mode is none; "
                                  "0: plants must break even without fees)")
    subsidy_per_unit: float = Field(0.0, ge=0, description="paid by a higher government, money per unit treated")
    objective: Literal["cost", "fee"] = Field("cost", description="minimise total cost, or the fee itself")
    compare: bool = Field(True, description="also solve without fee rules: the price of equalisation")

    @field_validator("band")
    @classmethod
    def _band_only_when_banded(cls, value: float, info: ValidationInfo) -> float:
        """A band given with mode uniform would be ignored (it is only read when banded); mode none
        (fees switched off, e.g. ``--set fees.mode=none`` on a banded file) keeps it."""
        mode = info.data.get("mode", "uniform")
        if mode == "uniform":
            raise ValueError(f"fees.band is only read with mode: banded (here mode is {mode!r}): "
                             "remove band, or set mode: banded")
        return value

    @model_validator(mode="after")
    def _cap_given(self) -> "Fees":
        if self.mode != "none" and self.max_fee is None:
            raise ValueError(f"fees.max_fee is required with mode {self.mode!r} (the fee cap, money per "
                             "demand unit); mode none needs no cap")
        return self


class ScenarioSpec(Strict):
    """Top level of a scenario YAML file."""

    name: str = Field(min_length=1, description="shown in reports")
    description: str | None = None
    sector: Literal["facility", "sewage", "wte", "coldchain"] = Field(
        "facility", description="model family: the generic siting model or a sector model")
    units: Units = Units()
    jurisdictions: Union[list[Jurisdiction], CsvRef]
    demands: Union[list[Demand], CsvRef, None] = Field(
        None, description="demand points; sector models can derive them from population instead")
    sizes: dict[str, list[SizeOption]] = Field(default_factory=dict, description="named sets of size options")
    sites: Union[list[Site], CsvRef]
    distances: Distances = Distances()
    costs: Costs = Costs()
    constraints: Constraints = Constraints()
    formulation: Formulation = Formulation()
    solver: SolverBlock = SolverBlock()
    fees: Fees | None = None
    sewage: "SewageSector | None" = None
    wte: "WteSector | None" = None
    coldchain: "ColdChainSector | None" = None

    @model_validator(mode="after")
    def _sector_block(self) -> "ScenarioSpec":
        blocks = {k for k in ("sewage", "wte", "coldchain") if getattr(self, k) is not None}
        if self.sector != "facility" and self.sector not in blocks:
            raise ValueError(f"sector {self.sector!r} needs a `{self.sector}:` block")
        extra = blocks - {self.sector}
        if extra:
            raise ValueError(f"block(s) {sorted(extra)} do not belong to sector {self.sector!r}")
        return self


from qzopt.scenario.sectors import ColdChainSector, SewageSector, WteSector  # noqa: E402

ScenarioSpec.model_rebuild()
