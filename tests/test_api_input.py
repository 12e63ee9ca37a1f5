"""The notebook API (Scenario.from_frames, Scenario.replace, Units, Policy, FeeRules) holds the
ranges of the YAML schema: bad input is a ScenarioError naming the field, never a traceback
and never a silent change of meaning."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

import qzopt
from qzopt.errors import ScenarioError
from qzopt.scenario.scenario import FeeRules, Policy

TOWNS = ["A", "B", "C"]


def frames(demands=None, sites=None, sizes=None, **kwargs):
    """The three-town example of docs/model.md (objective 350: one plant at B), with the given
    columns changed (``sites={"excluded": [...]}``) and Scenario fields as keywords."""
    d = {"id": TOWNS, "jurisdiction": TOWNS, "amount": [10.0, 10.0, 10.0]}
    s = {"id": ["s1", "s2", "s3"], "jurisdiction": TOWNS}
    z = {"site": ["s1", "s2", "s3"], "size": ["std"] * 3, "capacity": [30.0] * 3, "fixed_cost": [150.0] * 3}
    d.update(demands or {})
    s.update(sites or {})
    z.update(sizes or {})
    args = dict(distance=np.abs(np.subtract.outer([0.0, 10.0, 20.0], [0.0, 10.0, 20.0])), transport=1.0,
                units=qzopt.Units("t", "km", "yuan", per_year=1.0))
    args.update(kwargs)
    return qzopt.Scenario.from_frames(pd.DataFrame(d), pd.DataFrame(s), pd.DataFrame(z), **args)


def refused(said: str, make) -> str:
    with pytest.raises(ScenarioError, match=re.escape(said)) as err:
        make()
    return str(err.value)


# ---------------------------------------------------------------- 1: flag columns
@pytest.mark.parametrize("col", ["excluded", "required"])
def test_flag_words_are_read_as_the_yaml_reads_them(col):
    sc = frames(sites={col: ["False", "no", "0"]})
    assert sc.sites[col].tolist() == [False, False, False]  # astype(bool) made all three True
    sc = frames(sites={col: ["TRUE", "Yes", "n"]})
    assert sc.sites[col].tolist() == [True, True, False]
    sc = frames(sites={col: [1, 0, None]})
    assert sc.sites[col].tolist() == [True, False, False]


def test_excluded_written_as_words_leaves_every_site_open_to_choose():
    assert qzopt.solve(frames(sites={"excluded": ["False", "no", "0"]}), isolate=False).objective \
        == pytest.approx(350.0)


@pytest.mark.parametrize("col", ["excluded", "required"])
def test_a_flag_that_is_not_true_or_false_is_refused_by_column_and_row(col):
    refused(f"field `sites.{col}`: not true or false in rows ['s2']: ['maybe']",
            lambda: frames(sites={col: ["no", "maybe", "no"]}))
    refused(f"field `sites.{col}`: not true or false in rows ['s3']: [2]", lambda: frames(sites={col: [0, 1, 2]}))


# ---------------------------------------------------------------- 2: the existing column
def test_existing_false_is_not_existing_and_true_is_the_single_size():
    sc = frames(sites={"existing": [False, False, False]})  # was "existing at size 'False'" for every site
    assert sc.sites["existing"].tolist() == ["", "", ""]
    sc = frames(sites={"existing": [None, np.nan, ""]})
    assert sc.sites["existing"].tolist() == ["", "", ""]
    sc = frames(sites={"existing": [False, True, "false"]})
    assert sc.sites["existing"].tolist() == ["", "std", ""]
    sc = frames(sites={"existing": ["", "std", None]})
    assert sc.sites["existing"].tolist() == ["", "std", ""]


def test_an_existing_plant_given_as_true_stays_open():
    # s1 must stay open: alone 150 + 10 t x 10 km + 10 t x 20 km = 450; with s3 (or s2) too,
    # 300 + 10 t x 10 km = 400.  Not existing, s2 alone (350) would win.
    res = qzopt.solve(frames(sites={"existing": [True, False, False]}), isolate=False)
    assert res.objective == pytest.approx(400.0) and "s1" in res.open_sites["site"].tolist()


def test_existing_true_at_a_site_with_several_sizes_is_refused():
    sizes = {"site": ["s1", "s1", "s2", "s3"], "size": ["small", "big", "std", "std"], "capacity": [30.0] * 4,
             "fixed_cost": [150.0] * 4}
    refused("field `sites.existing`: site 's1' is existing (True) but has 2 sizes (small, big). Give the size it "
            "has, e.g. 'small'.", lambda: frames(sites={"existing": [True, False, False]}, sizes=sizes))
    refused("field `sites.existing`: site 's2' is existing 3: not a size name, True or False",
            lambda: frames(sites={"existing": ["", 3, ""]}))


# ---------------------------------------------------------------- 3: booleans are not numbers
@pytest.mark.parametrize("make, said", [
    (lambda: frames(demands={"amount": [100, True, 80]}), "field `demands.amount`: True is not a number (rows ['B'])"),
    (lambda: frames(sizes={"capacity": [True, 30.0, 30.0]}), "field `sizes.capacity`: True is not a number (rows [0])"),
    (lambda: frames(sizes={"capacity": [True, True, True]}), "field `sizes.capacity`: True is not a number (rows [0, 1, 2])"),
    (lambda: frames(sizes={"fixed_cost": [150.0, False, 150.0]}), "field `sizes.fixed_cost`: False is not a number (rows [1])"),
])
def test_booleans_in_number_columns_are_refused(make, said):
    refused(said, make)


def test_booleans_given_to_replace_are_refused_too():
    sc = frames()
    demands = sc.demands.assign(amount=pd.Series([100, True, 80], index=sc.demands.index, dtype=object))
    refused("field `demands.amount`: True is not a number (rows ['B'])", lambda: sc.replace(demands=demands))
    sizes = sc.sizes.assign(capacity=True)
    refused("field `sizes.capacity`: True is not a number (rows [0, 1, 2])", lambda: sc.replace(sizes=sizes))
    sites = sc.sites.assign(excluded=["False", "no", "0"])  # read as the YAML reads it, as from_frames does
    assert sc.replace(sites=sites).sites["excluded"].tolist() == [False, False, False]
    refused("field `demands`: demands must be a pandas DataFrame (got dict)", lambda: sc.replace(demands={"A": 1}))


# ---------------------------------------------------------------- 4: the YAML's ranges
INF = float("inf")


@pytest.mark.parametrize("make, said", [
    (lambda: frames(sizes={"capex": [INF, 0.0, 0.0]}), "field `sizes.capex`: size option capex must be a finite "
                                                       "number >= 0 (money) (sites ['s1']: [inf])"),
    (lambda: frames(sizes={"fixed_cost": [150.0, INF, 150.0]}), "field `sizes.fixed_cost`: size option fixed_cost "
                                                                "must be a finite number >= 0 (money per year) (sites ['s2']"),
    (lambda: frames(sizes={"unit_cost": [0.0, 0.0, INF]}), "field `sizes.unit_cost`: size option unit_cost must be "
                                                           "a finite number >= 0 (money per demand unit) (sites ['s3']"),
    (lambda: frames(sizes={"min_load": [INF, 0.0, 0.0]}), "field `sizes.min_load`: size option min_load must be a "
                                                          "finite number >= 0"),
    (lambda: frames(sizes={"capacity": [0.0, 30.0, 30.0]}), "field `sizes.capacity`: size option capacity must be a "
                                                            "number >= 0 other than 0 (sites ['s1']: [0.0]); capacity: "
                                                            "inf = unlimited, not NaN"),
    (lambda: frames(discount_rate=6), "field `discount_rate`: 6: must be a rate from 0 to below 1 (0.06 = 6 %)"),
    (lambda: frames(discount_rate=-0.5), "field `discount_rate`: -0.5: must be a rate from 0 to below 1"),
    (lambda: frames(discount_rate=1.0), "field `discount_rate`: 1.0: must be a rate from 0 to below 1"),
    (lambda: frames(name=None), "field `name`: None: must be a name (non-empty text)"),
    (lambda: frames(name=""), "field `name`: '': must be a name (non-empty text)"),
    (lambda: frames().replace(name="  "), "field `name`: '  ': must be a name (non-empty text)"),
    (lambda: frames().replace(discount_rate=6), "field `discount_rate`: 6: must be a rate from 0 to below 1"),
    # a demand point's own distance limit: a number above 0, as the YAML's Demand.max_distance (NaN: none)
    (lambda: frames(demands={"max_distance": ["x", 50, 50]}),
     "field `demands.max_distance`: not a number in rows ['A']: ['x']"),
    (lambda: frames(demands={"max_distance": [50, True, 50]}),
     "field `demands.max_distance`: True is not a number (rows ['B'])"),
    (lambda: frames(demands={"max_distance": [0, 50, -5]}),
     "field `demands.max_distance`: max_distance must be a finite distance above 0 in units.distance (NaN: no "
     "limit of the point's own) (rows ['A', 'C']: [0.0, -5.0])"),
    (lambda: frames(demands={"max_distance": [50, 50, INF]}), "field `demands.max_distance`: max_distance must be "
                                                              "a finite distance above 0"),
    (lambda: frames().replace(demands=frames().demands.assign(max_distance=[50.0, 0.0, np.nan])),
     "field `demands.max_distance`: max_distance must be a finite distance above 0 in units.distance (NaN: no "
     "limit of the point's own) (rows ['B']: [0.0])"),
    # coordinates: numbers in WGS84 degrees, as the YAML's lat/lon (NaN: unknown)
    (lambda: frames(demands={"lat": ["x", 26.0, 26.0], "lon": [106.0] * 3}),
     "field `demands.lat`: not a number in rows ['A']: ['x']"),
    (lambda: frames(demands={"lat": [999, 26.0, 26.0], "lon": [106.0] * 3}),
     "field `demands.lat`: lat must be a latitude from -90 to 90 (WGS84 degrees; NaN: unknown) (rows ['A']: "
     "[999.0])"),
    (lambda: frames(demands={"lat": [26.0] * 3, "lon": [106.0, -181.0, 106.0]}),
     "field `demands.lon`: lon must be a longitude from -180 to 180 (WGS84 degrees; NaN: unknown) (rows ['B']"),
    (lambda: frames(sites={"lat": [26.0] * 3, "lon": [106.0, 200.0, 106.0]}),
     "field `sites.lon`: lon must be a longitude from -180 to 180 (WGS84 degrees; NaN: unknown) (rows ['s2']: "
     "[200.0])"),
    (lambda: frames(sites={"lat": [26.0, True, 26.0], "lon": [106.0] * 3}),
     "field `sites.lat`: True is not a number (rows ['s2'])"),
    (lambda: frames(jurisdictions=pd.DataFrame({"id": TOWNS, "lat": [26.0, 26.0, -91.0]})),
     "field `jurisdictions.lat`: lat must be a latitude from -90 to 90"),
    (lambda: frames().replace(sites=frames().sites.assign(lat=[26.0, "north", 26.0])),
     "field `sites.lat`: not a number in rows ['s2']: ['north']"),
    # the sector: one with a model, and a sector model needs the data of its block
    (lambda: frames(sector="nuclear"), "field `sector`: 'nuclear': must be one of facility, sewage, wte, coldchain"),
    (lambda: frames(sector="Sewage"), "field `sector`: 'Sewage': must be one of facility, sewage, wte, coldchain "
                                      "(the model family; facility: the generic siting model). Did you mean 'sewage'?"),
    (lambda: frames(sector="sewage"), "field `sector`: sector 'sewage' needs its sector data (sector_data, which "
                                      "qzopt.load_scenario resolves from the file's `sewage:` block)"),
    (lambda: frames().replace(sector="wte"), "field `sector`: sector 'wte' needs its sector data"),
    (lambda: frames(sector_data={"sewage": {}}), "field `sector_data`: sector_data must be the sector data "
                                                 "qzopt.load_scenario attaches, or None (got dict)"),
    # solver settings: the ranges of the YAML's solver block
    (lambda: qzopt.SolverSettings(time_limit=-1), "field `solver.time_limit`: -1: must be None (no limit) or a "
                                                  "number of seconds above 0 (per back end)"),
    (lambda: qzopt.SolverSettings(time_limit=INF), "field `solver.time_limit`: inf: must be None (no limit)"),
    (lambda: qzopt.SolverSettings(gap=1), "field `solver.gap`: 1: must be a relative gap from 0 (prove optimal) to "
                                          "below 1 (0.01 = 1 %)"),
    (lambda: qzopt.SolverSettings(threads=0), "field `solver.threads`: 0: must be None (the back end decides) or a "
                                              "whole number >= 1"),
    (lambda: qzopt.SolverSettings(name="hihgs"), "field `solver.name`: unknown solver 'hihgs' (did you mean "
                                                 "'highs'?)"),
    (lambda: qzopt.SolverSettings(fallback=("cbc", "nope")), "field `solver.fallback`: unknown solver 'nope'"),
    (lambda: qzopt.SolverSettings(fallback=[3]), "field `solver.fallback`: [3]: must be None (the default order) "
                                                 "or a tuple of solver names"),
    (lambda: frames().replace(solver={"gap": -0.1}), "field `solver.gap`: -0.1: must be a relative gap"),
])
def test_values_the_yaml_refuses_are_refused_by_the_api(make, said):
    refused(said, make)


def test_an_unlimited_capacity_and_a_six_percent_rate_stay_allowed():
    sc = frames(sizes={"capacity": [INF] * 3, "capex": [100.0] * 3}, discount_rate=0.06, lifetime_years=1.0)
    # capex 100 at 6 % over one year: 106 a year, + 150 fixed; one plant at B: 256 + 200 = 456
    assert qzopt.solve(sc, isolate=False).objective == pytest.approx(456.0)


# ---------------------------------------------------------------- 5, 6: missing ids and jurisdictions
@pytest.mark.parametrize("make, said", [
    (lambda: frames(demands={"id": ["A", None, "C"]}), "field `demands.id`: missing in rows [1] (got [nan])"),
    (lambda: frames(demands={"id": ["A", "B", np.nan]}), "field `demands.id`: missing in rows [2] (got [nan])"),
    (lambda: frames(sites={"id": ["s1", "", "s3"]}), "field `sites.id`: missing in rows [1] (got [''])"),
    (lambda: frames(demands={"jurisdiction": ["A", np.nan, "C"]}),
     "field `demands.jurisdiction`: missing in rows ['B'] (got [nan]). Every row needs the jurisdiction it lies in."),
    (lambda: frames(sites={"jurisdiction": [None, "B", "C"]}), "field `sites.jurisdiction`: missing in rows ['s1']"),
    (lambda: frames(sizes={"site": ["s1", np.nan, "s3"]}), "field `sizes.site`: missing in rows [1] (got [nan])"),
    (lambda: frames(sizes={"size": ["std", "std", None]}), "field `sizes.size`: missing in rows [2] (got [nan])"),
    (lambda: frames(jurisdictions=pd.DataFrame({"id": ["A", "B", None]})),
     "field `jurisdictions.id`: missing in rows [2]"),
])
def test_a_missing_id_or_jurisdiction_is_named_not_read_as_nan(make, said):
    refused(said, make)


def test_an_index_without_ids_is_named_by_position():
    sc = frames()
    demands = sc.demands.copy()
    demands.index = pd.Index(["A", np.nan, "C"], name="id")
    refused("field `demands.id`: missing in rows [1] (got [nan]). Every row needs an id (the index or an `id` "
            "column).", lambda: sc.replace(demands=demands))
    refused("field `sites.jurisdiction`: missing in rows ['s2']",
            lambda: sc.replace(sites=sc.sites.assign(jurisdiction=["A", None, "C"])))


def test_the_jurisdiction_table_of_a_result_has_only_named_jurisdictions():
    # a NaN jurisdiction used to reach the result and fail there (np.bincount of code -1)
    res = qzopt.solve(frames(), isolate=False)
    assert res.jurisdictions["jurisdiction"].tolist() == TOWNS


# ---------------------------------------------------------------- 7: a distance that is not a number
def _km(**cells):
    km = pd.DataFrame(np.abs(np.subtract.outer([0.0, 10.0, 20.0], [0.0, 10.0, 20.0])), index=TOWNS,
                      columns=["s1", "s2", "s3"]).astype(object)
    for key, v in cells.items():
        d, s = key.split("_")
        km.loc[d, s] = v
    return km


def test_a_distance_that_is_not_a_number_is_named_by_demand_and_site():
    refused("field `distance`: distance from demand 'B' to site 's3' is 'far', not a number. Use inf for 'no "
            "connection'.", lambda: frames(distance=_km(B_s3="far")))
    refused("field `distance`: distance from demand 'A' to site 's2' is True, not a number",
            lambda: frames(distance=_km(A_s2=True)))
    refused("distance from demand 'C' to site 's1' is None, not a number",
            lambda: frames(distance=_km(C_s1=None).to_numpy()))
    refused("distance from demand 'A' to site 's1' is 'x', not a number",
            lambda: frames().replace(distance=[["x", 10, 20], [10, 0, 10], [20, 10, 0]]))


def test_a_distance_table_of_numbers_in_any_order_is_read():
    km = _km(A_s1=0.0).astype(float)[["s3", "s1", "s2"]].loc[["C", "A", "B"]]
    assert frames(distance=km).distance.tolist() == [[0, 10, 20], [10, 0, 10], [20, 10, 0]]
    assert frames(distance=_km(A_s1="0")).distance[0, 0] == 0.0  # text of a number, as for amounts


# ---------------------------------------------------------------- 8: the fee cap
def test_a_fee_cap_must_be_finite_and_given_as_in_the_yaml():
    refused("field `fees.max_fee`: inf: must be a finite fee cap >= 0", lambda: FeeRules(max_fee=INF))
    refused("field `fees.max_fee`: nan: must be a finite fee cap >= 0", lambda: FeeRules(max_fee=float("nan")))
    refused("field `fees.max_fee`: fees.max_fee is required with mode 'uniform' (the fee cap, money per demand "
            "unit); mode none needs no cap", lambda: FeeRules())
    refused("fees.max_fee is required with mode 'banded'", lambda: FeeRules(mode="banded"))
    assert FeeRules(mode="none").max_fee is None and not FeeRules(mode="none").active
    assert FeeRules(max_fee=0).max_fee == 0


def test_replace_gives_fee_rules_to_a_scenario_without_them_from_the_dict():
    sc = frames()
    assert sc.fees is None
    assert sc.replace(fees={"max_fee": 60}).fees == FeeRules(max_fee=60)
    refused("fees.max_fee is required with mode 'uniform'", lambda: sc.replace(fees={"mode": "uniform"}))
    refused("field `fees.max_fee`: inf: must be a finite fee cap", lambda: sc.replace(fees={"max_fee": INF}))
    off = sc.replace(fees={"mode": "none"})
    refused("fees.max_fee is required with mode 'uniform'", lambda: off.replace(fees={"mode": "uniform"}))


# ---------------------------------------------------------------- 9: distance units
@pytest.mark.parametrize("unit", ["mi", "KM", "", 1])
def test_a_distance_unit_the_yaml_does_not_know_is_refused(unit):
    refused(f"field `units.distance`: {unit!r}: must be one of 'km', 'min' (travel time), as in the YAML",
            lambda: qzopt.Units("t/d", unit, "yuan"))
    refused("field `units.distance`", lambda: frames().replace(units={"distance": unit}))


def test_km_and_minutes_stay_allowed():
    assert qzopt.Units("t/d", "min", "yuan").distance == "min" and qzopt.Units("t/d").distance == "km"


# ---------------------------------------------------------------- 10: misspelt keywords
@pytest.mark.parametrize("make, said", [
    (lambda: qzopt.Policy(max_distnce=80), "field `policy.max_distnce`: Policy has no field 'max_distnce'. "
                                           "Did you mean 'max_distance'?"),
    (lambda: qzopt.Policy(transprot=1), "field `policy.transprot`: Policy has no field 'transprot'. Did you mean the "
                                        "scenario's 'transport'? It is an argument of Scenario.from_frames and "
                                        "Scenario.replace, not of Policy."),
    (lambda: qzopt.Units(demnd="t/d"), "field `units.demnd`: Units has no field 'demnd'. Did you mean 'demand'?"),
    (lambda: FeeRules(max_fees=60), "field `fees.max_fees`: FeeRules has no field 'max_fees'. Did you mean 'max_fee'?"),
    (lambda: qzopt.Units("t/d", "km", "yuan", 365, "x"), "field `units`: Units takes at most 4 values (demand, "
                                                         "distance, money, per_year), got 5"),
    (lambda: qzopt.Units("t/d", demand="t/yr"), "field `units.demand`: 'demand' is given twice"),
    (lambda: qzopt.SolverSettings(timelimit=5), "field `solver.timelimit`: SolverSettings has no field "
                                                "'timelimit'. Did you mean 'time_limit'?"),
    (lambda: frames().replace(solver={"time_limt": 5}), "field `solver.time_limt`: solver has no field 'time_limt'. "
                                                        "Did you mean 'time_limit'?"),
])
def test_a_misspelt_keyword_is_a_scenario_error_with_a_suggestion(make, said):
    refused(said, make)


def test_the_dataclasses_still_build_copy_and_pickle():
    import pickle

    p = qzopt.Policy(max_distance=80, single_sourcing=True)
    assert pickle.loads(pickle.dumps(p)) == p and p.max_distance == 80
    assert frames().replace(policy={"max_distance": 50}).policy.max_distance == 50
    assert qzopt.Units("t/yr").per_year == 1 and FeeRules(max_fee=5).max_fee == 5


def test_existing_reads_yes_no_words_and_1_0_as_the_csv_does_unless_a_size_has_that_name():
    sc = frames(sites={"existing": ["no", "YES", "0"]})
    assert sc.sites["existing"].tolist() == ["", "std", ""]
    assert frames(sites={"existing": [0, 1, 0]}).sites["existing"].tolist() == ["", "std", ""]
    sizes = {"size": ["yes", "std", "std"]}  # a size named 'yes' is that size, not a flag
    assert frames(sites={"existing": ["yes", "", ""]}, sizes=sizes).sites["existing"].tolist() == ["yes", "", ""]


def test_validate_names_a_missing_jurisdiction_of_a_scenario_built_directly():
    import dataclasses

    sc = frames()
    demands = sc.demands.assign(jurisdiction=["A", np.nan, "C"])
    refused("field `demands.jurisdiction`: missing jurisdiction in rows ['B']",
            lambda: dataclasses.replace(sc, demands=demands).validate())


@pytest.mark.parametrize("kwargs, said", [
    ({"facilities_exactly": 2, "facilities_at_most": 3}, "give either facilities_exactly or facilities_at_most/at_least"),
    ({"facilities_at_least": 3, "facilities_at_most": 1}, "facilities_at_least 3 > facilities_at_most 1"),
    ({"serve_share": 0.5}, "serve_share 0.5 below 1 needs unserved_penalty"),
    ({"unserved_penalty": 5.0}, "unserved_penalty 5.0 has no effect with serve_share 1"),
])
def test_policy_rules_between_fields_hold_as_in_the_yaml(kwargs, said):
    with pytest.raises(ScenarioError, match=re.escape(said)):
        Policy(**kwargs)
    Policy(serve_share=0.5, unserved_penalty=0.0)  # a penalty of 0 is allowed, as in the YAML


def test_a_policy_breaking_both_facility_count_rules_is_told_both():
    with pytest.raises(ScenarioError) as info:
        Policy(facilities_exactly=1, facilities_at_most=1, facilities_at_least=3)
    assert [(p.field, p.message) for p in info.value.problems] == [
        ("policy.facilities_exactly", "give either facilities_exactly or facilities_at_most/at_least, not both"),
        ("policy.facilities_at_least", "facilities_at_least 3 > facilities_at_most 1")]


def test_solve_checks_a_scenario_built_in_code_as_the_loaders_do():
    """dataclasses.replace builds a Scenario without from_frames' or replace's checks; solve
    refuses a negative demand there too instead of solving it (it had answered 'optimal', 50 below
    the three-town optimum of 350)."""
    import dataclasses

    sc = frames()
    demands = sc.demands.assign(amount=[10.0, -50.0, 10.0])
    said = refused("demand amounts must be finite and >= 0 (rows ['B'])",
                   lambda: qzopt.solve(dataclasses.replace(sc, demands=demands), isolate=False))
    assert "demands.amount" in said
    assert qzopt.solve(sc, isolate=False).objective == pytest.approx(350.0)


# ---------------------------------------------------------------- 11: what the YAML path checks, the frames check too
KM = np.abs(np.subtract.outer([0.0, 10.0, 20.0], [0.0, 10.0, 20.0]))


def test_a_demand_limit_of_its_own_holds_and_nan_is_no_limit():
    # A within 5 km: only s1 serves it; then a second plant (s2 or s3) beats hauling C 20 km: 300 + 100
    sc = frames(demands={"max_distance": [5.0, np.nan, None]})
    assert sc.demands["max_distance"].tolist()[0] == 5.0 and sc.demands["max_distance"].isna().tolist()[1:] == [True] * 2
    assert qzopt.solve(sc, isolate=False).objective == pytest.approx(400.0)
    assert frames(demands={"max_distance": ["5", 50, 50]}).demands["max_distance"].tolist() == [5.0, 50.0, 50.0]


def test_coordinates_are_read_as_numbers_and_may_be_unknown():
    sc = frames(demands={"lat": ["26.5", np.nan, None], "lon": [106.0, 106.5, 107]},
                sites={"lat": [26.0, 26.1, 26.2]})
    assert sc.demands["lat"].dtype == float and sc.demands["lat"].tolist()[0] == 26.5
    assert sc.sites["lon"].isna().all()


def test_a_cost_matrix_given_as_nested_lists_or_a_table_is_read_like_distance():
    # cost per year for each point's whole demand, 20 per km: one plant at B 150 + 400; all three 450
    cost = (KM * 20).tolist()
    assert qzopt.solve(frames(cost=cost), isolate=False).objective == pytest.approx(450.0)
    sc = frames().replace(cost=cost)  # was AttributeError: 'list' object has no attribute 'shape'
    assert isinstance(sc.cost, np.ndarray) and sc.cost.tolist() == cost
    table = pd.DataFrame(KM * 20, index=TOWNS, columns=["s1", "s2", "s3"])[["s3", "s1", "s2"]].loc[["C", "A", "B"]]
    assert frames(cost=table).cost.tolist() == cost
    refused("field `cost`: cost matrix is (2, 2), expected (3, 3) (3 demands x 3 sites)",
            lambda: frames().replace(cost=[[1.0, 2.0], [3.0, 4.0]]))
    refused("field `cost`: cost from demand 'B' to site 's1' is 'dear', not a number. Use inf for 'not allowed'.",
            lambda: frames(cost=[[0, 1, 2], ["dear", 0, 1], [2, 1, 0]]))
    refused("field `cost`: cost table lacks ids ['s3']", lambda: frames(cost=table.drop(columns="s3")))


def test_a_matrix_of_a_scenario_built_in_code_is_checked_before_use():
    import dataclasses

    said = refused("field `cost`: cost must be a demand x site array of numbers (got list)",
                   lambda: qzopt.solve(dataclasses.replace(frames(), cost=(KM * 20).tolist()), isolate=False))
    assert "Scenario.replace convert" in said
    refused("field `distance`: distance must be a demand x site array of numbers (got ndarray of object)",
            lambda: dataclasses.replace(frames(), distance=KM.astype(object)).validate())


def test_integer_ids_match_a_distance_table_indexed_by_integers():
    d = pd.DataFrame({"id": [1, 2, 3], "jurisdiction": TOWNS, "amount": [10.0] * 3})
    s = pd.DataFrame({"id": [11, 12, 13], "jurisdiction": TOWNS})
    z = pd.DataFrame({"site": [11, 12, 13], "size": "std", "capacity": 30.0, "fixed_cost": 150.0})
    km = pd.DataFrame(KM, index=[1, 2, 3], columns=[11, 12, 13])[[13, 11, 12]]  # was "lacks ids ['1', '2', ...]"
    sc = qzopt.Scenario.from_frames(d, s, z, km, transport=1.0, units=qzopt.Units("t", "km", "yuan", per_year=1.0),
                                    cost=km * 2)
    assert sc.distance.tolist() == KM.tolist() and sc.cost.tolist() == (KM * 2).tolist()
    assert qzopt.solve(sc.replace(cost=None), isolate=False).objective == pytest.approx(350.0)


def test_a_distance_table_with_an_id_twice_is_told_so():
    km = pd.DataFrame(np.vstack([KM, KM[:1]]), index=TOWNS + ["A"], columns=["s1", "s2", "s3"])
    refused("field `distance`: distance table has the demand ids ['A'] more than once (rows). Give each demand one "
            "row.", lambda: frames(distance=km))  # was: distance matrix is (4, 3), expected (3, 3)
    refused("field `distance`: distance table has the site ids ['s2'] more than once (columns)",
            lambda: frames().replace(distance=pd.DataFrame(KM, index=TOWNS, columns=["s1", "s2", "s2"])))


def test_a_sector_scenario_keeps_its_sector_data():
    from conftest import SCENARIOS

    sew = qzopt.load_scenario(SCENARIOS / "teaching" / "sewage-3towns.yaml")
    refused("field `sector`: sector 'sewage' needs its sector data", lambda: sew.replace(sector_data=None))
    refused("field `sector`: sector 'wte' but sector_data is that of sector 'sewage'. The wte model reads the `wte:` "
            "block of a scenario file", lambda: sew.replace(sector="wte"))
    assert sew.replace(transport=sew.transport).sector_data is sew.sector_data
    # dataclasses.replace skips the checks; solve() makes them (it was an AttributeError inside the model)
    refused("field `sector`: sector 'sewage' needs its sector data",
            lambda: qzopt.solve(dataclasses.replace(sew, sector_data=None), isolate=False))


def test_solver_settings_keep_valid_values_and_read_fallbacks_as_solve_does():
    import pickle

    assert qzopt.SolverSettings() == qzopt.SolverSettings("auto", 60.0, 0.0, None, None)
    s = qzopt.SolverSettings(name="HiGHS", time_limit=None, gap=0.01, fallback=["cbc"], threads=np.int64(2))
    assert s.fallback == ("cbc",) and pickle.loads(pickle.dumps(s)) == s
    assert qzopt.SolverSettings(fallback="cbc, ortools").fallback == ("cbc", "ortools")
    assert qzopt.SolverSettings(fallback=()).fallback == ()
    assert "seconds" in qzopt.SolverSettings.__doc__ and "relative" in qzopt.SolverSettings.__doc__
    with pytest.raises(ScenarioError) as err:  # both, not only the first
        frames().replace(solver={"time_limit": -1, "name": "nope"})
    assert [p.field for p in err.value.problems] == ["solver.time_limit", "solver.name"]
