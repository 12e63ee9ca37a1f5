"""Estimate cold-chain origin volumes (t/d) by county and commodity: prints the YAML `origins`.

    python scenarios/data/qianzhong/derive_coldchain.py

volume = rural residents x t per rural resident per year x share needing cold chain / 365

All rates are [estimate]s (parameters.md s.7-8 has no county tonnages): Guizhou grows about 0.8 t of
vegetables and fungi per resident per year, of which 10-35 % needs cold chain (20 % used); the
other commodities are judgements of which counties specialise in what (seed 003 names vegetables,
chilli, edible fungi, tea, fruit for Guiding, Longli, Huishui and Changshun).
"""

import csv
from pathlib import Path

RATES = {  # t per rural resident per year needing cold chain, by commodity and county [estimate]
    "vegetables": (0.16, ["guiding", "longli", "huishui", "changshun", "kaiyang", "xifeng", "xiuwen", "pingba",
                          "puding", "zhenning", "bozhou", "suiyang", "qianxi", "dafang", "zhijin", "wengan",
                          "fuquan", "majiang", "jinsha"]),
    "chilli": (0.05, ["suiyang", "bozhou", "dafang", "zhijin", "huishui"]),
    "fungi": (0.03, ["qianxi", "dafang", "changshun", "majiang", "longli"]),
    "tea": (0.01, ["guiding", "wengan", "fuquan", "kaiyang", "puding"]),
    "fruit": (0.06, ["longli", "huishui", "changshun", "xiuwen", "majiang", "zhenning"]),
}

here = Path(__file__).parent
jur = {r["id"]: r for r in csv.DictReader(open(here / "jurisdictions.csv", encoding="utf-8"))}
for name, (rate, counties) in RATES.items():
    origins = {}
    for c in counties:
        rural = float(jur[c]["population_2020"]) * (1 - float(jur[c]["urban_share"]))
        origins[c] = round(rural * rate / 365, 1)
    print(f"{name}: {{{', '.join(f'{k}: {v}' for k, v in origins.items())}}}")
