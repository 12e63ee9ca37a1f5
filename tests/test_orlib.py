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


# --- input validation: every error names the file and, where there is one, the line -----------

PMED_BAD_NODE = ["0 2 5", "1 4 5"]


def _bad(tmp_path, text: str | bytes, name: str = "bad.txt"):
    f = tmp_path / name
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    return f


def _raises(loader, f, *parts: str) -> str:
    with pytest.raises(ScenarioError) as err:
        loader(f)
    msg = str(err.value)
    assert str(f) in msg and "<scenario>" not in msg, msg
    for part in parts:
        assert part in msg, msg
    return msg


def test_pmed_negative_edge_cost_is_refused_not_hung(tmp_path):
    # scipy's Dijkstra loops forever (or dies in std::bad_alloc) on a negative cycle: a child process
    # with a timeout keeps this test from hanging when the check is missing.
    import os
    import subprocess
    import sys

    from conftest import ROOT

    f = _bad(tmp_path, "3 2 1\n1 2 -5\n2 3 7\n")
    code = ("import sys\nfrom qzopt.errors import ScenarioError\nfrom qzopt.io.orlib import load_pmed\n"
            "try:\n    load_pmed(sys.argv[1])\nexcept ScenarioError as e:\n    print(e)\nelse:\n    sys.exit(3)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        out = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True, text=True, timeout=60,
                             env=env, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("load_pmed hangs on a negative edge cost")
    assert out.returncode == 0, out.stderr[-2000:]
    msg = out.stdout
    assert str(f) in msg and "line 2" in msg and ">= 0" in msg and "-5" in msg, msg


@pytest.mark.parametrize("edge", PMED_BAD_NODE)
def test_pmed_node_id_out_of_range(tmp_path, edge):
    f = _bad(tmp_path, f"3 2 1\n2 3 7\n{edge}\n")
    _raises(load_pmed, f, "line 3", "1..3")


@pytest.mark.parametrize("loader", [load_pmed, load_cap])
def test_non_utf8_file(tmp_path, loader):
    text = b"3 2 1\n1 2 5\n2 3 \xff7\n" if loader is load_pmed else b"2 2\n10 5\n10 5\n5 1 \xff2\n5 3 4\n"
    _raises(loader, _bad(tmp_path, text), "UTF-8", "line 3" if loader is load_pmed else "line 4")


@pytest.mark.parametrize("loader", [load_pmed, load_cap])
def test_path_none(loader):
    with pytest.raises(TypeError, match=r"^path: expected a path .*got NoneType"):
        loader(None)


@pytest.mark.parametrize("loader, text, said", [
    (load_pmed, "3 2 1\n1 2 5\n2 3 7.5\n", ("line 3", "'7.5'")),  # a cost that is not a whole number
    (load_pmed, "3 -1 1\n1 2 5\n2 3 7\n", ("line 1", "edges", ">= 0")),  # a negative edge count
    (load_pmed, "3 2 4\n1 2 5\n2 3 7\n", ("line 1", "1..3")),  # p above n
    (load_pmed, "3 3 1\n1 2 5\n2 3 7\n", ("line 3", "3 edges", "found 6")),  # an edge missing
    (load_cap, "2 2\n10 5\n10 5\n5 1 x2\n5 3 4\n", ("line 4", "'x2'")),  # a cost that is not a number
    (load_cap, "2 2\n10 5\ncapacity 5\n5 1 2\n5 3 4\n", ("line 3", "'capacity'", "capacity=")),  # capa's word
    (load_cap, "2 2\n10 -5\n10 5\n5 1 2\n5 3 4\n", ("fixed_cost", ">= 0")),  # the scenario's check, by file
], ids=["pmed-float-cost", "pmed-negative-edges", "pmed-p-above-n", "pmed-too-few-edges", "cap-text-cost",
        "cap-capacity-word", "cap-negative-fixed-cost"])
def test_a_malformed_file_is_refused_by_file_line_and_token(tmp_path, loader, text, said):
    _raises(loader, _bad(tmp_path, text), *said)


@pytest.mark.parametrize("name", ["cap41", "cap44"])
def test_cbc_alone_answers_cap_with_its_own_plan(name):
    # CBC prints shares to 8 digits (0.15365551 x 12,912 t), so a capacity row of cap41 is off by
    # 5e-5 t: 1e-8 of the row's terms.  The plan check once measured that against 1 + |A x| and
    # threw CBC's plan away (the MIP start was reported instead, "no back end answered")
    res = qzopt.solve(load_cap(ORLIB / "cap" / f"{name}.txt"), solver="cbc", fallback=[], isolate=False)
    assert res.status == "optimal" and res.solver == "cbc" and not res.fallbacks
    assert res.objective == pytest.approx(OPT[name], abs=1e-3)


def test_the_plan_check_measures_a_row_against_the_size_of_its_terms():
    import scipy.sparse as sp

    from qzopt.models.matrix import MatrixForm
    from qzopt.solvers.registry import PLAN_TOLERANCE

    # cap41's row: 3,016 y + 12,912 x2 - s = 0 with s = 5,000 t and x2 printed to 8 digits
    row = sp.csr_matrix(np.array([[-3016.0, -12912.0, 1.0]]))
    form = MatrixForm("row", np.zeros(3), 0.0, row, np.zeros(1), np.zeros(1), np.zeros(3),
                      np.array([1.0, 1.0, 1e4]), np.zeros(3, dtype=bool))
    assert form.feasible(np.array([1.0, 0.15365551, 5000.0]), PLAN_TOLERANCE)
    # 1.3 t off (1e-4 of the row's terms) is a broken row, not rounding
    assert not form.feasible(np.array([1.0, 0.1537, 5000.0]), PLAN_TOLERANCE)
