"""Quantities with units in scenario files: ``"80 km"``, ``"90 min"``, or a bare number.

Only the few units qzopt reasons about are known; everything else is a clear error rather
than a silent reinterpretation.
"""

from __future__ import annotations

import re

#: Distance-like units and their factor to the canonical unit of their dimension.
DISTANCE_UNITS = {"km": ("length", 1.0), "m": ("length", 0.001), "min": ("time", 1.0), "h": ("time", 60.0)}
ALIASES = {"minutes": "min", "minute": "min", "mins": "min", "hours": "h", "hour": "h", "kilometres": "km",
           "kilometers": "km", "metres": "m", "meters": "m"}

_QTY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)?\s*$")


def canonical_unit(unit: str) -> str:
    u = unit.strip()
    return ALIASES.get(u.lower(), u)


def parse_distance(value: float | int | str, unit: str) -> float:
    """Read a distance given as a number (already in ``unit``) or a string like ``"80 km"``.

    Returns the value in ``unit``.  Raises ``ValueError`` with a readable reason when the
    string cannot be read or its unit is of another dimension (minutes against km).
    """
    if isinstance(value, (int, float)):
        return float(value)
    m = _QTY.match(str(value))
    if not m:
        raise ValueError(f"cannot read {value!r} as a distance; write a number or e.g. '80 {unit}'")
    number, given = float(m.group(1)), m.group(2)
    if not given:
        return number
    given = canonical_unit(given)
    target = canonical_unit(unit)
    if given not in DISTANCE_UNITS:
        raise ValueError(f"unknown unit {given!r} in {value!r}; use one of {sorted(DISTANCE_UNITS)}")
    gdim, gfac = DISTANCE_UNITS[given]
    tdim, tfac = DISTANCE_UNITS[target]
    if gdim != tdim:
        raise ValueError(
            f"{value!r} is a {gdim} but this scenario measures distances in {target} ({tdim}); "
            f"give the limit in {target}"
        )
    return number * gfac / tfac


#: Periods a demand unit may be given per, and how many of them make a year.
PERIODS_PER_YEAR = {"h": 8760.0, "hr": 8760.0, "hour": 8760.0, "d": 365.0, "day": 365.0, "wk": 52.0,
                    "week": 52.0, "mo": 12.0, "month": 12.0, "yr": 1.0, "year": 1.0, "a": 1.0, "y": 1.0}


def per_year_from_unit(demand_unit: str) -> float:
    """How many demand periods make a year: 't/d' -> 365, 'm3/h' -> 8760, 't/yr' -> 1.

    The period is the part after the last '/' (h, d, wk, month, yr and their spellings in
    :data:`PERIODS_PER_YEAR`).  A unit without a known period (``'t'``, ``'tonnes'``,
    ``'t per day'``) raises ``ValueError``: every cost in a result is money per year, so
    guessing the period would silently scale them all.  Give ``units.per_year`` to use such a unit.
    """
    u = demand_unit.replace(" ", "").lower()
    period = u.rsplit("/", 1)[1] if "/" in u else ""
    if period not in PERIODS_PER_YEAR:
        known = ", ".join(f"/{k}" for k in PERIODS_PER_YEAR)
        raise ValueError(f"cannot tell how many periods of {demand_unit!r} make a year: write the demand "
                         f"unit per period ({known}, e.g. 't/d') or give units.per_year")
    return PERIODS_PER_YEAR[period]


def money_per_unit(money: str, demand_unit: str) -> str:
    """The unit of a fee or a cost per unit delivered: money per demand quantity, without the
    demand's period ('yuan', 't/d' -> 'yuan/t'; 'yuan', 'm3/h' -> 'yuan/m3'; 'yuan', 'kg/person/d'
    -> 'yuan/kg/person').  One spelling for reports, messages, the frontier and result.json."""
    du = str(demand_unit or "").strip()
    if not du:
        return money
    quantity, _, period = du.rpartition("/")
    return f"{money}/{quantity if quantity and period.replace(' ', '').lower() in PERIODS_PER_YEAR else du}"
