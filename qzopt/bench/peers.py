"""The peers qzopt is measured against, each written the way a typical user writes it.

- p-median: spopt's :class:`spopt.locate.PMedian` built ``from_cost_matrix`` and solved with
  PuLP's CBC (``pulp.PULP_CBC_CMD``), as spopt's documentation shows.
- CFLP: a plain PuLP model with dictionaries of ``LpVariable`` and ``lpSum`` per term (split
  assignment x_ij in [0, 1], y_j binary, sum_j x_ij = 1, sum_i d_i x_ij <= s_j y_j and the
  strong x_ij <= y_j rows), solved with CBC.

Each function gets the instance's data, builds, solves, and returns the figures of
:func:`qzopt.bench.runner.measure` (times in seconds).  They run in the benchmark's worker
process, which enforces the time limit by killing the process group (CBC included).
"""

from __future__ import annotations

import time
import warnings

import numpy as np


def _pulp_outcome(prob) -> tuple[str, float | None]:
    """(status, objective) of a solved PuLP problem; ``optimal`` only when CBC proved it."""
    import pulp

    status = pulp.LpStatus[prob.status]
    if status == "Optimal" and getattr(prob, "sol_status", 1) == pulp.LpSolutionOptimal:
        return "optimal", float(pulp.value(prob.objective))
    if status == "Optimal":
        return "feasible", float(pulp.value(prob.objective))
    return status.lower(), None


def spopt_pmedian(dist: np.ndarray, p: int) -> dict:
    """spopt PMedian + CBC on an n x n cost matrix (weights 1)."""
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(dist, np.ones(dist.shape[0]), p_facilities=p)
    t1 = time.perf_counter()
    model.problem.solve(pulp.PULP_CBC_CMD(msg=False))  # what PMedian.solve does, minus its result tables
    t2 = time.perf_counter()
    status, objective = _pulp_outcome(model.problem)
    return {"status": status, "objective": objective, "gap": 0.0 if status == "optimal" else None,
            "build_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0}


def pulp_cflp(capacity: np.ndarray, fixed: np.ndarray, demand: np.ndarray, cost: np.ndarray) -> dict:
    """Plain PuLP + CBC capacitated facility location; ``cost[i, j]`` is the cost of serving all
    of customer i from warehouse j (money), ``demand[i]`` and ``capacity[j]`` in demand units."""
    import pulp

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # PuLP 3.x announces its 4.0 API
    t0 = time.perf_counter()
    n, m = cost.shape
    I, J = range(n), range(m)
    prob = pulp.LpProblem("cflp", pulp.LpMinimize)
    y = pulp.LpVariable.dicts("y", J, cat="Binary")
    x = pulp.LpVariable.dicts("x", [(i, j) for i in I for j in J], lowBound=0, upBound=1)
    prob += pulp.lpSum(fixed[j] * y[j] for j in J) + pulp.lpSum(cost[i, j] * x[i, j] for i in I for j in J)
    for i in I:
        prob += pulp.lpSum(x[i, j] for j in J) == 1
    for j in J:
        prob += pulp.lpSum(demand[i] * x[i, j] for i in I) <= capacity[j] * y[j]
    for i in I:
        for j in J:
            prob += x[i, j] <= y[j]
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    t2 = time.perf_counter()
    status, objective = _pulp_outcome(prob)
    return {"status": status, "objective": objective, "gap": 0.0 if status == "optimal" else None,
            "build_s": t1 - t0, "solve_s": t2 - t1, "total_s": t2 - t0}
