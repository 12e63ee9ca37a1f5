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

:class:`Background` runs the search in a thread beside the caller's work: on a machine with a
second core it starts during the Lagrangian ascent (:func:`qzopt.models.facility._cflp_presolve`)
and so gets the ascent's time as well - the restricted MILP's root sub-MIP, which found
1.2939e9 after 37 s, fits into a 120 s run that way.
"""

from __future__ import annotations

import dataclasses
import threading
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
    seconds taken, and whether the time budget or a stop ended it (then a rerun may find another plan)."""

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


def _stoppable(h, stop: threading.Event | None):
    """``h`` (a highspy.Highs) set to end its MIP search soon after ``stop`` is set."""
    if stop is not None:
        h.cbMipInterrupt += lambda e: e.interrupt() if stop.is_set() else None
    return h


def _cut_short(status) -> bool:
    """True when HiGHS's model status says its time limit or a ``stop`` ended the run."""
    import highspy

    return status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt)


def rens(form: MatrixForm, seconds: float, stop: threading.Event | None = None,
         ) -> tuple[np.ndarray | None, float | None, bool]:
    """RENS (Berthold's relaxation enforced neighbourhood search): solve the LP relaxation of
    ``form``, fix the integer columns that are integral there, and solve the MILP left (at most
    ``seconds`` in all; ``stop``, when set, ends it early).  Returns its solution and objective
    (None, None when it found none) and whether the time limit or ``stop`` ended it."""
    import highspy

    t0 = time.perf_counter()
    lp = form.to_highspy(relax=True)
    lp.setOptionValue("time_limit", max(0.1, float(seconds)))
    lp.run()
    status = lp.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None, None, _cut_short(status)
    xr = np.asarray(lp.getSolution().col_value, dtype=float)
    ints = np.flatnonzero(form.integrality)
    fix = ints[np.abs(xr[ints] - np.round(xr[ints])) <= 1e-6]
    lower, upper = form.col_lower.copy(), form.col_upper.copy()
    lower[fix] = upper[fix] = np.round(xr[fix])
    x, objective, _, stopped = _solve(dataclasses.replace(form, col_lower=lower, col_upper=upper, start=None),
                                      seconds - (time.perf_counter() - t0), stop)
    return x, objective, stopped


def _solve(form: MatrixForm, seconds: float, stop: threading.Event | None = None,
           ) -> tuple[np.ndarray | None, float | None, float | None, bool]:
    """HiGHS on ``form`` for at most ``seconds`` (from ``form.start``; ``stop``, when set, ends
    it early): solution, objective, bound, and whether the time limit or ``stop`` ended it."""
    import highspy

    h = _stoppable(form.to_highspy(), stop)
    h.setOptionValue("time_limit", max(0.1, float(seconds)))
    h.setOptionValue("mip_rel_gap", KERNEL_MIP_GAP)
    h.setOptionValue("random_seed", 0)
    h.run()
    info = h.getInfo()
    stopped = _cut_short(h.getModelStatus())
    if info.primal_solution_status != 2:  # no feasible solution
        return None, None, None, stopped
    return (np.asarray(h.getSolution().col_value, dtype=float), float(info.objective_function_value),
            float(info.mip_dual_bound), stopped)


def kernel_plan(form: MatrixForm, outside: np.ndarray, seconds: float,
                stop: threading.Event | None = None) -> KernelPlan:
    """Solve ``form`` with the columns ``outside`` fixed at zero, in at most about ``seconds``
    (``stop``, when set, ends it early): first RENS (:func:`rens`, up to :data:`RENS_SHARE` of
    the time), then HiGHS on the whole restricted model from the best of RENS's solution and
    ``form.start``.  The columns of the answer are those of ``form``."""
    t0 = time.perf_counter()
    restricted = restrict(form, outside)
    reduced, kept = restricted.without_fixed()
    xs, found, rens_stopped = rens(reduced, RENS_SHARE * seconds, stop)
    start_cost = None if reduced.start is None else reduced.objective(np.nan_to_num(reduced.start))
    if xs is not None and (start_cost is None or found < start_cost):
        reduced = dataclasses.replace(reduced, start=xs)
    x, objective, bound, stopped = _solve(reduced, seconds - (time.perf_counter() - t0), stop)
    stopped |= rens_stopped
    if xs is not None and (objective is None or found < objective):
        x, objective = xs, found
    if x is None:
        return KernelPlan(None, None, found, bound, time.perf_counter() - t0, stopped)
    return KernelPlan(restricted.expand(x, kept), objective, found, bound, time.perf_counter() - t0, stopped)


class Background:
    """:func:`kernel_plan` in a thread of its own, so that the caller's work (the Lagrangian
    ascent) goes on beside it on a second core: HiGHS releases Python's lock while it solves
    (village benchmark: the ascent's knapsack steps ran at the same rate with the kernel search
    beside them).  ``cancel`` ends it early, ``result`` waits for its answer."""

    def __init__(self, form: MatrixForm, outside: np.ndarray, seconds: float):
        self._stop = threading.Event()
        self._found: KernelPlan | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(form, outside, seconds),
                                        name="qzopt-kernel-search", daemon=True)
        self._thread.start()

    def _run(self, form: MatrixForm, outside: np.ndarray, seconds: float) -> None:
        try:
            self._found = kernel_plan(form, outside, seconds, self._stop)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def cancel(self) -> None:
        """Stop the search and wait for its thread (HiGHS stops at its next interrupt check)."""
        self._stop.set()
        self._thread.join()

    def result(self) -> KernelPlan | None:
        """Wait for the search to end (its own time budget ends it) and return its answer."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._found
