"""Derive county MSW generation (t/d) from population: writes msw_demand.csv.

    python scenarios/data/qianzhong/derive_msw.py

amount = population_2020 x (urban_share x 1.0 + (1 - urban_share) x 0.45) kg/person/day / 1000

- population_2020, urban_share: jurisdictions.csv (census/secondary/estimate tags per row there).
- 1.0 kg/person/day urban, 0.45 rural: parameters.md s.2, typical values
  ([knowledge] urban 0.8-1.2; [estimate] rural 0.3-0.7).  The result is an ESTIMATE.
- guian has population 0 by construction (its residents are counted in huaxi/pingba/qingzhen/xixiu)
  and gets no demand row.
"""

import csv
from pathlib import Path

URBAN_KG, RURAL_KG = 1.0, 0.45
here = Path(__file__).parent
rows = list(csv.DictReader(open(here / "jurisdictions.csv", encoding="utf-8")))
with open(here / "msw_demand.csv", "w", newline="", encoding="utf-8") as fh:
    w = csv.writer(fh)
    w.writerow(["id", "jurisdiction", "amount", "name"])
    for r in rows:
        pop = float(r["population_2020"])
        if pop == 0:
            continue
        u = float(r["urban_share"])
        t_per_day = pop * (u * URBAN_KG + (1 - u) * RURAL_KG) / 1000.0
        w.writerow([r["id"], r["id"], f"{t_per_day:.1f}", r["name_zh"]])
print("wrote", here / "msw_demand.csv")
