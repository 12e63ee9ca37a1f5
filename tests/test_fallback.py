"""The fallback chain: a missing, crashing or hanging back end hands over to the next one, and
the result records which one answered and why the earlier ones did not."""

from __future__ import annotations

import sys

import pytest

import qzopt
from qzopt.solvers import registry
from qzopt.solvers.base import SolveOptions
from qzopt.models import build_model

from conftest import line_scenario

CRASH = [sys.executable, "-c", "import os; os.abort()"]
HANG = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_crash_is_contained():
    model = build_model(line_scenario()).model.to_matrix()
    raw = registry.run_isolated("highs", model, SolveOptions(time_limit=10), worker_cmd=CRASH)
    assert raw.status == "error" and raw.termination == "crashed"
    assert "SIGABRT" in raw.message


def test_a_hang_is_killed_after_the_time_limit(monkeypatch):
    monkeypatch.setattr(registry, "GRACE_SECONDS", 1.0)
    model = build_model(line_scenario()).model.to_matrix()
    raw = registry.run_isolated("highs", model, SolveOptions(time_limit=0.5), worker_cmd=HANG)
    assert raw.status == "no_solution" and raw.termination == "killed"
    assert "stopped by qzopt" in raw.message


def _crash_first(monkeypatch, victim: str, cmd: list[str]) -> None:
    real = registry.run_isolated

    def fake(name, model, options, worker_cmd=None):
        return real(name, model, options, worker_cmd=cmd if name == victim else worker_cmd)

    monkeypatch.setattr(registry, "run_isolated", fake)


def test_fallback_after_the_primary_crashes(monkeypatch):
    _crash_first(monkeypatch, "highs", CRASH)
    res = qzopt.solve(line_scenario(), solver="highs", fallback=["cbc", "ortools"])
    assert res.status == "optimal" and res.objective == pytest.approx(350.0)  # hand solution
    assert res.solver == "cbc"
    assert res.fallbacks[0]["solver"] == "highs" and "crashed" in res.fallbacks[0]["reason"]


def test_fallback_after_the_primary_finds_nothing_in_time(monkeypatch):
    # the hanging primary is killed after 3 + 0.5 s; the fallback gets the same 3 s limit,
    # ample for SCIP on this tiny model even on a busy machine
    monkeypatch.setattr(registry, "GRACE_SECONDS", 0.5)
    _crash_first(monkeypatch, "highs", HANG)
    res = qzopt.solve(line_scenario(), solver="highs", fallback=["ortools"], time_limit=3.0)
    assert res.solver == "ortools" and res.objective == pytest.approx(350.0)
    assert "no feasible solution within the time limit" in res.fallbacks[0]["reason"]


def test_a_missing_solver_is_skipped_with_its_reason(monkeypatch):
    monkeypatch.setattr(registry, "unavailable_reason", lambda name: "cbc: binary not found" if name == "cbc" else None)
    res = qzopt.solve(line_scenario(), solver="cbc", fallback=["highs"])
    assert res.solver == "highs" and res.status == "optimal" and res.objective == pytest.approx(350.0)
    assert res.fallbacks == [{"solver": "cbc", "reason": "unavailable: cbc: binary not found"}]


def test_an_unknown_solver_is_refused_before_anything_runs_not_skipped():
    from qzopt.errors import QzoptError

    with pytest.raises(QzoptError, match=r"^solver: unknown solver 'nosuch'; known: auto, highs"):
        qzopt.solve(line_scenario(), solver="nosuch", fallback=["highs"])
    with pytest.raises(QzoptError, match=r"^fallback: unknown solver 'auto'; known: highs"):  # auto only comes first
        qzopt.solve(line_scenario(), fallback=["cbc", "auto"])
    with pytest.raises(QzoptError, match=r"solver: unknown solver 'hihgs' \(did you mean 'highs'\?\).*; "
                                         r"fallback: unknown solver 'cbd' \(did you mean 'cbc'\?\)"):
        qzopt.solve(line_scenario(), solver="hihgs", fallback=["cbd"])


def test_a_pulp_solver_that_is_not_installed_is_skipped():
    res = qzopt.solve(line_scenario(), solver="pulp:GUROBI_CMD", fallback=["highs"])
    assert res.solver == "highs" and res.fallbacks[0]["solver"] == "pulp:GUROBI_CMD"


