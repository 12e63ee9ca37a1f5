"""OR-Tools through its own ``model_builder`` API: SCIP (``ortools``) and CP-SAT (``ortools-sat``).

Not through PuLP's OR-Tools plug-in, which turns continuous variables into integers.  The model
arrives as an MPS file written by :mod:`qzopt.solvers.mps` (parsed in C++).  The relative gap
is always set explicitly: SCIP's default of 1e-4 returned a non-optimal value as "optimal" on
OR-Library cap44.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from qzopt.models.matrix import MatrixForm
from qzopt.solvers.base import RawSolution, SolveOptions, objective_scale
from qzopt.solvers.mps import write_mps


def _import_error() -> str | None:
    try:
        from ortools.linear_solver.python import model_builder  # noqa: F401
    except Exception as exc:
        return f"ortools cannot be imported ({exc.__class__.__name__}: {exc})"
    return None


class _ModelBuilderBackend:
    name = "ortools"
    engine = "scip"
    description = "SCIP through OR-Tools model_builder (the fallback of last resort)"

    def available(self) -> str | None:
        reason = _import_error()
        if reason:
            return reason
        from ortools.linear_solver.python import model_builder as mb

        return None if mb.Solver(self.engine).solver_is_supported() else f"OR-Tools has no {self.engine} here"

    def parameters(self, options: SolveOptions) -> str:
        return (f"limits/gap = {options.effective_gap!r}\nlimits/absgap = 1e-9\n"
                f"randomization/randomseedshift = {options.seed}\n")

    def refuse(self, model: MatrixForm) -> str | None:
        return None

    def solve(self, model: MatrixForm, options: SolveOptions) -> RawSolution:
        from ortools.linear_solver.python import model_builder as mb

        t0 = time.perf_counter()
        refusal = self.refuse(model)
        if refusal:
            return RawSolution(self.name, "error", termination="unsupported", message=refusal)
        scale = objective_scale(model.c)
        with tempfile.TemporaryDirectory(prefix="qzopt-ort-") as tmp:
            path = Path(tmp) / "model.mps"
            write_mps(dataclasses.replace(model, c=model.c * scale), path)
            m = mb.Model()
            if not m.import_from_mps_file(str(path)):
                return RawSolution(self.name, "error", message="OR-Tools could not read the model")
        solver = mb.Solver(self.engine)
        if options.time_limit is not None:
            solver.set_time_limit_in_seconds(float(options.time_limit))
        params = self.parameters(options)
        if params:
            solver.set_solver_specific_parameters(params)
        solver.enable_output(bool(options.verbose))
        st = solver.solve(m)
        seconds = time.perf_counter() - t0
        S = mb.SolveStatus
        has_solution = st in (S.OPTIMAL, S.FEASIBLE)
        x = None
        objective = bound = None
        if has_solution:
            variables = m.get_variables()
            x = np.zeros(model.num_cols)
            values = solver.values(variables).to_numpy(float)
            # MPS columns are named C<j>; map by name, not by position
            names = [v.name for v in variables]
            idx = np.array([int(nm[1:]) for nm in names], dtype=np.int64)
            x[idx] = values
            x[model.integrality] = np.round(x[model.integrality])
            objective = model.objective(x)
            bound = float(solver.best_objective_bound) / scale + model.offset if model.is_mip else objective
        status = {S.OPTIMAL: "optimal", S.FEASIBLE: "feasible", S.INFEASIBLE: "infeasible",
                  S.UNBOUNDED: "unbounded"}.get(st, "no_solution" if st == S.NOT_SOLVED else "error")
        if st == S.OPTIMAL and model.is_mip and bound is not None:
            bound = min(bound, objective)
        return RawSolution(self.name, status, x=x, objective=objective, bound=bound, seconds=seconds,
                           termination=st.name.lower(), message="" if status != "error"
                           else f"OR-Tools {self.engine} ended with {st.name}: {solver.status_string}")


class OrtoolsBackend(_ModelBuilderBackend):
    """SCIP (continuous and integer variables)."""


class OrtoolsSatBackend(_ModelBuilderBackend):
    """CP-SAT: only for models whose variables are all integer (it would otherwise round)."""

    name = "ortools-sat"
    engine = "sat"
    description = "CP-SAT through OR-Tools model_builder (pure-integer models only)"

    def parameters(self, options: SolveOptions) -> str:
        # interleave_search: CP-SAT's default parallel search is not deterministic (a run stopped at
        # a 2 % gap gave three different plans in four runs of one seeded model); the interleaved
        # one is, whatever num_workers, at 2-8x the time on the seeded models measured
        text = f"relative_gap_limit: {options.effective_gap!r} random_seed: {options.seed} interleave_search: true"
        if options.threads:
            text += f" num_workers: {options.threads}"
        return text

    def refuse(self, model: MatrixForm) -> str | None:
        n_cont = int((~model.integrality).sum())
        if n_cont:
            return (f"CP-SAT solves pure-integer models only; this one has {n_cont} continuous variables "
                    "(use highs, cbc or ortools)")
        return None
