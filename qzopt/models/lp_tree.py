"""LP-based branch and bound for *small* 0-1 models that already have a near-optimal plan.

Used by the LP root presolve of small capacitated models (:mod:`qzopt.models.cflp_root`):
there the plan is usually optimal and the LP bound within a few tenths of a percent, so all
that is left is the proof.  Measured first (OR-Library cap81-cap124, the reduced models with
the plan as start, HiGHS 1.14 alone): HiGHS spends 0.1-0.5 s in its root cut loop on models
this tree proves in 20-60 LP re-solves (cap84 0.18 s -> 0.05 s, cap114 0.58 s -> 0.15 s).

The tree (fixed columns stay in the LP: with the root's basis as start, its first node is
often solved without a simplex iteration):

- **Node.**  The LP relaxation with the node's bounds on the binary columns, re-solved by
  HiGHS's dual simplex from the last basis.  Pruned when its value z >= U - tol (U: the best
  plan's cost; tol: the asked relative gap x |U|, at least 1e-9 x |U|).
- **Plan.**  An LP solution with every binary column integral is a solution of the model
  (the other columns are continuous): U and the plan are updated.
- **Reduced-cost fixing.**  A binary at 0 in the node's LP with reduced cost r and z + r >= U
  is fixed to 0 below the node; at 1 with z - r >= U, fixed to 1.
- **Branching.**  On the most fractional binary (lowest index on ties), down branch first;
  nodes are taken best bound first, so with an optimal U the tree is as small as the
  branching rule allows.  Deterministic: same model, same tree.

Stops when no open node has z < U - tol (``proved``), or at ``max_nodes`` / ``seconds``, in
which case the smallest z of the open nodes is still a valid bound.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from qzopt.models.matrix import MatrixForm

#: Relative tolerance of the proof when the asked gap is 0 (LP values are accurate to ~1e-9).
REL_TOL = 1e-9


@dataclass(frozen=True)
class LpTree:
    """Outcome: ``x`` the best solution found (full column vector of the model, or ``None``
    when none beat the given plan), ``upper`` its cost and ``lower`` the bound (money/yr, the
    model's objective units), ``nodes`` LPs solved, ``proved`` when lower >= upper - tol,
    ``seconds`` wall time."""

    x: np.ndarray | None
    upper: float
    lower: float
    nodes: int
    proved: bool
    seconds: float


def binary_model(form: MatrixForm) -> bool:
    """True when every integer column has bounds within [0, 1] (what the tree branches on)."""
    ints = form.integrality
    return bool(form.is_mip and np.all(form.col_lower[ints] >= 0) and np.all(form.col_upper[ints] <= 1))


def branch_and_bound(form: MatrixForm, upper: float, seconds: float = 10.0, max_nodes: int = 5000,
                     gap: float = 0.0, lp=None) -> LpTree:
    """Prove (or improve) a plan of cost ``upper`` for the 0-1 model ``form`` (see the module
    docstring); at most ``max_nodes`` LPs and about ``seconds`` of wall time.  ``gap``: the
    relative gap that counts as proved (0 = optimal).  ``lp``: a ``highspy.Highs`` object that
    already holds the LP relaxation of a model with ``form``'s rows and columns (e.g. solved at
    the root with other column bounds): its basis is the tree's start."""
    import highspy

    if not binary_model(form):
        raise ValueError("branch_and_bound needs a model whose integer columns are 0-1")
    t0 = time.perf_counter()
    h = lp if lp is not None else form.to_highspy(relax=True)
    cols = np.arange(form.num_cols, dtype=np.int32)
    h.changeColsBounds(cols.size, cols, form.col_lower.astype(float), form.col_upper.astype(float))
    h.setOptionValue("simplex_strategy", 1)  # dual simplex: re-solves after bound changes
    h.setOptionValue("presolve", "off")  # each node starts from the last basis
    ints = np.flatnonzero(form.integrality).astype(np.int32)
    tol = _tolerance(upper, gap)
    best_x, nodes = None, 0
    heap: list = [(-np.inf, 0, form.col_lower[ints].astype(float), form.col_upper[ints].astype(float))]
    count = 1
    optimal, infeasible = highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kInfeasible
    while heap:
        z_parent, _, lo, up = heapq.heappop(heap)
        if z_parent >= upper - tol:  # every open node is at least as costly: done
            heap.clear()
            break
        if nodes >= max_nodes or time.perf_counter() - t0 > seconds:
            heapq.heappush(heap, (z_parent, 0, lo, up))
            break
        nodes += 1
        h.changeColsBounds(ints.size, ints, lo, up)
        h.run()
        status = h.getModelStatus()
        if status == infeasible:
            continue
        if status != optimal:  # an LP the simplex did not finish: no proof from here on
            heapq.heappush(heap, (z_parent, 0, lo, up))
            break
        z = float(h.getInfo().objective_function_value)
        if z >= upper - tol:
            continue
        sol = h.getSolution()
        values = np.asarray(sol.col_value)
        v = values[ints]
        frac = np.abs(v - np.round(v))
        if frac.max() <= 1e-6:  # an integral LP solution is a plan
            upper, best_x = z, values
            best_x[ints] = np.round(v)
            tol = _tolerance(upper, gap)
            continue
        r = np.asarray(sol.col_dual)[ints]
        lo, up = lo.copy(), up.copy()
        up[(v <= 1e-9) & (z + r >= upper - tol)] = 0.0  # reduced-cost fixing below this node
        lo[(v >= 1 - 1e-9) & (z - r >= upper - tol)] = 1.0
        k = int(np.argmax(frac))
        for value in (0.0, 1.0):
            lo_k, up_k = lo.copy(), up.copy()
            lo_k[k] = up_k[k] = value
            heapq.heappush(heap, (z, count, lo_k, up_k))
            count += 1
    lower = min([upper] + [node[0] for node in heap])
    return LpTree(best_x, upper, lower, nodes, lower >= upper - tol, time.perf_counter() - t0)


def _tolerance(upper: float, gap: float) -> float:
    """What a node's bound must beat the plan by to be explored (0 while there is no plan)."""
    return max(float(gap), REL_TOL) * max(1.0, abs(upper)) if np.isfinite(upper) else 0.0
