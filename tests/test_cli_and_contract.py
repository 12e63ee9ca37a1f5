"""The command line and the result.json contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import qzopt

from conftest import ROOT, line_scenario

TINY = ROOT / "tests" / "data" / "tiny.yaml"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qzopt.cli", *args], capture_output=True, text=True)


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("qzopt ")


def loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {modules!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_commands_import_only_what_they_use():
    """docs/performance.md item 33: the parser of every command (``qzopt --version`` included)
    imported the benchmark harness and so pandas; fee solves, ``qzopt report`` and each worker of
    ``qzopt share`` imported scipy.optimize and scipy.stats (about 1 s), which only the fee band's
    LP, the least core and sampled Shapley values use; a report imported networkx and pyplot."""
    heavy = ("pandas", "scipy.optimize", "scipy.stats", "networkx", "matplotlib.pyplot")
    assert loaded_after("import qzopt.cli; qzopt.cli._parser()", heavy) == []
    assert loaded_after("import qzopt.fees, qzopt.sharing.share, qzopt.report.files", heavy) == ["pandas"]
    # and the game's uses of scipy still work, imported when called: 3 + 4 - 5 = 2 saved, split
    # evenly by the nucleolus (3 - 1, 4 - 1); sampled Shapley values add up to c(N) = 5
    assert loaded_after("from qzopt.sharing.game import Game\n"
                        "g = Game(['a', 'b'], {frozenset('a'): 3.0, frozenset('b'): 4.0, frozenset('ab'): 5.0})\n"
                        "assert g.nucleolus().round(9).tolist() == [2.0, 3.0]\n"
                        "assert abs(g.shapley(samples=8)['shapley'].sum() - 5.0) < 1e-9",
                        heavy) == ["pandas", "scipy.optimize", "scipy.stats"]


def test_python_dash_m_qzopt_is_the_qzopt_command():
    proc = subprocess.run([sys.executable, "-m", "qzopt", "validate", str(TINY)], capture_output=True, text=True)
    assert proc.returncode == 0 and "3 demand points" in proc.stdout
    assert subprocess.run([sys.executable, "-m", "qzopt", "nope"], capture_output=True, text=True).returncode == 2


def test_validate_ok():
    proc = cli("validate", str(TINY))
    assert proc.returncode == 0 and "3 demand points" in proc.stdout


def test_solve_writes_every_file_and_the_contract(tmp_path):
    out = tmp_path / "run"
    proc = cli("solve", str(TINY), "-o", str(out), "--solver", "highs", "--time-limit", "20", "--gap", "0")
    assert proc.returncode == 0, proc.stderr
    for name in ("result.json", "facilities.csv", "assignments.csv", "demands.csv", "report.md"):
        assert (out / name).exists(), name
    doc = json.loads((out / "result.json").read_text())
    for key in ("status", "objective", "bound", "gap", "solver", "seconds", "fallbacks", "demands", "facilities",
                "assignments", "distance_unit"):
        assert key in doc, key
    assert doc["status"] == "optimal" and doc["solver"] == "highs" and doc["distance_unit"] == "km"
    assert {"id", "jurisdiction", "amount", "served"} <= set(doc["demands"][0])
    assert {"site", "jurisdiction", "open", "size", "capacity", "load"} <= set(doc["facilities"][0])
    assert {"demand", "site", "amount", "distance"} <= set(doc["assignments"][0])
    # invariants: every demand served; no capacity exceeded; assignments within 60 km
    assert all(abs(d["served"] - d["amount"]) < 1e-6 for d in doc["demands"])
    assert all(f["load"] <= f["capacity"] + 1e-6 for f in doc["facilities"] if f["open"])
    assert all(a["distance"] <= 60 for a in doc["assignments"])
    # the summary states status, solver, gap and time
    for word in ("optimal", "highs", "gap", "time"):
        assert word in proc.stdout.lower()
    report = (out / "report.md").read_text()
    for word in ("Status", "Solver", "Optimality gap", "Solve time"):
        assert word in report


def test_result_round_trips_through_json(tmp_path):
    res = qzopt.solve(line_scenario())
    res.write(tmp_path)
    back = qzopt.Result.read(tmp_path)
    assert back.objective == res.objective and back.status == res.status and back.solver == res.solver
    pd.testing.assert_frame_equal(back.assignments.reset_index(drop=True), res.assignments.reset_index(drop=True),
                                  check_dtype=False)


def test_result_tables_are_built_on_first_use_and_match_the_plan():
    """qzopt.solve leaves the tables to first use; built then, they must describe the solution
    (cost split sums to the objective, loads to the demand served), survive pickling of a
    result whose tables were never read, and keep the notes given at construction."""
    import dataclasses
    import pickle

    res = qzopt.solve(TINY, isolate=False)
    assert res.ok and "facilities" not in res.__dict__ and "extra" not in res.__dict__
    copy = pickle.loads(pickle.dumps(res))  # a loader does not pickle: the tables travel instead
    assert sum(copy.cost_breakdown().values()) == pytest.approx(res.objective, rel=1e-9)
    f, a = res.facilities, res.assignments
    assert "facilities" in res.__dict__ and res.tables is None  # built once, loader dropped
    assert f["load"].sum() == pytest.approx(res.demands["served"].sum(), rel=1e-9)
    assert a["amount"].sum() == pytest.approx(res.demands["amount"].sum(), rel=1e-9)
    pd.testing.assert_frame_equal(copy.facilities, f)
    assert "jurisdictions" in res.extra and "places" in res.extra
    again = dataclasses.replace(res)
    pd.testing.assert_frame_equal(again.assignments, a)


def _oldest_python() -> tuple[str, str | None]:
    """The lowest Python version pyproject.toml's requires-python admits ("3.10") and an
    interpreter of that version on this machine, if any (on PATH or under pyenv)."""
    import glob
    import re
    import shutil

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'requires-python\s*=\s*">=\s*(\d+\.\d+)', text).group(1)
    found = sorted(glob.glob(str(Path.home() / f".pyenv/versions/{version}.*/bin/python")))
    return version, (found[-1] if found else shutil.which(f"python{version}"))


def test_the_package_compiles_on_the_oldest_python_it_declares():
    # np.r_[a, *b] is Python 3.11 syntax; under 3.10, pip installs qzopt and the import fails
    version, python = _oldest_python()
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    code = ("import pathlib, sys\n"
            "for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.py')):\n"
            "    compile(p.read_text(encoding='utf-8'), str(p), 'exec')")  # compiles, writes nothing
    proc = subprocess.run([python, "-c", code, str(ROOT / "qzopt")], capture_output=True, text=True)
    assert proc.returncode == 0, f"Python {version} ({python}) cannot compile qzopt:\n{proc.stdout}{proc.stderr}"


def test_solvers_command_lists_back_ends():
    proc = cli("solvers")
    assert proc.returncode == 0 and "highs" in proc.stdout and "cbc" in proc.stdout


def test_ortools_and_highspy_share_a_process():
    # ortools 9.15 and highspy >= 1.15 clash (ImportError); highspy is pinned below 1.15.
    proc = subprocess.run([sys.executable, "-c", "import ortools.linear_solver.pywraplp, highspy; "
                           "import ortools, highspy as h; print(ortools.__version__)"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("9.15")
    proc = subprocess.run([sys.executable, "-c", "import highspy; import ortools.linear_solver.pywraplp"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_notebook_api_from_frames():
    res = qzopt.solve(line_scenario(), solver="highs")
    assert isinstance(res.facilities, pd.DataFrame) and isinstance(res.assignments, pd.DataFrame)
    assert res.objective == pytest.approx(350.0) and res.gap == 0.0 and res.seconds > 0


def test_the_cold_chain_summary_shows_the_resources_behind_utilisation(tmp_path):
    scenario = ROOT / "scenarios" / "teaching" / "coldchain-3origins.yaml"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(scenario), "-o", str(tmp_path),
                           "--no-html"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    f = pd.read_csv(tmp_path / "facilities.csv")
    f = f[f["open"]]
    assert len(f) >= 1
    for row in f.itertuples():
        peak = row.peak_throughput_used / row.peak_throughput_capacity
        store = row.cold_storage_used / row.cold_storage_capacity
        assert row.utilisation == pytest.approx(max(peak, store))  # the binding resource
        assert f"({100 * peak:.1f} %)" in proc.stdout and f"({100 * store:.1f} %)" in proc.stdout
    assert "peak (t/d)" in proc.stdout and "cold storage (t)" in proc.stdout


def test_the_solve_summary_names_the_sites_and_unserved_demand_beyond_the_main_stream(tmp_path):
    """The console listed the main stream's open sites only: on four WtE towns the kitchen-waste
    plant, the fly-ash site and 27 t/d of kitchen waste left unserved were in report.md alone."""
    from qzopt.report.markdown import num

    scenario = ROOT / "scenarios" / "teaching" / "wte-4towns.yaml"
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "solve", str(scenario), "-o", str(tmp_path),
                           "--no-html"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    res = qzopt.solve(scenario, isolate=False)  # the same plan: one scenario, one solver
    others = [(name, part) for kind in ("streams", "echelons") for name, part in res.extra[kind].items()]
    assert others  # a kitchen-waste stream and a fly-ash echelon
    for name, part in others:
        fac = pd.DataFrame(part["facilities"])
        for site in fac.loc[fac["open"].astype(bool), "site"]:
            assert site in proc.stdout and f"{name}" in proc.stdout
    kitchen = pd.DataFrame(res.extra["streams"]["kitchen"]["demands"])
    short = float(kitchen["amount"].sum() - kitchen["served"].sum())
    assert short > 1 and f"({num(short, 6)} t/d not served)" in proc.stdout


def test_validate_does_not_say_ok_for_a_scenario_it_proves_infeasible():
    proc = subprocess.run([sys.executable, "-m", "qzopt.cli", "validate", str(TINY), "--set", "demands[1].amount=500"],
                          capture_output=True, text=True)
    assert proc.returncode == 3 and proc.stdout.startswith("checked: ") and "ok:" not in proc.stdout
    assert "but it cannot be satisfied" in proc.stdout and "'dB' needs 500 t/d" in proc.stdout


def test_the_build_event_reports_the_presolve_time_beside_the_build_time():
    from conftest import ORLIB
    from qzopt.io.orlib import load_cap

    if not (ORLIB / "cap" / "cap41.txt").exists():
        pytest.skip("OR-Library data not found")
    events: list[str] = []
    res = qzopt.solve(load_cap(ORLIB / "cap" / "cap41.txt"), on_event=events.append)
    assert res.objective == pytest.approx(1040444.375, abs=1e-3)  # published optimum
    built = [e for e in events if e.startswith("model built in")]
    assert len(built) == 1 and "; presolve " in built[0]


def test_no_html_removes_the_report_of_an_earlier_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.html").write_text("<title>another scenario</title>", encoding="utf-8")
    proc = cli("solve", str(TINY), "-o", str(out), "--no-html", "--time-limit", "20")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "report.html").exists() and "it was the report of an earlier run" in proc.stdout
    assert "1 site open" in proc.stdout  # tiny's optimum opens sB alone: not "1 sites"


def test_an_infeasible_run_prints_no_bound_of_minus_infinity(tmp_path):
    out = tmp_path / "run"
    # a capex budget of 1 yuan: the solver proves it infeasible (its bound is -inf, not a figure)
    proc = cli("solve", str(TINY), "-o", str(out), "--no-html", "--set", "constraints.budget=1")
    assert proc.returncode == 3
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| Best bound (yuan/yr) | n/a |" in report and "-inf" not in report + proc.stdout


def test_a_road_graph_in_parts_is_a_warning_in_validate_the_summary_and_the_reports(tiny, tmp_path):
    path, _ = tiny
    (path.parent / "tiny_roads.csv").write_text("from,to,km\nA,B,20\nC,X,5\n", encoding="utf-8")
    said = "the road graph is in 2 unconnected parts that hold demand or sites: {A, B}; {C, X}"
    proc = cli("validate", str(path))
    assert proc.returncode == 0 and f"warning: {said}" in proc.stdout
    out = tmp_path / "run"
    proc = cli("solve", str(path), "-o", str(out), "--time-limit", "20")
    assert proc.returncode == 0 and f"warning: {said}" in proc.stdout
    assert f"> warning: {said}" in (out / "report.md").read_text(encoding="utf-8")
    assert f"warning: {said}" in (out / "report.html").read_text(encoding="utf-8").replace("&#39;", "'")
    assert json.loads((out / "result.json").read_text(encoding="utf-8"))["warnings"][0].startswith(said)


def test_a_result_read_back_has_the_tables_and_units_solve_returns(tmp_path):
    res = qzopt.solve(ROOT / "scenarios" / "teaching" / "wte-4towns.yaml")
    back = qzopt.Result.read(res.write(tmp_path / "run", html=False))
    assert back.units["per_year"] == 365.0 and json.loads((tmp_path / "run" / "result.json").read_text(
        encoding="utf-8"))["demand_periods_per_year"] == 365.0
    for section in ("streams", "echelons"):
        for name, part in res.extra[section].items():
            for key, table in part.items():
                if isinstance(table, pd.DataFrame):  # read back as a DataFrame, not a list of dicts
                    pd.testing.assert_frame_equal(back.extra[section][name][key], table, check_dtype=False,
                                                  check_exact=False)


def test_solve_names_a_solver_fallback_or_on_event_it_cannot_use():
    """solver=3 / fallback=3 raised "'int' object is not iterable" from the solver registry,
    on_event=5 "'int' object is not callable" after the model was built, and solver="" solved
    with the scenario's solver as if none had been named."""
    from qzopt.errors import QzoptError

    sc = line_scenario()
    for args, said in [
        (dict(solver=3), "solve(): solver 3: must be a solver's name"),
        (dict(solver=""), "solve(): solver '': must be a solver's name"),
        (dict(solver=["highs"]), "solve(): solver ['highs']: must be a solver's name"),
        (dict(fallback=3), "solve(): fallback 3: must be solver names"),
        (dict(fallback=["cbc", None]), "solve(): fallback ['cbc', None]: must be solver names"),
        (dict(on_event=5), "solve(): on_event 5: must be a function taking one str"),
        (dict(isolate="no"), "solve(): isolate 'no': must be True or False"),  # "no" was read as true
        (dict(verbose="yes"), "solve(): verbose 'yes': must be True or False"),
    ]:
        with pytest.raises(QzoptError) as info:
            qzopt.solve(sc, **{"isolate": False, **args})
        assert str(info.value).startswith(said), (args, str(info.value))
        assert isinstance(info.value, (TypeError, ValueError))  # what was raised before is still caught
    # what stays allowed: None (the scenario's), one name, "a,b" and [] for no fallback
    assert qzopt.solve(sc, solver="highs", fallback="", isolate=False).status == "optimal"
    assert qzopt.solve(sc, solver=None, fallback=("cbc",), isolate=False, on_event=[].append).status == "optimal"


