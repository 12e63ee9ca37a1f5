"""Shared fixtures: paths to the OR-Library data beside the project and a tiny line scenario."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import qzopt
from qzopt.scenario.scenario import Policy, Units

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("QZOPT_SHARED", ROOT.parent / "shared"))
ORLIB = SHARED / "benchmarks" / "orlib"
SCENARIOS = ROOT / "scenarios"


DATA = Path(__file__).parent / "data"


@pytest.fixture
def tiny(tmp_path):
    """A writable copy of the tiny scenario (tests/data/tiny.yaml); returns (yaml path, edit
    function replacing the first occurrence of a text in it)."""
    import shutil

    shutil.copy(DATA / "tiny.yaml", tmp_path / "tiny.yaml")
    shutil.copy(DATA / "tiny_roads.csv", tmp_path / "tiny_roads.csv")
    path = tmp_path / "tiny.yaml"

    def edit(old: str, new: str) -> Path:
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    return path, edit


def line_scenario(policy: Policy | None = None, capacity: float = 30.0, fixed: float = 150.0,
                  capex=(0.0, 0.0, 0.0), existing=("", "", ""), excluded=(False, False, False),
                  min_load: float = 0.0, amounts=(10.0, 10.0, 10.0), adjacency=(),
                  lifetime_years: float = 1.0) -> qzopt.Scenario:
    """Three towns A, B, C on a straight road at km 0, 10 and 20, each with 10 t of demand and
    a candidate site s1, s2, s3 in it.  Transport costs 1 per t per km; a plant costs
    ``fixed`` per year.  Hand-solved answers are in tests/test_blocks.py."""
    ids = ["A", "B", "C"]
    demands = pd.DataFrame({"id": ids, "jurisdiction": ids, "amount": list(amounts)})
    sites = pd.DataFrame({"id": ["s1", "s2", "s3"], "jurisdiction": ids, "existing": list(existing),
                          "excluded": list(excluded)})
    sizes = pd.DataFrame({"site": ["s1", "s2", "s3"], "size": ["std"] * 3, "capacity": [capacity] * 3,
                          "fixed_cost": [fixed] * 3, "capex": list(capex), "min_load": [min_load] * 3})
    pos = np.array([0.0, 10.0, 20.0])
    dist = np.abs(pos[:, None] - pos[None, :])
    adj = frozenset(frozenset(p) for p in adjacency)
    return qzopt.Scenario.from_frames(demands, sites, sizes, dist, name="line", transport=1.0,
                                      units=Units(demand="t", distance="km", money="yuan", per_year=1.0),
                                      policy=policy or Policy(), adjacency=adj,
                                      lifetime_years=lifetime_years)


@pytest.fixture
def line():
    return line_scenario


def error_of(path, overrides=None) -> str:
    """The message of the ScenarioError loading ``path`` (with ``overrides``) raises."""
    from qzopt.errors import ScenarioError

    with pytest.raises(ScenarioError) as info:
        qzopt.load_scenario(path, overrides)
    return str(info.value)


def line_of(path, needle: str) -> int:
    """The line number (from 1) of the first line of ``path`` holding ``needle``."""
    for k, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return k
    raise AssertionError(needle)
