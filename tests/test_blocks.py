"""Each constraint block changes the answer of a hand-solvable instance as expected.

The instance (tests/conftest.py::line_scenario): towns A, B, C at km 0, 10, 20 with 10 t
each; a site in each town; transport 1 per t.km; plant fixed cost 150.

Hand solution of the base case: one plant at s2 costs 150 + 10*10 (A) + 10*10 (C) = 350;
any two plants cost 300 + at least 100 = 400; three cost 450.  So the optimum is s2 alone, 350.
"""

from __future__ import annotations

import pytest

import qzopt
from qzopt.scenario.scenario import Policy

from conftest import line_scenario


def run(sc):
    res = qzopt.solve(sc, isolate=False)
    return res


def opened(res):
    return sorted(res.open_sites["site"])


def test_base_case_opens_the_middle_site():
    res = run(line_scenario())
    assert res.status == "optimal"
    assert res.objective == pytest.approx(350.0)
    assert opened(res) == ["s2"]


def test_capacity_forces_two_plants_and_splits_b():
    # capacity 15: two plants needed; s1+s3 with B split 5/5 costs 300 + 50 + 50 = 400,
    # s1+s2 would push C's 10 t over s2's 15 t (B 10 + C 10) and cost more.
    res = run(line_scenario(capacity=15.0))
    assert res.objective == pytest.approx(400.0)
    assert opened(res) == ["s1", "s3"]
    b = res.assignments[res.assignments["demand"] == "B"]
    assert sorted(b["amount"]) == pytest.approx([5.0, 5.0])
    assert (res.open_sites["load"] <= res.open_sites["capacity"] + 1e-9).all()


def test_single_sourcing_forbids_the_split():
    # same capacity 15, but B must go whole to one plant: no two plants can take 30 t
    # (each holds 15, a plant with B and a neighbour would hold 20) -> all three open, 450.
    res = run(line_scenario(capacity=15.0, policy=Policy(single_sourcing=True)))
    assert res.objective == pytest.approx(450.0)
    assert opened(res) == ["s1", "s2", "s3"]
    assert res.assignments.groupby("demand")["site"].nunique().max() == 1


def test_max_distance_drops_long_pairs():
    # 9 km limit: nobody may travel 10 km, so each town needs its own plant: 450.
    res = run(line_scenario(policy=Policy(max_distance=9.0)))
    assert res.objective == pytest.approx(450.0)
    assert res.model_size["variables"] < run(line_scenario()).model_size["variables"]
    assert (res.assignments["distance"] <= 9.0).all()


def test_facility_count_exactly_two():
    res = run(line_scenario(policy=Policy(facilities_exactly=2)))
    assert res.objective == pytest.approx(400.0)
    assert len(opened(res)) == 2


def test_facility_count_at_least_three():
    res = run(line_scenario(policy=Policy(facilities_at_least=3)))
    assert res.objective == pytest.approx(450.0)


def test_budget_rules_out_the_expensive_site():
    # s2 needs capex 1000, the others 100, annualised over 100 years at 0 % (10 and 1 per year).
    # Without a budget s2 alone wins (150 + 10 + 200 = 360); a budget of 500 rules s2 out:
    # s1+s3 (300 + 2 + 100 = 402) beats s1 alone (151 + 100 + 200 = 451).
    sc = line_scenario(capex=(100.0, 1000.0, 100.0), lifetime_years=100.0)
    assert run(sc).objective == pytest.approx(360.0)
    res = run(sc.replace(policy={"budget": 500.0}))
    assert res.objective == pytest.approx(402.0)
    assert opened(res) == ["s1", "s3"]


def test_existing_site_must_stay_open():
    # s1 exists: s1 alone = 450, s1 + s2 = 300 + 100 = 400 (C to s2) -> 400.
    res = run(line_scenario(existing=("std", "", "")))
    assert res.objective == pytest.approx(400.0)
    assert "s1" in opened(res)


def test_excluded_site_never_opens():
    res = run(line_scenario(excluded=(False, True, False)))
    assert res.objective == pytest.approx(400.0)
    assert "s2" not in opened(res)
    assert "s2" not in set(res.assignments["site"])


