"""Input files that used to be read wrongly or crash: each test breaks one thing in
tests/data/tiny.yaml (or a sector example) and checks the message a user gets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qzopt
from qzopt.errors import ScenarioError

from conftest import ROOT, error_of, line_of


def as_csv(path: Path, table: str, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Move ``table`` of the tiny YAML into the CSV ``name`` holding ``text``."""
    (path.parent / name).write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(k for k, line in enumerate(lines) if line.startswith(f"{table}:"))
    end = next(k for k in range(start + 1, len(lines)) if not lines[k].startswith("  "))
    path.write_text("".join(lines[:start]) + f"{table}: {{csv: {name}}}\n" + "".join(lines[end:]), encoding="utf-8")
    return path.parent / name


# ------------------------------------------------------------ 1. fields a method ignores
def test_edges_without_road_graph_is_refused_not_ignored(tiny):
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", "{edges: missing_roads.csv}")
    msg = error_of(path)
    assert "field `distances.edges`: `edges` is read only with `method: road_graph`" in msg
    assert f"line {line_of(path, 'missing_roads')}" in msg and "or drop `edges`" in msg


@pytest.mark.parametrize("distances, field, method", [
    ("{method: great_circle, matrix: m.csv}", "matrix", "matrix"),
    ("{method: road_graph, edges: tiny_roads.csv, circuity: 1.2}", "circuity", "great_circle"),
    ("{method: matrix, matrix: m.csv, circuity: 1.2}", "circuity", "great_circle"),
])
def test_a_distance_field_the_method_does_not_read_is_refused(tiny, distances, field, method):
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", distances)
    assert f"`{field}` is read only with `method: {method}`" in error_of(path)


# ------------------------------------------------------------- 2. booleans are not numbers
@pytest.mark.parametrize("old, new, field", [
    ("amount: 120}", "amount: true}", "demands[1].amount"),
    ("capacity: 400", "capacity: true", "sizes.small[1].capacity"),
    ("time_limit: 30}", "time_limit: true}", "solver.time_limit"),
    ("max_distance: 60 km}", "max_distance: true}", "constraints.max_distance"),
    ("max_distance: 60 km}", "max_distance: 60 km, facilities: {exactly: true}}", "constraints.facilities.exactly"),
])
def test_a_boolean_where_a_number_is_expected_is_refused(tiny, old, new, field):
    path, edit = tiny
    edit(old, new)
    msg = error_of(path)
    assert f"field `{field}`: true is not a number" in msg and f"line {line_of(path, new)}" in msg


def test_a_boolean_override_of_a_number_is_refused(tiny):
    msg = error_of(tiny[0], {"units.per_year": "true"})
    assert "field `units.per_year`: true is not a number" in msg and "set by the override units.per_year" in msg


def test_a_boolean_inside_a_table_of_numbers_is_refused():
    path = ROOT / "scenarios" / "teaching" / "coldchain-3origins.yaml"
    sc = qzopt.load_scenario(path)
    origins = next(iter(sc.sector_data.spec.commodities)).origins
    key = f"coldchain.commodities[0].origins.{next(iter(origins))}"
    msg = error_of(path, {key: "false"})
    assert "coldchain.commodities[0].origins" in msg and "false is not a number" in msg


@pytest.mark.parametrize("file, key, value", [
    ("sewage-3towns.yaml", "sewage.plants.capacities", "[true, 22500, 40000]"),  # list[Annotated[float, ...]]
    ("coldchain-3origins.yaml", "coldchain.storage", "{S: true, L: 900}"),  # dict[str, Annotated[float, ...]]
])
def test_a_boolean_inside_a_list_or_table_of_bounded_numbers_is_refused(file, key, value):
    msg = error_of(ROOT / "scenarios" / "teaching" / file, {key: value})
    assert f"field `{key}`: true/false is not a number" in msg


