"""What notebooks import: ``load_scenario``, ``solve``.

Flow: scenario -> pre-solve checks -> model (blocks) -> solver chain -> :class:`Result`.
The scenario is never mutated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Callable

import numpy as np
import pandas as pd

from qzopt.arguments import ArgumentError, bad_argument
from qzopt.geo.places import places
from qzopt.machine import cores
from qzopt.models import build_model
from qzopt.models.facility import BuiltModel, cost_breakdown
from qzopt.result import Result
from qzopt.scenario.checks import presolve_findings
from qzopt.scenario.load import load_scenario
from qzopt.scenario.scenario import Scenario
from qzopt.solvers.base import RawSolution, SolveOptions
from qzopt.solvers.registry import Attempt, solve_with_fallback, solver_order, split_names, stopped_by

__all__ = ["load_scenario", "solve"]



def scenario_of(function: str, scenario: object) -> Scenario:
    """``scenario`` itself, or the scenario in the file it names (``str`` or ``os.PathLike``), as
    :func:`solve` takes it; anything else is an :class:`ArgumentError`."""
    if isinstance(scenario, Scenario):
        return scenario
    if not isinstance(scenario, (str, os.PathLike)):
        raise ArgumentError(f"{function}() takes a Scenario or the path of a scenario file, "
                            f"not {type(scenario).__name__}")
    return load_scenario(os.fspath(scenario))


def _solver_names(value: object, name: str) -> object:
    """``solve``'s ``solver`` (a name) or ``fallback`` (a name, "a,b", or a list or tuple of
    names) when it has that shape, else an :class:`ArgumentError`; whether each name is a known
    back end is :func:`~qzopt.solvers.registry.solver_order`'s to say."""
    if value is None:
        return value
    if name == "solver":
        ok = isinstance(value, str) and value.strip() != ""
        what = "must be a solver's name (auto, highs, cbc, ortools, pulp:<SOLVER>), or None for the scenario's"
    else:
        ok = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) and v.strip()
                                                                                  for v in value))
        what = ("must be solver names: a list or tuple of them, or one string (\"cbc\" or \"cbc,ortools\"); [] for "
                "none, None for the scenario's")
    if not ok:
        raise bad_argument("solve", name, value, what)
    return value


