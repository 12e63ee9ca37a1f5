"""HiGHS through highspy: the model is passed as arrays (no per-term objects)."""

from __future__ import annotations

import time

import numpy as np

from qzopt.models.matrix import MatrixForm
from qzopt.solvers.base import RawSolution, SolveOptions


#: HiGHS options for ``MatrixForm.emphasis == "proof"``: no primal heuristics (the start is
#: already within a small gap of the LP bound) and no HiGHS presolve (these are small models,
#: where it costs more than it saves; the back end drops fixed columns itself,
#: :meth:`MatrixForm.without_fixed`).  HiGHS alone on the reduced cap41-cap134 models, medians
#: of 3: 2.04 s in all with its presolve off, 3.18 s on.  cap113 in the strong formulation with the optimal plan as
#: start, HiGHS alone, medians of 3: 0.65 s with its defaults (sub-MIP heuristics at the root),
#: 0.22 s with these.
PROOF_OPTIONS: dict[str, object] = {
    "presolve": "off",
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
}


class HighsBackend:
    name = "highs"
    description = "HiGHS via highspy (open source MIP; fastest open solver here)"

    def available(self) -> str | None:
        try:
            import highspy  # noqa: F401
        except Exception as exc:  # ImportError, or a clashing shared library
            return f"highspy cannot be imported ({exc.__class__.__name__}: {exc})"
        return None

    def solve(self, model: MatrixForm, options: SolveOptions) -> RawSolution:
        import highspy

        t0 = time.perf_counter()
        full = model
        proof = model.emphasis == "proof" and model.is_mip
        if proof:  # HiGHS's presolve is off: drop the columns a presolve fixed ourselves
            model, kept = model.without_fixed()
        h = model.to_highspy()
        h.setOptionValue("output_flag", bool(options.verbose))
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
        h.setOptionValue("mip_rel_gap", float(options.effective_gap))
        h.setOptionValue("mip_abs_gap", 1e-9)
        h.setOptionValue("random_seed", int(options.seed))
        if options.threads:
            h.setOptionValue("threads", int(options.threads))
        if proof:
            for key, value in PROOF_OPTIONS.items():
                h.setOptionValue(key, value)

        h.run()
        seconds = time.perf_counter() - t0
        ms = h.getModelStatus()
        MS = highspy.HighsModelStatus
        info = h.getInfo()
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        x = np.asarray(h.getSolution().col_value, dtype=float) if has_primal else None
        if proof and x is not None and model is not full:  # back onto the full model's columns
            x = full.expand(x, kept)
        objective = float(info.objective_function_value) if has_primal else None
        if model.is_mip:
            bound = float(info.mip_dual_bound)
        else:
            bound = objective if ms == MS.kOptimal else None
        termination = h.modelStatusToString(ms)

        if ms == MS.kOptimal:
            status = "optimal"
        elif ms in (MS.kInfeasible,):
            status = "infeasible"
        elif ms in (MS.kUnbounded, MS.kUnboundedOrInfeasible):
            status = "unbounded" if ms == MS.kUnbounded else "infeasible"
        elif has_primal:
            status = "feasible"
        elif ms in (MS.kTimeLimit, MS.kIterationLimit, MS.kSolutionLimit, MS.kInterrupt):
            status = "no_solution"
        else:
            status = "error"
        return RawSolution(
            solver=self.name,
            status=status,
            x=x,
            objective=objective,
            bound=bound,
            seconds=seconds,
            termination=termination,
            message="" if status != "error" else f"HiGHS ended with model status {termination!r}",
        )
