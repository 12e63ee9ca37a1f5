"""Presolve for the radius path with exactly p sites: a heuristic plan, a Lagrangian bound, and
sites fixed open or closed by reduced-cost arguments (as in Beasley's p-median algorithm,
EJOR 21 (1985) 270-273).

Notation: C (n x m) money per year of serving point i from site j (``BIG`` where not allowed),
f_j the fixed cost of site j, p the number of sites.  Relaxing "each point served once" with
multipliers lambda_i gives

    L(lambda) = sum_i lambda_i + min { sum_j r_j y_j : sum_j y_j = p, rules on y }
    r_j = f_j + sum_i min(0, C_ij - lambda_i),

a lower bound for any lambda.  If forcing site j open (closed) raises L above the cost of the
heuristic plan, no plan with j open (closed) is cheaper: j is fixed closed (open).  The
heuristic plan is never cut off (only sites outside it are closed, only sites in it opened), so
the reduced model keeps an optimal solution.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

#: Cost of a pair that is not allowed (finite, so that sums stay finite; never chosen).
BIG = 1e15

#: Largest n x m for which the dense cost matrix is built (8 bytes each).
MAX_DENSE = 3e7

#: The branch and bound runs only when the root leaves at least this relative gap; below it the
#: MILP solver's own tree closes the gap quickly (pmed24, p = 100, root gap 0.07 %: HiGHS 1.6 s in
#: all, while the Lagrangian tree had not proved it after 90 s).
TREE_GAP = 0.002


@dataclass(frozen=True)
class Presolve:
    """Outcome: the heuristic plan (bool per site), its cost and the best Lagrangian bound
    (money/yr), sites fixed closed and open (bool per site), seconds spent, and the branch and
    bound's outcome when it ran."""

    plan: np.ndarray
    upper: float
    lower: float
    closed: np.ndarray
    opened: np.ndarray
    seconds: float
    tree: "Tree | None" = None  # the branch and bound, when the root left a gap


