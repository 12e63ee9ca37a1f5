"""Write jurisdictions_sector.csv: jurisdictions.csv plus an estimated seat elevation.

    python scenarios/data/qianzhong/derive_sector_tables.py

elevation_m is an [estimate] from the compiler's knowledge of the county seats (+-150 m); it is
used only for the pumping cost of trunk sewers in qianzhong-sewage.yaml.  Every other column is
copied unchanged from jurisdictions.csv (see SOURCE-README.md for its tags).
"""

import csv
from pathlib import Path

ELEVATION_M = {  # [estimate] approximate elevation of the county seat, metres
    "nanming": 1070, "yunyan": 1080, "huaxi": 1130, "wudang": 1050, "baiyun": 1300, "guanshanhu": 1250,
    "kaiyang": 1000, "xifeng": 1000, "xiuwen": 1270, "qingzhen": 1280, "guian": 1250, "honghuagang": 880,
    "huichuan": 900, "bozhou": 900, "suiyang": 850, "renhuai": 880, "xixiu": 1380, "pingba": 1270,
    "puding": 1200, "zhenning": 1250, "qixingguan": 1500, "dafang": 1600, "qianxi": 1200, "jinsha": 900,
    "zhijin": 1300, "duyun": 780, "fuquan": 900, "guiding": 1050, "wengan": 1000, "changshun": 1100,
    "longli": 1200, "huishui": 1000, "kaili": 750, "majiang": 900,
}

here = Path(__file__).parent
rows = list(csv.DictReader(open(here / "jurisdictions.csv", encoding="utf-8")))
with open(here / "jurisdictions_sector.csv", "w", newline="", encoding="utf-8") as fh:
    fields = list(rows[0]) + ["elevation_m", "elevation_note"]
    w = csv.DictWriter(fh, fieldnames=fields)
    w.writeheader()
    for r in rows:
        w.writerow({**r, "elevation_m": ELEVATION_M[r["id"]], "elevation_note": "estimate: seat elevation +-150 m"})
print("wrote", here / "jurisdictions_sector.csv")
