"""The resolved scenario: validated tables and matrices, ready for a model builder.

A :class:`Scenario` is what every input path funnels into (YAML via
:func:`qzopt.scenario.load.load_scenario`, OR-Library readers, or pandas DataFrames via
:meth:`Scenario.from_frames`).  It is never mutated by solving; use :meth:`replace` to make
variants.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd

from qzopt.errors import Problem, ScenarioError, closest, few, suggest
from qzopt.units import money_per_unit, per_year_from_unit


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _finite_ge0(v: Any) -> bool:
    return _number(v) and math.isfinite(v) and v >= 0


def _optional(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or ok(v)


def _one_of(*allowed: Any) -> Callable[[Any], bool]:
    return lambda v: v in allowed


def _flag(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_))


def _count(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0


def refuse_bad_fields(obj: Any, prefix: str, rules: dict[str, tuple[Callable[[Any], bool], str]]) -> None:
    """Raise :class:`ScenarioError` naming every field of ``obj`` whose value breaks its rule
    (``{field: (test, what it must be)}``); the API's counterpart of the YAML schema's ranges."""
    problems = [Problem(f"{getattr(obj, name)!r}: must be {want}", field=f"{prefix}.{name}")
                for name, (ok, want) in rules.items() if not ok(getattr(obj, name))]
    if problems:
        raise ScenarioError(problems)


def _keywords_named(prefix: str) -> Callable[[type], type]:
    """Class decorator for the API's dataclasses: a keyword that is not a field (``Policy(max_distnce=80)``)
    or too many values is a ScenarioError naming the field, with "Did you mean ...?" as in
    :meth:`Scenario.replace`, not a plain TypeError.  Wraps the ``__init__`` the dataclass made."""

    def wrap(cls: type) -> type:
        init = cls.__init__
        names = [f.name for f in dataclasses.fields(cls) if f.init]

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            problems = []
            if len(args) > len(names):
                problems.append(Problem(f"{cls.__name__} takes at most {len(names)} values ({', '.join(names)}), "
                                        f"got {len(args)}", field=prefix))
            for k in kwargs:
                if k in names[:len(args)]:
                    problems.append(Problem(f"{k!r} is given twice (by position and by name)", field=f"{prefix}.{k}"))
                elif k not in names:
                    hint = suggest(k, names)
                    scenario_field = closest(k, [f.name for f in dataclasses.fields(Scenario)], cutoff=0.8)
                    if closest(k, names) is None and scenario_field not in (None, prefix):  # not Units(units=)
                        hint = (f"Did you mean the scenario's {scenario_field!r}? It is an argument of "
                                f"Scenario.from_frames and Scenario.replace, not of {cls.__name__}.")
                    problems.append(Problem(f"{cls.__name__} has no field {k!r}", field=f"{prefix}.{k}", hint=hint))
            if problems:
                raise ScenarioError(problems)
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        return cls

    return wrap


#: Distance units: the YAML's ``units.distance`` (km, or min of travel time) and 'cost', which the
#: OR-Library readers use for instances whose "distance" matrix is a cost per unit.
DISTANCE_UNITS = ("km", "min", "cost")


#: The most periods of each length a year can hold (a leap year's days and hours, a year's weeks
#: begun), by the calendar count :func:`qzopt.units.per_year_from_unit` gives.
_MOST_PERIODS = {8760.0: (8784.0, "hours"), 365.0: (366.0, "days"), 52.0: (53.0, "weeks"),
                 12.0: (12.0, "months"), 1.0: (1.0, "years")}


def per_year_problem(demand: str, per_year: float | None) -> str | None:
    """Why ``per_year`` cannot go with the demand unit ``demand`` (None when it can): with a unit
    that names its period (``t/d``), per_year is how many of those periods a year has in operation,
    so it may be below the calendar count (300 operating days) but never above it (``t/d`` with
    per_year 8760 would scale every cost 24-fold)."""
    if isinstance(per_year, bool) or not isinstance(per_year, (int, float)) or not math.isfinite(per_year):
        return None  # None: derived from the unit; not a number: refused as such
    try:
        calendar = per_year_from_unit(str(demand))
    except ValueError:
        return None  # a unit without a period: per_year says what it is
    most, periods = _MOST_PERIODS.get(calendar, (calendar, "periods"))
    if per_year <= most:
        return None
    holds = periods if most != 1 else periods[:-1]
    return (f"per_year {per_year:g} is more than the {most:g} {holds} a year holds: per_year is the number of "
            f"demand periods in a year, and units.demand {demand!r} gives amounts per {periods[:-1]} "
            f"({calendar:g} a year; fewer for a plant that runs part of the year, e.g. 300 operating days)")


@_keywords_named("units")
@dataclass(frozen=True)
class Units:
    """Units of the scenario's numbers (all costs are in ``money``; results in money per year).

    ``per_year`` (demand periods per year) is derived from ``demand`` when not given: 365 for
    ``t/d``, 8760 for ``t/h``, 1 for ``t/yr`` (:func:`qzopt.units.per_year_from_unit`); a demand
    unit that names no period needs it.
    """

    demand: str = "t/d"
    distance: str = "km"
    money: str = "yuan"
    per_year: float | None = None  # demand periods per year; None: from ``demand``

    def __post_init__(self) -> None:
        if self.per_year is None:
            try:
                object.__setattr__(self, "per_year", per_year_from_unit(str(self.demand)))
            except ValueError as exc:
                raise ScenarioError(Problem(str(exc), field="units.demand")) from None
        else:
            problem = per_year_problem(self.demand, self.per_year)
            if problem is not None:
                raise ScenarioError(Problem(problem, field="units.per_year"))
        refuse_bad_fields(self, "units", {
            "demand": (lambda v: isinstance(v, str) and v.strip() != "", "a unit such as 't/d'"),
            "distance": (_one_of(*DISTANCE_UNITS), "one of 'km', 'min' (travel time), as in the YAML, or 'cost' "
                                                   "(OR-Library instances, whose distances are costs)"),
            "money": (lambda v: isinstance(v, str) and v.strip() != "", "a currency such as 'yuan'"),
            "per_year": (lambda v: _number(v) and math.isfinite(v) and v > 0, "a number of periods above 0"),
        })

    @property
    def fee_unit(self) -> str:
        """The unit of a fee or a cost per unit delivered ('yuan/t' for yuan and t/d): the money
        per demand quantity, without the period (:func:`qzopt.units.money_per_unit`)."""
        return money_per_unit(self.money, self.demand)

    @classmethod
    def for_demand(cls, demand: str, distance: str = "km", money: str = "yuan",
                   per_year: float | None = None) -> "Units":
        """Units for a demand unit such as "t/d" or "m3/d", with ``per_year`` (periods of that
        unit in a year: 365 for "/d") worked out from it when not given."""
        return cls(demand, distance, money, per_year)


def facility_count_problems(exactly: int | None, at_most: int | None, at_least: int | None,
                            prefix: str = "") -> list[tuple[str, str]]:
    """How a facility count rule contradicts itself: (message, the field to blame: ``exactly``
    or ``at_least``) for each rule it breaks.  The YAML's ``constraints.facilities`` and
    :class:`Policy` both ask this; ``prefix`` is the fields' prefix in the message."""
    problems = []
    if exactly is not None and (at_most is not None or at_least is not None):
        problems.append((f"give either {prefix}exactly or {prefix}at_most/at_least, not both", "exactly"))
    if at_most is not None and at_least is not None and at_least > at_most:
        problems.append((f"{prefix}at_least {at_least} > {prefix}at_most {at_most}", "at_least"))
    return problems


