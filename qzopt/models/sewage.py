"""Shared sewage treatment plants (``sector: sewage``), block by block (docs/sectors/sewage.md).

- demand (m3/d) per settlement, given or derived from population x per-capita sewage x collection;
- plants: size options with economies of scale (capex = a * Q^b, b < 1): the generic siting blocks;
- trunk sewers: cost per km growing with the flow carried, plus pumping for lift, on every
  demand-plant pair; connections only within the longest pipe and, by default, to the same or
  adjacent jurisdictions (pairs not allowed are never generated);
- sludge: a second echelon to sludge-treatment sites sited by the same model.
"""

from __future__ import annotations

import dataclasses
import time

from qzopt.geo.pairs import allowed_pairs
from qzopt.models.blocks.connections import connection_cost
from qzopt.models.core import LinearModel
from qzopt.models.facility import BuiltModel, add_stream
from qzopt.models.data import facility_data
from qzopt.models.sector_common import add_echelon, single_sourcing_data
from qzopt.scenario.scenario import Scenario
from qzopt.scenario.sector_data import sewer_pair_costs


def build(sc: Scenario) -> BuiltModel:
    t0 = time.perf_counter()
    model = LinearModel(sc.name)
    pairs = allowed_pairs(sc)
    fixed, per_flow = sewer_pair_costs(sc, pairs.i, pairs.j, pairs.distance)
    pairs = dataclasses.replace(pairs, cost=pairs.cost + per_flow)
    main = add_stream(model, sc, "", pairs, data=single_sourcing_data(sc, facility_data(sc, pairs)))
    connection_cost(main, fixed)
    echelons = {}
    sludge = sc.sector_data.echelons.get("sludge")
    if sludge is not None:
        echelons["sludge"] = add_echelon(sc, main, sludge)
    model.to_matrix()
    blocks = list(model.con_blocks)
    return BuiltModel(sc, main.data, model, blocks, time.perf_counter() - t0, main.notes, echelons=echelons,
                      main=main)
