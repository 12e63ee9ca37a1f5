"""Bad input gives a message naming the file, the field (and line) and what to do: CLI exit
code 2, no traceback.  Each test breaks one thing in tests/data/tiny.yaml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import qzopt
from qzopt.errors import ScenarioError

from conftest import DATA, error_of, line_of


def test_the_tiny_scenario_is_valid(tiny):
    sc = qzopt.load_scenario(tiny[0])
    assert len(sc.demands) == 3 and len(sc.sizes) == 6
    assert sc.distance[0, 2] == 45.0  # A-B-C on the road graph


def test_malformed_yaml_names_the_line(tiny):
    path, edit = tiny
    edit("  - {id: dB, jurisdiction: B, amount: 120}", "  - {id: dB, jurisdiction: B, amount: 120")
    msg = error_of(path)
    assert "tiny.yaml" in msg and "malformed YAML" in msg and "line" in msg


def test_unknown_field_suggests_the_right_one(tiny):
    path, edit = tiny
    edit("{name: S200, capacity: 200,", "{name: S200, capcity: 200,")
    msg = error_of(path)
    assert "unknown field `capcity`" in msg and "Did you mean `capacity`?" in msg
    assert "sizes.small[0].capcity" in msg
    assert f"line {line_of(path, 'capcity')}" in msg


def test_wrong_type(tiny):
    path, edit = tiny
    edit("amount: 120}", "amount: lots}")
    msg = error_of(path)
    assert "demands[1].amount" in msg and "'lots'" in msg and f"line {line_of(path, 'lots')}" in msg


def test_negative_demand(tiny):
    path, edit = tiny
    edit("amount: 80}", "amount: -80}")
    msg = error_of(path)
    assert "demands[2].amount" in msg and "greater than or equal to 0" in msg


def test_negative_capacity(tiny):
    path, edit = tiny
    edit("capacity: 400", "capacity: -400")
    assert "sizes.small[1].capacity" in error_of(path)


def test_unknown_jurisdiction_id(tiny):
    path, edit = tiny
    edit("{id: sC, jurisdiction: C,", "{id: sC, jurisdiction: CC,")
    msg = error_of(path)
    assert "jurisdiction 'CC' of site 'sC' does not exist" in msg and "Did you mean 'C'?" in msg
    assert "sites[2].jurisdiction" in msg and f"line {line_of(path, 'CC')}" in msg


def test_unknown_size_set(tiny):
    path, edit = tiny
    edit("{id: sB, jurisdiction: B, sizes: small}", "{id: sB, jurisdiction: B, sizes: smal}")
    msg = error_of(path)
    assert "size set 'smal'" in msg and "Did you mean 'small'?" in msg


def test_missing_csv(tiny):
    path, edit = tiny
    edit("edges: tiny_roads.csv", "edges: roads_missing.csv")
    msg = error_of(path)
    assert "roads_missing.csv" in msg and "not found" in msg and "distances.edges" in msg


def test_distance_unit_mismatch_in_edge_table(tiny):
    path, edit = tiny
    edit("distance: km", "distance: min")
    msg = error_of(path)
    assert "tiny_roads.csv" in msg and "km" in msg and "units.distance is min" in msg


def test_distance_unit_mismatch_in_limit(tiny):
    path, edit = tiny
    edit("max_distance: 60 km", "max_distance: 60 min")
    msg = error_of(path)
    assert "constraints.max_distance" in msg and "'60 min' is a time" in msg


def test_duplicate_key_is_not_silently_dropped(tiny):
    path, edit = tiny
    edit("solver: {name: auto, time_limit: 30}", "solver: {name: auto, time_limit: 30}\nsolver: {name: cbc}")
    msg = error_of(path)
    assert "key `solver` appears twice" in msg


def test_duplicate_ids(tiny):
    path, edit = tiny
    edit("{id: dC, jurisdiction: C", "{id: dB, jurisdiction: C")
    assert "duplicate demand ids ['dB']" in error_of(path)


def test_a_long_list_in_a_message_says_how_many_more_it_has(tiny):
    """Messages showed the first five of a list and no more, so 5 duplicate ids looked like 9."""
    path, edit = tiny
    rows = "".join(f"  - {{id: d{k}, jurisdiction: C, amount: 1}}\n  - {{id: d{k}, jurisdiction: C, amount: 1}}\n"
                   for k in range(9))
    edit("  - {id: dC, jurisdiction: C, amount: 80}\n", "  - {id: dC, jurisdiction: C, amount: 80}\n" + rows)
    assert "duplicate demand ids ['d0', 'd1', 'd2', 'd3', 'd4'] and 4 more" in error_of(path)


def test_few_shows_a_whole_short_list_and_counts_the_rest_of_a_long_one():
    from qzopt.errors import few, few_names

    assert few(["a", "b"]) == "['a', 'b']"
    assert few(np.arange(7)) == "[0, 1, 2, 3, 4] and 2 more"  # numpy scalars as plain numbers
    assert few(np.array(["x"])) == "['x']"
    assert few_names("abcdefg", 3) == "a, b, c and 4 more"
    assert few_names(["x; y", "z"], sep="; ") == "x; y; z"


def test_existing_size_must_exist(tiny):
    path, edit = tiny
    edit("{id: sA, jurisdiction: A, sizes: small}", "{id: sA, jurisdiction: A, sizes: small, existing: S999}")
    assert "existing at size 'S999'" in error_of(path)


def test_missing_scenario_file(tmp_path):
    assert "scenario file not found" in error_of(tmp_path / "nope.yaml")


def test_several_problems_are_reported_together(tiny):
    path, edit = tiny
    edit("amount: 80}", "amount: -80}")
    edit("{name: S200, capacity: 200,", "{name: S200, capcity: 200,")
    msg = error_of(path)
    assert msg.startswith("2 problems") and "capcity" in msg and "amount" in msg


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qzopt.cli", *args], capture_output=True, text=True)


def test_cli_bad_input_exits_2_without_traceback(tiny):
    path, edit = tiny
    edit("{name: S200, capacity: 200,", "{name: S200, capcity: 200,")
    for command in ("validate", "solve"):
        proc = run_cli(command, str(path))
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        assert "capcity" in proc.stderr and "tiny.yaml" in proc.stderr


@pytest.mark.parametrize("args, said", [
    (("solve", "{path}", "--time-limit", "-1"), "argument --time-limit: '-1': must be a finite number above 0"),
    (("solve", "{path}", "--time-limit", "inf"), "argument --time-limit: 'inf': must be a finite number above 0"),
    (("solve", "{path}", "--gap", "5"), "argument --gap: '5': a relative gap from 0 to below 1 (0.01 = 1 %)"),
    (("solve", "{path}", "--threads", "0"), "argument --threads: '0': must be a whole number, 1 or more"),
    (("share", "{path}", "--workers", "0"), "argument --workers: '0': must be a whole number, 1 or more"),
    (("frontier", "{path}", "--points", "0"), "argument --points: '0': must be a whole number, 1 or more"),
    (("frontier", "{path}", "--caps", "300,abc"), "argument --caps: 'abc' is not a number"),
    (("frontier", "{path}", "--caps", "300,-5"), "argument --caps: '-5': must be a finite number, 0 or above"),
])
def test_cli_option_out_of_range_is_named_not_run(tiny, args, said):
    path, _ = tiny
    proc = run_cli(*(a.format(path=path) for a in args))
    assert proc.returncode == 2 and said in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and not proc.stdout


def test_unknown_player_column_lists_the_text_columns_there_are(tiny):
    from qzopt.sharing.coalitions import players_of

    # tiny.yaml's jurisdictions: name and group (text), lat and lon; the loader adds node (text)
    # and population, urban_share, elevation_m (numbers, so no player groups)
    with pytest.raises(ValueError) as info:
        players_of(qzopt.load_scenario(tiny[0]), "nope")
    assert str(info.value) == ("no column 'nope' on the jurisdictions; use 'jurisdiction' "
                               "or one of 'name', 'group', 'node'")


def test_the_set_example_in_the_help_is_a_field_that_exists(tiny):
    help_text = " ".join(run_cli("solve", "--help").stdout.split())
    example = help_text.split("e.g. --set ")[1].split(" --set ")[1].split()[0]
    assert example == "constraints.max_distance=80"
    proc = run_cli("validate", str(tiny[0]), "--set", example)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("override, said", [
    ({"time_limit": -1.0}, "time_limit -1.0: must be a finite number of seconds above 0"),
    ({"time_limit": float("nan")}, "time_limit nan: must be a finite number of seconds above 0"),
    ({"time_limit": float("inf")}, "time_limit inf: must be a finite number of seconds above 0 (None = no limit)"),
    ({"gap": 1.5}, "gap 1.5: must be a relative gap from 0"),
    ({"gap": -0.1}, "gap -0.1: must be a relative gap from 0"),
    ({"threads": 0}, "threads 0: must be 1 or more"),
])
def test_api_solve_refuses_an_override_out_of_range(tiny, override, said):
    path, _ = tiny
    with pytest.raises(qzopt.errors.QzoptError, match=re.escape(said)):
        qzopt.solve(path, **override)


def test_infeasible_scenario_explains_which_demand(tiny, tmp_path):
    # Only C may not reach any site within 10 km except its own; exclude its own site:
    # C (80 t/d) is 25 km from sB and 45 km from sA -> unreachable within 10 km.
    path, edit = tiny
    edit("max_distance: 60 km", "max_distance: 10 km")
    edit("{id: sC, jurisdiction: C, sizes: small}", "{id: sC, jurisdiction: C, sizes: small, excluded: true}")
    res = qzopt.solve(qzopt.load_scenario(path))
    assert res.status == "infeasible"
    assert any("'dC'" in e and "25 km" in e and "10 km limit" in e for e in res.explanation), res.explanation
    proc = run_cli("solve", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 3
    assert "dC" in proc.stdout and "Traceback" not in proc.stderr


def test_infeasible_capacity_is_explained_by_an_elastic_solve(tiny):
    # Every site holds at most 200 t/d with one size; B (120) and C (80) may only use sB or
    # sC within 20 km... here: capacity 100 at each site and single sourcing: dB (120 t/d)
    # fits no site -> the pre-solve check names it.
    path, edit = tiny
    edit("{name: S400, capacity: 400,", "{name: S400, capacity: 100,")
    edit("{name: S200, capacity: 200,", "{name: S200, capacity: 90,")
    res = qzopt.solve(qzopt.load_scenario(path))
    assert res.status == "infeasible"
    assert any("'dB' needs 120" in e and "holds 100" in e for e in res.explanation), res.explanation


# ----------------------------------------------------------------- found by a new user's review
def test_a_demand_unit_per_hour_is_read_as_8760_periods_a_year(tiny):
    path, edit = tiny
    per_day = qzopt.load_scenario(path)
    edit("demand: t/d", "demand: t/h")
    per_hour = qzopt.load_scenario(path)
    assert per_hour.units.per_year == 24 * 365
    # the same amounts per hour cost 24 times as much a year to haul as per day
    hour, day = per_hour.annual_assignment_cost(), per_day.annual_assignment_cost()
    reachable = np.isfinite(day) & (day > 0)
    assert reachable.sum() >= 3 and np.allclose(hour[reachable] / day[reachable], 24.0)


@pytest.mark.parametrize("unit", ["tonnes", "t per day", "t/fortnight"])
def test_a_demand_unit_without_a_known_period_is_refused_not_read_as_per_year(tiny, unit):
    path, edit = tiny
    edit("demand: t/d", f"demand: {unit}")
    msg = error_of(path)
    assert f"{path}, line 3, field `units.demand`" in msg and repr(unit) in msg and "units.per_year" in msg
    edit(f"demand: {unit}", f"demand: {unit}, per_year: 300")
    assert qzopt.load_scenario(path).units.per_year == 300


def test_the_readme_what_if_runs_on_a_scenario_without_fees(tiny):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    example = re.search(r"--set (fees\.mode=none)", readme).group(1)
    proc = run_cli("validate", str(tiny[0]), "--set", example)  # tiny.yaml has no fees block
    assert proc.returncode == 0, proc.stderr
    assert qzopt.load_scenario(tiny[0], {"fees.mode": "none"}).fees.active is False


def test_a_fee_rule_without_its_cap_names_the_field(tiny):
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, tiny[0], {"fees.mode": "uniform"}).value)
    assert "fees.max_fee is required with mode 'uniform'" in msg and "set by the override fees.mode" in msg


def test_an_override_may_index_a_list_as_error_messages_print_it(tiny):
    path, _ = tiny
    assert qzopt.load_scenario(path, {"demands[1].amount": "50"}).demands["amount"].tolist() == [100, 50, 80]
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, path, {"demands[0].amount": "-5"}).value)
    assert "field `demands[0].amount`" in msg and "greater than or equal to 0" in msg
    assert "set by the override demands[0].amount=-5" in msg and "line" not in msg
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, path, {"demands[7].amount": "5"}).value)
    assert "demands has 3 entries (indices 0-2)" in msg
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, path, {"units.demand[0]": "5"}).value)
    assert "units.demand is not a list" in msg


def test_an_override_of_a_csv_table_row_points_at_the_csv():
    wte = Path(__file__).parents[1] / "scenarios" / "qianzhong-wte.yaml"
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, wte, {"jurisdictions[0].population": "5"}).value)
    assert "jurisdictions is not a list written in the file (it is read from a CSV: edit that file)" in msg


def test_a_bad_override_value_is_blamed_on_the_override_not_a_line(tiny):
    msg = str(pytest.raises(ScenarioError, qzopt.load_scenario, tiny[0],
                            {"constraints.max_distance": "abc"}).value)
    assert "cannot read 'abc' as a distance" in msg and "set by the override constraints.max_distance=abc" in msg
    assert "line" not in msg


def test_brackets_in_a_message_reach_the_terminal(tiny):
    proc = run_cli("validate", str(tiny[0]), "--set", "a..b[=1")  # rich markup used to eat "[index]"
    assert proc.returncode == 2 and "list[index].field=value" in proc.stderr


@pytest.mark.parametrize("limit, said", [("-10", "the distance limit must be above 0 km"),
                                         ("0", "the distance limit must be above 0 km"),
                                         (".nan", "Input should be a finite number")])
def test_a_distance_limit_not_above_zero_is_bad_input(tiny, limit, said):
    proc = run_cli("validate", str(tiny[0]), "--set", f"constraints.max_distance={limit}")
    assert proc.returncode == 2 and f"field `constraints.max_distance`: {said}" in proc.stderr


def test_an_infinite_amount_in_a_csv_names_the_csv_row(tiny):
    path, edit = tiny
    (path.parent / "demands.csv").write_text("id,jurisdiction,amount\ndA,A,100\ndB,B,inf\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    start, end = text.index("demands:\n"), text.index("sizes:")
    path.write_text(text[:start] + "demands: {csv: demands.csv}\n" + text[end:], encoding="utf-8")
    msg = error_of(path)
    assert msg.startswith(f"{path.parent / 'demands.csv'}, line 3, field `amount`") and "finite number" in msg


def test_empty_tables_are_named_not_a_keyerror(tiny, tmp_path):
    path, edit = tiny
    (tmp_path / "j.csv").write_text("id,name\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    start, end = text.index("jurisdictions:\n"), text.index("demands:")
    path.write_text(text[:start] + "jurisdictions: {csv: j.csv}\n" + text[end:], encoding="utf-8")
    msg = error_of(path)
    assert msg.startswith(f"{tmp_path / 'j.csv'}, field `jurisdictions`: no jurisdictions: the file has no rows")
    path.write_text(text[:start] + "jurisdictions: []\n" + text[end:], encoding="utf-8")
    assert "field `jurisdictions`: no jurisdictions: the list has no rows" in error_of(path)


def test_a_folder_given_as_the_scenario_lists_its_yaml_files():
    proc = run_cli("validate", str(Path(__file__).parent / "data"))
    assert proc.returncode == 2 and "is a folder, not a scenario file" in proc.stderr
    assert "tiny.yaml" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, said", [
    (("solve", "{path}", "-o", "{path}"), "-o {path}: that is a file, not a folder"),
    (("frontier", "{path}", "-o", "{path}"), "-o {path}: that is a file, not a folder"),
    (("share", "{path}", "-o", "{path}"), "-o {path}: that is a file, not a folder"),
    (("share", "{path}", "--cache", "{path}"), "--cache {path}: that is a file, not a folder"),
    (("solve", "{path}", "-o", "{path}/out"), "-o {path}/out: cannot create the folder"),
    (("solve", "{path}", "--threads", "1.5"), "argument --threads: '1.5' is not a whole number"),
    # an empty -o (an unset $OUT in a script) is refused, not read as "not given" (out/<name>)
    (("solve", "{path}", "-o", ""), "-o '': names no folder; name a folder to write into"),
    (("frontier", "{path}", "-o", ""), "-o '': names no folder"),
    (("share", "{path}", "-o", ""), "-o '': names no folder"),
    (("share", "{path}", "--cache", ""), "--cache '': names no folder"),
    (("report", "{path}", "-o", ""), "-o '': names no file or folder; name one, or leave -o out"),
    (("report", "{path}", "--frontier", ""), "--frontier '': names no file or folder"),
    (("compare", "{path}", "{path}", "-o", ""), "-o '': names no file or folder"),
    (("validate", ""), "the scenario path is empty"),  # was "error: .: . is a folder"
])
def test_an_output_folder_that_cannot_be_one_is_refused_before_solving(tiny, args, said):
    path, _ = tiny
    proc = run_cli(*(a.format(path=path) for a in args))
    assert proc.returncode == 2 and said.format(path=path) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "solving" not in proc.stdout


def test_a_piped_frontier_table_keeps_every_figure_and_says_how_each_point_was_solved(tmp_path):
    wte4 = Path(__file__).parents[1] / "scenarios" / "teaching" / "wte-4towns.yaml"
    proc = run_cli("frontier", str(wte4), "--points", "2", "--time-limit", "20", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    import pandas as pd

    table = pd.read_csv(tmp_path / "frontier.csv")
    assert {"status", "solver", "gap", "seconds"} <= set(table.columns)
    assert (table["status"] == "optimal").all() and (table["gap"] <= 1e-6).all() and (table["seconds"] > 0).all()
    for cost in table["total_cost_per_yr"]:  # piped, rich assumed 80 columns and cut these to "35,79…"
        assert f"{cost:,.0f}" in proc.stdout
    md = (tmp_path / "frontier.md").read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{5,}", md), md  # fees were printed as 46.57815185321246


def test_validate_prints_the_total_demand_in_full_not_in_e_notation():
    sewage = Path(__file__).parents[1] / "scenarios" / "qianzhong-sewage.yaml"
    total = qzopt.load_scenario(sewage).demands["amount"].sum()
    assert total > 1e6  # "1.95803e+06 m3/d" before
    proc = run_cli("validate", str(sewage))
    assert proc.returncode == 0 and f"({total:,.0f} m3/d)" in proc.stdout


# ----------------------------------------------------------------- the notebook path (pandas)
def _frames(**changes):
    """The three-town example of docs/model.md (objective 350: one plant at B), with changes."""
    import pandas as pd

    towns = ["A", "B", "C"]
    args = dict(demands=pd.DataFrame({"id": towns, "jurisdiction": towns, "amount": [10.0, 10.0, 10.0]}),
                sites=pd.DataFrame({"id": ["s1", "s2", "s3"], "jurisdiction": towns}),
                sizes=pd.DataFrame({"site": ["s1", "s2", "s3"], "size": "std", "capacity": 30.0,
                                    "fixed_cost": 150.0}),
                distance=np.abs(np.subtract.outer([0.0, 10.0, 20.0], [0.0, 10.0, 20.0])),
                transport=1.0, units=qzopt.Units("t", "km", "yuan", per_year=1.0))
    args.update(changes)
    return qzopt.Scenario.from_frames(**args)


def test_the_frames_example_solves_to_its_hand_value():
    assert qzopt.solve(_frames()).objective == pytest.approx(350.0)


def test_units_derive_periods_a_year_from_the_demand_unit_in_the_api_too():
    assert qzopt.Units("t/yr", "km", "yuan").per_year == 1 and qzopt.Units("m3/d").per_year == 365
    assert qzopt.solve(_frames(units=qzopt.Units("t/yr", "km", "yuan"))).objective == pytest.approx(350.0)
    with pytest.raises(ScenarioError, match=r"field `units.demand`: cannot tell how many periods of 't'"):
        qzopt.Units("t", "km", "yuan")


@pytest.mark.parametrize("changes, said", [
    ({"transport": float("nan")}, "field `transport`: nan: must be a finite number >= 0"),
    ({"transport": -1}, "field `transport`: -1: must be a finite number >= 0"),
    ({"transport": "1"}, "field `transport`: '1': must be a finite number >= 0"),
    ({"lifetime_years": 0}, "field `lifetime_years`: 0: must be a number of years above 0"),
    ({"units": {"demand": "t"}}, "field `units`: must be a Units (got dict)"),
    ({"transprot": 1.0}, "field `transprot`: unknown argument 'transprot'. Did you mean 'transport'?"),
    ({"demands": {"A": 10}}, "field `demands`: demands must be a pandas DataFrame (got dict)"),
    ({"distance": "far"}, "field `distance`: distance must be a demand x site array of numbers"),
])
def test_bad_arguments_to_from_frames_are_named(changes, said):
    with pytest.raises(ScenarioError, match=re.escape(said)):
        _frames(**changes)


def test_a_misspelt_column_is_refused_not_read_as_zero():
    import pandas as pd

    sizes = pd.DataFrame({"site": ["s1", "s2", "s3"], "size": "std", "capacity": 30.0, "fixed_costs": 150.0})
    with pytest.raises(ScenarioError, match=re.escape("field `sizes.fixed_costs`: column 'fixed_costs' is not one "
                                                      "qzopt reads. Did you mean 'fixed_cost'?")):
        _frames(sizes=sizes)
    kept = sizes.rename(columns={"fixed_costs": "fixed_cost"}).assign(note="from the 2017 plan")
    assert qzopt.solve(_frames(sizes=kept)).objective == pytest.approx(350.0)  # other extra columns are kept
    with pytest.raises(ScenarioError, match="capacity must be a number >= 0.*inf = unlimited, not NaN"):
        _frames(sizes=kept.assign(capacity=[np.nan, 30.0, 30.0]))
    demands = pd.DataFrame({"id": ["A", "B", "C"], "jurisdiction": ["A", "B", "C"], "amount": [10, "x", 10]})
    with pytest.raises(ScenarioError, match=re.escape("field `demands.amount`: not a number in rows ['B']: ['x']")):
        _frames(demands=demands)


@pytest.mark.parametrize("policy, said", [
    ({"serve_share": 1.5}, "field `policy.serve_share`: 1.5: must be a share from 0 to 1"),
    ({"cross_border": "onw"}, "field `policy.cross_border`: 'onw': must be one of 'any', 'adjacent', 'own'"),
    ({"budget": float("nan")}, "field `policy.budget`: nan: must be None or a finite number >= 0"),
    ({"facilities_exactly": -1}, "field `policy.facilities_exactly`: -1: must be None or a whole number >= 0"),
    ({"max_distance": 0}, "field `policy.max_distance`: 0: must be None or a number above 0"),
    ({"max_distance": "15 km"}, "field `policy.max_distance`: '15 km': must be None or a number above 0"),
    ({"unserved_penalty": -100}, "field `policy.unserved_penalty`: -100: must be None or a finite number >= 0"),
    ({"max_distanc": 5}, "field `policy.max_distanc`: policy has no field 'max_distanc'. Did you mean 'max_distance'?"),
])
def test_replace_refuses_a_policy_the_yaml_would_refuse(policy, said):
    with pytest.raises(ScenarioError, match=re.escape(said)):
        _frames().replace(policy=policy)


@pytest.mark.parametrize("call, said", [
    (lambda sc: qzopt.solve(sc, time_limit="20"), "time_limit '20': must be a number, not str"),
    (lambda sc: qzopt.solve(sc, threads="2"), "threads '2': must be a whole number, not str"),
    (lambda sc: qzopt.solve(None), "solve() takes a Scenario or the path of a scenario file, not NoneType"),
    (lambda sc: qzopt.load_scenario(DATA / "tiny.yaml", overrides=["a=1"]), "overrides must be a mapping"),
])
def test_bad_solve_arguments_are_named(call, said):
    with pytest.raises(qzopt.errors.QzoptError, match=re.escape(said)):
        call(_frames())


def test_a_fallback_given_as_one_string_is_one_solver_not_its_letters(monkeypatch):
    from qzopt.solvers import registry

    monkeypatch.setattr(registry, "unavailable_reason", lambda name: "not here" if name == "ortools" else None)
    res = qzopt.solve(_frames(), solver="ortools", fallback="highs")
    assert res.solver == "highs" and [a["solver"] for a in res.fallbacks] == ["ortools"]


def test_a_misspelt_solver_in_the_scenario_file_is_named_with_its_field(tiny):
    path, edit = tiny
    edit("solver: {name: auto, time_limit: 30}", "solver: {name: hihgs, time_limit: 30, fallback: [cbc, ortols]}")
    msg = error_of(path)
    assert "field `solver.name`: unknown solver 'hihgs' (did you mean 'highs'?)" in msg
    assert "field `solver.fallback`: unknown solver 'ortols' (did you mean 'ortools'?)" in msg
    assert "tiny.yaml, line 23" in msg
    assert "unknown solver 'cbx'" in error_of(DATA / "tiny.yaml", {"solver.name": "cbx"})


def test_a_result_without_a_plan_has_the_columns_of_one_with_a_plan(tiny, tmp_path):
    path, _ = tiny
    solved = qzopt.solve(path)
    for overrides in ({"demands[1].amount": 500},  # refused by the pre-solve checks
                      {"constraints.facilities": {"exactly": 1}, "constraints.max_distance": 10}):  # by the solver
        none = qzopt.solve(qzopt.load_scenario(path, overrides), time_limit=20, explain=False)
        assert none.status == "infeasible"
        for table in ("facilities", "assignments", "demands", "jurisdictions"):
            assert list(getattr(none, table).columns) == list(getattr(solved, table).columns), table
        assert (none.demands["unserved"] == none.demands["amount"]).all() and none.facilities.empty
        none.write(tmp_path / "none")  # and so when read back from result.json
        back = qzopt.Result.read(tmp_path / "none")
        for table in ("facilities", "assignments", "demands"):
            assert list(getattr(back, table).columns) == list(getattr(solved, table).columns), table


def test_an_unknown_csv_column_lists_the_columns_in_one_order(tiny):
    # the list used to be built from a set: its order changed from run to run
    path, edit = tiny
    (path.parent / "demands.csv").write_text("id,jurisdiction,amount,zzz\ndA,A,100,1\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    start, end = text.index("demands:\n"), text.index("sizes:")
    path.write_text(text[:start] + "demands: {csv: demands.csv}\n" + text[end:], encoding="utf-8")
    msg = error_of(path)
    assert ("unknown column `zzz`. Known columns: id, jurisdiction, amount, lat, lon, node, name, max_distance."
            in msg)


def test_an_id_that_differs_only_in_case_gets_the_suggestion(tiny):
    path, edit = tiny
    edit("{id: sC, jurisdiction: C,", "{id: sC, jurisdiction: c,")
    assert "jurisdiction 'c' of site 'sC' does not exist. Did you mean 'C'?" in error_of(path)


def test_an_empty_scenario_name_is_refused(tiny):
    path, edit = tiny
    edit("name: tiny", 'name: ""')
    assert "field `name`" in error_of(path)


@pytest.mark.parametrize("args, said", [
    (["--set", "demands[-1].amount=1"], "override 'demands[-1].amount': index -1 is below 0"),
    (["--set", "constraints.max_distance=50", "--set", "constraints.max_distance=999"],
     "--set constraints.max_distance is given twice ('50' and '999'); give it once"),
])
def test_overrides_that_would_change_something_unseen_are_refused(tiny, args, said):
    proc = run_cli("validate", str(tiny[0]), *args)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr


@pytest.mark.parametrize("limit, said", [("10 km", None), ("10", None), ("0 km", "must be above 0 km"),
                                         ("ten km", "ten"), ("-3", "must be above 0")])
def test_a_demand_points_own_limit_reads_units_as_the_global_one_does(tiny, limit, said):
    path, edit = tiny
    edit("{id: dB, jurisdiction: B, amount: 120}", f'{{id: dB, jurisdiction: B, amount: 120, max_distance: "{limit}"}}'
         if " " in limit or not limit.lstrip("-").isdigit() else
         f"{{id: dB, jurisdiction: B, amount: 120, max_distance: {limit}}}")
    if said is None:
        assert qzopt.load_scenario(path).demands.loc["dB", "max_distance"] == 10.0
    else:
        msg = error_of(path)
        assert "demands[1].max_distance" in msg and said in msg, msg


@pytest.mark.parametrize("rule, said", [
    ("{exactly: 2, at_most: 3}", "give either exactly or at_most/at_least, not both"),
    ("{at_least: 3, at_most: 1}", "at_least 3 > at_most 1"),
    ("{exactly: 1, at_least: 3, at_most: 1}", "give either exactly or at_most/at_least, not both; at_least 3 > at_most 1"),
])
def test_a_facility_count_that_contradicts_itself_is_named(tiny, rule, said):
    """The YAML and Policy ask the same (scenario.facility_count_problems); test_api_input has Policy's."""
    path, edit = tiny
    edit("constraints: {single_sourcing: true,", f"constraints: {{facilities: {rule}, single_sourcing: true,")
    msg = error_of(path)
    assert f"line {line_of(path, 'constraints:')}, field `constraints.facilities`: {said}" in msg


