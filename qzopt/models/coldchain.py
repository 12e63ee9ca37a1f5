"""Cold-chain hubs (``sector: coldchain``), block by block (docs/sectors/coldchain.md).

- demand points are (origin county, commodity) pairs with an average flow in t/d;
- each commodity may travel at most ``max_hours`` to a hub (a per-point distance limit:
  pairs beyond it are not generated);
- hubs: size options with a peak-season throughput (t/d) and a cold-store capacity (t):
  ``peak_throughput`` counts every point at its peak factor, ``cold_storage`` at its dwell days;
- hub-to-outlet flows (rail and air gateways, city markets) as a second echelon.
"""

from __future__ import annotations

import time

import numpy as np

from qzopt.models.blocks.resources import resource_capacity
from qzopt.models.core import LinearModel
from qzopt.models.blocks import siting as blk
from qzopt.models.facility import BuiltModel, add_stream, blocks_for
from qzopt.models.data import facility_data
from qzopt.models.sector_common import add_echelon, single_sourcing_data
from qzopt.scenario.scenario import Scenario


def build(sc: Scenario) -> BuiltModel:
    t0 = time.perf_counter()
    sd = sc.sector_data
    model = LinearModel(sc.name)
    # the hubs' resources come before the presolve of dominated sizes, which must see them
    attrs = sd.demand_attrs.reindex(sc.demands.index)
    storage = sc.sizes["size"].map(sd.spec.storage).to_numpy(float)
    data = facility_data(sc)
    amount, peak, dwell = data.amount, attrs["peak_factor"].to_numpy(float), attrs["dwell_days"].to_numpy(float)
    # single sourcing is implied only if neither hub resource can bind either (a cold store that binds
    # makes splitting a point between hubs pay)
    data = single_sourcing_data(sc, data, resources=((peak * amount, data.capacity),
                                                     (dwell * amount, np.nan_to_num(storage))))
    main = add_stream(model, sc, "", blocks=[b for b in blocks_for(sc.policy) if b is not blk.dominated_sizes],
                      data=data)
    peak_cap = np.where(np.isfinite(main.data.capacity), main.data.capacity, main.data.max_load[main.data.option_site]
                        * peak.max())
    # an unlimited hub (no capacity) gets the bound of all it can reach at the largest peak in its
    # row, and is reported unlimited (inf), not at that bound
    resource_capacity(main, "peak_throughput", peak, peak_cap,
                      limit=main.data.capacity)
    resource_capacity(main, "cold_storage", dwell, np.nan_to_num(storage))
    blk.dominated_sizes(main)
    echelons = {"outlets": add_echelon(sc, main, sd.echelons["outlets"])}
    model.to_matrix()
    return BuiltModel(sc, main.data, model, list(model.con_blocks), time.perf_counter() - t0, main.notes,
                      echelons=echelons, main=main)