def dense_costs(n: int, m: int, i: np.ndarray, j: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """C as a dense n x m array, ``BIG`` where a pair is not allowed."""
    C = np.full((n, m), BIG)
    C[i, j] = cost
    return C


def plan_cost(C: np.ndarray, f: np.ndarray, y: np.ndarray) -> float:
    """Money per year of the plan ``y`` (bool per site): fixed costs + cheapest open site per point."""
    return float(f[y].sum() + C[:, y].min(axis=1).sum())


def greedy(C: np.ndarray, f: np.ndarray, p: int, forced: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Open the forced sites, then the site that lowers the cost most, until p are open."""
    y = forced.copy()
    c1 = C[:, y].min(axis=1) if y.any() else np.full(C.shape[0], BIG)
    while y.sum() < p:
        gain = np.maximum(0.0, c1[:, None] - C).sum(axis=0) - f
        gain[y | ~allowed] = -np.inf
        j = int(np.argmax(gain))
        y[j] = True
        c1 = np.minimum(c1, C[:, j])
    return y


def interchange(C: np.ndarray, f: np.ndarray, y: np.ndarray, forced: np.ndarray, allowed: np.ndarray,
                max_swaps: int = 500) -> np.ndarray:
    """Best-improvement vertex substitution (Teitz & Bart; Whitaker's fast form): swap one open
    site for a closed one while that lowers the cost."""
    y = y.copy()
    n, m = C.shape
    rows = np.arange(n)
    for _ in range(max_swaps):
        open_idx = np.flatnonzero(y)
        if open_idx.size < 2 and not (~y & allowed).any():
            break
        sub = C[:, open_idx]
        order = np.argsort(sub, axis=1)[:, :2]
        a = open_idx[order[:, 0]]
        c1 = sub[rows, order[:, 0]]
        c2 = sub[rows, order[:, 1]] if open_idx.size > 1 else np.full(n, BIG)
        base = np.minimum(0.0, C - c1[:, None]).sum(axis=0)  # adding j, removing nothing
        D = np.minimum(C, c2[:, None]) - np.minimum(C, c1[:, None])  # extra cost for i if a_i leaves
        onehot = sp.csr_matrix((np.ones(n), (a, rows)), shape=(m, n))
        corr = onehot @ D  # corr[k, j]: what removing k costs, given j is added
        delta = f[None, :] - f[:, None] + base[None, :] + corr
        delta[~y | forced, :] = np.inf
        delta[:, y | ~allowed] = np.inf
        k, j = np.unravel_index(np.argmin(delta), delta.shape)
        if not delta[k, j] < -1e-9 * max(1.0, abs(plan_cost(C, f, y))):
            break
        y[k], y[j] = False, True
    return y


@dataclass
class Ascent:
    """Subgradient bookkeeping shared by the Lagrangian presolves: the best bound and its
    multipliers, and the Held-Karp step factor ``pi``, halved after ``patience`` steps without
    progress."""

    lam: np.ndarray
    patience: int
    pi: float = 2.0
    best: float = -np.inf
    stall: int = 0

    def record(self, bound: float, lam: np.ndarray) -> None:
        if bound > self.best + 1e-12 * max(1.0, abs(bound)):
            self.best, self.lam, self.stall = bound, lam.copy(), 0
        else:
            self.stall += 1
            if self.stall >= self.patience:
                self.pi, self.stall = self.pi / 2.0, 0


def _choose(r: np.ndarray, p: int, forced: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The p sites of smallest r_j: the forced ones first (the Lagrangian subproblem)."""
    y = forced.copy()
    free = np.flatnonzero(allowed & ~forced)
    k = p - int(forced.sum())
    if k > 0:
        y[free[np.argpartition(r[free], k - 1)[:k]]] = True
    return y


def subgradient(C: np.ndarray, f: np.ndarray, p: int, forced: np.ndarray, allowed: np.ndarray, upper: float,
                lam: np.ndarray, iterations: int = 3000, seconds: float = 20.0,
                stop_at: float | None = None) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Maximise L(lambda) by subgradient steps (Held-Karp step size, halved after 25 steps
    without progress).  The subproblem's site sets are plans too: every 5th is costed, and the
    cheapest one below ``upper`` is returned (else ``None``).  Returns (best bound, its lambda,
    best plan found)."""
    ascent, found = Ascent(lam.copy(), patience=25), None
    t0 = time.perf_counter()
    for it in range(iterations):
        diff = C - lam[:, None]
        below = diff < 0
        r = f + np.where(below, diff, 0.0).sum(axis=0)
        y = _choose(r, p, forced, allowed)
        bound = float(lam.sum() + r[y].sum())
        if it % 5 == 0:
            cost = plan_cost(C, f, y)
            if cost < upper - 1e-9 * max(1.0, abs(upper)):
                upper, found = cost, y.copy()
        ascent.record(bound, lam)
        if (stop_at is not None and ascent.best >= stop_at) or ascent.pi < 1e-4 or time.perf_counter() - t0 > seconds:
            break
        g = 1.0 - below[:, y].sum(axis=1)
        norm = float(g @ g)
        if norm == 0.0:  # the subproblem's solution is a plan: the bound is optimal
            break
        lam = lam + ascent.pi * (upper - bound) / norm * g
    return ascent.best, ascent.lam, found


def reduced_cost_fixing(C: np.ndarray, f: np.ndarray, p: int, forced: np.ndarray, allowed: np.ndarray,
                        lam: np.ndarray, plan: np.ndarray | None, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Sites that cannot change in any plan costing less than ``cutoff`` (given a bound at
    ``lam``): closed ones outside ``plan``, open ones inside it (``plan=None``: no plan to keep,
    as in a branch-and-bound node, where only plans below ``cutoff`` matter)."""
    r = f + np.minimum(0.0, C - lam[:, None]).sum(axis=0)
    y = _choose(r, p, forced, allowed)
    bound = float(lam.sum() + r[y].sum())
    swappable_in = y & ~forced
    closed = np.zeros(C.shape[1], bool)
    opened = np.zeros(C.shape[1], bool)
    if swappable_in.any():
        worst_in = r[swappable_in].max()
        closed = allowed & ~y & (bound + r - worst_in > cutoff)
        if plan is not None:
            closed &= ~plan
    out = allowed & ~y
    if out.any():
        best_out = r[out].min()
        opened = swappable_in & (bound - r + best_out > cutoff)
        if plan is not None:
            opened &= plan
    return closed, opened


@dataclass(frozen=True)
class Tree:
    """Outcome of :func:`branch_and_bound`: the best plan and its cost, the bound proved (money/yr;
    equal to the cost when ``proved``), nodes evaluated and seconds."""

    plan: np.ndarray
    upper: float
    lower: float
    proved: bool
    nodes: int
    seconds: float


def branch_and_bound(C: np.ndarray, f: np.ndarray, p: int, forced: np.ndarray, allowed: np.ndarray,
                     plan: np.ndarray, upper: float, lower: float, lam: np.ndarray, cutoff: Callable[[float], float],
                     deadline: float, steps: int = 150) -> Tree:
    """Lagrangian branch and bound on sites (Beasley, EJOR 21 (1985) 270-273): best bound first;
    each node re-optimises the multipliers of its parent for at most ``steps`` subgradient steps
    with its sites forced open / closed, is pruned when its bound reaches ``cutoff(upper)``,
    fixes further sites by reduced costs, and branches on the free site of its Lagrangian set
    that shares the most points with the others (open it / close it).  Stops at ``deadline``
    (``time.perf_counter()``); ``lower`` is then the smallest bound of the nodes left.
    ``allowed`` / ``forced``: the sites the root left free / fixed open; ``lam`` its multipliers."""
    t0 = time.perf_counter()
    keep = np.flatnonzero(allowed)
    C, f = C[:, keep], f[keep]  # only the columns still in play
    best = plan[keep].copy()
    heap: list = [(lower, 0, forced[keep], np.ones(keep.size, bool), lam)]
    count, nodes = 1, 0
    while heap and time.perf_counter() < deadline:
        parent_bound, _, fo, al, lm = heapq.heappop(heap)
        if parent_bound >= cutoff(upper):
            continue
        nodes += 1
        if fo.sum() >= p or al.sum() <= p:  # a single plan left (or none)
            y = fo if fo.sum() == p else al if al.sum() == p and (fo <= al).all() else None
            if y is not None and plan_cost(C, f, y) < upper:
                upper, best = plan_cost(C, f, y), y.copy()
            continue
        bound, lm, found = subgradient(C, f, p, fo, al, upper, lm, iterations=steps,
                                       seconds=max(0.0, deadline - time.perf_counter()), stop_at=cutoff(upper))
        if found is not None and plan_cost(C, f, found) < upper:
            upper, best = plan_cost(C, f, found), found.copy()
        if bound >= cutoff(upper):
            continue
        closed, opened = reduced_cost_fixing(C, f, p, fo, al, lm, None, cutoff(upper))
        al, fo = al & ~closed, fo | opened
        if fo.sum() > p or al.sum() < p:
            continue
        r = f + np.minimum(0.0, C - lm[:, None]).sum(axis=0)
        y = _choose(r, p, fo, al)
        free = np.flatnonzero(y & ~fo)
        if free.size == 0:  # the node's Lagrangian set is forced: costed as a plan above
            if plan_cost(C, f, y) < upper:
                upper, best = plan_cost(C, f, y), y.copy()
            continue
        covered = ((C[:, y] - lm[:, None]) < 0).sum(axis=1)  # how many chosen sites each point pulls
        shared = (((C[:, free] - lm[:, None]) < 0) & (covered[:, None] > 1)).sum(axis=0)
        j = free[int(np.argmax(shared))]
        opened_j, closed_j = fo.copy(), al.copy()
        opened_j[j], closed_j[j] = True, False
        heapq.heappush(heap, (bound, count, opened_j, al, lm))
        heapq.heappush(heap, (bound, count + 1, fo, closed_j, lm))
        count += 2
    left = [b for b, *_ in heap if b < cutoff(upper)]
    out = np.zeros(plan.shape[0], bool)
    out[keep[best]] = True
    proved = not left
    low = upper if proved else max(lower, min(min(left), upper))
    return Tree(out, upper, low, proved, nodes, time.perf_counter() - t0)


def presolve_pmedian(n: int, m: int, i: np.ndarray, j: np.ndarray, cost: np.ndarray, f: np.ndarray, p: int,
                     forced: np.ndarray, excluded: np.ndarray, seconds: float = 90.0) -> Presolve | None:
    """Heuristic plan, Lagrangian bound and fixed sites for exactly ``p`` sites; ``None`` when
    the dense cost matrix would be too large, or when no plan of ``p`` sites serving every point
    was found (fixing against a plan that leaves a point unserved would drop that point's pairs).  When the root bound leaves a gap of at least
    :data:`TREE_GAP`, the Lagrangian branch and bound (:func:`branch_and_bound`) runs until about ``seconds`` after the start: if
    it proves its plan optimal, every site is fixed (open in the plan, closed elsewhere)."""
    if n * m > MAX_DENSE or p <= forced.sum() or p >= int((~excluded).sum()):
        return None
    t0 = time.perf_counter()
    C = dense_costs(n, m, i, j, cost)
    allowed = ~excluded
    plan = interchange(C, f, greedy(C, f, p, forced, allowed), forced, allowed)
    upper = plan_cost(C, f, plan)
    integral = bool(np.all(cost == np.round(cost)) and np.all(f == np.round(f)))
    slack = 1e-9 * max(1.0, abs(upper)) + 1e-6
    # every plan costing less than the heuristic one costs at most `cutoff`
    cut = lambda ub: (ub - 1.0 + slack) if integral else (ub + slack)  # noqa: E731
    lam0 = C[:, plan].min(axis=1)
    lower, lam, found = subgradient(C, f, p, forced, allowed, upper, lam0, stop_at=cut(upper))
    r = f + np.minimum(0.0, C - lam[:, None]).sum(axis=0)
    for start in ([found] if found is not None else []) + [_choose(r, p, forced, allowed)]:
        polished = interchange(C, f, start, forced, allowed)  # Lagrangian plans, polished
        if plan_cost(C, f, polished) < upper:
            plan, upper = polished, plan_cost(C, f, polished)
    if upper >= BIG:  # no plan of p sites found that serves every point: fix nothing, the MILP decides
        return None
    cutoff = cut(upper)
    closed, opened = reduced_cost_fixing(C, f, p, forced, allowed, lam, plan, cutoff)
    tree = None
    if lower < cutoff and upper - lower >= TREE_GAP * max(1.0, abs(upper)) and time.perf_counter() < t0 + seconds:
        tree = branch_and_bound(C, f, p, forced | opened, allowed & ~closed, plan, upper, lower, lam, cut,
                                t0 + seconds)
        plan, upper, lower = tree.plan, tree.upper, max(lower, tree.lower)
        if tree.proved:  # the plan is optimal: every site fixed, the MILP only confirms it
            closed, opened = allowed & ~plan, plan & ~forced
    return Presolve(plan, upper, min(lower, upper), closed, opened, time.perf_counter() - t0, tree)
