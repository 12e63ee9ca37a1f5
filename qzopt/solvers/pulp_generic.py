"""Any solver PuLP can drive (``pulp:GUROBI_CMD``, ``pulp:CPLEX_CMD``, ``pulp:HiGHS``, …).

The model goes through an MPS file read by ``pulp.LpProblem.fromMPS`` (per-term PuLP objects:
fine for licensed solvers on moderate models; qzopt's own back ends avoid them).  PuLP reports
status "Optimal" for a time-limited run that only has an incumbent, so the *solution* status
(``sol_status``) decides between optimal and feasible.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from qzopt.models.matrix import MatrixForm
from qzopt.solvers.base import (EXACT_GAP, RawSolution, SolveOptions, bound_at_gap, no_proof_after_limit,
                                 objective_scale)
from qzopt.solvers.mps import split_ranges, write_mps


class PulpBackend:
    description = "a solver driven through PuLP's plug-ins (licensed solvers, CLI solvers)"

    def __init__(self, solver_name: str) -> None:
        self.solver_name = solver_name
        self.name = f"pulp:{solver_name}"

    def _solver(self, options: SolveOptions):
        import pulp

        kwargs: dict = {"msg": bool(options.verbose)}
        if options.time_limit is not None:
            kwargs["timeLimit"] = float(options.time_limit)
        kwargs["gapRel"] = float(options.effective_gap)
        if options.threads:
            kwargs["threads"] = int(options.threads)
        return pulp.getSolver(self.solver_name, **kwargs)

    def available(self) -> str | None:
        try:
            if not self._solver(SolveOptions()).available():
                return f"{self.solver_name} is not installed or not licensed here"
        except Exception as exc:
            return f"{exc.__class__.__name__}: {exc}"
        return None

    def solve(self, model: MatrixForm, options: SolveOptions) -> RawSolution:
        import pulp

        t0 = time.perf_counter()
        scale = objective_scale(model.c)
        with tempfile.TemporaryDirectory(prefix="qzopt-pulp-") as tmp:
            path = Path(tmp) / "model.mps"
            write_mps(split_ranges(dataclasses.replace(model, c=model.c * scale)), path)  # PuLP reads no RANGES
            variables, problem = pulp.LpProblem.fromMPS(str(path))
        started = time.perf_counter()  # the solver's own run, not the MPS file before it
        try:
            problem.solve(self._solver(options))
        except Exception as exc:
            return RawSolution(self.name, "error", seconds=time.perf_counter() - t0, termination="exception",
                               message=f"{exc.__class__.__name__}: {exc}")
        seconds, ran = time.perf_counter() - t0, time.perf_counter() - started
        status, sol = problem.status, problem.sol_status
        x = None
        objective = None
        if sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            x = np.zeros(model.num_cols)
            for name, var in variables.items():
                if name.startswith("C") and name[1:].isdigit() and var.varValue is not None:
                    x[int(name[1:])] = var.varValue
            objective = model.objective(x)
        if sol == pulp.LpSolutionOptimal:
            kind = "optimal"
        elif sol == pulp.LpSolutionIntegerFeasible:
            kind = "feasible"
        elif status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
            kind = "infeasible"
        elif status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
            kind = "unbounded"
        elif sol == pulp.LpSolutionNoSolutionFound:
            kind = "no_solution"
        else:
            kind = "error"
        bound, note = None, "" if kind != "error" else f"PuLP status {pulp.LpStatus[status]}"
        if kind == "optimal":
            # PuLP does not report the solver's bound; "optimal" means within the gap it was given,
            # so the bound is only known to be at least objective - gap x |objective|
            bound = bound_at_gap(objective, options.effective_gap)
            if options.effective_gap > EXACT_GAP:
                note = (f"stopped within the relative gap asked ({options.effective_gap:g}); PuLP reports no "
                        "bound, so the bound shown is the least that gap guarantees")
        raw = RawSolution(self.name, kind, x=x, objective=objective, bound=bound, seconds=seconds,
                          termination=f"{pulp.LpStatus[status]} / solution {sol}", message=note)
        return no_proof_after_limit(raw, options, ran)