def solve(
    scenario: Scenario | str | os.PathLike,
    solver: str | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    fallback: list[str] | tuple[str, ...] | None = None,
    threads: int | None = None,
    verbose: bool = False,
    isolate: bool = True,
    on_event: Callable[[str], None] | None = None,
    explain: bool = True,
) -> Result:
    """Solve a scenario (or the path of a scenario file, ``str`` or ``Path``) and return a :class:`Result`.

    Arguments override the scenario's ``solver`` block: ``solver`` (``auto``, ``highs``,
    ``cbc``, ``ortools``, ``pulp:<NAME>``), ``time_limit`` in seconds per back end, ``gap``
    relative (0 = prove optimality), ``fallback`` the back ends to try next, ``threads`` the
    solver's threads (None: the solver decides).  With ``isolate`` (default) each back end runs in
    a child process so that a solver crash cannot end yours, and a fee rule's comparison solve
    (``fees.compare``) runs beside its stages when a second core is free (docs/fees.md).
    ``verbose`` streams the solver's log; ``on_event`` is called with each progress message
    (model built, solver started, ...);
    ``explain`` (default) works out, for an infeasible scenario, which requirement cannot be met
    (:attr:`Result.explanation`), at the cost of a few more solves.
    """
    sc = scenario_of("solve", scenario)
    _solver_names(solver, "solver")
    _solver_names(fallback, "fallback")
    for flag, value in (("verbose", verbose), ("isolate", isolate), ("explain", explain)):
        if not isinstance(value, (bool, np.bool_)):  # "no" would be read as true
            raise bad_argument("solve", flag, value, "must be True or False")
    if on_event is not None and not callable(on_event):
        raise bad_argument("solve", "on_event", on_event, "must be a function taking one str (each progress "
                           "message), or None")
    if isinstance(scenario, Scenario):  # built in code (dataclasses.replace skips the checks): tens of ms at 1 M pairs
        sc.validate(require_sector_data=True)
    if isinstance(fallback, str):  # "cbc" or "cbc,ortools", as on the command line (a str is not a list of letters)
        fallback = split_names(fallback)
    settings = sc.solver
    name = solver or settings.name
    options = SolveOptions(
        time_limit=time_limit if time_limit is not None else settings.time_limit,
        gap=gap if gap is not None else settings.gap,
        threads=threads if threads is not None else settings.threads,
        verbose=verbose,
    )
    order = solver_order(name, fallback if fallback is not None else settings.fallback)
    opts = {"solver": name, "order": order, "time_limit": options.time_limit, "gap": options.gap}

    findings = presolve_findings(sc)
    if findings:
        return _infeasible_result(sc, findings, opts, checked="pre-solve checks")

    t0 = time.perf_counter()
    staged = sc.fees is not None and sc.fees.active

    def run(form):
        # the stages of a fee solve share one time limit: each gets what the earlier ones left,
        # at least MIN_STAGE_SHARE of it (the comparison solve is a solve() of its own)
        opts = options
        if staged and options.time_limit is not None:
            left = options.time_limit - (time.perf_counter() - t0)
            opts = dataclasses.replace(options, time_limit=max(MIN_STAGE_SHARE * options.time_limit, left))
        return solve_with_fallback(form, opts, order, isolate=isolate, on_event=on_event)

    # the comparison solve of a fee rule (the price of equalisation): its own limit, as a fallback
    # gets one; beside the stages when it can be (SolveBeside); stopped if no plan needs it
    if staged and sc.fees.compare:
        from qzopt.fees import unconstrained

        beside = SolveBeside(unconstrained(sc), solver=solver, time_limit=options.time_limit, gap=gap,
                             fallback=fallback, threads=threads, isolate=isolate, explain=False)
    else:
        beside = contextlib.nullcontext()
    with beside as compare:
        if staged:
            from qzopt.fees import solve_with_fees

            built, raw, attempts, fee_info = solve_with_fees(sc, run, on_event)
        else:
            built = build_model(sc, presolve_seconds=presolve_budget(options.time_limit),
                                kernel_seconds=kernel_budget(options.time_limit),
                                tree_seconds=tree_budget(options.time_limit))
            if on_event:
                size = built.solver_form()
                presolved = (f"; presolve {built.presolve_seconds:.2f} s" if built.presolve_seconds
                             else "")
                on_event(f"model built in {built.build_seconds:.2f} s: {size.num_cols:,} variables, "
                         f"{size.num_rows:,} constraints, {size.A.nnz:,} nonzeros{presolved}")
            spent = time.perf_counter() - t0  # a presolve while building counts against the time limit
            if options.time_limit is not None and spent > built.build_seconds + 1.0:
                options = dataclasses.replace(options, time_limit=max(1.0, options.time_limit - spent))
            proved = _proved_plan(built, order)
            if proved is not None:
                raw, attempts = proved, []
                if on_event:
                    on_event("plan proved optimal by the presolve's LP branch and bound: no MIP solve needed")
            else:
                polish_s = polish_budget(built, options.time_limit)
                if polish_s:
                    end = time.perf_counter() + options.time_limit
                    options = dataclasses.replace(options, time_limit=options.time_limit - polish_s)
                raw, attempts = run(built.solver_form())
                raw = built.lifted(raw)
                if polish_s:
                    raw = _polished(built, raw, end - time.perf_counter(), options.effective_gap, on_event)
            raw = _with_presolve_bound(raw, built.lower_bound, options.effective_gap)
            fee_info = None
        seconds = time.perf_counter() - t0
        result = _result(sc, built, raw, attempts, seconds, opts)
        if fee_info is not None:
            # every stage's fallbacks, each with its stage; the comparison solve's are added to them
            result.fallbacks = list(fee_info["fallbacks"])
            if result.ok:
                # the comparison solve (the price of equalisation) is a figure of its own: its own limit,
                # as a fallback gets one; a price from a comparison cut short would not be a price
                _attach_fees(result, sc, built, raw.x, fee_info, compare)
            else:
                result.extra["fees"] = {**_fee_rule(sc), "stages": fee_info.get("stages", [])}
            result.seconds = time.perf_counter() - t0  # every stage, the comparison solve and the fee report
    facts = _input_facts(sc)
    if fee_info is not None and fee_info.get("warnings"):
        # a fee search stopped short (step cap, or a step without an optimum) is said where every
        # warning is (report, CLI), after the input's warnings, as well as in the fee section
        facts["warnings"] = facts.get("warnings", []) + list(fee_info["warnings"])
    if facts:  # only then: reading result.extra builds the result tables, which are left to first use
        result.extra.update(facts)
    if result.status == "infeasible" and explain:
        from qzopt.infeasibility import explain_infeasibility

        started = time.perf_counter()
        result.explanation = explain_infeasibility(sc, options, order, isolate)
        result.extra["explain_seconds"] = time.perf_counter() - started  # not in result.seconds: the solve's own
    if result.status == "infeasible" and not result.message:
        # the reason in one line, as a result the pre-solve checks prove infeasible has it (a solver
        # that proves it only says "infeasible")
        rules = "under the fee rule " if staged else ""
        result.message = "the scenario cannot be satisfied: " + (
            result.explanation[0] if result.explanation else
            f"no plan meets its rules {rules}({result.termination}; solve with explain=True to be told which rule)")
    return result