def test_cross_border_own_keeps_everyone_at_home():
    res = run(line_scenario(policy=Policy(cross_border="own")))
    assert res.objective == pytest.approx(450.0)
    assert (res.assignments["distance"] == 0).all()


def test_cross_border_adjacent_allows_neighbours_only():
    # A-B and B-C adjacent: s2 may serve everyone, as in the base case (350); with only A-B
    # adjacent, C cannot use s2: s2 (A, B) + s3 (C) = 300 + 100 = 400.
    both = run(line_scenario(policy=Policy(cross_border="adjacent"), adjacency=[("A", "B"), ("B", "C")]))
    assert both.objective == pytest.approx(350.0)
    one = run(line_scenario(policy=Policy(cross_border="adjacent"), adjacency=[("A", "B")]))
    assert one.objective == pytest.approx(400.0)


def test_partial_service_with_penalty():
    # at least 60 % (18 t) served, 5 per unserved t.  Serving a t from a neighbour costs 10 >
    # 5, so serve exactly 18 t: s2 serves B (0) and 8 t of A or C (80), 12 t unserved (60):
    # 150 + 80 + 60 = 290 < 350.
    res = run(line_scenario(policy=Policy(serve_share=0.6, unserved_penalty=5.0)))
    assert res.objective == pytest.approx(290.0)
    assert res.demands["served"].sum() == pytest.approx(18.0)
    assert res.extra["unserved_cost_per_yr"] == pytest.approx(60.0)


def test_min_load_of_an_existing_plant():
    # s1 exists with a minimum load of 25 t: s1 alone = 150 + 100 + 200 = 450; adding s2 would
    # still have to send 5 t of C to s1 (5 x 20) -> 300 + 100 + 100 = 500.  So 450.
    res = run(line_scenario(existing=("std", "", ""), min_load=25.0))
    assert res.objective == pytest.approx(450.0)
    assert opened(res) == ["s1"]
    # without minimum loads the same scenario costs 400 (test_existing_site_must_stay_open)
    free = run(line_scenario(existing=("std", "", ""), min_load=25.0).replace(policy={"min_load": False}))
    assert free.objective == pytest.approx(400.0)


def test_strong_linking_is_a_valid_inequality():
    for kw in ({}, {"capacity": 15.0}, {"capacity": 15.0, "policy": Policy(single_sourcing=True)}):
        sc = line_scenario(**kw)
        weak = sc.replace(policy={"strong_linking": False})
        assert run(sc).objective == pytest.approx(run(weak).objective)


TWO_COUNTIES = """\
name: two counties
units: {demand: t/d, distance: km, money: yuan}
jurisdictions: [{id: A, name: A}, {id: B, name: B}]
demands: [{id: dA, jurisdiction: A, amount: 100}, {id: dB, jurisdiction: B, amount: 100}]
sizes: {plant: [{name: P, capacity: 1000, fixed_cost: 300000}]}
sites: [{id: sA, jurisdiction: A, sizes: plant}, {id: sB, jurisdiction: B, sizes: plant}]
costs: {transport: 1.0}
"""


@pytest.mark.parametrize("legs, plants, cost", [
    # the county's own haul only to its own seat's plant: sharing one (either) costs 300,000 +
    # (15 + 10) x 100 x 365 = 1,212,500 against two plants' 600,000 + 15 x 200 x 365 = 1,695,000
    ("within_node: 15", 1, 1_212_500),
    # the haul across the county to its seat is on every route: sharing costs 300,000 +
    # (15 + 25) x 100 x 365 = 1,760,000, so each county keeps its own plant
    ("collection: 15", 2, 1_695_000),
])
def test_the_collection_leg_is_on_every_route(tmp_path, legs, plants, cost):
    (tmp_path / "roads.csv").write_text("from,to,km\nA,B,10\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(TWO_COUNTIES + f"distances: {{method: road_graph, edges: roads.csv, {legs}}}\n",
                                     encoding="utf-8")
    res = qzopt.solve(qzopt.load_scenario(tmp_path / "s.yaml"), gap=0)
    assert res.objective == pytest.approx(cost) and len(res.open_sites) == plants