def test_a_result_is_read_from_and_written_to_a_path_and_a_file_is_not_a_folder(tmp_path):
    from qzopt.errors import QzoptError
    from qzopt.report.compare import load_runs

    res = qzopt.solve(line_scenario(), isolate=False)
    with pytest.raises(QzoptError, match=r"^Result.read\(\): path None: must be a path \(str or pathlib.Path\), "
                                         "not NoneType"):
        qzopt.Result.read(None)
    with pytest.raises(QzoptError, match=r"^Result.write\(\): outdir None: must be a path"):
        res.write(None)
    (tmp_path / "taken").write_text("a file", encoding="utf-8")
    with pytest.raises(QzoptError, match=r"^Result.write\(\): outdir '.*taken': is a file, not a folder"):
        res.write(tmp_path / "taken")
    # a folder that cannot be made (its parent is a file): the message, not a NotADirectoryError
    with pytest.raises(QzoptError, match=r"^Result.write\(\): outdir '.*taken/out': cannot create the folder \("):
        res.write(tmp_path / "taken" / "out")
    # compare's runs: a list of directories, not the letters of one
    with pytest.raises(QzoptError, match=r"^load_runs\(\): paths 'out/a': must be a list of result directories"):
        load_runs("out/a")
    with pytest.raises(QzoptError, match=r"^load_runs\(\): paths\[1\] 7: must be a path"):
        load_runs([res.write(tmp_path / "a", html=False), 7])