def test_a_time_written_1_30_is_refused_not_read_as_90_hours(tmp_path):
    """YAML 1.1 reads 1:30 as the base-60 integer 90: a fungi reach of 4,500 km."""
    path = teaching_copy(tmp_path, "coldchain-3origins.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("max_hours: 1,", "max_hours: 1:30,"), encoding="utf-8")
    msg = error_of(path)
    assert (f"line {line_of(path, 'max_hours: 1:30')}, field `coldchain.commodities[1].max_hours`: Input should be "
            "a valid number, unable to parse string as a number (got '1:30')") in msg
    assert "Write a time as a decimal number (1:30 h -> 1.5)" in msg


def test_a_leading_zero_is_decimal_not_octal(tiny):
    """YAML 1.1 reads 0400 as octal 256; as in YAML 1.2 it is 400 now, and an id '07' stays '07'."""
    path, edit = tiny
    edit("capacity: 400,", "capacity: 0400,")
    edit("{id: dA,", "{id: 07,")
    sc = qzopt.load_scenario(path)
    assert sorted(sc.sizes["capacity"].unique()) == [200.0, 400.0] and "07" in sc.demands.index


def test_a_set_on_an_aliased_value_changes_only_the_place_it_names(tiny):
    """A YAML alias loads as the same object as its anchor: --set on one place changed both."""
    path, edit = tiny
    edit("{id: sA, jurisdiction: A, sizes: small}", "{id: sA, jurisdiction: A, sizes: &opts [{name: X, capacity: 300}]}")
    edit("{id: sB, jurisdiction: B, sizes: small}", "{id: sB, jurisdiction: B, sizes: *opts}")
    sc = qzopt.load_scenario(path, {"sites[0].sizes[0].capacity": "5"})
    cap = sc.sizes.set_index("site")["capacity"]
    assert cap["sA"] == 5.0 and cap["sB"] == 300.0


def test_a_parent_set_after_its_child_is_refused_not_silently_dropping_it(tiny):
    path, _ = tiny
    msg = error_of(path, {"constraints.max_distance": "50", "constraints": "{single_sourcing: true}"})
    assert "override constraints comes after constraints.max_distance and replaces it with its whole value" in msg
    sc = qzopt.load_scenario(path, {"constraints": "{single_sourcing: true}", "constraints.max_distance": "50"})
    assert sc.policy.max_distance == 50.0  # parent first, then child: both kept


def test_true_and_false_still_read_where_a_yes_no_is_expected(tiny):
    path, edit = tiny
    edit("{id: sA, jurisdiction: A, sizes: small}", "{id: sA, jurisdiction: A, sizes: small, excluded: true}")
    sc = qzopt.load_scenario(path, {"constraints.single_sourcing": "false"})
    assert bool(sc.sites.loc["sA", "excluded"]) and sc.policy.single_sourcing is False


# ----------------------------------------------- 3. a jurisdiction without population
def teaching_copy(tmp_path: Path, name: str) -> Path:
    import shutil

    for f in (ROOT / "scenarios" / "teaching").iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / name


def teaching_edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of a teaching scenario with the first ``old`` replaced by ``new``."""
    path = teaching_copy(tmp_path, name)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, said, at", [
    ("origins: {P: 100, Q: 50}", 'origins: {"P ": 100, Q: 50}',
     "field `coldchain.commodities[0].origins`: 'P ' begins or ends with a space (ids are matched exactly); write 'P'",
     "- {name: vegetables"),
    ("origins: {P: 100, Q: 50}", "origins: {P: -100, Q: 50}",
     "field `coldchain.commodities[0].origins.P`: Input should be greater than or equal to 0 (got -100)",
     "- {name: vegetables"),
    ("name: vegetables,", 'name: "vegetables ",',
     "field `coldchain.commodities[0].name`: 'vegetables ' begins or ends with a space", "vegetables "),
    ("name: vegetables,", "name: fungi,",
     "field `coldchain.commodities`: commodity names must differ; ['fungi'] given more than once", "commodities:"),
    ("storage: {S: 300, L: 900}", "storage: {S: -300, L: 900}",
     "field `coldchain.storage.S`: Input should be greater than or equal to 0 (got -300)", "storage:"),
    ("storage: {S: 300, L: 900}", "storage: {S: 300, L: 900, XL: 5}",  # was ignored
     "field `coldchain.storage.XL`: 'XL' is not a size option of the hubs", "storage:"),
])
def test_cold_chain_origins_names_and_storage_are_checked_by_field(tmp_path, old, new, said, at):
    """Origins and names reached the derived demand rows unchecked and ended in a pydantic
    traceback; a negative cold store was accepted, a storage entry for no hub size ignored."""
    path = teaching_edited(tmp_path, "coldchain-3origins.yaml", old, new)
    msg = error_of(path)
    assert said in msg and f"line {line_of(path, at)}, field" in msg


@pytest.mark.parametrize("old, new, said", [
    ("capacities: [10000, 22500, 40000]", "capacities: [-5, 22500, 40000]",  # capex_a x (-5)^0.5: a complex number
     "field `sewage.plants.capacities[0]`: Input should be greater than 0 (got -5)"),
    ("unit_cost: 0.5 ", "unit_cost: -0.5 ",
     "field `sewage.plants.unit_cost`: Input should be greater than or equal to 0 (got -0.5)"),
    ("name: wwtp\n", "name: wwtp\n    label: 'Q{x}'\n",  # a KeyError when the options were named
     "field `sewage.plants.label`: 'Q{x}' is not a name pattern with {q} for the capacity"),
    ("name: wwtp\n", "name: wwtp\n    label: 'Q'\n",
     "field `sewage.plants.label`: 'Q' gives every size the same name 'Q'; put {q} in it"),
    ("name: wwtp\n", "name: 'wwtp '\n",  # the sites' 'wwtp' was then 'not defined'
     "field `sewage.plants.name`: 'wwtp ' begins or ends with a space"),
    ("unit: t/d", "unit: ''", "field `sewage.sludge.unit`: String should have at least 1 character"),  # a blank unit
])
def test_generated_plant_sizes_are_checked_by_field(tmp_path, old, new, said):
    """Values the size options are generated from: three of these ended in a traceback."""
    assert said in error_of(teaching_edited(tmp_path, "sewage-3towns.yaml", old, new))


def test_a_derived_row_the_schema_refuses_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    """The net under every derived row: were a file's checks to miss a value, the row built from
    it is refused with the file named (simulated: a derived demand of -1 t/d)."""
    from qzopt.scenario import schema as S
    from qzopt.scenario import sector_data

    monkeypatch.setattr(sector_data, "derive_demands",
                        lambda spec, jur: ([S.Demand(id="P:x", jurisdiction="P", amount=-1.0)], None))
    path = teaching_copy(tmp_path, "coldchain-3origins.yaml")
    msg = error_of(path)
    assert msg.startswith(f"{path}: a Demand qzopt derives from this file is refused: amount: Input should be "
                          "greater than or equal to 0 (got -1.0)")


@pytest.mark.parametrize("old, new, said", [
    ("{id: hw_B, jurisdiction: B", "{id: wte_B, jurisdiction: B",  # was accepted: 'wte_B sends fly ash to wte_B'
     "field `wte.fly_ash.sites`: fly ash site ids ['wte_B'] are also plant site ids. Give the fly ash sites their own ids."),
    ("{id: kw_A, jurisdiction: A,", "{id: wte_A, jurisdiction: A,",
     "field `wte.kitchen.sites`: kitchen-waste site ids ['wte_A'] are also plant site ids."),
    ("  kitchen:", "  transfer:\n    compacted_transport: 0.5\n    sites:\n      - {id: wte_D, jurisdiction: D, "
     "sizes: [{name: T, capacity: 500}]}\n  kitchen:",
     "field `wte.transfer.sites`: transfer station ids ['wte_D'] are also plant site ids."),
])
def test_sites_of_echelons_and_streams_need_ids_of_their_own(tmp_path, old, new, said):
    assert said in error_of(teaching_edited(tmp_path, "wte-4towns.yaml", old, new))


HW = "{name: HW100, capacity: 100, unit_cost: 2000}"


@pytest.mark.parametrize("file, overrides, said", [
    # a repeated id inside an echelon's list passed validate and crashed the result's tables
    ("wte-4towns.yaml", {"wte.fly_ash.sites": f"[{{id: hw_B, jurisdiction: B, sizes: [{HW}]}}, "
                                              f"{{id: hw_B, jurisdiction: C, sizes: [{HW}]}}]"},
     "field `wte.fly_ash.sites`: duplicate fly ash site ids ['hw_B']"),
    ("wte-4towns.yaml", {"wte.kitchen.sites[0].id": "hw_B"},
     "field `wte.kitchen.sites`: kitchen-waste site ids ['hw_B'] are also fly ash site ids"),
    # cold chain: its demand points are the commodities' origins; `demands` crashed or replaced them
    ("coldchain-3origins.yaml", {"demands": "[{id: d1, jurisdiction: P, amount: 100}]"},
     "field `demands`: a cold-chain scenario derives its demand points from `coldchain.commodities`"),
    ("coldchain-3origins.yaml", {"coldchain.outlets.ratio": "0.5"},  # half the goods vanished
     "field `coldchain.outlets`: outlets.ratio must be 1 (a hub sends on all it receives), not 0.5"),
    ("coldchain-3origins.yaml", {"coldchain.commodities[0].name": "a:b"},
     "field `coldchain.commodities[0].name`: 'a:b': a commodity name may not hold ':'"),
    # a per-capita rule gives per-day amounts of its own unit: m3/h would have read them per hour
    ("sewage-3towns.yaml", {"units.demand": "m3/h"},
     "field `sewage.generation.unit`: `generation` (L per person per day) gives m3/d, but units.demand is 'm3/h'"),
    ("wte-4towns.yaml", {"wte.generation.unit": "L"},
     "field `wte.generation.unit`: `generation` (L per person per day) gives m3/d, but units.demand is 't/d'"),
    # inputs that were silently unused
    ("sewage-3towns.yaml", {"demands": "[{id: dA, jurisdiction: A, amount: 10}]"},
     "field `sewage.generation`: both `demands` and `sewage.generation` are given; `generation` would be ignored"),
    ("wte-4towns.yaml", {"wte.kitchen.generation.rural": "0.05"},
     "field `wte.kitchen.generation`: rural 0.05 is not used with urban_only: true"),
    ("wte-4towns.yaml", {"wte.generation.collection_rate": "1.5"},  # 1,350 t/d from 900 generated
     "field `wte.generation`: collection_rate 1.5 collects more waste than is generated; at most 1 for unit kg"),
    ("wte-4towns.yaml", {"sizes": "{hw: [{name: H, capacity: 100}]}",  # the block's set replaced the file's
                         "wte.fly_ash.sizes": "{hw: [{name: H, capacity: 5}]}"},
     "field `wte.fly_ash.sizes`: size sets ['hw'] are defined both here and under the top-level `sizes`"),
])
def test_sector_inputs_that_crashed_or_changed_meaning_are_refused(file, overrides, said):
    assert said in error_of(ROOT / "scenarios" / "teaching" / file, overrides)


def test_pumping_needs_every_elevation_and_charges_the_uphill_lift():
    """0.01 yuan per m3 per m of lift: A (0 m) to B (500 m) costs 0.01 x 500 x A's m3/d x 365 a year,
    B to A (downhill) nothing; with C's elevation missing the scenario is refused (it had charged
    no lift to or from C)."""
    from qzopt.scenario.sector_data import sewer_pair_costs

    path = ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml"
    pump = {"sewage.trunk_sewer.pumping_per_unit_per_m": "0.01"}
    elev = {"jurisdictions[0].elevation_m": "0", "jurisdictions[1].elevation_m": "500"}
    said = error_of(path, {**pump, **elev})
    assert "pumping_per_unit_per_m needs elevation_m on every jurisdiction with demand or a site; missing for ['C']" in said
    sc = qzopt.load_scenario(path, {**pump, **elev, "jurisdictions[2].elevation_m": "100"})
    a, b = sc.demands.index.get_loc("A"), sc.sites.index.get_loc("wwtp_B")
    ba, aa = sc.demands.index.get_loc("B"), sc.sites.index.get_loc("wwtp_A")
    i, j = np.array([a, ba]), np.array([b, aa])
    _, flow = sewer_pair_costs(sc, i, j, np.array([20.0, 20.0]))
    assert sc.demands["amount"].iloc[a] == 10_000.0  # 100,000 people x 100 L a day, all urban
    assert flow[0] == pytest.approx(0.01 * 500 * 10_000 * 365)
    assert flow[1] == 0.0


@pytest.mark.parametrize("file, overrides, said", [
    ("coldchain-3origins.yaml", {"coldchain.commodities[0].origins": "{X: 100, Q: 50}"},  # was demands[0].jurisdiction
     "field `coldchain.commodities[0].origins.X`: origin 'X' of commodity 'vegetables' is not a jurisdiction"),
    ("wte-4towns.yaml", {"wte.fly_ash.sites[0].node": "Z"},  # was at the top-level `sites`, without the site
     "field `wte.fly_ash.sites`: site nodes ['Z'] are not in the road graph four_towns_roads.csv (sites ['hw_B'])"),
    ("wte-4towns.yaml", {"wte.kitchen.sites[0].node": "Z"},
     "field `wte.kitchen.sites`: site nodes ['Z'] are not in the road graph four_towns_roads.csv (sites ['kw_A'])"),
    ("wte-4towns.yaml", {"wte.kitchen.sites[0].sizes": "lines"},  # was 'not defined ... Defined sets: none'
     "field `wte.kitchen.sites[0].sizes`: site 'kw_A' uses size set 'lines', which is generated for the plants only"),
    ("sewage-3towns.yaml", {"sewage.plants.capacities": "[1000000, 1000001, 4000000]"},  # was at sites[0].sizes
     "field `sewage.plants`: label 'Q{q:g}' gives the capacities the same name ['Q1e+06']"),
    ("sewage-3towns.yaml", {"sewage.generation.urban": "0"},  # was 'no demand points' at `demands`
     "field `sewage.generation`: `sewage.generation` gives no demand: urban 0 and rural 100 L per person a day"),
])
def test_sector_messages_name_what_the_user_wrote(file, overrides, said):
    assert said in error_of(ROOT / "scenarios" / "teaching" / file, overrides)


def test_a_problem_inside_an_overridden_list_points_at_the_override_not_a_line():
    msg = error_of(ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml",
                   {"sewage.plants.capacities": "[10000, -5, 40000]"})
    assert msg.endswith("field `sewage.plants.capacities[1]`: Input should be greater than 0 (got -5) "
                        "(set by the override sewage.plants.capacities=[10000, -5, 40000])")
    assert "line " not in msg  # it had said line 20, which holds no -5


def test_a_bad_inline_size_is_one_problem_not_also_the_set_name_form():
    """sizes is a set name or a list: a bad capacity in the list also gave 'Input should be a valid
    string' first."""
    msg = error_of(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml",
                   {"wte.kitchen.sites[0].sizes": "[{name: KW80, capacity: -80}]"})
    assert "field `wte.kitchen.sites[0].sizes[0].capacity`: Input should be greater than 0 (got -80)" in msg
    assert "valid string" not in msg and "problems" not in msg