def test_no_solver_at_all_is_an_error_not_a_crash(monkeypatch):
    monkeypatch.setattr(registry, "unavailable_reason", lambda name: f"{name} is not installed")
    res = qzopt.solve(line_scenario(), solver="highs", fallback=["cbc"])
    assert res.status == "error" and res.objective is None
    assert [a["solver"] for a in res.fallbacks] == ["highs", "cbc"]


@pytest.mark.parametrize("name", ["highs", "cbc", "ortools"])
def test_each_back_end_solves_the_hand_instance(name):
    if registry.unavailable_reason(name):
        pytest.skip(registry.unavailable_reason(name))
    res = qzopt.solve(line_scenario(capacity=15.0), solver=name, fallback=[])
    assert res.solver == name and res.status == "optimal"
    assert res.objective == pytest.approx(400.0)  # hand solution in test_blocks.py


def test_same_scenario_same_answer():
    sc = qzopt.load_scenario(qzopt_root() / "tests" / "data" / "tiny.yaml")
    a, b = qzopt.solve(sc), qzopt.solve(sc)
    assert a.objective == b.objective
    assert a.facilities.equals(b.facilities) and a.assignments.equals(b.assignments)


def qzopt_root():
    from conftest import ROOT

    return ROOT


def _knapsack_with_start(start):
    """max 5a + 4b + 3c s.t. 2a + 3b + c <= 5 (binary), written as a minimisation: the optimum
    is a = b = 1 (-9); ``start`` is the MIP start handed to the solver."""
    import numpy as np
    import scipy.sparse as sp

    from qzopt.models.matrix import MatrixForm

    return MatrixForm("knap", np.array([-5.0, -4.0, -3.0]), 0.0, sp.csr_matrix(np.array([[2.0, 3.0, 1.0]])),
                      np.array([-np.inf]), np.array([5.0]), np.zeros(3), np.ones(3), np.ones(3, bool),
                      None if start is None else np.asarray(start, float))


def test_a_time_limited_answer_worse_than_the_start_gives_way_to_the_start():
    from qzopt.solvers.base import RawSolution, start_if_better
    import numpy as np

    model = _knapsack_with_start([1, 0, 1])  # -8, feasible
    worse = RawSolution("highs", "feasible", x=np.array([0.0, 0.0, 1.0]), objective=-3.0, bound=-10.0)
    got = start_if_better(model, worse)
    assert got.status == "feasible" and got.objective == -8.0 and list(got.x) == [1, 0, 1]
    assert got.bound == -10.0 and got.message == "the solver's plan (-3) was worse than the MIP start (-8); the start is reported"
    # a message the solver gave is kept, the note follows it
    said = start_if_better(model, RawSolution("highs", "feasible", x=worse.x, objective=-3.0, bound=-10.0,
                                              message="time limit reached"))
    assert said.message == "time limit reached; the solver's plan (-3) was worse than the MIP start (-8); the start is reported"
    none = RawSolution("highs", "no_solution", bound=-10.0)
    assert start_if_better(model, none).objective == -8.0 and start_if_better(model, none).status == "feasible"
    better = RawSolution("highs", "optimal", x=np.array([1.0, 1.0, 0.0]), objective=-9.0, bound=-9.0)
    assert start_if_better(model, better) is better
    # an infeasible start (2 + 3 + 1 > 5) or a fractional one is never reported
    assert start_if_better(_knapsack_with_start([1, 1, 1]), worse) is worse
    assert start_if_better(_knapsack_with_start([0.5, 0, 0]), worse) is worse
    assert start_if_better(_knapsack_with_start(None), none) is none


def test_solver_names_are_read_without_regard_to_case_and_a_typo_is_told_its_closest_name():
    res = qzopt.solve(line_scenario(), solver="HiGHS")
    assert res.solver == "highs" and res.fallbacks == [] and res.objective == pytest.approx(350.0)
    res = qzopt.solve(line_scenario(), solver="CBC", fallback=["HiGHS"])
    assert res.solver == "cbc" and res.fallbacks == [] and res.objective == pytest.approx(350.0)
    with pytest.raises(qzopt.errors.QzoptError, match=r"unknown solver 'hihgs' \(did you mean 'highs'\?\)"):
        qzopt.solve(line_scenario(), solver="hihgs", fallback=["cbc"])


