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
1.2939e9 after 37 s, fits into a 120 s run that way.  :func:`kernel_rounds` repeats the search
on the sites of the best plan so far while time is left (600 s runs: 1.29222e9 -> 1.28973e9).
:func:`polish` starts from a time-limited solver's plan on a small model and also adds closed sites,
the LP relaxation's most open first (township benchmark, 120 s: gap 1.22 % -> 0.89-0.94 %).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from qzopt.models.matrix import MatrixForm

#: Relative gap at which the restricted MILPs may stop (they have a time budget as well).
KERNEL_MIP_GAP = 1e-4
#: Share of the budget the RENS sub-MIP may take (the restricted MILP gets the rest).
RENS_SHARE = 0.5
#: A round of :func:`kernel_rounds` ends after this many seconds (or at its proof); the next one
#: restricts the model to the sites of the best plan so far.  Village benchmark: HiGHS's root
#: sub-MIP finds its plan 37 s into the first round; a second round on the 98 sites of that plan
#: (1.29222e9) proved their optimum, 1.28973e9, in 109 s.
ROUND_SECONDS = 120.0


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
    rounds: int = 1  # kernel_plan calls made (see kernel_rounds)


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


def kernel_rounds(form: MatrixForm, outside: np.ndarray, seconds: float,
                  columns: Callable[[np.ndarray], np.ndarray], closed_sites: Callable[[np.ndarray], np.ndarray],
                  stop: threading.Event | None = None) -> KernelPlan:
    """:func:`kernel_plan` in rounds of at most :data:`ROUND_SECONDS`, in at most about
    ``seconds`` in all: first with the sites of the mask ``outside`` closed, then with every
    site the best plan so far leaves closed (that plan as the MIP start), as long as that gives
    a set of sites not tried yet.  ``columns(mask)``: the model's columns of the sites in the
    mask; ``closed_sites(x)``: the mask of the sites a solution leaves closed.  The answer's
    ``rens`` is the first round's; ``stopped`` says whether the clock or ``stop`` cut the last
    round short."""
    t0 = time.perf_counter()
    best: KernelPlan | None = None
    tried: list[np.ndarray] = []
    rens_first, stopped, rounds = None, False, 0
    while True:
        left = seconds - (time.perf_counter() - t0)
        if (rounds and left <= 1.0) or (stop is not None and stop.is_set()):
            break
        start = form if best is None else dataclasses.replace(form, start=best.x)
        found = kernel_plan(start, columns(outside), min(left, ROUND_SECONDS), stop)
        rens_first = found.rens if not rounds else rens_first
        rounds += 1
        stopped = found.stopped
        tried.append(outside)
        if found.objective is not None and (best is None or found.objective < best.objective):
            best = found
        if best is None:
            break
        outside = closed_sites(best.x)
        if any(np.array_equal(outside, t) for t in tried):
            break
    seconds_taken = time.perf_counter() - t0
    if best is None:
        return KernelPlan(None, None, rens_first, None, seconds_taken, stopped, rounds)
    return KernelPlan(best.x, best.objective, rens_first, best.kernel_bound, seconds_taken, stopped, rounds)


#: Closed sites a :func:`polish` adds to its plan's at a time: those of the highest rank (the LP
#: relaxation's open value).  Township benchmark (990 points, 160 sites x 3 sizes): from HiGHS's
#: plan after 65 s, kernel rounds on its 56 sites 1.18878e9 -> 1.18633e9 (10 s); then with 10
#: more sites 1.18479e9, with 20 1.18633e9 and with 40 1.18622e9 in 40 s each.
EXPAND_SITES = 10


def polish(form: MatrixForm, x: np.ndarray, seconds: float,
           columns: Callable[[np.ndarray], np.ndarray], closed_sites: Callable[[np.ndarray], np.ndarray],
           rank: np.ndarray, stop: threading.Event | None = None) -> KernelPlan:
    """A plan at least as cheap as ``x`` (a solution of ``form``, e.g. a time-limited solver's
    answer), in at most about ``seconds``: :func:`kernel_rounds` on the sites of ``x``; then,
    while time is left, on the sites of the best plan so far plus the :data:`EXPAND_SITES`
    sites it leaves closed that rank highest (``rank``: a score per site, e.g. its open value in
    the LP relaxation; sites ranked 0 or below, or added before, are not added), from that plan.
    ``columns`` and ``closed_sites`` as for :func:`kernel_rounds`.  The answer's ``x`` and
    ``objective`` are ``x``'s own when nothing cheaper was found; ``rounds`` counts every
    restricted solve, ``stopped`` says whether the clock or ``stop`` cut the last one short."""
    t0 = time.perf_counter()
    best_x, best = x, form.objective(x)
    added = np.zeros(rank.size, bool)
    outside = closed_sites(x)
    rounds, stopped, rens_first, kernel_bound = 0, False, None, None
    while True:
        left = seconds - (time.perf_counter() - t0)
        if left <= 1.0 or (stop is not None and stop.is_set()):
            break
        found = kernel_rounds(dataclasses.replace(form, start=best_x), outside, left, columns, closed_sites, stop)
        rens_first = found.rens if not rounds else rens_first
        rounds += found.rounds
        stopped = found.stopped
        if found.objective is not None and found.objective < best - 1e-9 * max(1.0, abs(best)):
            best_x, best, kernel_bound = found.x, found.objective, found.kernel_bound
        closed = closed_sites(best_x)
        extra = np.flatnonzero(closed & ~added & (rank > 0))
        if extra.size == 0:
            break
        extra = extra[np.argsort(-rank[extra], kind="stable")][:EXPAND_SITES]
        added[extra] = True
        outside = closed.copy()
        outside[extra] = False
    return KernelPlan(best_x, best, rens_first, kernel_bound, time.perf_counter() - t0, stopped, rounds)


class Background:
    """A kernel search in a thread of its own, so that the caller's work (the Lagrangian
    ascent) goes on beside it on a second core: HiGHS releases Python's lock while it solves
    (village benchmark: the ascent's knapsack steps ran at the same rate with the kernel search
    beside them).  ``search(stop)`` is the search (e.g. :func:`kernel_rounds` with its
    arguments bound); ``cancel`` ends it early, ``result`` waits for its answer."""

    def __init__(self, search: Callable[[threading.Event], KernelPlan]):
        self._stop = threading.Event()
        self._found: KernelPlan | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(search,), name="qzopt-kernel-search", daemon=True)
        self._thread.start()

    def _run(self, search: Callable[[threading.Event], KernelPlan]) -> None:
        try:
            self._found = search(self._stop)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def cancel(self) -> None:
        """Stop the search and wait for its thread (HiGHS stops at its next interrupt check)."""
        self._stop.set()
        self._thread.join()

    def result(self) -> KernelPlan:
        """Wait for the search to end (its own time budget ends it) and return its answer (the
        search's exception, if it raised one)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._found is not None  # set by _run unless it raised
        return self._found