def test_a_penalty_with_every_unit_served_is_refused_not_ignored(tiny):
    # serve 1 (the default) serves every unit, so a penalty would change nothing, and giving one
    # turned off the fast presolves: the user is told instead
    path, edit = tiny
    edit("constraints: {single_sourcing: true, max_distance: 60 km}",
         "constraints: {single_sourcing: true, max_distance: 60 km, demand: {penalty: 500}}")
    msg = " ".join(error_of(path).split())
    assert "tiny.yaml" in msg and "constraints.demand" in msg and f"line {line_of(path, 'penalty: 500')}" in msg
    assert "`penalty: 500` has no effect with `serve: 1`" in msg
    edit("demand: {penalty: 500}", "demand: {serve: 0.9, penalty: 500}")
    assert qzopt.load_scenario(path).policy.unserved_penalty == 500


# ----------------------------------------------------------------- found by the input audit
def test_an_adjacency_pair_naming_one_jurisdiction_twice_is_refused_not_a_crash(tiny):
    # [[A, A]] passed the schema and crashed building the pairs (`a, b = tuple(pair)`) in solve and validate
    path, edit = tiny
    edit("constraints: {single_sourcing: true,", "constraints: {cross_border: adjacent, adjacency: [[A, B], [A, A]],"
         "\n  single_sourcing: true,")
    msg = error_of(path)
    assert (f"tiny.yaml, line {line_of(path, '[A, A]')}, field `constraints.adjacency[1]`: adjacency pair ['A', 'A'] "
            "names jurisdiction 'A' twice") in msg
    for command in ("validate", "solve"):
        proc = run_cli(command, str(path))
        assert proc.returncode == 2 and "names jurisdiction 'A' twice" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout


def test_an_adjacency_pair_of_one_jurisdiction_is_refused_in_the_api_too(line):
    with pytest.raises(ScenarioError, match="an adjacency pair must name two different jurisdictions"):
        line(qzopt.Policy(cross_border="adjacent"), adjacency=[("A", "B"), ("B", "B")])


def test_an_empty_adjacency_list_is_refused_not_read_as_not_given(tiny):
    # `adjacency: []` read as "not given", so the road graph's adjacency was used instead
    path, edit = tiny
    edit("constraints: {single_sourcing: true,", "constraints: {cross_border: adjacent, adjacency: [],\n"
         "  single_sourcing: true,")
    msg = error_of(path)
    assert f"line {line_of(path, 'adjacency: []')}, field `constraints.adjacency`: `adjacency: []` gives no pairs" in msg
    assert "Give at least one pair, or leave adjacency out to derive it from the road graph." in msg


@pytest.mark.parametrize("demand, per_year, most", [("t/d", 8760, "366 days"), ("t/d", 367, "366 days"),
                                                    ("m3/h", 8785, "8784 hours"), ("t/wk", 365, "53 weeks"),
                                                    ("t/month", 13, "12 months"), ("t/yr", 365, "1 year")])
def test_per_year_above_the_periods_of_the_demand_unit_is_refused(tiny, demand, per_year, most):
    # t/d with per_year 8760 silently made every cost 24 times too large
    path, edit = tiny
    edit("demand: t/d", f"demand: {demand}, per_year: {per_year}")
    msg = error_of(path)
    assert (f"tiny.yaml, line {line_of(path, 'per_year')}, field `units.per_year`: per_year {per_year} is more than "
            f"the {most} a year holds: per_year is the number of demand periods in a year") in msg
    with pytest.raises(ScenarioError, match=f"field `units.per_year`: per_year {per_year} is more than the {most}"):
        qzopt.Units(demand, "km", "yuan", per_year=per_year)


