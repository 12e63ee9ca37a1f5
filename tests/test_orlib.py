"""Every shipped OR-Library instance is solved to its published optimum (exact match).

Optimal values: OR-Library's pmedopt and capopt, as listed in ../shared/benchmarks/orlib/README.md
(Beasley 1985 EJOR 21:270-273 for p-median; Beasley 1988 EJOR 33:314-325 for cap41-cap74).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import qzopt
from qzopt.io.orlib import load_cap, load_pmed, pmed_distances
from qzopt.errors import ScenarioError

from conftest import ORLIB


def published_optima() -> dict[str, float]:
    text = (ORLIB / "README.md").read_text()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\w+) \| [^|]+\| [^|]+\| ([\d.]+) \|$", text, re.M)}


OPT = published_optima() if ORLIB.exists() else {}
PMED = sorted((k for k in OPT if k.startswith("pmed")), key=lambda k: int(k[4:]))
CAP = sorted(k for k in OPT if k.startswith("cap"))

pytestmark = pytest.mark.skipif(not ORLIB.exists(), reason=f"OR-Library data not found at {ORLIB}")


def test_readme_lists_all_shipped_instances():
    assert len(PMED) == 10 and len(CAP) == 13
    assert OPT["pmed1"] == 5819 and OPT["cap41"] == 1040444.375


@pytest.mark.parametrize("name", PMED)
def test_pmed_published_optimum(name):
    sc = load_pmed(ORLIB / "pmed" / f"{name}.txt")
    res = qzopt.solve(sc)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(OPT[name], abs=1e-6)
    assert res.gap == pytest.approx(0.0, abs=1e-9)
    assert len(res.open_sites) == sc.policy.facilities_exactly
    # every node served once, by an open site
    assert (res.demands["served"] == 1).all()
    assert set(res.assignments["site"]) <= set(res.open_sites["site"])
    assert res.assignments.groupby("demand").size().max() == 1


@pytest.mark.parametrize("name", CAP)
def test_cap_published_optimum(name):
    res = qzopt.solve(load_cap(ORLIB / "cap" / f"{name}.txt"))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(OPT[name], abs=1e-3)
    f = res.facilities
    assert (f["load"] <= f["capacity"] * (1 + 1e-9) + 1e-6).all()
    assert np.allclose(res.demands["served"], res.demands["amount"])


def test_pmed_last_duplicate_edge_wins():
    # OR-Library: "the LAST occurrence of an edge wins"; taking the minimum instead gives
    # 5718 on pmed1 (README), so the reader must not take minima.
    dist, p = pmed_distances(ORLIB / "pmed" / "pmed1.txt")
    assert p == 5 and dist.shape == (100, 100)
    assert np.allclose(dist, dist.T) and (np.diag(dist) == 0).all()


def test_capa_needs_a_capacity(tmp_path):
    f = tmp_path / "capx.txt"
    f.write_text("2 2\ncapacity 10\ncapacity 20\n5 1 2\n5 3 4\n")
    with pytest.raises(ScenarioError, match="capacity"):
        load_cap(f)
    sc = load_cap(f, capacity=10)
    assert list(sc.sizes["capacity"]) == [10, 10]
