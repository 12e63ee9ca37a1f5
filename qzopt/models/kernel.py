"""Kernel search: a better plan from the model restricted to the sites of a plan.

On a large capacitated instance the Lagrangian presolve's plan (:mod:`qzopt.models.cflp_lagrange`)
can stay several per cent above the optimum: its local search moves one site at a time.  The
same model with every site outside the plan closed is a MILP a tenth of the size (village-scale
benchmark: 8,275 rows and 10,401 columns after HiGHS's presolve, against 75,686 x 71,568)
(Angelelli, Mansini and Speranza's kernel search, with the plan as kernel).  RENS on it - its LP
relaxation, every binary integral there fixed, the small MILP left solved - closes and resizes
several sites at once: village benchmark 1.3501e9 -> 1.3177e9 yuan/yr in 13 s; HiGHS on the whole
restricted model, from that plan, for the time left (600 s runs: 1.2998e9; its root alone takes
longer than a 120 s run leaves).  The solution is feasible for the whole model and becomes the
MIP start; the restricted model's bound holds for it only and is not reported.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from qzopt.models.matrix import MatrixForm

#: Relative gap at which the restricted MILPs may stop (they have a time budget as well).
KERNEL_MIP_GAP = 1e-4
#: Share of the budget the RENS sub-MIP may take (the restricted MILP gets the rest).
RENS_SHARE = 0.5


@dataclass(frozen=True)
class KernelPlan:
    """Outcome of :func:`kernel_plan`: the best solution found (a full column vector of the
    model, ``None`` when neither MILP found one), its objective (the model's units, money/yr),
    the RENS sub-MIP's objective (``None``: it found nothing), the restricted model's bound, the
    seconds taken, and whether the time budget ended it (then a rerun may find another plan)."""

    x: np.ndarray | None
    objective: float | None
    rens: float | None
    kernel_bound: float | None
    seconds: float
    stopped: bool


def restrict(form: MatrixForm, outside: np.ndarray) -> MatrixForm:
    """``form`` with the columns ``outside`` (indices) fixed at zero."""
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    lower[outside], upper[outside] = 0.0, 0.0
    return dataclasses.replace(form, col_lower=lower, col_upper=upper)


def rens(form: MatrixForm, seconds: float) -> tuple[np.ndarray | None, float | None, bool]:
    """RENS (Berthold's relaxation enforced neighbourhood search): solve the LP relaxation of
    ``form``, fix the integer columns that are integral there, and solve the MILP left (at most
    ``seconds`` in all).  Returns its solution and objective (None, None when it found none) and
    whether the time limit ended it."""
    import highspy

    t0 = time.perf_counter()
    lp = form.to_highspy(relax=True)
    lp.setOptionValue("time_limit", max(0.1, float(seconds)))
    lp.run()
    status = lp.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None, status == highspy.HighsModelStatus.kTimeLimit
    xr = np.asarray(lp.getSolution().col_value, dtype=float)
    ints = np.flatnonzero(form.integrality)
    fix = ints[np.abs(xr[ints] - np.round(xr[ints])) <= 1e-6]
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    lower[fix] = upper[fix] = np.round(xr[fix])
    x, objective, _, stopped = _solve(dataclasses.replace(form, col_lower=lower, col_upper=upper, start=None),
                                      seconds - (time.perf_counter() - t0))
    return x, objective, stopped


def _solve(form: MatrixForm, seconds: float) -> tuple[np.ndarray | None, float | None, float | None, bool]:
    """HiGHS on ``form`` for at most ``seconds`` (from ``form.start``): solution, objective,
    bound, and whether the time limit ended it."""
    import highspy

    h = form.to_highspy()
    h.setOptionValue("time_limit", max(0.1, float(seconds)))
    h.setOptionValue("mip_rel_gap", KERNEL_MIP_GAP)
    h.setOptionValue("random_seed", 0)
    h.run()
    info = h.getInfo()
    stopped = h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    if info.primal_solution_status != 2:  # no feasible solution
        return None, None, None, stopped
    return (np.asarray(h.getSolution().col_value, dtype=float), float(info.objective_function_value),
            float(info.mip_dual_bound), stopped)


def kernel_plan(form: MatrixForm, outside: np.ndarray, seconds: float) -> KernelPlan:
    """Solve ``form`` with the columns ``outside`` fixed at zero, in at most about ``seconds``:
    first RENS (:func:`rens`, up to :data:`RENS_SHARE` of the time), then HiGHS on the whole
    restricted model from the best of RENS's solution and ``form.start``.  The columns of the
    answer are those of ``form``."""
    t0 = time.perf_counter()
    restricted = restrict(form, outside)
    reduced, kept = restricted.without_fixed()
    xs, found, rens_stopped = rens(reduced, RENS_SHARE * seconds)
    start_cost = None if reduced.start is None else float(reduced.c @ np.nan_to_num(reduced.start)) + reduced.offset
    if xs is not None and (start_cost is None or found < start_cost):
        reduced = dataclasses.replace(reduced, start=xs)
    x, objective, bound, stopped = _solve(reduced, seconds - (time.perf_counter() - t0))
    stopped |= rens_stopped
    if xs is not None and (objective is None or found < objective):
        x, objective = xs, found
    if x is None:
        return KernelPlan(None, None, found, bound, time.perf_counter() - t0, stopped)
    return KernelPlan(restricted.expand(x, kept), objective, found, bound, time.perf_counter() - t0, stopped)