@_keywords_named("policy")
@dataclass(frozen=True)
class Policy:
    """Which constraint blocks are active and their parameters."""

    serve_share: float = 1.0  # share of total demand that must be served
    unserved_penalty: float | None = None  # money per demand unit not served
    single_sourcing: bool = False
    max_distance: float | None = None  # units.distance
    facilities_exactly: int | None = None
    facilities_at_most: int | None = None
    facilities_at_least: int | None = None
    budget: float | None = None  # capex of new plants, money
    cross_border: Literal["any", "adjacent", "own"] = "any"
    min_load: bool = True
    strong_linking: bool = True

    def __post_init__(self) -> None:
        refuse_bad_fields(self, "policy", {
            "serve_share": (lambda v: _number(v) and 0 <= v <= 1, "a share from 0 to 1"),
            "unserved_penalty": (_optional(_finite_ge0), "None or a finite number >= 0 (money per demand unit)"),
            "single_sourcing": (_flag, "True or False"),
            "max_distance": (_optional(lambda v: _number(v) and v > 0), "None or a number above 0 (units.distance)"),
            "facilities_exactly": (_optional(_count), "None or a whole number >= 0"),
            "facilities_at_most": (_optional(_count), "None or a whole number >= 0"),
            "facilities_at_least": (_optional(_count), "None or a whole number >= 0"),
            "budget": (_optional(_finite_ge0), "None or a finite number >= 0 (money)"),
            "cross_border": (_one_of("any", "adjacent", "own"), "one of 'any', 'adjacent', 'own'"),
            "min_load": (_flag, "True or False"),
            "strong_linking": (_flag, "True or False"),
        })
        # the rules between fields, as the YAML schema has them
        problems = []
        for message, fld in facility_count_problems(self.facilities_exactly, self.facilities_at_most,
                                                    self.facilities_at_least, "facilities_"):
            problems.append(Problem(message, field=f"policy.facilities_{fld}"))
        if self.serve_share < 1 and self.unserved_penalty is None:
            problems.append(Problem(f"serve_share {self.serve_share!r} below 1 needs unserved_penalty (money per "
                                    "demand unit left unserved); without one every demand is served and the share "
                                    "would be ignored", field="policy.serve_share"))
        if self.serve_share == 1 and self.unserved_penalty is not None:
            problems.append(Problem(f"unserved_penalty {self.unserved_penalty!r} has no effect with serve_share 1 "
                                    "(every unit is served, the default): give serve_share below 1 (0 lets any "
                                    "demand go unserved at the penalty) or leave unserved_penalty out",
                                    field="policy.unserved_penalty"))
        if problems:
            raise ScenarioError(problems)

    @property
    def partial_service(self) -> bool:
        """Whether demand may go unserved at ``unserved_penalty`` (money per demand unit)."""
        return self.unserved_penalty is not None


@_keywords_named("fees")
@dataclass(frozen=True)
class FeeRules:
    """Equalised-fee rules (docs/fees.md); fees are money per demand unit.

    ``max_fee`` (the fee cap, money per demand unit; 0: plants must break even without fees)
    is required unless ``mode`` is ``"none"``, as in the YAML: ``FeeRules(max_fee=80)``.  It
    must be finite (the cap is the big-M of the fee constraints).
    """

    mode: Literal["none", "uniform", "banded"] = "uniform"
    band: float = 0.10
    recovery: Literal["per_plant", "pooled"] = "per_plant"
    max_fee: float | None = None  # required unless mode is "none"
    subsidy_per_unit: float = 0.0
    objective: Literal["cost", "fee"] = "cost"
    compare: bool = True

    def __post_init__(self) -> None:
        if self.max_fee is None and self.mode != "none":
            raise ScenarioError(Problem(f"fees.max_fee is required with mode {self.mode!r} (the fee cap, money per "
                                        "demand unit); mode none needs no cap", field="fees.max_fee",
                                        hint="e.g. FeeRules(max_fee=80); 0: plants must break even without fees."))
        refuse_bad_fields(self, "fees", {
            "mode": (_one_of("none", "uniform", "banded"), "one of 'none', 'uniform', 'banded'"),
            "band": (lambda v: _number(v) and 0 <= v < 1, "a relative band from 0 to below 1"),
            "recovery": (_one_of("per_plant", "pooled"), "one of 'per_plant', 'pooled'"),
            "max_fee": (lambda v: (v is None and self.mode == "none") or _finite_ge0(v),
                        "a finite fee cap >= 0 (money per demand unit; 0: no fee)"),
            "subsidy_per_unit": (_finite_ge0, "a finite number >= 0 (money per demand unit)"),
            "objective": (_one_of("cost", "fee"), "one of 'cost', 'fee'"),
            "compare": (_flag, "True or False"),
        })

    @property
    def active(self) -> bool:
        """Whether a fee rule applies (``mode`` is not "none")."""
        return self.mode != "none"