def test_a_time_limit_beyond_the_os_timers_is_no_limit_not_a_crash(tmp_path):
    # 1e9 s is typed to mean "no limit": the watchdog's timeout (limit + 10 %) overflowed poll()
    # ("OverflowError: timeout is too large", a traceback, exit 1) from about 2e6 s on
    from qzopt.solvers.base import MAX_WATCHDOG_SECONDS, SolveOptions

    assert SolveOptions(time_limit=60).watchdog(20.0) == 80.0
    assert SolveOptions(time_limit=1e9).watchdog(20.0) is None and SolveOptions().watchdog(20.0) is None
    assert SolveOptions(time_limit=MAX_WATCHDOG_SECONDS / 2).watchdog(20.0) == pytest.approx(0.55 * MAX_WATCHDOG_SECONDS)
    for args in (("--time-limit", "2e6"), ("--set", "solver.time_limit=1e300")):
        proc = cli("solve", str(TINY), "--no-html", "-o", str(tmp_path / "run"), *args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "optimal"
    for solver in ("highs", "cbc"):  # CBC runs as a child process of its own, with a watchdog of its own
        for isolate in (True, False):
            res = qzopt.solve(TINY, solver=solver, fallback=[], time_limit=1e9, isolate=isolate)
            assert res.status == "optimal" and res.solver == solver, (solver, isolate, res.message)


def test_the_help_says_what_gap_and_time_limit_are_and_their_defaults():
    def help_of(command: str) -> str:
        proc = cli(command, "--help")
        assert proc.returncode == 0, proc.stderr
        return " ".join(proc.stdout.split())  # argparse wraps to the terminal's width

    solve_help = help_of("solve")
    assert ("--gap G relative optimality gap at which the solver may stop, from 0 (prove optimal) to below 1; "
            "0.01 = 1 % (default: the scenario's solver.gap)") in solve_help
    assert "default 0: prove" not in solve_help  # the scenario's gap is the default, not 0
    assert ("--time-limit S seconds per solver for each of the frontier's solves (default: the scenario's)"
            in help_of("frontier"))
    assert "--time-limit S seconds per solver for each coalition (default: the scenario's)" in help_of("share")
