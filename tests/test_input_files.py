"""Input files that used to be read wrongly or crash: each test breaks one thing in
tests/data/tiny.yaml (or a sector example) and checks the message a user gets."""

from __future__ import annotations

from pathlib import Path

import pytest

import qzopt
from qzopt.errors import ScenarioError

from conftest import ROOT


def error_of(path: Path, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        qzopt.load_scenario(path, overrides)
    return str(info.value)


def line_of(path: Path, needle: str) -> int:
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return k
    raise AssertionError(needle)


def as_csv(path: Path, table: str, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Move ``table`` of the tiny YAML into the CSV ``name`` holding ``text``."""
    (path.parent / name).write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(k for k, line in enumerate(lines) if line.startswith(f"{table}:"))
    end = next(k for k in range(start + 1, len(lines)) if not lines[k].startswith("  "))
    path.write_text("".join(lines[:start]) + f"{table}: {{csv: {name}}}\n" + "".join(lines[end:]), encoding="utf-8")
    return path.parent / name


# ------------------------------------------------------------ 1. fields a method ignores
def test_edges_without_road_graph_is_refused_not_ignored(tiny):
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", "{edges: missing_roads.csv}")
    msg = error_of(path)
    assert "field `distances.edges`: `edges` is read only with `method: road_graph`" in msg
    assert f"line {line_of(path, 'missing_roads')}" in msg and "or drop `edges`" in msg


@pytest.mark.parametrize("distances, field, method", [
    ("{method: great_circle, matrix: m.csv}", "matrix", "matrix"),
    ("{method: road_graph, edges: tiny_roads.csv, circuity: 1.2}", "circuity", "great_circle"),
    ("{method: matrix, matrix: m.csv, circuity: 1.2}", "circuity", "great_circle"),
])
def test_a_distance_field_the_method_does_not_read_is_refused(tiny, distances, field, method):
    path, edit = tiny
    edit("{method: road_graph, edges: tiny_roads.csv}", distances)
    assert f"`{field}` is read only with `method: {method}`" in error_of(path)