@_keywords_named("solver")
@dataclass(frozen=True)
class SolverSettings:
    """How to solve: the YAML's ``solver`` block, with its ranges.

    ``name``: the back end tried first (``auto``, ``highs``, ``cbc``, ``ortools``, ``ortools-sat``
    or ``pulp:<SOLVER>``); ``time_limit``: seconds of wall-clock time per back end, above 0 (None:
    no limit); ``gap``: the relative optimality gap at which the search may stop, from 0 (prove
    optimal) to below 1 (0.01 = 1 %); ``fallback``: the back ends tried in order if the first
    fails (None: the default order; ``()``: none; a string "cbc,ortools" is read as on the
    command line); ``threads``: a whole number >= 1 (None: the back end decides).
    """

    name: str = "auto"
    time_limit: float | None = 60.0  # seconds per back end; None: no limit
    gap: float = 0.0  # relative, 0 <= gap < 1
    fallback: tuple[str, ...] | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fallback, str):  # "cbc" or "cbc,ortools", as solve() and the command line read it
            object.__setattr__(self, "fallback", tuple(p.strip() for p in self.fallback.split(",") if p.strip()))
        try:
            refuse_bad_fields(self, "solver", {  # the ranges of the YAML's SolverBlock (schema.py)
                "name": (lambda v: isinstance(v, str) and v.strip() != "",
                         "a solver's name (auto, highs, cbc, ortools, ortools-sat, pulp:<SOLVER>)"),
                "time_limit": (_optional(lambda v: _number(v) and math.isfinite(v) and v > 0),
                               "None (no limit) or a number of seconds above 0 (per back end)"),
                "gap": (lambda v: _number(v) and 0 <= v < 1,
                        "a relative gap from 0 (prove optimal) to below 1 (0.01 = 1 %)"),
                "fallback": (_optional(lambda v: isinstance(v, (tuple, list)) and all(isinstance(n, str) and n.strip()
                                                                                      for n in v)),
                             "None (the default order) or a tuple of solver names (() for none)"),
                "threads": (_optional(lambda v: _count(v) and v >= 1),
                            "None (the back end decides) or a whole number >= 1"),
            })
            problems: list[Problem] = []
        except ScenarioError as err:
            problems = err.problems
        if self.name != "auto" or self.fallback:  # no import while this module makes its default settings
            from qzopt.solvers.registry import unknown_names

            named = {p.field for p in problems}  # a name that is not text is told so, not looked up
            problems += [Problem(said, field=f"solver.{fld}") for fld, said in
                         (("name", "solver.name" not in named and unknown_names(self.name, first=True)),
                          ("fallback", "solver.fallback" not in named and unknown_names(self.fallback))) if said]
        if problems:
            raise ScenarioError(problems)
        if isinstance(self.fallback, list):
            object.__setattr__(self, "fallback", tuple(self.fallback))


def capital_recovery_factor(rate: float, years: float) -> float:
    """Annual payment per unit of capex: r(1+r)^n / ((1+r)^n - 1); 1/n when r = 0."""
    if rate == 0:
        return 1.0 / years
    g = (1.0 + rate) ** years
    return rate * g / (g - 1.0)


