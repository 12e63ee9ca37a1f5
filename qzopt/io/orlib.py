"""Readers for J.E. Beasley's OR-Library facility-location instances.

- :func:`load_pmed`: p-median files (``pmed1.txt`` …): first line ``n edges p``, then edges
  ``i j cost`` (1-based).  OR-Library's pmedinfo: read the edges in order and set
  c(i,j) = c(j,i) = cost, so the *last* duplicate wins; allocation costs are all-pairs shortest
  paths.  Every node is a demand point of weight 1 and a candidate site; exactly p open.
- :func:`load_cap`: capacitated warehouse location files (``cap41.txt`` …, ``capa.txt`` …):
  ``m n``, then m lines ``capacity fixed_cost``, then per customer ``demand`` and m allocation
  costs, each the cost of serving the customer's *whole* demand from that warehouse.  Demand
  may be split (the published optima allow it).  capa/capb/capc carry the literal word
  ``capacity``: pass ``capacity=`` (the literature uses 8000-14000 for capa, 5000-8000 for capb,
  5000-7250 for capc).

Both return a :class:`~qzopt.scenario.scenario.Scenario` with unitless money (``per_year = 1``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from qzopt.errors import Problem, ScenarioError
from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units

UNITLESS = Units(demand="unit", distance="cost", money="cost", per_year=1.0)


def _tokens(path: object) -> tuple[Path, list[str], list[int]]:
    """The file at ``path``, its whitespace-separated tokens and the 1-based line of each.

    Raises TypeError when ``path`` is not a path, ScenarioError when the file is missing, a
    folder, unreadable or not UTF-8 text."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a path (str or os.PathLike) to an OR-Library instance file, "
                        f"got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise ScenarioError(Problem(f"instance file not found: {path}", file=str(path)))
    if path.is_dir():
        raise ScenarioError(Problem(f"{path} is a folder; name one instance file in it", file=str(path)))
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except OSError as e:
        raise ScenarioError(Problem(f"cannot read the file: {e.strerror or e}", file=str(path))) from None
    except UnicodeDecodeError as e:
        raise ScenarioError(Problem(f"not a text file: byte 0x{data[e.start]:02x} is not UTF-8", file=str(path),
                                    line=data.count(b"\n", 0, e.start) + 1,
                                    hint="OR-Library instances are plain ASCII numbers.")) from None
    tok: list[str] = []
    lines: list[int] = []
    for no, row in enumerate(text.split("\n"), 1):
        words = row.split()
        tok += words
        lines += [no] * len(words)
    return path, tok, lines


def _numbers(path: Path, tok: list[str], lines: list[int], at: range, kind: type, hint: str | None = None
             ) -> np.ndarray:
    """The tokens at positions ``at`` as an int64 (``kind=int``) or float array; a ScenarioError
    naming the line and the token of the first that is not such a number."""
    try:
        return np.array(tok[at.start : at.stop : at.step], dtype=np.int64 if kind is int else float)
    except ValueError:
        for k in at:
            try:
                kind(tok[k])
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise ScenarioError(Problem(f"{tok[k]!r} is not {what}", file=str(path), line=lines[k],
                                            hint=hint)) from None
        raise ScenarioError(Problem("unreadable numbers", file=str(path), line=lines[at.start], hint=hint)) from None


def _scenario(path: Path, **kwargs: Any) -> Scenario:
    """:meth:`Scenario.from_frames`, its errors naming ``path`` instead of ``<scenario>``."""
    try:
        return Scenario.from_frames(**kwargs)
    except ScenarioError as err:
        for problem in err.problems:
            problem.file = problem.file or str(path)
        raise ScenarioError(err.problems) from None


