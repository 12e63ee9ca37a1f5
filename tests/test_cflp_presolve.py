"""The Lagrangian presolve of capacitated siting (qzopt.models.cflp_lagrange) keeps an optimum.

OR-Library's cap41-cap64 (split demand, published optima) are run through it by lowering the
size threshold; its bound must not exceed the optimum, its plan must not be cheaper, and the
MILP on the reduced model must still reach the published optimum exactly.
"""

from __future__ import annotations

import pytest

import qzopt
from qzopt.io.orlib import load_cap
from qzopt.models import cflp_lagrange
from qzopt.models.data import facility_data

from conftest import ORLIB
from test_orlib import OPT

CAPACITATED = [k for k in sorted(OPT) if k.startswith("cap") and not k.startswith("cap7")]

pytestmark = pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")


@pytest.mark.parametrize("name", CAPACITATED)
def test_presolve_brackets_the_optimum_and_the_milp_still_finds_it(name, monkeypatch):
    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    d = facility_data(sc)
    pre = cflp_lagrange.presolve_cflp(d, seconds=20)
    assert pre is not None
    tol = 1e-6 * OPT[name]
    assert pre.lower <= OPT[name] + tol <= pre.upper + 2 * tol
    # the plan is feasible: every point fully served, no capacity exceeded
    share = pytest.approx(1.0, abs=1e-6)
    served = sum(pre.assign[d.pairs.i == i].sum() for i in range(d.n))
    assert served == pytest.approx(d.n, abs=1e-5) and all(
        pre.assign[d.pairs.i == i].sum() == share for i in range(d.n))
    assert (pre.load <= d.capacity * pre.plan + 1e-6).all()
    # nothing the plan uses is fixed against it
    assert not (pre.closed & pre.plan).any()
    monkeypatch.setattr(cflp_lagrange, "MIN_PAIRS", 0)
    res = qzopt.solve(sc, isolate=False)
    assert "lagrangian_presolve" in res.extra["notes"]
    assert res.status == "optimal" and res.objective == pytest.approx(OPT[name], abs=1e-3)


@pytest.mark.parametrize("name", ["cap41", "cap61", "cap64"])
def test_local_search_from_every_site_open_improves_to_a_true_plan(name):
    import time

    import numpy as np

    sc = load_cap(ORLIB / "cap" / f"{name}.txt")
    d = facility_data(sc)
    allowed = np.ones(d.K, bool)
    forced = np.zeros(d.K, bool)
    start = cflp_lagrange.transport_plan(d, allowed)
    e = cflp_lagrange._entries(d, allowed)
    Q = np.minimum(d.capacity, d.max_load[d.option_site])
    cost, x, load, open_opt = cflp_lagrange.local_search(d, e, Q, (start[0], start[1], start[2], allowed), allowed,
                                                         forced, OPT[name], time.perf_counter() + 60)
    assert cost < start[0]  # every site open is never optimal on these instances
    assert cost >= OPT[name] - 1e-6 * OPT[name]  # no plan beats the published optimum
    again = cflp_lagrange.transport_plan(d, open_opt)  # the cost is that of the plan it returns
    assert again[0] == pytest.approx(cost, rel=1e-9)
    assert (load <= d.capacity * open_opt + 1e-6).all()
    assert cost <= 1.01 * OPT[name]  # a local optimum of add/drop/swap moves, within 1 % here