@dataclass(frozen=True)
class Scenario:
    """A complete siting problem.

    Tables (pandas, indexed by id):

    - ``jurisdictions``: name, group, lat, lon
    - ``demands``: jurisdiction, amount (``units.demand``), lat, lon
    - ``sites``: jurisdiction, lat, lon, existing (size name or ""), excluded (bool), required
      (bool: a planned plant that must open, at any size)
    - ``sizes``: one row per (site, size): capacity (units.demand, inf = unlimited), capex
      (money), fixed_cost (money/yr), unit_cost (money per demand unit), min_load (units.demand)

    Matrices (demand x site, rows in ``demands`` order, columns in ``sites`` order):

    - ``distance`` in ``units.distance`` (inf = no connection)
    - ``cost`` (optional): money per year for serving the *whole* demand of a point from a
      site; when absent, ``transport`` (money per demand unit per distance unit) is used.
    """

    name: str
    jurisdictions: pd.DataFrame
    demands: pd.DataFrame
    sites: pd.DataFrame
    sizes: pd.DataFrame
    distance: np.ndarray
    units: Units = Units()
    cost: np.ndarray | None = None
    transport: float = 0.0
    discount_rate: float = 0.0
    lifetime_years: float = 1.0
    policy: Policy = Policy()
    solver: SolverSettings = SolverSettings()
    adjacency: frozenset[frozenset[str]] = frozenset()
    sector: str = "facility"
    description: str = ""
    source: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    sector_data: Any = None  # qzopt.scenario.sector_data.SectorData for sector scenarios
    fees: FeeRules | None = None

    # ---------------------------------------------------------------- derived
    @property
    def crf(self) -> float:
        """Capital recovery factor: annual payment per unit of capex (1/yr), from
        ``discount_rate`` and ``lifetime_years``."""
        return capital_recovery_factor(self.discount_rate, self.lifetime_years)

    def annual_fixed_cost(self) -> np.ndarray:
        """Per size option: annualised capex + fixed operating cost, money per year."""
        return self.sizes["capex"].to_numpy(float) * self.crf + self.sizes["fixed_cost"].to_numpy(float)

    def annual_assignment_cost(self) -> np.ndarray:
        """Demand x site: money per year to serve a point's whole demand from a site."""
        if self.cost is not None:
            return self.cost
        amount = self.demands["amount"].to_numpy(float)[:, None]
        return amount * self.units.per_year * self.transport * self.distance

    def digest(self, fees: bool = True) -> str:
        """A content hash of everything that affects solutions (for caches of coalition costs, and
        for reports that put a fee frontier or a cost sharing beside a result).  ``fees=False``
        leaves the fee rules out (a fee frontier is of the scenario whatever its fee cap)."""
        import hashlib

        h = hashlib.sha256()
        for frame in (self.jurisdictions, self.demands, self.sites, self.sizes):
            h.update(pd.util.hash_pandas_object(frame.reset_index().astype(str), index=False).to_numpy().tobytes())
        for arr in (self.distance, self.cost):
            if arr is not None:
                h.update(np.ascontiguousarray(arr).tobytes())
        h.update(repr((self.units, self.policy, self.transport, self.discount_rate, self.lifetime_years,
                       sorted(map(sorted, self.adjacency)), self.sector, self.fees if fees else None)).encode())
        if self.sector_data is not None:
            h.update(self.sector_data.spec.model_dump_json().encode())
        return h.hexdigest()[:16]

    def replace(self, **changes: Any) -> "Scenario":
        """A copy with some fields changed; ``policy``, ``solver``, ``fees`` and ``units`` may be
        given as dicts of the fields to change (``replace(policy={"max_distance": 80})``).
        Validated again; an unknown field is refused by name."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ScenarioError([Problem(f"a scenario has no field {k!r}", field=k,
                                         hint=suggest(k, [f.name for f in dataclasses.fields(self)]))
                                 for k in unknown])
        for key, base in (("policy", self.policy), ("solver", self.solver), ("fees", self.fees or FeeRules),
                          ("units", self.units)):  # no fee rules yet: the dict gives them all (max_fee too)
            if isinstance(changes.get(key), dict):
                names = [f.name for f in dataclasses.fields(base)]
                wrong = [k for k in changes[key] if k not in names]
                if wrong:
                    raise ScenarioError([Problem(f"{key} has no field {k!r}", field=f"{key}.{k}",
                                                 hint=suggest(k, names)) for k in wrong])
                if key == "units" and "demand" in changes[key] and "per_year" not in changes[key]:
                    changes[key] = {**changes[key], "per_year": None}  # derived again from the new unit
                changes[key] = base(**changes[key]) if base is FeeRules else dataclasses.replace(base, **changes[key])
        if "demands" in changes:
            changes["demands"] = _tidy_demands(changes["demands"])
        if "sizes" in changes:
            changes["sizes"] = _tidy_sizes(changes["sizes"])
        if "sites" in changes:
            changes["sites"] = _tidy_sites(changes["sites"], changes.get("sizes", self.sizes))
        if "jurisdictions" in changes:
            changes["jurisdictions"] = _tidy_jurisdictions(changes["jurisdictions"])
        for key in ("distance", "cost"):  # arrays, nested lists or DataFrames, as from_frames takes them
            if key in changes and not (key == "cost" and changes[key] is None):  # cost None: by transport
                changes[key] = _distance_matrix(changes[key], changes.get("demands", self.demands).index,
                                                changes.get("sites", self.sites).index, key)
        if "extras" not in changes and "overrides" in self.extras:  # no longer the file with those --set changes
            changes["extras"] = {k: v for k, v in self.extras.items() if k != "overrides"}
        new = dataclasses.replace(self, **changes)
        new.validate(require_sector_data=True)
        return new

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frames(
        cls,
        demands: pd.DataFrame,
        sites: pd.DataFrame,
        sizes: pd.DataFrame,
        distance: np.ndarray | pd.DataFrame,
        jurisdictions: pd.DataFrame | None = None,
        name: str = "scenario",
        **kwargs: Any,
    ) -> "Scenario":
        """Build a scenario from pandas tables (notebook path; the ranges of the YAML schema).

        ``demands`` needs ``id`` (index or column), ``jurisdiction`` and ``amount``; ``sites``
        needs ``id`` and ``jurisdiction``; ``sizes`` needs ``site``, ``size`` and ``capacity``
        (other cost columns default to 0).  ``distance`` is a demand x site array, or a
        DataFrame indexed by demand ids with site ids as columns (reordered to match; ids are
        compared as text, as the tables' ids are); ``cost`` (money per year for a point's whole
        demand from a site) is given the same way.
        Columns qzopt reads are in :data:`COLUMNS`; an extra column close to one of them that is
        absent (``fixed_costs``) is refused as a misspelling, other extra columns are kept.
        Keyword arguments are :class:`Scenario` fields (``transport``, ``units``, ``policy``, ...).
        Raises :class:`ScenarioError` naming every field that is wrong.
        """
        for what, frame in (("demands", demands), ("sites", sites), ("sizes", sizes), ("jurisdictions", jurisdictions)):
            if not isinstance(frame, pd.DataFrame) and not (what == "jurisdictions" and frame is None):
                raise ScenarioError(Problem(f"{what} must be a pandas DataFrame (got {type(frame).__name__})",
                                            field=what, hint="e.g. pd.DataFrame(rows) or pd.read_csv(path)."))
        unknown = sorted(set(kwargs) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            known = [f.name for f in dataclasses.fields(cls) if f.name not in
                     ("demands", "sites", "sizes", "distance", "jurisdictions", "name")]
            raise ScenarioError([Problem(f"unknown argument {k!r}", field=k, hint=suggest(k, known))
                                 for k in unknown])
        for what, frame in (("demands", demands), ("sites", sites), ("sizes", sizes), ("jurisdictions", jurisdictions)):
            if frame is not None:
                _near_misses(frame, what)
        demands = _tidy_demands(demands)
        sizes = _tidy_sizes(sizes)
        sites = _tidy_sites(sites, sizes)
        if jurisdictions is None:
            ids = pd.Index(pd.unique(pd.concat([demands["jurisdiction"], sites["jurisdiction"]])), name="id")
            jurisdictions = pd.DataFrame({"name": ids, "group": ids, "lat": np.nan, "lon": np.nan}, index=ids)
        jurisdictions = _tidy_jurisdictions(jurisdictions)
        distance = _distance_matrix(distance, demands.index, sites.index)
        if kwargs.get("cost") is not None:
            kwargs["cost"] = _distance_matrix(kwargs["cost"], demands.index, sites.index, "cost")
        sc = cls(
            name=name,
            jurisdictions=jurisdictions,
            demands=demands,
            sites=sites,
            sizes=sizes,
            distance=distance,
            **kwargs,
        )
        sc.validate(require_sector_data=True)
        return sc

    def validate(self, *, require_sector_data: bool = False) -> None:
        """Check ids, shapes, signs and ranges; raises :class:`ScenarioError` listing every problem.

        ``require_sector_data``: a sector scenario (sewage, wte, coldchain) must carry its sector data, as
        :meth:`from_frames` and :meth:`replace` ask (the YAML loader validates the scenario once
        before it attaches them, so that is not asked by default)."""
        problems: list[Problem] = []
        file = str(self.source) if self.source else None

        def bad(msg: str, fld: str, hint: str | None = None) -> None:
            problems.append(Problem(msg, file=file, field=fld, hint=hint))

        def numbers(frame: pd.DataFrame, col: str, fld: str) -> np.ndarray | None:
            """The column as floats, or None (and a problem) when it holds other things than numbers."""
            column = frame[col]
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                return column.to_numpy(float)
            try:
                _numeric(column, fld)  # names the rows that are not numbers
            except ScenarioError as err:
                problems.extend(dataclasses.replace(p, file=file) for p in err.problems)
                return None
            if not column.map(_missing).all():  # text of numbers: from_frames and replace read it, this does not
                bad(f"{col} must be numbers (got {column.dtype} values)", fld,
                    "Give the table to Scenario.from_frames or Scenario.replace, which read text of numbers.")
            return None

        if not isinstance(self.name, str) or not self.name.strip():
            bad(f"{self.name!r}: must be a name (non-empty text)", "name", "e.g. name='qianzhong-msw'.")
        for fld, kind in (("units", Units), ("policy", Policy), ("solver", SolverSettings)):
            if not isinstance(getattr(self, fld), kind):
                bad(f"must be a {kind.__name__} (got {type(getattr(self, fld)).__name__})", fld,
                    f"e.g. qzopt.{kind.__name__}(...) or scenario.replace({fld}={{...}}).")
        if self.fees is not None and not isinstance(self.fees, FeeRules):
            bad(f"must be FeeRules or None (got {type(self.fees).__name__})", "fees")
        from qzopt.models import SECTORS

        kind = getattr(self.sector_data, "kind", None)
        if not isinstance(self.sector, str) or self.sector not in SECTORS:
            bad(f"{self.sector!r}: must be one of {', '.join(SECTORS)} (the model family; facility: the generic "
                "siting model)", "sector", suggest(self.sector, SECTORS, otherwise=""))
        elif self.sector_data is not None and kind not in SECTORS[1:]:
            bad(f"sector_data must be the sector data qzopt.load_scenario attaches, or None (got "
                f"{type(self.sector_data).__name__})", "sector_data")
        elif self.sector != "facility" and self.sector_data is not None and kind != self.sector:
            bad(f"sector {self.sector!r} but sector_data is that of sector {kind!r}", "sector",
                f"The {self.sector} model reads the `{self.sector}:` block of a scenario file: load that file, or "
                f"keep sector {kind!r}.")
        elif self.sector != "facility" and self.sector_data is None and require_sector_data:
            bad(f"sector {self.sector!r} needs its sector data (sector_data, which qzopt.load_scenario resolves "
                f"from the file's `{self.sector}:` block), and this scenario has none", "sector",
                f"Load a scenario file with a `{self.sector}:` block, or use sector 'facility' (the generic "
                "siting model).")
        for fld, ok, want in (("transport", _finite_ge0, "a finite number >= 0 (money per demand unit per "
                                                          "distance unit)"),
                              ("discount_rate", lambda v: _number(v) and 0 <= v < 1,
                               "a rate from 0 to below 1 (0.06 = 6 %)"),
                              ("lifetime_years", lambda v: _number(v) and math.isfinite(v) and v > 0,
                               "a number of years above 0")):
            if not ok(getattr(self, fld)):
                bad(f"{getattr(self, fld)!r}: must be {want}", fld)
        if problems:  # the checks below compute with these
            raise ScenarioError(problems)
        for tname, frame in (("jurisdictions", self.jurisdictions), ("demands", self.demands), ("sites", self.sites)):
            dup = frame.index[frame.index.duplicated()].unique().tolist()
            if dup:
                bad(f"duplicate ids {few(dup)}", f"{tname}.id", "Every id must be unique.")
            blank = _blank(frame.index)  # a scenario built without from_frames: a NaN id or jurisdiction
            if blank.any():                # fails later (np.bincount in the result's jurisdiction table)
                bad(f"missing ids in rows {few(np.flatnonzero(blank).tolist())}", f"{tname}.id")
            if tname != "jurisdictions" and _blank(frame["jurisdiction"]).any():
                bad(f"missing jurisdiction in rows {few(frame.index[_blank(frame['jurisdiction'])].tolist())}",
                    f"{tname}.jurisdiction")
        known = set(self.jurisdictions.index)
        for tname, frame in (("demands", self.demands), ("sites", self.sites)):
            unknown = sorted(set(frame["jurisdiction"]) - known)
            if unknown:
                bad(f"jurisdiction ids {few(unknown)} are not in `jurisdictions`", f"{tname}.jurisdiction",
                    "Add them to `jurisdictions` or correct the spelling.")
        amount = self.demands["amount"]
        amount = (amount.to_numpy(float) if pd.api.types.is_numeric_dtype(amount)
                  and not pd.api.types.is_bool_dtype(amount) else np.full(len(amount), np.nan))
        if np.any(~np.isfinite(amount)) or np.any(amount < 0):
            rows = self.demands.index[~(np.isfinite(amount) & (amount >= 0))].tolist()
            bad(f"demand amounts must be finite and >= 0 (rows {few(rows)})", "demands.amount")
        sz = self.sizes
        size_sites = set(sz["site"])
        unknown_sites = sorted(size_sites - set(self.sites.index), key=str)
        if unknown_sites:
            bad(f"size options for unknown sites {few(unknown_sites)}", "sizes.site")
        no_size = [s for s in self.sites.index if s not in size_sites]
        if no_size:
            bad(f"sites {few(no_size)} have no size option", "sites.sizes", "Give each site at least one size.")
        if sz.duplicated(["site", "size"]).any():
            dups = sz.loc[sz.duplicated(["site", "size"]), ["site", "size"]].values.tolist()
            bad(f"duplicate size names per site {few(dups)}", "sizes.size")
        size_rules = {  # the YAML's SizeOption: capacity > 0 (omitted = unlimited), costs finite >= 0
            "capacity": (lambda v: v > 0, "a number >= 0 other than 0", "; capacity: inf = unlimited, not NaN"),
            "capex": (lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0 (money)", ""),
            "fixed_cost": (lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0 (money per year)", ""),
            "unit_cost": (lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0 (money per demand unit)", ""),
            "min_load": (lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0 (units.demand)", ""),
        }
        numbers_ok = True
        for col, (ok, want, note) in size_rules.items():
            if not pd.api.types.is_numeric_dtype(sz[col]) or pd.api.types.is_bool_dtype(sz[col]):
                bad(f"size option {col} must be numbers (got {sz[col].dtype} values)", f"sizes.{col}")
                numbers_ok = False
                continue
            v = sz[col].to_numpy(float)
            wrong = ~ok(v)
            if wrong.any():
                bad(f"size option {col} must be {want} (sites {few(sz.loc[wrong, 'site'].tolist())}: "
                    f"{v[wrong].tolist()[:5]}){note}", f"sizes.{col}")
        if numbers_ok and np.any(sz["min_load"].to_numpy(float) > sz["capacity"].to_numpy(float)):
            bad("a size option's min_load exceeds its capacity", "sizes.min_load")
        for site, ex in self.sites["existing"].items():
            if ex and ex not in set(sz.loc[sz["site"] == site, "size"]):
                bad(f"site {site!r} is existing at size {ex!r}, which is not one of its sizes", "sites.existing")
            if ex and bool(self.sites.at[site, "excluded"]):
                bad(f"site {site!r} is both existing and excluded", "sites.excluded")
        if "required" in self.sites:
            both = self.sites.index[self.sites["required"].astype(bool) & self.sites["excluded"].astype(bool)].tolist()
            if both:
                bad(f"sites {few(both)} are both required and excluded", "sites.required")
        for col, (ok, want) in _ROW_RANGES.items():  # coordinates and limits, as the YAML's rows have them
            for tname, frame in (("jurisdictions", self.jurisdictions), ("demands", self.demands),
                                 ("sites", self.sites)):
                if col not in frame or (col == "max_distance" and tname != "demands"):
                    continue
                v = numbers(frame, col, f"{tname}.{col}")
                if v is None:
                    continue
                wrong = ~(np.isnan(v) | ok(np.where(np.isnan(v), 0.0, v)))
                if wrong.any():
                    bad(f"{col} must be {want} (rows {few(frame.index[wrong].tolist())}: {v[wrong].tolist()[:5]})",
                        f"{tname}.{col}")
        n, m = len(self.demands), len(self.sites)
        arrays = {}  # the matrices that are arrays of numbers (a scenario built in code may hold a list)
        for fld, arr in (("distance", self.distance), ("cost", self.cost)):
            arrays[fld] = isinstance(arr, np.ndarray) and arr.dtype.kind in "iuf"
            if not arrays[fld] and not (fld == "cost" and arr is None):
                bad(f"{fld} must be a demand x site array of numbers (got {type(arr).__name__}"
                    f"{' of ' + str(arr.dtype) if isinstance(arr, np.ndarray) else ''})", fld,
                    "Scenario.from_frames and Scenario.replace convert nested lists and DataFrames.")
        if arrays["distance"]:
            if self.distance.shape != (n, m):
                bad(f"distance matrix is {self.distance.shape}, expected {(n, m)} (demands x sites)", "distances")
            elif np.any(np.isnan(self.distance)) or np.any(self.distance < 0):
                bad("distances must be >= 0 (use inf for 'no connection')", "distances")
        if arrays["cost"]:
            if self.cost.shape != (n, m):
                bad(f"cost matrix is {self.cost.shape}, expected {(n, m)}", "costs.matrix")
            elif np.any(np.isnan(self.cost)) or np.any(self.cost < 0):
                bad("pair costs must be >= 0 (use inf for 'not allowed')", "costs.matrix")
        p = self.policy
        spread = len(set(self.demands["jurisdiction"]) | set(self.sites["jurisdiction"])) > 1  # one: 'own'
        if p.cross_border == "adjacent" and not self.adjacency and spread:
            default = " (the sewage default)" if self.sector == "sewage" else ""
            bad(f"cross_border: adjacent{default} lets a plant serve its own and adjacent jurisdictions, but no "
                "jurisdictions are adjacent: adjacency comes from road edges between jurisdictions or "
                "`constraints.adjacency`, and neither gives any", "constraints.cross_border",
                "Give constraints.adjacency (pairs of jurisdiction ids), or say cross_border: own or any.")
        not_two = [pair for pair in self.adjacency if len(pair) != 2]
        one = sorted({j for pair in not_two if len(pair) == 1 for j in pair})
        if not_two:
            bad("an adjacency pair must name two different jurisdictions" + (f" ({few(one)} named with itself; "
                "every jurisdiction is already adjacent to itself)" if one else ""), "constraints.adjacency",
                "Give each pair as [a, b] with a and b different, or leave the pair out.")
        adj_unknown = sorted({j for pair in self.adjacency for j in pair} - known)
        if adj_unknown:
            bad(f"adjacency names unknown jurisdictions {few(adj_unknown)}", "constraints.adjacency")
        if problems:
            raise ScenarioError(problems)


#: Ranges of the number columns of the rows (test on the values that are not NaN, what they must be),
#: as the YAML schema's Jurisdiction, Demand and Site have them; NaN is "not given": an unknown
#: place, or no distance limit of the demand point's own.  ``max_distance`` is read for demands only.
_ROW_RANGES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "lat": (lambda v: (v >= -90) & (v <= 90), "a latitude from -90 to 90 (WGS84 degrees; NaN: unknown)"),
    "lon": (lambda v: (v >= -180) & (v <= 180), "a longitude from -180 to 180 (WGS84 degrees; NaN: unknown)"),
    "max_distance": (lambda v: np.isfinite(v) & (v > 0), "a finite distance above 0 in units.distance (NaN: no "
                                                         "limit of the point's own)"),
}


#: Columns qzopt reads from each table of :meth:`Scenario.from_frames` (others are kept, unread).
COLUMNS = {
    "demands": ("id", "jurisdiction", "amount", "lat", "lon", "node", "name", "max_distance"),
    "sites": ("id", "jurisdiction", "existing", "excluded", "required", "lat", "lon", "node", "name"),
    "sizes": ("site", "size", "capacity", "capex", "fixed_cost", "unit_cost", "min_load"),
    "jurisdictions": ("id", "name", "group", "lat", "lon", "node", "population", "urban_share", "elevation_m"),
}


def _near_misses(frame: pd.DataFrame, what: str) -> None:
    """A column that is not read but is close to one that is read and absent is a misspelling
    (``fixed_costs`` would leave every fixed cost at 0): refused.  Other extra columns are kept."""
    cols = [str(c) for c in frame.columns] + ([str(frame.index.name)] if frame.index.name else [])
    absent = [c for c in COLUMNS[what] if c not in cols]
    problems = []
    for c in cols:
        if c in COLUMNS[what]:
            continue
        if closest(c, absent, cutoff=0.8) is not None:
            problems.append(Problem(f"column {c!r} is not one qzopt reads", field=f"{what}.{c}",
                                    hint=f"{suggest(c, absent)} (read: {', '.join(COLUMNS[what])})"))
    if problems:
        raise ScenarioError(problems)


def _numeric(column: pd.Series, fld: str) -> pd.Series:
    """``column`` as floats, or a ScenarioError naming the rows that are not numbers."""
    if column.dtype == bool or column.dtype == object:
        flags = column[column.map(lambda v: isinstance(v, (bool, np.bool_)))]
        if len(flags):  # pd.to_numeric reads True as 1
            raise ScenarioError(Problem(f"{' / '.join(sorted({repr(bool(v)) for v in flags.iloc[:5]}, reverse=True))} is not a number "
                                        f"(rows {few(flags.index)})", field=fld,
                                        hint="Give the number itself (True/False are flags, not 1/0)."))
    values = pd.to_numeric(column, errors="coerce")
    wrong = column[values.isna() & column.notna()]
    if len(wrong):
        raise ScenarioError(Problem(f"not a number in rows {few(wrong.index)}: {list(wrong.iloc[:5])}",
                                    field=fld))
    return values.astype(float)


#: Words read as true / false in a flag column, case-insensitive (those the YAML/CSV reader takes).
TRUE_WORDS = ("true", "yes", "1", "on", "t", "y")
FALSE_WORDS = ("false", "no", "0", "off", "f", "n")


def _missing(v: Any) -> bool:
    """None, NaN or pd.NA (a cell left empty)."""
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))


def _flags(column: pd.Series, fld: str) -> pd.Series:
    """A flag column (``excluded``, ``required``) as bools: True/False, 1/0 and the words of
    :data:`TRUE_WORDS` / :data:`FALSE_WORDS` (any case); an empty cell is False.  Anything else
    (``"maybe"``, 2) is a ScenarioError naming the rows, never read as True (``"False"`` is a
    non-empty string, so ``astype(bool)`` made it True)."""
    if column.dtype == bool:
        return column.copy()
    out, wrong = [], []
    for row, v in column.items():
        if _missing(v):
            out.append(False)
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif _number(v) and v in (0, 1):
            out.append(bool(v))
        elif isinstance(v, str) and v.strip().lower() in TRUE_WORDS + FALSE_WORDS + ("",):
            out.append(v.strip().lower() in TRUE_WORDS)
        else:
            out.append(False)
            wrong.append((row, v))
    if wrong:
        raise ScenarioError(Problem(f"not true or false in rows {few(r for r, _ in wrong)}: "
                                    f"{[v for _, v in wrong[:5]]}", field=fld,
                                    hint="Write True/False, or one of the words true/false, yes/no, 1/0."))
    return pd.Series(out, index=column.index, dtype=bool)


def existing_size(value: Any, names: list[str]) -> tuple[str, str | None, str | None]:
    """What an ``existing`` cell says of a site with the size options ``names``, as the YAML,
    a CSV and :meth:`Scenario.from_frames` read it: ``(size, problem, hint)``, the size name the
    plant exists at ("" = not existing), and why the cell cannot be read (None when it can; said
    of the site: "site 'sA' " + problem).

    A flag (True/False, 1/0, or a word of :data:`TRUE_WORDS` / :data:`FALSE_WORDS` that is not
    one of the size names) or a size name.  False, an empty cell or NaN is not existing; True is
    existing at the site's only size (refused for a site with several sizes: which one?); other
    text is a size name, which the caller checks against ``names``.  Another number is refused
    (``astype(str)`` read False as a size named 'False')."""
    word = value.strip().lower() if isinstance(value, str) else None
    if _missing(value):
        return "", None, None
    if isinstance(value, (bool, np.bool_)) or (_number(value) and value in (0, 1)):
        flag = bool(value)
    elif word is not None and value not in names and word in TRUE_WORDS + FALSE_WORDS + ("",):
        flag = word in TRUE_WORDS
    elif isinstance(value, str):
        return value, None, None
    else:
        return ("", f"is existing {value!r}: not a size name, True or False",
                "Write the size name the plant has, or True for a site with one size; False or empty: not existing.")
    if flag and len(names) > 1:
        return ("", f"is existing ({value!r}) but has {len(names)} sizes ({', '.join(names)})",
                f"Give the size it has, e.g. {names[0]!r}.")
    return (names[0] if flag and names else ""), None, None


def _existing(column: pd.Series, sizes: pd.DataFrame) -> pd.Series:
    """The ``existing`` column as size names ("" = not existing), read by :func:`existing_size`."""
    by_site = {str(k): [str(n) for n in v] for k, v in sizes.groupby(sizes["site"].astype(str))["size"]}
    out, problems = [], []
    for site, v in column.items():
        size, problem, hint = existing_size(v, by_site.get(site, []))
        if problem is not None:
            problems.append(Problem(f"site {site!r} {problem}", field="sites.existing", hint=hint))
        out.append(size)
    if problems:
        raise ScenarioError(problems)
    return pd.Series(out, index=column.index, dtype=object)


def _frame(frame: Any, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ScenarioError(Problem(f"{what} must be a pandas DataFrame (got {type(frame).__name__})",
                                    field=what, hint="e.g. pd.DataFrame(rows) or pd.read_csv(path)."))
    return frame


def _coordinates(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``table`` (a copy the caller owns) with ``lat``/``lon`` in degrees as floats, NaN where
    not given (a ScenarioError names ``name.lat`` when a cell is not a number)."""
    for col in ("lat", "lon"):
        table[col] = _numeric(table[col], f"{name}.{col}") if col in table else np.nan
    return table