def test_when_no_back_end_answers_a_start_is_reported_as_the_start_not_as_a_solver(monkeypatch):
    import numpy as np

    model = _knapsack_with_start([1, 0, 1])  # -8, feasible (the hand optimum is -9: items 1 and 2)
    _crash_first(monkeypatch, "highs", CRASH)
    raw, attempts = registry.solve_with_fallback(model, SolveOptions(time_limit=10), ["highs"])
    assert raw.solver == registry.START_SOLVER and raw.status == "feasible" and raw.objective == -8.0
    assert "no back end answered" in raw.message and attempts[0].solver == "highs"
    raw, _ = registry.solve_with_fallback(_knapsack_with_start(None), SolveOptions(time_limit=10), ["highs"])
    assert raw.status == "error" and raw.x is None  # without a start: no answer at all
    solved, _ = registry.solve_with_fallback(model, SolveOptions(time_limit=10), ["cbc"])
    assert solved.solver == "cbc" and solved.objective == pytest.approx(-9.0) and np.allclose(solved.x, [1, 1, 0])


def test_a_pulp_run_stopped_at_a_gap_does_not_claim_a_zero_gap():
    import pulp

    if "PULP_CBC_CMD" not in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("PuLP's CBC is not available")
    res = qzopt.solve(line_scenario(), solver="pulp:PULP_CBC_CMD", gap=0.05)
    assert res.objective == pytest.approx(350.0)  # the hand optimum, reached within the gap
    assert res.bound == pytest.approx(350.0 * (1 - 0.05)) and res.gap == pytest.approx(0.05) and res.gap <= 0.05
    assert "PuLP reports no bound" in res.message
    exact = qzopt.solve(line_scenario(), solver="pulp:PULP_CBC_CMD")
    assert exact.gap == pytest.approx(0.0, abs=1e-8)


def test_an_empty_fallback_on_the_command_line_is_no_fallback(tmp_path):
    import json
    import subprocess

    import pulp
    from conftest import ROOT

    if "GUROBI_CMD" in pulp.listSolvers(onlyAvailable=True):
        pytest.skip("Gurobi is installed here: the test needs a known solver that is missing")
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(ROOT / "tests" / "data" / "tiny.yaml"),
                           "--solver", "pulp:GUROBI_CMD", "--fallback", "", "-o", str(tmp_path), "--no-html"],
                          capture_output=True, text=True)
    assert proc.returncode == 4, proc.stdout  # the one solver named is missing, and nothing else is tried
    assert [f["solver"] for f in json.loads((tmp_path / "result.json").read_text())["fallbacks"]] == ["pulp:GUROBI_CMD"]


@pytest.mark.parametrize("option, said", [
    (["--solver", "hihgs"], "argument --solver: unknown solver 'hihgs' (did you mean 'highs'?)"),
    (["--fallback", "cbc,ortols"], "argument --fallback: unknown solver 'ortols' (did you mean 'ortools'?)"),
    (["--solver", "pulp:GUROBI_CMDD"], "argument --solver: PuLP knows no solver 'GUROBI_CMDD' "
                                       "(did you mean 'pulp:GUROBI_CMD'?)"),
])
def test_a_misspelt_solver_on_the_command_line_is_refused_naming_the_option(tmp_path, option, said):
    import subprocess

    from conftest import ROOT

    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(ROOT / "tests" / "data" / "tiny.yaml"),
                           *option, "-o", str(tmp_path / "out"), "--no-html"], capture_output=True, text=True)
    assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran or was written


