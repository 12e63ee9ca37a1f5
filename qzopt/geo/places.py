"""Where things are: the coordinates a map of a result needs (lat, lon in degrees, WGS84).

The result carries them (``result.json`` key ``places``) so that a report can be drawn again
from a result directory alone, without the scenario.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from qzopt.scenario.scenario import Scenario


def _table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.rename_axis("id").reset_index()
    return out[[c for c in ["id", *columns] if c in out.columns]]


def places(sc: "Scenario") -> dict[str, pd.DataFrame]:
    """Jurisdictions (id, name, group, lat, lon), demand points (id, jurisdiction, lat, lon),
    candidate sites (id, jurisdiction, lat, lon, excluded) and, per second echelon of a sector
    scenario, its destination sites (same columns, ``echelon`` = its name)."""
    out = {
        "jurisdictions": _table(sc.jurisdictions, ["name", "group", "lat", "lon"]),
        "demands": _table(sc.demands, ["jurisdiction", "lat", "lon"]),
        "sites": _table(sc.sites, ["jurisdiction", "lat", "lon", "excluded"]),
    }
    echelon_sites = []
    sector_data = getattr(sc, "sector_data", None)
    for ed in (getattr(sector_data, "echelons", None) or {}).values():
        if ed.into_stream or not {"lat", "lon"} <= set(ed.sites.columns):
            continue
        echelon_sites.append(_table(ed.sites, ["jurisdiction", "lat", "lon", "excluded"]).assign(echelon=ed.name))
    if echelon_sites:
        out["echelon_sites"] = pd.concat(echelon_sites, ignore_index=True)
    return out


def has_coordinates(frame: pd.DataFrame | None) -> bool:
    """True when some row of ``frame`` has both a latitude and a longitude."""
    return (frame is not None and not frame.empty and {"lat", "lon"} <= set(frame.columns)
            and bool(frame[["lat", "lon"]].notna().all(axis=1).any()))