def _tidy_demands(frame: pd.DataFrame) -> pd.DataFrame:
    """``demands`` indexed by id, lat/lon added, amount as floats (or a ScenarioError)."""
    demands = _coordinates(_indexed(_frame(frame, "demands"), "demands"), "demands")
    for col in ("amount", "max_distance"):
        if col in demands:
            demands[col] = _numeric(demands[col], f"demands.{col}")
    return demands


def _tidy_sizes(frame: pd.DataFrame) -> pd.DataFrame:
    """``sizes`` numbered 0..n-1, cost columns defaulted to 0, numbers as floats."""
    sizes = _frame(frame, "sizes")
    missing = [c for c in ("site", "size", "capacity") if c not in sizes.columns]
    if missing:
        raise ScenarioError(Problem(f"sizes table needs the column(s) {missing} (capacity: inf = unlimited)",
                                    field="sizes"))
    sizes = sizes.reset_index(drop=True).copy()
    _names(sizes["site"].to_numpy(object), sizes.index, "sizes.site", "Every size option needs its site id.")
    _names(sizes["size"].to_numpy(object), sizes.index, "sizes.size", "Every size option needs a name.")
    sizes["site"] = sizes["site"].astype(str)  # as the sites' ids
    for col, default in (("capex", 0.0), ("fixed_cost", 0.0), ("unit_cost", 0.0), ("min_load", 0.0)):
        if col not in sizes:
            sizes[col] = default
    for col in ("capacity", "capex", "fixed_cost", "unit_cost", "min_load"):
        sizes[col] = _numeric(sizes[col], f"sizes.{col}")
    return sizes


