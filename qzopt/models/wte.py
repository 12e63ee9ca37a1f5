"""Waste-to-energy plants (``sector: wte``), block by block (docs/sectors/wte.md).

- MSW (t/d) from population x per-capita generation (urban and rural rates);
- plants of whole incineration lines (lines x line size) above a minimum economic size: size
  options generated from the lines, handled by the generic siting blocks;
- electricity sold (kWh per t x tariff) lowers the cost of every tonne burnt at a plant;
- optional transfer stations: compaction lowers the haul to the plant (an echelon into the
  plants' own load balance);
- fly ash (a share of input) to hazardous-waste sites with their own capacity (an echelon);
- a separate kitchen-waste stream of which a minimum share is treated centrally.
"""

from __future__ import annotations

import time

import numpy as np

from qzopt.models.core import LinearModel
from qzopt.models.facility import BuiltModel, add_stream
from qzopt.models.data import facility_data
from qzopt.models.sector_common import add_echelon, with_inflow_reach, single_sourcing_data
from qzopt.scenario.scenario import Scenario


def build(sc: Scenario) -> BuiltModel:
    t0 = time.perf_counter()
    sd = sc.sector_data
    model = LinearModel(sc.name)
    is_plant = sd.site_role.reindex(sc.sizes["site"]).to_numpy() == "plant"
    revenue = np.where(is_plant, sd.revenue_per_unit * sc.units.per_year, 0.0)
    data = facility_data(sc)
    if "transfer" in sd.echelons:  # what stations bring counts in a plant's reach
        data = with_inflow_reach(sc, data, sd.echelons["transfer"])
    main = add_stream(model, sc, "", revenue=revenue, data=single_sourcing_data(sc, data))
    echelons = {}
    for name in ("transfer", "fly_ash"):
        if name in sd.echelons:
            echelons[name] = add_echelon(sc, main, sd.echelons[name])
    streams = {}
    if "kitchen" in sd.streams:
        ksc = sd.streams["kitchen"]
        streams["kitchen"] = (ksc, add_stream(model, ksc, "kitchen."))
    model.to_matrix()
    return BuiltModel(sc, main.data, model, list(model.con_blocks), time.perf_counter() - t0, main.notes,
                      streams=streams, echelons=echelons, main=main)