@pytest.mark.parametrize("demand, per_year", [("t/d", 300), ("t/d", 366), ("m3/h", 8784), ("t/wk", 52),
                                              ("t/yr", 1), ("tonnes", 8760)])
def test_per_year_up_to_the_periods_of_the_demand_unit_is_kept(tiny, demand, per_year):
    path, edit = tiny
    edit("demand: t/d", f"demand: {demand}, per_year: {per_year}")
    assert qzopt.load_scenario(path).units.per_year == per_year


@pytest.mark.parametrize("old, new, field", [
    ("max_distance: 60 km}", "max_distance: 60 km, facilities: {exactly: 1:30}}", "constraints.facilities.exactly"),
    ("max_distance: 60 km}", "max_distance: 1:30}", "constraints.max_distance"),
    ("time_limit: 30}", "time_limit: 1:30}", "solver.time_limit"),
])
def test_a_value_written_1_30_gets_the_hint_wherever_it_is_refused(tiny, old, new, field):
    path, edit = tiny
    edit(old, new)
    msg = error_of(path)
    assert f"field `{field}`" in msg and "'1:30'" in msg and "Write a time as a decimal number (1:30 h -> 1.5)" in msg


def test_capex_without_a_lifetime_is_a_warning_that_names_the_default(tiny):
    # the default lifetime of 1 year charges a plant's whole capex every year: said, not silent
    path, edit = tiny
    assert not (qzopt.load_scenario(path).extras.get("warnings") or [])  # tiny gives lifetime_years: 25
    edit("costs: {transport: 1.2, discount_rate: 0.06, lifetime_years: 25}", "costs: {transport: 1.2}")
    said = qzopt.load_scenario(path).extras["warnings"]
    assert any("costs.lifetime_years is not given, so capex is spread over 1 year" in w for w in said)


def test_validate_refuses_banded_fees_that_solve_would_refuse(tiny):
    # banded fees with split assignment (capacities can bind, single sourcing off) have no exact
    # linear form: solve said so, validate said "ok"; with single sourcing both accept it
    path, _ = tiny
    banded = ("--set", "fees.mode=banded", "--set", "fees.max_fee=100")
    for command in (("validate",), ("solve", "-o", str(path.parent / "out"))):
        proc = run_cli(*command, str(path), "--set", "constraints.single_sourcing=false", *banded)
        assert proc.returncode == 2 and "banded fees with split assignment" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert run_cli("validate", str(path), *banded).returncode == 0
