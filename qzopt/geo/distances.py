"""Distance matrices (demand x site) from coordinates, a road graph or a table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # networkx is imported where a road graph is built (0.15 s that a report does not need)
    import networkx as nx

EARTH_RADIUS_KM = 6371.0088


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Haversine distance in km between every point 1 (rows) and every point 2 (columns)."""
    p1, l1 = np.radians(np.asarray(lat1, float))[:, None], np.radians(np.asarray(lon1, float))[:, None]
    p2, l2 = np.radians(np.asarray(lat2, float))[None, :], np.radians(np.asarray(lon2, float))[None, :]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def road_graph(edges: pd.DataFrame, weight: str) -> nx.Graph:
    """Undirected graph from an edge table with columns ``from``, ``to`` and ``weight``.

    A repeated edge keeps its shortest length (a second road between two towns can only help).
    """
    import networkx as nx

    g = nx.Graph()
    for a, b, w in edges[["from", "to", weight]].itertuples(index=False):
        a, b, w = str(a), str(b), float(w)
        if g.has_edge(a, b):
            w = min(w, g[a][b]["weight"])
        g.add_edge(a, b, weight=w)
    return g


def graph_distances(g: nx.Graph, sources: Iterable[str], targets: Iterable[str], within_node: float = 0.0) -> np.ndarray:
    """Shortest-path length from every source node (rows) to every target node (columns).

    One Dijkstra per distinct target node; unreachable pairs are ``inf``; a pair on the same
    node gets ``within_node`` (e.g. the average haul inside a county).
    """
    import networkx as nx

    sources, targets = list(sources), list(targets)
    out = np.full((len(sources), len(targets)), np.inf)
    src_pos: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        src_pos.setdefault(s, []).append(i)
    for t in dict.fromkeys(targets):
        cols = [k for k, x in enumerate(targets) if x == t]
        lengths = nx.single_source_dijkstra_path_length(g, t, weight="weight") if t in g else {t: 0.0}
        for s, rows in src_pos.items():
            if s in lengths:
                d = within_node if s == t else lengths[s]
                out[np.ix_(rows, cols)] = d
    return out