def test_a_plan_that_breaks_the_model_is_never_reported(monkeypatch):
    # a back end that hands back the knapsack's LP relaxation (a = 1, b = 2/3, c = 1: -10.67,
    # below the integer optimum -9) as "feasible": refused, and the next back end answers
    import numpy as np
    from qzopt.solvers.base import RawSolution

    class Relaxed:
        def solve(self, model, options):
            return RawSolution("highs", "feasible", x=np.array([1.0, 2 / 3, 1.0]), objective=-32 / 3)

    real = registry.get_backend
    monkeypatch.setattr(registry, "get_backend", lambda name: Relaxed() if name == "highs" else real(name))
    raw, attempts = registry.solve_with_fallback(_knapsack_with_start(None), SolveOptions(time_limit=10),
                                                 ["highs", "cbc"], isolate=False)
    assert raw.solver == "cbc" and raw.objective == pytest.approx(-9.0)
    assert attempts[0].solver == "highs" and "breaks the model's rows or integrality" in attempts[0].reason
    # with no other back end there is no answer, and no back end is named as the one that gave it
    raw, attempts = registry.solve_with_fallback(_knapsack_with_start(None), SolveOptions(time_limit=10),
                                                 ["highs"], isolate=False)
    assert raw.status == "error" and raw.x is None and raw.solver == "none" and attempts[0].solver == "highs"


def test_cbc_stopped_before_an_integer_plan_hands_back_no_plan():
    # CBC's words when its clock stops it with only the LP relaxation (its solution file still
    # holds that vector), and its "infeasible" from preprocessing cut short by the clock
    import numpy as np
    from qzopt.solvers.cbc import CbcBackend

    model = _knapsack_with_start(None)
    lp = np.array([1.0, 2 / 3, 1.0])
    raw = CbcBackend()._result(model, "stopped on time (no integer solution - continuous used) - objective value "
                                      "-10.66666667", lp, {}, 0.01, "", 1.0)
    assert raw.status == "no_solution" and raw.x is None
    raw = CbcBackend()._result(model, "stopped on time", lp, {}, 0.01, "", 1.0)
    assert raw.status == "no_solution" and raw.x is None  # the vector is not integral: not a plan
    raw = CbcBackend()._result(model, "stopped on time", np.array([1.0, 1.0, 0.0]), {}, 0.01, "", 1.0)
    assert raw.status == "feasible" and raw.objective == pytest.approx(-9.0)


def test_cbc_at_a_one_millisecond_limit_claims_no_proof_and_no_plan_below_the_optimum():
    # tests/data/tiny.yaml: optimum 26,028,275 yuan/yr (sB at S400).  At 1 ms CBC is cut short in
    # preprocessing ("Pre-processing says infeasible") or with only its LP relaxation (252.46 x 1e5)
    from qzopt.solvers.cbc import CbcBackend

    from conftest import ROOT

    model = build_model(qzopt.load_scenario(ROOT / "tests" / "data" / "tiny.yaml")).model.to_matrix()
    for _ in range(3):
        raw = CbcBackend().solve(model, SolveOptions(time_limit=0.001))
        assert raw.status in ("no_solution", "feasible", "optimal"), (raw.status, raw.termination)
        if raw.x is not None:
            assert model.feasible(raw.x, 1e-6, integral=True) and raw.objective >= 26_028_274.9


def test_a_fallback_comes_after_auto_never_instead_of_it():
    assert registry.solver_order("auto", ["ortools"]) == ["highs", "ortools"]
    assert registry.solver_order("auto", None) == list(registry.DEFAULT_ORDER)
    assert registry.solver_order("auto", []) == ["highs"]
    assert registry.solver_order("cbc", ["highs", "cbc"]) == ["cbc", "highs"]


def test_an_unknown_pulp_solver_is_named_with_the_closest_once_listed_name():
    with pytest.raises(qzopt.errors.QzoptError) as info:
        qzopt.solve(line_scenario(), solver="pulp:PULP_CBC", fallback=["highs"], isolate=False)
    said = str(info.value)
    assert said.startswith("solver: PuLP knows no solver 'PULP_CBC' (did you mean 'pulp:PULP_CBC_CMD'?)")
    assert said.count("GUROBI_CMD,") == 1  # PuLP lists some names twice; the message once


def _answers(monkeypatch, answers: dict) -> None:
    """Back ends replaced by fixed answers: name -> RawSolution (as if each ran and stopped)."""
    monkeypatch.setattr(registry, "run_isolated", lambda name, model, options, worker_cmd=None: answers[name])