def _tidy_sites(frame: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """``sites`` indexed by id, lat/lon added, flags as bools and ``existing`` as size names."""
    sites = _coordinates(_indexed(_frame(frame, "sites"), "sites"), "sites")
    for col, default in (("existing", ""), ("excluded", False), ("required", False)):
        if col not in sites:
            sites[col] = default
    sites["excluded"] = _flags(sites["excluded"], "sites.excluded")
    sites["required"] = _flags(sites["required"], "sites.required")
    sites["existing"] = _existing(sites["existing"], sizes)
    return sites


def _tidy_jurisdictions(frame: pd.DataFrame) -> pd.DataFrame:
    """``jurisdictions`` indexed by id, lat/lon added, name and group defaulted to the id."""
    jurisdictions = _coordinates(_indexed(_frame(frame, "jurisdictions"), "jurisdictions"), "jurisdictions")
    for col in ("name", "group"):
        if col not in jurisdictions:
            jurisdictions[col] = jurisdictions.index
    return jurisdictions


def _distance_matrix(distance: Any, demand_ids: pd.Index, site_ids: pd.Index, what: str = "distance") -> np.ndarray:
    """The demand x site distances (or, with ``what="cost"``, pair costs) as a float array of that
    shape: a DataFrame is reordered to the ids (compared as text, as the tables' ids are), an
    array or nested list is taken in demands x sites order.  A ScenarioError names ``what``."""
    no = "no connection" if what == "distance" else "not allowed"
    if isinstance(distance, pd.DataFrame):
        rows, cols = distance.index.astype(str), distance.columns.astype(str)  # ids 1, 2 are '1', '2' in the tables
        problems = [Problem(f"{what} table has the {kind} ids {few(ids[ids.duplicated()].unique().tolist())} more "
                            f"than once ({axis})", field=what, hint=f"Give each {kind} one {axis[:-1]}.")
                    for ids, kind, axis in ((rows, "demand", "rows"), (cols, "site", "columns"))
                    if ids.duplicated().any()]
        missing = [d for d in demand_ids if d not in rows] + [s for s in site_ids if s not in cols]
        if missing:
            problems.append(Problem(f"{what} table lacks ids {few(missing)}", field=what,
                                    hint="Index it by demand id, with one column per site id."))
        if problems:
            raise ScenarioError(problems)
        distance = distance.set_axis(rows, axis=0).set_axis(cols, axis=1).loc[demand_ids, site_ids]
        numbers = all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in distance.dtypes)
        distance = distance.to_numpy(float if numbers else object)
    shape = (len(demand_ids), len(site_ids))
    if isinstance(distance, np.ndarray) and distance.dtype.kind in "iuf":
        values = distance.astype(float, copy=False)  # the fast path: numbers already
    else:
        try:
            cells = np.asarray(distance, dtype=object)
        except (TypeError, ValueError):
            cells = None
        if cells is not None and cells.shape == shape and cells.size:
            wrong = []  # (demand, site, value): text or a flag, which float() would take (True as 1) or fail on
            for (i, j), v in np.ndenumerate(cells):
                if isinstance(v, (bool, np.bool_)) or not _convertible(v):
                    wrong.append(Problem(f"{what} from demand {demand_ids[i]!r} to site {site_ids[j]!r} is {v!r}, "
                                         "not a number", field=what,
                                         hint=f"Use inf for '{no}'." if not wrong else None))
            if wrong:
                raise ScenarioError(wrong[:5])
        try:
            values = np.asarray(distance, dtype=float)
        except (TypeError, ValueError):
            raise ScenarioError(Problem(f"{what} must be a demand x site array of numbers or a DataFrame "
                                        f"(got {type(distance).__name__})", field=what)) from None
    if values.shape != shape:
        raise ScenarioError(Problem(f"{what} matrix is {values.shape}, expected {shape} ({shape[0]} demands x "
                                    f"{shape[1]} sites)", field=what,
                                    hint="One row per demand (in the demands' order), one column per site."))
    return values