@pytest.mark.parametrize("demand_unit", ["tonnes/d", "t/day", "ton/d"])
def test_per_day_tonnes_in_any_spelling_fit_a_kg_generation_rule(demand_unit):
    sc = qzopt.load_scenario(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml", {"units.demand": demand_unit})
    assert sc.demands["amount"].sum() == pytest.approx(900.0)


def test_a_unit_without_a_period_fits_with_365_periods_a_year():
    sc = qzopt.load_scenario(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml",
                             {"units.demand": "t", "units.per_year": "365"})
    assert sc.demands["amount"].sum() == pytest.approx(900.0)


def test_a_one_town_sewage_scenario_without_neighbours_is_kept():
    """Adjacent with one jurisdiction is own: nothing to refuse (review of the adjacency rule)."""
    path = ROOT / "scenarios" / "teaching" / "sewage-3towns.yaml"
    one = {"jurisdictions": "[{id: A, population: 100000, urban_share: 1.0}]",
           "sites": "[{id: wwtp_A, jurisdiction: A, sizes: wwtp}]", "distances": "{method: great_circle}",
           "jurisdictions[0].lat": "26.5", "jurisdictions[0].lon": "106.7",
           "sewage.sludge.sites": "[{id: sludge_A, jurisdiction: A, sizes: [{name: S, capacity: 50}]}]"}
    sc = qzopt.load_scenario(path, one)
    assert sc.policy.cross_border == "adjacent" and not sc.adjacency
    res = qzopt.solve(sc, isolate=False)
    assert res.status == "optimal"


def test_an_override_of_one_element_does_not_own_a_problem_of_the_whole_list(tiny):
    path, edit = tiny
    edit("{id: sC, jurisdiction: C, sizes: small}", "{id: sB, jurisdiction: C, sizes: small}")
    msg = error_of(path, {"sites[0].excluded": "true"})
    assert f"line {line_of(path, 'sites:')}, field `sites`: duplicate site ids ['sB']" in msg
    assert "set by the override" not in msg


def test_a_size_set_written_in_a_list_gets_the_hint_to_drop_the_list(tiny):
    path, edit = tiny
    edit("{id: sA, jurisdiction: A, sizes: small}", "{id: sA, jurisdiction: A, sizes: [small]}")
    assert "A size set is named without a list: sizes: small." in error_of(path)


def test_a_cold_chain_in_minutes_is_refused_not_read_per_km(tmp_path):
    """Its reach is max_hours x speed_km_per_h km; with travel times it was compared with minutes."""
    path = teaching_copy(tmp_path, "coldchain-3origins.yaml")
    roads = tmp_path / "three_origins_roads.csv"
    roads.write_text(roads.read_text(encoding="utf-8").replace("from,to,km", "from,to,min"), encoding="utf-8")
    msg = error_of(path, {"units.distance": "min"})
    assert "field `units.distance`: the coldchain block needs distances in km" in msg


def test_a_cold_chain_origin_id_may_hold_a_colon(tmp_path):
    """Demand ids are 'origin:commodity', split at the last ':' (at the first, 'P:1:vegetables'
    was a KeyError)."""
    path = teaching_copy(tmp_path, "coldchain-3origins.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{id: P,", "{id: 'P:1',").replace("jurisdiction: P,", "jurisdiction: 'P:1',")
                    .replace("{P: 100, Q: 50}", "{'P:1': 100, Q: 50}").replace("{P: 20}", "{'P:1': 20}"),
                    encoding="utf-8")
    roads = tmp_path / "three_origins_roads.csv"
    roads.write_text(roads.read_text(encoding="utf-8").replace("P,", "P:1,").replace(",P,", ",P:1,"), encoding="utf-8")
    sc = qzopt.load_scenario(path)
    attrs = sc.sector_data.demand_attrs
    assert attrs.loc["P:1:fungi", "commodity"] == "fungi" and attrs.loc["P:1:fungi", "dwell_days"] == 5