def test_when_no_back_end_answers_the_start_keeps_the_best_bound_any_of_them_proved(monkeypatch):
    from qzopt.solvers.base import RawSolution

    model = _knapsack_with_start([1, 0, 1])  # -8, feasible; the hand optimum is -9, so -10 is a valid bound
    _answers(monkeypatch, {
        "highs": RawSolution("highs", "no_solution", termination="time limit", bound=-12.0),
        "cbc": RawSolution("cbc", "no_solution", termination="time limit", bound=-10.0),
        "ortools": RawSolution("ortools", "error", termination="crashed", message="SIGSEGV"),
    })
    raw, attempts = registry.solve_with_fallback(model, SolveOptions(time_limit=10), ["highs", "cbc", "ortools"])
    assert raw.solver == registry.START_SOLVER and raw.objective == -8.0
    assert raw.bound == -10.0  # cbc's, the best; the crashed ortools, which ran last, had none
    assert raw.gap == pytest.approx(0.25)  # |-8 - -10| / 8
    assert [a.solver for a in attempts] == ["highs", "cbc", "ortools"]


def test_a_plan_the_presolve_proves_is_optimal_even_when_no_back_end_answered(monkeypatch):
    """cap41 (50 x 16): the LP root presolve's branch and bound proves its plan (the published
    optimum 1,040,444.375); with every back end stopped without a plan the start is reported, and
    the presolve's bound makes it optimal, not 'feasible' with a gap of 0."""
    from qzopt.io.orlib import load_cap
    from qzopt.solvers.base import RawSolution

    from conftest import ORLIB

    if not (ORLIB / "cap" / "cap41.txt").exists():
        pytest.skip(f"OR-Library data not found at {ORLIB}")
    _answers(monkeypatch, {name: RawSolution(name, "no_solution", termination="time limit")
                           for name in ("highs", "cbc")})
    # CBC first: with HiGHS first the proved plan is reported as HiGHS's without a MIP solve (below)
    res = qzopt.solve(load_cap(ORLIB / "cap" / "cap41.txt"), solver="cbc", fallback=["highs"], time_limit=30)
    assert res.solver == registry.START_SOLVER and res.status == "optimal" and res.gap == 0.0
    assert res.objective == pytest.approx(1040444.375, rel=1e-9)  # published optimum
    assert "no back end answered" in res.message and "presolve's bound" in res.message
    assert [f["solver"] for f in res.fallbacks] == ["cbc", "highs"]


@pytest.mark.parametrize("solver", ["auto", "highs", "cbc"])
def test_a_plan_the_lp_tree_proves_needs_no_mip_solve_when_highs_comes_first(monkeypatch, solver):
    """cap41 and cap44: the presolve's LP branch and bound (HiGHS's simplex) proves the published
    optimum and fixes every integer column; with HiGHS first, that plan is the answer and no back
    end runs (the MIP solve would only confirm it).  A user who names another solver gets that
    solver's confirmation, as before."""
    from qzopt.api import PROVED_BY_TREE
    from qzopt.io.orlib import load_cap

    from conftest import ORLIB

    if not (ORLIB / "cap" / "cap41.txt").exists():
        pytest.skip(f"OR-Library data not found at {ORLIB}")
    ran: list[str] = []
    real = registry.run_isolated
    monkeypatch.setattr(registry, "run_isolated",
                        lambda name, model, options, worker_cmd=None: ran.append(name) or real(name, model, options))
    for name, optimum in (("cap41", 1040444.375), ("cap44", 1235500.450)):  # published optima
        ran.clear()
        res = qzopt.solve(load_cap(ORLIB / "cap" / f"{name}.txt"), solver=solver, time_limit=60)
        assert res.status == "optimal" and res.gap == 0.0
        assert res.objective == pytest.approx(optimum, rel=1e-9)
        assert "LP branch and bound: optimal" in res.extra["notes"]["root_presolve"]
        if solver == "cbc":
            assert ran == ["cbc"] and res.solver == "cbc" and res.termination != PROVED_BY_TREE
        else:
            assert ran == [] and res.solver == "highs" and res.termination == PROVED_BY_TREE and res.fallbacks == []
        # the plan's own figures: every demand served, no plant above its capacity
        assert res.demands["unserved"].abs().max() < 1e-6
        assert (res.facilities["load"] <= res.facilities["capacity"] * (1 + 1e-9) + 1e-6).all()