def _convertible(v: Any) -> bool:
    """A number, or text of one ('12', as :func:`_numeric` takes it)."""
    if _number(v):
        return True
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _blank(values: Any) -> np.ndarray:
    """Per value: None, NaN or empty text (an id or name left out)."""
    return np.array([_missing(v) or (isinstance(v, str) and not v.strip()) for v in values], dtype=bool)


def _names(values: np.ndarray, rows: pd.Index, fld: str, hint: str) -> None:
    """Refuse a missing or empty id / name (``astype(str)`` made NaN the id 'nan'), naming the rows;
    None and NaN are both shown as nan (pandas 2 keeps None where pandas 3 makes it NaN)."""
    blank = _blank(values)
    if blank.any():
        got = [np.nan if _missing(values[k]) else values[k] for k in np.flatnonzero(blank)[:5]]
        raise ScenarioError(Problem(f"missing in rows {few(rows[blank].tolist())} (got {got})", field=fld, hint=hint))


def _indexed(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    frame = frame.copy()
    if "id" in frame.columns:
        _names(frame["id"].to_numpy(object), frame.index, f"{what}.id", "Every row needs an id.")
        frame = frame.set_index("id")
    else:
        _names(frame.index.to_numpy(object), pd.RangeIndex(len(frame)), f"{what}.id",
               "Every row needs an id (the index or an `id` column).")
    frame.index = frame.index.astype(str)
    frame.index.name = "id"
    if what in ("demands", "sites") and "jurisdiction" not in frame:
        raise ScenarioError(Problem(f"{what} table needs a `jurisdiction` column", field=f"{what}.jurisdiction"))
    if what == "demands" and "amount" not in frame:
        raise ScenarioError(Problem("demands table needs an `amount` column", field="demands.amount"))
    if what in ("demands", "sites"):
        _names(frame["jurisdiction"].to_numpy(object), frame.index, f"{what}.jurisdiction",
               "Every row needs the jurisdiction it lies in.")
        frame["jurisdiction"] = frame["jurisdiction"].astype(str)
    return frame