def test_a_jurisdiction_without_population_is_named_not_given_no_demand(tmp_path):
    path = teaching_copy(tmp_path, "wte-4towns.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{id: D, population: 100000, urban_share: 1.0}", "{id: D}"), encoding="utf-8")
    msg = error_of(path)
    assert "field `jurisdictions[3].population`: jurisdiction 'D' has no `population`" in msg
    assert f"line {line_of(path, '{id: D}')}" in msg and "`population: 0` if it has no demand on purpose" in msg


def test_population_zero_means_no_demand_on_purpose(tmp_path):
    path = teaching_copy(tmp_path, "wte-4towns.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{id: D, population: 100000, urban_share: 1.0}", "{id: D, population: 0}"),
                    encoding="utf-8")
    sc = qzopt.load_scenario(path)
    assert list(sc.demands.index) == ["A", "B", "C"] and "wte_D" in sc.sites.index


# ---------------------------------------------------- 4. CSV encodings and separators
JUR = "id,name,group,lat,lon\nA,甲,north,26.5,106.6\nB,乙,north,26.6,106.7\nC,丙,south,26.7,106.8\n"


@pytest.mark.parametrize("encoding, said", [
    ("gbk", "it looks like GBK/GB18030"),
    ("utf-16", "it looks like UTF-16"),
])
def test_a_csv_not_in_utf8_says_which_encoding_it_looks_like(tiny, encoding, said):
    path, _ = tiny
    csv = as_csv(path, "jurisdictions", "j.csv", JUR, encoding)
    msg = error_of(path)
    assert msg.startswith(f"{csv}") and "CSV 'j.csv' is not UTF-8 text" in msg and said in msg
    assert "CSV UTF-8 (Comma delimited)" in msg and "codec" not in msg


def test_a_gbk_csv_names_the_line_of_the_first_bad_byte(tiny):
    path, _ = tiny
    as_csv(path, "jurisdictions", "j.csv", JUR, "gbk")
    assert "j.csv, line 2, field `jurisdictions.csv`" in error_of(path)


def test_a_csv_with_a_utf8_byte_order_mark_is_read(tiny):
    path, _ = tiny
    as_csv(path, "jurisdictions", "j.csv", JUR, "utf-8-sig")
    assert list(qzopt.load_scenario(path).jurisdictions.index) == ["A", "B", "C"]


def test_a_semicolon_separated_csv_is_one_message(tiny):
    path, _ = tiny
    as_csv(path, "jurisdictions", "j.csv", JUR.replace(",", ";"))
    with pytest.raises(ScenarioError) as info:
        qzopt.load_scenario(path)
    assert len(info.value.problems) == 1
    assert "CSV 'j.csv' separates its columns with semicolons, not commas" in str(info.value)


# ---------------------------------------------- 5. "no rows" only when there are none
def test_a_csv_whose_every_row_is_rejected_is_not_said_to_have_no_rows(tiny):
    path, _ = tiny
    as_csv(path, "demands", "d.csv", "id,jurisdiction,amount\ndA,A,lots\ndB,B,many\n")
    msg = error_of(path)
    assert "d.csv, line 2, field `amount`" in msg and "d.csv, line 3, field `amount`" in msg
    assert "no rows" not in msg and "no demand points" not in msg


def test_a_list_whose_every_row_is_rejected_is_not_said_to_have_no_demand_points(tiny):
    path, edit = tiny
    for town in "ABC":
        edit(f"{{id: d{town}, jurisdiction: {town},", f"{{id: d{town}, jurisdiction: X{town},")
    msg = error_of(path)
    assert "jurisdiction 'XA' of demand 'dA' does not exist" in msg
    assert "no demand points" not in msg and "no rows" not in msg