def test_the_last_solver_of_the_chain_says_no_fallback_is_left():
    # CP-SAT refuses the line scenario (continuous flows); before, with fallback [] it said
    # "...; trying the next solver" though there was none
    events: list[str] = []
    res = qzopt.solve(line_scenario(), solver="ortools-sat", fallback=[], isolate=False, on_event=events.append)
    assert res.status == "error" and res.solver == "none"
    said = [e for e in events if e.startswith("ortools-sat: ")]
    assert len(said) == 1 and said[0].endswith("; no fallback solver is left"), events
    events.clear()
    assert qzopt.solve(line_scenario(), solver="ortools-sat", fallback=["highs"], isolate=False,
                       on_event=events.append).solver == "highs"
    assert [e for e in events if e.startswith("ortools-sat: ")][0].endswith("; trying the next solver"), events


def test_pulp_cbc_at_a_one_millisecond_limit_claims_no_proof_of_infeasibility():
    # the same CBC through PuLP said 'Infeasible' at 1 ms on the feasible wte-4towns scenario, and
    # the run was reported as a scenario that cannot be satisfied
    from qzopt.solvers.pulp_generic import PulpBackend

    from conftest import ROOT

    backend = PulpBackend("PULP_CBC_CMD")
    if backend.available():
        pytest.skip(backend.available())
    model = build_model(qzopt.load_scenario(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml")).solver_form()
    for _ in range(3):
        raw = backend.solve(model, SolveOptions(time_limit=0.001))
        assert raw.status in ("no_solution", "feasible", "optimal"), (raw.status, raw.termination)


def test_infeasible_said_after_the_limit_is_no_proof_and_before_it_is_one():
    from qzopt.solvers.base import RawSolution, no_proof_after_limit

    said = RawSolution("cbc", "infeasible", termination="infeasible")
    late = no_proof_after_limit(said, SolveOptions(time_limit=1.0), ran=1.02)
    assert late.status == "no_solution" and "not taken as a proof" in late.message
    assert no_proof_after_limit(said, SolveOptions(time_limit=1.0), ran=0.5).status == "infeasible"
    assert no_proof_after_limit(said, SolveOptions(), ran=1e3).status == "infeasible"  # no limit, a proof


def test_the_bound_a_gap_guarantees_never_reads_as_a_wider_gap():
    # objective - gap x |objective| in floating point: 7,957 at 5 % gave a gap of 0.050000000000000044,
    # above the gap the run was asked for and said to have met
    import numpy as np

    from qzopt.solvers.base import bound_at_gap, relative_gap

    rng = np.random.default_rng(0)
    values = [350.0, 7957.0, 0.3, 1040444.375, 123456789.123, -932615.75, *rng.uniform(-1e9, 1e9, 200)]
    for objective in values:
        for gap in (1e-9, 0.01, 0.03, 0.05, 0.07, 0.1):
            bound = bound_at_gap(objective, gap)
            assert relative_gap(objective, bound) <= gap
            assert bound == pytest.approx(objective - gap * abs(objective), rel=1e-14)  # the last bits only


def test_a_stop_kills_the_worker_and_tries_no_further_back_end():
    """registry.stopped_by: a worker process (one that would sleep 120 s) is killed once the stop
    is set, and with the stop set the fallback chain tries no back end at all."""
    import threading

    model = build_model(line_scenario()).model.to_matrix()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    with registry.stopped_by(stop):
        raw = registry.run_isolated("highs", model, SolveOptions(time_limit=None), worker_cmd=HANG)
        assert (raw.status, raw.termination, raw.message) == ("error", "stopped", registry.STOPPED)
        assert raw.seconds < 60  # killed, not waited for
        raw, attempts = registry.solve_with_fallback(model, SolveOptions(time_limit=None), ["highs", "cbc"])
    assert (raw.status, raw.termination, attempts) == ("error", "stopped", [])
    # outside the block nothing stops a solve
    assert registry.solve_with_fallback(model, SolveOptions(time_limit=10), ["highs"])[0].status == "optimal"
