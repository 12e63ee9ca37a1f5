"""A fixed cost per used demand-site connection (e.g. building a trunk sewer).

With single sourcing the assignment is binary, so the fixed cost sits on it exactly.  With
split assignment a binary ``connect[p]`` is added: assign[p] - connect[p] <= 0, cost G_p.
"""

from __future__ import annotations

import numpy as np

from qzopt.models.blocks.siting import Build


def connection_cost(b: Build, fixed: np.ndarray) -> None:
    """Charge G_p (money per year) on every used pair p: on assign[p] when it is binary,
    otherwise on a binary connect[p] >= assign[p] (block ``connection``)."""
    x = b.var("assign")
    fixed = np.asarray(fixed, float)
    b.pair_fixed = fixed
    if x.kind == "binary":
        b.model.add_cost(x.cols, fixed)
        return
    p = np.flatnonzero(fixed > 0)
    if p.size == 0:
        return
    w = b.add_variables("connect", x.labels[p], kind="binary", cost=fixed[p])
    r = np.arange(p.size)
    b.add_constraints("connection", np.r_[r, r], np.r_[x.col(p), w.cols], np.r_[np.ones(p.size), -np.ones(p.size)],
                      sense="<=", rhs=0.0, labels=x.labels[p])