def test_a_csv_with_only_a_header_still_says_it_has_no_rows(tiny):
    path, _ = tiny
    csv = as_csv(path, "demands", "d.csv", "id,jurisdiction,amount\n")
    assert error_of(path) == f"{csv}, field `demands`: no demands: the file has no rows. Give at least one row."


# ------------------------------------------------ 6. yes/no in the CSV `existing` column
@pytest.mark.parametrize("word", ["0", "no", "false", "FALSE", "n"])
def test_a_false_like_existing_cell_is_not_existing(tiny, word):
    path, _ = tiny
    as_csv(path, "sites", "s.csv", f"id,jurisdiction,sizes,existing,excluded\nsA,A,small,{word},{word}\n"
                                   "sB,B,small,,\nsC,C,small,S400,0\n")
    sc = qzopt.load_scenario(path)
    assert list(sc.sites["existing"]) == ["", "", "S400"] and not sc.sites["excluded"].any()


@pytest.mark.parametrize("word", ["1", "yes", "true", "True"])
def test_a_true_like_existing_cell_is_existing_at_the_only_size(tiny, word):
    path, edit = tiny
    edit("sizes:\n", "sizes:\n  one: [{name: S300, capacity: 300, fixed_cost: 2.0e6}]\n")
    as_csv(path, "sites", "s.csv", f"id,jurisdiction,sizes,existing\nsA,A,one,{word}\nsB,B,small,\nsC,C,small,\n")
    assert list(qzopt.load_scenario(path).sites["existing"]) == ["S300", "", ""]


def test_a_true_like_existing_cell_on_a_site_with_several_sizes_asks_for_the_size(tiny):
    path, _ = tiny
    csv = as_csv(path, "sites", "s.csv", "id,jurisdiction,sizes,existing\nsA,A,small,yes\nsB,B,small,\n")
    msg = error_of(path)
    assert f"{csv}, line 2, field `sites.existing`: site 'sA' is existing ('yes') but has 2 sizes (S200, S400)" in msg


# ------------------------------------------------------ 7. spaces at the ends of ids
def test_an_id_with_a_trailing_space_is_refused_not_a_new_id(tiny):
    path, edit = tiny
    edit("{id: sA, jurisdiction: A,", "{id: 'sA ', jurisdiction: A,")
    msg = error_of(path)
    assert "field `sites[0].id`: 'sA ' begins or ends with a space (ids are matched exactly); write 'sA'" in msg
    assert f"line {line_of(path, 'sA ')}" in msg


def test_a_reference_with_a_space_in_a_csv_cell_names_the_row(tiny):
    path, _ = tiny
    csv = as_csv(path, "demands", "d.csv", "id,jurisdiction,amount,node\ndA,A,100,\ndB, B,120,\ndC,C,80,C \n")
    msg = error_of(path)
    assert f"{csv}, line 3, field `jurisdiction`: ' B' begins or ends with a space" in msg
    assert f"{csv}, line 4, field `node`: 'C ' begins or ends with a space" in msg


# ------------------------------------------------------ 8. a road graph in pieces
def test_a_road_graph_in_two_parts_is_reported(tiny):
    from qzopt.scenario.checks import presolve_findings, road_graph_parts

    path, _ = tiny
    (path.parent / "tiny_roads.csv").write_text("from,to,km\nA,B,20\nC,X,5\n", encoding="utf-8")
    sc = qzopt.load_scenario(path)  # still feasible: sC serves dC
    said = ("the road graph is in 2 unconnected parts that hold demand or sites: {A, B}; {C, X}. No demand "
            "reaches a site in another part")
    assert road_graph_parts(sc)[0].startswith(said) and sc.extras["warnings"][0].startswith(said)
    assert presolve_findings(sc) == []


def test_a_connected_road_graph_gets_no_warning(tiny):
    from qzopt.scenario.checks import road_graph_parts

    sc = qzopt.load_scenario(tiny[0])
    assert road_graph_parts(sc) == [] and "warnings" not in sc.extras


@pytest.mark.parametrize("method, use", [("great_circle", "Their distances are computed from them"),
                                         ("road_graph", "The map places them there")])
def test_coordinates_at_lat_0_lon_0_are_reported(tiny, method, use):
    """lat 0, lon 0 is an empty spreadsheet cell more often than a place in the Gulf of Guinea."""
    path, edit = tiny
    edit("lat: 26.70, lon: 106.80", "lat: 0, lon: 0")
    if method == "great_circle":
        edit("{method: road_graph, edges: tiny_roads.csv}", "{method: great_circle}")
    sc = qzopt.load_scenario(path)
    assert sc.extras["warnings"] == [
        "jurisdictions C and demands dC and sites sC are at lat 0, lon 0 (in the Gulf of Guinea): an empty cell "
        f"read as 0? {use}; give their coordinates."]


def test_a_generated_size_set_no_site_names_is_reported(tmp_path):
    """sewage.plants (required) generates its size set; with every site's sizes written inline its
    cost curve was silently unused."""
    path = teaching_copy(tmp_path, "sewage-3towns.yaml")
    assert "warnings" not in qzopt.load_scenario(path).extras
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("sizes: wwtp}", "sizes: [{name: X, capacity: 50000, capex: 1}]}"), encoding="utf-8")
    assert qzopt.load_scenario(path).extras["warnings"] == [
        "the sewage block's `plants` generates the size set 'wwtp', which no site names: its capacities and costs "
        "are not used (sites: sizes: wwtp)."]