def at_once(kwargs: dict) -> int:
    """How many :func:`solve` calls with these ``kwargs`` may run side by side: as many as whole
    cores are free (:func:`qzopt.machine.cores`) for their solver ``threads`` (one each when not
    given) when every back end runs in a worker process (``isolate``, the default), so that
    qzopt's threads only wait on their workers; else 1."""
    if kwargs.get("isolate", True) is not True:
        return 1
    threads = kwargs.get("threads")
    per_solve = threads if isinstance(threads, int) and not isinstance(threads, bool) and threads > 0 else 1
    return max(1, cores() // per_solve)


def solve_each(scenarios: list, **kwargs) -> list[Result]:
    """:func:`solve` of each scenario (or scenario file) with the same ``kwargs``; the results in
    the same order, the answers those of solving them one by one.  They run side by side,
    :func:`at_once` at a time, where that is more than one; else one after the other.  An error
    of one solve is raised once all have ended."""
    n = min(len(scenarios), at_once(kwargs))
    if n <= 1:
        return [solve(sc, **kwargs) for sc in scenarios]
    with ThreadPoolExecutor(n, thread_name_prefix="qzopt-solve") as pool:
        return list(pool.map(lambda sc: solve(sc, **kwargs), scenarios))


def plan_or_raise(res: Result, what: str) -> Result:
    """``res`` when it has a plan (optimal or feasible); else the error a caller that needs that
    plan raises (the fee frontier, cost sharing), with the CLI's exit code: :class:`InfeasibleError`
    (3) with the requirement that cannot be met (``res.explanation``, else its message), or
    :class:`SolverError` (4) with why no back end answered.  ``what`` names the solve in the
    message: "<what> cannot be satisfied: ..." / "<what> has no plan: ..."."""
    from qzopt.errors import InfeasibleError, SolverError

    if res.ok:
        return res
    if res.status == "infeasible":
        reasons = list(res.explanation) or [res.message.removeprefix(_CANNOT) or "no plan meets its rules"]
        raise InfeasibleError(f"{what} cannot be satisfied: {reasons[0]}"
                              + "".join(f"\n  - {r}" for r in reasons[1:]))
    tried = "; ".join(f"{f['solver']}: {f['reason']}" for f in res.fallbacks)
    raise SolverError(f"{what} has no plan: {res.message or res.termination or res.status}"
                      + (f" (tried {tried})" if tried else ""))


#: How the message of an infeasible result begins (:func:`solve`).
_CANNOT = "the scenario cannot be satisfied: "


#: Least share of the time limit a stage of a fee solve gets when the earlier stages used it up.
MIN_STAGE_SHARE = 0.1


def presolve_budget(time_limit: float | None) -> float:
    """Seconds the Lagrangian presolve may take out of a solve's time limit: three quarters of
    it, at most 90 s (the solver gets the rest, and the presolve's plan as a start)."""
    return 90.0 if time_limit is None else min(90.0, 0.75 * float(time_limit))


#: Seconds the p-median branch and bound may take when the solve has no time limit.
TREE_SECONDS_UNLIMITED = 300.0


def tree_budget(time_limit: float | None) -> float:
    """Seconds the p-median Lagrangian branch and bound (:func:`qzopt.models.lagrange.branch_and_bound`)
    may take out of a solve's time limit: three quarters of it, without the presolve budget's 90 s
    cap (:data:`TREE_SECONDS_UNLIMITED` without a limit).  On p-median the tree is the prover and
    HiGHS is not: on OR-Library pmed36 HiGHS lifts the LP bound by 0.03 % in 300 s, and when the
    tree (45.8 s alone) was cut at 90 s on a loaded machine, HiGHS did not close its 0.11 % in the
    510 s left of a 600 s limit."""
    return TREE_SECONDS_UNLIMITED if time_limit is None else 0.75 * float(time_limit)


def kernel_budget(time_limit: float | None) -> float:
    """Seconds the kernel search (:mod:`qzopt.models.kernel`, run when the Lagrangian presolve
    leaves a gap above 1 %) may take beyond the presolve budget: half of what that budget leaves
    to the solver; none without a time limit (it then has what the presolve leaves of its own)."""
    return 0.0 if time_limit is None else 0.5 * max(0.0, float(time_limit) - presolve_budget(time_limit))


#: Share of the time limit kept back from the solver for :func:`_polished` on the models that
#: have a :attr:`~qzopt.models.facility.BuiltModel.polish_rank`.  Township benchmark (990 points,
#: 160 sites x 3 sizes, 120 s): HiGHS's last plan comes at 60 s (its root's sub-MIP), and its bound
#: moves 0.01 % after 70 s; the kernel search takes that plan 1.22 % -> 0.89-0.94 % in the 46 s left.
POLISH_SHARE = 0.4


def polish_budget(built: BuiltModel, time_limit: float | None) -> float:
    """Seconds of ``time_limit`` kept back for polishing the solver's plan (:func:`_polished`):
    :data:`POLISH_SHARE` of it for a model with a polish rank (small capacitated models the LP
    root presolve did not prove) when HiGHS, which the kernel search uses, is installed; else 0
    (and always 0 without a time limit: the solver then runs to its end)."""
    from qzopt.solvers.registry import unavailable_reason

    if time_limit is None or built.polish_rank is None or unavailable_reason("highs") is not None:
        return 0.0
    return POLISH_SHARE * float(time_limit)


def _polished(built: BuiltModel, raw: RawSolution, seconds: float, gap: float,
              on_event: Callable[[str], None] | None = None) -> RawSolution:
    """``raw`` with the plan of the kernel search around it (:meth:`BuiltModel.polish
    <qzopt.models.facility.BuiltModel.polish>`, at most about ``seconds``) when the solver was
    stopped short of ``gap`` with a plan and the search finds a cheaper one.  The bound stays the
    solver's; a plan it proves within ``gap`` is ``optimal``.  The note ``kernel_polish`` says
    what the search did."""
    if raw.status != "feasible" or raw.x is None or raw.objective is None or seconds <= 1.0 or (
            raw.gap is not None and raw.gap <= gap):
        return raw
    if on_event:
        on_event(f"{raw.solver} stopped at gap {'n/a' if raw.gap is None else f'{raw.gap:.3%}'}: "
                 f"kernel search around its plan for up to {seconds:.0f} s")
    found = built.polish(raw.x, seconds)
    if found is None:
        return raw
    better = found.objective < raw.objective - 1e-9 * max(1.0, abs(raw.objective))
    built.notes["kernel_polish"] = (
        f"{raw.solver}'s plan {raw.objective:,.6g} -> " + (f"{found.objective:,.6g}" if better else "nothing cheaper")
        + f" by the kernel search around it ({found.rounds} restricted solves in {found.seconds:.1f} s"
        + (", stopped by its time budget" if found.stopped else "") + ")")
    if not better:
        return raw
    raw = raw.noted(f"plan {found.objective:,.10g} from the kernel search around {raw.solver}'s",
                    x=found.x, objective=found.objective)
    return _proved_within(raw, gap, f"{raw.solver}'s bound")


def _proved_within(raw: RawSolution, gap: float, by: str) -> RawSolution:
    """``raw`` as ``optimal`` when it is ``feasible`` and its bound (``by``, e.g. "the presolve's
    bound") proves it within ``gap`` (relative): a bound is a proof, whoever found the plan."""
    if raw.status == "feasible" and raw.gap is not None and raw.gap <= gap:
        return raw.noted(f"proved within the asked gap by {by} ({raw.bound:,.10g})", status="optimal")
    return raw


#: The termination of a plan the presolve's LP branch and bound proved (no back end was run).
PROVED_BY_TREE = "proved by the presolve's LP branch and bound (HiGHS's dual simplex at each node); no MIP solve"


def _proved_plan(built, order: list[str]) -> RawSolution | None:
    """The plan the presolve proved optimal (:attr:`BuiltModel.proved`) as HiGHS's answer, when
    HiGHS is the first solver in ``order`` (it solved every LP of the proof; the MIP solve it
    would be given has every integer column fixed at that plan, so it would only confirm it)
    and the plan passes the check every back end's plan passes; else None (the back ends run)."""
    from qzopt.solvers.registry import plan_holds, unavailable_reason

    x = built.proved
    if x is None or not order or order[0] != "highs" or unavailable_reason("highs") is not None:
        return None
    form = built.solver_form()
    if built.solve_model is not None or not plan_holds(form, x):  # x is in ``model``'s columns
        return None
    objective = form.objective(x)
    return RawSolution("highs", "optimal", x=x, objective=objective, bound=objective, termination=PROVED_BY_TREE)


def _with_presolve_bound(raw: RawSolution, lower: float | None, gap: float) -> RawSolution:
    """The solver's answer with the better of its bound and the presolve's (a time-limited
    solver may stop before its own bound reaches the Lagrangian one).  A ``feasible`` answer
    that the presolve's bound proves within ``gap`` (relative) is ``optimal``: the bound is a
    proof, whoever found the plan."""
    if lower is None or raw.x is None or raw.objective is None or (raw.bound is not None and raw.bound >= lower):
        return raw
    return _proved_within(dataclasses.replace(raw, bound=min(lower, raw.objective)), gap, "the presolve's bound")


class SolveBeside:
    """A :func:`solve` of ``scenario`` with ``kwargs`` that runs beside the caller's own work
    when it may (:func:`at_once` of its ``kwargs`` is 2 or more: every back end in a worker
    process and a second core free, so that qzopt's threads only wait on their workers): it
    starts at once in a thread of its own.  Otherwise it runs when :meth:`result` is asked, as
    a plain call would.  :meth:`drop` stops it (its workers are killed) when its answer is not
    needed after all; a ``with`` block drops it on leaving (nothing once its result was taken).
    The answer is the same either way."""

    def __init__(self, scenario: Scenario | str | os.PathLike, **kwargs) -> None:
        self._scenario, self._kwargs = scenario, kwargs
        self._stop = threading.Event()
        self._future: Future | None = None
        if at_once(kwargs) >= 2:
            pool = ThreadPoolExecutor(1, thread_name_prefix="qzopt-beside")
            self._future = pool.submit(self._solve)
            pool.shutdown(wait=False)  # its thread ends with the solve

    def _solve(self) -> Result:
        with stopped_by(self._stop):
            return solve(self._scenario, **self._kwargs)

    def result(self) -> Result:
        return self._solve() if self._future is None else self._future.result()

    def drop(self) -> None:
        """Stop the solve if it still runs (nothing once its result was taken) and wait for it."""
        if self._future is not None:
            self._stop.set()
            wait_for([self._future])

    def __enter__(self) -> "SolveBeside":
        return self

    def __exit__(self, *exc) -> None:
        self.drop()


def _attach_fees(result: Result, sc: Scenario, built, x, info, compare: SolveBeside | None) -> None:
    """Fee section of the result, and the price of equalisation against the same scenario
    solved without fee rules (``compare``)."""
    from qzopt.fees import COMPARE, fee_report, price_range

    report = fee_report(sc, built, x, info)
    report["stages"] = info.get("stages", [])
    if compare is not None:
        free = compare.result()
        # the comparison solve is not part of the answer: its own status, back end and seconds
        # (counted in result.seconds); its fallbacks join the result's, named by their stage
        fallbacks = [dict(f, stage=COMPARE) for f in free.fallbacks]
        report["compare"] = {"stage": COMPARE, "status": free.status, "solver": free.solver,
                             "termination": free.termination, "seconds": free.seconds, "gap": free.gap,
                             "fallbacks": fallbacks}
        result.fallbacks += fallbacks
        if free.ok:
            report["unconstrained_cost_per_yr"] = free.objective
            report.update(price_range((result.objective, result.bound, result.status),
                                      (free.objective, free.bound, free.status)))
            # a percentage of a comparison plan that costs nothing (or less: revenue above costs)
            # is undefined: None ("n/a" in the reports), not a division by zero or a flipped sign
            report["price_of_equalization_pct"] = (
                100 * report["price_of_equalization_per_yr"] / free.objective if free.objective > 0 else None)
            report["unconstrained_sites"] = sorted(free.open_sites["site"])
    result.extra["fees"] = report
    payers = report["payers"].set_index("jurisdiction")
    j = result.extra["jurisdictions"]
    j["fee"] = j["jurisdiction"].map(payers["fee"])
    j["fee_payment_per_yr"] = j["jurisdiction"].map(payers["payment_per_yr"])


def _model_size(built) -> dict[str, int]:
    f = built.solver_form() if hasattr(built, "solver_form") else built.model.to_matrix()
    return {"variables": f.num_cols, "integer_variables": int(f.integrality.sum()), "constraints": f.num_rows,
            "nonzeros": int(f.A.nnz)}


def _result(sc: Scenario, built, raw: RawSolution, attempts: list[Attempt], seconds: float,
            opts: dict) -> Result:
    status = raw.status if raw.status in ("optimal", "feasible", "infeasible") else "error"
    if raw.status in ("optimal", "feasible") and raw.x is None:
        status = "error"
    message = raw.message
    if raw.status == "no_solution":
        message = message or "no feasible solution was found within the time limit"
    if raw.status == "unbounded":
        message = "the model is unbounded: some cost is negative without limit (a modelling error)"
    solved = status in ("optimal", "feasible")
    return Result(
        scenario=sc.name, sector=sc.sector, status=status, objective=raw.objective if status != "infeasible" else None,
        bound=raw.bound, gap=raw.gap if solved else None, solver=raw.solver,
        seconds=seconds, build_seconds=built.build_seconds,
        fallbacks=[{"solver": a.solver, "reason": a.reason} for a in attempts],
        facilities=None, assignments=None, demands=None,
        units=_units(sc), termination=raw.termination, message=message, options=opts,
        model_size=_model_size(built), extra={"notes": built.notes} if built.notes else {},
        tables=lambda: _tables(sc, built, raw.x if solved else None),
    )


def _tables(sc: Scenario, built, x: np.ndarray | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The result tables of solution ``x`` (empty ones without a solution): facilities,
    assignments, demands and the entries of ``Result.extra`` (jurisdictions, cost breakdown,
    streams, echelons, places)."""
    extra: dict = {}
    if x is not None:
        parts = built.all_tables(x)
        tables = parts["main"]
        extra = {"jurisdictions": tables["jurisdictions"], "cost_breakdown": cost_breakdown(parts)}
        if "unserved_cost_per_yr" in tables["demands"]:
            extra["unserved_cost_per_yr"] = float(tables["demands"]["unserved_cost_per_yr"].sum())
        streams = {k: v for k, v in parts.items() if k != "main" and not k.startswith("echelon:")}
        if streams:
            extra["streams"] = streams
        echelons = {k.split(":", 1)[1]: v for k, v in parts.items() if k.startswith("echelon:")}
        if echelons:
            extra["echelons"] = echelons
    else:
        tables = _empty_tables(sc, built)
        extra["jurisdictions"] = tables["jurisdictions"]
    extra["places"] = places(sc)
    return tables["facilities"], tables["assignments"], tables["demands"], extra


def _units(sc: Scenario) -> dict:
    u = sc.units
    return {"demand": u.demand, "distance": u.distance, "money": u.money, "per_year": u.per_year}


def _empty_tables(sc: Scenario, built=None) -> dict[str, pd.DataFrame]:
    """The tables of a result without a plan, with the same columns a solved result of this
    scenario has (read off the model at an all-zero solution): no facilities, no assignments,
    every demand unserved, no jurisdiction rows.  A sweep can concatenate results either way."""
    if built is None:
        built = build_model(sc, presolve=False)
    zero = built.all_tables(np.zeros(built.model.num_cols))["main"]
    demands = zero["demands"].copy()
    demands["served"] = 0.0
    demands["unserved"] = demands["amount"]
    return {"facilities": zero["facilities"].iloc[:0], "assignments": zero["assignments"].iloc[:0],
            "demands": demands, "jurisdictions": zero["jurisdictions"].iloc[:0]}


def _input_facts(sc: Scenario) -> dict:
    """What a result records of its input besides the scenario: ``warnings`` (facts about the
    input that did not stop the solve, e.g. a road graph in parts) and ``overrides`` (the fields
    ``--set`` changed for this run)."""
    facts: dict = {}
    if sc.extras.get("warnings"):
        facts["warnings"] = list(sc.extras["warnings"])
    if sc.extras.get("overrides"):
        facts["overrides"] = dict(sc.extras["overrides"])
    return facts


def _infeasible_result(sc: Scenario, findings: list[str], opts: dict, checked: str) -> Result:
    return Result(
        scenario=sc.name, sector=sc.sector, status="infeasible", objective=None, bound=None, gap=None,
        solver="none", seconds=0.0, build_seconds=0.0, fallbacks=[], units=_units(sc),
        termination="proved by " + checked, message="the scenario cannot be satisfied: " + findings[0],
        explanation=findings, options=opts, facilities=None, assignments=None, demands=None,
        extra={"places": places(sc), **({"fees": _fee_rule(sc)} if sc.fees is not None and sc.fees.active else {}),
               **_input_facts(sc)},
        tables=lambda: _tables(sc, None, None),
    )


def _fee_rule(sc: Scenario) -> dict:
    from qzopt.fees import fee_rule

    return fee_rule(sc)