def pmed_distances(path: str | Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path matrix (n x n, in the file's cost units) of a p-median file, and p.

    Raises ScenarioError naming the file and line for a malformed header (n >= 1, edges >= 0,
    1 <= p <= n), a wrong number of values, a node id outside 1..n or an edge cost that is not a
    whole number >= 0."""
    path, tok, lines = _tokens(path)
    form = "A p-median file is 'n edges p', then one line 'i j cost' per edge, all whole numbers."
    if len(tok) < 3:
        raise ScenarioError(Problem(f"not a p-median file: {len(tok)} numbers", file=str(path),
                                    line=lines[-1] if lines else 1, hint=form))
    n, e, p = (int(x) for x in _numbers(path, tok, lines, range(3), int, hint=form))
    for bad, what in ((n < 1, f"n = {n}: the number of nodes must be >= 1"),
                      (e < 0, f"edges = {e}: the number of edges must be >= 0"),
                      (not 1 <= p <= n, f"p = {p}: the number of medians must be in 1..n = 1..{n}")):
        if bad:
            raise ScenarioError(Problem(f"{what} (header 'n edges p')", file=str(path), line=lines[0]))
    if len(tok) != 3 + 3 * e:
        where = lines[3 + 3 * e] if len(tok) > 3 + 3 * e else lines[-1]
        raise ScenarioError(Problem(f"{e} edges 'i j cost' need {3 * e} numbers after the header, found {len(tok) - 3}",
                                    file=str(path), line=where, hint=form))
    edges = _numbers(path, tok, lines, range(3, len(tok)), int, hint=form).reshape(e, 3)
    bad_node = np.argwhere((edges[:, :2] < 1) | (edges[:, :2] > n))
    bad_cost = np.flatnonzero(edges[:, 2] < 0)
    if bad_node.size:
        k, c = (int(x) for x in bad_node[0])
        raise ScenarioError(Problem(f"node {int(edges[k, c])} out of range: node ids must be in 1..n = 1..{n}",
                                    file=str(path), line=lines[3 + 3 * k + c]))
    if bad_cost.size:
        k = int(bad_cost[0])
        raise ScenarioError(Problem(f"edge cost {int(edges[k, 2])}: edge costs must be >= 0",
                                    file=str(path), line=lines[5 + 3 * k]))
    # last occurrence of each (unordered) edge wins, as OR-Library prescribes
    i, j = edges[:, 0] - 1, edges[:, 1] - 1
    a, b = np.minimum(i, j), np.maximum(i, j)
    key = a * n + b
    _, last = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last
    w = edges[keep, 2].astype(float)
    g = sp.coo_matrix((np.r_[w, w], (np.r_[a[keep], b[keep]], np.r_[b[keep], a[keep]])), shape=(n, n)).tocsr()
    return shortest_path(g, method="D", directed=False), p


def load_pmed(path: str | Path) -> Scenario:
    """A p-median instance as a scenario: n demand points of weight 1, n uncapacitated
    candidate sites, exactly p open, single sourcing, cost = shortest-path distance (file units)."""
    dist, p = pmed_distances(path)
    path = Path(path)
    n = dist.shape[0]
    ids = [f"n{k + 1}" for k in range(n)]
    demands = pd.DataFrame({"id": ids, "jurisdiction": ids, "amount": 1.0})
    sites = pd.DataFrame({"id": ids, "jurisdiction": ids})
    sizes = pd.DataFrame({"site": ids, "size": "any", "capacity": np.inf})
    return _scenario(
        path, demands=demands, sites=sites, sizes=sizes, distance=dist, name=path.stem, units=UNITLESS,
        transport=1.0, policy=Policy(facilities_exactly=p, single_sourcing=True),
        solver=SolverSettings(time_limit=600.0), description=f"OR-Library p-median {path.name} (p={p})",
    )


def load_cap(path: str | Path, capacity: float | None = None) -> Scenario:
    """A capacitated warehouse location instance as a scenario (split assignment allowed).

    ``capacity`` overrides every warehouse capacity (demand units; needed for capa/capb/capc,
    whose files say ``capacity`` instead of a number).  Raises ScenarioError naming the file (and
    the line where there is one) for a malformed file or values the scenario refuses.
    """
    path, tok, lines = _tokens(path)
    form = ("A capacitated warehouse file is 'm n', m lines 'capacity fixed_cost', then per customer "
            "'demand c_1 … c_m'.")
    if len(tok) < 2:
        raise ScenarioError(Problem(f"not a capacitated warehouse file: {len(tok)} numbers", file=str(path),
                                    line=lines[-1] if lines else 1, hint=form))
    m, n = (int(x) for x in _numbers(path, tok, lines, range(2), int, hint=form))
    if m < 1 or n < 1:
        raise ScenarioError(Problem(f"m = {m}, n = {n}: the numbers of warehouses and customers must be >= 1 "
                                    "(header 'm n')", file=str(path), line=lines[0]))
    size = 2 + 2 * m + n * (m + 1)
    if len(tok) != size:
        raise ScenarioError(Problem(f"expected {size} numbers ({m} warehouses, {n} customers), found {len(tok)}",
                                    file=str(path), line=lines[size] if len(tok) > size else lines[-1], hint=form))
    fixed = _numbers(path, tok, lines, range(3, 2 + 2 * m, 2), float, hint=form)
    body = _numbers(path, tok, lines, range(2 + 2 * m, size), float, hint=form).reshape(n, m + 1)
    if capacity is not None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, float, np.integer, np.floating)) \
                or not capacity > 0:
            raise ScenarioError(Problem(f"capacity {capacity!r}: must be a number above 0 (every warehouse's "
                                        "capacity; inf = unlimited)", file=str(path)))
        caps = np.full(m, float(capacity))
    else:
        try:
            caps = _numbers(path, tok, lines, range(2, 2 + 2 * m, 2), float)
        except ScenarioError as err:
            raise ScenarioError(Problem(f"the file gives no numeric capacities ({err.problems[0].message}); "
                                        "pass capacity=…", file=str(path), line=err.problems[0].line,
                                        hint="e.g. load_cap(path, capacity=8000) for capa.")) from None
    demand, cost = body[:, 0], body[:, 1:]
    cust = [f"c{k + 1}" for k in range(n)]
    wh = [f"w{k + 1}" for k in range(m)]
    demands = pd.DataFrame({"id": cust, "jurisdiction": "all", "amount": demand})
    sites = pd.DataFrame({"id": wh, "jurisdiction": "all"})
    sizes = pd.DataFrame({"site": wh, "size": "std", "capacity": caps, "fixed_cost": fixed})
    with np.errstate(divide="ignore", invalid="ignore"):
        per_unit = np.where(demand[:, None] > 0, cost / demand[:, None], 0.0)
    name = path.stem + (f"-{capacity:g}" if capacity is not None else "")
    return _scenario(
        path, demands=demands, sites=sites, sizes=sizes, distance=per_unit, name=name, units=UNITLESS, cost=cost,
        jurisdictions=pd.DataFrame({"id": ["all"], "name": ["all"], "group": ["all"]}),
        solver=SolverSettings(time_limit=600.0),
        description=f"OR-Library capacitated warehouse location {path.name}; 'distance' = cost per unit of demand",
    )