def test_sewage_adjacent_default_with_no_adjacent_pair_is_refused(tmp_path):
    """Sewage defaults to cross_border: adjacent; with a distance matrix nothing is adjacent, so every
    town was held to its own plant (3 allowed pairs instead of 7) without a word."""
    path = teaching_copy(tmp_path, "sewage-3towns.yaml")
    sc = qzopt.load_scenario(path)
    ids = list(sc.demands.index) + list(sc.sites.index)  # the sludge haul starts at plant sites
    sites = list(sc.sites.index) + list(sc.sector_data.echelons["sludge"].sites.index)
    km = {("A", "B"): 10, ("B", "C"): 30, ("A", "C"): 40}
    town = lambda x: x.split("_")[-1]  # noqa: E731
    dist = lambda a, b: 0 if a == b else km.get((a, b), km.get((b, a)))  # noqa: E731
    rows = ["id," + ",".join(sites)] + [f"{i}," + ",".join(str(dist(town(i), town(j))) for j in sites) for i in ids]
    (tmp_path / "km.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    matrix = {"distances.method": "matrix", "distances.edges": "null", "distances.matrix": "km.csv"}
    msg = error_of(path, matrix)
    assert ("field `constraints.cross_border`: cross_border: adjacent (the sewage default) lets a plant serve its "
            "own and adjacent jurisdictions, but no jurisdictions are adjacent") in msg
    ok = qzopt.load_scenario(path, {**matrix, "constraints.adjacency": "[[A, B], [B, C]]"})
    assert ok.policy.cross_border == "adjacent" and len(ok.adjacency) == 2


# --------------------------------------------- 9. infinite limits, lengths and blank nodes
@pytest.mark.parametrize("override", [None, "1e400"])
def test_an_infinite_distance_limit_is_refused_not_no_limit(tiny, override):
    path, edit = tiny
    if override is None:
        edit("max_distance: 60 km}", "max_distance: 1e400}")
    msg = error_of(path, {"constraints.max_distance": override} if override else None)
    assert "field `constraints.max_distance`: the distance limit must be a finite number (got '1e400'" in msg


def test_an_infinite_road_length_is_refused(tiny):
    path, _ = tiny
    (path.parent / "tiny_roads.csv").write_text("from,to,km\nA,B,20\nB,C,inf\n", encoding="utf-8")
    msg = error_of(path)
    assert "tiny_roads.csv, line 3, field `km`: edge lengths must be finite numbers >= 0 (lines [3])" in msg


def test_an_edge_row_without_a_node_is_refused(tiny):
    path, _ = tiny
    (path.parent / "tiny_roads.csv").write_text("from,to,km\nA,B,20\nB,C,25\nA,,20\n", encoding="utf-8")
    assert "tiny_roads.csv, line 4, field `to`: edge rows without a `to` node (lines [4])" in error_of(path)


def test_an_edge_node_with_a_space_is_refused(tiny):
    path, _ = tiny
    (path.parent / "tiny_roads.csv").write_text("from,to,km\nA,B,20\nB ,C,25\n", encoding="utf-8")
    assert "tiny_roads.csv, line 3, field `from`: node 'B ' begins or ends with a space" in error_of(path)


# ------------------------------------------------------------- 10. override keys
@pytest.mark.parametrize("key", [1, None, ("solver", "gap")])
def test_an_override_key_that_is_not_text_is_refused(tiny, key):
    msg = error_of(tiny[0], {key: 2})
    assert f"override key {key!r} is a {type(key).__name__}, not a field path" in msg


# ------------------------------------------ 11. site and size errors name their line
def test_a_site_without_a_size_option_names_its_line(tiny):
    path, edit = tiny
    edit("{id: sC, jurisdiction: C, sizes: small}", "{id: sC, jurisdiction: C, sizes: []}")
    msg = error_of(path)
    assert f"line {line_of(path, 'sizes: []')}, field `sites[2].sizes`: site 'sC' has no size option" in msg


def test_a_site_both_existing_and_excluded_names_its_line(tiny):
    path, edit = tiny
    edit("{id: sC, jurisdiction: C, sizes: small}", "{id: sC, jurisdiction: C, sizes: small, existing: S200,\n"
                                                   "     excluded: true}")
    msg = error_of(path)
    assert (f"line {line_of(path, 'excluded: true')}, field `sites[2].excluded`: site 'sC' is both existing "
            "(at size 'S200') and excluded") in msg


def test_a_site_both_required_and_excluded_names_its_csv_line(tiny):
    path, _ = tiny
    csv = as_csv(path, "sites", "s.csv", "id,jurisdiction,sizes,required,excluded\nsA,A,small,,\n"
                                         "sB,B,small,yes,yes\nsC,C,small,,\n")
    assert f"{csv}, line 3, field `sites.excluded`: site 'sB' is both required and excluded" in error_of(path)


def test_repeated_size_names_name_the_size_set_and_line(tiny):
    path, edit = tiny
    edit("{name: S400, capacity: 400,", "{name: S200, capacity: 400,")
    msg = error_of(path)
    assert (f"line {line_of(path, '{name: S200, capacity: 400')}, field `sizes.small[1].name`: size set 'small' "
            "gives size names more than once: ['S200']") in msg
    assert msg.count("more than once") == 1  # once for the set, not once per site using it


def test_many_repeated_size_names_are_counted_once_in_a_sentence(tiny):
    """With six names repeated the message read "names sizes [...] and 1 more more than once"."""
    path, edit = tiny
    twice = "".join(f"    - {{name: X{k}, capacity: 10}}\n    - {{name: X{k}, capacity: 20}}\n" for k in range(6))
    edit("  small:\n", "  small:\n" + twice)
    assert ("size set 'small' gives size names more than once: ['X0', 'X1', 'X2', 'X3', 'X4'] and 1 more"
            in error_of(path))


def test_an_adjacency_pair_with_an_unknown_jurisdiction_names_its_line(tiny):
    path, edit = tiny
    edit("max_distance: 60 km}", "max_distance: 60 km,\n   adjacency: [[A, B], [B, CC]]}")
    msg = error_of(path)
    assert (f"line {line_of(path, 'adjacency')}, field `constraints.adjacency[1]`: adjacency pair ['B', 'CC'] "
            "names jurisdiction 'CC', which does not exist. Did you mean 'C'?") in msg


def test_a_population_without_urban_share_is_named_when_the_rates_differ(tmp_path):
    # wte-4towns: its kitchen waste counts urban residents only, so D without urban_share would
    # have counted as all rural (no kitchen waste at all), without a word
    path = teaching_copy(tmp_path, "wte-4towns.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{id: D, population: 100000, urban_share: 1.0}", "{id: D, population: 100000}"),
                    encoding="utf-8")
    msg = error_of(path)
    assert ("field `jurisdictions[3].urban_share`: jurisdiction 'D' has a population but no `urban_share`, and the "
            "kitchen-waste `generation` rule counts urban residents only" in msg and "depends on the share" in msg and "Give its urban_share (0 = all rural" in msg)
    path.write_text(text.replace("{id: D, population: 100000, urban_share: 1.0}",
                                 "{id: D, population: 100000, urban_share: 0}"), encoding="utf-8")
    assert "D" in qzopt.load_scenario(path).demands.index  # 0 = all rural, said on purpose


# --------------------------------------------- distance matrices: typos, repeats, signs
MATRIX = "id,sA,sB,sC\ndA,0,20,45\ndB,20,0,25\ndC,45,25,0\n"


def _with_matrix(tiny, text):
    path, edit = tiny
    (path.parent / "m.csv").write_text(text, encoding="utf-8")
    edit("distances: {method: road_graph, edges: tiny_roads.csv}", "distances: {method: matrix, matrix: m.csv}")
    return path


