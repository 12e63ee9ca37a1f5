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

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from qzopt.errors import Problem, ScenarioError
from qzopt.scenario.scenario import Policy, Scenario, SolverSettings, Units

UNITLESS = Units(demand="unit", distance="cost", money="cost", per_year=1.0)


def _tokens(path: Path) -> list[str]:
    if not path.exists():
        raise ScenarioError(Problem(f"instance file not found: {path}", file=str(path)))
    if path.is_dir():
        raise ScenarioError(Problem(f"{path} is a folder; name one instance file in it", file=str(path)))
    return path.read_text().split()


def pmed_distances(path: str | Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path matrix (n x n) of a p-median file, and p."""
    path = Path(path)
    tok = _tokens(path)
    try:
        n, e, p = int(tok[0]), int(tok[1]), int(tok[2])
        edges = np.array(tok[3 : 3 + 3 * e], dtype=np.int64).reshape(e, 3)
    except (ValueError, IndexError):
        raise ScenarioError(Problem("not a p-median file: expected 'n edges p' then 'i j cost' lines",
                                    file=str(path), line=1)) from None
    if len(tok) != 3 + 3 * e:
        raise ScenarioError(Problem(f"expected {3 + 3 * e} numbers, found {len(tok)}", file=str(path)))
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
    candidate sites, exactly p open, single sourcing, cost = shortest-path distance."""
    dist, p = pmed_distances(path)
    n = dist.shape[0]
    ids = [f"n{k + 1}" for k in range(n)]
    demands = pd.DataFrame({"id": ids, "jurisdiction": ids, "amount": 1.0})
    sites = pd.DataFrame({"id": ids, "jurisdiction": ids})
    sizes = pd.DataFrame({"site": ids, "size": "any", "capacity": np.inf})
    return Scenario.from_frames(
        demands, sites, sizes, dist, name=Path(path).stem, units=UNITLESS, transport=1.0,
        policy=Policy(facilities_exactly=p, single_sourcing=True),
        solver=SolverSettings(time_limit=600.0), description=f"OR-Library p-median {Path(path).name} (p={p})",
    )


def load_cap(path: str | Path, capacity: float | None = None) -> Scenario:
    """A capacitated warehouse location instance as a scenario (split assignment allowed).

    ``capacity`` overrides every warehouse capacity (needed for capa/capb/capc, whose files say
    ``capacity`` instead of a number).
    """
    path = Path(path)
    tok = _tokens(path)
    try:
        m, n = int(tok[0]), int(tok[1])
        head = tok[2 : 2 + 2 * m]
        caps_tok, fixed = head[0::2], np.array(head[1::2], dtype=float)
        body = np.array(tok[2 + 2 * m :], dtype=float).reshape(n, m + 1)
    except (ValueError, IndexError):
        raise ScenarioError(Problem("not a capacitated warehouse file: expected 'm n', m lines 'capacity cost', "
                                    "then per customer 'demand c_1 … c_m'", file=str(path))) from None
    if capacity is not None:
        if isinstance(capacity, bool) or not isinstance(capacity, (int, float, np.integer, np.floating)) \
                or not capacity > 0:
            raise ScenarioError(Problem(f"capacity {capacity!r}: must be a number above 0 (every warehouse's "
                                        "capacity; inf = unlimited)", file=str(path)))
        caps = np.full(m, float(capacity))
    else:
        try:
            caps = np.array(caps_tok, dtype=float)
        except ValueError:
            raise ScenarioError(Problem("the file gives no numeric capacities (it says "
                                        f"{caps_tok[0]!r}); pass capacity=…", file=str(path),
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
    return Scenario.from_frames(
        demands, sites, sizes, per_unit, name=name, units=UNITLESS, cost=cost,
        jurisdictions=pd.DataFrame({"id": ["all"], "name": ["all"], "group": ["all"]}),
        solver=SolverSettings(time_limit=600.0),
        description=f"OR-Library capacitated warehouse location {path.name}; 'distance' = cost per unit of demand",
    )