@pytest.mark.parametrize("text, said", [
    (MATRIX.replace("id,sA,sB,sC", "id,sA,sB,sc"),
     "m.csv, line 1, field `distances.matrix`: matrix lacks columns ['sC']. A typo? It has 'sc' for 'sC'."),
    (MATRIX.replace("dB,20", "d_B,20"), "matrix lacks rows ['dB']. A typo? It has 'd_B' for 'dB'."),
    (MATRIX + "dC,1,1,1\n", "m.csv, line 5, field `distances.matrix`: demand rows ['dC'] are given more than once"),
    (MATRIX.replace("dB,20,0,25", "dB,20,0,-25"), "m.csv, line 3, field `distances.matrix`: -25 at demand 'dB', "
                                                  "site 'sC' is negative"),
])
def test_a_matrix_typo_repeat_or_negative_is_named(tiny, text, said):
    assert said in error_of(_with_matrix(tiny, text))


def test_a_matrix_without_the_plant_rows_of_a_second_echelon_says_so(tmp_path):
    """The sludge hauls start at the plants: their rows were called 'demand rows', and the hint
    offered each plant's own column as its typo ('wwtp_A' for 'wwtp_A')."""
    path = teaching_copy(tmp_path, "sewage-3towns.yaml")
    (tmp_path / "km.csv").write_text("id,wwtp_A,wwtp_B,wwtp_C,sludge_B\nA,0,10,40,10\nB,10,0,30,0\nC,40,30,0,30\n",
                                     encoding="utf-8")
    msg = error_of(path, {"distances.method": "matrix", "distances.edges": "null", "distances.matrix": "km.csv",
                          "constraints.adjacency": "[[A, B], [B, C]]"})
    assert "matrix lacks rows ['wwtp_A', 'wwtp_B', 'wwtp_C']" in msg and "are there on the other axis" in msg
    assert "A typo?" not in msg and "demand rows" not in msg


def test_a_matrix_with_exactly_the_scenarios_ids_is_read(tiny):
    sc = qzopt.load_scenario(_with_matrix(tiny, MATRIX))
    assert sc.distance[1, 2] == 25.0


@pytest.mark.parametrize("limit, a_own_plant", [("40", False), ("40 km", False), ("40000 m", False),
                                                ("9 km", True), ("9000 m", True)])
def test_a_trunk_sewer_length_may_carry_its_unit(tmp_path, limit, a_own_plant):
    """`max_length: 40 km` was refused ("unable to parse string as a number") while
    `constraints.max_distance: 150 km` is read; now both are, in units.distance.  A is 10 km
    from B's plant: under a 9 km limit it must build its own."""
    path = teaching_edited(tmp_path, "sewage-3towns.yaml", "max_length: 40", f"max_length: {limit}")
    sc = qzopt.load_scenario(path)
    assert sc.sector_data.spec.trunk_sewer.max_length == pytest.approx(9.0 if a_own_plant else 40.0)
    res = qzopt.solve(sc)
    assert res.status == "optimal"
    assert ("wwtp_A" in set(res.open_sites["site"])) is a_own_plant
    assert (res.assignments["distance"] <= (9.0 if a_own_plant else 40.0)).all()


@pytest.mark.parametrize("old, new, said, at", [
    ("max_length: 40", "max_length: 40 min",
     "field `sewage.trunk_sewer.max_length`: '40 min' is a time but this scenario measures distances in km",
     "max_length"),
    ("max_length: 40", "max_length: 0 km",
     "field `sewage.trunk_sewer.max_length`: the distance limit must be above 0 km (got '0 km')", "max_length"),
    ("max_length: 40", "max_length: -4", "field `sewage.trunk_sewer.max_length`: must be above 0 (got -4)",
     "max_length"),
    ("max_length: 40", "max_length: 1e400 km",
     "field `sewage.trunk_sewer.max_length`: the distance limit must be a finite number (got '1e400 km', which is "
     "infinite)", "max_length"),
    ("max_length: 40", "max_length: null",  # was also "Input should be a valid string"
     "field `sewage.trunk_sewer.max_length`: Input should be a valid number (got None)", "max_length"),
    ("max_length: 40", "max_length: 40 parsecs",
     "field `sewage.trunk_sewer.max_length`: unknown unit 'parsecs' in '40 parsecs'", "max_length"),
    ("transport: 1.0 ", "transport: 1.0\n    max_distance: 20 miles\n   ",
     "field `sewage.sludge.max_distance`: unknown unit 'miles'", "max_distance"),
])
def test_a_bad_sector_distance_limit_is_named_at_its_field(tmp_path, old, new, said, at):
    path = teaching_edited(tmp_path, "sewage-3towns.yaml", old, new)
    msg = error_of(path)
    assert said in msg and f"line {line_of(path, at)}, field" in msg
    assert "leave it out" not in msg or "sludge" in said  # the pipe length is required: no "no limit"
    assert msg.count(" - ") <= 1 and "valid string" not in msg  # one problem, not one per form of the field


def test_a_sector_measured_in_minutes_is_told_to_use_km_not_to_give_its_limits_in_minutes(tmp_path):
    path = teaching_edited(tmp_path, "sewage-3towns.yaml", "max_length: 40", "max_length: 40 km")
    msg = error_of(path, {"units.distance": "min"})
    assert "field `units.distance`: the sewage block needs distances in km" in msg
    assert "give the limit in min" not in msg


def test_wte_kitchen_and_fly_ash_limits_may_carry_their_unit(tmp_path):
    """The kitchen stream's and an echelon's `max_distance` are read in units.distance like
    `max_length`; limits above the teaching plan's longest hauls (C's kitchen waste 40 km to A,
    fly ash inside B) leave its hand-solved optimum as it is."""
    plain = qzopt.solve(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml")
    path = teaching_edited(tmp_path, "wte-4towns.yaml", "    sites:\n      - {id: kw_A",
                           "    max_distance: 45 km\n    sites:\n      - {id: kw_A")
    text = path.read_text(encoding="utf-8").replace("transport: 2.0 ", "max_distance: 5000 m\n    transport: 2.0 ", 1)
    path.write_text(text, encoding="utf-8")
    sc = qzopt.load_scenario(path)
    assert sc.sector_data.spec.kitchen.max_distance == 45.0
    assert sc.sector_data.spec.fly_ash.max_distance == 5.0
    res = qzopt.solve(sc)
    assert res.status == "optimal" and res.objective == pytest.approx(plain.objective, rel=1e-9)


def test_a_problem_at_a_field_the_file_leaves_out_is_not_placed_on_a_line(tmp_path):
    """The missing `demands` of a sector scenario without a generation rule was reported at
    "line 3" (the file's first key, `name:`), a line that has nothing to do with it."""
    path = teaching_edited(tmp_path, "sewage-3towns.yaml",
                           "  generation: {urban: 100, rural: 100, unit: L, collection_rate: 1.0}", "")
    msg = error_of(path)
    assert f"{path.name}, field `demands`: `demands` is missing" in msg  # no ", line N" between them


# ----------------------------------------------------------------- found by the input audit
def test_a_matrix_column_given_twice_is_refused_not_dropped(tiny):
    # pandas renamed the second sC to 'sC.1', which was then dropped as a column for another table
    path = _with_matrix(tiny, MATRIX.replace("id,sA,sB,sC", "id,sA,sB,sC,sC").replace("\n", ",9\n")
                        .replace("sC,9\n", "sC\n"))
    msg = error_of(path)
    assert "m.csv, line 1, field `distances.matrix`: CSV 'm.csv' has the column 'sC' more than once (columns [4, 5])" in msg


def test_a_table_column_given_twice_is_refused(tiny):
    path, _ = tiny
    as_csv(path, "demands", "d.csv", "id,jurisdiction,amount,amount\ndA,A,100,1\ndB,B,120,1\ndC,C,80,1\n")
    msg = error_of(path)
    assert "d.csv, line 1, field `demands.csv`: CSV 'd.csv' has the column 'amount' more than once" in msg


def test_a_csv_with_trailing_empty_columns_is_still_read(tiny):
    sc = qzopt.load_scenario(_with_matrix(tiny, MATRIX.replace("\n", ",,\n")))
    assert sc.distance[1, 2] == 25.0


@pytest.mark.parametrize("ref, said", [
    ("{csv: d.csv, rename: {qty: amount}, ignore: [amt]}",
     "`rename` renames column 'qty' to 'amount', but d.csv already has a column 'amount'"),
    ("{csv: d.csv, rename: {qty: amount, amt: amount}, ignore: [amount]}",
     "`rename` renames columns ['qty', 'amt'] all to 'amount'"),
])
def test_a_rename_onto_a_column_the_csv_has_is_refused(tiny, ref, said):
    # one column silently won (with only a pandas warning)
    path, edit = tiny
    as_csv(path, "demands", "d.csv", "id,jurisdiction,amount,qty,amt\ndA,A,100,1,2\ndB,B,120,1,2\ndC,C,80,1,2\n")
    edit("demands: {csv: d.csv}", f"demands: {ref}")
    msg = error_of(path)
    assert f"tiny.yaml, line {line_of(path, 'rename')}, field `demands.rename.qty`: {said}" in msg
    assert "d.csv" in msg and "Keep one of columns" in msg


def test_a_rename_of_a_column_onto_an_ignored_one_is_read(tiny):
    path, edit = tiny
    as_csv(path, "demands", "d.csv", "id,jurisdiction,amount,qty\ndA,A,100,1\ndB,B,120,1\ndC,C,80,1\n")
    edit("demands: {csv: d.csv}", "demands: {csv: d.csv, rename: {qty: amount}, ignore: [amount]}")
    assert qzopt.load_scenario(path).demands["amount"].tolist() == [1, 1, 1]


@pytest.mark.parametrize("method", ["road_graph", "great_circle"])
def test_within_node_is_read_by_road_graph_and_great_circle(tiny, method):
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", f"{{method: {method}, within_node: 7}}"
         if method == "great_circle" else "{method: road_graph, edges: tiny_roads.csv, within_node: 7}")
    sc = qzopt.load_scenario(path)
    assert sc.distance[0, 0] == 7.0


def test_within_node_under_a_matrix_is_refused_not_ignored(tiny):
    path = _with_matrix(tiny, MATRIX)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("matrix: m.csv}", "matrix: m.csv, within_node: 7}"), encoding="utf-8")
    msg = error_of(path)
    assert (f"line {line_of(path, 'within_node')}, field `distances.within_node`: `within_node` is read only with "
            "`method: road_graph` or `method: great_circle` (this file uses method matrix") in msg


def test_the_hint_for_circuity_under_another_method_is_one_that_works(tiny):
    # it said `--set distances.circuity=null`, which is itself refused (circuity is a number)
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", "{method: road_graph, edges: tiny_roads.csv, circuity: 1.2}")
    msg = error_of(path)
    assert "remove `circuity` from the `distances` block of the file" in msg
    assert "distances.circuity=null" not in msg
    assert "circuity" in error_of(DATA_TINY, {"distances.circuity": "null"})  # what the old hint said: refused


DATA_TINY = ROOT / "tests" / "data" / "tiny.yaml"


COST_MATRIX = """name: cost matrix
units: {demand: t/d, distance: km, money: yuan}
jurisdictions:
  - {id: A, name: A}
  - {id: B, name: B}
demands:
  - {id: dA, jurisdiction: A, amount: 10}
  - {id: dB, jurisdiction: B, amount: 10}
sizes:
  s: [{name: S, capacity: 100, fixed_cost: 1000, unit_cost: 0}]
sites:
  - {id: sA, jurisdiction: A, sizes: s}
  - {id: sB, jurisdiction: B, sizes: s}
distances: {method: matrix, matrix: km.csv}
costs: {matrix: cost.csv, matrix_per: demand}
"""


def test_a_cost_matrix_prices_every_pair_by_hand(tmp_path):
    # costs per pair (whole demand per year): dA-sA 500, dA-sB 300, dB-sA 2000, dB-sB 100; a plant
    # costs 1,000 a year.  sB alone: 1,000 + 300 + 100 = 1,400; sA alone 3,500; both 2,400.
    # Per demand unit instead (x 10 t/d x 365): sB alone 1,000 + (300 + 100) x 3,650 = 1,461,000.
    (tmp_path / "km.csv").write_text("demand,sA,sB\ndA,0,10\ndB,10,0\n", encoding="utf-8")
    (tmp_path / "cost.csv").write_text("demand,sA,sB\ndA,500,300\ndB,2000,100\n", encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(COST_MATRIX, encoding="utf-8")
    res = qzopt.solve(path, isolate=False)
    assert res.status == "optimal" and res.objective == pytest.approx(1400.0) and list(res.open_sites["site"]) == ["sB"]
    res = qzopt.solve(qzopt.load_scenario(path, {"costs.matrix_per": "unit"}), isolate=False)
    assert res.objective == pytest.approx(1_461_000.0)
    # transport beside the matrix would be ignored; matrix_per without a matrix too: refused
    msg = " ".join(error_of(path, {"costs.transport": "1.2"}).split())
    assert "field `costs`" in msg and "costs.transport is not read when costs.matrix gives the cost" in msg
    msg = " ".join(error_of(path, {"costs.matrix": "null"}).split())
    assert "costs.matrix_per says how to read costs.matrix, which is not given" in msg
